//! `[workload] replay = { log = "PATH", format = "combined", … }`: the
//! raw table, its validation, and the validated [`Replay`] the engine
//! reads arrivals from instead of generating them.

use super::error::{KeyPath, Problem};
use crate::replay::{Format, JsonFields};
use schemars::JsonSchema;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use std::fmt;
use std::path::{Path, PathBuf};

/// Sessions end after this long without a request, unless
/// `session.idle` says otherwise (the web-analytics convention).
pub const DEFAULT_IDLE_S: f64 = 1800.0;
/// Lines are sorted within this window unless `reorder_window` says otherwise.
pub const DEFAULT_REORDER_WINDOW_S: f64 = 10.0;
/// The most copies `scale` may ask for.
pub const MAX_SCALE: u32 = 1000;
/// The longest `reorder_window`, seconds.
pub const MAX_REORDER_WINDOW_S: f64 = 3600.0;

/// `workload.replay` as written.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Replay")]
pub(crate) struct RawReplay {
    /// The log file, relative to the scenario file; gzip is read as such.
    pub(crate) log: String,
    /// `combined` (default), `common`, `alb`, `haproxy` or `jsonl`.
    #[serde(default)]
    #[schemars(schema_with = "format_schema")]
    pub(crate) format: Option<String>,
    /// JSON field names, for `jsonl`.
    pub(crate) fields: Option<RawFields>,
    /// How requests are grouped into sessions.
    pub(crate) session: Option<RawSessionId>,
    /// Lines are sorted by time within this window (default 10 s).
    #[serde(default, deserialize_with = "super::duration::opt_secs")]
    #[schemars(with = "Option<super::duration::Secs>")]
    pub(crate) reorder_window: Option<f64>,
    /// Time compression: 10 replays ten times faster (default 1).
    pub(crate) speed: Option<f64>,
    /// Each session replayed this many times from distinct addresses (default 1).
    pub(crate) scale: Option<i64>,
    /// Replay from this time (ISO 8601; default: the first line).
    #[serde(default, deserialize_with = "opt_instant")]
    #[schemars(with = "Option<String>")]
    pub(crate) from: Option<i64>,
    /// Replay up to (not including) this time (ISO 8601).
    #[serde(default, deserialize_with = "opt_instant")]
    #[schemars(with = "Option<String>")]
    pub(crate) to: Option<i64>,
    /// Requests left out (health checks, bots).
    pub(crate) exclude: Option<RawExclude>,
    /// Any bad line is an error rather than skipped (default false).
    pub(crate) strict: Option<bool>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "ReplayFields")]
pub(crate) struct RawFields {
    pub(crate) time: Option<String>,
    pub(crate) client: Option<String>,
    pub(crate) port: Option<String>,
    pub(crate) request: Option<String>,
    pub(crate) method: Option<String>,
    pub(crate) path: Option<String>,
    pub(crate) status: Option<String>,
    pub(crate) user_agent: Option<String>,
    pub(crate) service_time: Option<String>,
    /// `s` (default), `ms`, `us` or `ns`.
    pub(crate) service_time_unit: Option<String>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "ReplaySession")]
pub(crate) struct RawSessionId {
    /// The log field that identifies a session (a cookie or header; `jsonl`).
    pub(crate) field: Option<String>,
    /// A session ends after this long without a request (default 30 min).
    #[serde(default, deserialize_with = "super::duration::opt_secs")]
    #[schemars(with = "Option<super::duration::Secs>")]
    pub(crate) idle: Option<f64>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "ReplayExclude")]
pub(crate) struct RawExclude {
    /// Regular expressions on the request path.
    pub(crate) path: Option<Vec<String>>,
    /// Regular expressions on the user agent.
    pub(crate) user_agent: Option<Vec<String>>,
}

fn format_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "type": "string", "enum": Format::names() })
}

