//! Load-balancer-inserted duration cookie: AWS ALB `lb_cookie`, HAProxy
//! `cookie … insert`, nginx `sticky cookie`, Traefik `sticky.cookie`.
//!
//! The first request is balanced and answered with a cookie naming the
//! chosen backend by a keyed hash of its address (not its index, so it can't
//! be guessed or forged). Later requests carrying a valid cookie for an up
//! backend with room go there. A forged, stale or undecodable value is
//! treated as absent.
//!
//! Value layout (64 bits, hex in `Set-Cookie`): the high 32 bits are a keyed
//! hash of the backend's address; the low 32 bits are the cookie's expiry
//! (whole seconds of simulated time, `u32::MAX` for a session cookie)
//! masked with a second keyed hash of the address. Like ALB's encrypted
//! cookie, it carries its own staleness: a client that keeps sending a
//! cookie past its TTL, or edits the expiry, is balanced anew (an expiry
//! further ahead than the TTL is rejected, as HAProxy ignores dates in the
//! future). A pinned backend that is down, draining or full is
//! handled per `on_unavailable`: redispatch (pick anew, rewrite the cookie,
//! as ALB does) or reject; one that is draining per `on_draining`: pick
//! anew (ALB) or keep going there while it drains (AppGW, nginx `drain`).

use super::hash::{keyed, mix64};
use super::{
    BackendId, Balance, Balancer, CookieAttrs, Decision, Health, OnDraining, OnUnavailable, Pool,
    Refusal, RouteRequest, RouteRng, SameSite, SetCookie, TtlMode,
};
use std::net::SocketAddr;

/// The LB-inserted cookie router: balances a client's first request, pins it
/// with a cookie naming the backend, and follows valid cookies afterwards.
#[derive(Debug, Clone)]
pub struct LbCookie {
    ttl_ns: u64,
    ttl_mode: TtlMode,
    attrs: CookieAttrs,
    balancer: Balancer,
    on_unavailable: OnUnavailable,
    on_draining: OnDraining,
    secret: u64,
    /// `(cookie value, backend)` sorted by value, for decoding.
    values: Vec<(u64, BackendId)>,
    /// Pool address generation `values` was built for (health changes,
    /// such as a retry taking a backend out for one decision, keep it).
    built_for: Option<u64>,
}

/// Keys the mask over the expiry field.
const EXPIRY_KEY: u64 = 0x6578_7069_7265_7321;

/// Whole seconds, rounded up, capped below the session sentinel.
#[inline]
fn secs_ceil(ns: u64) -> u32 {
    ns.div_ceil(1_000_000_000).min(u32::MAX as u64 - 1) as u32
}

fn addr_key(addr: SocketAddr) -> u64 {
    match addr {
        SocketAddr::V4(a) => ((u32::from(*a.ip()) as u64) << 16) | a.port() as u64,
        SocketAddr::V6(a) => {
            let x = u128::from(*a.ip());
            mix64(x as u64 ^ mix64((x >> 64) as u64)) ^ a.port() as u64
        }
    }
}

impl LbCookie {
    /// A router issuing cookies valid `ttl_ns` nanoseconds (ignored for
    /// [`TtlMode::Session`]) with the `Set-Cookie` attributes `attrs`, keyed
    /// by `secret` (which decides the cookie values, as the LB's key would);
    /// unpinned requests go to `balance`.
    pub fn new(
        ttl_ns: u64,
        ttl_mode: TtlMode,
        attrs: CookieAttrs,
        balance: Balance,
        on_unavailable: OnUnavailable,
        secret: u64,
        on_draining: OnDraining,
    ) -> Self {
        LbCookie {
            ttl_ns,
            ttl_mode,
            attrs,
            balancer: Balancer::new(balance),
            on_unavailable,
            on_draining,
            secret,
            values: Vec::new(),
            built_for: None,
        }
    }

