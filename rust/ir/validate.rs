//! Checking a parsed document against a compiled schema, collecting every problem.
//!
//! Codes and pointers are those of `crucible.ir.structure` (the Python statement of the
//! same checks): `type`, `required`, `unknown_field`, `enum`, `format`, `timezone` (shape
//! errors), `range`, `length`, `pattern` (value errors). A required field that is missing,
//! or null where null is not allowed, is `required`; an optional one that is null where
//! null is not allowed is `type`. Of a union's members the one with the fewest errors
//! speaks for it.
//!
//! [`Compiled::validate_document`] adds the semantic rules (`super::rules`) to the
//! structural pass, for documents without a shape error.

use serde_json::Value;

use super::bounds::{length_problem, range_problem};
use super::canonical::{parse, Node, Num};
use super::datetime::parse_rfc3339;
use super::jsonl::{parse_problem, Check};
use super::schema::{Bounds, Compiled, Schema, Tz};

/// One problem: JSON pointer, code, message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub pointer: String,
    pub code: &'static str,
    pub message: String,
}

/// Codes after which a document cannot be read as its type (semantic rules skip it).
pub const SHAPE_CODES: [&str; 6] = [
    "type",
    "required",
    "unknown_field",
    "enum",
    "format",
    "timezone",
];

/// Where a value sits, built on the stack and rendered as a JSON pointer only when a
/// problem is found there (valid documents allocate nothing for their paths).
#[derive(Clone, Copy)]
pub(crate) enum Path<'a> {
    Root(&'a str),
    Key(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl Path<'_> {
    pub(crate) fn render(&self) -> String {
        match self {
            Path::Root(base) => (*base).to_owned(),
            Path::Key(parent, key) => join(&parent.render(), key),
            Path::Index(parent, i) => join(&parent.render(), &i.to_string()),
        }
    }
}

fn push(out: &mut Vec<Problem>, path: &Path<'_>, code: &'static str, message: String) {
    out.push(Problem {
        pointer: path.render(),
        code,
        message,
    });
}

/// `base` extended by one reference token, escaped as RFC 6901 requires.
pub fn join(base: &str, token: &str) -> String {
    let mut out = String::with_capacity(base.len() + token.len() + 1);
    out.push_str(base);
    out.push('/');
    for c in token.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c => out.push(c),
        }
    }
    out
}

