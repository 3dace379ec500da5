//! Rules of the feedback loop: collection, drift, retraining, events, labeling, A/B tests.

use super::python::{format_g, fsum, py_eq, repr, repr_str};
use super::view::{at, duplicates, Findings, Obj};
use super::Rule;
use crate::ir::canonical::Node;

const CONFIG: &[&str] = &["feedback.Config"];
const TRIGGER: &[&str] = &["feedback.RetrainingTrigger"];
const TASK: &[&str] = &["feedback.LabelingTask"];
const AB: &[&str] = &["feedback.ABTestConfig"];

pub const RULES: &[Rule] = &[
    Rule {
        code: "feedback.types_required",
        types: CONFIG,
        description: "Enabled feedback collection collects at least one type.",
        check: types_required,
    },
    Rule {
        code: "feedback.duplicate_type",
        types: CONFIG,
        description: "A feedback type is listed once.",
        check: duplicate_type,
    },
    Rule {
        code: "feedback.enabled_without_sampling",
        types: CONFIG,
        description: "Enabled collection samples something.",
        check: enabled_without_sampling,
    },
    Rule {
        code: "drift.threshold_out_of_range",
        types: &["feedback.DriftDetectionConfig"],
        description: "For the hypothesis tests (ks, chi_squared) the threshold is a p-value in \
                      (0, 1).",
        check: drift_threshold,
    },
    Rule {
        code: "retraining.condition_required",
        types: TRIGGER,
        description: "An enabled trigger has a condition: a feedback count, a drift threshold, \
                      a performance threshold or a schedule.",
        check: retraining_condition,
    },
    Rule {
        code: "retraining.metric_required",
        types: TRIGGER,
        description: "A performance threshold names its metric.",
        check: retraining_metric,
    },
    Rule {
        code: "feedback_event.value_mismatch",
        types: &["feedback.Event"],
        description: "The value suits the feedback type: thumbs \"up\"/\"down\" or a boolean, \
                      rating a number, label a string or strings, correction a string or an \
                      object, flag a boolean or a reason.",
        check: event_value,
    },
    Rule {
        code: "correction.unchanged",
        types: &["feedback.CorrectionEvent"],
        description: "A correction changes the output.",
        check: correction_unchanged,
    },
    Rule {
        code: "labeling_task.duplicate_label",
        types: TASK,
        description: "A label is offered once.",
        check: labels_unique,
    },
    Rule {
        code: "labeling_task.result_label_unknown",
        types: TASK,
        description: "Chosen labels are among the offered labels.",
        check: result_labels,
    },
    Rule {
        code: "labeling_task.multiple_results",
        types: TASK,
        description: "A single-label task has at most one chosen label.",
        check: single_label,
    },
    Rule {
        code: "labeling_task.result_required",
        types: TASK,
        description: "A completed task has its result.",
        check: result_required,
    },
    Rule {
        code: "labeling_task.time_order",
        types: TASK,
        description: "A task is not completed before it was created.",
        check: task_times,
    },
    Rule {
        code: "ab_test.traffic_sum",
        types: AB,
        description: "Variant traffic shares add up to 100 percent.",
        check: ab_traffic,
    },
    Rule {
        code: "ab_test.duplicate_variant",
        types: AB,
        description: "Variant names are unique.",
        check: ab_duplicates,
    },
    Rule {
        code: "ab_test.unknown_control",
        types: AB,
        description: "The control is one of the variants.",
        check: ab_control,
    },
    Rule {
        code: "ab_test.primary_metric_unknown",
        types: AB,
        description: "The primary metric is one of the metrics, when metrics are listed.",
        check: ab_primary,
    },
    Rule {
        code: "ab_test.time_order",
        types: AB,
        description: "A test ends after it starts.",
        check: ab_times,
    },
];

fn types_required(config: &Obj<'_, '_>, out: &mut Findings) {
    if config.truthy("enabled") && !config.truthy("feedback_types") {
        out.add(
            "/feedback_types",
            "enabled feedback collection needs feedback_types",
        );
    }
}

fn duplicate_type(config: &Obj<'_, '_>, out: &mut Findings) {
    for (i, kind) in duplicates(&config.strs("feedback_types")) {
        out.add(
            at(&["feedback_types", &i.to_string()]),
            format!("feedback type {kind} is listed twice"),
        );
    }
}

fn enabled_without_sampling(config: &Obj<'_, '_>, out: &mut Findings) {
    if config.truthy("enabled") && config.num("sampling_rate") == Some(0.0) {
        out.add(
            "/sampling_rate",
            "enabled feedback collection with sampling_rate 0",
        );
    }
}

fn drift_threshold(drift: &Obj<'_, '_>, out: &mut Findings) {
    let Some(method) = drift.str("method") else {
        return;
    };
    let threshold = drift.num("threshold").unwrap_or(f64::NAN);
    if matches!(method, "ks" | "chi_squared") && !(0.0 < threshold && threshold < 1.0) {
        out.add(
            "/threshold",
            format!("{method} compares a p-value: threshold must lie in (0, 1)"),
        );
    }
}

fn retraining_condition(trigger: &Obj<'_, '_>, out: &mut Findings) {
    let conditions = [
        "min_feedback_count",
        "drift_threshold",
        "performance_threshold",
        "schedule",
    ];
    if trigger.truthy("enabled") && !conditions.iter().any(|c| trigger.is_set(c)) {
        out.add(
            "",
            "set at least one of min_feedback_count, drift_threshold, performance_threshold, \
             schedule",
        );
    }
}