    /// The cookie value that names `backend` in `pool`, expiring at
    /// `expires_s` (seconds of simulated time; `u32::MAX` = never).
    pub fn value_for(&self, pool: &Pool, backend: BackendId, expires_s: u32) -> u64 {
        let a = addr_key(pool.get(backend).addr);
        (keyed(self.secret, a) & 0xffff_ffff_0000_0000)
            | (expires_s ^ keyed(self.secret ^ EXPIRY_KEY, a) as u32) as u64
    }

    /// The backend a value names and its expiry, if it names one.
    fn decode(&mut self, pool: &Pool, value: u64) -> Option<(BackendId, u32)> {
        if self.built_for != Some(pool.addr_generation()) || self.values.len() != pool.len() {
            let secret = self.secret;
            self.values.clear();
            self.values.extend((0..pool.len()).map(|i| {
                let id = BackendId(i as u32);
                (keyed(secret, addr_key(pool.get(id).addr)) >> 32, id)
            }));
            self.values.sort_unstable();
            self.built_for = Some(pool.addr_generation());
        }
        let i = self
            .values
            .binary_search_by_key(&(value >> 32), |&(v, _)| v)
            .ok()?;
        let id = self.values[i].1;
        let mask = keyed(self.secret ^ EXPIRY_KEY, addr_key(pool.get(id).addr)) as u32;
        Some((id, value as u32 ^ mask))
    }

    fn issue(&self, pool: &Pool, backend: BackendId, now_ns: u64) -> SetCookie {
        let (max_age_ns, expires_s) = match self.ttl_mode {
            TtlMode::Sliding | TtlMode::Absolute => (
                Some(self.ttl_ns),
                secs_ceil(now_ns.saturating_add(self.ttl_ns)),
            ),
            TtlMode::Session => (None, u32::MAX),
        };
        SetCookie {
            value: self.value_for(pool, backend, expires_s),
            max_age_ns,
        }
    }

    fn fresh(&mut self, pool: &Pool, rng: &mut RouteRng, req: &RouteRequest) -> Decision {
        let now_ns = req.now_ns;
        match self.balancer.pick(pool, rng, req.exclude) {
            Some(b) => Decision::Forward {
                backend: b,
                set_cookie: Some(self.issue(pool, b, now_ns)),
            },
            None => Decision::Refuse(Refusal::NoBackend),
        }
    }

    /// Follows `req`'s cookie if it is valid, unexpired and names an
    /// eligible backend with room; otherwise balances anew (and sets a new
    /// cookie) or refuses, per `on_draining` and `on_unavailable`.
    pub fn route(&mut self, req: &RouteRequest, pool: &Pool, rng: &mut RouteRng) -> Decision {
        let now = req.now_ns;
        let pinned = match req.cookie {
            Some(v) => self.decode(pool, v),
            None => None,
        };
        // Stale (expired) or implausible (expiring further ahead than a
        // fresh cookie would) values are treated as absent.
        let now_s = now / 1_000_000_000;
        let pinned = pinned.filter(|&(_, exp)| match self.ttl_mode {
            TtlMode::Session => exp == u32::MAX,
            TtlMode::Sliding | TtlMode::Absolute => {
                (exp as u64) > now_s
                    && (exp as u64) <= secs_ceil(now.saturating_add(self.ttl_ns)) as u64
            }
        });
        let Some((b, _)) = pinned else {
            return self.fresh(pool, rng, req);
        };
        let view = pool.get(b);
        // A retry treats the backend it failed on as down (HAProxy
        // `redispatch` drops persistence and re-balances avoiding it; ALB
        // picks a new target and rewrites the cookie).
        let retried_from = req.exclude == Some(b);
        if !retried_from && view.eligible(self.on_draining) && view.has_room() {
            // Sliding expiry is refreshed on every response; absolute and
            // session cookies are not re-emitted (HAProxy `indirect`).
            let set_cookie = match self.ttl_mode {
                TtlMode::Sliding => Some(self.issue(pool, b, now)),
                TtlMode::Absolute | TtlMode::Session => None,
            };
            return Decision::Forward {
                backend: b,
                set_cookie,
            };
        }
        if !retried_from
            && view.health == Health::Draining
            && self.on_draining == OnDraining::Reroute
        {
            // ALB: sticky clients of a deregistered target are re-routed at once.
            return self.fresh(pool, rng, req);
        }
        match self.on_unavailable {
            OnUnavailable::Redispatch => self.fresh(pool, rng, req),
            OnUnavailable::Reject => Decision::Refuse(Refusal::PinnedUnavailable),
        }
    }

