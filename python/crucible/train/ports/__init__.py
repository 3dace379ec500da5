"""Ports: the Protocols the training code is written against. Adapters live in
:mod:`crucible.train.adapters` (no-op ones for wiring tests, a real NumPy backend, local data
sets)."""

from __future__ import annotations

from crucible.train.ports.retrieval import EmbeddingClient, VectorHit, VectorStore
from crucible.train.ports.sampling import LLMClient, SamplingClient
from crucible.train.ports.storage import BlobStore, DatasetStore, HubClient
from crucible.train.ports.training import SupportsModelInfo, TrainingClient, TrainingData

__all__ = [
    "BlobStore",
    "DatasetStore",
    "EmbeddingClient",
    "HubClient",
    "LLMClient",
    "SamplingClient",
    "SupportsModelInfo",
    "TrainingClient",
    "TrainingData",
    "VectorHit",
    "VectorStore",
]
