//! Rules of the reliability mechanisms and how they combine.

use super::python::{repr_num, repr_str};
use super::view::{at, duplicates, greater, Findings, Obj};
use super::Rule;

const CONFIG: &[&str] = &["reliability.Config"];
const ENSEMBLE: &[&str] = &["reliability.Ensemble"];
const HEDGING: &[&str] = &["reliability.Hedging"];
const STATS: &[&str] = &["reliability.Stats"];
const FAIRNESS: &[&str] = &["reliability.Fairness"];
const GUARDRAIL: &[&str] = &["reliability.Guardrail"];

pub const RULES: &[Rule] = &[
    Rule {
        code: "reliability.hedging_incompatible_with_execution_mode",
        types: CONFIG,
        description: "Hedging duplicates requests in flight, which sequential and cascade \
                      ensembles (one model at a time) contradict.",
        check: hedging_mode,
    },
    Rule {
        code: "reliability.hedged_mode_requires_hedging",
        types: CONFIG,
        description: "An ensemble in hedged execution mode needs a hedging configuration that \
                      is on.",
        check: hedged_mode,
    },
    Rule {
        code: "ensemble.models_required",
        types: ENSEMBLE,
        description: "An ensemble with a voting strategy lists its models.",
        check: ensemble_models,
    },
    Rule {
        code: "ensemble.duplicate_model",
        types: ENSEMBLE,
        description: "A model is listed once.",
        check: ensemble_duplicates,
    },
    Rule {
        code: "ensemble.weights_required",
        types: ENSEMBLE,
        description: "Weighted voting needs weights.",
        check: weights_required,
    },
    Rule {
        code: "ensemble.weight_unknown_model",
        types: ENSEMBLE,
        description: "Weights are keyed by models of the ensemble.",
        check: weight_unknown,
    },
    Rule {
        code: "ensemble.weight_missing",
        types: ENSEMBLE,
        description: "Under weighted voting every model has a weight.",
        check: weight_missing,
    },
    Rule {
        code: "hedging.delay_required",
        types: HEDGING,
        description: "Fixed hedging needs its delay.",
        check: hedging_delay,
    },
    Rule {
        code: "hedging.percentile_required",
        types: HEDGING,
        description: "Percentile hedging needs its percentile.",
        check: hedging_percentile,
    },
    Rule {
        code: "stats.tests_required",
        types: STATS,
        description: "At least one statistical test.",
        check: stats_tests,
    },
    Rule {
        code: "stats.duplicate_test",
        types: STATS,
        description: "A test is listed once.",
        check: stats_duplicates,
    },
    Rule {
        code: "stats.effect_size_incompatible",
        types: STATS,
        description: "The effect size suits a listed test: eta/omega squared need a many-group \
                      test (anova, kruskal); Cohen's d a two-group test (ttest, mannwhitney, \
                      wilcoxon, bootstrap).",
        check: effect_size,
    },
    Rule {
        code: "fairness.group_by_required",
        types: FAIRNESS,
        description: "Enabled fairness checking names the attribute to group by.",
        check: fairness_group,
    },
    Rule {
        code: "fairness.metrics_required",
        types: FAIRNESS,
        description: "Enabled fairness checking computes at least one metric.",
        check: fairness_metrics,
    },
    Rule {
        code: "guardrail.redaction_requires_detection",
        types: GUARDRAIL,
        description: "PII cannot be redacted with PII detection switched off.",
        check: redaction,
    },
    Rule {
        code: "guardrail.duplicate_profile",
        types: GUARDRAIL,
        description: "A profile is listed once.",
        check: guardrail_profiles,
    },
    Rule {
        code: "circuit_breaker.success_exceeds_probes",
        types: &["reliability.CircuitBreaker"],
        description: "The breaker can close: success_threshold is at most \
                      half_open_max_calls.",
        check: breaker_probes,
    },
    Rule {
        code: "rate_limit.no_limit",
        types: &["reliability.RateLimit"],
        description: "A rate limit sets at least one limit.",
        check: rate_limit,
    },
    Rule {
        code: "retry.delay_order",
        types: &["reliability.RetryConfig"],
        description: "The first retry delay does not exceed the cap.",
        check: retry_delays,
    },
    Rule {
        code: "cache.similarity_requires_semantic",
        types: &["reliability.Cache"],
        description: "A similarity threshold only means something for semantic caching.",
        check: cache_similarity,
    },
];

