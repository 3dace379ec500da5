"""Events out of model output: the original's ``<event type="...">`` tags and JSON blocks.

Model output is untrusted input: partial (a response cut off mid-tag), malformed (a
confidence of "very"), or crafted (a megabyte of ``<event`` with no end). :func:`parse`
therefore never raises and never hangs. It returns the events it could read, a list of
:class:`ParseError` for everything else, and the text with the events taken out.

Bounded work: the input is cut at ``max_chars``; tags are found with ``str.find`` over an
ASCII-lower-cased copy, each search starting where the previous one of its kind ended, so
the whole scan is linear (no regex backtracking over the body, unlike the original's
``<event[^>]*>(.*?)</event>``, which is quadratic on unclosed tags); at most ``max_events``
events are read; field values are cut at ``max_field`` characters.

Accepted formats::

    <event type="hypothesis_formed" id="h1">
      <decision>Use a GenServer</decision>
      <alternatives>Agent, ETS</alternatives>
      <reasoning>State needs serialized access</reasoning>
      <confidence>0.85</confidence>
      <code_section>Cache</code_section> <spec_reference>3.2</spec_reference>
      <parent_id>h0</parent_id> <depends_on>a, b</depends_on>
    </event>

    ```json
    {"events": [{"type": "pattern_applied", "decision": "...", "confidence": 0.9}]}
    ```

(a JSON block may also hold one event object or a list of them).
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import msgspec

from crucible.errors import CrucibleError
from crucible.trace.chain import Chain, make_event
from crucible.trace.event import Event, EventType, is_valid_type

__all__ = ["ParseError", "ParseResult", "build_prompt", "extract_code", "parse", "parse_to_chain"]

_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_ATTR = re.compile(r"""([A-Za-z_][\w-]{0,63})\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>/]+))""")
_MAX_TAG = 1024
_FIELDS = (
    "decision",
    "alternatives",
    "reasoning",
    "confidence",
    "code_section",
    "spec_reference",
    "parent_id",
    "depends_on",
    "stage",
    "id",
)
_LISTS = ("alternatives", "depends_on")
_SKIP = ("hash", "prev_hash")
_KNOWN = frozenset(Event.__struct_fields__)


class ParseError(msgspec.Struct, frozen=True):
    """Something in the output that could not be read as (part of) an event."""

    offset: int
    message: str
    snippet: str = ""


class ParseResult(msgspec.Struct, frozen=True, kw_only=True):
    """Events found (in the order they appear), errors, and the text without the events."""

    events: list[Event]
    errors: list[ParseError]
    text: str

    @property
    def ok(self) -> bool:
        return not self.errors


class _Scan:
    """State of one parse: the text, its ASCII-lower copy, limits and findings."""

    def __init__(self, text: str, max_events: int, max_field: int, defaults: dict[str, Any]):
        self.text = text
        self.low = text.translate(_LOWER)  # same length as text: offsets stay valid
        self.max_events = max_events
        self.max_field = max_field
        self.defaults = defaults
        self.found: list[tuple[int, Event]] = []
        self.errors: list[ParseError] = []
        self.spans: list[tuple[int, int]] = []

    def error(self, offset: int, message: str) -> None:
        if len(self.errors) < 10 * self.max_events:  # bounded even for pathological input
            self.errors.append(ParseError(offset, message, self.text[offset : offset + 80]))

    def full(self) -> bool:
        return len(self.found) >= self.max_events

    def add(self, offset: int, fields: dict[str, Any]) -> None:
        if self.full():
            self.error(offset, f"more than {self.max_events} events; the rest were skipped")
            return
        event = _build(fields, self.defaults, lambda msg: self.error(offset, msg))
        if event is not None:
            self.found.append((offset, event))


def parse(
    text: str | bytes,
    *,
    max_chars: int = 1_000_000,
    max_events: int = 10_000,
    max_field: int = 65_536,
    defaults: Mapping[str, Any] | None = None,
) -> ParseResult:
    """Events from model output (see the module docstring). ``defaults`` fills fields the
    output leaves out (``experiment_id``, ``stage``, ``model``...). Never raises."""
    errors: list[ParseError] = []
    if isinstance(text, (bytes, bytearray, memoryview)):
        text = bytes(text).decode("utf-8", errors="replace")
    elif not isinstance(text, str):
        return ParseResult(events=[], errors=[ParseError(0, "input is not text")], text="")
    # lone surrogates cannot be encoded as UTF-8 (so neither stored nor hashed): "?" them
    text = text.encode("utf-8", errors="replace").decode("utf-8")
    if len(text) > max_chars:
        errors.append(ParseError(max_chars, f"input longer than {max_chars} characters; cut"))
        text = text[:max_chars]
    scan = _Scan(text, max_events, max_field, dict(defaults or {}))
    scan.errors.extend(errors)
    _scan_tags(scan)
    _scan_json(scan)
    scan.found.sort(key=lambda item: item[0])
    return ParseResult(
        events=[event for _, event in scan.found],
        errors=sorted(scan.errors, key=lambda e: e.offset),
        text=_remaining(text, scan.spans),
    )


def _scan_tags(scan: _Scan) -> None:
    low, text = scan.low, scan.text
    none = len(low)  # "not found": every search below resumes where its last one ended
    pos, next_gt, next_close = 0, -1, -1
    for _ in range(10 * scan.max_events):
        start = low.find("<event", pos)
        if start < 0:
            return
        after = start + 6
        if after < len(low) and low[after] not in " \t\r\n>/":
            pos = after  # <events>, <eventually>...
            continue
        if next_gt < after:
            next_gt = _find(low, ">", after, none)
        if next_gt - after > _MAX_TAG or next_gt == none:
            scan.error(start, "unterminated <event ...> tag")
            pos = after
            continue
        end = next_gt
        attrs = _attributes(text[after:end])
        if low[end - 1] == "/":
            scan.error(start, "empty <event/> tag")
            scan.spans.append((start, end + 1))
            pos = end + 1
            continue
        if next_close <= end:
            next_close = _find(low, "</event>", end + 1, none)
        next_open = _find(low, "<event", end + 1, none)
        closed = next_close < next_open
        body_end = next_close if closed else next_open
        if not closed:
            scan.error(start, "<event> without </event> (partial output?)")
        fields = _children(scan, end + 1, body_end)
        fields.update({k: v for k, v in attrs.items() if k in _FIELDS or k == "type"})
        if "parent" in attrs and "parent_id" not in fields:
            fields["parent_id"] = attrs["parent"]
        if "type" not in fields:
            scan.error(start, "<event> without a type attribute")
        elif closed or "decision" in fields:
            scan.add(start, fields)
        stop = next_close + 8 if closed else body_end
        scan.spans.append((start, stop))
        pos = stop
        if scan.full():
            break
    if low.find("<event", pos) >= 0:
        scan.error(pos, "too many <event> tags; the rest were not read")


def _find(low: str, needle: str, start: int, none: int) -> int:
    found = low.find(needle, start)
    return none if found < 0 else found


def _attributes(tag: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for m in _ATTR.finditer(tag):
        value = next(v for v in (m.group(2), m.group(3), m.group(4)) if v is not None)
        out[m.group(1).lower()] = html.unescape(value)
    return out


def _children(scan: _Scan, start: int, end: int) -> dict[str, Any]:
    """The child tags of one event body (each looked up once: linear in the body)."""
    low = scan.low
    fields: dict[str, Any] = {}
    for name in _FIELDS:
        open_at = low.find(f"<{name}>", start, end)
        if open_at < 0:
            continue
        value_at = open_at + len(name) + 2
        close_at = low.find(f"</{name}>", value_at, end)
        if close_at < 0:
            scan.error(open_at, f"<{name}> without </{name}>")
            continue
        value = scan.text[value_at:close_at]
        if len(value) > scan.max_field:
            scan.error(value_at, f"<{name}> longer than {scan.max_field} characters; cut")
            value = value[: scan.max_field]
        fields[name] = html.unescape(value).strip()
    return fields


def _scan_json(scan: _Scan) -> None:
    low, pos = scan.low, 0
    while not scan.full():
        start = low.find("```json", pos)
        if start < 0:
            return
        body = start + 7
        end = low.find("```", body)
        if end < 0:
            scan.error(start, "```json block without closing ```")
            return
        pos = end + 3
        try:
            doc = msgspec.json.decode(scan.text[body:end])
        except Exception as exc:  # DecodeError, RecursionError on absurd nesting, ...
            scan.error(start, f"JSON block is not valid JSON: {str(exc)[:200]}")
            continue
        items = doc.get("events") if isinstance(doc, dict) and "events" in doc else doc
        items = items if isinstance(items, list) else [items]
        before = len(scan.found)
        for item in items:
            if isinstance(item, dict):
                scan.add(start, item)
            else:
                scan.error(start, "JSON block item is not an event object")
        if len(scan.found) > before:
            scan.spans.append((start, pos))


def _build(fields: dict[str, Any], defaults: dict[str, Any], report: Any) -> Event | None:
    """A lenient conversion of read fields into an event; ``report(msg)`` for problems."""
    kind = _event_type(fields.get("type"))
    if kind is None:
        report(f"unknown event type {str(fields.get('type'))[:80]!r}; event skipped")
        return None
    decision = fields.get("decision")
    if not isinstance(decision, str) or not decision.strip():
        report("event without a <decision>; skipped")
        return None
    reasoning = fields.get("reasoning")
    if not isinstance(reasoning, str) or not reasoning:
        report("event without <reasoning>")
        reasoning = ""
    values: dict[str, Any] = dict(defaults)
    extra: dict[str, Any] = {}
    for key, value in fields.items():
        if key in ("type", "decision", "reasoning") or key in _SKIP:
            continue
        if key not in _KNOWN:
            extra[key] = value
        elif key == "confidence":
            values[key] = _confidence(value, report)
        elif key in _LISTS:
            values[key] = _string_list(value)
        elif key == "timestamp":
            moment = _timestamp(value)
            if moment is None:
                report(f"unreadable timestamp {str(value)[:40]!r}; using now")
            else:
                values[key] = moment
        elif value is not None and value != "":
            values[key] = value
    if extra:
        values["metadata"] = {**extra, **(values.get("metadata") or {})}
    try:
        return make_event(kind, decision.strip(), reasoning, **values)
    except (CrucibleError, TypeError, ValueError) as exc:
        report(f"invalid event: {str(exc)[:300]}")
        return None


def _event_type(raw: Any) -> str | None:
    if not isinstance(raw, str):
        return None
    name = raw.strip().translate(_LOWER)
    if is_valid_type(name):
        return name
    name = name.replace("-", "_").replace(" ", "_")
    return name if is_valid_type(name) else None


def _confidence(value: Any, report: Any) -> float:
    try:
        text = str(value).strip()
        number = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except (TypeError, ValueError, OverflowError):
        report(f"unreadable confidence {str(value)[:40]!r}; using 1.0")
        return 1.0
    if math.isnan(number):
        report("confidence is NaN; using 1.0")
        return 1.0
    if not 0.0 <= number <= 1.0:
        clamped = min(1.0, max(0.0, number))
        report(f"confidence {number} outside [0, 1]; clamped to {clamped}")
        return clamped
    return number


def _string_list(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list) else re.split(r"[,;]", str(value))
    return tuple(s for s in (str(v).strip() for v in items) if s)


def _timestamp(value: Any) -> datetime | None:
    try:
        moment = msgspec.convert(value, datetime)
    except msgspec.ValidationError:
        return None
    return moment if moment.tzinfo is not None else None


def _remaining(text: str, spans: list[tuple[int, int]]) -> str:
    pieces, pos = [], 0
    for start, stop in sorted(spans):
        if start >= pos:
            pieces.append(text[pos:start])
            pos = stop
    pieces.append(text[pos:])
    return "".join(pieces).strip()


def parse_to_chain(text: str | bytes, name: str, **kwargs: Any) -> tuple[Chain, list[ParseError]]:
    """A chain of the parsed events; events the chain rejects (a duplicate id, a reference
    to an event that is not before them) are reported as errors and left out."""
    result = parse(text, **kwargs)
    chain = Chain(name=name)
    errors = list(result.errors)
    for event in result.events:
        try:
            chain.add(event)
        except CrucibleError as exc:
            errors.append(ParseError(-1, f"event {event.id!r} not added: {str(exc)[:300]}"))
    return chain, errors


def extract_code(text: str) -> str:
    """The contents of the ``<code>`` elements (or, without any, the text with the events
    removed), as the original's ``extract_code`` returns."""
    result = parse(text)
    low, out, pos = result.text.translate(_LOWER), [], 0
    while (start := low.find("<code>", pos)) >= 0:
        end = low.find("</code>", start + 6)
        if end < 0:
            break
        out.append(result.text[start + 6 : end].strip("\n"))
        pos = end + 7
    return "\n".join(out) if out else result.text


def build_prompt(base_spec: str, *, types: tuple[str, ...] | None = None) -> str:
    """``base_spec`` plus instructions asking the model to emit ``<event>`` tags."""
    names = types or tuple(t.value for t in list(EventType)[:6])
    listed = "\n".join(f"- {name}" for name in names)
    return f"""{base_spec}

IMPORTANT: for each significant decision you make, output an event tag with your reasoning:
<event type="EVENT_TYPE">
  <decision>What you chose</decision>
  <alternatives>Alternative 1, Alternative 2</alternatives>
  <reasoning>Why you chose it over the alternatives</reasoning>
  <confidence>a number from 0.0 to 1.0</confidence>
  <code_section>the function or module concerned (optional)</code_section>
  <spec_reference>the specification section concerned (optional)</spec_reference>
</event>

Event types you can use:
{listed}

After all events, give your implementation inside <code>...</code>.
"""
