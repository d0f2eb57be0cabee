//! The scenario file as written: serde structs mirroring the TOML, with
//! `deny_unknown_fields` everywhere. Units are still seconds, optional keys
//! are still `Option`s, and nothing is checked beyond types; the
//! validation stage turns this into a [`Scenario`](super::Scenario).

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;
use std::fmt;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub simulation: RawSimulation,
    pub workload: RawWorkload,
    pub clients: Option<Vec<RawClient>>,
    pub backends: RawBackends,
    pub health_check: Option<RawHealthCheck>,
    pub session_state: Option<RawSessionState>,
    pub output: Option<RawOutput>,
    pub strategies: Vec<RawStrategy>,
    pub faults: Option<Vec<RawFault>>,
    /// Parameter sweep for `stickysim sweep`; ignored by `run`.
    pub sweep: Option<super::sweep::RawSweep>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSimulation {
    pub name: Option<String>,
    pub duration: f64,
    pub warmup: Option<f64>,
    pub seed: Option<u64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWorkload {
    pub session_rate: f64,
    pub profile: Option<Vec<RawStep>>,
    pub profile_period: Option<f64>,
    pub requests_per_session: RawDist,
    pub think_time: RawDist,
    pub service_time: RawDist,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStep {
    pub from: f64,
    pub multiplier: f64,
}

/// `{ dist = KIND, ...params }`. Every parameter any kind takes is listed;
/// which ones a kind accepts is [`DIST_PARAMS`].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDist {
    pub dist: String,
    pub value: Option<f64>,
    pub mean: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub cv: Option<f64>,
    pub shape: Option<f64>,
}

/// The parameters each distribution kind takes, all required.
pub const DIST_PARAMS: &[(&str, &[&str])] = &[
    ("constant", &["value"]),
    ("exponential", &["mean"]),
    ("uniform", &["min", "max"]),
    ("lognormal", &["mean", "cv"]),
    ("gamma", &["mean", "cv"]),
    ("pareto", &["mean", "shape"]),
    ("geometric", &["mean"]),
];

impl RawDist {
    /// `(key, value)` for every parameter that is set, in schema order.
    pub fn params(&self) -> Vec<(&'static str, f64)> {
        [
            ("value", self.value),
            ("mean", self.mean),
            ("min", self.min),
            ("max", self.max),
            ("cv", self.cv),
            ("shape", self.shape),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RawNetwork {
    Direct,
    Nat,
    Cgnat,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawClient {
    pub name: Option<String>,
    pub share: f64,
    pub users: Option<u32>,
    pub network: Option<RawNetwork>,
    pub users_per_ip: Option<u32>,
    pub ipv6: Option<bool>,
    pub ip_change_rate: Option<f64>,
    pub cookie_block: Option<f64>,
    pub token_header: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBackends {
    pub count: Option<u32>,
    pub workers: Option<u32>,
    pub queue_limit: Option<u32>,
    pub speed: Option<RawSpeed>,
}

/// `speed = 1.0` (every backend) or `speed = [1, 1, 0.5]` (one per backend).
#[derive(Debug, Clone, PartialEq)]
pub enum RawSpeed {
    All(f64),
    Each(Vec<f64>),
}

impl<'de> Deserialize<'de> for RawSpeed {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawSpeed;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number or an array of numbers")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawSpeed, E> {
                Ok(RawSpeed::All(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawSpeed, E> {
                Ok(RawSpeed::All(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawSpeed, E> {
                Ok(RawSpeed::All(v as f64))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawSpeed, A::Error> {
                let mut v = Vec::new();
                while let Some(x) = seq.next_element::<f64>()? {
                    v.push(x);
                }
                Ok(RawSpeed::Each(v))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHealthCheck {
    pub interval: Option<f64>,
    pub timeout: Option<f64>,
    pub unhealthy_threshold: Option<u32>,
    pub healthy_threshold: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RawPlacement {
    Local,
    Shared,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSessionState {
    pub placement: Option<RawPlacement>,
    pub store_latency: Option<RawDist>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOutput {
    pub bucket: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RawTtlMode {
    Sliding,
    Absolute,
    Session,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RawSameSite {
    Strict,
    Lax,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RawBalance {
    RoundRobin,
    Random,
    LeastConn,
    P2c,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RawOnUnavailable {
    Redispatch,
    Reject,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RawIpHash {
    Modulo,
}

/// One `[[strategies]]` entry: `name`, `kind`, and the union of every kind's
/// keys. Which keys a kind accepts is [`STRATEGY_KEYS`]; adding a kind means
/// adding its new keys here, a row there, and an arm in `validate`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStrategy {
    pub name: String,
    pub kind: String,
    pub ttl: Option<f64>,
    pub ttl_mode: Option<RawTtlMode>,
    pub cookie_name: Option<String>,
    pub cookie_path: Option<String>,
    pub secure: Option<bool>,
    pub http_only: Option<bool>,
    pub same_site: Option<RawSameSite>,
    pub balance: Option<RawBalance>,
    pub on_unavailable: Option<RawOnUnavailable>,
    pub hash: Option<RawIpHash>,
}

/// The keys (besides `name` and `kind`) each strategy kind accepts, all optional.
pub const STRATEGY_KEYS: &[(&str, &[&str])] = &[
    ("round_robin", &[]),
    ("random", &[]),
    ("least_conn", &[]),
    ("p2c", &[]),
    (
        "lb_cookie",
        &[
            "ttl",
            "ttl_mode",
            "cookie_name",
            "cookie_path",
            "secure",
            "http_only",
            "same_site",
            "balance",
            "on_unavailable",
        ],
    ),
    ("source_ip", &["hash", "on_unavailable"]),
];

impl RawStrategy {
    /// The kind-specific keys this entry sets, in schema order.
    pub fn present_keys(&self) -> Vec<&'static str> {
        [
            ("ttl", self.ttl.is_some()),
            ("ttl_mode", self.ttl_mode.is_some()),
            ("cookie_name", self.cookie_name.is_some()),
            ("cookie_path", self.cookie_path.is_some()),
            ("secure", self.secure.is_some()),
            ("http_only", self.http_only.is_some()),
            ("same_site", self.same_site.is_some()),
            ("balance", self.balance.is_some()),
            ("on_unavailable", self.on_unavailable.is_some()),
            ("hash", self.hash.is_some()),
        ]
        .into_iter()
        .filter_map(|(k, set)| set.then_some(k))
        .collect()
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFault {
    pub kind: String,
    pub backend: String,
    pub at: f64,
    pub recover_after: Option<f64>,
}

/// Every fault `kind` a scenario may name.
pub const FAULT_KINDS: &[&str] = &["crash"];
