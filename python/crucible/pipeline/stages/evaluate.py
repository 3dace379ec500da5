"""The ``evaluate`` stage: answer a data set with one or more models and score every answer.

Each model source (``"init"`` for the untrained baseline, or an earlier training stage's
name) answers the same items; every (model, item) becomes one row of
``stages/<name>/samples.jsonl`` in the contract's shape, appended chunk by chunk, so a
killed stage resumes where it stopped (the batch runner skips rows already on disk and
rewrites a torn last line). Metrics are each model's mean per scorer with a bootstrap
interval, ``"<model>/<scorer>"``, ``"..._ci_low"`` and ``"..._ci_high"``.

Defaults worth knowing:

* ``models``: the last earlier stage whose result has a ``model_dir``; ``["init"]`` when
  there is none.
* ``dataset``: ``bundled:NAME``, a ``.jsonl``/``.parquet`` path, ``task:NAME`` for a
  bundled verifiable task: ``limit`` problems (100 by default) of ``data_seed``'s stream
  starting at ``task_offset``, by default far past the problems an RL stage trains on
  (``split`` does not apply to tasks), or the name of an earlier ``dataset`` stage, whose
  split files are used as they are (``split`` ``"train"``, ``"val"``, ``"test"``, or
  ``"all"`` for the three in that order): the same held-out rows the training stages left
  out.
* ``split="val"`` on a file or bundled set takes the supervised loop's validation split
  (same ``val_fraction``); ``data_seed`` defaults to the seed saved with the first stage
  model evaluated (the seed its training stage ran with), else the run's seed, so "val"
  means held-out data. ``"test"`` exists only in a ``dataset`` stage's splits.
* ``"init"`` is built from ``init_spec``, else from the spec of the first stage model
  evaluated and with its seed: the weights that model started training from.
* ``embedder`` (``"pkg.mod:factory"``, called with no arguments) supplies the
  :class:`~crucible.train.ports.EmbeddingClient` the ``semantic_similarity`` scorer needs.
"""

from __future__ import annotations

import importlib
from collections import Counter
from pathlib import Path
from typing import Annotated, ClassVar, Literal

import msgspec

from crucible.errors import (
    ConfigurationError,
    ErrorItem,
    InvalidArgumentError,
    NotFoundError,
    SerializationError,
)
from crucible.pipeline.models import (
    INIT,
    MODEL_FILE,
    ModelSpec,
    model_dir_of,
    renderer_for,
    resolve_model,
)
from crucible.pipeline.stage import StageContext, StageResult
from crucible.pipeline.stages.dataset import split_files
from crucible.train.data import BUNDLED
from crucible.train.evaluation.aggregate import summarize_records
from crucible.train.evaluation.items import EvalItem, read_eval_items, select_items, task_items
from crucible.train.evaluation.records import SampleJournal, SampleRecord
from crucible.train.evaluation.runner import BatchRunner, GenerationConfig
from crucible.train.evaluation.scoring import SCORER_NAMES, Scorer, build_scorers
from crucible.train.ports.retrieval import EmbeddingClient
from crucible.train.tokenizers import Tokenizer

__all__ = ["EvaluateOptions", "EvaluateStage"]

SAMPLES_FILE = "samples.jsonl"
TASK_PREFIX = "task:"
DEFAULT_TASK_COUNT = 100
HELD_OUT_TASK_OFFSET = 1_000_000
_NEEDS_EMBEDDER = "semantic_similarity"


