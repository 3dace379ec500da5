"""The batch runner: generate an answer for every item, score it, persist it, resume.

Items go through in chunks: each item's prompt is rendered and sampled, the chunk is scored
at once (scorers may batch, e.g. one embedding call), and the chunk's records are appended
to the journal before the next chunk starts. On a rerun the journal's records for this model
are read back and their items skipped, so an interrupted evaluation continues where it
stopped and ends with the same records it would have had uninterrupted.

That needs sampling to be a pure function of (seed, item): every item is sampled with its
own seed, derived from the run's seed and the item's index, never from a shared stream whose
position depends on how much was done before the interruption. Greedy decoding
(temperature 0) is the default; the seed matters only when sampling.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import msgspec

from crucible import prng
from crucible.errors import ConfigurationError, InvalidArgumentError
from crucible.train.evaluation.items import EvalItem
from crucible.train.evaluation.records import SampleJournal, SampleRecord
from crucible.train.evaluation.scoring.base import Candidate, Scorer
from crucible.train.ports.sampling import SamplingClient
from crucible.train.renderers.base import Renderer, TrainOnWhat
from crucible.train.renderers.messages import Message, text_content
from crucible.train.types import ModelInput, SamplingParams

__all__ = ["BatchRunner", "GenerationConfig", "item_seed"]

ProgressCallback = Callable[[int, int], None]


class GenerationConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How answers are sampled: greedy by default; ``seed`` fixes sampled answers."""

    max_tokens: int = 64
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.max_tokens < 1:
            raise InvalidArgumentError(f"max_tokens must be >= 1, not {self.max_tokens}")
        if self.temperature < 0:
            raise InvalidArgumentError(f"temperature must be >= 0, not {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise InvalidArgumentError(f"top_p must be in (0, 1], not {self.top_p}")


def item_seed(seed: int, index: int) -> int:
    """The sampling seed of item ``index``: independent of every other item's."""
    return int(prng.default_rng([seed & 0xFFFFFFFFFFFFFFFF, index, 0xE7A1]).integers(2**63))


class BatchRunner:
    """Evaluates items with a renderer and scorers (see the module docstring)."""

    def __init__(
        self,
        renderer: Renderer,
        scorers: Sequence[Scorer],
        *,
        config: GenerationConfig | None = None,
        chunk_size: int = 32,
        progress: bool = False,
        on_progress: ProgressCallback | None = None,
    ) -> None:
        if chunk_size < 1:
            raise InvalidArgumentError(f"chunk_size must be >= 1, not {chunk_size}")
        if not scorers:
            raise InvalidArgumentError("give at least one scorer")
        self.renderer = renderer
        self.scorers = list(scorers)
        self.config = config or GenerationConfig()
        self.chunk_size = chunk_size
        self.progress = progress
        self.on_progress = on_progress
        self._stop: list[int | str] = [*renderer.stop_sequences()]

    def run(
        self,
        sampler: SamplingClient,
        items: Sequence[EvalItem],
        *,
        model: str,
        journal: SampleJournal | Path | None = None,
    ) -> list[SampleRecord]:
        """A record per item, in item order: earlier ones from the journal, the rest
        evaluated now and appended to it."""
        store = SampleJournal(journal) if isinstance(journal, Path) else journal
        done = self._resumed(store, items, model) if store is not None else {}
        todo = [i for i in range(len(items)) if i not in done]
        with self._bar(model, len(items), len(done)) as advance:
            for start in range(0, len(todo), self.chunk_size):
                chunk = todo[start : start + self.chunk_size]
                records = self._evaluate(sampler, items, chunk, model)
                if store is not None:
                    store.append(records)
                done.update((r.index, r) for r in records)
                advance(len(chunk), len(done))
        return [done[i] for i in range(len(items))]

    # --- pieces ---------------------------------------------------------------------------

    def _resumed(
        self, store: SampleJournal, items: Sequence[EvalItem], model: str
    ) -> dict[int, SampleRecord]:
        wanted = {s.name for s in self.scorers}
        done: dict[int, SampleRecord] = {}
        for record in store.load():
            if record.model != model:
                continue
            if not 0 <= record.index < len(items) or items[record.index].id != record.id:
                raise ConfigurationError(
                    f"{store.path}: sample {record.index} ({record.id!r}) of {model!r} does not "
                    "match the data set being evaluated; use a fresh output file"
                )
            if set(record.scores) != wanted:
                raise ConfigurationError(
                    f"{store.path}: sample {record.index} of {model!r} was scored with "
                    f"{sorted(record.scores)}, not {sorted(wanted)}; use a fresh output file"
                )
            done[record.index] = record
        return done

    def _evaluate(
        self, sampler: SamplingClient, items: Sequence[EvalItem], chunk: list[int], model: str
    ) -> list[SampleRecord]:
        need_logprobs = any(s.needs_logprobs for s in self.scorers)
        candidates, prompts = [], []
        for index in chunk:
            item = items[index]
            prompt = self.renderer.build_generation_prompt(item.prompt)
            prompts.append(self.renderer.tokenizer.decode(prompt.to_ints()))
            candidates.append(
                Candidate(
                    prediction=self._generate(sampler, prompt, index),
                    reference=item.reference,
                    prompt=prompts[-1],
                    reference_logprobs=self._reference_logprobs(sampler, item)
                    if need_logprobs
                    else None,
                )
            )
        columns = {s.name: self._scored(s, candidates) for s in self.scorers}
        return [
            SampleRecord(
                model=model,
                index=index,
                id=items[index].id,
                prompt=prompts[k],
                reference=items[index].reference,
                prediction=candidates[k].prediction,
                scores={name: values[k] for name, values in columns.items()},
                group=dict(items[index].group),
            )
            for k, index in enumerate(chunk)
        ]

    def _generate(self, sampler: SamplingClient, prompt: ModelInput, index: int) -> str:
        cfg = self.config
        params = SamplingParams(
            max_tokens=cfg.max_tokens,
            temperature=cfg.temperature,
            top_p=cfg.top_p,
            stop=self._stop,
            seed=item_seed(cfg.seed, index),
        )
        tokens = sampler.sample(prompt, 1, params).sequences[0].tokens
        message, _ = self.renderer.parse_response(tokens)
        return text_content(message)

    def _reference_logprobs(self, sampler: SamplingClient, item: EvalItem) -> tuple[float, ...]:
        """Logprobs of the tokens the renderer would train on in the reference answer."""
        answer = Message(role="assistant", content=item.reference)
        tokens, weights = self.renderer.build_supervised_example(
            [*item.prompt, answer], TrainOnWhat.LAST_ASSISTANT_MESSAGE
        )
        logprobs = sampler.compute_logprobs(tokens)
        return tuple(
            float(lp) for lp, w in zip(logprobs, weights, strict=True) if w > 0 and lp is not None
        )

    @staticmethod
    def _scored(scorer: Scorer, candidates: list[Candidate]) -> list[float]:
        values = scorer.score_batch(candidates)
        if len(values) != len(candidates):
            raise InvalidArgumentError(
                f"scorer {scorer.name!r} gave {len(values)} scores for {len(candidates)} samples"
            )
        out = [float(v) for v in values]
        if not all(math.isfinite(v) for v in out):
            raise InvalidArgumentError(f"scorer {scorer.name!r} gave a non-finite score")
        return out

    @contextmanager
    def _bar(self, model: str, total: int, done: int) -> Iterator[Callable[[int, int], None]]:
        callback = self.on_progress
        if callback is not None:
            callback(done, total)
        if not self.progress:
            yield lambda step, now: callback(now, total) if callback is not None else None
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        columns = (TextColumn("eval {task.description}"), BarColumn(), MofNCompleteColumn())
        with Progress(*columns, transient=True) as bar:
            task = bar.add_task(model, total=total, completed=done)

            def advance(step: int, now: int) -> None:
                bar.advance(task, step)
                if callback is not None:
                    callback(now, total)

            yield advance
