//! Validated strategy configurations: what `[[strategies]]` entries become
//! once the scenario has checked them. Building a [`Router`](super::Router)
//! from a spec is the only way strategies come to life.

/// How a sticky strategy reacts when the backend it is pinned to is down
/// (as the load balancer sees it) or at capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnUnavailable {
    /// Pick another backend with the strategy's balancer and re-pin
    /// (ALB, HAProxy `option redispatch`, nginx sticky fallback).
    Redispatch,
    /// Refuse the request rather than move the session (HAProxy
    /// `option persist` without redispatch; Envoy stateful session strict mode).
    Reject,
}

/// What a cookie strategy does with a request pinned to a backend that is
/// draining (deregistered, finishing its sessions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnDraining {
    /// Pick anew and rewrite the cookie: AWS ALB ("sticky requests are not
    /// sent to a deregistering target").
    #[default]
    Redispatch,
    /// Keep sending it there while it drains: Azure Application Gateway,
    /// nginx `server … drain`, HAProxy `DRAIN` state.
    Stick,
}

/// The balancer a sticky strategy uses for requests that carry no usable
/// affinity (first request, expired cookie, redispatch), and the
/// non-sticky baselines themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Balance {
    /// Smooth weighted round robin (nginx `ngx_http_upstream_get_peer`).
    RoundRobin,
    /// Uniformly random among available backends.
    Random,
    /// Fewest outstanding requests, ties broken round robin (HAProxy `leastconn`).
    LeastConn,
    /// Power of two choices on outstanding requests (Envoy `LEAST_REQUEST`,
    /// `choice_count` 2).
    P2c,
}

/// When an LB-inserted cookie stops pinning a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TtlMode {
    /// Expiry reset on every request: AWS ALB, nginx `sticky cookie expires=`.
    Sliding,
    /// Expiry fixed at first assignment: HAProxy `maxlife`, Envoy stateful session.
    Absolute,
    /// Browser-session cookie without `Max-Age`: lives as long as the client's session.
    Session,
}

/// Which stateless hash maps a source address to a backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpHash {
    /// A 64-bit mix of the address, modulo the number of healthy backends.
    Modulo,
}

/// `SameSite` attribute of an issued cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SameSite {
    Strict,
    Lax,
    None,
}

/// Attributes of the `Set-Cookie` a cookie strategy writes back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieAttrs {
    pub name: String,
    pub path: String,
    pub secure: bool,
    pub http_only: bool,
    pub same_site: Option<SameSite>,
}

impl Default for CookieAttrs {
    fn default() -> Self {
        CookieAttrs {
            name: "AWSALB".to_string(),
            path: "/".to_string(),
            secure: false,
            http_only: false,
            same_site: None,
        }
    }
}

/// A validated strategy.
#[derive(Debug, Clone, PartialEq)]
pub enum StrategySpec {
    /// Non-sticky baseline.
    Balance(Balance),
    /// Load-balancer-inserted cookie naming the backend.
    LbCookie {
        ttl_ns: u64,
        ttl_mode: TtlMode,
        cookie: CookieAttrs,
        balance: Balance,
        on_unavailable: OnUnavailable,
        on_draining: OnDraining,
    },
    /// Stateless hash of the client's source address.
    SourceIp {
        hash: IpHash,
        on_unavailable: OnUnavailable,
    },
}

/// ALB `stickiness.lb_cookie.duration_seconds` default: 1 day.
pub const DEFAULT_COOKIE_TTL_S: f64 = 86_400.0;
/// ALB's valid range for the cookie duration: 1 s – 7 days.
pub const COOKIE_TTL_RANGE_S: (f64, f64) = (1.0, 604_800.0);

impl StrategySpec {
    /// The `kind` this spec was written as in the scenario.
    pub fn kind(&self) -> &'static str {
        match self {
            StrategySpec::Balance(Balance::RoundRobin) => "round_robin",
            StrategySpec::Balance(Balance::Random) => "random",
            StrategySpec::Balance(Balance::LeastConn) => "least_conn",
            StrategySpec::Balance(Balance::P2c) => "p2c",
            StrategySpec::LbCookie { .. } => "lb_cookie",
            StrategySpec::SourceIp { .. } => "source_ip",
        }
    }
}

/// Every `kind` a scenario may name (for error messages and docs).
pub const KINDS: &[&str] = &[
    "round_robin",
    "random",
    "least_conn",
    "p2c",
    "lb_cookie",
    "source_ip",
];
