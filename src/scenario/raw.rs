//! The scenario file as written: serde structs mirroring the TOML, with
//! `deny_unknown_fields` everywhere. Units are still seconds, optional keys
//! are still `Option`s, and nothing is checked beyond types; the
//! validation stage turns this into a [`Scenario`](super::Scenario).

use schemars::JsonSchema;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;
use std::fmt;

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "stickysim scenario",
    description = "A stickysim scenario file (TOML); docs/scenario.md documents each key."
)]
#[schemars(rename = "Scenario")]
pub(crate) struct RawScenario {
    pub(crate) simulation: RawSimulation,
    pub(crate) workload: RawWorkload,
    pub(crate) clients: Option<Vec<RawClient>>,
    pub(crate) backends: RawBackends,
    pub(crate) health_check: Option<RawHealthCheck>,
    pub(crate) session_state: Option<RawSessionState>,
    pub(crate) output: Option<RawOutput>,
    pub(crate) strategies: Vec<RawStrategy>,
    pub(crate) faults: Option<Vec<RawFault>>,
    pub(crate) deploys: Option<Vec<RawDeploy>>,
    pub(crate) autoscaling: Option<RawAutoscaling>,
    /// Parameter sweep for `stickysim sweep`; ignored by `run`.
    pub(crate) sweep: Option<super::sweep::RawSweep>,
    /// The question, objective and constraints the verdict answers.
    pub(crate) decision: Option<super::decision::RawDecision>,
    /// Assertions for `run`'s exit code (`[[slo]]`).
    pub(crate) slo: Option<Vec<super::decision::RawSlo>>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Simulation")]
pub(crate) struct RawSimulation {
    pub(crate) name: Option<String>,
    #[serde(deserialize_with = "super::duration::secs")]
    #[schemars(with = "super::duration::Secs")]
    pub(crate) duration: f64,
    #[serde(default, deserialize_with = "super::duration::opt_secs")]
    #[schemars(with = "Option<super::duration::Secs>")]
    pub(crate) warmup: Option<f64>,
    pub(crate) seed: Option<u64>,
    pub(crate) replications: Option<i64>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Workload")]
pub(crate) struct RawWorkload {
    /// Required unless `replay` is given.
    pub(crate) session_rate: Option<f64>,
    pub(crate) profile: Option<Vec<RawStep>>,
    #[serde(default, deserialize_with = "super::duration::opt_secs")]
    #[schemars(with = "Option<super::duration::Secs>")]
    pub(crate) profile_period: Option<f64>,
    /// Required unless `replay` is given.
    #[serde(default)]
    #[schemars(schema_with = "count_dist_schema")]
    pub(crate) requests_per_session: Option<RawDist>,
    /// Required unless `replay` is given.
    pub(crate) think_time: Option<RawDist>,
    pub(crate) service_time: RawDist,
    /// Arrivals from an access log instead of the synthetic workload.
    pub(crate) replay: Option<super::replay::RawReplay>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Step")]
pub(crate) struct RawStep {
    #[serde(deserialize_with = "super::duration::secs")]
    #[schemars(with = "super::duration::Secs")]
    pub(crate) from: f64,
    pub(crate) multiplier: f64,
}

/// `{ dist = KIND, ...params }`. Every parameter any kind takes is listed;
/// which ones a kind accepts is [`DIST_PARAMS`].
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Dist")]
#[schemars(
    description = "A distribution: `{ dist = KIND, ...params }`; docs/scenario.md lists the parameters each kind takes."
)]
pub(crate) struct RawDist {
    #[schemars(schema_with = "dist_kind_schema")]
    pub(crate) dist: String,
    #[serde(default, deserialize_with = "super::duration::opt_secs")]
    #[schemars(with = "Option<super::duration::Secs>")]
    pub(crate) value: Option<f64>,
    #[serde(default, deserialize_with = "super::duration::opt_secs")]
    #[schemars(with = "Option<super::duration::Secs>")]
    pub(crate) mean: Option<f64>,
    #[serde(default, deserialize_with = "super::duration::opt_secs")]
    #[schemars(with = "Option<super::duration::Secs>")]
    pub(crate) min: Option<f64>,
    #[serde(default, deserialize_with = "super::duration::opt_secs")]
    #[schemars(with = "Option<super::duration::Secs>")]
    pub(crate) max: Option<f64>,
    pub(crate) cv: Option<f64>,
    pub(crate) shape: Option<f64>,
}

/// The parameters each distribution kind takes, all required.
pub(crate) const DIST_PARAMS: &[(&str, &[&str])] = &[
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
    pub(crate) fn params(&self) -> Vec<(&'static str, f64)> {
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "Network")]
pub(crate) enum RawNetwork {
    Direct,
    Nat,
    Cgnat,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Client")]
pub(crate) struct RawClient {
    pub(crate) name: Option<String>,
    pub(crate) share: f64,
    pub(crate) users: Option<u32>,
    pub(crate) network: Option<RawNetwork>,
    pub(crate) users_per_ip: Option<u32>,
    pub(crate) ipv6: Option<bool>,
    pub(crate) ip_change_rate: Option<f64>,
    pub(crate) cookie_block: Option<f64>,
    pub(crate) token_header: Option<bool>,
    #[serde(default, deserialize_with = "super::duration::opt_secs")]
    #[schemars(with = "Option<super::duration::Secs>")]
    pub(crate) token_rotation: Option<f64>,
    /// `session` (cookies end with the session) or `user` (a user's browser
    /// keeps them between sessions: users who come back).
    pub(crate) cookie_jar: Option<RawCookieJar>,
    /// After an error the user sends the request again, up to `attempts`
    /// times, then abandons the session.
    pub(crate) retry: Option<RawClientRetry>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "ClientRetry")]
pub(crate) struct RawClientRetry {
    /// Retries of one request before the user gives up (0 to 10, default 3).
    pub(crate) attempts: Option<u32>,
    /// Seconds from the error to the retry (default exponential, mean 1 s).
    pub(crate) delay: Option<RawDist>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "CookieJar")]
