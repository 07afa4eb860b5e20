"""Reading and writing templates in the exchange format (see services.FORMAT) as JSON or
YAML text: one place for the command line, the API and the browser."""

from __future__ import annotations

import json
from typing import Any

import yaml

from config.domain import Invalid

FORMATS = ("json", "yaml")
MAX_TEXT = 2_000_000


def dump(data: dict[str, Any], fmt: str) -> str:
    """Readable in any language: non-ASCII text (Czech) is written as is, keys in format order."""
    if fmt == "yaml":
        return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def parse(text: str, *, fmt: str | None = None, name: str = "the file") -> Any:
    """JSON or YAML; without `fmt`, text starting with `{` is JSON. Raises Invalid."""
    if len(text) > MAX_TEXT:
        raise Invalid.field("file", f"{name} is larger than {MAX_TEXT} characters.")
    if fmt == "json" or (fmt is None and text.lstrip().startswith("{")):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            where = f"line {exc.lineno}, column {exc.colno}"
            raise Invalid.field("file", f"{name} is not valid JSON: {exc.msg} ({where}).") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise Invalid.field("file", f"{name} is not valid YAML: {exc}") from None
