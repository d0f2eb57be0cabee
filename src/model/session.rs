//! A user session and how it changes between requests: its address churns
//! (mobile networks, NAT pools), its API token rotates, its affinity
//! cookie expires. [`Session::advance`] applies all of that up to a time.

use super::{Addresser, Epoch};
use crate::routing::BackendId;
use crate::scenario::{secs_to_ns as s_to_ns, ClientSegment};
use crate::sim::{mix64, Nanos, SimRng};
use rand::Rng;
use rand_distr::Exp1;
use std::net::IpAddr;

/// The affinity cookie a client holds, as its jar stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JarCookie {
    /// The cookie's value (it names a backend to the load balancer).
    pub value: u64,
    /// When the jar drops it; `None` for a session cookie.
    pub expires_ns: Option<Nanos>,
}

/// A request between a failed attempt and its retry: what it drew, so the
/// retry does not draw again.
#[derive(Debug, Clone, Copy)]
pub struct Pending {
    /// When the request was first sent.
    pub start_ns: Nanos,
    /// Its service demand, in seconds at speed 1.
    pub demand_s: f64,
    /// Its session-store or replication round trip, in seconds.
    pub state_s: f64,
    /// Counted in the metrics.
    pub measured: bool,
    /// The backend the failed attempt went to.
    pub failed_on: BackendId,
    /// The load balancer's retries of it so far.
    pub lb_retries: u32,
    /// Its retry goes back to `failed_on` (HAProxy before redispatching).
    pub again: bool,
}

/// One user session: a run of requests separated by think time.
#[derive(Debug)]
pub struct Session {
    /// The session's number in arrival order.
    pub no: u64,
    /// A running digest of the session's workload draws (see `RunOutput`).
    pub digest: u64,
    /// Counted in the metrics (started after warm-up).
    pub measured: bool,
    /// Index of its client segment.
    pub segment: u16,
    /// The user within the segment.
    pub user: u32,
    /// Requests not yet sent.
    pub remaining: u32,
    /// Think times, service demands, store latencies: this session's own stream.
    pub rng: SimRng,
    /// Address changes: this session's own stream.
    pub net_rng: SimRng,
    /// Shared-store round trips (only with shared state): its own stream, so
    /// the other draws are the same whatever the placement.
    pub store_rng: Option<SimRng>,
    /// When its address changes next (`Nanos::MAX`: never).
    pub next_ip_change_ns: Nanos,
    /// Address changes so far.
    pub ip_changes: u32,
    /// Its source address now.
    pub ip: IpAddr,
    /// The client refuses cookies.
    pub blocks_cookies: bool,
    /// The load balancer's affinity cookie, as the client holds it.
    pub cookie: Option<JarCookie>,
    /// The API token it sends as a header (`None` without one).
    pub token: Option<u64>,
    /// The token as first issued, and how many rotations it has been through.
    pub token_base: u64,
    /// The rotation period the token is in (see [`token_epoch`]).
    pub token_epoch: u64,
    /// The application's session cookie or id, as the client holds it.
    pub app_id: Option<u64>,
    /// Times the application issued this session an id (its state was created).
    pub app_issues: u32,
    /// Where the session's state lives: a backend and the backend's
    /// incarnation (epoch) when it was written.
    pub home: Option<(BackendId, Epoch)>,
    /// It has lost its state at least once.
    pub lost: bool,
    /// What changed since the session last reached its home.
    pub drift: Drift,
    /// When its last request was routed (`None` before the first).
    pub last_routed_ns: Option<Nanos>,
    /// Times the user has sent its current request again after an error
    /// (`[[clients]] retry`).
    pub client_retries: u32,
}

/// What changed about a session since its request last reached its home:
/// the facts loss attribution reads ([`super::state::land`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Drift {
    /// Its address changed.
    pub ip_changed: bool,
    /// Its affinity cookie expired.
    pub cookie_expired: bool,
    /// Its token rotated.
    pub token_rotated: bool,
    /// It was idle (between two routed requests) for at least the
    /// load balancer's idle timeout of its table entry (`source_ip_table`,
    /// `app_cookie`, `session_id`): the entry has expired.
    pub idle_expired: bool,
}

