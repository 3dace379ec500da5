"""The ``guardrails`` stage: scan prompts and predictions for injection attempts and PII.

It reads an evaluate stage's samples and runs the rule-based detectors of
:mod:`crucible.pipeline.analysis.guardrails` over each row's ``prompt`` and ``prediction``
(option ``fields``). Unset options come from ``experiment.reliability.guardrails``
(``prompt_injection_detection``, ``jailbreak_detection``, ``pii_detection``,
``pii_redaction``, ``fail_on_detection``, and the strictest of its ``profiles`` for the
injection threshold), else everything on with the ``default`` profile.

Severity: with ``fail_on_detection`` every detection is an ``error`` finding; otherwise
injection attempts and PII in predictions (a leak) are ``warning`` and PII in prompts
(user data the model was given) is ``info``.

Writes ``stages/<name>/detections.jsonl`` (one row per scanned text with a detection: model,
index, field, injection score and rules, PII counts per kind) and, with redaction on,
``stages/<name>/samples.jsonl``: the input rows with PII replaced by typed placeholders
(``[EMAIL]``...), in the contract's row shape, for later stages to use instead.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

import msgspec

from crucible.errors import ErrorItem
from crucible.ir.reliability import Guardrail
from crucible.pipeline.analysis.findings import Severity, finding
from crucible.pipeline.analysis.guardrails import (
    PII_KINDS,
    PROFILE_THRESHOLDS,
    find_pii,
    redact,
    score_injection,
)
from crucible.pipeline.analysis.samples import (
    SampleRow,
    raise_errors,
    read_samples,
    samples_file,
    source_errors,
    write_samples,
)
from crucible.pipeline.stage import StageContext, StageResult

__all__ = ["GuardrailStage"]

Field = Literal["prompt", "prediction"]
Profile = Literal["default", "strict", "moderate", "permissive"]
PiiKind = Literal["email", "phone", "credit_card", "iban", "ssn", "ipv4", "ipv6"]
MAX_IDS_PER_FINDING = 20


class GuardrailOptions(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    from_stage: str | None = None
    models: Annotated[list[str], msgspec.Meta(min_length=1)] | None = None
    fields: Annotated[list[Field], msgspec.Meta(min_length=1)] = msgspec.field(
        default_factory=lambda: ["prompt", "prediction"]
    )
    profile: Profile | None = None
    prompt_injection: bool | None = None
    jailbreak: bool | None = None
    pii: bool | None = None
    redact: bool | None = None
    pii_types: Annotated[list[PiiKind], msgspec.Meta(min_length=1)] | None = None
    injection_threshold: Annotated[float, msgspec.Meta(gt=0.0, le=1.0)] | None = None
    fail_on_detection: bool | None = None


class _Settings(msgspec.Struct, frozen=True, kw_only=True):
    injection: bool
    jailbreak: bool
    pii: bool
    redact: bool
    threshold: float
    fail: bool
    kinds: tuple[str, ...]


class GuardrailStage:
    """Injection and PII scanning (see the module docstring)."""

    name: ClassVar[str] = "guardrails"
    Options: ClassVar[type[msgspec.Struct]] = GuardrailOptions

    def __init__(self, options: GuardrailOptions) -> None:
        self.options = options

    def check(self, ctx: StageContext) -> list[ErrorItem]:
        errors = source_errors(ctx, self.options.from_stage)
        settings = self._settings(ctx)
        if not (settings.injection or settings.pii):
            errors.append(
                ErrorItem(
                    f"{ctx.pointer}/options",
                    "nothing_to_do",
                    "both prompt_injection and pii detection are off",
                )
            )
        return errors

    def _settings(self, ctx: StageContext) -> _Settings:
        opts = self.options
        reliability = ctx.experiment.reliability
        config: Guardrail | None = reliability.guardrails if reliability is not None else None

        def pick(own: bool | None, configured: str) -> bool:
            if own is not None:
                return own
            value = getattr(config, configured, None)
            return True if value is None else bool(value)

        if opts.profile is not None:
            profiles = [opts.profile]
        elif config is not None:
            profiles = [p.value for p in config.profiles]
        else:
            profiles = ["default"]
        threshold = opts.injection_threshold or min(PROFILE_THRESHOLDS[p] for p in profiles)
        fail = opts.fail_on_detection
        if fail is None:
            fail = bool(config.fail_on_detection) if config is not None else False
        return _Settings(
            injection=pick(opts.prompt_injection, "prompt_injection_detection"),
            jailbreak=pick(opts.jailbreak, "jailbreak_detection"),
            pii=pick(opts.pii, "pii_detection"),
            redact=pick(opts.redact, "pii_redaction"),
            threshold=threshold,
            fail=fail,
            kinds=tuple(opts.pii_types or PII_KINDS),
        )

    def run(self, ctx: StageContext) -> StageResult:
        raise_errors(self.check(ctx), ctx)
        settings = self._settings(ctx)
        rows = read_samples(samples_file(ctx, self.options.from_stage))
        if self.options.models is not None:
            rows = [r for r in rows if r.model in self.options.models]
        ctx.tracer.record(
            "pattern_applied",
            f"scan {len(rows)} rows' {list(self.options.fields)} with rule-based detectors",
            f"injection {settings.injection} (threshold {settings.threshold}, jailbreak "
            f"{settings.jailbreak}), PII {settings.pii} {list(settings.kinds)}, "
            f"redact {settings.redact}",
        )
        scan = _Scan(settings, self.options.fields)
        redacted = [scan.row(row) for row in rows]
        ctx.report_progress(len(rows), len(rows))
        for field in self.options.fields:
            flagged = scan.injection_ids[field]
            if flagged:
                ctx.tracer.record(
                    "ambiguity_flagged",
                    f"{len(flagged)} {field}s look like prompt injection",
                    f"score >= {settings.threshold}; first: {flagged[:3]}",
                )
        files: list[str] = []
        detections = ctx.stage_dir / "detections.jsonl"
        detections.write_bytes(b"".join(msgspec.json.encode(d) + b"\n" for d in scan.detections))
        files.append(detections.relative_to(ctx.run_dir).as_posix())
        outputs: dict[str, Any] = {"findings": scan.findings(), "detections": files[0]}
        if settings.redact and settings.pii:
            path = write_samples(ctx.stage_dir / "samples.jsonl", redacted)
            files.append(path.relative_to(ctx.run_dir).as_posix())
            outputs["samples"] = files[-1]
            outputs["models"] = list(dict.fromkeys(r.model for r in rows))
        metrics = scan.metrics(len(rows))
        flags = sum(len(v) for v in scan.injection_ids.values())
        pii = sum(sum(counts.values()) for counts in scan.pii_counts.values())
        ctx.tracer.record(
            "metric_recorded",
            f"{len(scan.detections)} texts with detections in {len(rows)} rows",
            f"{flags} injection flags, {pii} PII matches",
        )
        return StageResult(metrics=metrics, outputs=outputs, files=files)


class _Scan:
    """Running tallies over the rows of one stage run."""

    def __init__(self, settings: _Settings, fields: list[Field]) -> None:
        self.settings = settings
        self.fields: list[Field] = list(dict.fromkeys(fields))
        self.injection_ids: dict[str, list[str]] = {f: [] for f in self.fields}
        self.max_score: dict[str, float] = dict.fromkeys(self.fields, 0.0)
        self.pii_counts: dict[str, dict[str, int]] = {f: {} for f in self.fields}
        self.pii_rows: dict[str, int] = dict.fromkeys(self.fields, 0)
        self.detections: list[dict[str, Any]] = []

    def row(self, row: SampleRow) -> SampleRow:
        texts = {"prompt": row.prompt, "prediction": row.prediction}
        for field in self.fields:
            texts[field] = self._text(row, field, texts[field])
        return msgspec.structs.replace(row, prompt=texts["prompt"], prediction=texts["prediction"])

    def _text(self, row: SampleRow, field: Field, text: str) -> str:
        s = self.settings
        record: dict[str, Any] = {
            "model": row.model,
            "index": row.index,
            "id": row.id,
            "field": field,
        }
        if s.injection:
            result = score_injection(text, threshold=s.threshold, jailbreak=s.jailbreak)
            self.max_score[field] = max(self.max_score[field], result.score)
            if result.flagged:
                self.injection_ids[field].append(row.id or str(row.index))
                record["injection_score"] = result.score
                record["injection_rules"] = result.matches
        matches = find_pii(text, s.kinds) if s.pii else []
        if matches:
            self.pii_rows[field] += 1
            counts: dict[str, int] = {}
            for match in matches:
                counts[match.kind] = counts.get(match.kind, 0) + 1
                self.pii_counts[field][match.kind] = self.pii_counts[field].get(match.kind, 0) + 1
            record["pii"] = counts
        if len(record) > 4:
            self.detections.append(record)
        return redact(text, matches) if matches and s.redact else text

    def _severity(self, normal: Severity) -> Severity:
        return "error" if self.settings.fail else normal

    def findings(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for field in self.fields:
            ids = self.injection_ids[field]
            if ids:
                found.append(
                    finding(
                        "prompt_injection",
                        self._severity("warning"),
                        f"{len(ids)} {field}s scored as prompt injection "
                        f"(max score {self.max_score[field]:.2f})",
                        field=field,
                        count=len(ids),
                        ids=ids[:MAX_IDS_PER_FINDING],
                    )
                )
            for kind, count in sorted(self.pii_counts[field].items()):
                found.append(
                    finding(
                        "pii",
                        self._severity("warning" if field == "prediction" else "info"),
                        f"{count} {kind} match(es) in {field}s"
                        + (" (redacted)" if self.settings.redact else ""),
                        field=field,
                        pii_type=kind,
                        count=count,
                    )
                )
        if not found:
            found.append(finding("guardrails", "info", "no injection attempt or PII detected"))
        return found

    def metrics(self, rows: int) -> dict[str, float]:
        metrics: dict[str, float] = {"rows_scanned": float(rows)}
        for field in self.fields:
            flagged = len(self.injection_ids[field])
            metrics[f"injection/{field}/flagged"] = float(flagged)
            metrics[f"injection/{field}/rate"] = flagged / rows if rows else 0.0
            metrics[f"injection/{field}/max_score"] = self.max_score[field]
            metrics[f"pii/{field}/rate"] = self.pii_rows[field] / rows if rows else 0.0
            for kind in self.settings.kinds:
                metrics[f"pii/{field}/{kind}"] = float(self.pii_counts[field].get(kind, 0))
        return metrics