const UNITS: &[(&str, f64)] = &[("s", 1.0), ("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9)];

/// A time as an ISO 8601 string or a TOML date-time, to ns since the epoch.
fn opt_instant<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Option<i64>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a date-time such as \"2026-03-01T10:00:00Z\"")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            crate::replay::time::iso(v.trim()).map(Some).ok_or_else(|| {
                E::custom(format!(
                    "expected a date-time such as \"2026-03-01T10:00:00Z\", found \"{}\"",
                    v.escape_debug()
                ))
            })
        }
        fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
            // A TOML date-time reaches serde as a one-entry map.
            match m.next_entry::<String, String>()? {
                Some((_, v)) => self.visit_str(&v),
                None => Err(de::Error::custom("expected a date-time, found a table")),
            }
        }
    }
    d.deserialize_any(V)
}

/// The validated `workload.replay`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Replay {
    /// The log as the scenario names it (what the scenario hash sees).
    pub log: String,
    /// The log's path, resolved against the scenario file's directory.
    #[serde(skip)]
    pub path: PathBuf,
    /// Its format.
    pub format: Format,
    /// JSON field names (`jsonl`).
    pub fields: JsonFields,
    /// The field identifying a session; `None`: client address + user agent.
    pub session_field: Option<String>,
    /// A session ends after this long without a request, ns of log time.
    pub idle_ns: u64,
    /// Lines are sorted within this window, ns of log time.
    pub reorder_window_ns: u64,
    /// Time compression (10 = ten times faster).
    pub speed: f64,
    /// Copies of each session, from distinct addresses.
    pub scale: u32,
    /// Replay from this log time, ns since the epoch.
    pub from_ns: Option<i64>,
    /// Replay up to this log time, ns since the epoch.
    pub to_ns: Option<i64>,
    /// Regular expressions on paths to leave out.
    pub exclude_path: Vec<String>,
    /// Regular expressions on user agents to leave out.
    pub exclude_user_agent: Vec<String>,
    /// A bad line is an error.
    pub strict: bool,
}

impl Replay {
    /// How sessions are told apart, in words for the report.
    pub fn identity(&self) -> String {
        let idle = crate::text::number(self.idle_ns as f64 / 60e9);
        match &self.session_field {
            Some(f) => format!("the log field \"{f}\" (sessions end after {idle} min idle)"),
            None => format!("client address + user agent, {idle} min idle gap"),
        }
    }

    /// Resolves `log` against the directory of the scenario file `origin`
    /// (the working directory for standard input).
    pub fn resolve(&mut self, origin: &str) {
        let log = Path::new(&self.log);
        self.path = if log.is_absolute() || origin == super::STDIN_ORIGIN {
            log.to_path_buf()
        } else {
            Path::new(origin)
                .parent()
                .map_or_else(|| log.to_path_buf(), |d| d.join(log))
        };
    }
}

type R<T> = Result<T, Problem>;

fn problem<T>(key: &KeyPath, message: impl Into<String>) -> R<T> {
    Err(Problem::new(key.clone(), message))
}

fn regexes(key: &KeyPath, v: &Option<Vec<String>>) -> R<Vec<String>> {
    let v = v.clone().unwrap_or_default();
    for (i, r) in v.iter().enumerate() {
        if let Err(e) = regex::RegexBuilder::new(r).size_limit(1 << 20).build() {
            let first = e.to_string();
            let last = first.lines().last().unwrap_or("").trim().to_string();
            return problem(
                &key.i(i),
                format!("expected a regular expression, found `{r}` ({last})"),
            );
        }
    }
    Ok(v)
}

fn time_key(key: &KeyPath, s: Option<f64>, default: f64, max: f64) -> R<u64> {
    let v = s.unwrap_or(default);
    if !(v.is_finite() && v >= 0.0 && v <= max) {
        return problem(
            key,
            format!("expected a time in seconds from 0 to {max}, found {v}"),
        );
    }
    Ok(super::secs_to_ns(v))
}

