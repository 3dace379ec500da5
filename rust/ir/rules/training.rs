//! Rules of training configurations and runs.

use std::cmp::Ordering;

use super::python::{num_cmp, repr_as_float, repr_num, repr_str};
use super::view::{at, duplicates, greater, Findings, Obj};
use super::Rule;
use crate::ir::canonical::{Node, Num};

const CONFIG: &[&str] = &["training.Config"];
const SCHEDULER: &[&str] = &["training.SchedulerConfig"];
const RUN: &[&str] = &["training.Run"];

pub const RULES: &[Rule] = &[
    Rule {
        code: "training.batch_size_mismatch",
        types: CONFIG,
        description: "The data loader's batch size, when set, is the configuration's.",
        check: batch_size,
    },
    Rule {
        code: "training.validation_conflict",
        types: CONFIG,
        description: "Validation data comes from a split or from a dataset, not both.",
        check: validation_conflict,
    },
    Rule {
        code: "training.validation_required",
        types: CONFIG,
        description: "Early stopping on a val_* metric needs validation data.",
        check: validation_required,
    },
    Rule {
        code: "training.early_stopping_metric_unknown",
        types: CONFIG,
        description: "Early stopping monitors loss or a tracked metric (val_/train_ prefixes \
                      allowed).",
        check: stopping_metric,
    },
    Rule {
        code: "training.duplicate_metric",
        types: CONFIG,
        description: "A metric is tracked once.",
        check: training_metrics,
    },
    Rule {
        code: "training.optimizer_param_mismatch",
        types: CONFIG,
        description: "Optimizer hyperparameters belong to the optimizer: momentum and nesterov \
                      to sgd and rmsprop, betas and amsgrad to adam and adamw.",
        check: optimizer_params,
    },
    Rule {
        code: "training.loss_param_mismatch",
        types: CONFIG,
        description: "Loss parameters belong to the loss: label_smoothing and ignore_index to \
                      cross_entropy, pos_weight to bce, class_weights to cross_entropy and bce.",
        check: loss_params,
    },
    Rule {
        code: "training.weight_decay_conflict",
        types: CONFIG,
        description: "Weight decay is given once, or twice with one value.",
        check: weight_decay,
    },
    Rule {
        code: "early_stopping.mode_mismatch",
        types: &["training.EarlyStoppingConfig"],
        description: "A loss or error is minimised: monitoring one in max mode stops at the \
                      worst.",
        check: stopping_mode,
    },
    Rule {
        code: "scheduler.step_size_required",
        types: SCHEDULER,
        description: "A step schedule needs its step size.",
        check: scheduler_step,
    },
    Rule {
        code: "scheduler.milestones_required",
        types: SCHEDULER,
        description: "A multistep schedule needs milestones.",
        check: scheduler_milestones,
    },
    Rule {
        code: "scheduler.milestones_not_increasing",
        types: SCHEDULER,
        description: "Milestones strictly increase.",
        check: milestone_order,
    },
    Rule {
        code: "scheduler.warmup_exceeds_total",
        types: SCHEDULER,
        description: "Warm-up ends before the schedule does.",
        check: scheduler_warmup,
    },
    Rule {
        code: "data_loader.prefetch_requires_workers",
        types: &["training.DataLoaderConfig"],
        description: "Prefetching needs worker processes.",
        check: prefetch,
    },
    Rule {
        code: "training_run.time_order",
        types: RUN,
        description: "A run does not complete before it starts.",
        check: run_times,
    },
    Rule {
        code: "training_run.epoch_exceeds_total",
        types: RUN,
        description: "The current epoch is within the configured epochs.",
        check: run_epoch,
    },
    Rule {
        code: "training_run.error_required",
        types: RUN,
        description: "A failed run says why.",
        check: run_error,
    },
    Rule {
        code: "training_run.unfinished_has_completed_at",
        types: RUN,
        description: "Only a finished run has a completion time.",
        check: run_unfinished,
    },
    Rule {
        code: "training_run.duplicate_checkpoint",
        types: RUN,
        description: "A checkpoint is recorded once.",
        check: run_checkpoints,
    },
    Rule {
        code: "training_run.multiple_best_checkpoints",
        types: RUN,
        description: "At most one checkpoint is the best.",
        check: run_best,
    },
];

fn number(node: &Node<'_>) -> Option<Num> {
    match node {
        Node::Number(n) => Some(*n),
        _ => None,
    }
}

