"""Every write to checklist templates.

Template data travels as a dict in one format (`FORMAT`), the same for export, import, the
API and the built-in templates in `builtin/`:
    {"format", "slug", "name", "description", "language",
     "sections": [{"title", "items": [{"key", "title", "guidance", "category", "required",
                   "approver_role", "required_signoffs", "evidence_required",
                   "due_offset_days", "condition_flag"}]}]}
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.text import slugify

from config.domain import FLAG_HELP, Conflict, Forbidden, Invalid, clean_text, is_flag, storable
from releases import permissions
from releases.audit import audit_record
from releases.models import AuditAction

from .models import ROLE_NEEDS_SIGNOFFS, SIGNOFFS_NEED_ROLE, Category, ChecklistTemplate, TemplateItem, TemplateSection

FORMAT = "shipcheck-template/1"
ITEM_DEFAULTS: dict[str, Any] = {
    "guidance": "",
    "required": True,
    "approver_role": None,
    "required_signoffs": 1,
    "evidence_required": False,
    "due_offset_days": 0,
    "condition_flag": "",
}
# What template data may hold. template_clean checks it, naming the field path; the API's
# serializers check only the shape and show these limits in the schema.
MAX_LENGTH = {
    "slug": 100,
    "name": 200,
    "description": 5000,
    "language": 10,
    "section_title": 200,
    "key": 100,
    "title": 300,
    "guidance": 10000,
    "approver_role": 150,
    "condition_flag": 50,  # as FLAG_RE allows
}
SIGNOFFS = (0, 20)
DUE_OFFSET_DAYS = (-365, 365)
MAX_SECTIONS = 100
MAX_ITEMS = 500


@dataclass(frozen=True)
class TemplateModels:
    """The model classes to write with: the real ones, or a migration's historical ones."""

    template: Any = ChecklistTemplate
    section: Any = TemplateSection
    item: Any = TemplateItem
    group: Any = Group


class _Errors(dict[str, list[str]]):
    """Every message by field path (`sections[0].items[2].category`), not just the first."""

    def add(self, path: str, message: str) -> None:
        self.setdefault(path, []).append(message)

    def text(self, value: Any, *, path: str, max_length: int, required: bool = False) -> str:
        """clean_text, its message kept under the field path instead of raised."""
        try:
            return clean_text(path, value, max_length=max_length, required=required)
        except Invalid as exc:
            for message in exc.fields[path]:
                self.add(path, message)
            return value.strip() if isinstance(value, str) and storable(value) else ""


def _whole_number(value: Any, bounds: tuple[int, int]) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and bounds[0] <= value <= bounds[1]


def template_clean(data: Any, *, known_roles: set[str] | None = None) -> dict[str, Any]:
    """Validate template data in the exchange format; return it normalised.

    Approver roles must exist (an administrator adds them as groups): a misspelt role would
    give items nobody can sign. Raises Invalid with a message per field path (e.g.
    `sections[0].items[2].category`).
    """
    if known_roles is None:
        known_roles = set(Group.objects.values_list("name", flat=True))
    if not isinstance(data, dict):
        raise Invalid.field("non_field_errors", "Template data must be an object.")
    errors = _Errors()
    fmt = data.get("format", FORMAT)
    if fmt != FORMAT:
        errors.add("format", f"Unknown format {fmt!r}; expected {FORMAT!r}.")
    clean: dict[str, Any] = {"format": FORMAT, **_clean_heading(data, errors)}
    clean["sections"] = _clean_sections(data.get("sections"), errors, known_roles=known_roles)
    if errors:
        raise Invalid("The template is not valid.", code="invalid_template", fields=dict(errors))
    return clean


def _clean_heading(data: dict[str, Any], errors: _Errors) -> dict[str, str]:
    slug = errors.text(data.get("slug"), path="slug", max_length=MAX_LENGTH["slug"], required=True)
    if slug and slugify(slug) != slug:
        errors.add("slug", "Use lowercase letters, digits and hyphens.")
    return {
        "slug": slug,
        "name": errors.text(data.get("name"), path="name", max_length=MAX_LENGTH["name"], required=True),
        "description": errors.text(data.get("description"), path="description", max_length=MAX_LENGTH["description"]),
        "language": errors.text(
            data.get("language") or "en", path="language", max_length=MAX_LENGTH["language"], required=True
        ),
    }


