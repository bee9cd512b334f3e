"""Vendor templates in invoice2data's YAML format, read from a folder named in the config.

Supported: `issuer`, `keywords`, `exclude_keywords`, `priority`, `fields` (legacy regex strings,
`static_*` keys, and `{parser: regex|static, regex, value, type, group}`), `options` (`currency`,
`date_formats`, `decimal_separator`, `remove_whitespace`, `remove_accents`, `lowercase`, `replace`)
and `lines` (`start`, `end`, `line`, legacy or as `fields.lines` with `parser: lines`).

A template matches when every keyword regex is found in the text and no exclude keyword is; the
highest priority wins. Its fields override the generic ones; field names follow invoice2data
(`date`, `amount`, `amount_untaxed`, `vat`, ...) or ours (`invoice_date`, `total`, ...).
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


@dataclass(frozen=True)
class Template:
    name: str
    issuer: str
    keywords: tuple[re.Pattern[str], ...]
    exclude_keywords: tuple[re.Pattern[str], ...]
    priority: int
    fields: dict[str, dict[str, Any]]
    options: dict[str, Any]
    lines: dict[str, Any] | None = None

    def prepare(self, text: str) -> str:
        """The text as the template's options say it should be matched."""
        opts = self.options
        for old, new in opts.get("replace", []) or []:
            text = re.sub(old, new, text)
        if opts.get("remove_whitespace"):
            text = re.sub(r"\s+", "", text)
        if opts.get("remove_accents"):
            text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
        if opts.get("lowercase"):
            text = text.lower()
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
    flags = 0
    keywords = raw.get("keywords") or []
    if isinstance(keywords, str):
        keywords = [keywords]
    if not keywords:
        raise ValueError("keywords are missing (a template without keywords would match every document)")
    excludes = raw.get("exclude_keywords") or []
    if isinstance(excludes, str):
        excludes = [excludes]
    fields: dict[str, dict[str, Any]] = {}
    lines = raw.get("lines")
    for key, spec in (raw.get("fields") or {}).items():
        if key.startswith("static_"):
            fields[key[len("static_") :]] = {"parser": "static", "value": spec}
        elif isinstance(spec, str | list):
            fields[key] = {"parser": "regex", "regex": spec}
        elif isinstance(spec, dict):
            if spec.get("parser") == "lines":
                lines = spec
                continue
            if spec.get("parser") not in ("regex", "static"):
                raise ValueError(f"fields.{key}: parser {spec.get('parser')!r} is not supported (regex, static, lines)")
            fields[key] = dict(spec)
        else:
            raise ValueError(f"fields.{key}: expected a regex string or a mapping")
        if fields.get(key, {}).get("parser") == "regex":
            regexes = fields[key]["regex"]
            for rx in regexes if isinstance(regexes, list) else [regexes]:
                re.compile(rx)
    return Template(
        name=path.stem,
        issuer=str(issuer) if issuer else "",
        keywords=tuple(re.compile(k, flags) for k in keywords),
        exclude_keywords=tuple(re.compile(k, flags) for k in excludes),
        priority=int(raw.get("priority", 5)),
        fields=fields,
        options=options,
        lines=lines,
    )


def apply_template(template: Template, text: str) -> TemplateResult:
    """Values of the fields the template defines, typed like InvoiceFields."""
    result = TemplateResult(template=template.name)
    prepared = template.prepare(text)
    conventions = Conventions(decimal_separator=template.options.get("decimal_separator"))
    values: dict[str, Any] = {"vendor_name": template.issuer} if template.issuer else {}
    if template.options.get("currency"):
        values["currency"] = str(template.options["currency"]).upper()
    for key, spec in template.fields.items():
        name = FIELD_NAMES.get(key, key)
        if name not in _MODEL_FIELDS:
            continue  # an invoice2data field we have no place for
        raw = _raw_value(spec, prepared)
        if raw is None:
            result.warnings.append(f"template {template.name}: field {key} not found")
            continue
        typed = _typed(name, raw, spec.get("type"), template.options, conventions)
        if typed is None:
            result.warnings.append(f"template {template.name}: field {key} value {raw!r} could not be read")
            continue
        values[name] = typed
    if template.lines:
        items = _lines(template.lines, prepared, conventions)
        if items:
            values["line_items"] = tuple(items)
    result.values = values
    return result


def _raw_value(spec: dict[str, Any], text: str) -> Any:
    if spec.get("parser") == "static":
        return spec.get("value")
    regexes = spec["regex"] if isinstance(spec["regex"], list) else [spec["regex"]]
    found: list[str] = []
    for rx in regexes:
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


def _lines(spec: dict[str, Any], text: str, conventions: Conventions) -> list[LineItem]:
    start = re.search(spec["start"], text) if spec.get("start") else None
    end = re.search(spec["end"], text[start.end() if start else 0 :]) if spec.get("end") else None
    body_start = start.end() if start else 0
    body = text[body_start : body_start + end.start()] if end else text[body_start:]
    line_spec = spec.get("line")  # one regex, or a list of them (invoice2data allows both)
    patterns = line_spec if isinstance(line_spec, list) else [line_spec] if line_spec else []
    line_rxs = [re.compile(rx) for rx in patterns]
    items = []
    for row in body.splitlines():
        m = next((found for rx in line_rxs if (found := rx.search(row))), None)
        if not m:
            continue
        g = m.groupdict()
        amount = (
            parse_amount(g.get("amount") or g.get("price") or "", conventions)
            if (g.get("amount") or g.get("price"))
            else None
        )
        items.append(
            LineItem(
                description=(g.get("description") or g.get("name") or row).strip(),
                quantity=parse_amount(g["qty"], conventions)
                if g.get("qty")
                else (parse_amount(g["quantity"], conventions) if g.get("quantity") else None),
                unit_price=parse_amount(g["unit_price"], conventions) if g.get("unit_price") else None,
                amount=amount,
            )
        )
    return items