fn batch_size(config: &Obj<'_, '_>, out: &mut Findings) {
    let Some(loader) = config.obj("data_loader") else {
        return;
    };
    let (Some(own), Some(loader_size)) = (config.number("batch_size"), loader.number("batch_size"))
    else {
        return;
    };
    if num_cmp(loader_size, own) != Some(Ordering::Equal) {
        out.add(
            "/data_loader/batch_size",
            format!(
                "data_loader.batch_size {} differs from batch_size {}",
                repr_num(loader_size),
                repr_num(own)
            ),
        );
    }
}

fn validation_conflict(config: &Obj<'_, '_>, out: &mut Findings) {
    if config.is_set("validation_split") && config.is_set("validation_dataset_ref") {
        out.add(
            "/validation_split",
            "set validation_split or validation_dataset_ref, not both",
        );
    }
}

fn validation_required(config: &Obj<'_, '_>, out: &mut Findings) {
    let Some(monitor) = config.obj("early_stopping").and_then(|s| s.str("monitor")) else {
        return;
    };
    if monitor.starts_with("val_")
        && !config.is_set("validation_split")
        && !config.is_set("validation_dataset_ref")
    {
        out.add(
            "/early_stopping/monitor",
            format!(
                "monitoring {} needs validation_split or validation_dataset_ref",
                repr_str(monitor)
            ),
        );
    }
}

fn stopping_metric(config: &Obj<'_, '_>, out: &mut Findings) {
    let Some(monitor) = config.obj("early_stopping").and_then(|s| s.str("monitor")) else {
        return;
    };
    let name = ["val_", "train_"]
        .iter()
        .find_map(|p| monitor.strip_prefix(p))
        .unwrap_or(monitor);
    if name != "loss" && !config.strs("metrics").contains(&name) {
        out.add(
            "/early_stopping/monitor",
            format!(
                "{} is neither loss nor one of the tracked metrics",
                repr_str(monitor)
            ),
        );
    }
}

fn training_metrics(config: &Obj<'_, '_>, out: &mut Findings) {
    for (i, metric) in duplicates(&config.strs("metrics")) {
        out.add(
            at(&["metrics", &i.to_string()]),
            format!("metric {} is listed twice", repr_str(metric)),
        );
    }
}

/// Which values of `owner` a parameter belongs to; a set parameter of another owner is a
/// finding at `/<group>/<parameter>`.
fn params_belong(
    config: &Obj<'_, '_>,
    group: &str,
    owner: &str,
    table: &[(&str, &[&str])],
    what: &str,
    out: &mut Findings,
) {
    let Some(params) = config.obj(group) else {
        return;
    };
    let chosen = config.str(owner).unwrap_or("");
    for (name, owners) in table {
        if params.is_set(name) && !owners.contains(&chosen) {
            out.add(
                at(&[group, name]),
                format!("{name} does not apply to {what} {chosen}"),
            );
        }
    }
}

fn optimizer_params(config: &Obj<'_, '_>, out: &mut Findings) {
    let table: &[(&str, &[&str])] = &[
        ("momentum", &["sgd", "rmsprop"]),
        ("nesterov", &["sgd"]),
        ("betas", &["adam", "adamw"]),
        ("amsgrad", &["adam", "adamw"]),
    ];
    params_belong(
        config,
        "optimizer_config",
        "optimizer",
        table,
        "optimizer",
        out,
    );
}

fn loss_params(config: &Obj<'_, '_>, out: &mut Findings) {
    let table: &[(&str, &[&str])] = &[
        ("label_smoothing", &["cross_entropy"]),
        ("ignore_index", &["cross_entropy"]),
        ("pos_weight", &["bce"]),
        ("class_weights", &["cross_entropy", "bce"]),
    ];
    params_belong(config, "loss", "loss_function", table, "loss", out);
}

fn weight_decay(config: &Obj<'_, '_>, out: &mut Findings) {
    let decay = |group: &str| {
        config
            .obj(group)
            .and_then(|g| g.get("weight_decay"))
            .and_then(number)
    };
    if let (Some(reg), Some(opt)) = (decay("regularization"), decay("optimizer_config")) {
        if reg.as_f64() != opt.as_f64() {
            out.add(
                "/regularization/weight_decay",
                format!(
                    "regularization.weight_decay {} differs from optimizer_config.weight_decay {}",
                    repr_as_float(reg),
                    repr_as_float(opt)
                ),
            );
        }
    }
}

