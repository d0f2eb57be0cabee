//! How a swept key reads on a chart: a name in words and the unit the
//! scenario reference documents for it (`strategies.cookie-1m.ttl` →
//! `cookie-1m TTL (s)`; `workload.session_rate` → `session rate
//! (sessions/s)`), and a parameter value as a point label carries it
//! (`TTL 60 s`).
//!
//! Units come from two places, so they cannot drift from the parser or
//! the reference: every time key is a `Duration` in the scenario's JSON
//! schema (generated from the parser's types), read in seconds; numbers
//! with another unit are listed in [`NUMBER_UNITS`], which a test holds
//! to the unit column of `docs/scenario.md`.

use crate::scenario::parse_override;
use serde_json::Value;
use std::sync::OnceLock;

/// Numeric keys whose documented unit is not seconds: `(table, key, unit)`,
/// the unit as `docs/scenario.md` writes it.
pub const NUMBER_UNITS: &[(&str, &str, &str)] = &[
    ("workload", "session_rate", "sessions/s"),
    ("clients", "share", "fraction of sessions"),
    ("clients", "users", "distinct users"),
    ("clients", "users_per_ip", "users per public address"),
    ("clients", "ip_change_rate", "changes/s per session"),
    ("clients", "cookie_block", "fraction of sessions"),
    ("clients", "retry.attempts", "retries per request"),
    ("backends", "count", "backends"),
    ("backends", "workers", "parallel requests per backend"),
    ("backends", "queue_limit", "waiting requests per backend"),
    ("backends", "launch_speed", "relative to 1.0"),
    (
        "health_check",
        "unhealthy_threshold",
        "consecutive failed checks",
    ),
    (
        "health_check",
        "healthy_threshold",
        "consecutive good checks",
    ),
    ("strategies", "size", "entries"),
    ("deploys", "batch_size", "instances"),
    ("autoscaling", "min", "instances"),
    ("autoscaling", "max", "instances"),
];

/// The key's path segments, as `--set` splits it (quoted names kept whole).
fn segments(key: &str) -> Vec<String> {
    parse_override(&format!("{key}=0"))
        .map(|(p, _)| p)
        .unwrap_or_else(|_| key.split('.').map(str::to_string).collect())
}

/// The scenario schema, parsed once.
fn schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        serde_json::from_str(&crate::scenario::schema::json_schema()).unwrap_or(Value::Null)
    })
}

/// Whether the schema types `path` as a `Duration` (a time in seconds).
fn is_duration(path: &[String]) -> bool {
    let root = schema();
    let resolve = |v: &'static Value| -> &'static Value {
        match v.get("$ref").and_then(Value::as_str) {
            Some(r) => r
                .strip_prefix("#/definitions/")
                .and_then(|name| root.get("definitions")?.get(name))
                .unwrap_or(&Value::Null),
            None => v,
        }
    };
    let mut node = root;
    let mut i = 0;
    while i < path.len() {
        let n = resolve(node);
        if let Some(next) = n.get("properties").and_then(|p| p.get(&path[i])) {
            node = next;
            i += 1;
        } else if let Some(items) = n.get("items") {
            // An array of tables, addressed by name or index: skip it.
            node = items;
            i += 1;
        } else {
            return false;
        }
    }
    node.get("$ref").and_then(Value::as_str) == Some("#/definitions/Duration")
}

/// The documented unit of a swept key: `s` for times, else from
/// [`NUMBER_UNITS`]; `None` for unitless numbers, names and switches.
pub fn key_unit(key: &str) -> Option<&'static str> {
    let path = segments(key);
    if is_duration(&path) {
        return Some("s");
    }
    let (table, field) = (path.first()?, path.last()?);
    // A key inside an inline table is documented as `table.key`.
    let inner = path
        .len()
        .checked_sub(2)
        .map(|i| format!("{}.{field}", path[i]));
    NUMBER_UNITS
        .iter()
        .find(|(t, f, _)| t == table && (f == field || inner.as_deref() == Some(*f)))
        .map(|(_, _, u)| *u)
}

/// A key's last part in words: underscores as spaces, abbreviations in
/// capitals (`ttl` → `TTL`).
fn field_words(field: &str) -> String {
    match field {
        "ttl" => "TTL".into(),
        "mtbf" => "MTBF".into(),
        "mttr" => "MTTR".into(),
        f => f.replace('_', " "),
    }
}

