//! Times as people write them: every time key of a scenario takes a number
//! of seconds (`900`, `0.05`) or a duration string with a unit (`"200ms"`,
//! `"15s"`, `"10m"`, `"2h"`, `"1d"`, `"1h 30m"`), parsed by `humantime`.
//! The raw stage turns either into seconds (`f64`), so validation keeps
//! seeing one unit.

use super::error::KeyPath;
use serde::de::{self, Deserializer, Visitor};
use std::fmt;

/// The forms a time key accepts, for error messages.
pub const ACCEPTED_FORMS: &str =
    "a number of seconds (e.g. 900 or 0.05) or a duration string such as \"200ms\", \"15s\", \"10m\", \"2h\", \"1d\" or \"1h 30m\"";

/// Parses a duration string (`"2h"`, `"200ms"`, `"1h 30m"`) into seconds.
/// The error says what was wrong and lists the accepted forms.
pub fn parse_secs(text: &str) -> Result<f64, String> {
    match humantime::parse_duration(text.trim()) {
        Ok(d) => Ok(d.as_secs_f64()),
        Err(e) => Err(format!(
            "expected {ACCEPTED_FORMS}, found \"{}\" ({e})",
            text.escape_debug()
        )),
    }
}

struct SecsVisitor;

impl<'de> Visitor<'de> for SecsVisitor {
    type Value = f64;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(ACCEPTED_FORMS)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
        Ok(v)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
        Ok(v as f64)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
        Ok(v as f64)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<f64, E> {
        parse_secs(v).map_err(E::custom)
    }
}

/// `deserialize_with` for a required time key: seconds as a number or a
/// duration string.
pub(crate) fn secs<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    d.deserialize_any(SecsVisitor)
}

/// `deserialize_with` for an optional time key (use with `#[serde(default)]`).
pub(crate) fn opt_secs<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    secs(d).map(Some)
}

/// The JSON Schema of a time key, for `#[schemars(with = "Secs")]`: a
/// number of seconds or a duration string, as [`secs`] reads it.
pub(crate) struct Secs;

impl schemars::JsonSchema for Secs {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": format!("A time: {ACCEPTED_FORMS}."),
            "anyOf": [
                { "type": "number" },
                { "type": "string", "pattern": DURATION_PATTERN }
            ]
        })
    }
}

/// What a duration string looks like to an editor: one or more
/// `<integer><unit>` pieces (humantime reads the units).
pub(crate) const DURATION_PATTERN: &str = r"^\s*([0-9]+\s*[A-Za-zµ]+\s*)+$";

/// Distribution keys that are counts, not times, and so refuse a duration
/// string (the raw stage reads every distribution's parameters as times).
const COUNT_DISTS: &[(&str, &str)] = &[("workload", "requests_per_session")];

/// The first duration string written where a count is expected (a
/// `requests_per_session` parameter), as its key path and a message.
pub(crate) fn string_in_count(table: &toml::Table) -> Option<(KeyPath, String)> {
    for (section, key) in COUNT_DISTS {
        let Some(dist) = table
            .get(*section)
            .and_then(|s| s.get(key))
            .and_then(|d| d.as_table())
        else {
            continue;
        };
        for param in ["value", "mean", "min", "max"] {
            if let Some(toml::Value::String(text)) = dist.get(param) {
                return Some((
                    KeyPath::from(*section).k(key).k(param),
                    format!(
                        "expected a number of requests, found the string \"{}\" \
                         (only time keys take units)",
                        text.escape_debug()
                    ),
                ));
            }
        }
    }
    None
}

