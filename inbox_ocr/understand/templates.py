"""Vendor templates in invoice2data's format (YAML or JSON), read from a folder named in the config.

Read as invoice2data reads them: `issuer` (optional), `keywords`, `exclude_keywords`, `priority`,
`fields` (legacy regex strings or lists, the `static_` and `sum_` prefixes, and `{parser: regex |
static | lines, regex, value, type, group}`), `options` (`currency`, `date_formats`,
`decimal_separator`, `remove_whitespace`, `remove_accents`, `lowercase`, `replace`, `languages`),
`lines` (`start`, `end`, `line`, `first_line`, `last_line`, `skip_line`, `line_separator`, `types`;
every start..end block), `tables` (`start`, `end`, `body`, `line_separator`) and `required_fields`.
A field's `area` is not used (invoice2data uses it only with its pdftotext and tesseract inputs):
the field is looked for in the whole text.

A template matches when every keyword regex is found in the text and no exclude keyword is; the
highest priority wins. As in invoice2data, the template applies only when every required field is
found (default `date`, `amount`, `invoice_number`; the issuer and currency always count): otherwise
the document keeps the generic extractor's values and says which fields were missing. Its fields
override the generic ones; field names follow invoice2data (`date`, `amount`, `amount_untaxed`,
`vat`, ...) or ours (`invoice_date`, `total`, ...).
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from inbox_ocr.kernel.errors import ConfigError
from inbox_ocr.kernel.models import InvoiceFields, LineItem
from inbox_ocr.understand.normalize import Conventions, parse_amount, parse_date

log = logging.getLogger(__name__)

TEMPLATE_PAGES = 10  # templates see the first pages only; a 200-page attachment must not stall the pipeline

# invoice2data's names -> ours
FIELD_NAMES: dict[str, str] = {
    "date": "invoice_date",
    "date_due": "due_date",
    "due_date": "due_date",
    "amount": "total",
    "amount_total": "total",
    "amount_untaxed": "subtotal",
    "amount_tax": "tax",
    "vat": "vendor_vat_id",
    "partner_vat": "customer_vat_id",
    "partner_name": "customer_name",
    "issuer": "vendor_name",
    "payment_reference": "payment_reference",
    "po_number": "po_number",
    "order_number": "po_number",
}
_MODEL_FIELDS = set(InvoiceFields.model_fields) - {"line_items", "tax_rates"}
_DATE_FIELDS = {"invoice_date", "due_date", "service_period_start", "service_period_end"}
_MONEY_FIELDS = {"total", "subtotal", "tax", "amount_due"}


DEFAULT_REQUIRED = ("date", "amount", "invoice_number")  # invoice2data's, less the issuer (always set)


@dataclass(frozen=True)
class Template:
    name: str
    issuer: str
    keywords: tuple[re.Pattern[str], ...]
    exclude_keywords: tuple[re.Pattern[str], ...]
    priority: int
    fields: dict[str, dict[str, Any]]
    options: dict[str, Any]
    lines: tuple[tuple[str, dict[str, Any]], ...] = ()  # (field name, lines spec), legacy `lines` as "lines"
    tables: tuple[dict[str, Any], ...] = ()
    required: tuple[str, ...] = DEFAULT_REQUIRED

    def prepare(self, text: str) -> str:
        """The text as the template's options say it should be matched, in invoice2data's order:
        spaces removed (not line breaks), accents removed (other characters, € and £ included, are
        kept: upstream drops every non-ASCII one), lower case, then the `replace` pairs."""
        opts = self.options
        if opts.get("remove_whitespace"):
            text = re.sub(" +", "", text)
        if opts.get("remove_accents"):
            text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
        if opts.get("lowercase"):
            text = text.lower()
        for old, new in opts.get("replace", []) or []:
            text = re.sub(old, new, text)
        return text

    def matches(self, text: str) -> bool:
        prepared = self.prepare(text)
        return all(k.search(prepared) for k in self.keywords) and not any(
            k.search(prepared) for k in self.exclude_keywords
        )


class Templates:
    """The templates of a folder, best priority first. Read again when the folder changes (a
    template added, replaced or removed: the review UI saves learned ones while the daemon runs);
    a folder that no longer loads keeps the templates read before, with an error in the log."""

    def __init__(self, items: tuple[Template, ...] = (), folder: Path | None = None,
                 problems: tuple[str, ...] = ()) -> None:
        self._items = items
        self.folder = folder
        self.problems = problems  # the files skipped, with why
        self._stamp = _stamp(folder)

    @property
    def items(self) -> tuple[Template, ...]:
        if self.folder is not None and (stamp := _stamp(self.folder)) != self._stamp:
            self._stamp = stamp
            try:
                fresh = load_templates(self.folder)
                self._items, self.problems = fresh._items, fresh.problems
            except ConfigError as exc:
                log.error("event=templates_reload_failed folder=%s error=%s", self.folder, exc)
        return self._items

    def match(self, text: str) -> Template | None:
        return next((t for t in self.items if t.matches(text)), None)


def _stamp(folder: Path | None) -> int | None:
    """When the folder last changed (a file created, renamed or removed in it)."""
    try:
        return Path(folder).stat().st_mtime_ns if folder is not None else None
    except OSError:
        return None


@dataclass
class TemplateResult:
    template: str
    values: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # required fields not found: the template does not apply


def load_templates(folder: Path | None) -> Templates:
    """Read every *.yml / *.yaml / *.json under `folder`, as invoice2data does. A broken template
    is skipped with a warning in the log and listed in `Templates.problems` (check-config reports
    them as errors); it never stops the others. Raises ConfigError only for a folder that is not one."""
    if folder is None:
        return Templates()
    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigError(str(folder), ["understanding.templates_dir: not a folder"])
    items = []
    problems = []
    for path in sorted([*folder.rglob("*.yml"), *folder.rglob("*.yaml"), *folder.rglob("*.json")]):
        if path.name.startswith("."):
            continue  # an editor's or our own temporary file
        try:
            text = path.read_text(encoding="utf-8")
            raw = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
            items.append(_template_from(raw, path))
        except (yaml.YAMLError, ValueError, TypeError, KeyError, re.error, OSError) as exc:
            problems.append(f"{path}: not a valid invoice2data template: {exc}")
            log.warning("event=template_skipped file=%s error=%s", path, exc)
    items.sort(key=lambda t: (-t.priority, t.name))
    log.info("event=templates_loaded folder=%s count=%d skipped=%d", folder, len(items), len(problems))
    return Templates(tuple(items), folder, tuple(problems))


def _template_from(raw: Any, path: Path) -> Template:
    if not isinstance(raw, dict):
        raise ValueError("the file is not a YAML mapping")
    issuer = raw.get("issuer")  # invoice2data does not require it; without it the vendor is left to the rest
    options = dict(raw.get("options") or {})
    keywords = _patterns(raw.get("keywords"))
    if not keywords:
        raise ValueError("keywords are missing (a template without keywords would match every document)")
    fields: dict[str, dict[str, Any]] = {}
    lines: list[tuple[str, dict[str, Any]]] = []
    if raw.get("lines") is not None:
        lines.append(("lines", _lines_spec("lines", raw["lines"])))
    for key, spec in (raw.get("fields") or {}).items():
        key = str(key)
        if key.startswith("static_"):
            fields[key[len("static_"):]] = {"parser": "static", "value": spec}
        elif key.startswith("sum_") and isinstance(spec, list):
            fields[key[len("sum_"):]] = {"parser": "regex", "regex": spec, "group": "sum"}
        elif isinstance(spec, str | list):
            fields[key] = {"parser": "regex", "regex": spec}
        elif isinstance(spec, dict):
            if spec.get("parser") == "lines":
                lines.append((key, _lines_spec(f"fields.{key}", spec)))
                continue
            if spec.get("parser") not in ("regex", "static"):
                raise ValueError(f"fields.{key}: parser {spec.get('parser')!r} is not supported (regex, static, lines)")
            if spec.get("parser") == "regex" and "regex" not in spec:
                raise ValueError(f"fields.{key}: a regex parser needs `regex`")
            fields[key] = dict(spec)
        else:
            raise ValueError(f"fields.{key}: expected a regex string or a mapping")
        if fields.get(key, {}).get("parser") == "regex":
            for rx in _as_list(fields[key]["regex"]):
                re.compile(rx)
    tables = raw.get("tables") or []
    if isinstance(tables, dict):
        tables = [tables]
    for n, table in enumerate(tables):
        if not isinstance(table, dict) or not all(k in table for k in ("start", "end", "body")):
            raise ValueError(f"tables[{n}]: needs `start`, `end` and `body`")
        for key in ("start", "end", "body"):
            re.compile(table[key])
    required = raw.get("required_fields", options.get("required_fields"))
    if required is not None and (not isinstance(required, list) or not all(isinstance(r, str) for r in required)):
        raise ValueError("required_fields: expected a list of field names")
    return Template(
        name=path.stem,
        issuer=str(issuer) if issuer else "",
        keywords=keywords,
        exclude_keywords=_patterns(raw.get("exclude_keywords")),
        priority=int(raw.get("priority", 5)),
        fields=fields,
        options=options,
        lines=tuple(lines),
        tables=tuple(dict(t) for t in tables),
        required=DEFAULT_REQUIRED if required is None else tuple(required),
    )


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value] if value is not None else []


def _patterns(value: Any) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(str(k)) for k in _as_list(value))


def _lines_spec(where: str, spec: Any) -> dict[str, Any]:
    if not isinstance(spec, dict) or "line" not in spec:
        raise ValueError(f"{where}: a lines parser needs `line`")
    for key in ("start", "end", "line", "first_line", "last_line", "skip_line"):
        for rx in _as_list(spec.get(key)):
            re.compile(rx)
    return dict(spec)


def apply_template(template: Template, text: str) -> TemplateResult:
    """Values of the fields the template defines, typed like InvoiceFields, and the required fields
    it did not find (when there are any, the caller does not use the values)."""
    result = TemplateResult(template=template.name)
    prepared = template.prepare(text)
    conventions = Conventions(decimal_separator=template.options.get("decimal_separator"))
    values: dict[str, Any] = {"vendor_name": template.issuer} if template.issuer else {}
    found = {"issuer", "currency"}  # invoice2data always sets both (the currency defaults to EUR)
    if template.options.get("currency"):
        values["currency"] = str(template.options["currency"]).upper()
    for key, spec in template.fields.items():
        raw = _raw_value(spec, prepared)
        if raw is None:
            result.warnings.append(f"template {template.name}: field {key} not found")
            continue
        found.add(key)
        name = FIELD_NAMES.get(key, key)
        if name not in _MODEL_FIELDS:
            continue  # an invoice2data field we have no place for
        typed = _typed(name, raw, spec.get("type") or _legacy_type(key), template.options, conventions)
        if typed is None:
            result.warnings.append(f"template {template.name}: field {key} value {raw!r} could not be read")
            found.discard(key)
            continue
        values[name] = typed
    for key, value in _tables(template.tables, prepared).items():
        found.add(key)
        name = FIELD_NAMES.get(key, key)
        if name in _MODEL_FIELDS and name not in values:  # as upstream: a table never overrides a field
            typed = _typed(name, value, _legacy_type(key), template.options, conventions)
            if typed is not None:
                values[name] = typed
    for key, spec in template.lines:
        items = _lines(spec, prepared, conventions)
        if items:
            found.add(key)
            values.setdefault("line_items", tuple(items))
    result.missing = [r for r in template.required if r not in found and FIELD_NAMES.get(r, r) not in values]
    result.values = values
    return result


def _legacy_type(key: str) -> str | None:
    """invoice2data types a field by its name when no `type` is given: date..., ...date, amount..."""
    if key.startswith("date") or key.endswith("date"):
        return "date"
    return "float" if key.startswith("amount") else None


def _raw_value(spec: dict[str, Any], text: str) -> Any:
    if spec.get("parser") == "static":
        return spec.get("value")
    found: list[str] = []
    for rx in _as_list(spec["regex"]):
        for m in re.finditer(rx, text):
            found.append(m.group(1) if m.groups() else m.group(0))
    if not found:
        return None
    group = spec.get("group", "first")
    if group == "last":
        return found[-1]
    if group == "sum":
        return found
    return found[0]


def _typed(name: str, raw: Any, kind: str | None, options: dict[str, Any], conventions: Conventions) -> Any:
    if isinstance(raw, list):  # group: sum
        amounts = [parse_amount(str(r), conventions) for r in raw]
        return sum((a for a in amounts if a is not None), Decimal(0))
    if name in _DATE_FIELDS or kind == "date":
        if isinstance(raw, date):
            return raw
        for fmt in options.get("date_formats") or []:
            try:
                return datetime.strptime(str(raw).strip(), fmt).date()
            except ValueError:
                continue
        return parse_date(str(raw), conventions)
    if name in _MONEY_FIELDS or kind in ("float", "int"):
        return parse_amount(str(raw), conventions)
    return str(raw).strip()


def _tables(tables: tuple[dict[str, Any], ...], text: str) -> dict[str, str]:
    """invoice2data's `tables`: between `start` and `end`, each line is matched against `body`; its
    named groups are fields (the first value of a name wins)."""
    out: dict[str, str] = {}
    for table in tables:
        start = re.search(table["start"], text)
        end = re.search(table["end"], text[start.end():]) if start else None
        if start is None or end is None:
            continue
        body = text[start.end(): start.end() + end.start()]
        for row in re.split(table.get("line_separator", r"\n"), body):
            if not row.strip() or not (m := re.search(table["body"], row)):
                continue
            for key, value in m.groupdict().items():
                if value is not None and key not in out:
                    out[key] = value.strip()
    return out


def _lines(spec: dict[str, Any], text: str, conventions: Conventions) -> list[LineItem]:
    """invoice2data's `lines`: every `start`..`end` block (no `start`: from the top; no `end`: to the
    bottom); in a block a `first_line` match opens an item, `line` matches add to it, `last_line` closes
    it, `skip_line` is ignored. Without `first_line` and `last_line`, every `line` match is an item."""
    rows: list[dict[str, str]] = []
    rest = text
    while True:
        start = re.search(spec["start"], rest) if spec.get("start") else None
        if spec.get("start") and start is None:
            break
        rest = rest[start.end():] if start else rest
        end = re.search(spec["end"], rest) if spec.get("end") else None
        if spec.get("end") and end is None:
            break
        rows += _line_block(spec, rest[: end.start()] if end else rest)
        if end is None or not spec.get("start"):
            break
        rest = rest[end.end():]
    return [_line_item(row, conventions) for row in rows]


def _line_block(spec: dict[str, Any], block: str) -> list[dict[str, str]]:
    line, first, last = _as_list(spec["line"]), _as_list(spec.get("first_line")), _as_list(spec.get("last_line"))
    skips = _as_list(spec.get("skip_line"))
    if not first and not last:
        first = line
    rows: list[dict[str, str]] = []
    row: dict[str, str] = {}
    opened = False
    for text in re.split(spec.get("line_separator", r"\n"), block):
        if not text.strip():
            continue
        if first and (m := _search(first, text)):
            if row:
                rows.append(row)
            row, opened = {k: (v or "").strip() for k, v in m.groupdict().items()}, True
            continue
        if not opened:
            continue
        if last and (m := _search(last, text)):
            _extend(row, m)
            rows.append(row)
            row, opened = {}, False
            continue
        if any(re.search(rx, text) for rx in skips):
            continue
        if m := _search(line, text):
            _extend(row, m)
    if row:
        rows.append(row)
    return rows


def _search(patterns: list[str], text: str) -> re.Match[str] | None:
    return next((m for rx in patterns if (m := re.search(rx, text))), None)


def _extend(row: dict[str, str], m: re.Match[str]) -> None:
    for key, value in m.groupdict().items():
        row[key] = "\n".join(v for v in (row.get(key, ""), (value or "").strip()) if v)


def _line_item(row: dict[str, str], conventions: Conventions) -> LineItem:
    def number(*keys: str) -> Decimal | None:
        raw = next((row[k] for k in keys if row.get(k)), None)
        return parse_amount(raw, conventions) if raw else None

    description = next((row[k] for k in ("description", "desc", "name", "item") if row.get(k)), None)
    return LineItem(
        description=(description or " ".join(v for v in row.values() if v)).strip(),
        quantity=number("qty", "quantity"),
        unit_price=number("unit_price", "price_unit"),
        amount=number("amount", "price", "price_subtotal", "total"),
    )