def _clean_sections(sections: Any, errors: _Errors, *, known_roles: set[str]) -> list[dict[str, Any]]:
    if not isinstance(sections, list):
        errors.add("sections", "A list of sections, each with a title and items.")
        return []
    if not sections:
        errors.add("sections", "A template needs at least one section.")
    if len(sections) > MAX_SECTIONS:
        errors.add("sections", f"At most {MAX_SECTIONS} sections.")
        return []
    keys: set[str] = set()
    clean_sections = []
    total = 0
    for s_index, section in enumerate(sections):
        path = f"sections[{s_index}]"
        if not isinstance(section, dict):
            errors.add(path, "Must be an object.")
            continue
        title = errors.text(
            section.get("title"), path=f"{path}.title", max_length=MAX_LENGTH["section_title"], required=True
        )
        items = section.get("items")
        if not isinstance(items, list):
            errors.add(f"{path}.items", "Must be a list.")
            items = []
        total += len(items)
        if total > MAX_ITEMS:
            errors.add("sections", f"At most {MAX_ITEMS} items in a template.")
            break
        clean_items = [
            _clean_item(item, f"{path}.items[{i_index}]", errors, keys=keys, known_roles=known_roles)
            for i_index, item in enumerate(items)
        ]
        clean_sections.append({"title": title, "items": [item for item in clean_items if item is not None]})
    return clean_sections


def _clean_item(
    item: Any, path: str, errors: _Errors, *, keys: set[str], known_roles: set[str]
) -> dict[str, Any] | None:
    """One item, None when it isn't an object."""
    if not isinstance(item, dict):
        errors.add(path, "Must be an object.")
        return None
    row = {**ITEM_DEFAULTS, **item}
    out: dict[str, Any] = {}
    out["title"] = errors.text(row.get("title"), path=f"{path}.title", max_length=MAX_LENGTH["title"], required=True)
    out["key"] = row.get("key") or slugify(out["title"])[: MAX_LENGTH["key"]]
    if row.get("key") or f"{path}.title" not in errors:  # else the title's message says what to fix
        _clean_key(out["key"], f"{path}.key", errors, keys)
    out["guidance"] = errors.text(row["guidance"], path=f"{path}.guidance", max_length=MAX_LENGTH["guidance"])
    out["category"] = row.get("category")
    if not isinstance(out["category"], str) or out["category"] not in Category.values:
        errors.add(
            f"{path}.category",
            f"Unknown category {out['category']!r}; one of: {', '.join(sorted(Category.values))}.",
        )
    for name in ("required", "evidence_required"):
        out[name] = row[name]
        if not isinstance(out[name], bool):
            errors.add(f"{path}.{name}", "Must be true or false.")
    out["approver_role"] = _clean_role(row["approver_role"], f"{path}.approver_role", errors, known_roles)
    out["required_signoffs"] = _clean_signoffs(row["required_signoffs"], out["approver_role"], path, errors)
    out["due_offset_days"] = 0 if row["due_offset_days"] is None else row["due_offset_days"]
    if not _whole_number(out["due_offset_days"], DUE_OFFSET_DAYS):
        errors.add(f"{path}.due_offset_days", "A whole number of days from {} to {}.".format(*DUE_OFFSET_DAYS))
    out["condition_flag"] = "" if row["condition_flag"] is None else row["condition_flag"]
    if out["condition_flag"] != "" and not is_flag(out["condition_flag"]):
        errors.add(f"{path}.condition_flag", f"A flag name: {FLAG_HELP}.")
    return out


