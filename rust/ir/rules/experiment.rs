//! Rules of experiments, backends and outputs.

use std::collections::BTreeSet;

use super::python::repr_str;
use super::view::{as_str, at, duplicates, Findings, Obj};
use super::Rule;
use crate::ir::canonical::Node;

const EXPERIMENT: &[&str] = &["experiment.Experiment"];
const OUTPUT: &[&str] = &["experiment.OutputSpec"];

pub const RULES: &[Rule] = &[
    Rule {
        code: "experiment.no_enabled_stage",
        types: EXPERIMENT,
        description: "At least one pipeline stage must be enabled.",
        check: no_enabled_stage,
    },
    Rule {
        code: "experiment.duplicate_output_name",
        types: EXPERIMENT,
        description: "Output names are unique.",
        check: duplicate_output,
    },
    Rule {
        code: "experiment.training_config_required",
        types: EXPERIMENT,
        description: "A training experiment needs a training configuration.",
        check: training_config_required,
    },
    Rule {
        code: "experiment.baseline_required",
        types: EXPERIMENT,
        description: "A comparison experiment needs something to compare with: a baseline or \
                      an A/B test.",
        check: baseline_required,
    },
    Rule {
        code: "experiment.group_by_not_in_schema",
        types: EXPERIMENT,
        description: "Fairness group_by must be a column of the dataset schema, when a schema \
                      is given.",
        check: group_by_in_schema,
    },
    Rule {
        code: "experiment.deployment_model_mismatch",
        types: EXPERIMENT,
        description: "A deployment in an experiment deploys the experiment's model version.",
        check: deployment_model,
    },
    Rule {
        code: "experiment.time_order",
        types: EXPERIMENT,
        description: "updated_at is not before created_at.",
        check: experiment_times,
    },
    Rule {
        code: "backend.fallback_cycle",
        types: &["experiment.BackendRef"],
        description: "A fallback chain never comes back to a backend already in it.",
        check: fallback_cycle,
    },
    Rule {
        code: "output.format_unsupported_by_sink",
        types: OUTPUT,
        description: "Every format can be written to the sink: stdout takes markdown, json and \
                      csv; postgres takes json and csv; file and s3 take all.",
        check: format_sink,
    },
    Rule {
        code: "output.duplicate_format",
        types: OUTPUT,
        description: "A format is listed once.",
        check: duplicate_format,
    },
    Rule {
        code: "output.compression_unsupported_by_sink",
        types: OUTPUT,
        description: "Compression needs a storage sink (file or s3).",
        check: compression_sink,
    },
    Rule {
        code: "output.encryption_unsupported_by_sink",
        types: OUTPUT,
        description: "Encryption needs a storage sink (file or s3).",
        check: encryption_sink,
    },
];

fn no_enabled_stage(exp: &Obj<'_, '_>, out: &mut Findings) {
    let stages = exp.objs("pipeline");
    if exp.truthy("pipeline") && !stages.iter().any(|(_, s)| s.truthy("enabled")) {
        out.add("/pipeline", "every stage is disabled: nothing would run");
    }
}

fn duplicate_output(exp: &Obj<'_, '_>, out: &mut Findings) {
    let names: Vec<&str> = exp
        .objs("outputs")
        .iter()
        .map(|(_, o)| o.str("name").unwrap_or(""))
        .collect();
    for (i, name) in duplicates(&names) {
        out.add(
            at(&["outputs", &i.to_string(), "name"]),
            format!("output name {} is used twice", repr_str(name)),
        );
    }
}

fn training_config_required(exp: &Obj<'_, '_>, out: &mut Findings) {
    if exp.str("experiment_type") == Some("training") && !exp.is_set("training_config") {
        out.add(
            "/training_config",
            "a training experiment needs a training_config",
        );
    }
}

fn baseline_required(exp: &Obj<'_, '_>, out: &mut Findings) {
    if exp.str("experiment_type") == Some("comparison")
        && !exp.is_set("baseline")
        && !exp.is_set("ab_test")
    {
        out.add(
            "/baseline",
            "a comparison experiment needs a baseline (or an ab_test)",
        );
    }
}

/// The column names a dataset schema declares (see `crucible.ir.dataset.schema_columns`):
/// JSON Schema properties, a `fields` list of names or of objects with a name, or else the
/// map's keys. None when a field list holds anything else.
fn schema_columns<'a>(
    schema: &'a [(std::borrow::Cow<'_, str>, Node<'_>)],
) -> Option<BTreeSet<&'a str>> {
    let get = |name: &str| schema.iter().find(|(k, _)| k == name).map(|(_, v)| v);
    if let Some(Node::Object(properties)) = get("properties") {
        return Some(properties.iter().map(|(k, _)| k.as_ref()).collect());
    }
    if let Some(Node::Array(fields)) = get("fields") {
        let mut names = BTreeSet::new();
        for field in fields {
            let name = match field {
                Node::String(s) => Some(s.as_ref()),
                Node::Object(members) => members
                    .iter()
                    .find(|(k, _)| k == "name")
                    .and_then(|(_, v)| as_str(v)),
                _ => None,
            };
            names.insert(name?);
        }
        return Some(names);
    }
    Some(schema.iter().map(|(k, _)| k.as_ref()).collect())
}

