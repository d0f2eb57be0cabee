//! The simulated world's parts: clients and their addresses, sessions with
//! their cookie jar, backends with workers, a FIFO queue and in-memory
//! session state.

mod clients;
pub use clients::Addresser;

use crate::routing::BackendId;
use crate::sim::{Nanos, SimRng};
use std::collections::VecDeque;
use std::net::IpAddr;

/// A free-list arena: ids are reused once freed, so memory follows the
/// number of live items, not the number ever created.
#[derive(Debug)]
pub struct Slab<T> {
    items: Vec<Option<T>>,
    free: Vec<u32>,
    live: usize,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Slab {
            items: Vec::new(),
            free: Vec::new(),
            live: 0,
        }
    }
}

impl<T> Slab<T> {
    #[inline]
    pub fn insert(&mut self, item: T) -> u32 {
        self.live += 1;
        if let Some(id) = self.free.pop() {
            self.items[id as usize] = Some(item);
            id
        } else {
            self.items.push(Some(item));
            (self.items.len() - 1) as u32
        }
    }

    #[inline]
    pub fn remove(&mut self, id: u32) -> T {
        let item = self.items[id as usize].take().expect("slab id is live");
        self.free.push(id);
        self.live -= 1;
        item
    }

    #[inline]
    pub fn get(&self, id: u32) -> &T {
        self.items[id as usize].as_ref().expect("slab id is live")
    }

    #[inline]
    pub fn get_mut(&mut self, id: u32) -> &mut T {
        self.items[id as usize].as_mut().expect("slab id is live")
    }

    /// Items alive now.
    #[inline]
    pub fn len(&self) -> usize {
        self.live
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Slots ever allocated (the high-water mark of live items).
    pub fn capacity_used(&self) -> usize {
        self.items.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.items.iter().filter_map(|x| x.as_ref())
    }
}

/// The affinity cookie a client holds, as its jar stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JarCookie {
    pub value: u64,
    /// When the jar drops it; `None` for a session cookie.
    pub expires_ns: Option<Nanos>,
}

/// Most replica holders a session's state may have (`replicated` placement).
pub const MAX_REPLICAS: usize = 8;

/// A request between a failed attempt and its retry: what it drew, so the
/// retry does not draw again.
#[derive(Debug, Clone, Copy)]
pub struct Pending {
    pub start_ns: Nanos,
    pub demand_s: f64,
    pub state_s: f64,
    pub measured: bool,
    /// The backend the failed attempt went to.
    pub failed_on: BackendId,
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
    pub segment: u16,
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
    pub next_ip_change_ns: Nanos,
    pub ip_changes: u32,
    pub ip: IpAddr,
    pub blocks_cookies: bool,
    pub cookie: Option<JarCookie>,
    pub token: Option<u64>,
    /// The token as first issued, and how many rotations it has been through.
    pub token_base: u64,
    pub token_epoch: u64,
    /// Since the session last reached its home: its token rotated.
    pub token_rotated: bool,
    /// The application's session cookie or id, as the client holds it.
    pub app_id: Option<u64>,
    /// Times the application issued this session an id (its state was created).
    pub app_issues: u32,
    /// Where the session's state lives: a backend and the backend's
    /// incarnation (epoch) when it was written.
    pub home: Option<(BackendId, u32)>,
    pub lost: bool,
    /// Since the session last reached its home: its address changed.
    pub ip_changed: bool,
    /// Since the session last reached its home: its cookie expired.
    pub cookie_expired: bool,
}

/// Backends holding copies of a session's state (`replicated` placement):
/// `(backend, epoch)`, the first `len` entries. Kept beside the sessions,
/// not in them, so runs without replication don't carry it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Replicas {
    pub len: u8,
    pub at: [(u32, u32); MAX_REPLICAS],
}

impl Replicas {
    #[inline]
    pub fn holders(&self) -> &[(u32, u32)] {
        &self.at[..self.len as usize]
    }
}

impl Session {
    /// The cookie the client sends now, expiring it first if its time is up.
    #[inline]
    pub fn cookie_at(&mut self, now: Nanos) -> Option<u64> {
        match self.cookie {
            Some(JarCookie {
                expires_ns: Some(t),
                ..
            }) if t <= now => {
                self.cookie = None;
                self.cookie_expired = true;
                None
            }
            Some(c) => Some(c.value),
            None => None,
        }
    }
}

/// An in-flight request.
#[derive(Debug, Clone, Copy)]
pub struct Request {
    pub session: u32,
    pub start_ns: Nanos,
    /// Time the backend's worker is held (service demand / speed + store round trip).
    pub hold_ns: Nanos,
    pub measured: bool,
    /// Part of the hold spent on the session store or on replication.
    pub state_ns: Nanos,
}

/// A backend server.
#[derive(Debug)]
pub struct Backend {
    pub alive: bool,
    /// Incarnation: bumped on every crash, so state and completions from a
    /// previous life are recognised as gone.
    pub epoch: u32,
    pub speed: f64,
    pub workers: u32,
    pub queue_limit: Option<u32>,
    pub queue: VecDeque<u32>,
    /// Requests in service (at most `workers`).
    pub in_service: Vec<u32>,
    /// Active sessions whose state lives here (this epoch).
    pub pinned: u32,
}

impl Backend {
    pub fn new(speed: f64, workers: u32, queue_limit: Option<u32>) -> Self {
        Backend {
            alive: true,
            epoch: 0,
            speed,
            workers,
            queue_limit,
            queue: VecDeque::new(),
            in_service: Vec::with_capacity(workers as usize),
            pinned: 0,
        }
    }

    #[inline]
    pub fn busy(&self) -> u32 {
        self.in_service.len() as u32
    }

    #[inline]
    pub fn queued(&self) -> u32 {
        self.queue.len() as u32
    }

    /// Whether a new arrival finds neither a free worker nor queue room.
    #[inline]
    pub fn full(&self) -> bool {
        self.busy() >= self.workers && self.queue_limit.is_some_and(|l| self.queued() >= l)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slab_reuses_ids_and_tracks_live_count() {
        let mut s = Slab::default();
        let a = s.insert(1);
        let b = s.insert(2);
        assert_eq!(s.remove(a), 1);
        let c = s.insert(3);
        assert_eq!(c, a);
        assert_eq!(s.len(), 2);
        assert_eq!(s.capacity_used(), 2);
        assert_eq!(*s.get(b), 2);
    }
}
