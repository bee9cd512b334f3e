"""Value types of the config file: durations, sizes, text patterns, the strict base model."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

# --------------------------------------------------------------------------- value types

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}


def _parse_duration(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        m = _DURATION.match(value)
        if not m:
            raise ValueError(f"not a duration: {value!r} (write e.g. 30s, 5m, 1h)")
        return float(m.group(1)) * _UNITS[m.group(2)]
    return value


Duration = Annotated[float, BeforeValidator(_parse_duration, json_schema_input_type=float | str), Field(gt=0)]

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|k|m|g)?\s*$", re.I)
_SIZE_UNITS = {None: 1, "b": 1, "k": 1024, "kb": 1024, "m": 1024**2, "mb": 1024**2, "g": 1024**3, "gb": 1024**3}


def _parse_size(value: Any) -> Any:
    if isinstance(value, str):
        m = _SIZE.match(value)
        if not m:
            raise ValueError(f"not a size: {value!r} (write e.g. 25MB)")
        unit = m.group(2).lower() if m.group(2) else None
        return int(float(m.group(1)) * _SIZE_UNITS[unit])
    return value


ByteSize = Annotated[int, BeforeValidator(_parse_size, json_schema_input_type=int | str), Field(gt=0)]


def one_or_many(value: Any) -> Any:
    return [value] if isinstance(value, str | int | float | Decimal | dict) else value


class Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TextPattern(Strict):
    """A string condition: a bare string is a case-insensitive glob; `{regex: ...}` is a regex.
    `not:` before a glob (`not:*.p7s`), or `not: true` beside a regex, makes it a pattern that
    must match nothing."""

    glob: str | None = None
    regex: re.Pattern[str] | None = None
    negate: bool = Field(default=False, alias="not")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, str):
            if value.startswith("not:"):
                return {"glob": value[len("not:"):].strip(), "not": True}
            return {"glob": value}
        if isinstance(value, dict) and "regex" in value and isinstance(value["regex"], str):
            try:
                return {**value, "regex": re.compile(value["regex"], re.IGNORECASE)}
            except re.error as exc:
                raise ValueError(f"bad regex {value['regex']!r}: {exc}") from exc
        return value

    @model_validator(mode="after")
    def _exactly_one(self) -> TextPattern:
        if (self.glob is None) == (self.regex is None):
            raise ValueError("write a glob string or {regex: ...}")
        return self

    def __str__(self) -> str:
        shown = f"glob {self.glob!r}" if self.glob is not None else f"regex {self.regex.pattern!r}"  # type: ignore[union-attr]
        return f"not {shown}" if self.negate else shown

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> dict[str, Any]:
        """As the config writes it: a glob string (`not:` before it negates), or {regex: ...}."""
        return {"anyOf": [{"type": "string", "description": "case-insensitive glob; `not:glob` must match nothing"},
                          {"type": "object", "properties": {"regex": {"type": "string"}, "not": {"type": "boolean"}},
                           "required": ["regex"], "additionalProperties": False}]}


def one_or_many_of(item: Any) -> BeforeValidator:
    """A list that the config may also write as its one item (`doc_type: invoice`)."""
    return BeforeValidator(one_or_many, json_schema_input_type=item | list[item])


Patterns = Annotated[list[TextPattern], one_or_many_of(TextPattern)]
