//! How a rule reads a struct: fields by name, an absent field as its schema default and an
//! explicit `null` as no value (Python's `None`), nested structs as views of their own.

use std::borrow::Cow;

use super::super::canonical::{Node, Num};
use super::super::datetime::instant;
use super::super::schema::{Compiled, Field, Schema};
use super::python::{num_cmp, truthy};
use super::Rule;

/// A struct of a document, read through its schema.
pub struct Obj<'a, 'n> {
    compiled: &'a Compiled,
    members: &'a [(Cow<'n, str>, Node<'n>)],
    fields: &'a [Field],
    rules: &'a [&'static Rule],
}

type Members<'a, 'n> = &'a [(Cow<'n, str>, Node<'n>)];

impl<'a, 'n> Obj<'a, 'n> {
    /// `node` read as the struct type `schema` stands for (None if it is not one).
    pub fn of(compiled: &'a Compiled, node: &'a Node<'n>, schema: &'a Schema) -> Option<Self> {
        let Node::Object(members) = node else {
            return None;
        };
        match compiled.struct_in(schema)? {
            Schema::Struct { fields, rules, .. } => Some(Obj {
                compiled,
                members: members.as_slice() as Members<'a, 'n>,
                fields,
                rules,
            }),
            _ => None,
        }
    }

    pub fn rules(&self) -> &'a [&'static Rule] {
        self.rules
    }

    pub fn fields(&self) -> &'a [Field] {
        self.fields
    }

    fn field(&self, name: &str) -> Option<&'a Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The member named `name` and its index, looked for at `hint` first (documents list
    /// fields in definition order, so walking the fields in order finds each at once).
    pub fn member_from(&self, name: &str, hint: usize) -> Option<(usize, &'a Node<'n>)> {
        match self.members.get(hint) {
            Some((k, v)) if k == name => Some((hint, v)),
            _ => self
                .members
                .iter()
                .position(|(k, _)| k == name)
                .map(|i| (i, &self.members[i].1)),
        }
    }

    /// The member as written (null included), None when absent.
    pub fn member(&self, name: &str) -> Option<&'a Node<'n>> {
        self.members.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// The field's value: as written, or its default when absent; None for null.
    pub fn get(&self, name: &str) -> Option<&'a Node<'n>> {
        let value = match self.member(name) {
            Some(v) => v,
            None => self.field(name)?.default.as_ref()?,
        };
        (!matches!(value, Node::Null)).then_some(value)
    }

    pub fn is_set(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Python truthiness of the field's value.
    pub fn truthy(&self, name: &str) -> bool {
        self.get(name).is_some_and(truthy)
    }

    pub fn str(&self, name: &str) -> Option<&'a str> {
        match self.get(name)? {
            Node::String(s) => Some(s),
            _ => None,
        }
    }

    /// A number (never a boolean) as a double.
    pub fn num(&self, name: &str) -> Option<f64> {
        match self.get(name)? {
            Node::Number(n) => Some(n.as_f64()),
            _ => None,
        }
    }

    /// A number as written (ints exact), for comparisons as Python makes them.
    pub fn number(&self, name: &str) -> Option<Num> {
        match self.get(name)? {
            Node::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// A list field's items; None when it is unset.
    pub fn list(&self, name: &str) -> Option<&'a [Node<'n>]> {
        match self.get(name)? {
            Node::Array(items) => Some(items),
            _ => None,
        }
    }

    /// A list field's items, empty when it is unset (`x or []`).
    pub fn items(&self, name: &str) -> &'a [Node<'n>] {
        self.list(name).unwrap_or(&[])
    }

    /// The strings of a list field, in order (other items skipped).
    pub fn strs(&self, name: &str) -> Vec<&'a str> {
        self.items(name).iter().filter_map(as_str).collect()
    }

    /// A map field's members; None when it is unset.
    pub fn map(&self, name: &str) -> Option<Members<'a, 'n>> {
        match self.get(name)? {
            Node::Object(members) => Some(members),
            _ => None,
        }
    }

    /// A nested struct.
    pub fn obj(&self, name: &str) -> Option<Obj<'a, 'n>> {
        let field = self.field(name)?;
        Obj::of(self.compiled, self.get(name)?, &field.schema)
    }

    /// The structs of a list field (`x or []`), each with its index.
    pub fn objs(&self, name: &str) -> Vec<(usize, Obj<'a, 'n>)> {
        let Some(field) = self.field(name) else {
            return Vec::new();
        };
        let Some(items) = self.compiled.items_of(&field.schema) else {
            return Vec::new();
        };
        self.items(name)
            .iter()
            .enumerate()
            .filter_map(|(i, node)| Obj::of(self.compiled, node, items).map(|o| (i, o)))
            .collect()
    }

    /// A date-time field as an instant (microseconds since the epoch).
    pub fn time(&self, name: &str) -> Option<i64> {
        instant(self.str(name)?)
    }

    /// The field's default as the schema states it (the current schema version, say).
    pub fn default_str(&self, name: &str) -> Option<&'a str> {
        match self.field(name)?.default.as_ref()? {
            Node::String(s) => Some(s),
            _ => None,
        }
    }
}

pub fn as_str<'a>(node: &'a Node<'_>) -> Option<&'a str> {
    match node {
        Node::String(s) => Some(s),
        _ => None,
    }
}

/// The findings of one rule on one struct: (relative pointer, message).
#[derive(Default)]
pub struct Findings {
    items: Vec<(String, String)>,
}

impl Findings {
    pub fn add(&mut self, pointer: impl Into<String>, message: impl Into<String>) {
        self.items.push((pointer.into(), message.into()));
    }

    pub fn into_items(self) -> Vec<(String, String)> {
        self.items
    }
}

/// A relative pointer from reference tokens (`at(&["models", "2"])` is `/models/2`).
pub fn at(tokens: &[&str]) -> String {
    tokens.iter().fold(String::new(), |acc, t| {
        super::super::validate::join(&acc, t)
    })
}

/// Indexes of the values that already occurred earlier, with the value.
pub fn duplicates<'v>(values: &[&'v str]) -> Vec<(usize, &'v str)> {
    let mut seen = std::collections::HashSet::new();
    values
        .iter()
        .enumerate()
        .filter(|&(_, v)| !seen.insert(*v))
        .map(|(i, v)| (i, *v))
        .collect()
}

/// `a > b` for two numbers read with [`Obj::number`] (false when either is unset).
pub fn greater(a: Option<Num>, b: Option<Num>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => num_cmp(a, b) == Some(std::cmp::Ordering::Greater),
        _ => false,
    }
}