def _clean_key(key: Any, path: str, errors: _Errors, keys: set[str]) -> None:
    """An item's key (what a release upgrading to a newer version matches its items by),
    not among `keys`, which it joins."""
    if not isinstance(key, str) or slugify(key) != key or not key:
        errors.add(path, "Use lowercase letters, digits and hyphens.")
    elif len(key) > MAX_LENGTH["key"]:
        errors.add(path, f"At most {MAX_LENGTH['key']} characters.")
    elif key in keys:
        errors.add(path, f"Key {key!r} is used twice.")
    keys.add(str(key))


def _clean_role(role: Any, path: str, errors: _Errors, known_roles: set[str]) -> Any:
    if role in ("", None):
        return None
    if not isinstance(role, str) or len(role) > MAX_LENGTH["approver_role"] or not storable(role):
        errors.add(path, "Must be an approver role's name.")
    elif role not in known_roles:
        errors.add(
            path,
            f"Unknown approver role {role!r}; one of: {', '.join(sorted(known_roles))}. "
            "An administrator adds roles (groups) in the admin.",
        )
    return role


def _clean_signoffs(signoffs: Any, role: Any, path: str, errors: _Errors) -> Any:
    """The number of sign-offs, and the rule that binds it to the approver role."""
    if not _whole_number(signoffs, SIGNOFFS):
        errors.add(f"{path}.required_signoffs", "A whole number from {} to {}.".format(*SIGNOFFS))
    elif signoffs > 0 and role is None:
        errors.add(f"{path}.approver_role", SIGNOFFS_NEED_ROLE)
    elif signoffs == 0 and role is not None:
        errors.add(f"{path}.required_signoffs", ROLE_NEEDS_SIGNOFFS)
    return signoffs


def template_write_rows(
    *,
    data: dict[str, Any],
    version: int,
    is_builtin: bool = False,
    created_by: Any = None,
    models: TemplateModels = TemplateModels(),
) -> Any:
    """Create one template version from cleaned data. Approver roles are groups; a role
    named that does not exist yet is created. Shared by the services and the migration that
    loads the built-in templates."""
    template = models.template.objects.create(
        slug=data["slug"],
        version=version,
        name=data["name"],
        description=data.get("description", ""),
        language=data.get("language", "en"),
        is_builtin=is_builtin,
        created_by=created_by,
    )
    template_write_sections(template=template, data=data, models=models)
    return template


def template_write_sections(*, template: Any, data: dict[str, Any], models: TemplateModels = TemplateModels()) -> None:
    roles: dict[str, Any] = {}
    items = []
    for s_order, section_data in enumerate(data["sections"]):
        section = models.section.objects.create(template=template, title=section_data["title"], order=s_order)
        for i_order, item in enumerate(section_data["items"]):
            role_name = item.get("approver_role")
            role = None
            if role_name:
                if role_name not in roles:
                    roles[role_name], _ = models.group.objects.get_or_create(name=role_name)
                role = roles[role_name]
            items.append(
                models.item(
                    template=template,
                    section=section,
                    key=item["key"],
                    order=i_order,
                    title=item["title"],
                    guidance=item.get("guidance", ""),
                    category=item["category"],
                    required=item.get("required", True),
                    approver_role=role,
                    required_signoffs=item.get("required_signoffs", 1),
                    evidence_required=item.get("evidence_required", False),
                    due_offset_days=item.get("due_offset_days", 0),
                    condition_flag=item.get("condition_flag", ""),
                )
            )
    models.item.objects.bulk_create(items)


BUILTIN_DIR = Path(__file__).resolve().parent / "builtin"
APPROVER_ROLES = ("Engineering", "QA", "Security", "Operations", "Data", "Legal", "Product", "Support")


def builtin_templates_load(models: TemplateModels = TemplateModels()) -> int:
    """Create the approver roles and the built-in templates (builtin/*.json) that are missing.
    Run by the data migration (with its historical models); returns how many were created."""
    for name in APPROVER_ROLES:
        models.group.objects.get_or_create(name=name)
    created = 0
    for path in sorted(BUILTIN_DIR.glob("*.json")):
        data = template_clean(json.loads(path.read_text(encoding="utf-8")), known_roles=set(APPROVER_ROLES))
        if not models.template.objects.filter(slug=data["slug"]).exists():
            template_write_rows(data=data, version=1, is_builtin=True, models=models)
            created += 1
    return created