pub(crate) enum RawCookieJar {
    Session,
    User,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Backends")]
pub(crate) struct RawBackends {
    pub(crate) count: Option<u32>,
    pub(crate) workers: Option<u32>,
    pub(crate) queue_limit: Option<u32>,
    pub(crate) speed: Option<RawSpeed>,
    pub(crate) zones: Option<Vec<String>>,
    /// One `ip:port` per backend: hash rings, tables and cookies are built on them.
    pub(crate) addresses: Option<Vec<String>>,
    /// One name per backend, for the outputs.
    pub(crate) names: Option<Vec<String>>,
    /// One weight per backend (1 to 256).
    pub(crate) weights: Option<Vec<i64>>,
    /// A CIDR block new instances take their addresses from (`10.1.2.0/24`).
    pub(crate) address_pool: Option<String>,
    /// Replace an instance the health checks keep marked down.
    pub(crate) replace_unhealthy: Option<RawReplace>,
    /// The speed of instances the autoscaler or a replacement launches.
    pub(crate) launch_speed: Option<f64>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "ReplaceUnhealthy")]
pub(crate) struct RawReplace {
    /// From marked down to terminated, if still down (s, default 60).
    #[serde(default, deserialize_with = "super::duration::opt_secs")]
    #[schemars(with = "Option<super::duration::Secs>")]
    pub(crate) grace: Option<f64>,
    /// The new instance's launch-to-running time (s, default 60).
    #[serde(default, deserialize_with = "super::duration::opt_secs")]
    #[schemars(with = "Option<super::duration::Secs>")]
    pub(crate) boot_time: Option<f64>,
}

/// `speed = 1.0` (every backend) or `speed = [1, 1, 0.5]` (one per backend).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RawSpeed {
    All(f64),
    Each(Vec<f64>),
}

impl JsonSchema for RawSpeed {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Speed".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A number (every backend) or an array of numbers (one per backend).",
            "anyOf": [
                { "type": "number" },
                { "type": "array", "items": { "type": "number" } }
            ]
        })
    }
}

