//! Structural validation against a small msgspec-style schema.

use super::super::schema::compile;
use super::*;

const SCHEMA: &[u8] = br##"{"$ref":"#/$defs/T","$defs":{"T":{"title":"T","type":"object",
    "properties":{"id":{"type":"string","minLength":1,"pattern":"^[a-z]"},
    "k":{"$ref":"#/$defs/K","default":"a"},
    "inner":{"anyOf":[{"$ref":"#/$defs/Inner"},{"type":"null"}],"default":null},
    "when":{"type":"string","format":"date-time","x-timezone":"required"},
    "n":{"type":"integer","minimum":0},"m":{"type":"object","additionalProperties":{"type":"integer"}},
    "t":{"type":"array","minItems":2,"maxItems":2,"prefixItems":[{"type":"integer"},{"type":"string"}],"items":false}},
    "required":["id"],"additionalProperties":false},
    "K":{"title":"K","enum":["a","b"]},
    "Inner":{"title":"Inner","type":"object","properties":{"x":{"type":"number","exclusiveMinimum":0,"maximum":1}},
    "required":[],"additionalProperties":false}}}"##;

fn problems(doc: &str) -> Vec<(String, &'static str)> {
    let compiled = compile(SCHEMA).unwrap();
    compiled
        .check(&parse(doc.as_bytes()).unwrap(), "")
        .into_iter()
        .map(|p| (p.pointer, p.code))
        .collect()
}

#[test]
fn valid_document_has_no_problems() {
    let doc = r#"{"id":"ab","k":"b","inner":{"x":0.5},"when":"2026-11-23T10:00:00+01:00","n":3,"m":{"a":1},"t":[1,"x"]}"#;
    assert_eq!(problems(doc), vec![]);
    assert_eq!(problems(r#"{"id":"a","inner":null}"#), vec![]);
}

#[test]
fn every_problem_is_collected_with_its_pointer() {
    let doc = r#"{"k":"c","inner":{"x":2,"y":1},"when":"2026-11-23T10:00:00","n":1.0,"m":{"a/b":"s"},"t":[1,"x",3],"zz":0}"#;
    let want = vec![
        ("/id".to_string(), "required"),
        ("/k".to_string(), "enum"),
        ("/inner/x".to_string(), "range"),
        ("/inner/y".to_string(), "unknown_field"),
        ("/when".to_string(), "timezone"),
        ("/n".to_string(), "type"),
        ("/m/a~1b".to_string(), "type"),
        ("/t".to_string(), "length"),
        ("/t/2".to_string(), "length"),
        ("/zz".to_string(), "unknown_field"),
    ];
    assert_eq!(problems(doc), want);
    assert_eq!(problems(r#"{"id":null}"#), vec![("/id".into(), "required")]);
    assert_eq!(
        problems(r#"{"id":"Ab","n":-1}"#),
        vec![("/id".into(), "pattern"), ("/n".into(), "range")]
    );
    assert_eq!(
        problems(r#"{"id":"a","when":"yesterday"}"#),
        vec![("/when".into(), "format")]
    );
    assert_eq!(problems("[]"), vec![("".into(), "type")]);
}
