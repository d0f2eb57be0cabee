//! The optional `[sweep]` table: which keys to vary and over what values,
//! and how many replications to run at each grid point. The same value
//! syntax serves the `--param KEY=VALUES` flag of `stickysim sweep`.
//!
//! ```toml
//! [sweep]
//! replications = 10
//! params = { "strategies.sticky.ttl" = [60, 300, 900], "backends.count" = "4..16:4" }
//! ```
//!
//! A parameter's values are an array of values, or a range string
//! `FROM..TO:STEP` (inclusive of `TO` when a step lands on it; `STEP`
//! defaults to 1). Whether each value is valid for its key is checked by
//! the sweep, which applies it like a `--set` and validates the result.

use super::error::{KeyPath, Problem, ScenarioError};
use super::overrides::parse_override;
use super::validate::count_in;
use serde::Deserialize;
use toml::Value;

/// `[sweep]` as written.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Sweep")]
pub struct RawSweep {
    /// `replications`: runs per grid point, each with its own seed.
    pub replications: Option<u32>,
    /// `params`: parameter key path → an array of values or a range string
    /// (`"4..16:4"`), before expansion.
    #[serde(default)]
    #[schemars(schema_with = "params_schema")]
    pub params: Option<toml::Table>,
}

fn params_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "description": "Parameter key path → an array of values or a range string \"FROM..TO:STEP\".",
        "type": "object",
        "additionalProperties": {
            "anyOf": [
                { "type": "array" },
                { "type": "string", "pattern": "\\.\\." }
            ]
        }
    })
}

/// The most values one parameter may take.
pub const MAX_AXIS_VALUES: usize = 10_000;
/// The most replications a sweep may ask for.
pub const MAX_REPLICATIONS: u32 = 100_000;

/// A validated `[sweep]` table.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepSpec {
    /// Runs per grid point (1 to [`MAX_REPLICATIONS`]); `None` = not set
    /// here, so the command line or the default decides.
    pub replications: Option<u32>,
    /// In key order (TOML tables are unordered); `--param` keeps its own order.
    pub axes: Vec<Axis>,
}

/// One swept parameter: a `--set` key path and the values it takes, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// Dotted key path as `--set` takes it, e.g. `backends.count`.
    pub key: String,
    /// The values, in sweep order (1 to [`MAX_AXIS_VALUES`] of them).
    pub values: Vec<Value>,
}

/// Checks that `key` can be swept: a well-formed `--set` path that is not
/// the seed (replications vary it) nor the sweep table itself.
pub fn check_axis_key(key: &str) -> Result<(), String> {
    let (path, _) = parse_override(&format!("{key}=0")).map_err(|e| match e {
        ScenarioError::Override { reason, .. } => reason,
        other => other.to_string(),
    })?;
    match path.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["simulation", "seed"] => Err(
            "`simulation.seed` cannot be swept: replications already vary the seed \
             (use --replications, and --seed for the master seed)"
                .into(),
        ),
        ["sweep", ..] => Err("the `[sweep]` table itself cannot be swept".into()),
        _ => Ok(()),
    }
}

/// Parses the values of `--param KEY=VALUES`: a range `FROM..TO[:STEP]` or
/// a comma-separated list of TOML values (commas inside `[...]`, `{...}`
/// or quotes do not split; a value that is not TOML is a bare string).
pub fn parse_values(key: &str, text: &str) -> Result<Vec<Value>, String> {
    let text = text.trim();
    if let Some(range) = parse_range(text) {
        return range;
    }
    let mut values = Vec::new();
    for piece in split_top_level(text) {
        let piece = piece.trim();
        if piece.is_empty() {
            return Err(format!(
                "expected a comma-separated list of values or a range FROM..TO:STEP, \
                 found an empty value in `{text}`"
            ));
        }
        let (_, v) = parse_override(&format!("{key}={piece}")).map_err(|e| match e {
            ScenarioError::Override { reason, .. } => reason,
            other => other.to_string(),
        })?;
        values.push(v);
    }
    check_count(values.len())?;
    Ok(values)
}