/// A string key that takes one of `names`, for the schema (the parser
/// reads it as a string and checks the name in validation).
pub(crate) fn name_schema(description: &str, names: &[&str]) -> schemars::Schema {
    schemars::json_schema!({
        "description": description,
        "type": "string",
        "enum": names
    })
}

fn dist_kind_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let names: Vec<&str> = DIST_PARAMS.iter().map(|(k, _)| *k).collect();
    name_schema("The distribution's kind.", &names)
}

/// A distribution of counts: [`RawDist`] with numbers only, since
/// `requests_per_session` refuses duration strings.
fn count_dist_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
    fn numbers_only(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(obj) => {
                if obj
                    .get("$ref")
                    .and_then(|r| r.as_str())
                    .is_some_and(|r| r.ends_with("/Duration"))
                {
                    obj.remove("$ref");
                    obj.insert("type".into(), "number".into());
                }
                obj.values_mut().for_each(numbers_only);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(numbers_only),
            _ => {}
        }
    }
    let mut schema = <RawDist as JsonSchema>::json_schema(generator).to_value();
    numbers_only(&mut schema);
    if let serde_json::Value::Object(obj) = &mut schema {
        obj.insert(
            "description".into(),
            "A distribution of request counts: `{ dist = KIND, ...params }` with numbers (no units).".into(),
        );
    }
    schemars::Schema::try_from(schema).unwrap_or_default()
}

fn strategy_kind_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    name_schema(
        "The strategy's kind.",
        &crate::routing::StrategyKind::names(),
    )
}

fn fault_kind_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let names: Vec<&str> = FAULT_KINDS.iter().map(|(k, _, _)| *k).collect();
    name_schema("The fault's kind.", &names)
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

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "HealthCheck")]
pub(crate) struct RawHealthCheck {
    #[serde(default, deserialize_with = "super::duration::opt_secs")]
    #[schemars(with = "Option<super::duration::Secs>")]
    pub(crate) interval: Option<f64>,
    #[serde(default, deserialize_with = "super::duration::opt_secs")]
    #[schemars(with = "Option<super::duration::Secs>")]
    pub(crate) timeout: Option<f64>,
    pub(crate) unhealthy_threshold: Option<u32>,
    pub(crate) healthy_threshold: Option<u32>,
    #[serde(default, deserialize_with = "super::duration::opt_secs")]
    #[schemars(with = "Option<super::duration::Secs>")]
    pub(crate) retry_delay: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "Placement")]
pub(crate) enum RawPlacement {
    Local,
    Shared,
    Replicated,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "SessionState")]
pub(crate) struct RawSessionState {
    pub(crate) placement: Option<RawPlacement>,
    pub(crate) store_latency: Option<RawDist>,
    pub(crate) store_outages: Option<Vec<RawWindow>>,
    pub(crate) copies: Option<u32>,
    pub(crate) write_latency: Option<RawDist>,
    pub(crate) replica_lookup: Option<RawReplicaLookup>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "ReplicaLookup")]
pub(crate) enum RawReplicaLookup {
    Local,
    Cluster,
}

/// `{ at, duration }`: a time window.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Window")]
pub(crate) struct RawWindow {
    #[serde(deserialize_with = "super::duration::secs")]
    #[schemars(with = "super::duration::Secs")]
    pub(crate) at: f64,
    #[serde(deserialize_with = "super::duration::secs")]
    #[schemars(with = "super::duration::Secs")]
    pub(crate) duration: f64,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Output")]
pub(crate) struct RawOutput {
    #[serde(default, deserialize_with = "super::duration::opt_secs")]
    #[schemars(with = "Option<super::duration::Secs>")]
    pub(crate) bucket: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "TtlMode")]
pub(crate) enum RawTtlMode {
    Sliding,
    Absolute,
    Session,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "SameSite")]
pub(crate) enum RawSameSite {
    Strict,
    Lax,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "Balance")]
pub(crate) enum RawBalance {
    RoundRobin,
    Random,
    LeastConn,
    P2c,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "OnUnavailable")]
pub(crate) enum RawOnUnavailable {
    Redispatch,
    Reject,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "HashAlgo")]
