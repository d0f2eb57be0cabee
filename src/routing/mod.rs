//! The routing core: a pure library that sees what a real load balancer
//! sees — the request's source address, the cookie and header it carries,
//! the time, and the [`Pool`] — and decides where the request goes and what
//! it writes back. It never learns which user or session a request belongs
//! to; if a strategy can't tell, it can't tell.
//!
//! Strategies follow pingora's shape: a selector proposes candidates in
//! order ("first choice, then fallbacks") and an acceptance test (health,
//! room) picks. [`Router`] is an enum, not a trait object, so the engine's
//! hot path dispatches statically; adding a strategy means a new variant, a
//! new `StrategySpec` arm and its own file.
//!
//! ```
//! use stickysim::routing::*;
//! use std::net::{IpAddr, Ipv4Addr};
//! let pool = Pool::with_default_addrs(4, None);
//! let spec = StrategySpec::SourceIp { hash: IpHash::Modulo, on_unavailable: OnUnavailable::Redispatch };
//! let mut router = Router::new(&spec, 42);
//! let req = RouteRequest { now_ns: 0, src: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7)), cookie: None, header: None };
//! let mut rng = RouteRng::new(1);
//! let a = router.route(&req, &pool, &mut rng);
//! let b = router.route(&req, &pool, &mut rng);
//! assert_eq!(a.backend(), b.backend()); // same address, same backend
//! ```

mod balance;
pub mod hash;
mod lb_cookie;
mod pool;
mod source_ip;
mod spec;

pub use balance::Balancer;
pub use lb_cookie::LbCookie;
pub use pool::{BackendId, BackendView, Health, Pool};
pub use source_ip::SourceIp;
pub use spec::*;

use rand::SeedableRng;
use std::net::IpAddr;

/// The RNG a randomised strategy draws from. It is the router's own stream,
/// never the workload's, so routing choices cannot perturb the workload.
pub type RouteRng = RngWrapper;

/// A small portable PRNG (PCG-64 MCG) for routing decisions.
#[derive(Debug, Clone)]
pub struct RngWrapper(rand_pcg::Pcg64Mcg);

impl RngWrapper {
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
    pub now_ns: u64,
    /// Source address of the connection (the NAT's public address, if any).
    pub src: IpAddr,
    /// Value of this strategy's cookie as the client sent it, if it sent one.
    pub cookie: Option<u64>,
    /// Value of the session token header, if the client sends one.
    pub header: Option<u64>,
}

/// A `Set-Cookie` to write back. Name and attributes are the strategy's
/// configuration ([`CookieAttrs`]); only the varying parts travel here, so
/// nothing is formatted unless someone asks ([`Router::format_set_cookie`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetCookie {
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
    Forward {
        backend: BackendId,
        set_cookie: Option<SetCookie>,
    },
    Refuse(Refusal),
}

impl Decision {
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
    None,
    Cookie,
    SourceIp,
}

/// A routing strategy, ready to route.
#[derive(Debug, Clone)]
pub enum Router {
    Balance(Balancer),
    LbCookie(LbCookie),
    SourceIp(SourceIp),
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
            } => Router::LbCookie(
                LbCookie::new(
                    *ttl_ns,
                    *ttl_mode,
                    cookie.clone(),
                    *balance,
                    *on_unavailable,
                    secret,
                )
                .with_on_draining(*on_draining),
            ),
            StrategySpec::SourceIp {
                hash,
                on_unavailable,
            } => Router::SourceIp(SourceIp::new(*hash, *on_unavailable)),
        }
    }

    /// Decides where `req` goes.
    #[inline]
    pub fn route(&mut self, req: &RouteRequest, pool: &Pool, rng: &mut RouteRng) -> Decision {
        match self {
            Router::Balance(b) => match b.pick(pool, rng) {
                Some(backend) => Decision::Forward {
                    backend,
                    set_cookie: None,
                },
                None => Decision::Refuse(Refusal::NoBackend),
            },
            Router::LbCookie(c) => c.route(req, pool, rng),
            Router::SourceIp(s) => s.route(req, pool, rng),
        }
    }

    pub fn affinity(&self) -> Affinity {
        match self {
            Router::Balance(_) => Affinity::None,
            Router::LbCookie(_) => Affinity::Cookie,
            Router::SourceIp(_) => Affinity::SourceIp,
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn req(ip: [u8; 4], cookie: Option<u64>, now_ns: u64) -> RouteRequest {
        RouteRequest {
            now_ns,
            src: IpAddr::V4(Ipv4Addr::from(ip)),
            cookie,
            header: None,
        }
    }

    fn all_specs() -> Vec<StrategySpec> {
        let mut v: Vec<StrategySpec> = [
            Balance::RoundRobin,
            Balance::Random,
            Balance::LeastConn,
            Balance::P2c,
        ]
        .into_iter()
        .map(StrategySpec::Balance)
        .collect();
        for on_unavailable in [OnUnavailable::Redispatch, OnUnavailable::Reject] {
            v.push(StrategySpec::LbCookie {
                ttl_ns: 60_000_000_000,
                ttl_mode: TtlMode::Sliding,
                cookie: CookieAttrs::default(),
                balance: Balance::RoundRobin,
                on_unavailable,
                on_draining: OnDraining::Redispatch,
            });
            v.push(StrategySpec::SourceIp {
                hash: IpHash::Modulo,
                on_unavailable,
            });
        }
        v
    }

    #[test]
    fn no_strategy_ever_returns_a_down_backend() {
        let mut pool = Pool::with_default_addrs(5, None);
        pool.set_health(BackendId(1), Health::Down);
        pool.set_health(BackendId(3), Health::Down);
        for spec in all_specs() {
            let mut r = Router::new(&spec, 9);
            let mut rng = RouteRng::new(2);
            let mut cookie = None;
            for i in 0..2000u32 {
                let d = r.route(&req(i.to_be_bytes(), cookie, 0), &pool, &mut rng);
                if let Decision::Forward {
                    backend,
                    set_cookie,
                } = d
                {
                    assert_eq!(
                        pool.get(backend).health,
                        Health::Up,
                        "{spec:?} chose {backend:?}"
                    );
                    if let Some(c) = set_cookie {
                        cookie = Some(c.value);
                    }
                }
            }
        }
    }

    #[test]
    fn everything_down_is_refused() {
        let mut pool = Pool::with_default_addrs(2, None);
        pool.set_health(BackendId(0), Health::Down);
        pool.set_health(BackendId(1), Health::Down);
        for spec in all_specs() {
            let mut r = Router::new(&spec, 9);
            let d = r.route(&req([1, 2, 3, 4], None, 0), &pool, &mut RouteRng::new(1));
            assert_eq!(d, Decision::Refuse(Refusal::NoBackend), "{spec:?}");
        }
    }
}
