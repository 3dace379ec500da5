"""Supervised fine-tuning on the bundled conversations with the local NumPy backend.

Run: python examples/train_supervised.py

A tinker-cookbook style recipe: one config, one call. The run renders the data with the
Llama 3 chat format, trains a small NumPy language model for real (AdamW, warmup and cosine
decay, gradient clipping), evaluates on held-out conversations, checkpoints, and writes
metrics.jsonl; then it chats with the trained model through the same renderer. A 100k
parameter model trained for seconds learns the data's answer templates far better than its
facts, so expect well-formed replies, not correct ones.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from crucible.train import SamplingParams, SupervisedConfig, train
from crucible.train.adapters.completer import RendererLLMClient
from crucible.train.adapters.numpy_lm import NumpyLMTrainingClient
from crucible.train.renderers import Message, get_renderer


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        config = SupervisedConfig(
            log_path=str(Path(tmp) / "sft"),
            renderer="llama3",
            num_epochs=5,
            learning_rate=0.01,
            lr_schedule="cosine",
            warmup_steps=5,
            eval_every=30,
            save_every=30,
        )
        result = train(config)
        client = result.client
        assert isinstance(client, NumpyLMTrainingClient)
        info = client.model_info()
        curve = [row["val/nll"] for row in result.history if "val/nll" in row]
        print(f"model: {info.name}, {info.parameter_count:,} parameters, vocab {info.vocab_size}")
        print(f"steps: {result.steps}, validation NLL {curve[0]:.3f} -> {curve[-1]:.3f} nats/token")
        print(f"checkpoints: {sorted(p.name for p in (Path(tmp) / 'sft/checkpoints').iterdir())}")

        renderer = get_renderer(config.renderer, client.get_tokenizer())
        chat = RendererLLMClient(client.save_weights_and_get_sampling_client(), renderer)
        for question in ("What is the capital of France?", "What sound does a cow make?"):
            reply = chat.complete(
                [Message(role="user", content=question)],
                SamplingParams(temperature=0.0, max_tokens=60),
            )
            print(f"user: {question}\nmodel: {reply.content}")


if __name__ == "__main__":
    main()
