"""Adapters for the ports: no-op ones (:mod:`.noop`), the NumPy LM backend
(:mod:`.numpy_lm`), local JSONL/Parquet data sets (:mod:`.local_datasets`) and a renderer-based
LLM client (:mod:`.completer`)."""
