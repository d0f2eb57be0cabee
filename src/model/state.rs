//! Where a session's state lives and what happens to it when a request
//! lands on a backend: found where it was, saved by the placement (a shared
//! store, a replica), or lost — and why. Pure functions of the session, the
//! backend it landed on and the fleet's incarnations, so loss attribution
//! can be tested on its own.

use super::{Drift, Epoch, LossCause};
use crate::routing::{Affinity, BackendId};

/// Most replica holders a session's state may have (`replicated` placement).
pub const MAX_REPLICAS: usize = 8;

/// Where a run's sessions keep their state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// In the memory of the backend that created it.
    Local,
    /// In a shared store every backend reads (lost only while it is down).
    Shared,
    /// On the backend that wrote it plus copies on others.
    Replicated {
        /// Any backend fetches from any surviving holder (else only a copy
        /// on the backend the request lands on counts).
        cluster_reads: bool,
    },
}

impl Placement {
    /// The placement's name in outputs.
    pub fn name(self) -> &'static str {
        match self {
            Placement::Local => "local",
            Placement::Shared => "shared",
            Placement::Replicated { .. } => "replicated",
        }
    }
}

/// Backends holding copies of a session's state (`replicated` placement):
/// `(backend, epoch)`, the first `len` entries. Kept beside the sessions,
/// not in them, so runs without replication don't carry it.
#[derive(Debug, Clone, Copy)]
pub struct Replicas {
    len: u8,
    at: [(BackendId, Epoch); MAX_REPLICAS],
}

impl Default for Replicas {
    fn default() -> Self {
        Replicas::EMPTY
    }
}

impl Replicas {
    /// No holders.
    pub const EMPTY: Replicas = Replicas {
        len: 0,
        at: [(BackendId(0), Epoch(0)); MAX_REPLICAS],
    };

    /// The holders, in write order.
    #[inline]
    pub fn holders(&self) -> &[(BackendId, Epoch)] {
        &self.at[..self.len as usize]
    }
}

/// The fleet as state placement sees it: each backend's incarnation now,
/// and what ended or is retiring an incarnation.
pub trait Incarnations {
    /// Backend `b`'s current epoch.
    fn epoch(&self, b: BackendId) -> Epoch;
    /// Whether backend `b` is running now.
    fn alive(&self, b: BackendId) -> bool;
    /// What ended incarnation `e` of backend `b` (an epoch before its current one).
    fn ended_by(&self, b: BackendId, e: Epoch) -> LossCause;
    /// Why backend `b` is being retired (deploy, scale-in), if it is.
    fn retiring(&self, b: BackendId) -> Option<LossCause>;
}

/// What became of a session's state when its request landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Landing {
    /// It landed where the state is.
    Same,
    /// The session had no state yet: it is created here.
    New,
    /// Not at home, but the placement kept the state (shared store,
    /// replica): it moves here. `left_live` as in [`Landing::Lost`].
    Saved {
        /// The old home is still in the incarnation that held the state.
        left_live: bool,
    },
    /// Not at home and nothing kept it: lost, for `cause`, and recreated here.
    Lost {
        /// Why.
        cause: LossCause,
        /// The old home is still in the incarnation that held the state.
        left_live: bool,
    },
}