/// The key in words, without its unit: the strategy's or client's name
/// for keys inside one, the table in the singular for the others, then
/// the field (`cookie-1m TTL`, `backend count`, `fault 0 at`).
pub fn key_words(key: &str) -> String {
    let path = segments(key);
    let Some((field, parents)) = path.split_last() else {
        return key.to_string();
    };
    let context = match parents {
        [t, name] if t == "strategies" || t == "clients" => name.clone(),
        [t, n] if t == "faults" || t == "deploys" || t == "slo" => {
            format!("{} {n}", t.trim_end_matches('s'))
        }
        [t, rest @ ..] => {
            let table = match t.as_str() {
                "workload" | "simulation" | "output" => String::new(),
                "backends" => "backend".into(),
                other => other.replace('_', "-"),
            };
            let inner: Vec<String> = rest.iter().map(|s| field_words(s)).collect();
            [table, inner.join(" ")]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        }
        [] => String::new(),
    };
    let words = field_words(field);
    if context.is_empty() {
        words
    } else {
        format!("{context} {words}")
    }
}

/// The axis label of a swept key: its words and, when it has one its
/// words do not already say, its unit (`cookie-1m TTL (s)`, `backend
/// count`).
pub fn axis_label(key: &str) -> String {
    let words = key_words(key);
    match key_unit(key) {
        // `backend count` already says it counts backends.
        Some(u) if u.len() > 2 && words.contains(u.trim_end_matches('s')) => words,
        Some(u) => format!("{words} ({u})"),
        None => words,
    }
}

/// A parameter's value as a point label carries it: the field in words
/// and the value, with the unit when it is seconds (`TTL 60 s`, `backend
/// count 8`); inside a strategy, the field alone (the label names the
/// strategy).
pub fn value_label(key: &str, value: &str) -> String {
    let path = segments(key);
    // Inside a strategy the label already names it: the field alone.
    let field = match (path.first().map(String::as_str), path.last()) {
        (Some("strategies"), Some(f)) => field_words(f),
        _ => key_words(key),
    };
    match key_unit(key) {
        Some("s") if value.parse::<f64>().is_ok() => format!("{field} {value} s"),
        _ => format!("{field} {value}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_read_as_words_with_their_documented_unit() {
        assert_eq!(axis_label("strategies.cookie-1m.ttl"), "cookie-1m TTL (s)");
        assert_eq!(
            axis_label("workload.session_rate"),
            "session rate (sessions/s)"
        );
        assert_eq!(axis_label("backends.count"), "backend count");
        assert_eq!(
            axis_label("backends.workers"),
            "backend workers (parallel requests per backend)"
        );
        assert_eq!(axis_label("faults.0.at"), "fault 0 at (s)");
        assert_eq!(
            axis_label("workload.service_time.mean"),
            "service time mean (s)"
        );
        assert_eq!(
            axis_label("health_check.interval"),
            "health-check interval (s)"
        );
        assert_eq!(axis_label("strategies.ip.hash"), "ip hash");
        assert_eq!(
            axis_label("clients.mobile.cookie_block"),
            "mobile cookie block (fraction of sessions)"
        );
        assert_eq!(key_unit("strategies.\"my.name\".timeout"), Some("s"));
        assert_eq!(key_unit("backends.speed"), None);
    }

    #[test]
    fn point_labels_carry_the_value_and_its_seconds() {
        assert_eq!(value_label("strategies.c.ttl", "60"), "TTL 60 s");
        assert_eq!(value_label("backends.count", "8"), "backend count 8");
        assert_eq!(value_label("strategies.ip.hash", "ketama"), "hash ketama");
        assert_eq!(value_label("faults.0.at", "300"), "fault 0 at 300 s");
    }

    /// Every unit listed here is the unit `docs/scenario.md` documents for
    /// that key, and every number with a unit there is listed.
    #[test]
    fn number_units_follow_the_scenario_reference() {
        let doc = include_str!("../../docs/scenario.md");
        // Rows of the tables whose header has a unit column (`| key | type
        // | unit | …`); other tables (the replay keys') have none.
        let mut unit_table = false;
        let rows: Vec<(String, String, String)> = doc
            .lines()
            .filter(|l| {
                if l.starts_with("| key") {
                    unit_table = l.contains("| unit |");
                }
                unit_table && l.starts_with("| `")
            })
            .filter_map(|l| {
                let c: Vec<&str> = l.split('|').map(str::trim).collect();
                (c.len() > 4).then(|| {
                    (
                        c[1].trim_matches('`').to_string(),
                        c[2].to_string(),
                        c[3].to_string(),
                    )
                })
            })
            .collect();
        for (_, field, unit) in NUMBER_UNITS {
            assert!(
                rows.iter().any(|(k, _, u)| k == field && u == unit),
                "docs/scenario.md documents `{field}` in `{unit}`"
            );
        }
        for (k, ty, u) in &rows {
            let numeric = ty == "number" || ty == "integer";
            if numeric && !u.is_empty() && u != "s" && !u.contains('`') {
                assert!(
                    NUMBER_UNITS.iter().any(|(_, f, _)| f == k),
                    "`{k}` is documented in `{u}` but has no entry in NUMBER_UNITS"
                );
            }
        }
    }
}