impl Session {
    /// Brings the session's client up to `now`: every address change due
    /// by then (each a fresh address from the segment's `addresser`, the
    /// next one an exponential gap later), the token's rotation if its
    /// period turned, and the affinity cookie's expiry.
    pub fn advance(&mut self, now: Nanos, seg: &ClientSegment, addresser: &Addresser) {
        while self.next_ip_change_ns <= now {
            self.ip_changes += 1;
            let ip = addresser.changed(self.user, self.ip_changes, &mut self.net_rng);
            // A pool can hand back the same address: that is no change.
            self.drift.ip_changed |= ip != self.ip;
            self.ip = ip;
            let gap = s_to_ns(self.net_rng.sample::<f64, _>(Exp1) / seg.ip_change_rate);
            self.next_ip_change_ns = self.next_ip_change_ns.saturating_add(gap.max(1));
        }
        if self.token.is_some() && seg.token_rotation_ns > 0 {
            let epoch = token_epoch(self.token_base, now, seg.token_rotation_ns);
            if epoch != self.token_epoch {
                self.token_epoch = epoch;
                self.token = Some(mix64(self.token_base ^ epoch));
                self.drift.token_rotated = true;
            }
        }
        self.cookie_at(now);
    }

    /// The cookie the client sends now, expiring it first if its time is up.
    #[inline]
    pub fn cookie_at(&mut self, now: Nanos) -> Option<u64> {
        match self.cookie {
            Some(JarCookie {
                expires_ns: Some(t),
                ..
            }) if t <= now => {
                self.cookie = None;
                self.drift.cookie_expired = true;
                None
            }
            Some(c) => Some(c.value),
            None => None,
        }
    }

    /// The session's request is routed at `now`: a gap since the previous
    /// one of at least `idle_timeout_ns` (the strategy's table timeout, if
    /// it has one) means its entry has expired. The entry of a learned id
    /// is refreshed only by this session's requests, so the gap is exact;
    /// an address entry is shared with other clients behind the same
    /// address, who may have refreshed it.
    #[inline]
    pub fn routed(&mut self, now: Nanos, idle_timeout_ns: Option<u64>) {
        if let (Some(t), Some(last)) = (idle_timeout_ns, self.last_routed_ns) {
            self.drift.idle_expired |= now.saturating_sub(last) >= t;
        }
        self.last_routed_ns = Some(now);
    }

    /// The state was found or recreated at its home: nothing has drifted.
    #[inline]
    pub fn settle(&mut self) {
        self.drift = Drift::default();
    }
}

