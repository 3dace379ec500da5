//! Rules of the model registry types.

use super::python::repr_str;
use super::view::{at, duplicates, Findings, Obj};
use super::Rule;

const VERSION: &[&str] = &["model.ModelVersion"];

pub const RULES: &[Rule] = &[
    Rule {
        code: "model.duplicate_tag",
        types: &["model.ModelRef", "model.ModelVersion"],
        description: "A tag key is used once.",
        check: model_tags,
    },
    Rule {
        code: "model_version.parent_is_self",
        types: VERSION,
        description: "A version is not its own parent.",
        check: parent_self,
    },
    Rule {
        code: "model_version.model_mismatch",
        types: VERSION,
        description: "An embedded model reference is the version's model.",
        check: version_model,
    },
    Rule {
        code: "model_version.lineage_run_mismatch",
        types: VERSION,
        description: "Lineage and version agree on the training run.",
        check: version_run,
    },
    Rule {
        code: "signature.duplicate_name",
        types: &["model.ModelSignature"],
        description: "Input names are unique, and so are output names.",
        check: signature_names,
    },
];

fn model_tags(model: &Obj<'_, '_>, out: &mut Findings) {
    let keys: Vec<&str> = model
        .objs("tags")
        .iter()
        .map(|(_, t)| t.str("key").unwrap_or(""))
        .collect();
    for (i, key) in duplicates(&keys) {
        out.add(
            at(&["tags", &i.to_string(), "key"]),
            format!("tag {} is used twice", repr_str(key)),
        );
    }
}

fn parent_self(version: &Obj<'_, '_>, out: &mut Findings) {
    let own = version.str("version");
    if own.is_some() && version.str("parent_version") == own {
        out.add("/parent_version", "a version cannot be its own parent");
    }
    let Some(lineage) = version.obj("lineage") else {
        return;
    };
    let parent_model = lineage.str("parent_model_id");
    if own.is_some()
        && lineage.str("parent_version") == own
        && (parent_model.is_none() || parent_model == version.str("model_id"))
    {
        out.add(
            "/lineage/parent_version",
            "a version cannot be its own parent",
        );
    }
}

fn version_model(version: &Obj<'_, '_>, out: &mut Findings) {
    let Some(model_ref) = version.obj("model_ref") else {
        return;
    };
    let (referenced, own) = (
        model_ref.str("id").unwrap_or(""),
        version.str("model_id").unwrap_or(""),
    );
    if referenced != own {
        out.add(
            "/model_ref/id",
            format!(
                "model_ref {} differs from model_id {}",
                repr_str(referenced),
                repr_str(own)
            ),
        );
    }
}

fn version_run(version: &Obj<'_, '_>, out: &mut Findings) {
    let lineage_run = version
        .obj("lineage")
        .and_then(|l| l.str("training_run_id"))
        .filter(|r| !r.is_empty());
    let own = version.str("training_run_id").filter(|r| !r.is_empty());
    if let (Some(lineage_run), Some(own)) = (lineage_run, own) {
        if lineage_run != own {
            out.add(
                "/lineage/training_run_id",
                format!(
                    "lineage names run {} but the version names {}",
                    repr_str(lineage_run),
                    repr_str(own)
                ),
            );
        }
    }
}

fn signature_names(signature: &Obj<'_, '_>, out: &mut Findings) {
    for (side, singular) in [("inputs", "input"), ("outputs", "output")] {
        let names: Vec<&str> = signature
            .objs(side)
            .iter()
            .map(|(_, s)| s.str("name").unwrap_or(""))
            .collect();
        for (i, name) in duplicates(&names) {
            out.add(
                at(&[side, &i.to_string(), "name"]),
                format!("{singular} {} is declared twice", repr_str(name)),
            );
        }
    }
}