fn retraining_metric(trigger: &Obj<'_, '_>, out: &mut Findings) {
    if trigger.is_set("performance_threshold") && !trigger.truthy("metric") {
        out.add("/metric", "performance_threshold needs a metric");
    }
}

/// Whether `value` suits feedback type `kind` (any value suits an unknown type).
fn value_fits(kind: &str, value: &Node<'_>) -> bool {
    match (kind, value) {
        (_, Node::Null) => true,
        ("thumbs", Node::Bool(_)) => true,
        ("thumbs", Node::String(s)) => s == "up" || s == "down",
        ("thumbs", _) => false,
        ("rating", Node::Number(n)) => n.as_f64().is_finite(),
        ("rating", _) => false,
        ("label", Node::String(_)) => true,
        ("label", Node::Array(items)) => items.iter().all(|i| matches!(i, Node::String(_))),
        ("label", _) => false,
        ("correction", v) => matches!(v, Node::String(_) | Node::Object(_)),
        ("flag", v) => matches!(v, Node::Bool(_) | Node::String(_)),
        _ => true,
    }
}

fn event_value(event: &Obj<'_, '_>, out: &mut Findings) {
    let kind = event.str("feedback_type").unwrap_or("");
    let value = event.get("feedback_value").unwrap_or(&Node::Null);
    if !value_fits(kind, value) {
        out.add(
            "/feedback_value",
            format!("value {} does not suit feedback type {kind}", repr(value)),
        );
    }
}

fn correction_unchanged(event: &Obj<'_, '_>, out: &mut Findings) {
    let (Some(original), corrected) = (
        event.get("original_output"),
        event.get("corrected_output").unwrap_or(&Node::Null),
    ) else {
        return;
    };
    if py_eq(corrected, original) {
        out.add(
            "/corrected_output",
            "the corrected output equals the original output",
        );
    }
}

fn labels_unique(task: &Obj<'_, '_>, out: &mut Findings) {
    for (i, label) in duplicates(&task.strs("labels")) {
        out.add(
            at(&["labels", &i.to_string()]),
            format!("label {} is listed twice", repr_str(label)),
        );
    }
}

fn result_labels(task: &Obj<'_, '_>, out: &mut Findings) {
    let labels = task.strs("labels");
    for (i, label) in task.strs("result").into_iter().enumerate() {
        if !labels.contains(&label) {
            out.add(
                at(&["result", &i.to_string()]),
                format!("label {} is not one of the task's labels", repr_str(label)),
            );
        }
    }
}

fn single_label(task: &Obj<'_, '_>, out: &mut Findings) {
    if !task.truthy("multi_label") && task.list("result").is_some_and(|r| r.len() > 1) {
        out.add("/result", "a single-label task has more than one result");
    }
}

fn result_required(task: &Obj<'_, '_>, out: &mut Findings) {
    if task.str("status") == Some("completed") && !task.truthy("result") {
        out.add("/result", "a completed task needs a result");
    }
}

fn task_times(task: &Obj<'_, '_>, out: &mut Findings) {
    if let (Some(created), Some(completed)) = (task.time("created_at"), task.time("completed_at")) {
        if completed < created {
            out.add("/completed_at", "completed_at is before created_at");
        }
    }
}

fn ab_traffic(test: &Obj<'_, '_>, out: &mut Findings) {
    let variants = test.objs("variants");
    let total = fsum(
        variants
            .iter()
            .map(|(_, v)| v.num("traffic_percent").unwrap_or(0.0)),
    );
    if !variants.is_empty() && (total - 100.0).abs() > 1e-6 {
        out.add(
            "/variants",
            format!("traffic shares add up to {}%, not 100%", format_g(total)),
        );
    }
}

fn variant_names<'a>(test: &Obj<'a, '_>) -> Vec<&'a str> {
    test.objs("variants")
        .iter()
        .map(|(_, v)| v.str("name").unwrap_or(""))
        .collect()
}

fn ab_duplicates(test: &Obj<'_, '_>, out: &mut Findings) {
    for (i, name) in duplicates(&variant_names(test)) {
        out.add(
            at(&["variants", &i.to_string(), "name"]),
            format!("variant {} is defined twice", repr_str(name)),
        );
    }
}

fn ab_control(test: &Obj<'_, '_>, out: &mut Findings) {
    if let Some(control) = test.str("control") {
        if !variant_names(test).contains(&control) {
            out.add(
                "/control",
                format!("control {} is not a variant", repr_str(control)),
            );
        }
    }
}

fn ab_primary(test: &Obj<'_, '_>, out: &mut Findings) {
    let Some(primary) = test.str("primary_metric").filter(|p| !p.is_empty()) else {
        return;
    };
    if test.list("metrics").is_some() && !test.strs("metrics").contains(&primary) {
        out.add(
            "/primary_metric",
            format!("{} is not one of the metrics", repr_str(primary)),
        );
    }
}

fn ab_times(test: &Obj<'_, '_>, out: &mut Findings) {
    if let (Some(start), Some(end)) = (test.time("start_at"), test.time("end_at")) {
        if end <= start {
            out.add("/end_at", "end_at is not after start_at");
        }
    }
}