fn kind(node: &Node<'_>) -> &'static str {
    match node {
        Node::Null => "null",
        Node::Bool(_) => "boolean",
        Node::Number(n) if n.is_integer() => "integer",
        Node::Number(_) => "number",
        Node::String(_) => "string",
        Node::Array(_) => "array",
        Node::Object(_) => "object",
    }
}

impl Compiled {
    /// Every structural problem of `doc`, pointers relative to `base`.
    pub fn check(&self, doc: &Node<'_>, base: &str) -> Vec<Problem> {
        let mut out = Vec::new();
        self.walk(doc, &self.root, &Path::Root(base), &mut out, true);
        out
    }

    /// Follows references to the schema they stand for.
    pub(crate) fn resolve<'s>(&'s self, mut schema: &'s Schema) -> &'s Schema {
        // Definitions never refer to themselves directly, but be safe against loops.
        for _ in 0..64 {
            match schema {
                Schema::Ref(i) => match self.defs.get(*i) {
                    Some(target) => schema = target,
                    None => return &Schema::Any,
                },
                other => return other,
            }
        }
        schema
    }

    fn allows_null(&self, schema: &Schema) -> bool {
        match self.resolve(schema) {
            Schema::Null | Schema::Any => true,
            Schema::AnyOf(members) => members.iter().any(|m| self.allows_null(m)),
            Schema::Enum(values) => values.contains(&Value::Null),
            _ => false,
        }
    }

    fn describe(&self, schema: &Schema) -> String {
        match self.resolve(schema) {
            Schema::Struct { .. } | Schema::Map { .. } => "object".into(),
            Schema::Integer(_) => "integer".into(),
            Schema::Number(_) => "number".into(),
            Schema::String { .. } | Schema::DateTime(_) => "string".into(),
            Schema::Enum(values) if values.iter().all(Value::is_string) => "string".into(),
            Schema::Enum(values) => format!("one of {}", list(values)),
            Schema::Bool => "boolean".into(),
            Schema::Null => "null".into(),
            Schema::Array { .. } => "array".into(),
            Schema::AnyOf(members) => members
                .iter()
                .map(|m| self.describe(m))
                .collect::<Vec<_>>()
                .join(" or "),
            Schema::Any | Schema::Never | Schema::Ref(_) => "any".into(),
        }
    }

    fn walk(
        &self,
        node: &Node<'_>,
        schema: &Schema,
        ptr: &Path<'_>,
        out: &mut Vec<Problem>,
        required: bool,
    ) {
        let schema = self.resolve(schema);
        if matches!(schema, Schema::Any) {
            return;
        }
        if matches!(node, Node::Null) {
            if !self.allows_null(schema) {
                if required {
                    push(out, ptr, "required", "is required".into());
                } else {
                    let want = self.describe(schema);
                    push(out, ptr, "type", format!("expected {want}, got null"));
                }
            }
            return;
        }
        match schema {
            Schema::AnyOf(members) => self.union(node, members, ptr, out, required),
            Schema::Never => push(out, ptr, "length", "no item is allowed here".into()),
            Schema::Null => push(
                out,
                ptr,
                "type",
                format!("expected null, got {}", kind(node)),
            ),
            Schema::Bool => {
                if !matches!(node, Node::Bool(_)) {
                    push(
                        out,
                        ptr,
                        "type",
                        format!("expected boolean, got {}", kind(node)),
                    );
                }
            }
            Schema::Integer(bounds) => match node {
                Node::Number(n) if n.is_integer() => range(*n, bounds, ptr, out),
                _ => push(
                    out,
                    ptr,
                    "type",
                    format!("expected integer, got {}", kind(node)),
                ),
            },
            Schema::Number(bounds) => match node {
                Node::Number(n) => range(*n, bounds, ptr, out),
                _ => push(
                    out,
                    ptr,
                    "type",
                    format!("expected number, got {}", kind(node)),
                ),
            },
            Schema::String { min, max, pattern } => {
                let Node::String(text) = node else {
                    push(
                        out,
                        ptr,
                        "type",
                        format!("expected string, got {}", kind(node)),
                    );
                    return;
                };
                length(text.chars().count(), *min, *max, "character(s)", ptr, out);
                if let Some(re) = pattern {
                    if !re.regex.is_match(text) {
                        let msg = format!("must match {:?}, got {:?}", re.source, text);
                        push(out, ptr, "pattern", msg);
                    }
                }
            }
            Schema::DateTime(tz) => self.datetime(node, *tz, ptr, out),
            Schema::Enum(values) => {
                if !values.iter().any(|v| same_value(node, v)) {
                    let shown = match node {
                        Node::String(s) => format!("{s:?}"),
                        other => kind(other).to_owned(),
                    };
                    let msg = format!("must be one of: {} (got {shown})", list(values));
                    push(out, ptr, "enum", msg);
                }
            }
            Schema::Array {
                prefix,
                items,
                min,
                max,
            } => {
                let Node::Array(elements) = node else {
                    push(
                        out,
                        ptr,
                        "type",
                        format!("expected array, got {}", kind(node)),
                    );
                    return;
                };
                length(elements.len(), *min, *max, "item(s)", ptr, out);
                for (i, element) in elements.iter().enumerate() {
                    let schema = prefix.get(i).unwrap_or(items);
                    self.walk(element, schema, &Path::Index(ptr, i), out, false);
                }
            }
            Schema::Map { values, min, max } => {
                let Node::Object(members) = node else {
                    push(
                        out,
                        ptr,
                        "type",
                        format!("expected object, got {}", kind(node)),
                    );
                    return;
                };
                length(members.len(), *min, *max, "entries", ptr, out);
                for (key, value) in members {
                    self.walk(value, values, &Path::Key(ptr, key), out, false);
                }
            }
            Schema::Struct {
                fields,
                forbid_unknown,
                ..
            } => {
                let Node::Object(members) = node else {
                    let msg = format!("expected object, got {}", kind(node));
                    push(out, ptr, "type", msg);
                    return;
                };
                // Documents usually list fields in definition order: look where the
                // previous field was found first, then scan.
                let mut hint = 0;
                let mut matched = 0;
                for field in fields {
                    let where_ = Path::Key(ptr, &field.name);
                    let found = match members.get(hint) {
                        Some((k, v)) if *k == field.name => Some((hint, v)),
                        _ => members
                            .iter()
                            .position(|(k, _)| *k == field.name)
                            .map(|i| (i, &members[i].1)),
                    };
                    match found {
                        Some((i, value)) => {
                            hint = i + 1;
                            matched += 1;
                            self.walk(value, &field.schema, &where_, out, field.required);
                        }
                        None if field.required => {
                            push(out, &where_, "required", "is required".into())
                        }
                        None => {}
                    }
                }
                if *forbid_unknown && matched < members.len() {
                    for (key, _) in members {
                        if !fields.iter().any(|f| f.name == *key) {
                            let where_ = Path::Key(ptr, key);
                            push(out, &where_, "unknown_field", "unknown field".into());
                        }
                    }
                }
            }
            Schema::Any | Schema::Ref(_) => {}
        }
    }

    fn union(
        &self,
        node: &Node<'_>,
        members: &[Schema],
        ptr: &Path<'_>,
        out: &mut Vec<Problem>,
        required: bool,
    ) {
        let mut candidates = members
            .iter()
            .filter(|m| !matches!(self.resolve(m), Schema::Null));
        // `T | None`, the usual case: one candidate, checked without trial runs.
        if let (Some(only), None) = (candidates.next(), candidates.next()) {
            self.walk(node, only, ptr, out, required);
            return;
        }
        let candidates = members
            .iter()
            .filter(|m| !matches!(self.resolve(m), Schema::Null));
        let mut best: Option<Vec<Problem>> = None;
        for member in candidates {
            let mut trial = Vec::new();
            self.walk(node, member, ptr, &mut trial, required);
            if trial.is_empty() {
                return;
            }
            if best.as_ref().is_none_or(|b| trial.len() < b.len()) {
                best = Some(trial);
            }
        }
        match best {
            Some(problems) => out.extend(problems),
            None => {
                let want = self.describe(&Schema::AnyOf(members.to_vec()));
                push(out, ptr, "type", format!("expected {want}"));
            }
        }
    }

    fn datetime(&self, node: &Node<'_>, tz: Tz, ptr: &Path<'_>, out: &mut Vec<Problem>) {
        let Node::String(text) = node else {
            push(
                out,
                ptr,
                "type",
                format!("expected string, got {}", kind(node)),
            );
            return;
        };
        match parse_rfc3339(text) {
            None => push(
                out,
                ptr,
                "format",
                format!("must be an RFC 3339 date-time, got {text:?}"),
            ),
            Some(has_offset) => match tz {
                Tz::Required if !has_offset => push(
                    out,
                    ptr,
                    "timezone",
                    "must carry a UTC offset (Z or +hh:mm)".into(),
                ),
                Tz::Forbidden if has_offset => {
                    push(out, ptr, "timezone", "must not carry a UTC offset".into())
                }
                _ => {}
            },
        }
    }
}

impl Compiled {
    /// Every problem of `doc`: the structural ones and, unless one of them is a shape
    /// error (the document cannot be read as its type), the semantic rules' findings.
    pub fn validate_document(&self, doc: &Node<'_>) -> Vec<Problem> {
        let mut found = self.check(doc, "");
        if !found.iter().any(|p| SHAPE_CODES.contains(&p.code)) {
            found.extend(self.semantic(doc, ""));
        }
        found
    }
}

impl Check for Compiled {
    fn problems(&self, doc: &[u8]) -> Vec<Problem> {
        match parse(doc) {
            Ok(node) => self.validate_document(&node),
            Err(_) => parse_problem(doc).into_iter().collect(),
        }
    }
}

fn list(values: &[Value]) -> String {
    values
        .iter()
        .map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Enum membership as msgspec decides it: strings and integers by value; booleans never
/// stand for numbers.
fn same_value(node: &Node<'_>, value: &Value) -> bool {
    match (node, value) {
        (Node::String(s), Value::String(v)) => s == v,
        (Node::Number(n), Value::Number(v)) => v.as_f64() == Some(n.as_f64()),
        (Node::Null, Value::Null) => true,
        _ => false,
    }
}

fn range(n: Num, bounds: &Bounds, ptr: &Path<'_>, out: &mut Vec<Problem>) {
    if let Some(message) = range_problem(n, bounds) {
        push(out, ptr, "range", message);
    }
}

fn length(
    len: usize,
    min: Option<usize>,
    max: Option<usize>,
    unit: &str,
    ptr: &Path<'_>,
    out: &mut Vec<Problem>,
) {
    if let Some(message) = length_problem(len, min, max, unit) {
        push(out, ptr, "length", message);
    }
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
