//! Scenario files: the TOML schema, defaults, validation and `--set` overrides.
//!
//! Input goes through two stages: the crate-internal `raw` module mirrors
//! the file (serde, `deny_unknown_fields`), then validation produces a
//! [`Scenario`] with units resolved to nanoseconds, distributions built and
//! cross-field rules checked. The schema is documented in `docs/scenario.md`.
//!
//! ```
//! let text = r#"
//! [simulation]
//! duration = 600
//! [workload]
//! session_rate = 5
//! requests_per_session = { dist = "geometric", mean = 4 }
//! think_time = { dist = "exponential", mean = 10 }
//! service_time = { dist = "lognormal", mean = 0.05, cv = 1.5 }
//! [backends]
//! count = 2
//! [[strategies]]
//! name = "rr"
//! kind = "round_robin"
//! "#;
//! let s = stickysim::scenario::from_str(text, "demo.toml", "demo", &["simulation.seed=7".into()])?;
//! assert_eq!((s.name.as_str(), s.simulation.seed), ("demo", 7));
//! assert_eq!(s.simulation.duration_ns, 600_000_000_000);
//! # Ok::<(), stickysim::scenario::ScenarioError>(())
//! ```

pub mod addresses;
pub mod decision;
pub mod dist;
pub mod duration;
mod error;
mod identity;
mod overrides;
pub(crate) mod raw;
pub mod sanity;
pub mod schema;
mod spans;
pub mod sweep;
mod types;
mod validate;

#[cfg(test)]
mod tests;

pub use error::{Detail, Location, ScenarioError};
pub use identity::{scenario_hash, select_strategies};
pub use overrides::parse_override;
pub use sweep::SweepSpec;
pub use types::*;
pub use validate::{
    is_valid_name, limits, DEFAULT_USERS_PER_NAT_IP, MAX_BACKENDS, MAX_BUCKETS, MAX_COPIES,
    MAX_NAME_LEN, NAME_RULE, SHARE_TOLERANCE,
};

pub(crate) use error::did_you_mean;
use error::{describe_serde, line_col, KeyPath, Seg};
use raw::RawScenario;
use spans::SpanTree;
use std::ops::Range;
use std::path::Path;

/// Reads, overrides, parses and validates a scenario file. The scenario's
/// default name is the file stem.
pub fn load(path: &Path, overrides: &[String]) -> Result<Scenario, ScenarioError> {
    load_with_sweep(path, overrides).map(|(sc, _)| sc)
}

/// Same as [`load`], also returning the file's validated `[sweep]` table.
pub fn load_with_sweep(
    path: &Path,
    overrides: &[String],
) -> Result<(Scenario, Option<SweepSpec>), ScenarioError> {
    let src = read_source(path)?;
    from_str_with_sweep(&src.text, &src.origin, &src.name_hint, overrides)
}

/// A scenario's text as read from a file or from standard input.
#[derive(Debug, Clone)]
pub struct Source {
    /// The TOML text.
    pub text: String,
    /// How messages name it: the path as given, or `<stdin>`.
    pub origin: String,
    /// The scenario's name when `simulation.name` is absent: the file stem,
    /// or `stdin`.
    pub name_hint: String,
}

/// What `origin` a scenario read from standard input has in messages.
pub const STDIN_ORIGIN: &str = "<stdin>";

/// The text of a scenario file: UTF-8 (TOML's encoding), with a hint for
/// the usual other encodings.
fn utf8(bytes: Vec<u8>) -> std::io::Result<String> {
    String::from_utf8(bytes).map_err(|e| {
        let b = e.as_bytes();
        let at = e.utf8_error().valid_up_to();
        let line = b[..at].iter().filter(|&&c| c == b'\n').count() + 1;
        let hint = if b.starts_with(&[0xff, 0xfe]) || b.starts_with(&[0xfe, 0xff]) {
            "it starts with a UTF-16 byte-order mark: save it as UTF-8"
        } else if b
            .iter()
            .take(64)
            .skip(1)
            .step_by(2)
            .filter(|&&c| c == 0)
            .count()
            > 8
            || b.iter().take(64).step_by(2).filter(|&&c| c == 0).count() > 8
        {
            "it looks like UTF-16: save it as UTF-8"
        } else {
            "TOML files are UTF-8; save it as UTF-8 (it may be Latin-1 or Windows-1252)"
        };
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "expected UTF-8 text, found an invalid byte at line {line} (byte {at}); {hint}"
            ),
        )
    })
}

/// Reads a scenario file; the path `-` reads standard input (to its end),
/// and the scenario is then named `stdin` unless it names itself.
pub fn read_source(path: &Path) -> Result<Source, ScenarioError> {
    if path.as_os_str() == "-" {
        let mut bytes = Vec::new();
        let text = std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut bytes)
            .and_then(|_| utf8(bytes))
            .map_err(|cause| ScenarioError::Read {
                path: STDIN_ORIGIN.to_string(),
                cause,
            })?;
        return Ok(Source {
            text,
            origin: STDIN_ORIGIN.to_string(),
            name_hint: "stdin".to_string(),
        });
    }
    let origin = path.display().to_string();
    let text = std::fs::read(path)
        .and_then(utf8)
        .map_err(|cause| ScenarioError::Read {
            path: origin.clone(),
            cause,
        })?;
    let name_hint = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(Source {
        text,
        origin,
        name_hint,
    })
}