fn group_by_in_schema(exp: &Obj<'_, '_>, out: &mut Findings) {
    let Some(fairness) = exp.obj("reliability").and_then(|r| r.obj("fairness")) else {
        return;
    };
    let Some(group_by) = fairness.str("group_by") else {
        return;
    };
    let Some(schema) = exp.obj("dataset").and_then(|d| d.map("schema")) else {
        return;
    };
    let Some(columns) = schema_columns(schema) else {
        return;
    };
    if !columns.contains(group_by) {
        let listed = if columns.is_empty() {
            "no columns".to_owned()
        } else {
            columns.into_iter().collect::<Vec<_>>().join(", ")
        };
        out.add(
            "/reliability/fairness/group_by",
            format!(
                "group_by {} is not a column of the dataset schema ({listed})",
                repr_str(group_by)
            ),
        );
    }
}

fn deployment_model(exp: &Obj<'_, '_>, out: &mut Findings) {
    let (Some(deployment), Some(version)) = (exp.obj("deployment"), exp.obj("model_version"))
    else {
        return;
    };
    let (deployed, own) = (deployment.str("model_version_id"), version.str("id"));
    if deployed != own {
        out.add(
            "/deployment/model_version_id",
            format!(
                "deploys {} but the experiment's model version is {}",
                repr_str(deployed.unwrap_or("")),
                repr_str(own.unwrap_or(""))
            ),
        );
    }
}

fn experiment_times(exp: &Obj<'_, '_>, out: &mut Findings) {
    if let (Some(created), Some(updated)) = (exp.time("created_at"), exp.time("updated_at")) {
        if updated < created {
            out.add("/updated_at", "updated_at is before created_at");
        }
    }
}

fn fallback_cycle(backend: &Obj<'_, '_>, out: &mut Findings) {
    let mut seen: Vec<&str> = backend.str("id").into_iter().collect();
    let mut path = String::new();
    let mut current = backend.obj("fallback");
    while let Some(next) = current {
        path.push_str("/fallback");
        let id = next.str("id").unwrap_or("");
        if seen.contains(&id) {
            out.add(
                format!("{path}/id"),
                format!("fallback chain returns to backend {}", repr_str(id)),
            );
            return;
        }
        seen.push(id);
        current = next.obj("fallback");
    }
}

const ALL_FORMATS: &[&str] = &["markdown", "json", "html", "latex", "csv"];

/// The formats a sink can take (every format for an unknown sink).
fn sink_formats(sink: &str) -> &'static [&'static str] {
    match sink {
        "stdout" => &["markdown", "json", "csv"],
        "postgres" => &["json", "csv"],
        _ => ALL_FORMATS,
    }
}

fn is_storage(sink: &str) -> bool {
    matches!(sink, "file" | "s3")
}

fn format_sink(output: &Obj<'_, '_>, out: &mut Findings) {
    let sink = output.str("sink").unwrap_or("");
    let allowed = sink_formats(sink);
    let mut listed: Vec<&str> = allowed.to_vec();
    listed.sort_unstable();
    for (i, format) in output.strs("formats").into_iter().enumerate() {
        if !allowed.contains(&format) {
            out.add(
                at(&["formats", &i.to_string()]),
                format!(
                    "sink {sink} cannot take format {format} (it takes {})",
                    listed.join(", ")
                ),
            );
        }
    }
}

fn duplicate_format(output: &Obj<'_, '_>, out: &mut Findings) {
    for (i, format) in duplicates(&output.strs("formats")) {
        out.add(
            at(&["formats", &i.to_string()]),
            format!("format {format} is listed twice"),
        );
    }
}

fn compression_sink(output: &Obj<'_, '_>, out: &mut Findings) {
    let sink = output.str("sink").unwrap_or("");
    let compressed = output.str("compression").is_some_and(|c| c != "none");
    if compressed && !is_storage(sink) {
        out.add(
            "/compression",
            format!("sink {sink} cannot store compressed output"),
        );
    }
}

fn encryption_sink(output: &Obj<'_, '_>, out: &mut Findings) {
    let sink = output.str("sink").unwrap_or("");
    if output.truthy("encryption") && !is_storage(sink) {
        out.add(
            "/encryption",
            format!("sink {sink} cannot store encrypted output"),
        );
    }
}