/// What happens to the state of a session whose request lands on backend
/// `at`: the session's `home` (backend and epoch), what `drift`ed since it
/// was last there, whether its client blocks cookies, the strategy's
/// `affinity`, the placement and the session's `replicas`.
///
/// A lost state's cause is, in order: whatever ended the home's
/// incarnation (a crash, a deploy's or scale-in's stop); the reason its
/// home is retiring; else what the session changed that the affinity
/// depends on (cookie blocked or expired, address changed, token rotated);
/// else the strategy rebalanced it.
#[allow(clippy::too_many_arguments)]
#[inline]
pub fn land(
    home: Option<(BackendId, Epoch)>,
    at: BackendId,
    fleet: &impl Incarnations,
    placement: Placement,
    replicas: &Replicas,
    affinity: Affinity,
    blocks_cookies: bool,
    drift: Drift,
) -> Landing {
    let Some((h, e)) = home else {
        return Landing::New;
    };
    let epoch = fleet.epoch(at);
    if h == at && e == epoch {
        return Landing::Same;
    }
    let left_live = fleet.epoch(h) == e;
    let saved = match placement {
        Placement::Local => false,
        Placement::Shared => true,
        // Local lookup: only a copy on `at` counts; cluster lookup: `at`
        // fetches from any surviving holder, the primary included.
        Placement::Replicated { cluster_reads } => {
            (cluster_reads && left_live)
                || replicas.holders().iter().any(|&(r, re)| {
                    if cluster_reads {
                        fleet.epoch(r) == re
                    } else {
                        r == at && re == epoch
                    }
                })
        }
    };
    if saved {
        return Landing::Saved { left_live };
    }
    let cause = if !left_live {
        fleet.ended_by(h, e)
    } else if let Some(c) = fleet.retiring(h) {
        c
    } else {
        drift_cause(affinity, blocks_cookies, drift)
    };
    Landing::Lost { cause, left_live }
}

/// Why a session whose home is still running landed elsewhere: what it
/// changed that the strategy's affinity depends on, else a rebalance.
#[inline]
pub fn drift_cause(affinity: Affinity, blocks_cookies: bool, d: Drift) -> LossCause {
    match affinity {
        Affinity::None => LossCause::Rebalanced,
        Affinity::Cookie if blocks_cookies => LossCause::CookieBlocked,
        Affinity::Cookie if d.cookie_expired => LossCause::TtlExpired,
        Affinity::SourceIp if d.ip_changed => LossCause::IpChange,
        Affinity::AppCookie if blocks_cookies => LossCause::CookieBlocked,
        Affinity::Header if d.token_rotated => LossCause::TokenRotation,
        // The table entry (address, learned id) timed out: the same cause
        // as an expired cookie.
        Affinity::SourceIp | Affinity::AppCookie | Affinity::SessionId if d.idle_expired => {
            LossCause::TtlExpired
        }
        Affinity::Cookie
        | Affinity::SourceIp
        | Affinity::Header
        | Affinity::AppCookie
        | Affinity::SessionId => LossCause::Rebalanced,
    }
}