/// Validates `workload.replay`.
pub(crate) fn validate(raw: &RawReplay) -> R<Replay> {
    let k = KeyPath::from("workload").k("replay");
    if raw.log.trim().is_empty() {
        return problem(&k.k("log"), "expected a log file's path, found \"\"");
    }
    let format = match &raw.format {
        None => Format::Combined,
        Some(f) => match Format::from_name(f) {
            Some(f) => f,
            None => return Err(Problem::one_of(k.k("format"), f, &Format::names())),
        },
    };
    let mut fields = JsonFields::default();
    if let Some(f) = &raw.fields {
        let fk = k.k("fields");
        if format != Format::Jsonl {
            return problem(
                &fk,
                format!("expected no `fields` with format `{format}` (they map a `jsonl` log's fields), found a table"),
            );
        }
        let set = |slot: &mut Option<String>, v: &Option<String>| {
            if let Some(v) = v {
                *slot = (!v.is_empty()).then(|| v.clone());
            }
        };
        if let Some(t) = &f.time {
            fields.time = t.clone();
        }
        if let Some(c) = &f.client {
            fields.client = c.clone();
        }
        set(&mut fields.port, &f.port);
        set(&mut fields.request, &f.request);
        set(&mut fields.method, &f.method);
        set(&mut fields.path, &f.path);
        set(&mut fields.status, &f.status);
        set(&mut fields.user_agent, &f.user_agent);
        set(&mut fields.service_time, &f.service_time);
        if let Some(u) = &f.service_time_unit {
            match UNITS.iter().find(|(n, _)| n == u) {
                Some(&(_, s)) => fields.service_time_unit_s = s,
                None => {
                    let names: Vec<&str> = UNITS.iter().map(|(n, _)| *n).collect();
                    return Err(Problem::one_of(fk.k("service_time_unit"), u, &names));
                }
            }
        }
        if fields.time.is_empty() || fields.client.is_empty() {
            return problem(&fk, "expected `time` and `client` field names, found \"\"");
        }
    }
    let session = raw.session.as_ref();
    let session_field = session.and_then(|s| s.field.clone());
    if let Some(f) = &session_field {
        if format != Format::Jsonl || f.is_empty() {
            return problem(
                &k.k("session").k("field"),
                format!(
                    "expected a session field only with format `jsonl` (a `{format}` log has no \
                     cookie or header field; sessions are then told apart by client address + \
                     user agent), found `{f}`"
                ),
            );
        }
    }
    let idle_ns = time_key(
        &k.k("session").k("idle"),
        session.and_then(|s| s.idle),
        DEFAULT_IDLE_S,
        86_400.0 * 30.0,
    )?;
    if idle_ns == 0 {
        return problem(
            &k.k("session").k("idle"),
            "expected an idle gap > 0, found 0",
        );
    }
    let reorder_window_ns = time_key(
        &k.k("reorder_window"),
        raw.reorder_window,
        DEFAULT_REORDER_WINDOW_S,
        MAX_REORDER_WINDOW_S,
    )?;
    let speed = raw.speed.unwrap_or(1.0);
    if !(speed.is_finite() && (1e-3..=1e6).contains(&speed)) {
        return problem(
            &k.k("speed"),
            format!("expected a time compression from 0.001 to 1000000, found {speed}"),
        );
    }
    let scale = raw.scale.unwrap_or(1);
    if !(1..=i64::from(MAX_SCALE)).contains(&scale) {
        return problem(
            &k.k("scale"),
            format!("expected copies per session from 1 to {MAX_SCALE}, found {scale}"),
        );
    }
    if let (Some(f), Some(t)) = (raw.from, raw.to) {
        if t <= f {
            return problem(
                &k.k("to"),
                format!(
                    "expected `to` after `from` ({}), found {}",
                    crate::replay::time::format_iso(f),
                    crate::replay::time::format_iso(t)
                ),
            );
        }
    }
    let ex = raw.exclude.as_ref();
    Ok(Replay {
        log: raw.log.clone(),
        path: PathBuf::from(&raw.log),
        format,
        fields,
        session_field,
        idle_ns,
        reorder_window_ns,
        speed,
        scale: scale as u32,
        from_ns: raw.from,
        to_ns: raw.to,
        exclude_path: regexes(&k.k("exclude").k("path"), &ex.and_then(|e| e.path.clone()))?,
        exclude_user_agent: regexes(
            &k.k("exclude").k("user_agent"),
            &ex.and_then(|e| e.user_agent.clone()),
        )?,
        strict: raw.strict.unwrap_or(false),
    })
}
