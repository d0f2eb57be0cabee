//! The routing core: a pure library that sees what a real load balancer
//! sees — the request's source address, the cookie and header it carries,
//! the time, and the [`Pool`] — and decides where the request goes and what
//! it writes back. It never learns which user or session a request belongs
//! to; if a strategy can't tell, it can't tell.
//!
//! Strategies follow pingora's shape: a selector proposes candidates in
//! order ("first choice, then fallbacks") and an acceptance test (health,
//! room) picks. [`Router`] is an enum, not a trait object, so the engine's
//! hot path dispatches statically.
//!
//! Adding a strategy is: a [`StrategyKind`] variant (its name, the scenario
//! keys it accepts, whether it is sticky — the one registry every other
//! module parses into), a [`StrategySpec`] variant with its `kind()` arm, a
//! [`Router`] variant with its `new`, `route` and `affinity` arms, and its
//! own file. The scenario then needs a build arm in its validation (and a
//! `RawStrategy` field for each key no other kind has yet);
//! `docs/architecture.md` lists the files.
//!
//! ```
//! use stickysim::routing::*;
//! use std::net::{IpAddr, Ipv4Addr};
//! let pool = Pool::with_default_addrs(4, None);
//! let spec = StrategySpec::SourceIp {
//!     hash: HashAlgo::Maglev,
//!     tuning: HashTuning::default(),
//!     on_unavailable: OnUnavailable::Redispatch,
//!     on_draining: OnDraining::Reroute,
//! };
//! let mut router = Router::new(&spec, 42);
//! let req = RouteRequest {
//!     now_ns: 0,
//!     src: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7)),
//!     cookie: None,
//!     header: None,
//!     app_id: None,
//!     exclude: None,
//! };
//! let mut rng = RouteRng::new(1);
//! let a = router.route(&req, &pool, &mut rng);
//! let b = router.route(&req, &pool, &mut rng);
//! assert_eq!(a.backend(), b.backend()); // same address, same backend
//! ```

mod balance;
#[cfg(test)]
mod balance_ref;
pub mod haproxy;
pub mod haproxy_chash;
pub mod hash;
pub mod hashed;
pub mod jump;
mod kind;
mod lb_cookie;
mod load_index;
pub mod maglev;
pub mod nginx;
mod pool;
pub mod ring;
mod spec;
pub mod sticky;
mod swrr;
pub mod table;
#[cfg(test)]
mod tests;

pub use balance::Balancer;
pub use hashed::{BoundedLoad, HashKey, HashTable, Hashed};
pub use kind::{Product, StrategyKind};
pub use lb_cookie::LbCookie;
pub use pool::{BackendId, BackendView, Health, Pool};
pub use spec::*;
pub use sticky::{Sticky, TableKey};

use rand::SeedableRng;
use std::net::IpAddr;

/// The RNG a randomised strategy draws from. It is the router's own stream,
/// never the workload's, so routing choices cannot perturb the workload.
pub type RouteRng = RngWrapper;

/// A small portable PRNG (PCG-64 MCG) for routing decisions.
#[derive(Debug, Clone)]
pub struct RngWrapper(rand_pcg::Pcg64Mcg);

impl RngWrapper {
    /// A stream seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        RngWrapper(rand_pcg::Pcg64Mcg::seed_from_u64(seed))
    }
    /// Uniform in `0..n` (n > 0), by Lemire's multiply-shift (bias < n/2⁶⁴).
    #[inline]
    pub fn below(&mut self, n: usize) -> usize {
        use rand::RngCore;
        debug_assert!(n > 0);
        ((self.0.next_u64() as u128 * n as u128) >> 64) as usize
    }
}

/// What the load balancer sees of one request.
#[derive(Debug, Clone, Copy)]
pub struct RouteRequest {
    /// The time, nanoseconds since the start.
    pub now_ns: u64,
    /// Source address of the connection (the NAT's public address, if any).
    pub src: IpAddr,
    /// Value of this strategy's cookie as the client sent it, if it sent one.
    pub cookie: Option<u64>,
    /// Value of the session token header, if the client sends one.
    pub header: Option<u64>,
    /// The application's session cookie or session id, if the client
    /// holds one and sends it (what `app_cookie` and `session_id` follow).
    pub app_id: Option<u64>,
    /// On a retry, the backend the failed attempt went to: the strategy
    /// avoids it the way its product does on a retry (see
    /// `docs/strategies.md`), without the pool's health changing.
    pub exclude: Option<BackendId>,
}

/// A `Set-Cookie` to write back. Name and attributes are the strategy's
/// configuration ([`CookieAttrs`]); only the varying parts travel here, so
/// nothing is formatted unless someone asks ([`Router::format_set_cookie`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetCookie {
    /// The cookie's value (encodes the backend).
    pub value: u64,
    /// `Max-Age` in nanoseconds; `None` is a browser-session cookie.
    pub max_age_ns: Option<u64>,
}

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No backend is up.
    NoBackend,
    /// The pinned backend is down or full and the policy is `reject`.
    PinnedUnavailable,
}

/// The router's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Send the request to `backend`, writing back `set_cookie` if any.
    Forward {
        /// Where the request goes.
        backend: BackendId,
        /// What the response carries back.
        set_cookie: Option<SetCookie>,
    },
    /// Refuse the request.
    Refuse(Refusal),
}

impl Decision {
    /// The backend chosen, if the request was forwarded.
    pub fn backend(&self) -> Option<BackendId> {
        match *self {
            Decision::Forward { backend, .. } => Some(backend),
            Decision::Refuse(_) => None,
        }
    }
}