fn hedging_mode(config: &Obj<'_, '_>, out: &mut Findings) {
    let (Some(hedging), Some(ensemble)) = (config.obj("hedging"), config.obj("ensemble")) else {
        return;
    };
    let mode = ensemble.str("execution_mode").unwrap_or("");
    let strategy = hedging.str("strategy").unwrap_or("");
    if strategy != "off" && matches!(mode, "sequential" | "cascade") {
        out.add(
            "/hedging/strategy",
            format!("hedging {strategy} cannot apply to a {mode} ensemble"),
        );
    }
}

fn hedged_mode(config: &Obj<'_, '_>, out: &mut Findings) {
    let Some(ensemble) = config.obj("ensemble") else {
        return;
    };
    if ensemble.str("execution_mode") != Some("hedged") {
        return;
    }
    let on = config
        .obj("hedging")
        .is_some_and(|h| h.str("strategy") != Some("off"));
    if !on {
        out.add(
            "/ensemble/execution_mode",
            "hedged execution needs hedging with a strategy other than off",
        );
    }
}

fn ensemble_models(ensemble: &Obj<'_, '_>, out: &mut Findings) {
    let strategy = ensemble.str("strategy").unwrap_or("");
    if strategy != "none" && !ensemble.truthy("models") {
        out.add(
            "/models",
            format!("strategy {strategy} needs at least one model"),
        );
    }
}

fn ensemble_duplicates(ensemble: &Obj<'_, '_>, out: &mut Findings) {
    for (i, model) in duplicates(&ensemble.strs("models")) {
        out.add(
            at(&["models", &i.to_string()]),
            format!("model {} is listed twice", repr_str(model)),
        );
    }
}

fn weights_required(ensemble: &Obj<'_, '_>, out: &mut Findings) {
    if ensemble.str("strategy") == Some("weighted") && !ensemble.truthy("weights") {
        out.add("/weights", "weighted voting needs weights");
    }
}

fn weight_unknown(ensemble: &Obj<'_, '_>, out: &mut Findings) {
    let Some(weights) = ensemble.map("weights").filter(|w| !w.is_empty()) else {
        return;
    };
    if ensemble.list("models").is_none() {
        return;
    }
    let models = ensemble.strs("models");
    for (model, _) in weights {
        if !models.contains(&model.as_ref()) {
            out.add(
                at(&["weights", model]),
                format!("{} is not one of the ensemble's models", repr_str(model)),
            );
        }
    }
}

fn weight_missing(ensemble: &Obj<'_, '_>, out: &mut Findings) {
    let Some(weights) = ensemble.map("weights").filter(|w| !w.is_empty()) else {
        return;
    };
    if ensemble.str("strategy") != Some("weighted") {
        return;
    }
    for (i, model) in ensemble.strs("models").into_iter().enumerate() {
        if !weights.iter().any(|(k, _)| k == model) {
            out.add(
                at(&["models", &i.to_string()]),
                format!("model {} has no weight", repr_str(model)),
            );
        }
    }
}

fn hedging_delay(hedging: &Obj<'_, '_>, out: &mut Findings) {
    if hedging.str("strategy") == Some("fixed") && !hedging.is_set("delay_ms") {
        out.add("/delay_ms", "fixed hedging needs delay_ms");
    }
}

fn hedging_percentile(hedging: &Obj<'_, '_>, out: &mut Findings) {
    if hedging.str("strategy") == Some("percentile") && !hedging.is_set("percentile") {
        out.add("/percentile", "percentile hedging needs percentile");
    }
}

