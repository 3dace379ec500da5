"""The batch runner on a real (briefly trained) NumPy LM: records, journal, resume after a
crash with a torn last line, seeded sampling, progress; and the generation evaluator."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from crucible.errors import ConfigurationError, SerializationError
from crucible.train import SupervisedConfig, train
from crucible.train.adapters.numpy_lm import NumpyLMTrainingClient
from crucible.train.evaluation import (
    BatchRunner,
    EvalItem,
    GenerationConfig,
    GenerationEvaluator,
    SampleJournal,
    build_scorers,
    read_eval_items,
    select_items,
    summarize_records,
)
from crucible.train.evaluation.scoring import Candidate, ExactMatch
from crucible.train.ports import SamplingClient
from crucible.train.renderers import Renderer, get_renderer
from crucible.train.tasks import get_task
from crucible.train.types import ModelInput, SampleResponse, SamplingParams

CONTRACT_KEYS = ["model", "index", "id", "prompt", "reference", "prediction", "scores", "group"]


def write_addition_set(path: Path, count: int = 40) -> Path:
    rows = [
        {
            "id": f"add-{i}",
            "prompt": p.question,
            "completion": p.answer,
            "metadata": {"carry": int(p.answer) >= 10},
        }
        for i, p in enumerate(get_task("addition").problems(count, 0))
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[NumpyLMTrainingClient, Path]:
    root = tmp_path_factory.mktemp("eval_runner")
    data = write_addition_set(root / "addition.jsonl")
    cfg = SupervisedConfig(
        log_path=str(root / "run"),
        dataset=str(data),
        model="numpy-lm-tiny",
        num_epochs=30,
        batch_size=8,
        learning_rate=0.01,
        val_fraction=0.0,
        eval_every=0,
        loggers=[],
    )
    client = train(cfg).client
    assert isinstance(client, NumpyLMTrainingClient)
    return client, data


@pytest.fixture
def items(trained: tuple[NumpyLMTrainingClient, Path]) -> list[EvalItem]:
    return read_eval_items(str(trained[1]))


@pytest.fixture
def renderer(trained: tuple[NumpyLMTrainingClient, Path]) -> Renderer:
    return get_renderer("role_colon", trained[0].get_tokenizer())


class CountingSampler:
    """Passes calls through to a real sampler and counts them."""

    def __init__(self, inner: SamplingClient) -> None:
        self.inner = inner
        self.calls = 0

    def sample(
        self,
        prompt: ModelInput,
        num_samples: int = 1,
        sampling_params: SamplingParams | None = None,
        *,
        include_prompt_logprobs: bool = False,
    ) -> SampleResponse:
        self.calls += 1
        return self.inner.sample(prompt, num_samples, sampling_params)

    def compute_logprobs(self, prompt: ModelInput) -> list[float | None]:
        return self.inner.compute_logprobs(prompt)


class CrashingScorer(ExactMatch):
    """Exact match that fails on its ``fail_on``-th batch: a run killed mid-way."""

    def __init__(self, fail_on: int) -> None:
        self.batches = 0
        self.fail_on = fail_on

    def score_batch(self, candidates: Sequence[Candidate]) -> list[float]:
        self.batches += 1
        if self.batches == self.fail_on:
            raise KeyboardInterrupt
        return super().score_batch(candidates)


def test_records_follow_the_contract_and_training_shows(
    trained: tuple[NumpyLMTrainingClient, Path],
    items: list[EvalItem],
    renderer: Renderer,
    tmp_path: Path,
) -> None:
    client, _ = trained
    scorers = build_scorers(["exact_match", "normalized", "f1", "perplexity"])
    runner = BatchRunner(renderer, scorers, chunk_size=16)
    out = tmp_path / "samples.jsonl"
    records = runner.run(
        client.save_weights_and_get_sampling_client(), items, model="sft", journal=out
    )
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(lines) == len(records) == 40
    assert all(list(row) == CONTRACT_KEYS for row in lines)
    assert lines[3]["id"] == "add-3"
    assert lines[3]["index"] == 3
    assert lines[3]["group"]["carry"] in ("True", "False")
    assert lines[3]["prompt"].startswith("User: ")
    assert lines[3]["prompt"].endswith("Assistant:")
    # The recorded prediction is what greedy decoding of the prompt gives.
    prompt = renderer.build_generation_prompt(items[3].prompt)
    params = SamplingParams(max_tokens=64, temperature=0.0, stop=[*renderer.stop_sequences()])
    tokens = client.save_weights_and_get_sampling_client().sample(prompt, 1, params)
    assert renderer.parse_response(tokens.sequences[0].tokens)[0].content == records[3].prediction

    fresh = NumpyLMTrainingClient(client.config, client.get_tokenizer())
    before = runner.run(fresh.save_weights_and_get_sampling_client(), items, model="init")
    summary = summarize_records([*before, *records]).models
    assert summary["init"]["exact_match"].mean == 0.0
    assert summary["sft"]["exact_match"].mean > 0.15
    assert summary["sft"]["perplexity"].mean < summary["init"]["perplexity"].mean / 10


@pytest.mark.parametrize("temperature", [0.0, 1.0])
def test_resume_after_a_crash_and_a_torn_line_gives_the_same_file(
    trained: tuple[NumpyLMTrainingClient, Path],
    items: list[EvalItem],
    renderer: Renderer,
    tmp_path: Path,
    temperature: float,
) -> None:
    client, _ = trained
    config = GenerationConfig(max_tokens=8, temperature=temperature, seed=3)
    full = tmp_path / "full.jsonl"
    BatchRunner(renderer, [ExactMatch()], config=config, chunk_size=8).run(
        client.save_weights_and_get_sampling_client(), items, model="m", journal=full
    )

    part = tmp_path / "part.jsonl"
    crashing = BatchRunner(renderer, [CrashingScorer(fail_on=3)], config=config, chunk_size=8)
    with pytest.raises(KeyboardInterrupt):
        crashing.run(client.save_weights_and_get_sampling_client(), items, model="m", journal=part)
    assert len(part.read_text().splitlines()) == 16  # two whole chunks made it to disk
    with part.open("ab") as f:
        f.write(full.read_bytes().splitlines(keepends=True)[16][:25])  # a torn write

    sampler = CountingSampler(client.save_weights_and_get_sampling_client())
    journal = SampleJournal(part)
    resumed = BatchRunner(renderer, [ExactMatch()], config=config, chunk_size=8)
    records = resumed.run(sampler, items, model="m", journal=journal)
    assert journal.repaired_bytes == 25
    assert sampler.calls == 24  # only the samples not on disk were generated
    assert part.read_bytes() == full.read_bytes()
    assert [r.index for r in records] == list(range(40))


def test_sampled_answers_depend_only_on_the_seed(
    trained: tuple[NumpyLMTrainingClient, Path], items: list[EvalItem], renderer: Renderer
) -> None:
    client, _ = trained

    def predictions(seed: int, chunk_size: int) -> list[str]:
        config = GenerationConfig(max_tokens=6, temperature=1.5, seed=seed)
        runner = BatchRunner(renderer, [ExactMatch()], config=config, chunk_size=chunk_size)
        return [
            r.prediction
            for r in runner.run(client.save_weights_and_get_sampling_client(), items, model="m")
        ]

    assert predictions(1, 5) == predictions(1, 40)
    assert predictions(1, 5) != predictions(2, 5)


def test_bad_journals_are_reported(
    trained: tuple[NumpyLMTrainingClient, Path],
    items: list[EvalItem],
    renderer: Renderer,
    tmp_path: Path,
) -> None:
    sampler = trained[0].save_weights_and_get_sampling_client()
    path = tmp_path / "s.jsonl"
    runner = BatchRunner(renderer, [ExactMatch()], config=GenerationConfig(max_tokens=4))
    runner.run(sampler, items[:4], model="m", journal=path)
    with pytest.raises(ConfigurationError, match="does not match the data set"):
        runner.run(sampler, items[1:5], model="m", journal=path)
    other = BatchRunner(renderer, build_scorers(["f1"]), config=GenerationConfig(max_tokens=4))
    with pytest.raises(ConfigurationError, match="scored with"):
        other.run(sampler, items[:4], model="m", journal=path)
    lines = path.read_text().splitlines(keepends=True)
    path.write_text(lines[0] + "{not json}\n" + "".join(lines[1:]))
    with pytest.raises(SerializationError, match=":2:"):
        runner.run(sampler, items[:4], model="m", journal=path)


def test_progress_bar_and_callback(
    trained: tuple[NumpyLMTrainingClient, Path], items: list[EvalItem], renderer: Renderer
) -> None:
    seen: list[tuple[int, int]] = []
    runner = BatchRunner(
        renderer,
        [ExactMatch()],
        config=GenerationConfig(max_tokens=4),
        chunk_size=7,
        progress=True,
        on_progress=lambda done, total: seen.append((done, total)),
    )
    runner.run(trained[0].save_weights_and_get_sampling_client(), items[:20], model="m")
    assert seen == [(0, 20), (7, 20), (14, 20), (20, 20)]


def test_generation_evaluator_reports_scorer_means(
    trained: tuple[NumpyLMTrainingClient, Path], items: list[EvalItem], renderer: Renderer
) -> None:
    sampler = trained[0].save_weights_and_get_sampling_client()
    scorers = build_scorers(["exact_match", "f1"])
    evaluator = GenerationEvaluator(items, renderer, scorers, prefix="gen")
    metrics = evaluator(sampler)
    records = BatchRunner(renderer, scorers).run(sampler, items, model="x")
    expected: dict[str, Any] = summarize_records(records).models["x"]
    assert metrics == {
        "gen/exact_match": pytest.approx(expected["exact_match"].mean),
        "gen/f1": pytest.approx(expected["f1"].mean),
    }
    assert evaluator(sampler) == metrics  # same weights, same numbers


def test_select_items_takes_the_supervised_split(items: list[EvalItem]) -> None:
    val = select_items(items, split="val", val_fraction=0.25, seed=0)
    train_part = select_items(items, split="train", val_fraction=0.25, seed=0)
    assert len(val) == 10
    assert len(train_part) == 30
    assert {i.id for i in val}.isdisjoint(i.id for i in train_part)
    assert len(select_items(items, limit=5)) == 5