/// Same as [`load`] from text; `origin` names the file in messages and
/// `name_hint` is the scenario name when `simulation.name` is absent.
pub fn from_str(
    text: &str,
    origin: &str,
    name_hint: &str,
    overrides: &[String],
) -> Result<Scenario, ScenarioError> {
    from_str_with_sweep(text, origin, name_hint, overrides).map(|(sc, _)| sc)
}

/// Same as [`from_str`], also returning the validated `[sweep]` table.
pub fn from_str_with_sweep(
    text: &str,
    origin: &str,
    name_hint: &str,
    overrides: &[String],
) -> Result<(Scenario, Option<SweepSpec>), ScenarioError> {
    let with_origin = |e: ScenarioError| match e {
        ScenarioError::Override { flag, reason, .. } => ScenarioError::Override {
            origin: Some(origin.to_string()),
            flag,
            reason,
        },
        other => other,
    };
    let flags = overrides
        .iter()
        .map(|f| parse_override(f).map(|(path, value)| (f, path, value)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(with_origin)?;

    let mut table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        let (line, column) = line_col(text, e.span().map_or(0, |s| s.start));
        ScenarioError::Syntax {
            origin: origin.to_string(),
            line,
            column,
            message: e.message().trim().replace('\n', "; "),
        }
    })?;
    let spans = SpanTree::parse(text);

    let mut set: Vec<(KeyPath, String)> = Vec::with_capacity(flags.len());
    for (flag, path, value) in flags {
        let key = overrides::apply(&mut table, flag, &path, value).map_err(with_origin)?;
        set.push((key, flag.clone()));
    }

    let locate = |key: &KeyPath, span: Option<Range<usize>>| -> Location {
        if let Some((_, flag)) = set.iter().rev().find(|(s, _)| overrides::blames(s, key)) {
            return Location::Flag(flag.clone());
        }
        match span.or_else(|| spans.find(key)) {
            Some(s) => {
                let (line, column) = line_col(text, s.start);
                Location::Span { line, column }
            }
            None => Location::Unknown,
        }
    };
    let invalid = |key: &KeyPath, location: Location, message: String, detail: Detail| {
        ScenarioError::Invalid {
            origin: origin.to_string(),
            key: key.to_string(),
            location,
            message,
            detail: Box::new(detail),
        }
    };

    if let Some((key, message)) = duration::string_in_count(&table) {
        return Err(invalid(
            &key,
            locate(&key, None),
            message,
            Detail::default(),
        ));
    }
    // Without overrides, deserialize the text itself so toml's spans point
    // into the user's file; with them, the edited table (spans come from
    // the span tree instead).
    let table_for_dates = table.clone();
    let parsed: Result<RawScenario, _> = if set.is_empty() {
        serde_path_to_error::deserialize(toml::Deserializer::new(text))
    } else {
        serde_path_to_error::deserialize(toml::Value::Table(table))
    };
    let raw = parsed.map_err(|e| {
        let mut key = KeyPath(
            e.path()
                .iter()
                .filter_map(|seg| match seg {
                    serde_path_to_error::Segment::Seq { index } => Some(Seg::Index(*index)),
                    serde_path_to_error::Segment::Map { key } => Some(Seg::Key(key.clone())),
                    _ => None,
                })
                .collect(),
        );
        let (mut message, mut detail) = describe_serde(e.inner().message(), &mut key);
        // serde calls a TOML date-time "a table": name it, when it is the
        // value at fault.
        if let Some((at, m)) = duration::datetime_anywhere(&table_for_dates) {
            if at == key && message.contains("found a table") {
                message = m;
                detail = Detail::default();
            }
        }
        let location = locate(&key, e.inner().span());
        invalid(&key, location, message, detail)
    })?;

    let place = |p: error::Problem| {
        let location = locate(&p.key, None);
        invalid(&p.key, location, p.message, p.detail)
    };
    // A `--set` that shortens the run drops what it leaves past the end
    // (with a warning), rather than failing on the file's line.
    let mut raw = raw;
    let duration_key = KeyPath::from("simulation.duration");
    let shortened_by = set
        .iter()
        .rev()
        .find(|(s, _)| overrides::blames(s, &duration_key))
        .map(|(_, flag)| flag.clone());
    let load_warnings = match shortened_by {
        Some(flag) => sanity::drop_past_end(&mut raw, &flag),
        None => Vec::new(),
    };
    let sweep = raw.sweep.as_ref().map(sweep::validate).transpose();
    let mut scenario = validate::validate(raw, name_hint).map_err(place)?;
    scenario.load_warnings = load_warnings;
    Ok((scenario, sweep.map_err(place)?))
}