fn stats_tests(stats: &Obj<'_, '_>, out: &mut Findings) {
    if !stats.truthy("tests") {
        out.add("/tests", "at least one test is needed");
    }
}

fn stats_duplicates(stats: &Obj<'_, '_>, out: &mut Findings) {
    for (i, test) in duplicates(&stats.strs("tests")) {
        out.add(
            at(&["tests", &i.to_string()]),
            format!("test {test} is listed twice"),
        );
    }
}

const GROUP_TESTS: &[&str] = &["anova", "kruskal"];
const PAIR_TESTS: &[&str] = &["bootstrap", "mannwhitney", "ttest", "wilcoxon"];

fn effect_size(stats: &Obj<'_, '_>, out: &mut Findings) {
    let Some(kind) = stats.str("effect_size_type") else {
        return;
    };
    let tests = stats.strs("tests");
    if tests.is_empty() {
        return;
    }
    let needed = if kind == "cohens_d" {
        PAIR_TESTS
    } else {
        GROUP_TESTS
    };
    if !tests.iter().any(|t| needed.contains(t)) {
        out.add(
            "/effect_size_type",
            format!("{kind} needs one of the tests {}", needed.join(", ")),
        );
    }
}

fn fairness_group(fairness: &Obj<'_, '_>, out: &mut Findings) {
    if fairness.truthy("enabled") && !fairness.truthy("group_by") {
        out.add("/group_by", "enabled fairness checking needs group_by");
    }
}

fn fairness_metrics(fairness: &Obj<'_, '_>, out: &mut Findings) {
    if fairness.truthy("enabled") && !fairness.truthy("metrics") {
        out.add(
            "/metrics",
            "enabled fairness checking needs at least one metric",
        );
    }
}

fn redaction(guardrail: &Obj<'_, '_>, out: &mut Findings) {
    let detection_off = matches!(
        guardrail.get("pii_detection"),
        Some(crate::ir::canonical::Node::Bool(false))
    );
    if guardrail.truthy("pii_redaction") && detection_off {
        out.add("/pii_redaction", "pii_redaction needs pii_detection");
    }
}

fn guardrail_profiles(guardrail: &Obj<'_, '_>, out: &mut Findings) {
    for (i, profile) in duplicates(&guardrail.strs("profiles")) {
        out.add(
            at(&["profiles", &i.to_string()]),
            format!("profile {profile} is listed twice"),
        );
    }
}

fn breaker_probes(breaker: &Obj<'_, '_>, out: &mut Findings) {
    let (Some(success), Some(probes)) = (
        breaker.number("success_threshold"),
        breaker.number("half_open_max_calls"),
    ) else {
        return;
    };
    if greater(Some(success), Some(probes)) {
        out.add(
            "/success_threshold",
            format!(
                "{} successes can never happen in {} half-open call(s)",
                repr_num(success),
                repr_num(probes)
            ),
        );
    }
}

fn rate_limit(limit: &Obj<'_, '_>, out: &mut Findings) {
    let limits = [
        "requests_per_second",
        "requests_per_minute",
        "tokens_per_minute",
        "max_concurrent",
    ];
    if !limits.iter().any(|l| limit.is_set(l)) {
        out.add(
            "",
            "set at least one of requests_per_second, requests_per_minute, tokens_per_minute, \
             max_concurrent",
        );
    }
}

fn retry_delays(retry: &Obj<'_, '_>, out: &mut Findings) {
    if greater(
        retry.number("initial_delay_ms"),
        retry.number("max_delay_ms"),
    ) {
        out.add("/initial_delay_ms", "initial_delay_ms exceeds max_delay_ms");
    }
}

fn cache_similarity(cache: &Obj<'_, '_>, out: &mut Findings) {
    if cache.is_set("similarity_threshold") && !cache.truthy("semantic") {
        out.add(
            "/similarity_threshold",
            "similarity_threshold needs semantic caching",
        );
    }
}
