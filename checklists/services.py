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
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.text import slugify

from config.domain import Conflict, Forbidden, Invalid, storable
from releases import permissions
from releases.audit import audit_record
from releases.models import AuditAction

from .models import ROLE_NEEDS_SIGNOFFS, SIGNOFFS_NEED_ROLE, Category, ChecklistTemplate, TemplateItem, TemplateSection

FORMAT = "shipcheck-template/1"
FLAG_RE = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
ITEM_DEFAULTS: dict[str, Any] = {
    "guidance": "",
    "required": True,
    "approver_role": None,
    "required_signoffs": 1,
    "evidence_required": False,
    "due_offset_days": 0,
    "condition_flag": "",
}
MAX_SECTIONS = 100
MAX_ITEMS = 500


@dataclass(frozen=True)
class TemplateModels:
    """The model classes to write with: the real ones, or a migration's historical ones."""

    template: Any = ChecklistTemplate
    section: Any = TemplateSection
    item: Any = TemplateItem
    group: Any = Group


def _str(value: Any, *, path: str, errors: dict[str, list[str]], max_length: int, required: bool) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors.setdefault(path, []).append("Must be a string.")
        return ""
    value = value.strip()
    if not storable(value):
        errors.setdefault(path, []).append("Contains characters that can't be stored (NUL or unpaired surrogates).")
        return ""
    if required and not value:
        errors.setdefault(path, []).append("This field is required.")
    if len(value) > max_length:
        errors.setdefault(path, []).append(f"At most {max_length} characters.")
    return value


def template_clean(data: Any, *, known_roles: set[str] | None = None) -> dict[str, Any]:
    """Validate template data in the exchange format; return it normalised.

    Approver roles must exist (an administrator adds them as groups): a misspelt role would
    give items nobody can sign. Raises Invalid with a message per field path (e.g.
    `sections[0].items[2].category`).
    """
    if known_roles is None:
        known_roles = set(Group.objects.values_list("name", flat=True))
    errors: dict[str, list[str]] = {}
    if not isinstance(data, dict):
        raise Invalid.field("non_field_errors", "Template data must be an object.")
    fmt = data.get("format", FORMAT)
    if fmt != FORMAT:
        errors["format"] = [f"Unknown format {fmt!r}; expected {FORMAT!r}."]
    clean: dict[str, Any] = {"format": FORMAT}
    clean["slug"] = _str(data.get("slug"), path="slug", errors=errors, max_length=100, required=True)
    if clean["slug"] and slugify(clean["slug"]) != clean["slug"]:
        errors.setdefault("slug", []).append("Use lowercase letters, digits and hyphens.")
    clean["name"] = _str(data.get("name"), path="name", errors=errors, max_length=200, required=True)
    clean["description"] = _str(
        data.get("description"), path="description", errors=errors, max_length=5000, required=False
    )
    clean["language"] = _str(data.get("language") or "en", path="language", errors=errors, max_length=10, required=True)
    sections = data.get("sections")
    if not isinstance(sections, list):
        errors.setdefault("sections", []).append("A list of sections, each with a title and items.")
        sections = []
    elif not sections:
        errors.setdefault("sections", []).append("A template needs at least one section.")
    if len(sections) > MAX_SECTIONS:
        errors.setdefault("sections", []).append(f"At most {MAX_SECTIONS} sections.")
        sections = []
    categories = set(Category.values)
    keys: set[str] = set()
    clean_sections = []
    total = 0
    for s_index, section in enumerate(sections):
        s_path = f"sections[{s_index}]"
        if not isinstance(section, dict):
            errors.setdefault(s_path, []).append("Must be an object.")
            continue
        title = _str(section.get("title"), path=f"{s_path}.title", errors=errors, max_length=200, required=True)
        items = section.get("items")
        if not isinstance(items, list):
            errors.setdefault(f"{s_path}.items", []).append("Must be a list.")
            items = []
        total += len(items)
        if total > MAX_ITEMS:
            errors.setdefault("sections", []).append(f"At most {MAX_ITEMS} items in a template.")
            break
        clean_items = []
        for i_index, item in enumerate(items):
            path = f"{s_path}.items[{i_index}]"
            if not isinstance(item, dict):
                errors.setdefault(path, []).append("Must be an object.")
                continue
            row = {**ITEM_DEFAULTS, **item}
            out: dict[str, Any] = {}
            out["title"] = _str(
                row.get("title"),
                path=f"{path}.title",
                errors=errors,
                max_length=300,
                required=True,
            )
            key = row.get("key") or slugify(out["title"])[:100]
            if not isinstance(key, str) or slugify(key) != key or not key:
                errors.setdefault(f"{path}.key", []).append("Use lowercase letters, digits and hyphens.")
            elif len(key) > 100:
                errors.setdefault(f"{path}.key", []).append("At most 100 characters.")
            elif key in keys:
                errors.setdefault(f"{path}.key", []).append(f"Key {key!r} is used twice.")
            keys.add(str(key))
            out["key"] = key
            out["guidance"] = _str(
                row["guidance"], path=f"{path}.guidance", errors=errors, max_length=10000, required=False
            )
            if not isinstance(row.get("category"), str) or row.get("category") not in categories:
                errors.setdefault(f"{path}.category", []).append(
                    f"Unknown category {row.get('category')!r}; one of: {', '.join(sorted(categories))}."
                )
            out["category"] = row.get("category")
            for flag_name in ("required", "evidence_required"):
                if not isinstance(row[flag_name], bool):
                    errors.setdefault(f"{path}.{flag_name}", []).append("Must be true or false.")
                out[flag_name] = row[flag_name]
            role = row["approver_role"]
            if role in ("", None):
                role = None
            elif not isinstance(role, str) or len(role) > 150 or not storable(role):
                errors.setdefault(f"{path}.approver_role", []).append("Must be an approver role's name.")
            elif role not in known_roles:
                errors.setdefault(f"{path}.approver_role", []).append(
                    f"Unknown approver role {role!r}; one of: {', '.join(sorted(known_roles))}. "
                    "An administrator adds roles (groups) in the admin."
                )
            out["approver_role"] = role
            signoffs = row["required_signoffs"]
            if isinstance(signoffs, bool) or not isinstance(signoffs, int) or not 0 <= signoffs <= 20:
                errors.setdefault(f"{path}.required_signoffs", []).append("A whole number from 0 to 20.")
            elif signoffs > 0 and role is None:
                errors.setdefault(f"{path}.approver_role", []).append(SIGNOFFS_NEED_ROLE)
            elif signoffs == 0 and role is not None:
                errors.setdefault(f"{path}.required_signoffs", []).append(ROLE_NEEDS_SIGNOFFS)
            out["required_signoffs"] = signoffs
            offset = row["due_offset_days"]
            if offset is None:
                offset = 0
            if isinstance(offset, bool) or not isinstance(offset, int) or not -365 <= offset <= 365:
                errors.setdefault(f"{path}.due_offset_days", []).append("A whole number of days from -365 to 365.")
            out["due_offset_days"] = offset
            flag = "" if row["condition_flag"] is None else row["condition_flag"]
            if not isinstance(flag, str) or (flag and not FLAG_RE.fullmatch(flag)):
                errors.setdefault(f"{path}.condition_flag", []).append(
                    "A flag name: lowercase letters, digits and underscores."
                )
            out["condition_flag"] = flag
            clean_items.append(out)
        clean_sections.append({"title": title, "items": clean_items})
    clean["sections"] = clean_sections
    if errors:
        raise Invalid("The template is not valid.", code="invalid_template", fields=errors)
    return clean


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
