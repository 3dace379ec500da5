"""Adapters for the ports: no-op ones (:mod:`.noop`), the NumPy LM backend
(:mod:`.numpy_lm`), local JSONL/Parquet data sets (:mod:`.local_datasets`), a renderer-based
LLM client (:mod:`.completer`), blob stores on a directory or fsspec (:mod:`.blob_local`,
:mod:`.blob_fsspec`), a local model registry (:mod:`.hub_local`), a hashing text embedder
(:mod:`.embedding_hashing`) and a SQLite vector store (:mod:`.vector_sqlite`)."""