    /// `Set-Cookie` as a proxy would write it.
    pub fn format_set_cookie(&self, c: &SetCookie) -> String {
        let mut s = format!("{}={:016x}", self.attrs.name, c.value);
        if let Some(ns) = c.max_age_ns {
            s.push_str(&format!("; Max-Age={}", ns / 1_000_000_000));
        }
        s.push_str(&format!("; Path={}", self.attrs.path));
        if self.attrs.secure {
            s.push_str("; Secure");
        }
        if self.attrs.http_only {
            s.push_str("; HttpOnly");
        }
        match self.attrs.same_site {
            Some(SameSite::Strict) => s.push_str("; SameSite=Strict"),
            Some(SameSite::Lax) => s.push_str("; SameSite=Lax"),
            Some(SameSite::None) => s.push_str("; SameSite=None"),
            None => {}
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{IpAddr, Ipv4Addr};

    const TTL: u64 = 300_000_000_000;

    fn router(mode: TtlMode, on_unavailable: OnUnavailable) -> LbCookie {
        LbCookie::new(
            TTL,
            mode,
            CookieAttrs::default(),
            Balance::RoundRobin,
            on_unavailable,
            77,
            OnDraining::Reroute,
        )
    }

    fn req(cookie: Option<u64>) -> RouteRequest {
        RouteRequest {
            now_ns: 0,
            src: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
            cookie,
            header: None,
            app_id: None,
            exclude: None,
        }
    }

    fn forward(d: Decision) -> (BackendId, Option<SetCookie>) {
        match d {
            Decision::Forward {
                backend,
                set_cookie,
            } => (backend, set_cookie),
            other => panic!("expected forward, got {other:?}"),
        }
    }

    #[test]
    fn cookie_pins_and_sliding_mode_reissues() {
        let pool = Pool::with_default_addrs(4, None);
        let mut r = router(TtlMode::Sliding, OnUnavailable::Redispatch);
        let mut rng = RouteRng::new(1);
        let (b, c) = forward(r.route(&req(None), &pool, &mut rng));
        let c = c.expect("first response sets the cookie");
        assert_eq!(c.max_age_ns, Some(TTL));
        for _ in 0..10 {
            let (b2, c2) = forward(r.route(&req(Some(c.value)), &pool, &mut rng));
            assert_eq!(b2, b);
            assert_eq!(c2, Some(c), "sliding mode refreshes the same cookie");
        }
    }

    #[test]
    fn absolute_and_session_modes_do_not_reissue() {
        let pool = Pool::with_default_addrs(4, None);
        for mode in [TtlMode::Absolute, TtlMode::Session] {
            let mut r = router(mode, OnUnavailable::Redispatch);
            let mut rng = RouteRng::new(1);
            let (b, c) = forward(r.route(&req(None), &pool, &mut rng));
            let c = c.unwrap();
            assert_eq!(
                c.max_age_ns,
                if mode == TtlMode::Session {
                    None
                } else {
                    Some(TTL)
                }
            );
            let (b2, c2) = forward(r.route(&req(Some(c.value)), &pool, &mut rng));
            assert_eq!((b2, c2), (b, None));
        }
    }

    #[test]
    fn forged_values_are_treated_as_absent() {
        let pool = Pool::with_default_addrs(4, None);
        let mut r = router(TtlMode::Sliding, OnUnavailable::Reject);
        let mut rng = RouteRng::new(1);
        // Backend indices and raw addresses are not valid cookie values.
        for forged in [0u64, 1, 2, 3, 0x0a00_0001_1f90, u64::MAX] {
            let (_, c) = forward(r.route(&req(Some(forged)), &pool, &mut rng));
            assert!(
                c.is_some(),
                "a fresh cookie is issued for forged value {forged}"
            );
        }
        // A cookie from another load balancer (other secret) is also foreign.
        let other = LbCookie::new(
            TTL,
            TtlMode::Sliding,
            CookieAttrs::default(),
            Balance::RoundRobin,
            OnUnavailable::Reject,
            78,
            OnDraining::Reroute,
        );
        let foreign = other.value_for(&pool, BackendId(2), 300);
        let (_, c) = forward(r.route(&req(Some(foreign)), &pool, &mut rng));
        assert_ne!(c.unwrap().value, foreign);
    }

    #[test]
    fn cookies_survive_health_flips_but_not_a_new_address() {
        let mut pool = Pool::with_default_addrs(3, None);
        let mut r = router(TtlMode::Absolute, OnUnavailable::Reject);
        let mut rng = RouteRng::new(1);
        let (b, c) = forward(r.route(&req(None), &pool, &mut rng));
        let v = c.unwrap().value;
        // A retry's flip: down for one decision, then back.
        pool.set_health(b, Health::Down);
        pool.set_health(b, Health::Up);
        assert_eq!(forward(r.route(&req(Some(v)), &pool, &mut rng)), (b, None));
        // A new instance in the slot: the old cookie names nothing.
        pool.set_addr(b, "10.9.9.9:8080".parse().unwrap());
        let (_, c2) = forward(r.route(&req(Some(v)), &pool, &mut rng));
        assert!(c2.is_some(), "the old value was decoded after a readdress");
        // And the new instance's cookies pin to it.
        let v2 = r.issue(&pool, b, 0).value;
        assert_eq!(forward(r.route(&req(Some(v2)), &pool, &mut rng)), (b, None));
    }

    #[test]
    fn down_pin_redispatches_or_rejects() {
        let mut pool = Pool::with_default_addrs(3, None);
        let mut rd = router(TtlMode::Sliding, OnUnavailable::Redispatch);
        let mut rj = router(TtlMode::Sliding, OnUnavailable::Reject);
        let mut rng = RouteRng::new(1);
        let (b, c) = forward(rd.route(&req(None), &pool, &mut rng));
        let v = c.unwrap().value;
        pool.set_health(b, Health::Down);
        let (b2, c2) = forward(rd.route(&req(Some(v)), &pool, &mut rng));
        assert_ne!(b2, b);
        assert_eq!(
            c2.unwrap().value,
            rd.value_for(&pool, b2, 300),
            "cookie rewritten to the new backend"
        );
        assert_eq!(
            rj.route(&req(Some(v)), &pool, &mut rng),
            Decision::Refuse(Refusal::PinnedUnavailable)
        );
    }

    #[test]
    fn full_pin_with_reject_refuses() {
        let mut pool = Pool::with_default_addrs(2, Some(1));
        let mut r = router(TtlMode::Sliding, OnUnavailable::Reject);
        let mut rng = RouteRng::new(1);
        let (b, c) = forward(r.route(&req(None), &pool, &mut rng));
        pool.add_outstanding(b);
        let d = r.route(&req(Some(c.unwrap().value)), &pool, &mut rng);
        assert_eq!(d, Decision::Refuse(Refusal::PinnedUnavailable));
    }

    #[test]
    fn set_cookie_formatting_carries_attributes() {
        let attrs = CookieAttrs {
            name: "SRV".into(),
            path: "/shop".into(),
            secure: true,
            http_only: true,
            same_site: Some(SameSite::Lax),
        };
        let r = LbCookie::new(
            TTL,
            TtlMode::Sliding,
            attrs,
            Balance::RoundRobin,
            OnUnavailable::Redispatch,
            1,
            OnDraining::Reroute,
        );
        let s = r.format_set_cookie(&SetCookie {
            value: 0xabc,
            max_age_ns: Some(TTL),
        });
        assert_eq!(
            s,
            "SRV=0000000000000abc; Max-Age=300; Path=/shop; Secure; HttpOnly; SameSite=Lax"
        );
        let s = r.format_set_cookie(&SetCookie {
            value: 1,
            max_age_ns: None,
        });
        assert!(!s.contains("Max-Age"));
    }

    fn req_at(cookie: Option<u64>, now_ns: u64) -> RouteRequest {
        RouteRequest {
            now_ns,
            ..req(cookie)
        }
    }

    #[test]
    fn ttl_modes_expire_as_documented_even_if_the_client_keeps_the_cookie() {
        const S: u64 = 1_000_000_000;
        let pool = Pool::with_default_addrs(4, None);
        // Sliding: each response moves the expiry; idle for TTL → stale.
        let mut r = router(TtlMode::Sliding, OnUnavailable::Reject);
        let mut rng = RouteRng::new(1);
        let (b, c) = forward(r.route(&req_at(None, 0), &pool, &mut rng));
        let mut v = c.unwrap().value;
        for t in [200 * S, 400 * S, 600 * S] {
            let (b2, c2) = forward(r.route(&req_at(Some(v), t), &pool, &mut rng));
            assert_eq!(b2, b, "kept alive by use at {t}");
            v = c2.unwrap().value;
        }
        // 300 s idle after the last use at 600 s: stale, balanced anew with a new cookie.
        let (_, c3) = forward(r.route(&req_at(Some(v), 901 * S), &pool, &mut rng));
        assert!(c3.is_some() && c3.unwrap().value != v);
        // Absolute: not refreshed by use; stale TTL after the first assignment.
        let mut r = router(TtlMode::Absolute, OnUnavailable::Reject);
        let (b, c) = forward(r.route(&req_at(None, 0), &pool, &mut rng));
        let v = c.unwrap().value;
        let (b2, c2) = forward(r.route(&req_at(Some(v), 299 * S), &pool, &mut rng));
        assert_eq!((b2, c2), (b, None));
        let (_, c3) = forward(r.route(&req_at(Some(v), 301 * S), &pool, &mut rng));
        assert!(c3.is_some(), "stale after 300 s despite use");
        // Session: no expiry on the load balancer's side.
        let mut r = router(TtlMode::Session, OnUnavailable::Reject);
        let (b, c) = forward(r.route(&req_at(None, 0), &pool, &mut rng));
        let v = c.unwrap().value;
        let (b2, c2) = forward(r.route(&req_at(Some(v), 1_000_000 * S), &pool, &mut rng));
        assert_eq!((b2, c2), (b, None));
    }

    #[test]
    fn an_edited_expiry_is_not_honoured() {
        let pool = Pool::with_default_addrs(4, None);
        let mut r = router(TtlMode::Absolute, OnUnavailable::Reject);
        let mut rng = RouteRng::new(1);
        let (_, c) = forward(r.route(&req_at(None, 0), &pool, &mut rng));
        let v = c.unwrap().value;
        let mut honoured = 0;
        for flip in 0..32 {
            let edited = v ^ (1u64 << flip);
            let (_, c2) = forward(r.route(&req_at(Some(edited), 1), &pool, &mut rng));
            if c2.is_none() {
                honoured += 1;
            }
        }
        // Only flips that keep the expiry within (now, now + TTL] pass.
        assert!(honoured <= 9, "{honoured} of 32 single-bit edits honoured");
    }
}
