"""`python manage.py export_template SLUG [--format json|yaml] [--version N]`: a template
in the exchange format, on stdout. `import_template` reads it back."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from checklists import exchange
from checklists.models import ChecklistTemplate
from checklists.selectors import template_export_data, template_get, template_versions


class Command(BaseCommand):
    help = "Print a checklist template (its newest version unless --version) as JSON or YAML."

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        # Our --version (the template's) replaces Django's --version (Django's own version).
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="The template's slug, e.g. release-readiness.")
        parser.add_argument("--format", choices=["json", "yaml"], default="json", help="Output format (default json).")
        parser.add_argument("--version", type=int, help="Export this version instead of the newest.")

    def handle(self, *args: Any, **options: Any) -> None:
        slug, version = options["slug"], options["version"]
        template = template_get(slug=slug, version=version)
        if template is None:
            raise CommandError(self._not_found(slug, version))
        self.stdout.write(exchange.dump(template_export_data(template), options["format"]), ending="")

    def _not_found(self, slug: str, version: int | None) -> str:
        versions = template_versions(slug)
        if versions:
            return f"Template {slug!r} has no version {version}; it has: {', '.join(map(str, versions))}."
        known = sorted(set(ChecklistTemplate.objects.values_list("slug", flat=True)))
        return f"No template with slug {slug!r}. Known templates: {', '.join(known) or 'none'}."
