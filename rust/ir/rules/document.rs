//! Rules every document shares: the schema version.

use super::python::ascii_digits;
use super::view::{Findings, Obj};
use super::Rule;

/// The document types (every one carries `schema_version`).
pub const DOCUMENTS: &[&str] = &[
    "experiment.Experiment",
    "model.ModelRef",
    "model.ModelVersion",
    "training.Config",
    "training.Run",
    "deployment.Config",
    "deployment.Status",
    "feedback.Event",
    "feedback.CorrectionEvent",
    "feedback.LabelingTask",
];

pub const RULES: &[Rule] = &[Rule {
    code: "schema_version.unsupported",
    types: DOCUMENTS,
    description: "A document must be of the current schema version (same major and minor); \
                  older documents go through crucible.ir.migrate first.",
    check: schema_version,
}];

/// `(major, minor)` of `x.y.z` (three runs of digits of any script), None otherwise.
fn major_minor(version: &str) -> Option<(u64, u64)> {
    let version = ascii_digits(version);
    let parts: Vec<&str> = version.split('.').collect();
    if parts.len() != 3
        || !parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let number = |p: &&str| p.trim_start_matches('0').parse::<u64>().unwrap_or(0);
    Some((number(parts.first()?), number(parts.get(1)?)))
}

/// The current version is the field's default: the types state it once.
fn schema_version(doc: &Obj<'_, '_>, out: &mut Findings) {
    let (Some(version), Some(current)) =
        (doc.str("schema_version"), doc.default_str("schema_version"))
    else {
        return;
    };
    if major_minor(version) != major_minor(current) {
        out.add(
            "/schema_version",
            format!("schema version {version} is not {current}; migrate the document first"),
        );
    }
}