/// Which rotation period a token is in at `now` (0 when it never rotates).
/// Each client's rotations have their own phase, derived from its token.
#[inline]
pub fn token_epoch(token: u64, now: Nanos, rotation_ns: u64) -> u64 {
    match token.checked_rem(rotation_ns) {
        Some(phase) => now.saturating_add(phase) / rotation_ns,
        None => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Network;
    use crate::sim::{stream, Stream};

    fn segment(ip_change_rate: f64, token_rotation_ns: u64) -> ClientSegment {
        ClientSegment {
            ip_change_rate,
            token_header: token_rotation_ns > 0,
            token_rotation_ns,
            ..ClientSegment::direct("s", 1.0, 100)
        }
    }

    fn session(seg: &ClientSegment, a: &Addresser, next_ip_change_ns: Nanos) -> Session {
        let mut net_rng = stream(7, Stream::Network, 0);
        let ip = a.initial(3, &mut net_rng);
        let token = 0x1234_5678_9abc_def0;
        Session {
            no: 0,
            digest: 0,
            measured: true,
            segment: 0,
            user: 3,
            remaining: 5,
            rng: stream(7, Stream::Session, 0),
            net_rng,
            store_rng: None,
            next_ip_change_ns,
            ip_changes: 0,
            ip,
            blocks_cookies: false,
            cookie: None,
            token: seg.token_header.then_some(token),
            token_base: token,
            token_epoch: token_epoch(token, 0, seg.token_rotation_ns),
            app_id: None,
            app_issues: 0,
            home: None,
            lost: false,
            drift: Drift::default(),
            last_routed_ns: None,
            client_retries: 0,
        }
    }

    #[test]
    fn address_changes_only_once_due_and_each_due_change_happens() {
        let seg = segment(1.0, 0);
        let a = Addresser::new(1, 0, &seg);
        let mut s = session(&seg, &a, 1_000);
        let ip0 = s.ip;
        s.advance(999, &seg, &a);
        assert_eq!((s.ip, s.ip_changes, s.drift), (ip0, 0, Drift::default()));
        s.advance(1_000, &seg, &a);
        assert_eq!(s.ip_changes, 1);
        assert_ne!(s.ip, ip0, "a direct client gets a fresh address");
        assert!(s.drift.ip_changed);
        assert!(s.next_ip_change_ns > 1_000);
        // Far ahead: every change due by then happens, in one call.
        let far = s.next_ip_change_ns + 60_000_000_000;
        s.advance(far, &seg, &a);
        assert!(s.ip_changes > 2, "{}", s.ip_changes);
        assert!(s.next_ip_change_ns > far);
        // A direct client's address is a function of the change number.
        assert_eq!(
            s.ip,
            a.changed(s.user, s.ip_changes, &mut stream(0, Stream::Network, 0))
        );
    }

    #[test]
    fn a_pool_handing_back_the_same_address_is_no_change() {
        // One NAT address for everyone: every change draws it again.
        let seg = ClientSegment {
            network: Network::Nat,
            users_per_ip: 100,
            ..segment(1.0, 0)
        };
        let a = Addresser::new(1, 0, &seg);
        let mut s = session(&seg, &a, 10);
        s.advance(10, &seg, &a);
        assert_eq!(s.ip_changes, 1);
        assert!(!s.drift.ip_changed);
    }

    #[test]
    fn token_rotates_when_its_period_turns_and_keeps_its_phase() {
        let period = 1_000_000;
        let seg = segment(0.0, period);
        let a = Addresser::new(1, 0, &seg);
        let mut s = session(&seg, &a, Nanos::MAX);
        let t0 = s.token;
        let phase = s.token_base % period;
        // Just before this client's first turn (its own phase): no rotation.
        let turn = period - phase;
        s.advance(turn - 1, &seg, &a);
        assert_eq!((s.token, s.drift.token_rotated), (t0, false));
        s.advance(turn, &seg, &a);
        assert!(s.drift.token_rotated);
        assert_eq!(s.token, Some(mix64(s.token_base ^ 1)));
        assert_ne!(s.token, t0);
        // Settled at home, then within the same period: nothing new.
        s.settle();
        s.advance(turn + period - 1, &seg, &a);
        assert!(!s.drift.token_rotated);
        assert_eq!(s.ip, session(&seg, &a, 0).ip, "no churn without a rate");
    }

    #[test]
    fn cookie_expires_at_its_time_not_before() {
        let seg = segment(0.0, 0);
        let a = Addresser::new(1, 0, &seg);
        let mut s = session(&seg, &a, Nanos::MAX);
        s.cookie = Some(JarCookie {
            value: 9,
            expires_ns: Some(500),
        });
        s.advance(499, &seg, &a);
        assert_eq!(s.cookie_at(499), Some(9));
        assert!(!s.drift.cookie_expired);
        s.advance(500, &seg, &a);
        assert_eq!((s.cookie, s.drift.cookie_expired), (None, true));
        // An idle gap of at least the table timeout expires the entry.
        s.settle();
        s.routed(1_000, Some(300));
        s.routed(1_299, Some(300));
        assert!(!s.drift.idle_expired, "299 ns idle < 300");
        s.routed(1_599, Some(300));
        assert!(s.drift.idle_expired, "300 ns idle");
        s.settle();
        s.routed(1_000_000, None);
        assert!(!s.drift.idle_expired, "no table, no timeout");
        // A session cookie never expires.
        s.cookie = Some(JarCookie {
            value: 4,
            expires_ns: None,
        });
        s.settle();
        s.advance(Nanos::MAX - 1, &seg, &a);
        assert_eq!(s.cookie_at(Nanos::MAX - 1), Some(4));
        assert_eq!(s.ip, session(&seg, &a, Nanos::MAX).ip);
    }
}