/// What a strategy keys its affinity on: tells the model which client
/// behaviour (blocking cookies, changing address) can break it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Affinity {
    /// No affinity: every request is balanced afresh.
    None,
    /// An LB-inserted cookie.
    Cookie,
    /// The connection's source address.
    SourceIp,
    /// A request header (API token).
    Header,
    /// A cookie the application sets (blocked by cookie-blocking clients).
    AppCookie,
    /// A session id the application returns outside cookies.
    SessionId,
}

/// A routing strategy, ready to route.
#[derive(Debug, Clone)]
pub enum Router {
    /// The plain balancers.
    Balance(Balancer),
    /// `lb_cookie`.
    LbCookie(LbCookie),
    /// `source_ip` and `header`.
    Hashed(Hashed),
    /// `source_ip_table`, `app_cookie`, `session_id`.
    Sticky(Sticky),
    /// `bounded_load`.
    BoundedLoad(BoundedLoad),
}

impl Router {
    /// Builds the strategy. `secret` keys anything that must not be
    /// guessable from outside (cookie values).
    pub fn new(spec: &StrategySpec, secret: u64) -> Self {
        match spec {
            StrategySpec::Balance(b) => Router::Balance(Balancer::new(*b)),
            StrategySpec::LbCookie {
                ttl_ns,
                ttl_mode,
                cookie,
                balance,
                on_unavailable,
                on_draining,
            } => Router::LbCookie(LbCookie::new(
                *ttl_ns,
                *ttl_mode,
                cookie.clone(),
                *balance,
                *on_unavailable,
                secret,
                *on_draining,
            )),
            StrategySpec::SourceIp {
                hash,
                tuning,
                on_unavailable,
                on_draining,
            } => Router::Hashed(Hashed::new(
                KeySource::SourceIp,
                *hash,
                *tuning,
                Balance::RoundRobin,
                *on_unavailable,
                *on_draining,
            )),
            StrategySpec::Header {
                hash,
                tuning,
                balance,
                on_unavailable,
                on_draining,
                ..
            } => Router::Hashed(Hashed::new(
                KeySource::Header,
                *hash,
                *tuning,
                *balance,
                *on_unavailable,
                *on_draining,
            )),
            StrategySpec::SourceIpTable {
                timeout_ns,
                size,
                balance,
                on_unavailable,
                on_draining,
            } => Router::Sticky(Sticky::new(
                TableKey::SourceIp,
                *timeout_ns,
                *size,
                *balance,
                *on_unavailable,
                *on_draining,
            )),
            StrategySpec::Learn {
                learned,
                timeout_ns,
                size,
                balance,
                on_unavailable,
                on_draining,
                ..
            } => Router::Sticky(Sticky::new(
                TableKey::Learned(*learned),
                *timeout_ns,
                *size,
                *balance,
                *on_unavailable,
                *on_draining,
            )),
            StrategySpec::BoundedLoad {
                key,
                hash,
                factor,
                tuning,
                balance,
                on_draining,
            } => Router::BoundedLoad(BoundedLoad::new(
                *key,
                *hash,
                *factor,
                *tuning,
                *balance,
                *on_draining,
            )),
        }
    }

    /// Decides where `req` goes.
    #[inline]
    pub fn route(&mut self, req: &RouteRequest, pool: &Pool, rng: &mut RouteRng) -> Decision {
        match self {
            Router::Balance(b) => b.route(pool, rng, req.exclude),
            Router::LbCookie(c) => c.route(req, pool, rng),
            Router::Hashed(h) => h.route(req, pool, rng),
            Router::Sticky(s) => s.route(req, pool, rng),
            Router::BoundedLoad(b) => b.route(req, pool, rng),
        }
    }

    /// The application's response from `backend` issued session identifier
    /// `id` (its `Set-Cookie` or session id): strategies that learn
    /// affinity from responses record it.
    #[inline]
    pub fn on_response(&mut self, now_ns: u64, backend: BackendId, id: u64) {
        if let Router::Sticky(s) = self {
            s.learn(now_ns, backend, id);
        }
    }

    /// The instance behind `backend` was deregistered and has stopped: the
    /// load balancer drops pins naming it (a stick-table entry or learned
    /// identifier naming a target that is no longer registered is treated
    /// as absent, not as a down target to refuse under `reject`). Cookies
    /// naming it stop matching when the pool gives the slot a new address
    /// ([`Pool::set_addr`]).
    pub fn forget(&mut self, backend: BackendId) {
        if let Router::Sticky(s) = self {
            s.forget(backend);
        }
    }

    /// What this router keys its affinity on.
    pub fn affinity(&self) -> Affinity {
        match self {
            Router::Balance(_) => Affinity::None,
            Router::LbCookie(_) => Affinity::Cookie,
            Router::Hashed(h) => match h.key() {
                KeySource::SourceIp => Affinity::SourceIp,
                KeySource::Header => Affinity::Header,
                KeySource::Cookie => Affinity::AppCookie,
            },
            Router::Sticky(s) => match s.key() {
                TableKey::SourceIp => Affinity::SourceIp,
                TableKey::Learned(Learned::AppCookie) => Affinity::AppCookie,
                TableKey::Learned(Learned::SessionId) => Affinity::SessionId,
            },
            Router::BoundedLoad(b) => match b.key() {
                KeySource::SourceIp => Affinity::SourceIp,
                KeySource::Header => Affinity::Header,
                KeySource::Cookie => Affinity::AppCookie,
            },
        }
    }

    /// The `Set-Cookie` header line for a cookie this router issued, as a
    /// proxy would send it; `None` for strategies that set no cookie.
    pub fn format_set_cookie(&self, c: &SetCookie) -> Option<String> {
        match self {
            Router::LbCookie(l) => Some(l.format_set_cookie(c)),
            _ => None,
        }
    }
}
