//! The pool as the load balancer sees it: backends with an address, a
//! weight, a health state and their current load.

use super::OnDraining;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::atomic::{AtomicU64, Ordering};

/// Source of [`Pool::uid`]s: every pool (and every clone) gets its own, so a
/// balancer's derived index never follows another pool's change log.
static NEXT_POOL_UID: AtomicU64 = AtomicU64::new(1);

fn next_pool_uid() -> u64 {
    NEXT_POOL_UID.fetch_add(1, Ordering::Relaxed)
}

/// The change log keeps at least this many entries before it is cleared
/// (a reader further behind rebuilds its index from the pool).
const LOG_MIN_CAP: usize = 4096;

/// Index of a backend in the pool (`b0` is `BackendId(0)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BackendId(pub u32);

impl BackendId {
    /// The id as an index into per-backend tables.
    #[inline]
    pub fn index(self) -> usize {
        self.0 as usize
    }

    /// The id of the backend at `index` in the pool.
    #[inline]
    pub fn from_index(index: usize) -> Self {
        debug_assert!(u32::try_from(index).is_ok(), "backend index {index}");
        BackendId(index as u32)
    }
}

/// Health as the load balancer believes it (from its health checks), not
/// necessarily the truth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    /// Passing its health checks: takes new and sticky traffic.
    Up,
    /// Failed its health checks, or not yet passed them since launch:
    /// takes no traffic.
    Down,
    /// Deregistered: takes no new sessions; what happens to sticky ones is
    /// the strategy's `on_draining` policy.
    Draining,
}

/// One backend as the router sees it.
#[derive(Debug, Clone)]
pub struct BackendView {
    /// Address and port, which the address-keyed hashes and cookie values
    /// are computed from.
    pub addr: SocketAddr,
    /// Relative weight, at least 1 (lowered during slow start).
    pub weight: u32,
    /// What the load balancer believes of its health.
    pub health: Health,
    /// Requests sent and not yet answered.
    pub outstanding: u32,
    /// Maximum outstanding requests it accepts (`workers + queue_limit`), if bounded.
    pub capacity: Option<u32>,
}

impl BackendView {
    /// Whether a strategy may choose it at all (room is checked separately):
    /// up, or draining under `on_draining = honor`.
    #[inline]
    pub fn eligible(&self, on_draining: OnDraining) -> bool {
        match self.health {
            Health::Up => true,
            Health::Draining => on_draining == OnDraining::Honor,
            Health::Down => false,
        }
    }

    /// Whether it can take one more request right now.
    #[inline]
    pub fn has_room(&self) -> bool {
        self.capacity.is_none_or(|c| self.outstanding < c)
    }
}

/// The pool. Membership and health changes bump `generation`, which
/// strategies with derived tables use to know when to rebuild; membership
/// and address changes alone bump `addr_generation`, for tables that
/// depend on addresses only (cookie values).
///
/// Balancers that keep an index over the pool (least connections' load
/// index, smooth weighted round robin's weight groups) follow it through
/// `weight_generation` (bumped when a weight changes) and a bounded log of
/// the backends whose outstanding count changed.
#[derive(Debug)]
pub struct Pool {
    backends: Vec<BackendView>,
    up: Vec<BackendId>,
    generation: u64,
    addr_generation: u64,
    weight_generation: u64,
    /// Sum of `outstanding` over all backends (HAProxy's backend-wide `served`).
    total_outstanding: u64,
    /// Identity of this pool (a clone gets a new one).
    uid: u64,
    /// Backends whose `outstanding` changed, oldest first; entry `k` has
    /// position `log_start + k`.
    log: Vec<BackendId>,
    log_start: u64,
    /// Length at which the log is cleared (within its reserved capacity).
    log_cap: usize,
}

impl Clone for Pool {
    fn clone(&self) -> Self {
        Pool {
            backends: self.backends.clone(),
            up: self.up.clone(),
            generation: self.generation,
            addr_generation: self.addr_generation,
            weight_generation: self.weight_generation,
            total_outstanding: self.total_outstanding,
            uid: next_pool_uid(),
            log: Vec::with_capacity(self.log_cap),
            log_start: self.log_start + self.log.len() as u64,
            log_cap: self.log_cap,
        }
    }
}

impl Pool {
    /// `n` backends at `10.0.<i/250>.<i%250+1>:8080`, weight 1, all up.
    pub fn with_default_addrs(n: usize, capacity: Option<u32>) -> Self {
        let backends = (0..n)
            .map(|i| BackendView {
                addr: SocketAddr::V4(SocketAddrV4::new(
                    Ipv4Addr::new(10, 0, (i / 250) as u8, (i % 250 + 1) as u8),
                    8080,
                )),
                weight: 1,
                health: Health::Up,
                outstanding: 0,
                capacity,
            })
            .collect();
        Self::new(backends)
    }