pub(crate) enum RawHashAlgo {
    Modulo,
    NginxIpHash,
    HaproxySource,
    Ketama,
    EnvoyRing,
    Maglev,
    Jump,
    Rendezvous,
    NginxHash,
    HaproxyConsistent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "OnDraining")]
pub(crate) enum RawOnDraining {
    Reroute,
    Honor,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "KeySource")]
pub(crate) enum RawKeySource {
    Source,
    Header,
    Cookie,
}

/// One `[[strategies]]` entry: `name`, `kind`, and the union of every kind's
/// keys. Which keys a kind accepts is [`StrategyKind::keys`]; a kind with new
/// keys adds them here and to [`present_keys`](Self::present_keys).
///
/// [`StrategyKind::keys`]: crate::routing::StrategyKind::keys
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Strategy")]
#[schemars(
    description = "One `[[strategies]]` entry: `name`, `kind` and the keys of that kind (docs/strategies.md)."
)]
pub(crate) struct RawStrategy {
    pub(crate) name: String,
    #[schemars(schema_with = "strategy_kind_schema")]
    pub(crate) kind: String,
    #[serde(default, deserialize_with = "super::duration::opt_secs")]
    #[schemars(with = "Option<super::duration::Secs>")]
    pub(crate) ttl: Option<f64>,
    pub(crate) ttl_mode: Option<RawTtlMode>,
    pub(crate) cookie_name: Option<String>,
    pub(crate) cookie_path: Option<String>,
    pub(crate) secure: Option<bool>,
    pub(crate) http_only: Option<bool>,
    pub(crate) same_site: Option<RawSameSite>,
    pub(crate) balance: Option<RawBalance>,
    pub(crate) on_unavailable: Option<RawOnUnavailable>,
    pub(crate) hash: Option<RawHashAlgo>,
    pub(crate) on_draining: Option<RawOnDraining>,
    pub(crate) table_size: Option<u64>,
    pub(crate) min_ring_size: Option<u64>,
    /// HAProxy `hash-type` function (`sdbm`, `djb2`, `wt6`, `crc32`).
    pub(crate) hash_function: Option<String>,
    /// HAProxy `hash-type … avalanche`.
    pub(crate) avalanche: Option<bool>,
    pub(crate) header_name: Option<String>,
    #[serde(default, deserialize_with = "super::duration::opt_secs")]
    #[schemars(with = "Option<super::duration::Secs>")]
    pub(crate) timeout: Option<f64>,
    pub(crate) size: Option<u32>,
    pub(crate) factor: Option<u32>,
    pub(crate) key: Option<RawKeySource>,
    /// Where this strategy's sessions keep state (any kind); the
    /// placement's parameters come from `[session_state]`.
    pub(crate) placement: Option<RawPlacement>,
    /// The product whose upstream behaviour the load balancer follows
    /// (timeouts, passive health); any kind.
    pub(crate) product: Option<RawProduct>,
    /// How long a connect to an unanswering backend waits; any kind.
    #[serde(default, deserialize_with = "super::duration::opt_secs")]
    #[schemars(with = "Option<super::duration::Secs>")]
    pub(crate) connect_timeout: Option<f64>,
    /// How long a request waits for an answer from a backend that hangs; any kind.
    #[serde(default, deserialize_with = "super::duration::opt_secs")]
    #[schemars(with = "Option<super::duration::Secs>")]
    pub(crate) read_timeout: Option<f64>,
    /// Passive health checks of the strategy's product; any kind.
    pub(crate) passive_health: Option<RawPassiveHealth>,
    /// How the load balancer retries a failed attempt (any kind).
    pub(crate) retry: Option<RawLbRetry>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "LbRetry")]