/// The first TOML date-time anywhere in `table` (no key takes one; serde
/// would call it "a table"), as its key path and a message.
pub(crate) fn datetime_anywhere(table: &toml::Table) -> Option<(KeyPath, String)> {
    fn walk(v: &toml::Value, at: KeyPath) -> Option<(KeyPath, String)> {
        match v {
            toml::Value::Datetime(d) => Some((
                at,
                format!(
                    "expected a number or a string, found the TOML date-time `{}` (no key \
                     takes a date; times are seconds or duration strings such as \"2h\")",
                    crate::text::cut(&d.to_string())
                ),
            )),
            toml::Value::Table(t) => t.iter().find_map(|(k, v)| walk(v, at.k(k))),
            toml::Value::Array(a) => a.iter().enumerate().find_map(|(i, v)| walk(v, at.i(i))),
            _ => None,
        }
    }
    table
        .iter()
        .find_map(|(k, v)| walk(v, KeyPath::from(k.as_str())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct T {
        #[serde(deserialize_with = "secs")]
        t: f64,
        #[serde(default, deserialize_with = "opt_secs")]
        o: Option<f64>,
    }

    fn t(text: &str) -> Result<T, String> {
        toml::from_str::<T>(text).map_err(|e| e.message().to_string())
    }

    #[test]
    fn numbers_and_unit_strings_become_seconds() {
        for (text, secs) in [
            ("t = 900", 900.0),
            ("t = 0.05", 0.05),
            ("t = \"200ms\"", 0.2),
            ("t = \"15s\"", 15.0),
            ("t = \"10m\"", 600.0),
            ("t = \"2h\"", 7200.0),
            ("t = \"1d\"", 86_400.0),
            ("t = \"1h 30m\"", 5400.0),
        ] {
            let v = t(text).unwrap();
            assert_eq!(v.t, secs, "{text}");
            assert_eq!(v.o, None);
        }
        assert_eq!(t("t = 1\no = \"8h\"").unwrap().o, Some(28_800.0));
    }

    #[test]
    fn a_bad_duration_lists_the_accepted_forms() {
        let e = t("t = \"8 hours and a bit\"").err().unwrap();
        assert!(
            e.contains("\"2h\"") && e.contains("number of seconds"),
            "{e}"
        );
        assert!(e.contains("8 hours and a bit"), "{e}");
        let e = t("t = \"200\"").err().unwrap();
        assert!(e.contains("\"200ms\""), "{e}");
        let e = t("t = true").err().unwrap();
        assert!(e.contains("\"15s\""), "{e}");
    }

    const SCENARIO: &str = r#"[simulation]
duration = "2h"
warmup = "10m"

[workload]
session_rate = 5
requests_per_session = { dist = "geometric", mean = 4 }
think_time = { dist = "exponential", mean = "15s" }
service_time = { dist = "lognormal", mean = "200ms", cv = 1.5 }

[backends]
count = 2

[[strategies]]
name = "sticky"
kind = "lb_cookie"
ttl = "1d"

[[faults]]
kind = "crash"
backend = "b0"
at = "1h"
recover_after = "90s"
"#;

    #[test]
    fn a_scenario_file_takes_durations_everywhere_a_time_goes() {
        let sc = crate::scenario::from_str(SCENARIO, "t.toml", "t", &[]).unwrap();
        assert_eq!(sc.simulation.duration_ns, 7200 * 1_000_000_000);
        assert_eq!(sc.simulation.warmup_ns, 600 * 1_000_000_000);
        assert_eq!(sc.workload.think_time.mean(), 15.0);
        assert_eq!(sc.workload.service_time.mean(), 0.2);
        let crate::routing::StrategySpec::LbCookie { ttl_ns, .. } = &sc.strategies[0].spec else {
            panic!("{:?}", sc.strategies[0].spec)
        };
        assert_eq!(*ttl_ns, 86_400 * 1_000_000_000);
        match &sc.faults[0] {
            crate::scenario::Fault::Crash {
                at_ns,
                recover_after_ns,
                ..
            } => assert_eq!(
                (*at_ns, *recover_after_ns),
                (3600 * 1_000_000_000, Some(90 * 1_000_000_000))
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn set_takes_durations_too() {
        let flags = [
            "simulation.duration=3h".to_string(),
            "strategies.sticky.ttl=30m".into(),
        ];
        let sc = crate::scenario::from_str(SCENARIO, "t.toml", "t", &flags).unwrap();
        assert_eq!(sc.simulation.duration_ns, 3 * 3600 * 1_000_000_000);
        let crate::routing::StrategySpec::LbCookie { ttl_ns, .. } = &sc.strategies[0].spec else {
            panic!()
        };
        assert_eq!(*ttl_ns, 1800 * 1_000_000_000);
    }

    #[test]
    fn a_bad_duration_names_its_key_and_the_forms() {
        let e =
            crate::scenario::from_str(SCENARIO, "t.toml", "t", &["simulation.warmup=8hh".into()])
                .unwrap_err()
                .to_string();
        assert!(e.contains("simulation.warmup"), "{e}");
        assert!(e.contains("--set simulation.warmup=8hh"), "{e}");
        assert!(e.contains("\"10m\"") && e.contains("\"8hh\""), "{e}");
        let text = SCENARIO.replace("ttl = \"1d\"", "ttl = \"one day\"");
        let e = crate::scenario::from_str(&text, "t.toml", "t", &[])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("t.toml:17:") && e.contains("strategies[0].ttl"),
            "{e}"
        );
        assert!(e.contains("\"1d\""), "{e}");
    }

    #[test]
    fn counts_refuse_units() {
        let text = SCENARIO.replace("mean = 4 }", "mean = \"4s\" }");
        let e = crate::scenario::from_str(&text, "t.toml", "t", &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("workload.requests_per_session.mean"), "{e}");
        assert!(e.contains("expected a number of requests"), "{e}");
    }
}
