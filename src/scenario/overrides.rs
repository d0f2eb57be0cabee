//! `--set path=value` overrides, applied to the parsed TOML table before it
//! is deserialized, so an overridden file is validated exactly like a
//! written one.

use super::error::{KeyPath, ScenarioError};
use toml::{Table, Value};

/// Arrays of tables whose elements may be addressed by `name` as well as
/// by index, and the word for one element.
const NAMED_ARRAYS: &[(&str, &str, &str)] = &[
    ("strategies", "strategy", "strategies"),
    ("clients", "client segment", "client segments"),
];

/// Arrays of tables an override may address but not create.
const TABLE_ARRAYS: &[&str] = &["strategies", "clients", "faults", "deploys"];

fn flag_error(flag: &str, reason: impl Into<String>) -> ScenarioError {
    ScenarioError::Override {
        origin: None,
        flag: flag.to_string(),
        reason: reason.into(),
    }
}

/// Parses one `--set a.b.c=v` without applying it. Path segments follow TOML
/// dotted-key syntax (bare `a.b.0` or quoted `strategies."my name"`); the
/// value is a TOML value, or else taken as a bare string.
pub fn parse_override(s: &str) -> Result<(Vec<String>, Value), ScenarioError> {
    let Some((path, value)) = s.split_once('=') else {
        return Err(flag_error(
            s,
            "expected `path=value` (e.g. `workload.session_rate=80`), found no `=`",
        ));
    };
    let (path, value) = (path.trim(), value.trim());
    if path.is_empty() {
        return Err(flag_error(
            s,
            "expected a key path before `=`, found nothing",
        ));
    }
    if value.is_empty() {
        return Err(flag_error(s, "expected a value after `=`, found nothing"));
    }
    let segments = parse_path(path).ok_or_else(|| {
        flag_error(
            s,
            format!(
                "expected a dotted key path such as `workload.session_rate` or \
                 `strategies.0.ttl`, found `{path}`"
            ),
        )
    })?;
    Ok((segments, parse_value(value)))
}

/// Splits a dotted key with TOML's own key grammar, so quoting works.
fn parse_path(path: &str) -> Option<Vec<String>> {
    if path.contains(['\n', '\r', '#', '[', ']', '{', '}']) {
        return None;
    }
    let mut table: Table = format!("{path} = 0").parse().ok()?;
    let mut segments = Vec::new();
    loop {
        if table.len() != 1 {
            return None;
        }
        let (key, value) = table.into_iter().next()?;
        segments.push(key);
        match value {
            Value::Table(t) => table = t,
            Value::Integer(0) => return Some(segments),
            _ => return None,
        }
    }
}

/// A TOML value (`80`, `[1, 0.5]`, `{ dist = "constant", value = 0 }`,
/// `"x"`) or, failing that, the text itself as a string (`least_conn`).
fn parse_value(text: &str) -> Value {
    match format!("v = {text}").parse::<Table>() {
        Ok(mut t) if t.len() == 1 => t.remove("v").unwrap_or_else(|| Value::String(text.into())),
        _ => Value::String(text.to_string()),
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "a string",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a number",
        Value::Boolean(_) => "a boolean",
        Value::Datetime(_) => "a datetime",
        Value::Array(_) => "an array",
        Value::Table(_) => "a table",
    }
}

/// Applies one parsed override; returns the key path it set, with names
/// resolved to indices (`strategies.sticky.ttl` → `strategies[2].ttl`).
pub(crate) fn apply(
    root: &mut Table,
    flag: &str,
    segments: &[String],
    value: Value,
) -> Result<KeyPath, ScenarioError> {
    let mut path = KeyPath::root();
    let mut table = root;
    let mut n = 0;
    loop {
        let key = &segments[n];
        path = path.k(key);
        if n + 1 == segments.len() {
            table.insert(key.clone(), value);
            return Ok(path);
        }
        let top = n == 0;
        if !table.contains_key(key) {
            if top && TABLE_ARRAYS.contains(&key.as_str()) {
                return Err(flag_error(
                    flag,
                    format!(
                        "the file has no `[[{key}]]` entries to address; \
                         add one to the file first"
                    ),
                ));
            }
            table.insert(key.clone(), Value::Table(Table::new()));
        }
        let entry = table.get_mut(key).expect("just ensured");
        match entry {
            Value::Table(t) => {
                table = t;
                n += 1;
            }
            Value::Array(items) => {
                let sel = &segments[n + 1];
                let named = NAMED_ARRAYS
                    .iter()
                    .find(|(k, _, _)| top && k == key)
                    .copied();
                let index = select(flag, &path, items, sel, named)?;
                path = path.i(index);
                if n + 2 == segments.len() {
                    items[index] = value;
                    return Ok(path);
                }
                match &mut items[index] {
                    Value::Table(t) => {
                        table = t;
                        n += 2;
                    }
                    other => return Err(not_a_table(flag, &path, other, &segments[n + 2])),
                }
            }
            other => return Err(not_a_table(flag, &path, other, &segments[n + 1])),
        }
    }
}

/// The error for a path that goes through a value that is not a table.
fn not_a_table(
    flag: &str,
    path: &impl std::fmt::Display,
    found: &Value,
    key: &str,
) -> ScenarioError {
    flag_error(
        flag,
        format!("`{path}` is {}, which has no key `{key}`", type_name(found)),
    )
}

/// The index `sel` designates in `items`: a number, or for named arrays
/// the element's `name` (a client segment without one is `segment<i>`).
fn select(
    flag: &str,
    path: &KeyPath,
    items: &[Value],
    sel: &str,
    named: Option<(&str, &str, &str)>,
) -> Result<usize, ScenarioError> {
    let (one, many) = named.map_or(("element", "elements"), |(_, one, many)| (one, many));
    if let Ok(i) = sel.parse::<usize>() {
        if i < items.len() {
            return Ok(i);
        }
        let range = match items.len() {
            0 => "none".to_string(),
            1 => "index 0".to_string(),
            len => format!("indices 0..={}", len - 1),
        };
        return Err(flag_error(
            flag,
            format!(
                "no {one} at index {i} in `{path}`; there are {} ({range})",
                items.len()
            ),
        ));
    }
    let Some((key, _, _)) = named else {
        return Err(flag_error(
            flag,
            format!("`{path}` is an array; address its elements by index, found `{sel}`"),
        ));
    };
    let names: Vec<String> = items
        .iter()
        .enumerate()
        .map(|(i, item)| match item.get("name").and_then(Value::as_str) {
            Some(name) => name.to_string(),
            None if key == "clients" => format!("segment{i}"),
            None => String::new(),
        })
        .collect();
    if let Some(i) = names.iter().position(|n| n == sel) {
        return Ok(i);
    }
    let list: Vec<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|n| !n.is_empty())
        .collect();
    Err(flag_error(
        flag,
        format!(
            "no {one} named `{sel}`{}; {many} are: {}",
            super::error::did_you_mean(sel, &list),
            list.join(", ")
        ),
    ))
}

/// Whether an error at `key` should be blamed on an override that set
/// `set`: one lies within the other.
pub(crate) fn blames(set: &KeyPath, key: &KeyPath) -> bool {
    key.starts_with(set) || (set.starts_with(key) && !key.0.is_empty())
}