pub(crate) struct RawLbRetry {
    /// `once`, `nginx`, `envoy`, `haproxy`: whose defaults the other keys start from.
    pub(crate) policy: Option<RawRetryPolicy>,
    /// Retries after the first attempt (0 to 10; nginx: 0 = every other backend).
    pub(crate) attempts: Option<u32>,
    /// Which failed attempts are retried: `error` (dead backend), `overloaded` (a 503 from a full backend).
    pub(crate) on: Option<Vec<RawRetryOn>>,
    /// `every` (each retry elsewhere) or `last` (HAProxy: back to the same backend until the last retry).
    pub(crate) redispatch: Option<RawRedispatch>,
    /// Envoy retry budget: share of active requests that may be retries, percent (0 to 100).
    pub(crate) budget_percent: Option<f64>,
    /// Envoy retry budget: retries allowed at once whatever the share (default 3).
    pub(crate) min_retry_concurrency: Option<u32>,
    /// How long the load balancer waits for an attempt's answer (s; Envoy `per_try_timeout`).
    #[serde(default, deserialize_with = "super::duration::opt_secs")]
    #[schemars(with = "Option<super::duration::Secs>")]
    pub(crate) per_try_timeout: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "Product")]
pub(crate) enum RawProduct {
    Nginx,
    Haproxy,
    Envoy,
    Alb,
}

/// `passive_health = { … }`: the union of every product's keys; which a
/// product takes is checked in validation.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "PassiveHealth")]
pub(crate) struct RawPassiveHealth {
    /// nginx `max_fails`.
    pub(crate) max_fails: Option<u32>,
    /// nginx `fail_timeout`.
    #[serde(default, deserialize_with = "super::duration::opt_secs")]
    #[schemars(with = "Option<super::duration::Secs>")]
    pub(crate) fail_timeout: Option<f64>,
    /// Envoy `consecutive_5xx`.
    pub(crate) consecutive_5xx: Option<u32>,
    /// Envoy `consecutive_gateway_failure`.
    pub(crate) consecutive_gateway_failure: Option<u32>,
    /// Envoy `enforcing_consecutive_5xx` (0 or 100).
    pub(crate) enforcing_consecutive_5xx: Option<u32>,
    /// Envoy `enforcing_consecutive_gateway_failure` (0 or 100).
    pub(crate) enforcing_consecutive_gateway_failure: Option<u32>,
    /// Envoy `interval`.
    #[serde(default, deserialize_with = "super::duration::opt_secs")]
    #[schemars(with = "Option<super::duration::Secs>")]
    pub(crate) interval: Option<f64>,
    /// Envoy `base_ejection_time`.
    #[serde(default, deserialize_with = "super::duration::opt_secs")]
    #[schemars(with = "Option<super::duration::Secs>")]
    pub(crate) base_ejection_time: Option<f64>,
    /// Envoy `max_ejection_time`.
    #[serde(default, deserialize_with = "super::duration::opt_secs")]
    #[schemars(with = "Option<super::duration::Secs>")]
    pub(crate) max_ejection_time: Option<f64>,
    /// Envoy `max_ejection_percent`.
    pub(crate) max_ejection_percent: Option<u32>,
    /// HAProxy `observe`.
    pub(crate) observe: Option<RawObserve>,
    /// HAProxy `error-limit`.
    pub(crate) error_limit: Option<u32>,
    /// HAProxy `on-error`.
    pub(crate) on_error: Option<RawOnError>,
}

impl RawPassiveHealth {
    /// The keys this table sets, in schema order.
    pub(crate) fn present_keys(&self) -> Vec<&'static str> {
        [
            ("max_fails", self.max_fails.is_some()),
            ("fail_timeout", self.fail_timeout.is_some()),
            ("consecutive_5xx", self.consecutive_5xx.is_some()),
            (
                "consecutive_gateway_failure",
                self.consecutive_gateway_failure.is_some(),
            ),
            (
                "enforcing_consecutive_5xx",
                self.enforcing_consecutive_5xx.is_some(),
            ),
            (
                "enforcing_consecutive_gateway_failure",
                self.enforcing_consecutive_gateway_failure.is_some(),
            ),
            ("interval", self.interval.is_some()),
            ("base_ejection_time", self.base_ejection_time.is_some()),
            ("max_ejection_time", self.max_ejection_time.is_some()),
            ("max_ejection_percent", self.max_ejection_percent.is_some()),
            ("observe", self.observe.is_some()),
            ("error_limit", self.error_limit.is_some()),
            ("on_error", self.on_error.is_some()),
        ]
        .into_iter()
        .filter_map(|(k, set)| set.then_some(k))
        .collect()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "RetryPolicy")]
