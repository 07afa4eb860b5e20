"""A faster `to_representation` for the read serializers of lists.

DRF reads every field of every row through its generic machinery (get_attribute, the
None check, the field's to_representation): on a page of 200 checklist items with their
sign-offs that is ~17,000 calls and most of the request's time. `FastRead` makes a plan once
per serializer (which attribute each field reads, and how its value is written) and then
builds each row's dict from it. The output is DRF's own: fields it has no shortcut for go
through DRF as before, and tests/config/test_fast_read.py compares both on real data.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils import timezone
from rest_framework import ISO_8601, fields, relations, serializers
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject
from rest_framework.settings import api_settings

Reader = Callable[[Any], Any]


def _iso_in(tz: Any) -> Callable[[Any], Any]:
    """DRF's DateTimeField representation (ISO 8601, UTC as Z) in `tz`, the current time
    zone when the serializer's plan is made (DRF reads it per value; it holds for a request)."""

    def iso(value: Any) -> Any:
        if not value:
            return None
        if isinstance(value, str):
            return value
        if tz is not None and timezone.is_aware(value):
            value = value.astimezone(tz)
        text = value.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return iso


def _attribute(path: list[str]) -> Reader:
    if len(path) == 1:
        name = path[0]
        return lambda obj: getattr(obj, name)

    def read(obj: Any) -> Any:
        for name in path:
            if obj is None:
                return None
            obj = getattr(obj, name)
        return obj

    return read


def _plain(read: Reader, convert: Callable[[Any], Any]) -> Reader:
    def field(obj: Any) -> Any:
        value = read(obj)
        return None if value is None else convert(value)

    return field


def _through_drf(field: fields.Field) -> Reader:
    """DRF's own reading of one field (what Serializer.to_representation does per field)."""

    def read(obj: Any) -> Any:
        attribute = field.get_attribute(obj)
        check = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
        return None if check is None else field.to_representation(attribute)

    return read


def _same(value: Any) -> Any:
    return value


# Field classes whose representation of a non-None value is this conversion.
_CONVERSIONS: list[tuple[Any, Callable[[Any], Any]]] = [
    (fields.BooleanField, bool),
    (fields.IntegerField, int),
    (fields.ChoiceField, _same),
    (fields.JSONField, _same),
    (fields.CharField, str),
]


def _reader(serializer: serializers.Serializer, field: fields.Field) -> Reader:
    if field.source == "*" or isinstance(field, relations.ManyRelatedField):
        return _through_drf(field)
    if isinstance(field, relations.PrimaryKeyRelatedField) and len(field.source_attrs) == 1:
        model = serializer.Meta.model  # type: ignore[attr-defined]
        name = model._meta.get_field(field.source_attrs[0]).attname
        return _attribute([name])
    read = _attribute(field.source_attrs)
    if isinstance(field, serializers.BaseSerializer):
        return _plain(read, field.to_representation)
    return _plain(read, _conversion(field) or field.to_representation)


def _conversion(field: fields.Field) -> Callable[[Any], Any] | None:
    """The representation of a non-None value of a field DRF writes by a plain conversion."""
    if (
        isinstance(field, fields.DateTimeField)
        and type(field).to_representation is fields.DateTimeField.to_representation
        and not hasattr(field, "format")  # DRF's default: ISO 8601
        and not hasattr(field, "timezone")
        and api_settings.DATETIME_FORMAT == ISO_8601
    ):
        return _iso_in(timezone.get_current_timezone() if settings.USE_TZ else None)
    for kind, convert in _CONVERSIONS:
        if isinstance(field, kind) and type(field).to_representation is kind.to_representation:
            return convert
    return None


class _SharedContext(dict):  # type: ignore[type-arg]
    """The context of the serializer a shared plan is made from: reading it is an error (a
    plan serves every request; what depends on one belongs in a method field, which is
    called with the serializer in use)."""

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError(
            "A FastRead plan is shared by every request: a field that reads the serializer's "
            "context can't be in it (read it in a method field of the serializer in use)."
        )

    __getitem__ = get = __contains__ = __iter__ = keys = items = values = _refuse


class _Plan:
    """How a serializer class writes a row: the fields that are one attribute each, read
    together (`attrgetter`), and the others by their readers, in the fields' order."""

    def __init__(self, serializer: serializers.Serializer) -> None:
        # (name, index of the attribute among `simple` or None, conversion, reader, is a method field)
        self.steps: list[tuple[str, int | None, Callable[[Any], Any] | None, Any, bool]] = []
        simple: list[str] = []
        for field in serializer._readable_fields:
            name = field.field_name
            assert name is not None
            if isinstance(field, fields.SerializerMethodField):
                self.steps.append((name, None, None, getattr(type(serializer), field.method_name), True))
                continue
            attname = self._attname(serializer, field)
            convert = None if attname is None else _conversion(field)
            if attname is not None and (convert is not None or isinstance(field, relations.PrimaryKeyRelatedField)):
                self.steps.append((name, len(simple), None if convert is _same else convert, None, False))
                simple.append(attname)
            else:
                self.steps.append((name, None, None, _reader(serializer, field), False))
        self.simple: Callable[[Any], tuple[Any, ...]] = (
            attrgetter(*simple) if len(simple) > 1 else lambda obj: tuple(getattr(obj, name) for name in simple)
        )

    @staticmethod
    def _attname(serializer: serializers.Serializer, field: fields.Field) -> str | None:
        if field.source == "*" or isinstance(field, serializers.BaseSerializer) or len(field.source_attrs) != 1:
            return None
        if isinstance(field, relations.ManyRelatedField):
            return None
        if isinstance(field, relations.PrimaryKeyRelatedField):
            model = serializer.Meta.model  # type: ignore[attr-defined]
            return str(model._meta.get_field(field.source_attrs[0]).attname)
        return str(field.source_attrs[0])

    def row(self, serializer: Any, instance: Any) -> dict[str, Any]:
        values = self.simple(instance)
        out = {}
        for name, index, convert, read, method in self.steps:
            try:
                if index is not None:
                    value = values[index]
                    out[name] = value if value is None or convert is None else convert(value)
                elif method:
                    out[name] = read(serializer, instance)
                else:
                    out[name] = read(instance)
            except SkipField:
                continue
        return out


# Plans by serializer class and current time zone (DRF writes times in it); settings that
# change how DRF writes (tests) drop them.
_PLANS: dict[tuple[type, Any], _Plan] = {}


@receiver(setting_changed)
def _forget_plans(**kwargs: Any) -> None:
    _PLANS.clear()


class FastRead:
    """Mixin for a read-only Serializer (put it first among the bases).

    The plan is made once per class (and time zone) from a serializer made for it, and
    shared by every request: fields read only the object. A method field is called with the
    serializer in use (at the top, the request's, with its context); a nested serializer's
    with the plan's own, whose context must not be read (`_SharedContext` refuses)."""

    def to_representation(self, instance: Any) -> dict[str, Any]:
        key = (type(self), timezone.get_current_timezone_name() if settings.USE_TZ else None)
        plan = _PLANS.get(key)
        if plan is None:
            template: Any = type(self)(context=_SharedContext())  # type: ignore[call-arg]  # a Serializer's
            plan = _PLANS[key] = _Plan(template)
        return plan.row(self, instance)
