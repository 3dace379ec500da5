"""Every port has a no-op adapter that satisfies it; the renderer LLM client wires a sampler
and a renderer into a chat model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from crucible.errors import NotFoundError
from crucible.train.adapters import noop
from crucible.train.adapters.completer import RendererLLMClient
from crucible.train.adapters.local_datasets import LocalDatasetStore
from crucible.train.adapters.numpy_lm import create
from crucible.train.ports import (
    BlobStore,
    DatasetStore,
    EmbeddingClient,
    HubClient,
    LLMClient,
    SamplingClient,
    TrainingClient,
    VectorStore,
)
from crucible.train.renderers import Message, get_renderer, renderer_special_tokens
from crucible.train.tokenizers import ByteTokenizer
from crucible.train.types import AdamParams, Datum, ModelInput, SamplingParams


@pytest.mark.parametrize(
    ("adapter", "port"),
    [
        (noop.NoopTrainingClient(), TrainingClient),
        (noop.NoopSamplingClient(), SamplingClient),
        (noop.NoopLLMClient(), LLMClient),
        (noop.NoopHubClient(), HubClient),
        (noop.NoopBlobStore(), BlobStore),
        (noop.NoopDatasetStore(), DatasetStore),
        (noop.NoopEmbeddingClient(), EmbeddingClient),
        (noop.NoopVectorStore(), VectorStore),
    ],
)
def test_noop_adapters_satisfy_their_ports(adapter: object, port: type) -> None:
    assert isinstance(adapter, port)


def test_noop_behaviour(tmp_path: Path) -> None:
    client = noop.NoopTrainingClient()
    out = client.forward_backward([Datum.from_tokens([1, 2, 3], [0, 1, 1])])
    assert out.loss == 0.0
    assert client.optim_step(AdamParams(learning_rate=0.1)).metrics["learning_rate"] == 0.1
    assert client.save_state(tmp_path) == [tmp_path / "noop.state"]
    sample = client.save_weights_and_get_sampling_client().sample(ModelInput.from_ints([1]), 2)
    assert [s.tokens for s in sample.sequences] == [[], []]
    assert noop.NoopEmbeddingClient(4).embed(["a", "b"]).shape == (2, 4)
    assert noop.NoopVectorStore().query(np.zeros(4, np.float32)) == []
    with pytest.raises(NotFoundError):
        noop.NoopBlobStore().get("k")
    assert noop.NoopDatasetStore().split("x", 0.5, 0)[0].size == 0
    assert noop.NoopHubClient().push(tmp_path, "org/model") == "noop"
    assert isinstance(LocalDatasetStore(tmp_path), DatasetStore)


def test_renderer_llm_client_samples_until_the_stop_sequence() -> None:
    tok = ByteTokenizer(renderer_special_tokens("llama3"))
    renderer = get_renderer("llama3", tok)
    client = create("numpy-lm-tiny", tok, seed=0)
    # Teach the model one reply, so greedy sampling reproduces it and stops at <|eot_id|>.
    conv = [Message(role="user", content="Hi"), Message(role="assistant", content="Hello there!")]
    model_input, weights = renderer.build_supervised_example(conv)
    datum = Datum.from_tokens(model_input.to_ints(), weights)
    for _ in range(200):
        client.forward_backward([datum])
        client.optim_step(AdamParams(learning_rate=0.03))
    llm = RendererLLMClient(client.save_weights_and_get_sampling_client(), renderer)
    assert isinstance(llm, LLMClient)
    reply = llm.complete(conv[:1], SamplingParams(temperature=0.0, max_tokens=40))
    assert reply == Message(role="assistant", content="Hello there!")
    assert llm.last_ok
