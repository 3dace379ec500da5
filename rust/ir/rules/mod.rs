//! The semantic rules of the IR: relations between fields and between structs that a
//! schema cannot say. Each rule has a stable code (`"<domain>.<what>"`), checks the struct
//! types it names (`"<module>.<Type>"`, the Python module of the IR type and its name) and
//! reports findings as a pointer relative to the checked struct plus a message.
//!
//! Rules run on a parsed document once the structural pass found no *shape* error (see
//! `validate::SHAPE_CODES`): values may still be out of range, so a rule never assumes a
//! bound the types declare. The walk visits every struct of the document: its rules first
//! (in registration order), then the structs in its fields, in field order, items of a list
//! by index. Struct types are known from the compiled schema (`x-rules` annotations), so
//! the same rules serve any type compiled, the root or one nested deep.
//!
//! The rules live by domain in the submodules; [`catalogue`] lists them all.

pub(crate) mod deployment;
mod document;
mod experiment;
mod feedback;
mod model;
pub mod python;
mod reliability;
mod training;
pub mod view;

use std::fmt;

use super::canonical::Node;
use super::schema::{Compiled, Schema};
use super::validate::{Path, Problem};
use view::{Findings, Obj};

/// One semantic rule.
pub struct Rule {
    /// Stable code, `"<domain>.<what>"`.
    pub code: &'static str,
    /// The struct types it checks, as `"<module>.<Type>"`.
    pub types: &'static [&'static str],
    /// What it requires, in one or two sentences.
    pub description: &'static str,
    pub check: fn(&Obj<'_, '_>, &mut Findings),
}

impl fmt::Debug for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code)
    }
}

/// Every rule, in registration order (the order findings of one struct come in).
pub fn catalogue() -> impl Iterator<Item = &'static Rule> {
    [
        deployment::RULES,
        document::RULES,
        experiment::RULES,
        feedback::RULES,
        model::RULES,
        reliability::RULES,
        training::RULES,
    ]
    .into_iter()
    .flatten()
}

/// The rules that check struct type `key`, in registration order.
pub fn rules_for(key: &str) -> Vec<&'static Rule> {
    catalogue().filter(|r| r.types.contains(&key)).collect()
}

impl Compiled {
    /// The findings of every semantic rule on `doc` (which must be free of shape errors),
    /// pointers relative to `base`.
    pub fn semantic(&self, doc: &Node<'_>, base: &str) -> Vec<Problem> {
        let mut out = Vec::new();
        self.visit(doc, &self.root, &Path::Root(base), &mut out);
        out
    }

    fn visit(&self, node: &Node<'_>, schema: &Schema, at: &Path<'_>, out: &mut Vec<Problem>) {
        let Some(obj) = Obj::of(self, node, schema) else {
            return;
        };
        for rule in obj.rules() {
            let mut found = Findings::default();
            (rule.check)(&obj, &mut found);
            for (relative, message) in found.into_items() {
                out.push(Problem {
                    pointer: format!("{}{relative}", at.render()),
                    code: rule.code,
                    message,
                });
            }
        }
        let mut hint = 0;
        for field in obj.fields() {
            let Some((index, value)) = obj.member_from(&field.name, hint) else {
                continue;
            };
            hint = index + 1;
            let here = Path::Key(at, &field.name);
            match value {
                Node::Object(_) if self.struct_in(&field.schema).is_some() => {
                    self.visit(value, &field.schema, &here, out);
                }
                Node::Array(items) => {
                    let Some(item_schema) = self.items_of(&field.schema) else {
                        continue;
                    };
                    if self.struct_in(item_schema).is_none() {
                        continue;
                    }
                    for (i, item) in items.iter().enumerate() {
                        if matches!(item, Node::Object(_)) {
                            self.visit(item, item_schema, &Path::Index(&here, i), out);
                        }
                    }
                }
                _ => {}
            }
        }
    }

    /// The struct schema a value of `schema` is read as, if any: the schema itself or,
    /// in a union (`T | None`), its struct member.
    pub(crate) fn struct_in<'s>(&'s self, schema: &'s Schema) -> Option<&'s Schema> {
        match self.resolve(schema) {
            s @ Schema::Struct { .. } => Some(s),
            Schema::AnyOf(members) => members.iter().find_map(|m| self.struct_in(m)),
            _ => None,
        }
    }

    /// The item schema of a list field (`list[T]` or `list[T] | None`).
    pub(crate) fn items_of<'s>(&'s self, schema: &'s Schema) -> Option<&'s Schema> {
        match self.resolve(schema) {
            Schema::Array { items, .. } => Some(items),
            Schema::AnyOf(members) => members.iter().find_map(|m| self.items_of(m)),
            _ => None,
        }
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
