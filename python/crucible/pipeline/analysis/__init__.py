"""Analysis behind the pipeline's post-evaluation stages, kept apart from the stages.

A stage (``crucible.pipeline.stages.statistics`` and friends) decodes options, finds its
input and records trace decisions; everything it computes lives here as plain functions
over plain values, so the logic is testable without a run directory:

- :mod:`.samples`: reading and writing the evaluate stage's ``samples.jsonl``;
- :mod:`.findings`: the ``{"kind", "severity", "message", ...}`` records stages report;
- :mod:`.paired_tests` and :mod:`.comparison`: candidate-versus-baseline statistics;
- :mod:`.voting`: ensemble votes over several models' answers;
- :mod:`.latency` and :mod:`.hedging`: hedged-request simulation over latency samples;
- :mod:`.fairness`: group rates and fairness gaps;
- :mod:`.guardrails`: rule-based prompt-injection and PII detectors with redaction.
"""
