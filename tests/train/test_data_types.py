"""Types: arrays round-trip through TensorData and JSON; Datum/Batch conversions."""

from __future__ import annotations

import msgspec
import numpy as np
import pytest

from crucible.errors import InvalidArgumentError, UnsupportedOperationError
from crucible.train.types import (
    AdamParams,
    Batch,
    Datum,
    EncodedTextChunk,
    ImageChunk,
    ModelInput,
    SampledSequence,
    SamplingParams,
    TensorData,
    TokensWithLogprobs,
)


@pytest.mark.parametrize("dtype", ["int64", "int32", "float32", "float64", "bool"])
def test_tensor_data_round_trip(dtype: str) -> None:
    arr = (np.arange(12).reshape(3, 4) % 3).astype(dtype)
    td = TensorData.from_numpy(arr)
    assert td.shape == (3, 4)
    back = msgspec.json.decode(msgspec.json.encode(td), type=TensorData).to_numpy()
    assert back.dtype == arr.dtype
    np.testing.assert_array_equal(back, arr)


def test_tensor_data_rejects_bad_input() -> None:
    with pytest.raises(InvalidArgumentError, match="dtype"):
        TensorData.from_numpy(np.zeros(2, dtype=np.complex64))
    with pytest.raises(InvalidArgumentError, match="shape"):
        TensorData(dtype="int64", shape=(2, 2), data=[1, 2, 3]).to_numpy()


def test_model_input_chunks() -> None:
    mi = ModelInput.from_ints([1, 2]).append_int(3).append(EncodedTextChunk((4, 5)))
    assert mi.length == 5
    assert mi.to_ints() == [1, 2, 3, 4, 5]
    img = mi.append(ImageChunk(data=b"\x00", expected_tokens=7))
    assert img.length == 12
    with pytest.raises(UnsupportedOperationError, match="image"):
        img.to_ints()
    assert msgspec.json.decode(msgspec.json.encode(img), type=ModelInput) == img


def test_datum_shift_and_builtins() -> None:
    d = Datum.from_tokens([5, 6, 7, 8], [0, 0, 1, 1])
    assert d.model_input.to_ints() == [5, 6, 7]
    np.testing.assert_array_equal(d.loss_fn_inputs["target_tokens"], [6, 7, 8])
    np.testing.assert_array_equal(d.loss_fn_inputs["weights"], [0, 1, 1])
    back = Datum.from_builtins(msgspec.json.decode(msgspec.json.encode(d.to_builtins())))
    assert back.model_input == d.model_input
    for key, value in d.loss_fn_inputs.items():
        np.testing.assert_array_equal(back.loss_fn_inputs[key], value)
        assert back.loss_fn_inputs[key].dtype == value.dtype
    with pytest.raises(InvalidArgumentError):
        Datum.from_tokens([1], [1])


def test_batch_round_trip_pads_with_zero_weight() -> None:
    data = [Datum.from_tokens([1, 2, 3, 4], [1, 1, 1, 1]), Datum.from_tokens([9, 8], [0, 1])]
    batch = Batch.from_data(data)
    assert batch.inputs.shape == (2, 3)
    assert batch.size == 2
    assert batch.num_tokens == 4
    np.testing.assert_array_equal(batch.weights[1], [1, 0, 0])
    for a, b in zip(batch.to_data(), data, strict=True):
        assert a.model_input == b.model_input
        np.testing.assert_array_equal(a.loss_fn_inputs["weights"], b.loss_fn_inputs["weights"])
    rl = Datum(
        model_input=ModelInput.from_ints([1, 2]),
        loss_fn_inputs={"target_tokens": np.array([2, 3]), "advantages": np.array([0.5, -1.0])},
    )
    rb = Batch.from_data([rl])
    np.testing.assert_array_equal(rb.weights, [[1, 1]])
    np.testing.assert_array_equal(rb.extra["advantages"], [[0.5, -1.0]])
    with pytest.raises(InvalidArgumentError):
        Batch.from_data([])


def test_small_structs_validate() -> None:
    twl = TokensWithLogprobs(tokens=[1], maybe_logprobs=None)
    with pytest.raises(InvalidArgumentError):
        _ = twl.logprobs
    seq = SampledSequence(tokens=[1, 2], logprobs=[-0.1, -0.2], stop_reason="stop")
    assert seq.to_tokens_with_logprobs().logprobs == [-0.1, -0.2]
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"learning_rate": 1e-3, "beta1": 1.0}, AdamParams)
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"top_p": 0.0}, SamplingParams)
