//! The structural half of IR validation, compiled from the JSON Schema msgspec derives
//! from the IR types (`msgspec.json.schema(Type)`), so the shape rules are written once:
//! in the Struct definitions.
//!
//! Only the schema vocabulary msgspec emits is understood: `$ref`/`$defs`, `type`,
//! `properties`/`required`/`additionalProperties`, `items`/`prefixItems`, `enum`, `anyOf`,
//! numeric bounds, lengths, `pattern` and `format: date-time` (plus our `x-timezone`
//! annotation, `"required"` or `"forbidden"`, for `Meta(tz=...)`, which JSON Schema cannot
//! say). Anything else is an error at compile time, not a silently skipped rule.
//!
//! Two more annotations feed the semantic rules (`super::rules`): a struct's `x-rules`
//! names its type (`"reliability.Ensemble"`), which selects the rules that check it, and
//! each property's `default` is kept so that rules read an absent field as its default.

use regex::Regex;
use serde_json::{Map, Value};

use super::canonical::{Node, Num};
use super::rules::{rules_for, Rule};
use crate::error::{CoreError, CoreResult};

/// Numeric bounds of an integer or number, as the schema writes them (integer bounds stay
/// exact: `2**63 - 1` has no double of its own).
#[derive(Debug, Clone, Default)]
pub struct Bounds {
    pub ge: Option<Num>,
    pub gt: Option<Num>,
    pub le: Option<Num>,
    pub lt: Option<Num>,
    pub multiple_of: Option<f64>,
}

/// Required or forbidden UTC offset on a date-time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tz {
    Any,
    Required,
    Forbidden,
}

#[derive(Debug, Clone)]
pub enum Schema {
    /// Opaque JSON (only non-finite numbers would be wrong, and JSON cannot carry them).
    Any,
    /// `items: false`: nothing is allowed here.
    Never,
    Null,
    Bool,
    Integer(Bounds),
    Number(Bounds),
    String {
        min: Option<usize>,
        max: Option<usize>,
        pattern: Option<Pattern>,
    },
    DateTime(Tz),
    /// Allowed values (strings, numbers), as the schema lists them.
    Enum(Vec<Value>),
    Array {
        prefix: Vec<Schema>,
        items: Box<Schema>,
        min: Option<usize>,
        max: Option<usize>,
    },
    /// A Struct: its fields, and whether unknown ones are errors.
    Struct {
        name: String,
        fields: Vec<Field>,
        forbid_unknown: bool,
        /// The semantic rules of this struct type (named by its `x-rules` annotation).
        rules: Vec<&'static Rule>,
    },
    /// A dict: every value (and key) checked against one schema.
    Map {
        values: Box<Schema>,
        min: Option<usize>,
        max: Option<usize>,
    },
    AnyOf(Vec<Schema>),
    /// An index into [`Compiled::defs`].
    Ref(usize),
}

/// A string pattern: the regex as Python's `re.search` reads it, and its source text.
#[derive(Debug, Clone)]
pub struct Pattern {
    pub regex: Regex,
    pub source: String,
}

/// Rewrites a Python `re` pattern (what msgspec applies) for the `regex` crate where the
/// two read it differently: `$` also matches before a final newline in Python, and Python's
/// `\s` (`str.isspace`) also takes the separators U+001C..U+001F.
pub fn python_pattern(source: &str) -> String {
    let mut out = String::with_capacity(source.len() + 16);
    let mut chars = source.chars();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('s') if in_class => out.push_str("\\s\\x1C-\\x1F"),
                Some('s') => out.push_str("[\\s\\x1C-\\x1F]"),
                Some('S') if !in_class => out.push_str("[^\\s\\x1C-\\x1F]"),
                Some('Z') => out.push_str("\\z"),
                Some(next) => {
                    out.push('\\');
                    out.push(next);
                }
                None => out.push('\\'),
            },
            '[' if !in_class => {
                in_class = true;
                out.push('[');
                // A `]` or `^]` right after the opening bracket is a literal.
                let rest = chars.as_str();
                for lead in ["^]", "]", "^"] {
                    if let Some(after) = rest.strip_prefix(lead) {
                        out.push_str(lead);
                        chars = after.chars();
                        break;
                    }
                }
            }
            ']' if in_class => {
                in_class = false;
                out.push(']');
            }
            '$' if !in_class => out.push_str("(?:\\n?\\z)"),
            other => out.push(other),
        }
    }
    out
}

/// One field of a Struct.
#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    pub schema: Schema,
    pub required: bool,
    /// The value an absent field takes (the schema's `default`), as the rules read it.
    pub default: Option<Node<'static>>,
}

/// A compiled document schema: the root and the named definitions it refers to.
#[derive(Debug, Clone)]
pub struct Compiled {
    pub root: Schema,
    pub defs: Vec<Schema>,
    pub names: Vec<String>,
}

