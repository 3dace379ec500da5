"""The NumPy LM backend: gradients against finite differences, AdamW against a reference,
losses, sampling, determinism, save/load and model info."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from crucible.errors import IntegrityError, InvalidArgumentError
from crucible.train.adapters import numpy_lm
from crucible.train.adapters.numpy_lm import NumpyLMConfig, NumpyLMTrainingClient
from crucible.train.ports import SamplingClient, SupportsModelInfo, TrainingClient
from crucible.train.tokenizers import ByteTokenizer
from crucible.train.types import AdamParams, Batch, Datum, ModelInput, SamplingParams

TOK = ByteTokenizer(["<eos>"])
LOSS_CONFIG = {"clip_low_threshold": 0.9, "clip_high_threshold": 1.1}


def tiny(dtype: str = "float64", seed: int = 3, **kw: Any) -> NumpyLMTrainingClient:
    fields = {"context": 3, "embed_dim": 4, "hidden": 6, "layers": 3} | kw
    return NumpyLMTrainingClient(
        NumpyLMConfig(vocab_size=TOK.vocab_size, dtype=dtype, seed=seed, **fields),  # type: ignore[arg-type]
        TOK,
    )


def rl_batch(rng: np.random.Generator) -> Batch:
    data = []
    for n in (5, 3, 6):
        toks = rng.integers(0, TOK.vocab_size, n + 1)
        data.append(
            Datum(
                model_input=ModelInput.from_ints(toks[:-1].tolist()),
                loss_fn_inputs={
                    "target_tokens": toks[1:],
                    "weights": rng.random(n).astype(np.float32) * (rng.random(n) > 0.3),
                    "advantages": rng.normal(size=n).astype(np.float32),
                    "logprobs": (rng.normal(size=n) * 0.2 - 5.6).astype(np.float32),
                },
            )
        )
    return Batch.from_data(data)


@pytest.mark.parametrize("loss_fn", ["cross_entropy", "importance_sampling", "ppo"])
def test_gradients_match_finite_differences(loss_fn: Any) -> None:
    client = tiny()
    batch = rl_batch(np.random.default_rng(7))
    client.forward_backward(batch, loss_fn, LOSS_CONFIG)
    analytic = client.grads.flat.copy()
    flat = client.params.flat
    # Every hidden-layer parameter, plus samples of the embedding, bag and output tables
    # (most of their entries belong to tokens the batch never uses).
    rng = np.random.default_rng(0)
    offsets = np.cumsum([0] + [v.size for v in client.params.views.values()])
    spans = dict(zip(client.params.views, itertools.pairwise(offsets), strict=True))
    inner = np.concatenate(
        [np.arange(a, b) for name, (a, b) in spans.items() if name[1:].isdigit()]
    )
    used = np.flatnonzero(analytic)
    bag_lo, bag_hi = spans["bag"]
    bag = used[(used >= bag_lo) & (used < bag_hi)]
    picks = [inner, rng.choice(used, 150), rng.choice(bag, 60), rng.choice(flat.size, 50)]
    check = np.unique(np.concatenate(picks))
    numeric = np.zeros(check.size)
    eps = 1e-6
    for j, i in enumerate(check):
        old = flat[i]
        flat[i] = old + eps
        up = client.forward(batch, loss_fn, LOSS_CONFIG).loss
        flat[i] = old - eps
        down = client.forward(batch, loss_fn, LOSS_CONFIG).loss
        flat[i] = old
        numeric[j] = (up - down) / (2 * eps)
    assert np.abs(analytic).max() > 1e-3
    np.testing.assert_allclose(analytic[check], numeric, rtol=1e-5, atol=1e-7)


def test_losses_by_hand() -> None:
    client = tiny()
    batch = rl_batch(np.random.default_rng(1))
    out = client.forward(batch, "cross_entropy")
    valid = np.arange(batch.inputs.shape[1]) < batch.lengths[:, None]
    lp = np.zeros_like(batch.weights, dtype=np.float64)
    for i, row in enumerate(out.loss_fn_outputs):
        lp[i, : row["logprobs"].size] = row["logprobs"]
    w = np.where(valid, batch.weights, 0)
    assert out.loss == pytest.approx(float(-(lp * w).sum()), rel=1e-6)
    adv, q = batch.extra["advantages"], batch.extra["logprobs"]
    ratio = np.exp(lp - q) * valid
    is_loss = client.forward(batch, "importance_sampling").loss
    assert is_loss == pytest.approx(float(-(ratio * adv).sum()), rel=1e-5)
    clipped = np.clip(ratio, 0.9, 1.1) * adv
    ppo = client.forward(batch, "ppo", LOSS_CONFIG).loss
    assert ppo == pytest.approx(float(-(np.minimum(ratio * adv, clipped) * valid).sum()), rel=1e-5)
    with pytest.raises(InvalidArgumentError, match="advantages"):
        client.forward(Batch.from_data([Datum.from_tokens([1, 2, 3], [1, 1, 1])]), "ppo")


def test_forward_backward_skips_only_zero_gradient_positions() -> None:
    client = tiny()
    batch = rl_batch(np.random.default_rng(2))
    full = client.forward(batch).loss_fn_outputs
    fb = client.forward_backward(batch).loss_fn_outputs
    for i, (a, b) in enumerate(zip(full, fb, strict=True)):
        weighted = batch.weights[i, : batch.lengths[i]] != 0
        np.testing.assert_allclose(a["logprobs"][weighted], b["logprobs"][weighted])
        assert not b["logprobs"][~weighted].any()


def test_adamw_matches_reference_and_clips() -> None:
    client = tiny(seed=5)
    batch = rl_batch(np.random.default_rng(3))
    p0 = client.params.flat.copy()
    m = np.zeros_like(p0)
    v = np.zeros_like(p0)
    mask = client.params.decay_mask()
    hp = AdamParams(
        learning_rate=0.01, beta1=0.8, beta2=0.9, eps=1e-6, weight_decay=0.1, grad_clip_norm=0.05
    )
    p = p0.copy()
    for t in range(1, 4):
        client.forward_backward(batch)
        g = client.grads.flat.copy()
        res = client.optim_step(hp)
        norm = np.linalg.norm(g)
        assert res.metrics["grad_norm"] == pytest.approx(norm)
        g = g * min(1.0, 0.05 / (norm + 1e-12))
        m = 0.8 * m + 0.2 * g
        v = 0.9 * v + 0.1 * g * g
        p = p - 0.01 * 0.1 * mask * p
        p = p - 0.01 / (1 - 0.8**t) * m / (np.sqrt(v / (1 - 0.9**t)) + 1e-6)
        np.testing.assert_allclose(client.params.flat, p, rtol=1e-10, atol=1e-12)
        assert not client.grads.flat.any()


def test_gradient_accumulation_sums() -> None:
    batch = rl_batch(np.random.default_rng(4))
    a, b = tiny(), tiny()
    a.forward_backward(batch)
    a.forward_backward(batch)
    b.forward_backward(batch)
    np.testing.assert_allclose(a.grads.flat, 2 * b.grads.flat)
    assert a.optim_step(AdamParams(learning_rate=0.1)).metrics["accumulated_calls"] == 2


def test_same_seed_same_model_and_run() -> None:
    batch = rl_batch(np.random.default_rng(5))
    runs = []
    for _ in range(2):
        client = tiny(dtype="float32", seed=11)
        for _ in range(3):
            client.forward_backward(batch)
            client.optim_step(AdamParams(learning_rate=0.05))
        runs.append(client.params.flat.copy())
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.array_equal(tiny(seed=11).params.flat, tiny(seed=12).params.flat)


def test_datums_and_batches_agree() -> None:
    client = tiny()
    batch = rl_batch(np.random.default_rng(6))
    a = client.forward(batch)
    b = client.forward(batch.to_data())
    assert a.loss == pytest.approx(b.loss)
    assert a.metrics == pytest.approx(b.metrics)


def test_state_round_trip(tmp_path: Path) -> None:
    client = tiny(dtype="float32")
    batch = rl_batch(np.random.default_rng(8))
    client.forward_backward(batch)
    client.optim_step(AdamParams(learning_rate=0.01))
    files = client.save_state(tmp_path)
    assert sorted(f.name for f in files) == ["optimizer.safetensors", "weights.safetensors"]
    other = tiny(dtype="float32", seed=99)
    other.load_state(tmp_path)
    np.testing.assert_array_equal(other.params.flat, client.params.flat)
    np.testing.assert_array_equal(other.optimizer.v, client.optimizer.v)
    assert other.optimizer.step == 1
    for c in (client, other):
        c.forward_backward(batch)
        c.optim_step(AdamParams(learning_rate=0.01))
    np.testing.assert_array_equal(other.params.flat, client.params.flat)
    fresh = tiny(dtype="float32", seed=99)
    fresh.load_state(tmp_path, weights_only=True)
    assert fresh.optimizer.step == 0
    (tmp_path / "weights.safetensors").write_bytes(b"garbage")
    with pytest.raises(IntegrityError, match=r"weights\.safetensors"):
        fresh.load_state(tmp_path)
    with pytest.raises(IntegrityError):
        tiny(hidden=7).load_state(tmp_path.parent / "missing")


def test_protocols_and_model_info() -> None:
    client = numpy_lm.create("numpy-lm-small", TOK, seed=1)
    assert isinstance(client, TrainingClient)
    assert isinstance(client, SupportsModelInfo)
    info = client.model_info()
    assert info.parameter_count == sum(layer.parameters for layer in info.layers)
    assert info.weights_bytes == 4 * info.parameter_count
    assert info.memory_bytes == 4 * info.weights_bytes
    assert info.vocab_size == TOK.vocab_size
    assert info.special_tokens == {"<eos>": 256}
    assert info.layers[0].shape == (TOK.vocab_size + 1, 32)
    assert info.summary()["model/parameters"] == info.parameter_count
    assert isinstance(client.save_weights_and_get_sampling_client(), SamplingClient)


# --- sampling ---------------------------------------------------------------------------------


def trained_sampler() -> tuple[NumpyLMTrainingClient, Any]:
    client = tiny(dtype="float32", seed=0, context=4, embed_dim=8, hidden=32, layers=1)
    text = TOK.encode("abcabcabcabcabcabc")
    batch = Batch.from_data([Datum.from_tokens(text, np.ones(len(text)))])
    for _ in range(150):
        client.forward_backward(batch)
        client.optim_step(AdamParams(learning_rate=0.05))
    return client, client.save_weights_and_get_sampling_client()


def test_sampling_greedy_stop_and_logprobs() -> None:
    _, sampler = trained_sampler()
    prompt = ModelInput.from_ints(TOK.encode("abca"))
    greedy = sampler.sample(prompt, 2, SamplingParams(max_tokens=7, temperature=0.0))
    assert [TOK.decode(s.tokens) for s in greedy.sequences] == ["bcabcab"] * 2
    assert greedy.sequences[0].stop_reason == "length"
    stopped = sampler.sample(prompt, 1, SamplingParams(max_tokens=9, temperature=0.0, stop=["ca"]))
    assert TOK.decode(stopped.sequences[0].tokens) == "bca"
    assert stopped.sequences[0].stop_reason == "stop"
    by_id = sampler.sample(
        prompt, 1, SamplingParams(max_tokens=9, temperature=0.0, stop=[ord("a")])
    )
    assert TOK.decode(by_id.sequences[0].tokens) == "bca"
    # At temperature 1 a sample's logprobs are the model's, as compute_logprobs reports them.
    seq = sampler.sample(prompt, 1, SamplingParams(max_tokens=5, seed=4)).sequences[0]
    full = sampler.compute_logprobs(ModelInput.from_ints(prompt.to_ints() + seq.tokens))
    assert full[0] is None
    np.testing.assert_allclose(seq.logprobs, full[-5:], rtol=1e-4, atol=1e-5)
    with_prompt = sampler.sample(
        prompt, 1, SamplingParams(max_tokens=1), include_prompt_logprobs=True
    )
    assert with_prompt.prompt_logprobs is not None
    assert len(with_prompt.prompt_logprobs) == prompt.length


def test_sampling_is_deterministic_and_top_p_restricts() -> None:
    sampler = tiny(dtype="float32", seed=2).save_weights_and_get_sampling_client()
    prompt = ModelInput.from_ints(TOK.encode("xyz"))
    params = SamplingParams(max_tokens=12, temperature=1.5, seed=9)
    a = sampler.sample(prompt, 3, params)
    b = sampler.sample(prompt, 3, params)
    assert a == b
    assert len({tuple(s.tokens) for s in a.sequences}) > 1
    narrow = sampler.sample(
        prompt, 4, SamplingParams(max_tokens=12, temperature=1.5, top_p=1e-9, seed=1)
    )
    greedy = sampler.sample(prompt, 1, SamplingParams(max_tokens=12, temperature=0.0))
    for seq in narrow.sequences:
        assert seq.tokens == greedy.sequences[0].tokens
        np.testing.assert_allclose(seq.logprobs, 0.0, atol=1e-6)


def test_sampler_is_a_snapshot_and_rng_state_round_trips() -> None:
    client, sampler = trained_sampler()
    prompt = ModelInput.from_ints(TOK.encode("ab"))
    before = sampler.sample(prompt, 1, SamplingParams(max_tokens=6, temperature=0.0))
    client.params.flat[:] = 0.0
    assert sampler.sample(prompt, 1, SamplingParams(max_tokens=6, temperature=0.0)) == before
    state = client.rng_state()
    first = client.save_weights_and_get_sampling_client().sample(
        prompt, 2, SamplingParams(max_tokens=4)
    )
    client.set_rng_state(state)
    again = client.save_weights_and_get_sampling_client().sample(
        prompt, 2, SamplingParams(max_tokens=4)
    )
    assert first == again


def test_rejects_ids_outside_vocabulary() -> None:
    with pytest.raises(InvalidArgumentError, match="token id"):
        tiny().forward([Datum.from_tokens([1, 999], [1, 1])])
    with pytest.raises(InvalidArgumentError, match="tokenizer has"):
        NumpyLMTrainingClient(NumpyLMConfig(vocab_size=10), TOK)