pub(crate) enum RawRetryPolicy {
    Once,
    Nginx,
    Envoy,
    Haproxy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "Observe")]
pub(crate) enum RawObserve {
    Layer4,
    Layer7,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[schemars(rename = "OnError")]
pub(crate) enum RawOnError {
    #[serde(rename = "fastinter")]
    Fastinter,
    #[serde(rename = "fail-check")]
    FailCheck,
    #[serde(rename = "sudden-death")]
    SuddenDeath,
    #[serde(rename = "mark-down")]
    MarkDown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "RetryOn")]
pub(crate) enum RawRetryOn {
    Error,
    Overloaded,
    Timeout,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "CrashMode")]
pub(crate) enum RawCrashMode {
    Reset,
    Blackhole,
    Hang,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "Redispatch")]
pub(crate) enum RawRedispatch {
    Every,
    Last,
}

impl RawStrategy {
    /// The kind-specific keys this entry sets, in schema order.
    pub(crate) fn present_keys(&self) -> Vec<&'static str> {
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
            ("on_draining", self.on_draining.is_some()),
            ("table_size", self.table_size.is_some()),
            ("min_ring_size", self.min_ring_size.is_some()),
            ("hash_function", self.hash_function.is_some()),
            ("avalanche", self.avalanche.is_some()),
            ("header_name", self.header_name.is_some()),
            ("timeout", self.timeout.is_some()),
            ("size", self.size.is_some()),
            ("factor", self.factor.is_some()),
            ("key", self.key.is_some()),
        ]
        .into_iter()
        .filter_map(|(k, set)| set.then_some(k))
        .collect()
    }
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Fault")]
pub(crate) struct RawFault {
    #[schemars(schema_with = "fault_kind_schema")]
    pub(crate) kind: String,
    pub(crate) backend: Option<String>,
    #[serde(default, deserialize_with = "super::duration::opt_secs")]
    #[schemars(with = "Option<super::duration::Secs>")]
    pub(crate) at: Option<f64>,
    #[serde(default, deserialize_with = "super::duration::opt_secs")]
    #[schemars(with = "Option<super::duration::Secs>")]
    pub(crate) recover_after: Option<f64>,
    #[serde(default, deserialize_with = "super::duration::opt_secs")]
    #[schemars(with = "Option<super::duration::Secs>")]
    pub(crate) mtbf: Option<f64>,
    #[serde(default, deserialize_with = "super::duration::opt_secs")]
    #[schemars(with = "Option<super::duration::Secs>")]
    pub(crate) mttr: Option<f64>,
    pub(crate) zone: Option<String>,
    #[serde(default, deserialize_with = "super::duration::opt_secs")]
    #[schemars(with = "Option<super::duration::Secs>")]
    pub(crate) duration: Option<f64>,
    pub(crate) factor: Option<f64>,
    #[serde(default, deserialize_with = "super::duration::opt_secs")]
    #[schemars(with = "Option<super::duration::Secs>")]
    pub(crate) every: Option<f64>,
    #[serde(default, deserialize_with = "super::duration::opt_secs")]
    #[schemars(with = "Option<super::duration::Secs>")]
    pub(crate) from: Option<f64>,
    #[serde(default, deserialize_with = "super::duration::opt_secs")]
    #[schemars(with = "Option<super::duration::Secs>")]
    pub(crate) until: Option<f64>,
    pub(crate) count: Option<u32>,
    /// `crash`: what the crashed instance does to connections.
    pub(crate) mode: Option<RawCrashMode>,
}

/// Every fault `kind` a scenario may name, with the keys it requires and
/// the optional ones it accepts (besides `kind`).
pub(crate) const FAULT_KINDS: &[(&str, &[&str], &[&str])] = &[
    ("crash", &["backend", "at"], &["recover_after", "mode"]),
    ("random", &["mtbf", "mttr"], &[]),
    ("zone_outage", &["zone", "at"], &["duration"]),
    ("slow", &["backend", "at", "duration", "factor"], &[]),
];