class EvaluateOptions(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    models: list[str] | None = None
    dataset: str = "bundled:conversations"
    split: Literal["all", "train", "val", "test"] = "val"
    val_fraction: Annotated[float, msgspec.Meta(ge=0.0, lt=1.0)] = 0.1
    data_seed: int | None = None
    task_offset: Annotated[int, msgspec.Meta(ge=0)] = HELD_OUT_TASK_OFFSET
    limit: Annotated[int, msgspec.Meta(ge=1)] | None = None
    scorers: list[str] = msgspec.field(default_factory=lambda: ["exact_match", "normalized", "f1"])
    max_tokens: Annotated[int, msgspec.Meta(ge=1)] = 48
    temperature: Annotated[float, msgspec.Meta(ge=0.0)] = 0.0
    top_p: Annotated[float, msgspec.Meta(gt=0.0, le=1.0)] = 1.0
    confidence: Annotated[float, msgspec.Meta(gt=0.0, lt=1.0)] = 0.95
    n_resamples: Annotated[int, msgspec.Meta(ge=1)] = 2000
    chunk_size: Annotated[int, msgspec.Meta(ge=1)] = 32
    init_spec: ModelSpec | None = None
    embedder: str | None = None


class _SavedMeta(msgspec.Struct, frozen=True):
    """What ``model.json`` says about a saved model: its spec and the seed it was built
    with (the seed of the stage that trained it)."""

    spec: ModelSpec
    seed: int


def _saved_meta(model_dir: Path) -> _SavedMeta:
    path = model_dir / MODEL_FILE
    try:
        return msgspec.json.decode(path.read_bytes(), type=_SavedMeta)
    except OSError:
        raise NotFoundError(f"no saved model in {model_dir} (missing {MODEL_FILE})") from None
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise SerializationError(f"{path}: {exc}") from None


def _load_embedder(target: str) -> EmbeddingClient:
    module_name, _, attr = target.partition(":")
    if not module_name or not attr:
        raise ConfigurationError(f"embedder {target!r} must look like 'pkg.module:factory'")
    try:
        factory = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ConfigurationError(f"cannot load embedder {target!r}: {exc}") from None
    embedder = factory()
    if not isinstance(embedder, EmbeddingClient):
        raise ConfigurationError(f"embedder {target!r} did not build an EmbeddingClient")
    return embedder


class EvaluateStage:
    name: ClassVar[str] = "evaluate"
    Options: ClassVar[type[msgspec.Struct]] = EvaluateOptions

    def __init__(self, options: EvaluateOptions) -> None:
        self.options = options

    # --- dry run ---------------------------------------------------------------------------

    def check(self, ctx: StageContext) -> list[ErrorItem]:
        opts, where = self.options, f"{ctx.pointer}/options"
        errors: list[ErrorItem] = []
        earlier = {s.name for s in ctx.experiment.pipeline[: ctx.index] if s.enabled}
        for i, source in enumerate(opts.models or []):
            if source != INIT and source not in earlier and source not in ctx.results:
                message = f"model source {source!r} is neither 'init' nor an earlier stage"
                errors.append(ErrorItem(f"{where}/models/{i}", "unknown_source", message))
        if opts.models is not None and len(set(opts.models)) != len(opts.models):
            errors.append(ErrorItem(f"{where}/models", "duplicate", "a model is listed twice"))
        if not opts.scorers:
            errors.append(ErrorItem(f"{where}/scorers", "empty", "give at least one scorer"))
        for i, scorer in enumerate(opts.scorers):
            if scorer not in SCORER_NAMES:
                message = f"unknown scorer {scorer!r}; known: {', '.join(SCORER_NAMES)}"
                errors.append(ErrorItem(f"{where}/scorers/{i}", "unknown_scorer", message))
            elif scorer == _NEEDS_EMBEDDER and opts.embedder is None:
                message = f"{scorer} needs options.embedder ('pkg.module:factory')"
                errors.append(ErrorItem(f"{where}/scorers/{i}", "needs_embedder", message))
        if len(set(opts.scorers)) != len(opts.scorers):
            errors.append(ErrorItem(f"{where}/scorers", "duplicate", "a scorer is listed twice"))
        problem = self._dataset_problem(earlier)
        if problem is not None:
            errors.append(ErrorItem(f"{where}/dataset", "dataset", problem))
        if opts.split == "test" and opts.dataset not in earlier:
            message = "split 'test' needs `dataset` to name an earlier dataset stage"
            errors.append(ErrorItem(f"{where}/split", "split", message))
        return errors

    def _dataset_problem(self, earlier: set[str]) -> str | None:
        dataset = self.options.dataset
        if dataset in earlier:
            return None
        if dataset.startswith(TASK_PREFIX):
            try:
                from crucible.train.tasks import TASKS
            except ImportError:  # pragma: no cover - the tasks package is optional
                return "task data sets need crucible.train.tasks"
            name = dataset.removeprefix(TASK_PREFIX)
            return None if name in TASKS else f"unknown task {name!r}; known: {sorted(TASKS)}"
        if dataset.startswith("bundled:"):
            name = dataset.removeprefix("bundled:")
            return None if name in BUNDLED else f"no bundled data set {name!r}"
        return None if Path(dataset).is_file() else f"no data set file at {dataset}"

    # --- run -------------------------------------------------------------------------------

    def run(self, ctx: StageContext) -> StageResult:
        opts = self.options
        problems = self.check(ctx)
        if problems:
            raise InvalidArgumentError("; ".join(f"{e.path}: {e.message}" for e in problems))
        models = self._models(ctx)
        first = next((m for m in models if m != INIT), None)
        saved = _saved_meta(model_dir_of(first, ctx.results, ctx.run_dir)) if first else None
        seed = opts.data_seed if opts.data_seed is not None else (saved.seed if saved else ctx.seed)
        items = self._items(seed, ctx)
        scorers = build_scorers(
            opts.scorers, embedder=_load_embedder(opts.embedder) if opts.embedder else None
        )
        rel = f"stages/{ctx.stage.name}/{SAMPLES_FILE}"
        journal = SampleJournal(ctx.stage_dir / SAMPLES_FILE)
        on_disk = Counter(r.model for r in journal.load())
        total = len(models) * len(items)
        records: list[SampleRecord] = []
        for k, source in enumerate(models):
            if source == INIT:
                spec = opts.init_spec or (saved.spec if saved else ModelSpec())
                init_seed = saved.seed if saved and opts.init_spec is None else ctx.seed
                client, spec = resolve_model(INIT, spec, init_seed, ctx.results, ctx.run_dir)
            else:
                client, spec = resolve_model(
                    source, ModelSpec(), ctx.seed, ctx.results, ctx.run_dir
                )
            runner = self._runner(ctx, spec, client.get_tokenizer(), scorers, k * len(items), total)
            sampler = client.save_weights_and_get_sampling_client(source)
            rows = runner.run(sampler, items, model=source, journal=journal)
            records.extend(rows)
            self._trace(ctx, source, rows, scorers, resumed=on_disk[source])
        summary = summarize_records(
            records, confidence=opts.confidence, n_resamples=opts.n_resamples, seed=ctx.seed
        )
        return StageResult(
            metrics=summary.metrics(),
            outputs={
                "samples": rel,
                "models": models,
                "scorers": [s.name for s in scorers],
                "dataset": opts.dataset,
                "num_samples": len(items),
            },
            files=[rel],
        )

    def _models(self, ctx: StageContext) -> list[str]:
        """The sources to evaluate; each stage source must have produced a model."""
        if self.options.models is None:
            produced = [
                n for n, r in ctx.results.items() if isinstance(r.outputs.get("model_dir"), str)
            ]
            return [produced[-1]] if produced else [INIT]
        for source in self.options.models:
            if source != INIT:
                model_dir_of(source, ctx.results, ctx.run_dir)
        return list(self.options.models)

    def _items(self, seed: int, ctx: StageContext) -> list[EvalItem]:
        opts = self.options
        splits = split_files(ctx, opts.dataset)
        if splits is not None:
            wanted = list(splits) if opts.split == "all" else [opts.split]
            missing = [s for s in wanted if s not in splits]
            if missing:
                raise NotFoundError(f"stage {opts.dataset!r} made no {missing[0]!r} split")
            items = [item for s in wanted for item in read_eval_items(str(splits[s]))]
            return select_items(items, limit=opts.limit)
        if opts.split == "test":
            raise InvalidArgumentError("split 'test' needs an earlier dataset stage as dataset")
        if opts.dataset.startswith(TASK_PREFIX):
            name = opts.dataset.removeprefix(TASK_PREFIX)
            count = opts.limit or DEFAULT_TASK_COUNT
            return task_items(name, count, seed, offset=opts.task_offset)
        return select_items(
            read_eval_items(opts.dataset),
            split=opts.split,
            val_fraction=opts.val_fraction,
            seed=seed,
            limit=opts.limit,
        )

    def _runner(
        self,
        ctx: StageContext,
        spec: ModelSpec,
        tokenizer: Tokenizer,
        scorers: list[Scorer],
        offset: int,
        total: int,
    ) -> BatchRunner:
        opts = self.options
        config = GenerationConfig(
            max_tokens=opts.max_tokens,
            temperature=opts.temperature,
            top_p=opts.top_p,
            seed=ctx.seed,
        )
        return BatchRunner(
            renderer_for(spec, tokenizer),
            scorers,
            config=config,
            chunk_size=opts.chunk_size,
            on_progress=lambda done, _: ctx.report_progress(offset + done, total),
        )

    def _trace(
        self,
        ctx: StageContext,
        source: str,
        rows: list[SampleRecord],
        scorers: list[Scorer],
        *,
        resumed: int,
    ) -> None:
        means = {
            s.name: round(sum(r.scores[s.name] for r in rows) / len(rows), 12) if rows else 0.0
            for s in scorers
        }
        shown = ", ".join(f"{name} {value:.4g}" for name, value in means.items())
        decoding = "greedy" if self.options.temperature == 0 else f"T={self.options.temperature}"
        reasoning = f"{len(rows)} samples of {self.options.dataset}, {decoding} decoding: {shown}"
        if resumed:
            reasoning += f" ({resumed} read back from an interrupted run)"
        ctx.tracer.record(
            "validation_run",
            f"evaluated {source}",
            reasoning,
            metadata={"source": source, "samples": len(rows), "resumed": resumed, "means": means},
        )