fn check_count(n: usize) -> Result<(), String> {
    if n == 0 {
        return Err("expected at least one value, found none".into());
    }
    if n > MAX_AXIS_VALUES {
        return Err(format!(
            "expected at most {MAX_AXIS_VALUES} values per parameter, found {n}"
        ));
    }
    Ok(())
}

/// Splits at commas that are not inside brackets, braces or quotes.
fn split_top_level(text: &str) -> Vec<&str> {
    let (mut depth, mut quote, mut start) = (0i32, None::<char>, 0);
    let mut out = Vec::new();
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '[' | '{') => depth += 1,
            (None, ']' | '}') => depth -= 1,
            (None, ',') if depth == 0 => {
                out.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&text[start..]);
    out
}

/// Digits after the decimal point in a number as written (`0.25` → 2,
/// `1e-3` → 3, `2.5e-4` → 5, `1e3` → 0).
fn decimals(s: &str) -> usize {
    let (mantissa, exp) = match s.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i64>().unwrap_or(0)),
        None => (s, 0),
    };
    let d = mantissa.split_once('.').map_or(0, |(_, d)| d.len()) as i64;
    d.saturating_sub(exp).clamp(0, 300) as usize
}

/// `FROM..TO[:STEP]`, or `None` when `text` is not range syntax at all.
pub fn parse_range(text: &str) -> Option<Result<Vec<Value>, String>> {
    let (from, rest) = text.split_once("..")?;
    let (to, step) = match rest.split_once(':') {
        Some((to, step)) => (to, Some(step)),
        None => (rest, None),
    };
    let (from, to, step) = (from.trim(), to.trim(), step.map(str::trim));
    let bad = |what: &str| {
        Some(Err(format!(
            "expected a range FROM..TO:STEP of numbers (e.g. `4..16:4`), found `{text}`: {what}"
        )))
    };
    let ints = (
        from.parse::<i64>(),
        to.parse::<i64>(),
        step.map_or(Ok(1), str::parse::<i64>),
    );
    if let (Ok(a), Ok(b), Ok(s)) = ints {
        if s <= 0 {
            return bad("STEP must be > 0");
        }
        if b < a {
            return bad("TO must be >= FROM");
        }
        // Checked: `i64::MIN..i64::MAX` overflows `b - a`.
        let Some(span) = b.checked_sub(a) else {
            return Some(check_count(MAX_AXIS_VALUES + 1).map(|_| Vec::new()));
        };
        let n = (span / s) as usize + 1;
        if let Err(e) = check_count(n) {
            return Some(Err(e));
        }
        return Some(Ok((0..n as i64)
            .map(|i| Value::Integer(a + i * s))
            .collect()));
    }
    let (Ok(a), Ok(b)) = (from.parse::<f64>(), to.parse::<f64>()) else {
        return bad("FROM and TO must be numbers");
    };
    let s = match step.map(str::parse::<f64>) {
        None => 1.0,
        Some(Ok(s)) => s,
        Some(Err(_)) => return bad("STEP must be a number"),
    };
    if !(a.is_finite() && b.is_finite() && s.is_finite()) {
        return bad("numbers must be finite");
    }
    if s <= 0.0 {
        return bad("STEP must be > 0");
    }
    if b < a {
        return bad("TO must be >= FROM");
    }
    let steps = ((b - a) / s * (1.0 + 1e-9)).floor();
    if steps + 1.0 > MAX_AXIS_VALUES as f64 {
        return Some(check_count(MAX_AXIS_VALUES + 1).map(|_| Vec::new()));
    }
    // Round to the precision the range was written with, so 0.1..0.3:0.1
    // gives 0.3 and not 0.30000000000000004.
    let places = decimals(from)
        .max(decimals(to))
        .max(step.map_or(0, decimals));
    // Beyond 15 places rounding can't help an f64 (and 10^places overflows).
    let scale = (places <= 15).then(|| 10f64.powi(places as i32));
    Some(Ok((0..=steps as usize)
        .map(|i| {
            let v = a + i as f64 * s;
            Value::Float(scale.map_or(v, |scale| (v * scale).round() / scale))
        })
        .collect()))
}