def _require_template_admin(actor: Any) -> None:
    if not permissions.can_manage_templates(actor):
        raise Forbidden("Only administrators can change checklist templates.", code="forbidden")


def _write_new_version(*, data: dict[str, Any], version: int, actor: Any) -> ChecklistTemplate:
    """A new template version; two writers racing for the same version number: one wins."""
    try:
        with transaction.atomic():
            return template_write_rows(data=data, version=version, created_by=actor)
    except IntegrityError:
        raise Conflict(
            f"Version {version} of {data['slug']!r} was written by someone else just now; try again.",
            code="version_conflict",
        ) from None


def template_create(*, actor: Any, data: Any) -> ChecklistTemplate:
    _require_template_admin(actor)
    clean = template_clean(data)
    with transaction.atomic():
        if ChecklistTemplate.objects.filter(slug=clean["slug"]).exists():
            raise Invalid.field("slug", f"A template with slug {clean['slug']!r} exists already.", code="slug_taken")
        template = _write_new_version(data=clean, version=1, actor=actor)
        audit_record(
            action=AuditAction.TEMPLATE_CREATED,
            actor=actor,
            target=template,
            after={"slug": template.slug, "version": 1},
        )
    return template


def template_in_use(template: ChecklistTemplate) -> bool:
    return template.release_uses.exists()


def template_update(*, template: ChecklistTemplate, actor: Any, data: Any) -> ChecklistTemplate:
    """Change a template. A version that a release uses is never changed: the change becomes
    the next version, and releases keep the copy they were given. Only the newest version
    can be edited. Returns the version that now holds the change."""
    _require_template_admin(actor)
    merged = {"slug": template.slug, **(data if isinstance(data, dict) else {"sections": data})}
    clean = template_clean(merged)
    if clean["slug"] != template.slug:
        raise Invalid.field("slug", "The slug of a template can't be changed.", code="slug_immutable")
    with transaction.atomic():
        newest = ChecklistTemplate.objects.select_for_update().filter(slug=template.slug).order_by("-version").first()
        if newest is None or newest.pk != template.pk:
            raise Conflict(
                f"Version {template.version} is not the newest version of {template.slug!r}; edit the newest.",
                code="not_newest_version",
            )
        if template_in_use(newest):
            new = _write_new_version(data=clean, version=newest.version + 1, actor=actor)
            audit_record(
                action=AuditAction.TEMPLATE_VERSIONED,
                actor=actor,
                target=new,
                before={"version": newest.version},
                after={"version": new.version},
            )
            return new
        before = {"name": newest.name, "items": newest.items.count()}
        newest.items.all().delete()
        newest.sections.all().delete()
        newest.name = clean["name"]
        newest.description = clean["description"]
        newest.language = clean["language"]
        newest.save(update_fields=["name", "description", "language"])
        template_write_sections(template=newest, data=clean)
        audit_record(
            action=AuditAction.TEMPLATE_UPDATED,
            actor=actor,
            target=newest,
            before=before,
            after={"name": newest.name, "items": newest.items.count()},
        )
        return newest


def template_import(*, actor: Any, data: Any) -> ChecklistTemplate:
    """Create the template, or, when its slug exists, a new version of it."""
    _require_template_admin(actor)
    clean = template_clean(data)
    with transaction.atomic():
        # Lock the slug's versions, then read the highest afresh: a concurrent import that held
        # the lock has committed its version by now, and this one takes the next.
        list(ChecklistTemplate.objects.select_for_update().filter(slug=clean["slug"]).values_list("pk", flat=True))
        highest = ChecklistTemplate.objects.filter(slug=clean["slug"]).aggregate(m=Max("version"))["m"]
        version = (highest or 0) + 1
        template = _write_new_version(data=clean, version=version, actor=actor)
        audit_record(
            action=AuditAction.TEMPLATE_IMPORTED,
            actor=actor,
            target=template,
            after={"slug": template.slug, "version": template.version},
        )
    return template