impl RawFault {
    /// The keys (besides `kind`) this entry sets, in schema order.
    pub(crate) fn present_keys(&self) -> Vec<&'static str> {
        [
            ("backend", self.backend.is_some()),
            ("at", self.at.is_some()),
            ("recover_after", self.recover_after.is_some()),
            ("mtbf", self.mtbf.is_some()),
            ("mttr", self.mttr.is_some()),
            ("zone", self.zone.is_some()),
            ("duration", self.duration.is_some()),
            ("factor", self.factor.is_some()),
            ("mode", self.mode.is_some()),
        ]
        .into_iter()
        .filter_map(|(k, set)| set.then_some(k))
        .collect()
    }
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Deploy")]
pub(crate) struct RawDeploy {
    #[serde(default, deserialize_with = "super::duration::opt_secs")]
    #[schemars(with = "Option<super::duration::Secs>")]
    pub(crate) at: Option<f64>,
    #[serde(default, deserialize_with = "super::duration::opt_secs")]
    #[schemars(with = "Option<super::duration::Secs>")]
    pub(crate) every: Option<f64>,
    #[serde(default, deserialize_with = "super::duration::opt_secs")]
    #[schemars(with = "Option<super::duration::Secs>")]
    pub(crate) from: Option<f64>,
    #[serde(default, deserialize_with = "super::duration::opt_secs")]
    #[schemars(with = "Option<super::duration::Secs>")]
    pub(crate) until: Option<f64>,
    pub(crate) count: Option<u32>,
    pub(crate) batch_size: Option<u32>,
    #[serde(default, deserialize_with = "super::duration::opt_secs")]
    #[schemars(with = "Option<super::duration::Secs>")]
    pub(crate) pause: Option<f64>,
    #[serde(default, deserialize_with = "super::duration::opt_secs")]
    #[schemars(with = "Option<super::duration::Secs>")]
    pub(crate) deregistration_delay: Option<f64>,
    #[serde(default, deserialize_with = "super::duration::opt_secs")]
    #[schemars(with = "Option<super::duration::Secs>")]
    pub(crate) boot_time: Option<f64>,
    #[serde(default, deserialize_with = "super::duration::opt_secs")]
    #[schemars(with = "Option<super::duration::Secs>")]
    pub(crate) slow_start: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "Victim")]
pub(crate) enum RawVictim {
    Newest,
    Oldest,
    LeastSessions,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Autoscaling")]
pub(crate) struct RawAutoscaling {
    pub(crate) min: u32,
    pub(crate) max: u32,
    pub(crate) target_utilisation: Option<f64>,
    #[serde(default, deserialize_with = "super::duration::opt_secs")]
    #[schemars(with = "Option<super::duration::Secs>")]
    pub(crate) metric_window: Option<f64>,
    #[serde(default, deserialize_with = "super::duration::opt_secs")]
    #[schemars(with = "Option<super::duration::Secs>")]
    pub(crate) evaluation_period: Option<f64>,
    #[serde(default, deserialize_with = "super::duration::opt_secs")]
    #[schemars(with = "Option<super::duration::Secs>")]
    pub(crate) scale_out_cooldown: Option<f64>,
    #[serde(default, deserialize_with = "super::duration::opt_secs")]
    #[schemars(with = "Option<super::duration::Secs>")]
    pub(crate) scale_in_cooldown: Option<f64>,
    #[serde(default, deserialize_with = "super::duration::opt_secs")]
    #[schemars(with = "Option<super::duration::Secs>")]
    pub(crate) boot_time: Option<f64>,
    pub(crate) victim: Option<RawVictim>,
    #[serde(default, deserialize_with = "super::duration::opt_secs")]
    #[schemars(with = "Option<super::duration::Secs>")]
    pub(crate) deregistration_delay: Option<f64>,
    #[serde(default, deserialize_with = "super::duration::opt_secs")]
    #[schemars(with = "Option<super::duration::Secs>")]
    pub(crate) slow_start: Option<f64>,
}