    /// A pool of `backends` (index `i` becomes `BackendId(i)`), generation 0.
    pub fn new(backends: Vec<BackendView>) -> Self {
        let mut pool = Pool {
            backends,
            up: Vec::new(),
            generation: 0,
            addr_generation: 0,
            weight_generation: 0,
            total_outstanding: 0,
            uid: next_pool_uid(),
            log: Vec::new(),
            log_start: 0,
            log_cap: 0,
        };
        // Reserved once, so logging never allocates on the hot path.
        pool.log_cap = LOG_MIN_CAP.max(2 * pool.backends.len());
        pool.log.reserve(pool.log_cap);
        pool.total_outstanding = pool.backends.iter().map(|b| b.outstanding as u64).sum();
        pool.rebuild_up();
        pool
    }

    fn rebuild_up(&mut self) {
        self.up.clear();
        self.up.extend(
            self.backends
                .iter()
                .enumerate()
                .filter(|(_, b)| b.health == Health::Up)
                .map(|(i, _)| BackendId(i as u32)),
        );
    }

    /// Backends in the pool, whatever their health.
    #[inline]
    pub fn len(&self) -> usize {
        self.backends.len()
    }

    /// Whether the pool has no backends at all.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.backends.is_empty()
    }

    /// Backend `id`, which must be in the pool.
    #[inline]
    pub fn get(&self, id: BackendId) -> &BackendView {
        &self.backends[id.index()]
    }

    /// All backends, indexed by [`BackendId::index`].
    pub fn backends(&self) -> &[BackendView] {
        &self.backends
    }

    /// Backends in state `Up`, in index order.
    #[inline]
    pub fn up(&self) -> &[BackendId] {
        &self.up
    }

    /// Changes on every membership, address or health change; equal
    /// values mean a table derived from the pool is still valid.
    #[inline]
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Changes when a backend is added or readdressed, not on health changes.
    #[inline]
    pub fn addr_generation(&self) -> u64 {
        self.addr_generation
    }

    /// Changes when a backend's weight changes.
    #[inline]
    pub(crate) fn weight_generation(&self) -> u64 {
        self.weight_generation
    }

    /// This pool's identity: indexes derived from one pool are not valid
    /// for another (nor for a clone, which gets its own).
    #[inline]
    pub(crate) fn uid(&self) -> u64 {
        self.uid
    }

    /// Position after the last entry of the outstanding-change log.
    #[inline]
    pub(crate) fn log_end(&self) -> u64 {
        self.log_start + self.log.len() as u64
    }

    /// Backends whose outstanding count changed since log position `from`
    /// (possibly repeated), or `None` when the log no longer reaches back
    /// that far (the reader must rebuild from the pool).
    #[inline]
    pub(crate) fn outstanding_changes_since(&self, from: u64) -> Option<&[BackendId]> {
        let k = from.checked_sub(self.log_start)?;
        self.log.get(k as usize..)
    }

    #[inline]
    fn log_change(&mut self, id: BackendId) {
        if self.log.len() >= self.log_cap {
            self.log_start += self.log.len() as u64;
            self.log.clear();
        }
        self.log.push(id);
    }

    /// Sets what the load balancer believes of `id`'s health (bumps the
    /// generation only if it changes).
    pub fn set_health(&mut self, id: BackendId, health: Health) {
        if self.backends[id.index()].health != health {
            self.backends[id.index()].health = health;
            self.generation += 1;
            self.rebuild_up();
        }
    }

    /// Requests outstanding on the whole pool.
    #[inline]
    pub fn total_outstanding(&self) -> u64 {
        self.total_outstanding
    }

    /// Appends a backend (health `Down` until it passes its checks).
    pub fn push(&mut self, mut view: BackendView) -> BackendId {
        view.health = Health::Down;
        self.backends.push(view);
        self.generation += 1;
        self.addr_generation += 1;
        BackendId((self.backends.len() - 1) as u32)
    }

    /// Gives a backend slot a new address (a new instance in a reused slot):
    /// cookies naming the old instance no longer match it.
    pub fn set_addr(&mut self, id: BackendId, addr: SocketAddr) {
        if self.backends[id.index()].addr != addr {
            self.backends[id.index()].addr = addr;
            self.generation += 1;
            self.addr_generation += 1;
        }
    }

    /// Sets a backend's weight (slow start). It derives no hash table, so
    /// the generation does not change; balancers see `weight_generation`.
    #[inline]
    pub fn set_weight(&mut self, id: BackendId, weight: u32) {
        let weight = weight.max(1);
        if self.backends[id.index()].weight != weight {
            self.backends[id.index()].weight = weight;
            self.weight_generation += 1;
        }
    }

    /// A request was sent to `id`.
    #[inline]
    pub fn add_outstanding(&mut self, id: BackendId) {
        self.backends[id.index()].outstanding += 1;
        self.total_outstanding += 1;
        self.log_change(id);
    }

    /// A request to `id` was answered or given up on (there must be one
    /// outstanding).
    #[inline]
    pub fn remove_outstanding(&mut self, id: BackendId) {
        let b = &mut self.backends[id.index()];
        debug_assert!(
            b.outstanding > 0,
            "outstanding underflow on backend {}",
            id.0
        );
        b.outstanding -= 1;
        self.total_outstanding -= 1;
        self.log_change(id);
    }

    /// Clears every outstanding request of a backend (it crashed).
    pub fn reset_outstanding(&mut self, id: BackendId) {
        self.total_outstanding -= self.backends[id.index()].outstanding as u64;
        self.backends[id.index()].outstanding = 0;
        self.log_change(id);
    }
}