fn stopping_mode(stopping: &Obj<'_, '_>, out: &mut Findings) {
    let monitor = stopping.str("monitor").unwrap_or("");
    let name = monitor.to_lowercase();
    if stopping.str("mode") == Some("max") && (name.contains("loss") || name.contains("error")) {
        out.add(
            "/mode",
            format!("{} should be minimised (mode min)", repr_str(monitor)),
        );
    }
}

fn scheduler_step(scheduler: &Obj<'_, '_>, out: &mut Findings) {
    if scheduler.str("type") == Some("step") && !scheduler.is_set("step_size") {
        out.add("/step_size", "a step schedule needs step_size");
    }
}

fn scheduler_milestones(scheduler: &Obj<'_, '_>, out: &mut Findings) {
    if scheduler.str("type") == Some("multistep") && !scheduler.truthy("milestones") {
        out.add("/milestones", "a multistep schedule needs milestones");
    }
}

fn milestone_order(scheduler: &Obj<'_, '_>, out: &mut Findings) {
    let milestones: Vec<Num> = scheduler
        .items("milestones")
        .iter()
        .filter_map(number)
        .collect();
    for (i, pair) in milestones.windows(2).enumerate() {
        if let [before, after] = pair {
            if !greater(Some(*after), Some(*before)) {
                out.add(
                    at(&["milestones", &(i + 1).to_string()]),
                    "milestones must strictly increase",
                );
            }
        }
    }
}

fn scheduler_warmup(scheduler: &Obj<'_, '_>, out: &mut Findings) {
    let (warmup, total) = (
        scheduler.number("warmup_steps"),
        scheduler.number("total_steps"),
    );
    if total.is_some() && !greater(total, warmup) {
        out.add("/warmup_steps", "warmup_steps must be below total_steps");
    }
}

fn prefetch(loader: &Obj<'_, '_>, out: &mut Findings) {
    if loader.is_set("prefetch_factor") && loader.num("num_workers") == Some(0.0) {
        out.add("/prefetch_factor", "prefetch_factor needs num_workers > 0");
    }
}

fn run_times(run: &Obj<'_, '_>, out: &mut Findings) {
    if let (Some(started), Some(completed)) = (run.time("started_at"), run.time("completed_at")) {
        if completed < started {
            out.add("/completed_at", "completed_at is before started_at");
        }
    }
}

fn run_epoch(run: &Obj<'_, '_>, out: &mut Findings) {
    let Some(config) = run.obj("config") else {
        return;
    };
    let (Some(epoch), Some(epochs)) = (run.number("current_epoch"), config.number("epochs")) else {
        return;
    };
    if greater(Some(epoch), Some(epochs)) {
        out.add(
            "/current_epoch",
            format!(
                "epoch {} exceeds the configured {}",
                repr_num(epoch),
                repr_num(epochs)
            ),
        );
    }
}

fn run_error(run: &Obj<'_, '_>, out: &mut Findings) {
    if run.str("status") == Some("failed") && !run.truthy("error_message") {
        out.add("/error_message", "a failed run needs an error_message");
    }
}

fn run_unfinished(run: &Obj<'_, '_>, out: &mut Findings) {
    let status = run.str("status").unwrap_or("");
    if run.is_set("completed_at") && matches!(status, "pending" | "running") {
        out.add(
            "/completed_at",
            format!("a {status} run cannot have completed_at"),
        );
    }
}

fn run_checkpoints(run: &Obj<'_, '_>, out: &mut Findings) {
    let uris: Vec<&str> = run
        .objs("checkpoints")
        .iter()
        .map(|(_, c)| c.str("uri").unwrap_or(""))
        .collect();
    for (i, uri) in duplicates(&uris) {
        out.add(
            at(&["checkpoints", &i.to_string(), "uri"]),
            format!("checkpoint {} is recorded twice", repr_str(uri)),
        );
    }
}

fn run_best(run: &Obj<'_, '_>, out: &mut Findings) {
    let best = run
        .objs("checkpoints")
        .into_iter()
        .filter(|(_, c)| c.truthy("is_best"))
        .map(|(i, _)| i);
    for i in best.skip(1) {
        out.add(
            at(&["checkpoints", &i.to_string(), "is_best"]),
            "more than one checkpoint is the best",
        );
    }
}
