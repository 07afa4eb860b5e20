"""Reading and writing templates in the exchange format (see services.FORMAT) as JSON or
YAML files: one place for the command line, the API and the browser. Reading checks the
file (size, encoding, syntax); what the data means is services.template_clean's to check."""

from __future__ import annotations

import json
from typing import IO, Any

import yaml

from config.domain import UNSTORABLE, Invalid, format_from_name, storable

FORMATS = ("json", "yaml")
MAX_BYTES = 2_000_000
# An item's fields are five levels down (template, sections, a section, items, an item);
# text nested deeper than MAX_DEPTH is never stored, so never looked at.
MAX_DEPTH = 6


def dump(data: dict[str, Any], fmt: str) -> str:
    """Readable in any language: non-ASCII text (Czech) is written as is, keys in format order."""
    if fmt == "yaml":
        return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def read(file: IO[bytes], *, name: str) -> Any:
    """The template data in a file (an upload, a file on disk, standard input): at most
    MAX_BYTES of UTF-8 (a byte-order mark is fine), JSON or YAML by the name's suffix (with
    neither, text starting with `{` is JSON), without text the database can't store.
    Raises Invalid naming `file`, or the field path of the text that can't be stored."""
    raw = file.read(MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:
        raise Invalid.field("file", f"{name} is larger than {MAX_BYTES:,} bytes.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid.field("file", f"{name} is not UTF-8 text.") from None
    data = _parse(text, fmt=format_from_name(name), name=name)
    refuse_unstorable(data)
    return data


def _parse(text: str, *, fmt: str | None, name: str) -> Any:
    try:
        if fmt == "json" or (fmt is None and text.lstrip().startswith("{")):
            return _parse_json(text, name=name)
        return _parse_yaml(text, name=name)
    except RecursionError:
        raise Invalid.field("file", f"{name} is nested too deeply.") from None


def _parse_json(text: str, *, name: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise Invalid.field("file", f"{name} is not valid JSON: {exc.msg} ({where}).") from None


def _parse_yaml(text: str, *, name: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise Invalid.field("file", f"{name} is not valid YAML: {exc}") from None


def refuse_unstorable(value: Any, path: str = "", depth: int = 0) -> None:
    """Template data from a file or a JSON body is not read through serializer fields: text
    the database can't hold (NUL, unpaired surrogates) is refused here, named by the field
    path the service uses (`sections[0].items[2].title`)."""
    if isinstance(value, str):
        if not storable(value):
            raise Invalid.field(path or "non_field_errors", UNSTORABLE)
    elif depth > MAX_DEPTH:
        return
    elif isinstance(value, dict):
        for key, item in value.items():
            refuse_unstorable(item, f"{path}.{key}" if path else str(key), depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            refuse_unstorable(item, f"{path}[{index}]", depth + 1)
