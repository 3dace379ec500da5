"""The DPO objective: its gradient (analytic vs finite differences, on the loss and through
the NumPy LM's weights), label smoothing, and the preference data it reads."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from crucible.errors import InvalidArgumentError, NotFoundError, SerializationError
from crucible.train.adapters import numpy_lm
from crucible.train.adapters.numpy_lm.custom_loss import forward_backward_custom
from crucible.train.preference import (
    PreferenceDataset,
    dpo_loss,
    dpo_loss_fn,
    load_comparisons,
    read_comparisons,
    sequence_logprobs,
    write_comparisons,
)
from crucible.train.preference.bundled import generate_preferences
from crucible.train.preference.comparisons import BUNDLED_PREFERENCES
from crucible.train.renderers import get_renderer, renderer_special_tokens
from crucible.train.tokenizers import get_tokenizer


def _vectors(seed: int, n: int = 6) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.normal(-20.0, 3.0, n) for _ in range(4)]


@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_gradient_matches_finite_differences(smoothing: float) -> None:
    pc, pr, rc, rr = _vectors(1)
    beta = 0.3
    terms = dpo_loss(pc, pr, rc, rr, beta=beta, label_smoothing=smoothing)
    h = 1e-6
    for i in range(pc.size):
        for which, analytic in ((0, terms.grad_chosen[i]), (1, terms.grad_rejected[i])):
            plus = [pc.copy(), pr.copy()]
            minus = [pc.copy(), pr.copy()]
            plus[which][i] += h
            minus[which][i] -= h
            lp = dpo_loss(plus[0], plus[1], rc, rr, beta=beta, label_smoothing=smoothing).loss
            lm = dpo_loss(minus[0], minus[1], rc, rr, beta=beta, label_smoothing=smoothing).loss
            assert analytic == pytest.approx((lp - lm) / (2 * h), rel=1e-5, abs=1e-9)


def test_metrics_at_the_reference_and_label_smoothing_pushes_back() -> None:
    pc, pr, _, _ = _vectors(2)
    at_ref = dpo_loss(pc, pr, pc, pr, beta=0.1)
    assert at_ref.metrics["dpo/loss"] == pytest.approx(np.log(2.0))
    assert at_ref.metrics["dpo/accuracy"] == 0.5  # every pair a tie
    assert at_ref.metrics["dpo/margin"] == 0.0
    # Far past separation plain DPO barely pulls; conservative DPO pulls the margin back.
    separated = (pc + 200.0, pr, pc, pr)
    plain = dpo_loss(*separated, beta=0.1)
    smooth = dpo_loss(*separated, beta=0.1, label_smoothing=0.1)
    assert plain.metrics["dpo/accuracy"] == 1.0
    assert plain.metrics["dpo/chosen_reward"] == pytest.approx(20.0)
    assert 0.0 > plain.grad_chosen.max() > -1e-8
    assert smooth.grad_chosen.min() > 0.0  # the loss now rises with the chosen likelihood
    with pytest.raises(InvalidArgumentError):
        dpo_loss(pc, pr, pc, pr, beta=0.1, label_smoothing=0.5)
    with pytest.raises(InvalidArgumentError):
        dpo_loss(pc, pr[:2], pc, pr, beta=0.1)


def test_weight_gradient_through_the_model_matches_finite_differences() -> None:
    tok = get_tokenizer("byte", renderer_special_tokens("role_colon"))
    renderer = get_renderer("role_colon", tok)
    client = numpy_lm.create("numpy-lm-tiny", tok, seed=3, dtype="float64", context=4)
    data = PreferenceDataset.from_comparisons(
        generate_preferences(count=3, seed=5), renderer, batch_size=3, shuffle=False
    )
    batch = data.datums([0, 1, 2])
    rng = np.random.default_rng(0)
    ref_c, ref_r = rng.normal(-60, 5, 3), rng.normal(-90, 5, 3)
    loss_fn = dpo_loss_fn(ref_c, ref_r, beta=0.05, label_smoothing=0.1)

    def loss_now() -> float:
        # The sampler's logprobs keep float64 (forward's are float32: too coarse for FD).
        sampler = client.save_weights_and_get_sampling_client()
        full = [d.model_input.append_int(int(d.loss_fn_inputs["target_tokens"][-1])) for d in batch]
        lps = [np.asarray(sampler.compute_logprobs(f)[1:], np.float64) for f in full]
        return loss_fn(batch, lps)[0]

    out = forward_backward_custom(client, batch, loss_fn)
    assert out.loss == pytest.approx(loss_now(), rel=1e-6)
    grads = client.grads.flat.copy()
    flat = client.params.flat
    picks = rng.choice(np.argsort(-np.abs(grads))[:200], size=12, replace=False)
    h = 1e-5
    for k in picks:
        orig = flat[k]
        flat[k] = orig + h
        up = loss_now()
        flat[k] = orig - h
        down = loss_now()
        flat[k] = orig
        assert grads[k] == pytest.approx((up - down) / (2 * h), rel=1e-3, abs=1e-7)


def test_sequence_logprobs_weigh_only_the_completion() -> None:
    tok = get_tokenizer("byte", renderer_special_tokens("role_colon"))
    renderer = get_renderer("role_colon", tok)
    data = PreferenceDataset.from_comparisons(
        generate_preferences(count=2), renderer, batch_size=2
    ).datums([0])
    ones = [np.ones(d.loss_fn_inputs["weights"].size) for d in data]
    prompt_len = len(tok.encode("User: " + "x", add_special_tokens=False))
    lengths = sequence_logprobs(data, ones)
    for datum, n in zip(data, lengths, strict=True):
        assert n == datum.loss_fn_inputs["weights"].sum()
        assert 0 < n < datum.model_input.length - prompt_len


def test_bundled_preferences_are_the_generator_output(tmp_path: Path) -> None:
    path = tmp_path / "regenerated.jsonl"
    write_comparisons(generate_preferences(), path)
    assert path.read_bytes() == BUNDLED_PREFERENCES["preferences"].read_bytes()
    comparisons = load_comparisons("bundled:preferences")
    assert len(comparisons) == 400
    assert len({(c.prompt[0].content, c.chosen[0].content) for c in comparisons}) > 250
    assert all(c.chosen != c.rejected for c in comparisons)
    styles = {c.id.split("-")[1] for c in comparisons}
    assert styles == {"rude", "rambling", "wrong"}


def test_both_record_shapes_and_clear_errors(tmp_path: Path) -> None:
    path = tmp_path / "prefs.jsonl"
    records = [
        {"prompt": "Hi?", "chosen": "Hello.", "rejected": "Go away."},
        {
            "prompt_conversation": [{"role": "user", "content": "2+2?"}],
            "completion_A": [{"role": "assistant", "content": "5"}],
            "completion_B": [{"role": "assistant", "content": "4"}],
            "label": "B",
        },
        {"prompt_conversation": "x", "completion_A": "a", "completion_B": "b", "label": "Tie"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    first, second = read_comparisons(path)
    assert first.prompt[0].role == "user"
    assert first.chosen[0].content == "Hello."
    assert second.chosen[0].content == "4"
    assert second.rejected[0].content == "5"
    path.write_text(json.dumps({"prompt": "Hi?", "chosen": "Hello."}) + "\n")
    with pytest.raises(SerializationError, match=r"prefs\.jsonl:1"):
        read_comparisons(path)
    with pytest.raises(NotFoundError):
        load_comparisons("bundled:nope")
