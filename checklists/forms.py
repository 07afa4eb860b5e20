"""Browser forms for checklist templates.

The editor posts the whole template as named inputs (`sections-0-title`,
`sections-0-items-1-category`, ...). `sections_from_post` reads them back into the exchange
format (see services.FORMAT), typed as far as the shape goes (checkboxes, whole numbers);
every rule about the values is services.template_clean's, whose messages come back by field
path (`sections[0].items[1].category`) and are put next to that input by `editor_sections`.
Structure buttons (add, remove, move) post the same form with an `op` and change only the
rows: nothing typed is lost and nothing is saved until "Save".
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from . import models

ITEM_FIELDS = ("key", *models.ITEM_FIELDS)  # the editor's inputs per item
NEW_ITEM: dict[str, Any] = {
    "key": "",
    "title": "",
    "guidance": "",
    "category": "",
    "required": True,
    "approver_role": None,
    "required_signoffs": 0,
    "evidence_required": False,
    "due_offset_days": 0,
    "condition_flag": "",
}
_SECTION = re.compile(r"^sections-(\d+)-title$")
_ITEM = re.compile(r"^sections-(\d+)-items-(\d+)-title$")
_PATH = re.compile(r"^sections\[(\d+)\](?:\.items\[(\d+)\])?(?:\.(\w+))?$")
_WHOLE = re.compile(r"^[+-]?\d{1,9}$")


class TemplateHeadingForm(forms.Form):
    """The template's own fields; the limits on them are the service's to check."""

    slug = forms.CharField(
        label=_("Slug"),
        required=False,
        help_text=_("Lowercase letters, digits and hyphens; names every version of the template."),
    )
    name = forms.CharField(label=_("Name"), required=False)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    language = forms.CharField(label=_("Language"), required=False, help_text=_("A language code, e.g. en or cs."))

    def __init__(self, *args: Any, new: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not new:
            del self.fields["slug"]


class TemplateImportForm(forms.Form):
    file = forms.FileField(
        label=_("Template file"),
        help_text=_("A JSON or YAML file in Shipcheck's template format, as an export gives it."),
    )


def _whole_number(value: str) -> int | str:
    """A whole number as typed becomes an int; anything else stays as typed, for the
    service to refuse and the input to show again."""
    value = value.strip()
    return int(value) if _WHOLE.match(value) else value


def _item_from_post(post: QueryDict, prefix: str) -> dict[str, Any]:
    return {
        "key": post.get(f"{prefix}key", "").strip(),
        "title": post.get(f"{prefix}title", ""),
        "guidance": post.get(f"{prefix}guidance", ""),
        "category": post.get(f"{prefix}category", ""),
        "required": f"{prefix}required" in post,
        "approver_role": post.get(f"{prefix}approver_role") or None,
        "required_signoffs": _whole_number(post.get(f"{prefix}required_signoffs", "")),
        "evidence_required": f"{prefix}evidence_required" in post,
        "due_offset_days": _whole_number(post.get(f"{prefix}due_offset_days", "")),
        "condition_flag": post.get(f"{prefix}condition_flag", "").strip(),
    }


def sections_from_post(post: QueryDict) -> list[dict[str, Any]]:
    """The sections and items the editor posted, in the order of their indexes."""
    section_indexes = sorted({int(m[1]) for name in post if (m := _SECTION.match(name))})
    item_indexes: dict[int, set[int]] = {}
    for name in post:
        if m := _ITEM.match(name):
            item_indexes.setdefault(int(m[1]), set()).add(int(m[2]))
    return [
        {
            "title": post.get(f"sections-{s}-title", ""),
            "items": [_item_from_post(post, f"sections-{s}-items-{i}-") for i in sorted(item_indexes.get(s, ()))],
        }
        for s in section_indexes
    ]


def _swap(rows: list[Any], index: int, other: int) -> bool:
    if 0 <= index < len(rows) and 0 <= other < len(rows):
        rows[index], rows[other] = rows[other], rows[index]
        return True
    return False


def apply_op(sections: list[dict[str, Any]], op: str) -> str:
    """Change the rows as a structure button asks; returns the id of the control to focus
    next (the moved row's same button, the new row's title), '' when nothing applies."""
    name, _sep, rest = op.partition(":")
    try:
        args = [int(part) for part in rest.split(":")] if rest else []
    except ValueError:
        return ""
    s = args[0] if args else -1
    if name == "add-section":
        sections.append({"title": "", "items": [dict(NEW_ITEM)]})
        return f"s{len(sections) - 1}-title"
    if not 0 <= s < len(sections):
        return ""
    items = sections[s]["items"]
    if name == "add-item":
        items.append(dict(NEW_ITEM))
        return f"s{s}-i{len(items) - 1}-title"
    if name == "remove-section":
        del sections[s]
        return "add-section"
    if name in ("up-section", "down-section"):
        other = s - 1 if name == "up-section" else s + 1
        if not _swap(sections, s, other):
            return ""
        return f"s{other}-{_still_movable(name, other, len(sections), 'section')}"
    i = args[1] if len(args) > 1 else -1
    if not 0 <= i < len(items):
        return ""
    if name == "remove-item":
        del items[i]
        return f"s{s}-add-item"
    if name in ("up-item", "down-item"):
        other = i - 1 if name == "up-item" else i + 1
        if not _swap(items, i, other):
            return ""
        return f"s{s}-i{other}-{_still_movable(name, other, len(items), 'item')}"
    return ""


def _still_movable(name: str, index: int, count: int, noun: str) -> str:
    """The moved row's same button, or its other one once the row is at the end (a
    disabled button can't hold the focus)."""
    if name.startswith("up") and index == 0:
        return f"down-{noun}"
    if name.startswith("down") and index == count - 1:
        return f"up-{noun}"
    return name


def split_errors(fields: dict[str, list[str]]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """The service's messages: (those of the template's own fields, those of sections and items)."""
    heading: dict[str, list[str]] = {}
    rows: dict[str, list[str]] = {}
    for path, messages in fields.items():
        (rows if _PATH.match(path) else heading)[path] = messages
    return heading, rows


def editor_sections(sections: list[dict[str, Any]], errors: dict[str, list[str]]) -> list[dict[str, Any]]:
    """The rows to render: each input's name, id, value and the service's messages for it."""
    by_row: dict[tuple[int, int | None], dict[str, list[str]]] = {}
    for path, messages in errors.items():
        if m := _PATH.match(path):
            row = (int(m[1]), int(m[2]) if m[2] is not None else None)
            by_row.setdefault(row, {}).setdefault(m[3] or "row", []).extend(messages)
    out = []
    for s, section in enumerate(sections):
        section_errors = by_row.get((s, None), {})
        items = []
        for i, item in enumerate(section["items"]):
            item_errors = by_row.get((s, i), {})
            items.append(
                {
                    "id": f"s{s}-i{i}",
                    "prefix": f"sections-{s}-items-{i}-",
                    "number": i + 1,
                    "values": item,
                    "errors": item_errors,
                    "has_errors": bool(item_errors),
                    "first": i == 0,
                    "last": i == len(section["items"]) - 1,
                }
            )
        out.append(
            {
                "index": s,
                "id": f"s{s}",
                "prefix": f"sections-{s}-",
                "number": s + 1,
                "title": section["title"],
                "title_errors": section_errors.get("title", []),
                "errors": section_errors.get("row", []) + section_errors.get("items", []),
                "items": items,
                "first": s == 0,
                "last": s == len(sections) - 1,
            }
        )
    return out