fn bad(msg: impl Into<String>) -> CoreError {
    CoreError::InvalidArgument(format!("unsupported schema: {}", msg.into()))
}

/// Compiles `msgspec.json.schema(...)` output.
pub fn compile(schema: &[u8]) -> CoreResult<Compiled> {
    let value: Value = serde_json::from_slice(schema)
        .map_err(|e| CoreError::Serialization(format!("schema is not JSON: {e}")))?;
    let empty = Map::new();
    let defs_json = value
        .get("$defs")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let names: Vec<String> = defs_json.keys().cloned().collect();
    let mut compiler = Compiler { names: &names };
    let defs = defs_json
        .values()
        .map(|d| compiler.node(d))
        .collect::<CoreResult<Vec<_>>>()?;
    let root = compiler.node(&value)?;
    Ok(Compiled { root, defs, names })
}

struct Compiler<'a> {
    names: &'a [String],
}

/// A JSON number as the parser would read it.
fn number(value: &Value) -> Option<Num> {
    let n = value.as_number()?;
    Some(match (n.as_i64(), n.as_u64()) {
        (Some(i), _) => Num::Int(i),
        (None, Some(u)) => Num::UInt(u),
        _ => Num::Float(n.as_f64()?),
    })
}

/// A schema `default` as a parsed value the rules can read.
fn to_node(value: &Value) -> Node<'static> {
    match value {
        Value::Null => Node::Null,
        Value::Bool(b) => Node::Bool(*b),
        Value::Number(_) => number(value).map_or(Node::Null, Node::Number),
        Value::String(s) => Node::String(s.clone().into()),
        Value::Array(items) => Node::Array(items.iter().map(to_node).collect()),
        Value::Object(members) => Node::Object(
            members
                .iter()
                .map(|(k, v)| (k.clone().into(), to_node(v)))
                .collect(),
        ),
    }
}

fn usize_of(obj: &Map<String, Value>, key: &str) -> Option<usize> {
    obj.get(key)
        .and_then(Value::as_u64)
        .and_then(|v| usize::try_from(v).ok())
}

fn f64_of(obj: &Map<String, Value>, key: &str) -> Option<f64> {
    obj.get(key).and_then(Value::as_f64)
}

