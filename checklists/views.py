"""Browser pages: checklist templates: the list, a version's page, the editor (new and
edit), the difference between two versions, import and export.

Every signed-in person may read templates (as through the API); changing them is for
administrators, which the services decide (`can_manage_templates` only hides the buttons
and refuses the editor's empty form). Reads come from checklists.selectors, writes go to
services.template_create / template_update / template_import, files through exchange.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.models import Group
from django.db.models import Exists, OuterRef
from django.db.models.expressions import Combinable
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.domain import DomainError, Forbidden, Invalid, NotFound
from config.web import form_errors, page
from releases import permissions

from . import exchange, selectors, services
from .forms import (
    NEW_ITEM,
    TemplateHeadingForm,
    TemplateImportForm,
    apply_op,
    editor_sections,
    sections_from_post,
    split_errors,
)
from .models import Category, ChecklistTemplate

MAX_QUERY = 200
FIELD_LABELS = {
    "name": gettext_lazy("Name"),
    "description": gettext_lazy("Description"),
    "language": gettext_lazy("Language"),
    "section": gettext_lazy("Section"),
    "title": gettext_lazy("Title"),
    "guidance": gettext_lazy("Guidance"),
    "category": gettext_lazy("Category"),
    "required": gettext_lazy("Required for go-live"),
    "approver_role": gettext_lazy("Approver role"),
    "required_signoffs": gettext_lazy("Sign-offs needed"),
    "evidence_required": gettext_lazy("Evidence required"),
    "due_offset_days": gettext_lazy("Due, days from go-live"),
    "condition_flag": gettext_lazy("Only with release flag"),
}


def _template(pk: int) -> ChecklistTemplate:
    template = ChecklistTemplate.objects.filter(pk=pk).first()
    if template is None:
        raise NotFound(_("No such checklist template."), code="not_found")
    return template


def _require_manage(user: Any) -> None:
    """The editor's and the import's empty forms: the services refuse the same people on save."""
    if not permissions.can_manage_templates(user):
        raise Forbidden(_("Only administrators can change checklist templates."), code="forbidden")


def _newest_flag() -> Combinable:
    return ~Exists(ChecklistTemplate.objects.filter(slug=OuterRef("slug"), version__gt=OuterRef("version")))


@page
def template_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:MAX_QUERY]
    templates = ChecklistTemplate.objects.only(
        "id", "slug", "version", "name", "language", "is_builtin", "created_at"
    ).order_by("slug", "-version")
    if query:
        templates = templates.filter(name__icontains=query)
    groups: dict[str, dict[str, Any]] = {}
    for template in selectors.templates_with_usage(templates).annotate(newest=_newest_flag()):
        group = groups.setdefault(template.slug, {"top": template, "older": []})
        if group["top"] is not template:
            group["older"].append(template)
    context = {
        "groups": list(groups.values()),
        "q": query,
        "can_manage": permissions.can_manage_templates(request.user),
    }
    return render(request, "checklists/template_list.html", context)


@page
def template_detail(request: HttpRequest, pk: int) -> HttpResponse:
    template = (
        selectors.templates_with_usage(selectors.templates_with_items().filter(pk=pk))
        .annotate(newest=_newest_flag())
        .first()
    )
    if template is None:
        raise NotFound(_("No such checklist template."), code="not_found")
    for section in template.sections.all():
        for item in section.items.all():
            item.due_days = abs(item.due_offset_days)  # type: ignore[attr-defined]
    versions = ChecklistTemplate.objects.filter(slug=template.slug).order_by("-version").only("id", "version", "name")
    context = {
        "template": template,
        "versions": list(versions),
        "can_manage": permissions.can_manage_templates(request.user),
    }
    return render(request, "checklists/template_detail.html", context)


def _editor_context(
    request: HttpRequest,
    *,
    template: ChecklistTemplate | None,
    form: TemplateHeadingForm,
    sections: list[dict[str, Any]],
    errors: dict[str, list[str]] | None = None,
    focus: str = "",
) -> dict[str, Any]:
    roles = list(Group.objects.order_by("name").values_list("name", flat=True))
    typed_roles = {item["approver_role"] for section in sections for item in section["items"]} - {None, *roles}
    context: dict[str, Any] = {
        "template": template,
        "form": form,
        "sections": editor_sections(sections, errors or {}),
        "focus": focus,
        "categories": Category.choices,
        "roles": roles + sorted(typed_roles),
        "signoff_bounds": services.SIGNOFFS,
    }
    if template is not None:
        context["in_use"] = services.template_in_use(template)
        context["newest"] = selectors.template_newest(template.slug)
    return context


def _save(request: HttpRequest, template: ChecklistTemplate | None, data: dict[str, Any]) -> ChecklistTemplate:
    if template is None:
        return services.template_create(actor=request.user, data=data)
    return services.template_update(template=template, actor=request.user, data=data)


def _saved(request: HttpRequest, template: ChecklistTemplate | None, saved: ChecklistTemplate) -> HttpResponse:
    if template is None:
        messages.success(request, _("Template “%(name)s” created.") % {"name": saved.name})
    elif saved.pk != template.pk:
        messages.success(
            request,
            _("Saved as version %(new)s; the releases that use version %(old)s keep it.")
            % {"new": saved.version, "old": template.version},
        )
    else:
        messages.success(request, _("Template “%(name)s” saved.") % {"name": saved.name})
    return redirect("template-detail", pk=saved.pk)


def _editor(request: HttpRequest, template: ChecklistTemplate | None) -> HttpResponse:
    _require_manage(request.user)
    new = template is None
    if request.method != "POST":
        initial = selectors.template_export_data(template) if template else {"language": "en", "sections": []}
        form = TemplateHeadingForm(initial=initial, new=new)
        sections = initial["sections"] or [{"title": "", "items": [dict(NEW_ITEM)]}]
        context = _editor_context(request, template=template, form=form, sections=sections)
        return render(request, "checklists/template_editor.html", context)
    form = TemplateHeadingForm(request.POST, new=new)
    form.is_valid()  # every field is optional text: the service judges the values
    sections = sections_from_post(request.POST)
    if op := request.POST.get("op"):
        focus = apply_op(sections, op)
        context = _editor_context(request, template=template, form=form, sections=sections, focus=focus)
        return render(request, _editor_target(request), context)
    try:
        saved = _save(request, template, {**form.cleaned_data, "sections": sections})
    except DomainError as error:
        heading, rows = split_errors(error.fields)
        form_errors(form, Invalid(error.message, code=error.code, fields=heading) if heading else error)
        context = _editor_context(request, template=template, form=form, sections=sections, errors=rows)
        return render(request, "checklists/template_editor.html", context)
    return _saved(request, template, saved)


def _editor_target(request: HttpRequest) -> str:
    """htmx swaps only the rows after a structure button; without it, the whole page."""
    if request.headers.get("HX-Request") == "true":
        return "checklists/template_editor.html#rows"
    return "checklists/template_editor.html"


@page
def template_new(request: HttpRequest) -> HttpResponse:
    return _editor(request, None)


@page
def template_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _editor(request, _template(pk))


@page
def template_export(request: HttpRequest, pk: int) -> HttpResponse:
    """The same file as the API's export."""
    template = _template(pk)
    fmt = request.GET.get("format", "json")
    if fmt not in exchange.FORMATS:
        raise NotFound(_("Export as json or yaml."), code="not_found")
    content_type = "application/yaml" if fmt == "yaml" else "application/json"
    response = HttpResponse(
        exchange.dump(selectors.template_export_data(template), fmt), content_type=f"{content_type}; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{template.slug}-v{template.version}.{fmt}"'
    return response


def _import_errors(form: TemplateImportForm, error: DomainError) -> None:
    """The file's own problems next to it; the data's by field path, above the form."""
    if isinstance(error, Invalid) and set(error.fields) - {*form.fields, "non_field_errors"}:
        fields = {
            path: messages if path in form.fields or path == "non_field_errors" else [f"{path}: {m}" for m in messages]
            for path, messages in error.fields.items()
        }
        form.add_error(None, error.message)
        error = Invalid(error.message, code=error.code, fields=fields)
    form_errors(form, error)


@page
def template_import(request: HttpRequest) -> HttpResponse:
    _require_manage(request.user)
    form = TemplateImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            data = exchange.read(upload, name=upload.name or "file")
            template = services.template_import(actor=request.user, data=data)
        except DomainError as error:
            _import_errors(form, error)
        else:
            messages.success(
                request,
                _("Imported “%(name)s” as version %(version)s.") % {"name": template.name, "version": template.version},
            )
            return redirect("template-detail", pk=template.pk)
    return render(request, "checklists/template_import.html", {"form": form})


@page
def template_diff(request: HttpRequest, pk: int) -> HttpResponse:
    template = _template(pk)
    versions = list(ChecklistTemplate.objects.filter(slug=template.slug).order_by("-version").only("id", "version"))
    against = request.GET.get("against", "")
    other = next((v for v in versions if str(v.pk) == against and v.pk != template.pk), None)
    problem = ""
    if against and other is None:
        problem = _("Choose another version of this template to compare with.")
    if other is None and not against:
        other = next((v for v in versions if v.version < template.version), None)
    context: dict[str, Any] = {"template": template, "versions": versions, "other": other, "problem": problem}
    if other is not None:
        old, new = sorted((template, other), key=lambda t: t.version)
        diff = selectors.template_diff(old, new)
        for change in diff["heading"] + [change for item in diff["changed"] for change in item["changes"]]:
            change.update(label=FIELD_LABELS.get(change["field"], change["field"]))
            change.update(
                before=_shown(change["field"], change["before"]), after=_shown(change["field"], change["after"])
            )
        context.update(old=old, new=new, diff=diff)
    return render(request, "checklists/template_diff.html", context)


def _shown(field: str, value: Any) -> Any:
    """A value as the diff shows it: yes/no for flags, the category's name."""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if field == "category" and value in Category.values:
        return Category(value).label
    return value
