use super::python::{format_g, fsum, py_eq, repr, repr_float, repr_str};
use super::*;
use crate::ir::canonical::parse;
use crate::ir::datetime::instant;
use crate::ir::schema::compile;

const SCHEMA: &[u8] = br##"{"$ref":"#/$defs/Ensemble","$defs":{
  "Ensemble":{"title":"Ensemble","type":"object","x-rules":"reliability.Ensemble",
    "properties":{"strategy":{"enum":["none","majority","weighted"],"default":"none"},
      "models":{"anyOf":[{"type":"array","items":{"type":"string"}},{"type":"null"}],
        "default":null},
      "weights":{"anyOf":[{"type":"object","additionalProperties":{"type":"number"}},
        {"type":"null"}],"default":null},
      "backends":{"type":"array","items":{"$ref":"#/$defs/Backend"},"default":[]}},
    "additionalProperties":false},
  "Backend":{"title":"BackendRef","type":"object","x-rules":"experiment.BackendRef",
    "properties":{"id":{"type":"string"},
      "fallback":{"anyOf":[{"$ref":"#/$defs/Backend"},{"type":"null"}],"default":null}},
    "required":["id"],"additionalProperties":false}}}"##;

fn problems(doc: &str) -> Vec<(String, &'static str)> {
    let compiled = compile(SCHEMA).unwrap();
    let node = parse(doc.as_bytes()).unwrap();
    compiled
        .validate_document(&node)
        .into_iter()
        .map(|p| (p.pointer, p.code))
        .collect()
}

#[test]
fn rules_run_on_every_struct_with_defaults_and_full_pointers() {
    assert!(problems(r#"{"strategy":"majority","models":["a"]}"#).is_empty());
    assert!(problems("{}").is_empty(), "strategy defaults to none");
    assert_eq!(
        problems(r#"{"strategy":"weighted","models":["a","a"],"weights":{"a/b":1}}"#),
        vec![
            ("/models/1".to_owned(), "ensemble.duplicate_model"),
            ("/weights/a~1b".to_owned(), "ensemble.weight_unknown_model"),
            ("/models/0".to_owned(), "ensemble.weight_missing"),
            ("/models/1".to_owned(), "ensemble.weight_missing"),
        ]
    );
    let chain =
        r#"{"backends":[{"id":"x"},{"id":"a","fallback":{"id":"b","fallback":{"id":"a"}}}]}"#;
    assert_eq!(
        problems(chain),
        vec![(
            "/backends/1/fallback/fallback/id".to_owned(),
            "backend.fallback_cycle"
        )]
    );
}

#[test]
fn shape_errors_stop_the_rules() {
    assert_eq!(
        problems(r#"{"strategy":"majority","models":["a","a"],"oops":1}"#),
        vec![("/oops".to_owned(), "unknown_field")]
    );
}

#[test]
fn catalogue_codes_are_unique_and_well_formed() {
    let codes: Vec<&str> = catalogue().map(|r| r.code).collect();
    let unique: std::collections::HashSet<&&str> = codes.iter().collect();
    assert_eq!(unique.len(), codes.len());
    assert!(codes.len() > 70);
    assert!(catalogue().all(|r| !r.types.is_empty() && !r.description.is_empty()));
    assert_eq!(rules_for("reliability.Ensemble").len(), 5);
}

#[test]
fn python_formatting() {
    assert_eq!(repr_float(0.1), "0.1");
    assert_eq!(repr_float(1.0), "1.0");
    assert_eq!(repr_float(1e-5), "1e-05");
    assert_eq!(repr_float(1.5e16), "1.5e+16");
    assert_eq!(repr_float(123456789.25), "123456789.25");
    assert_eq!(repr_float(0.0001), "0.0001");
    assert_eq!(format_g(99.9), "99.9");
    assert_eq!(format_g(100.000_000_1), "100");
    assert_eq!(format_g(1234567.0), "1.23457e+06");
    assert_eq!(format_g(0.00001), "1e-05");
    assert_eq!(repr_str("it's"), "\"it's\"");
    assert_eq!(repr_str("a\n\u{7}é"), "'a\\n\\x07é'");
    let node = parse(br#"{"a":[1,2.5,true,null,"x"]}"#).unwrap();
    assert_eq!(repr(&node), "{'a': [1, 2.5, True, None, 'x']}");
    let (a, b) = (
        parse(br#"{"x":1,"y":[true]}"#).unwrap(),
        parse(br#"{"y":[1.0],"x":1}"#).unwrap(),
    );
    assert!(py_eq(&a, &b));
    assert_eq!(fsum([0.1; 10]), 1.0);
    assert_eq!(fsum([1e100, 1.0, -1e100, 1e-100]), 1.0);
}

#[test]
fn instants_compare_across_offsets() {
    let paris = instant("2025-01-01T12:00:00+02:00").unwrap();
    let utc = instant("2025-01-01T11:00:00Z").unwrap();
    assert!(paris < utc);
    assert_eq!(instant("1970-01-01T00:00:01.5Z"), Some(1_500_000));
    assert_eq!(instant("1969-12-31T23:59:59Z"), Some(-1_000_000));
    assert_eq!(instant("nope"), None);
}

#[test]
fn quantities() {
    use super::deployment::{parse_cpu, parse_memory};
    assert_eq!(parse_cpu("500m"), Some(0.5));
    assert_eq!(parse_cpu("0.25"), Some(0.25));
    assert_eq!(parse_cpu("2x"), None);
    assert_eq!(parse_memory("512Mi"), Some(512.0 * 1024.0 * 1024.0));
    assert_eq!(parse_memory("1G"), Some(1e9));
    assert_eq!(parse_memory("1 Gi"), None);
}

#[test]
fn digits_of_any_script() {
    use super::python::{ascii_digits, digit_value};
    assert_eq!(digit_value('7'), Some(7));
    assert_eq!(digit_value('\u{0663}'), Some(3));
    assert_eq!(digit_value('\u{1d7d9}'), Some(1));
    assert_eq!(digit_value('a'), None);
    assert_eq!(ascii_digits("\u{0661}.\u{0663}.0"), "1.3.0");
    assert_eq!(super::deployment::parse_cpu("\u{0665}00m"), Some(0.5));
}

#[test]
fn numbers_compare_exactly_as_python_does() {
    use super::python::num_cmp;
    use crate::ir::canonical::Num;
    use std::cmp::Ordering::{Equal, Greater, Less};
    let big = Num::Int(i64::MAX);
    assert_eq!(num_cmp(big, Num::Int(i64::MAX - 1)), Some(Greater));
    assert_eq!(
        num_cmp(big, Num::Float(9.223_372_036_854_776e18)),
        Some(Less)
    );
    assert_eq!(num_cmp(Num::UInt(u64::MAX), Num::Int(-1)), Some(Greater));
    assert_eq!(num_cmp(Num::Float(2.5), Num::Int(2)), Some(Greater));
    assert_eq!(num_cmp(Num::Int(-3), Num::Float(-2.5)), Some(Less));
    assert_eq!(num_cmp(Num::Int(2), Num::Float(2.0)), Some(Equal));
    assert_eq!(num_cmp(Num::Int(2), Num::Float(1e300)), Some(Less));
    assert_eq!(num_cmp(Num::Int(2), Num::Float(f64::NAN)), None);
}