impl Compiler<'_> {
    fn node(&mut self, value: &Value) -> CoreResult<Schema> {
        let obj = match value {
            Value::Bool(true) => return Ok(Schema::Any),
            Value::Bool(false) => return Ok(Schema::Never),
            Value::Object(obj) => obj,
            other => return Err(bad(format!("expected an object, got {other}"))),
        };
        if let Some(target) = obj.get("$ref").and_then(Value::as_str) {
            let name = target
                .strip_prefix("#/$defs/")
                .ok_or_else(|| bad(format!("$ref {target}")))?;
            let index = self
                .names
                .iter()
                .position(|n| n == name)
                .ok_or_else(|| bad(format!("undefined $ref {target}")))?;
            return Ok(Schema::Ref(index));
        }
        if let Some(options) = obj.get("anyOf").and_then(Value::as_array) {
            let members = options
                .iter()
                .map(|o| self.node(o))
                .collect::<CoreResult<_>>()?;
            return Ok(Schema::AnyOf(members));
        }
        if let Some(values) = obj.get("enum").and_then(Value::as_array) {
            return Ok(Schema::Enum(values.clone()));
        }
        match obj.get("type") {
            None => Ok(Schema::Any),
            Some(Value::String(kind)) => self.typed(kind, obj),
            Some(Value::Array(kinds)) => {
                let members = kinds
                    .iter()
                    .map(|k| match k.as_str() {
                        Some(kind) => self.typed(kind, obj),
                        None => Err(bad("non-string type")),
                    })
                    .collect::<CoreResult<_>>()?;
                Ok(Schema::AnyOf(members))
            }
            Some(other) => Err(bad(format!("type {other}"))),
        }
    }

    fn bounds(obj: &Map<String, Value>) -> Bounds {
        let limit = |key: &str| obj.get(key).and_then(number);
        Bounds {
            ge: limit("minimum"),
            gt: limit("exclusiveMinimum"),
            le: limit("maximum"),
            lt: limit("exclusiveMaximum"),
            multiple_of: f64_of(obj, "multipleOf"),
        }
    }

    fn typed(&mut self, kind: &str, obj: &Map<String, Value>) -> CoreResult<Schema> {
        Ok(match kind {
            "null" => Schema::Null,
            "boolean" => Schema::Bool,
            "integer" => Schema::Integer(Self::bounds(obj)),
            "number" => Schema::Number(Self::bounds(obj)),
            "string" if obj.get("format").and_then(Value::as_str) == Some("date-time") => {
                Schema::DateTime(match obj.get("x-timezone").and_then(Value::as_str) {
                    Some("required") => Tz::Required,
                    Some("forbidden") => Tz::Forbidden,
                    _ => Tz::Any,
                })
            }
            "string" => Schema::String {
                min: usize_of(obj, "minLength"),
                max: usize_of(obj, "maxLength"),
                pattern: match obj.get("pattern").and_then(Value::as_str) {
                    Some(p) => Some(Pattern {
                        regex: Regex::new(&python_pattern(p))
                            .map_err(|e| bad(format!("pattern {p:?}: {e}")))?,
                        source: p.to_owned(),
                    }),
                    None => None,
                },
            },
            "array" => Schema::Array {
                prefix: match obj.get("prefixItems").and_then(Value::as_array) {
                    Some(items) => items
                        .iter()
                        .map(|i| self.node(i))
                        .collect::<CoreResult<_>>()?,
                    None => Vec::new(),
                },
                items: Box::new(match obj.get("items") {
                    Some(items) => self.node(items)?,
                    None => Schema::Any,
                }),
                min: usize_of(obj, "minItems"),
                max: usize_of(obj, "maxItems"),
            },
            "object" => self.object(obj)?,
            other => return Err(bad(format!("type {other:?}"))),
        })
    }

    fn object(&mut self, obj: &Map<String, Value>) -> CoreResult<Schema> {
        let Some(properties) = obj.get("properties").and_then(Value::as_object) else {
            let values = match obj.get("additionalProperties") {
                Some(v) => self.node(v)?,
                None => Schema::Any,
            };
            return Ok(Schema::Map {
                values: Box::new(values),
                min: usize_of(obj, "minProperties"),
                max: usize_of(obj, "maxProperties"),
            });
        };
        let required: Vec<&str> = obj
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let fields = properties
            .iter()
            .map(|(name, v)| {
                Ok(Field {
                    name: name.clone(),
                    schema: self.node(v)?,
                    required: required.contains(&name.as_str()),
                    default: v.get("default").map(to_node),
                })
            })
            .collect::<CoreResult<_>>()?;
        Ok(Schema::Struct {
            name: obj
                .get("title")
                .and_then(Value::as_str)
                .unwrap_or("object")
                .to_owned(),
            fields,
            forbid_unknown: obj.get("additionalProperties") == Some(&Value::Bool(false)),
            rules: match obj.get("x-rules") {
                None => Vec::new(),
                Some(Value::String(key)) => rules_for(key),
                Some(other) => return Err(bad(format!("x-rules {other}"))),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiles_msgspec_vocabulary_and_rejects_the_rest() {
        let schema = br##"{"$ref":"#/$defs/T","$defs":{"T":{"title":"T","type":"object",
            "properties":{"id":{"type":"string","minLength":1,"pattern":"^[a-z]"},
            "k":{"$ref":"#/$defs/K"},"t":{"type":"array","prefixItems":[{"type":"integer"}],
            "items":false},"when":{"type":"string","format":"date-time","x-timezone":"required"},
            "m":{"type":"object","additionalProperties":{"type":"integer"}}},
            "required":["id"],"additionalProperties":false},
            "K":{"title":"K","enum":["a","b"]}}}"##;
        let compiled = compile(schema).unwrap();
        assert_eq!(compiled.names, vec!["T", "K"]);
        assert!(matches!(compiled.root, Schema::Ref(0)));
        let Schema::Struct { fields, .. } = &compiled.defs[0] else {
            panic!("struct expected");
        };
        assert!(matches!(fields[3].schema, Schema::DateTime(Tz::Required)));
        assert!(fields[0].required && !fields[1].required);
        assert!(compile(br##"{"$ref":"#/$defs/Nope"}"##).is_err());
        assert!(compile(br#"{"type":"tensor"}"#).is_err());
        assert!(compile(br#"{"type":"string","pattern":"("}"#).is_err());
        assert!(compile(b"not json").is_err());
    }

    #[test]
    fn patterns_read_as_python_reads_them() {
        let re = |p: &str| Regex::new(&python_pattern(p)).unwrap();
        let version = re(r"^\d+\.\d+\.\d+$");
        assert!(version.is_match("0.3.0") && version.is_match("0.3.0\n"));
        assert!(!version.is_match("0.3.0\n\n") && !version.is_match("0.3.0x"));
        let url = re(r"^[A-Za-z][A-Za-z0-9+.\-]*://\S+$");
        assert!(url.is_match("https://a.b/c") && !url.is_match("https://a\u{1c}b"));
        assert!(re(r"^[]$a]+$").is_match("]$a") && re(r"[^]x]").is_match("y"));
        assert!(re(r"a\Z").is_match("a") && !re(r"a\Z").is_match("a\n"));
    }
}
