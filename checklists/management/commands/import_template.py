"""`python manage.py import_template FILE [--as USERNAME]`: a template in the exchange
format (JSON or YAML, as `export_template` writes it). An existing slug gets a new version;
releases keep the version they were made from."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from checklists import exchange
from checklists.services import template_import
from config.domain import DomainError


class Command(BaseCommand):
    help = "Import a checklist template from a JSON or YAML file (a new version when the slug exists)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="Path to a .json, .yaml or .yml file; '-' reads standard input.")
        parser.add_argument(
            "--as",
            dest="username",
            metavar="USERNAME",
            help="The administrator recorded as the importer (default: the first superuser).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["file"]
        data = read(name)
        actor = _actor(options["username"])
        try:
            template = template_import(actor=actor, data=data)
        except DomainError as exc:
            raise CommandError(describe(exc, name)) from None
        self.stdout.write(
            self.style.SUCCESS(f"Imported {template.slug} v{template.version} ({template.items.count()} items)")
        )


def read(name: str) -> Any:
    """The template data in the file (exchange.read checks it); '-' is standard input."""
    try:
        if name == "-":
            return exchange.read(sys.stdin.buffer, name=name)
        with Path(name).open("rb") as file:
            return exchange.read(file, name=name)
    except FileNotFoundError:
        raise CommandError(f"No such file: {name}") from None
    except OSError as exc:
        raise CommandError(f"Can't read {name}: {exc.strerror or exc}") from None
    except DomainError as exc:
        raise CommandError(describe(exc, name)) from None


def describe(exc: DomainError, name: str) -> str:
    """The error with one line per problem, e.g. `sections[0].items[2].category: ...`; a
    problem with the file itself (its message names the file) on its own."""
    if list(exc.fields) == ["file"]:
        return " ".join(exc.fields["file"])
    problems = [
        message if field == "non_field_errors" else f"{field}: {message}"
        for field, messages in exc.fields.items()
        for message in messages
    ]
    problems += [f["message"] for f in exc.failures]
    if len(problems) == 1 and problems[0].endswith(exc.message):
        return f"{name}: {problems[0]}"
    return "\n".join([f"{name}: {exc.message}", *(f"  {problem}" for problem in problems)])


def _actor(username: str | None) -> Any:
    """The named user, or the first superuser. The service decides whether they may import."""
    User = get_user_model()
    if username:
        user = User.objects.filter(**{User.USERNAME_FIELD: username}).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        return user
    user = User.objects.filter(is_superuser=True, is_active=True).order_by("pk").first()
    if user is None:
        raise CommandError(
            "No superuser to record as the importer. Create one with `python manage.py createsuperuser`, "
            "or pass --as USERNAME of a staff user."
        )
    return user
