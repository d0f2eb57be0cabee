//! `docs/scenario.schema.json`: in sync with `stickysim schema` (and so
//! with the parser it is generated from), accepts every bundled scenario,
//! and refuses what the parser refuses for keys and types.

use crate::common::{bin, data};
use serde_json::{json, Value};
use std::fs;
use std::path::{Path, PathBuf};

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn schema() -> Value {
    let text = fs::read_to_string(repo("docs/scenario.schema.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn validator() -> jsonschema::Validator {
    jsonschema::draft7::new(&schema()).expect("the schema is a valid draft 7 schema")
}

/// A TOML scenario as the JSON an editor's schema check sees.
fn to_json(table: &toml::Table) -> Value {
    serde_json::to_value(table).unwrap()
}

/// The schema's complaints about `table`, one line each.
fn errors(v: &jsonschema::Validator, table: &toml::Table) -> Vec<String> {
    v.iter_errors(&to_json(table))
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

/// Whether the parser (with validation) accepts `table`.
fn parses(table: &toml::Table) -> Result<(), String> {
    let text = toml::to_string(table).unwrap();
    stickysim::scenario::from_str(&text, "mutant.toml", "mutant", &[])
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Every bundled scenario the parser accepts: `scenarios/*.toml` and
/// `tests/data/*.toml`.
fn bundled() -> Vec<(PathBuf, toml::Table)> {
    let mut files = Vec::new();
    for dir in [repo("scenarios"), data("")] {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
        .into_iter()
        .filter(|p| stickysim::scenario::load(p, &[]).is_ok())
        .map(|p| {
            let table = toml::from_str(&fs::read_to_string(&p).unwrap()).unwrap();
            (p, table)
        })
        .collect()
}

#[test]
fn checked_in_schema_matches_stickysim_schema() {
    let a = bin().arg("schema").assert().success();
    let printed = String::from_utf8(a.get_output().stdout.clone()).unwrap();
    let shipped = fs::read_to_string(repo("docs/scenario.schema.json")).unwrap();
    assert!(
        printed == shipped,
        "docs/scenario.schema.json is out of date with the scenario parser's types; \
         regenerate it with\n    cargo run -- schema > docs/scenario.schema.json\n\
         and review the diff before committing."
    );
}

#[test]
fn every_bundled_scenario_validates_against_the_schema() {
    let v = validator();
    let all = bundled();
    // The six bundled scenarios and the two test scenarios, at least.
    assert!(all.len() >= 8, "found only {} valid scenarios", all.len());
    for (path, table) in &all {
        let errs = errors(&v, table);
        assert!(
            errs.is_empty(),
            "{} is a valid scenario but the schema refuses it:\n{}",
            path.display(),
            errs.join("\n")
        );
    }
}

#[test]
fn a_misspelt_key_fails_the_schema_and_the_parser() {
    let v = validator();
    let mut table: toml::Table =
        toml::from_str(&fs::read_to_string(data("tiny.toml")).unwrap()).unwrap();
    let workload = table["workload"].as_table_mut().unwrap();
    let rate = workload.remove("session_rate").unwrap();
    workload.insert("sesion_rate".into(), rate);
    let errs = errors(&v, &table);
    assert!(
        errs.iter().any(|e| e.contains("sesion_rate")),
        "the schema accepted a misspelt key: {errs:?}"
    );
    assert!(
        parses(&table).is_err(),
        "the parser accepted a misspelt key"
    );
}

/// Every table of every bundled scenario (sections, `[[array]]` entries,
/// inline tables such as distributions) refuses an unknown key in the
/// schema exactly as the parser does (`deny_unknown_fields` ↔
/// `additionalProperties: false`), except `sweep.params`, whose keys are
/// key paths.
#[test]
fn an_unknown_key_in_any_table_fails_the_schema_and_the_parser() {
    fn tables(value: &toml::Value, at: Vec<String>, out: &mut Vec<Vec<String>>) {
        match value {
            toml::Value::Table(t) if at != ["sweep", "params"] => {
                out.push(at.clone());
                for (k, v) in t {
                    let mut next = at.clone();
                    next.push(k.clone());
                    tables(v, next, out);
                }
            }
            toml::Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    let mut next = at.clone();
                    next.push(i.to_string());
                    tables(v, next, out);
                }
            }
            _ => {}
        }
    }
    fn get<'a>(value: &'a mut toml::Value, at: &[String]) -> &'a mut toml::Table {
        let mut cur = value;
        for step in at {
            cur = match cur {
                toml::Value::Table(t) => t.get_mut(step).unwrap(),
                toml::Value::Array(a) => &mut a[step.parse::<usize>().unwrap()],
                _ => unreachable!(),
            };
        }
        cur.as_table_mut().unwrap()
    }
    let v = validator();
    let mut checked = 0;
    for (path, table) in bundled() {
        let root = toml::Value::Table(table);
        let mut places = Vec::new();
        tables(&root, Vec::new(), &mut places);
        for at in places {
            let mut mutant = root.clone();
            get(&mut mutant, &at).insert("tpyo".into(), toml::Value::Integer(1));
            let toml::Value::Table(mutant) = mutant else {
                unreachable!()
            };
            let where_ = format!("{} at [{}]", path.display(), at.join("."));
            assert!(
                !errors(&v, &mutant).is_empty(),
                "the schema accepts an unknown key in {where_}"
            );
            assert!(
                parses(&mutant).is_err(),
                "the parser accepts an unknown key in {where_}"
            );
            checked += 1;
        }
    }
    assert!(checked > 50, "only {checked} tables checked");
}

/// Whether the parser's first stage, the serde types the schema is
/// generated from, reads `table` (before validation checks values).
fn reads(table: &toml::Table) -> Result<(), String> {
    stickysim::scenario::schema::reads_as_raw(&toml::to_string(table).unwrap())
}

/// Time keys take a number of seconds or a duration string, in the schema
/// as in the parser; other strings and types are refused by both.
#[test]
fn time_keys_take_seconds_or_a_duration_string() {
    let v = validator();
    let base: toml::Table =
        toml::from_str(&fs::read_to_string(data("tiny.toml")).unwrap()).unwrap();
    let with = |d: toml::Value| {
        let mut t = base.clone();
        t["simulation"]
            .as_table_mut()
            .unwrap()
            .insert("duration".into(), d);
        t
    };
    for ok in [
        "200ms", "15s", "10m", "2h", "1d", "1h 30m", "1h30m", "2 hours",
    ] {
        let t = with(toml::Value::String(ok.into()));
        assert_eq!(reads(&t), Ok(()), "parser on {ok:?}");
        assert_eq!(errors(&v, &t), Vec::<String>::new(), "schema on {ok:?}");
    }
    for ok in [toml::Value::Integer(900), toml::Value::Float(1800.5)] {
        let t = with(ok.clone());
        assert_eq!(reads(&t), Ok(()), "parser on {ok}");
        assert_eq!(errors(&v, &t), Vec::<String>::new(), "schema on {ok}");
    }
    for bad in [
        toml::Value::Boolean(true),
        toml::Value::String("soon".into()),
        toml::Value::String("".into()),
        toml::Value::Array(vec![]),
    ] {
        let t = with(bad.clone());
        assert!(reads(&t).is_err(), "parser accepted {bad}");
        assert!(!errors(&v, &t).is_empty(), "schema accepted {bad}");
    }
}

/// `requests_per_session` is a count: a duration string there is refused
/// by the parser, and so by the schema, while `think_time` takes one.
#[test]
fn a_count_distribution_refuses_units() {
    let v = validator();
    let base: toml::Table =
        toml::from_str(&fs::read_to_string(data("tiny.toml")).unwrap()).unwrap();
    let with = |key: &str| {
        let mut t = base.clone();
        t["workload"].as_table_mut().unwrap()[key]
            .as_table_mut()
            .unwrap()
            .insert("mean".into(), "5s".into());
        t
    };
    let count = with("requests_per_session");
    assert!(parses(&count).is_err());
    assert!(!errors(&v, &count).is_empty());
    let think = with("think_time");
    assert_eq!(parses(&think), Ok(()));
    assert_eq!(errors(&v, &think), Vec::<String>::new());
}

/// The enumerations the schema offers for completion are the names the
/// parser accepts: each listed strategy kind, distribution and fault kind
/// is one the parser knows, and a name outside the list fails both.
#[test]
fn kind_names_in_the_schema_are_the_parsers() {
    let s = schema();
    let kinds = &s["definitions"]["Strategy"]["properties"]["kind"]["enum"];
    assert_eq!(kinds, &json!(stickysim::routing::StrategyKind::names()));
    let dists = &s["definitions"]["Dist"]["properties"]["dist"]["enum"];
    let want = stickysim::scenario::schema::dist_names();
    assert_eq!(dists, &json!(want));
    let v = validator();
    let mut t: toml::Table =
        toml::from_str(&fs::read_to_string(data("tiny.toml")).unwrap()).unwrap();
    t["strategies"].as_array_mut().unwrap()[0]
        .as_table_mut()
        .unwrap()
        .insert("kind".into(), "sticky_cookie".into());
    assert!(parses(&t).is_err());
    assert!(!errors(&v, &t).is_empty());
}