/// Validates a `[sweep]` table; errors name `sweep.params."KEY"` etc.
pub(crate) fn validate(raw: &RawSweep) -> Result<SweepSpec, Problem> {
    let k = KeyPath::from("sweep");
    if let Some(r) = raw.replications {
        count_in(
            &k.k("replications"),
            r,
            1,
            MAX_REPLICATIONS,
            "a number of replications",
        )?;
    }
    let mut axes = Vec::new();
    for (key, value) in raw.params.iter().flatten() {
        let at = k.k("params").k(&format!("\"{key}\""));
        check_axis_key(key).map_err(|m| Problem::new(at.clone(), m))?;
        let values = match value {
            Value::Array(items) => {
                check_count(items.len()).map_err(|m| Problem::new(at.clone(), m))?;
                items.clone()
            }
            Value::String(s) => match parse_range(s) {
                Some(r) => r.map_err(|m| Problem::new(at.clone(), m))?,
                None => {
                    return Err(Problem::new(
                        at,
                        format!(
                            "expected an array of values or a range string \"FROM..TO:STEP\", \
                             found the string {s:?} (write [{s:?}] for a single string value)"
                        ),
                    ))
                }
            },
            other => {
                return Err(Problem::new(
                    at,
                    format!(
                        "expected an array of values or a range string \"FROM..TO:STEP\", found {other}"
                    ),
                ))
            }
        };
        axes.push(Axis {
            key: key.clone(),
            values,
        });
    }
    Ok(SweepSpec {
        replications: raw.replications,
        axes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ints(v: &[Value]) -> Vec<i64> {
        v.iter().map(|x| x.as_integer().unwrap()).collect()
    }

    #[test]
    fn ranges_are_inclusive_with_a_step() {
        assert_eq!(ints(&parse_values("k", "4..16:4").unwrap()), [4, 8, 12, 16]);
        assert_eq!(ints(&parse_values("k", "1..3").unwrap()), [1, 2, 3]);
        assert_eq!(ints(&parse_values("k", "4..14:4").unwrap()), [4, 8, 12]);
        assert_eq!(ints(&parse_values("k", "-2..2:2").unwrap()), [-2, 0, 2]);
        let f = parse_values("k", "0.1..0.3:0.1").unwrap();
        assert_eq!(f, [Value::Float(0.1), Value::Float(0.2), Value::Float(0.3)]);
        assert_eq!(parse_values("k", "7..7").unwrap(), [Value::Integer(7)]);
    }

    #[test]
    fn bad_ranges_say_what_is_wrong() {
        for (text, says) in [
            ("16..4:4", "TO must be >= FROM"),
            ("4..16:0", "STEP must be > 0"),
            ("4..16:-1", "STEP must be > 0"),
            ("a..16", "FROM and TO must be numbers"),
            ("1..2:x", "STEP must be a number"),
            ("0..1000000", "at most 10000 values"),
        ] {
            let e = parse_values("k", text).unwrap_err();
            assert!(e.contains(says), "{text}: {e}");
        }
    }

    #[test]
    fn lists_split_at_top_level_commas_only() {
        let v = parse_values("k", "60,300, 900").unwrap();
        assert_eq!(ints(&v), [60, 300, 900]);
        let v = parse_values("k", "[1,1,0.5],[2,2]").unwrap();
        assert_eq!(v.len(), 2);
        assert!(v[0].is_array());
        let v = parse_values("k", "least_conn,\"a,b\",{ dist = \"constant\", value = 1 }").unwrap();
        assert_eq!(v[0], Value::String("least_conn".into()));
        assert_eq!(v[1], Value::String("a,b".into()));
        assert!(v[2].is_table());
        assert!(parse_values("k", "1,,2")
            .unwrap_err()
            .contains("empty value"));
    }

    #[test]
    fn the_seed_and_bad_paths_cannot_be_swept() {
        assert!(check_axis_key("simulation.seed")
            .unwrap_err()
            .contains("replications"));
        assert!(check_axis_key("sweep.replications").is_err());
        assert!(check_axis_key("a..b").is_err());
        assert!(check_axis_key("strategies.sticky.ttl").is_ok());
    }
}