/// Where a write on backend `at` copies the state: the next `copies`
/// running backends after `at` among the in-service ones (`up`, in slot
/// order), wrapping around.
#[inline]
pub fn replicate(
    at: BackendId,
    copies: u32,
    up: &[BackendId],
    fleet: &impl Incarnations,
) -> Replicas {
    let mut reps = Replicas::default();
    let start = up.partition_point(|x| x.0 <= at.0);
    let mut n = 0;
    for k in 0..up.len() {
        if n == copies as usize {
            break;
        }
        let r = up[(start + k) % up.len()];
        if r != at && fleet.alive(r) {
            reps.at[n] = (r, fleet.epoch(r));
            n += 1;
        }
    }
    reps.len = n as u8;
    reps
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fleet of backends with an epoch each, crash causes per past
    /// epoch, and optional retire causes.
    struct Fleet {
        epochs: Vec<Epoch>,
        alive: Vec<bool>,
        ended: Vec<Vec<LossCause>>,
        retire: Vec<Option<LossCause>>,
    }

    impl Fleet {
        fn new(n: usize) -> Self {
            Fleet {
                epochs: vec![Epoch(0); n],
                alive: vec![true; n],
                ended: vec![Vec::new(); n],
                retire: vec![None; n],
            }
        }
        fn end(&mut self, b: usize, cause: LossCause) {
            self.ended[b].push(cause);
            self.epochs[b] = self.epochs[b].next();
        }
    }

    impl Incarnations for Fleet {
        fn epoch(&self, b: BackendId) -> Epoch {
            self.epochs[b.index()]
        }
        fn alive(&self, b: BackendId) -> bool {
            self.alive[b.index()]
        }
        fn ended_by(&self, b: BackendId, e: Epoch) -> LossCause {
            self.ended[b.index()][e.index()]
        }
        fn retiring(&self, b: BackendId) -> Option<LossCause> {
            self.retire[b.index()]
        }
    }

    const B0: BackendId = BackendId(0);
    const B1: BackendId = BackendId(1);
    const B2: BackendId = BackendId(2);
    const HOME: Option<(BackendId, Epoch)> = Some((B0, Epoch(0)));

    fn local(fleet: &Fleet, at: BackendId, affinity: Affinity, blocks: bool, d: Drift) -> Landing {
        let none = Replicas::default();
        land(
            HOME,
            at,
            fleet,
            Placement::Local,
            &none,
            affinity,
            blocks,
            d,
        )
    }

    fn lost(cause: LossCause, left_live: bool) -> Landing {
        Landing::Lost { cause, left_live }
    }

    #[test]
    fn home_is_same_elsewhere_is_lost_first_request_is_new() {
        let f = Fleet::new(3);
        let d = Drift::default();
        assert_eq!(local(&f, B0, Affinity::Cookie, false, d), Landing::Same);
        let none = Replicas::default();
        let first = land(
            None,
            B1,
            &f,
            Placement::Local,
            &none,
            Affinity::Cookie,
            false,
            d,
        );
        assert_eq!(first, Landing::New);
        assert_eq!(
            local(&f, B1, Affinity::Cookie, false, d),
            lost(LossCause::Rebalanced, true)
        );
    }

    #[test]
    fn a_crashed_home_is_lost_to_what_ended_it_even_on_return() {
        let mut f = Fleet::new(3);
        f.end(0, LossCause::Failure);
        let d = Drift {
            ip_changed: true,
            ..Drift::default()
        };
        // Back on the same backend, but a later incarnation: the state is gone.
        assert_eq!(
            local(&f, B0, Affinity::SourceIp, false, d),
            lost(LossCause::Failure, false)
        );
        // The cause is the one of the epoch the state was written in.
        f.end(0, LossCause::Deploy);
        assert_eq!(
            local(&f, B1, Affinity::SourceIp, false, d),
            lost(LossCause::Failure, false)
        );
        let h1 = Some((B0, Epoch(1)));
        let none = Replicas::default();
        let r = land(
            h1,
            B1,
            &f,
            Placement::Local,
            &none,
            Affinity::None,
            false,
            d,
        );
        assert_eq!(r, lost(LossCause::Deploy, false));
    }

    #[test]
    fn a_retiring_home_blames_the_retirement_over_the_client() {
        let mut f = Fleet::new(3);
        f.retire[0] = Some(LossCause::ScaleIn);
        assert_eq!(
            local(&f, B1, Affinity::Cookie, true, Drift::default()),
            lost(LossCause::ScaleIn, true)
        );
    }

    #[test]
    fn drift_is_blamed_only_where_the_affinity_depends_on_it() {
        let f = Fleet::new(3);
        let ip = Drift {
            ip_changed: true,
            ..Drift::default()
        };
        let ttl = Drift {
            cookie_expired: true,
            ..Drift::default()
        };
        let tok = Drift {
            token_rotated: true,
            ..Drift::default()
        };
        let idle = Drift {
            idle_expired: true,
            ..Drift::default()
        };
        let ip_idle = Drift {
            ip_changed: true,
            idle_expired: true,
            ..Drift::default()
        };
        let cases = [
            (Affinity::SourceIp, false, ip, LossCause::IpChange),
            (Affinity::Cookie, false, ip, LossCause::Rebalanced),
            (Affinity::Cookie, false, ttl, LossCause::TtlExpired),
            (Affinity::Cookie, true, ttl, LossCause::CookieBlocked),
            (Affinity::AppCookie, true, ip, LossCause::CookieBlocked),
            (Affinity::SessionId, true, ttl, LossCause::Rebalanced),
            (Affinity::Header, false, tok, LossCause::TokenRotation),
            (Affinity::SourceIp, false, tok, LossCause::Rebalanced),
            (Affinity::None, true, ip, LossCause::Rebalanced),
            // A timed-out table entry is an expiry for every table.
            (Affinity::SourceIp, false, idle, LossCause::TtlExpired),
            (Affinity::AppCookie, false, idle, LossCause::TtlExpired),
            (Affinity::SessionId, true, idle, LossCause::TtlExpired),
            // ... after the causes that come first for each affinity.
            (Affinity::AppCookie, true, idle, LossCause::CookieBlocked),
            (Affinity::SourceIp, false, ip_idle, LossCause::IpChange),
            // Hash and cookie strategies keep no table entry.
            (Affinity::Header, false, idle, LossCause::Rebalanced),
            (Affinity::Cookie, false, idle, LossCause::Rebalanced),
        ];
        for (aff, blocks, d, want) in cases {
            assert_eq!(
                local(&f, B2, aff, blocks, d),
                lost(want, true),
                "{aff:?} blocks={blocks} {d:?}"
            );
        }
    }

    #[test]
    fn shared_store_saves_every_move_even_from_a_crashed_home() {
        let mut f = Fleet::new(2);
        let none = Replicas::default();
        let d = Drift::default();
        let aff = Affinity::Cookie;
        let r = land(HOME, B1, &f, Placement::Shared, &none, aff, false, d);
        assert_eq!(r, Landing::Saved { left_live: true });
        f.end(0, LossCause::Failure);
        let r = land(HOME, B1, &f, Placement::Shared, &none, aff, false, d);
        assert_eq!(r, Landing::Saved { left_live: false });
    }

    #[test]
    fn replicas_save_only_while_a_holder_survives() {
        let mut f = Fleet::new(4);
        let up = [B0, B1, B2, BackendId(3)];
        // Written on b0 with one copy: the next running backend, b1.
        let reps = replicate(B0, 1, &up, &f);
        assert_eq!(reps.holders(), &[(B1, Epoch(0))]);
        let local_reads = Placement::Replicated {
            cluster_reads: false,
        };
        let cluster = Placement::Replicated {
            cluster_reads: true,
        };
        let (aff, d) = (Affinity::SourceIp, Drift::default());
        f.end(0, LossCause::Failure);
        // Local reads: only a copy on the backend it lands on counts.
        let r = land(HOME, B1, &f, local_reads, &reps, aff, false, d);
        assert_eq!(r, Landing::Saved { left_live: false });
        let r = land(HOME, B2, &f, local_reads, &reps, aff, false, d);
        assert_eq!(r, lost(LossCause::Failure, false));
        // Cluster reads: b2 fetches from b1 — until b1 crashes too.
        let r = land(HOME, B2, &f, cluster, &reps, aff, false, d);
        assert_eq!(r, Landing::Saved { left_live: false });
        f.end(1, LossCause::Failure);
        let r = land(HOME, B2, &f, cluster, &reps, aff, false, d);
        assert_eq!(r, lost(LossCause::Failure, false));
    }

    #[test]
    fn replication_wraps_skips_the_writer_and_dead_backends() {
        let mut f = Fleet::new(5);
        f.alive[0] = false;
        f.epochs[4] = Epoch(3);
        let up = [B0, B1, B2, BackendId(4)];
        let reps = replicate(B2, 2, &up, &f);
        // After b2: b4, then wrap to b0 (dead, skipped), then b1.
        assert_eq!(reps.holders(), &[(BackendId(4), Epoch(3)), (B1, Epoch(0))]);
        // More copies than backends: every other running one, once.
        let reps = replicate(B1, 8, &up, &f);
        assert_eq!(reps.holders().len(), 2);
    }
}
