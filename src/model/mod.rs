//! The simulated world's parts and their behaviour: clients and their
//! addresses, sessions and how they advance (address churn, token
//! rotation, cookie expiry), backends with workers, a FIFO queue and
//! in-memory session state, where state is placed and why it is lost.

mod clients;
pub mod failure;
mod ids;
pub mod jar;
pub mod lb_retry;
mod loss;
pub mod retry;
mod session;
pub mod state;

pub use clients::Addresser;
pub use ids::{ArenaId, Epoch, InstanceNo, RequestId, SessionId};
pub use loss::{LossCause, LOSS_CAUSES};
pub use session::{token_epoch, Drift, JarCookie, Pending, Session};
pub use state::{Landing, Placement, Replicas, MAX_REPLICAS};

use crate::routing::BackendId;
use crate::sim::Nanos;
use std::collections::VecDeque;
use std::marker::PhantomData;

/// A free-list arena: ids are reused once freed, so memory follows the
/// number of live items, not the number ever created.
#[derive(Debug)]
pub struct Slab<T, I = u32> {
    items: Vec<Option<T>>,
    free: Vec<u32>,
    live: usize,
    id: PhantomData<I>,
}

impl<T, I> Default for Slab<T, I> {
    fn default() -> Self {
        Slab {
            items: Vec::new(),
            free: Vec::new(),
            live: 0,
            id: PhantomData,
        }
    }
}

impl<T, I: ArenaId> Slab<T, I> {
    /// Stores `item`, in the lowest-numbered free slot if there is one.
    #[inline]
    pub fn insert(&mut self, item: T) -> I {
        self.live += 1;
        if let Some(id) = self.free.pop() {
            self.items[id as usize] = Some(item);
            I::from_slot(id)
        } else {
            self.items.push(Some(item));
            I::from_slot((self.items.len() - 1) as u32)
        }
    }

    /// Takes item `id` out; its slot is reused by a later insert.
    #[inline]
    pub fn remove(&mut self, id: I) -> T {
        let item = self.items[id.index()].take().expect("slab id is live");
        self.free.push(id.slot());
        self.live -= 1;
        item
    }

    /// Item `id`, which must be live.
    #[inline]
    pub fn get(&self, id: I) -> &T {
        self.items[id.index()].as_ref().expect("slab id is live")
    }

    /// Item `id`, if it is live.
    #[inline]
    pub fn try_get(&self, id: I) -> Option<&T> {
        self.items.get(id.index()).and_then(Option::as_ref)
    }

    /// Item `id`, which must be live.
    #[inline]
    pub fn get_mut(&mut self, id: I) -> &mut T {
        self.items[id.index()].as_mut().expect("slab id is live")
    }

    /// Items alive now.
    #[inline]
    pub fn len(&self) -> usize {
        self.live
    }

    /// Whether no item is alive.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Slots ever allocated (the high-water mark of live items).
    pub fn capacity_used(&self) -> usize {
        self.items.len()
    }

    /// The live items, in slot order (not insertion order: freed slots are
    /// reused).
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.items.iter().filter_map(|x| x.as_ref())
    }
}

/// An in-flight request.
#[derive(Debug, Clone, Copy)]
pub struct Request {
    /// The session that sent it.
    pub session: SessionId,
    /// When it was first sent.
    pub start_ns: Nanos,
    /// Service demand at full speed, seconds: the backend's speed when the
    /// request starts service (not when it arrives) scales it.
    pub demand_s: f64,
    /// Time it spent on no backend before the attempt that reached this
    /// one (the retry delay; 0 for a first attempt).
    pub retry_wait_ns: Nanos,
    /// Whether it was first sent after the warm-up, so that its outcome and
    /// latency count in the metrics.
    pub measured: bool,
    /// Part of the hold spent on the session store or on replication.
    pub state_ns: Nanos,
    /// The load balancer's retries before this attempt (a retry counts
    /// against a retry budget while it is served).
    pub lb_retries: u32,
    /// This attempt's number in the run (for its per-try timeout).
    pub tag: u64,
    /// The backend the attempt is on.
    pub backend: BackendId,
    /// The load balancer stopped waiting for it (per-try timeout): the
    /// backend finishes it for nothing.
    pub orphan: bool,
}

impl Request {
    /// Time a worker of a backend running at `speed` is held by it, if it
    /// starts service now: the demand scaled by the speed, plus the store
    /// round trip (which the backend's speed does not change).
    #[inline]
    pub fn hold_ns(&self, speed: f64) -> Nanos {
        crate::scenario::secs_to_ns(self.demand_s / speed).saturating_add(self.state_ns)
    }
}

/// A backend server.
#[derive(Debug)]
pub struct Backend {
    /// Up (serving) as opposed to crashed or stopped; independent of what
    /// the health checks currently believe.
    pub alive: bool,
    /// Incarnation: bumped on every crash, so state and completions from a
    /// previous life are recognised as gone.
    pub epoch: Epoch,
    /// Current speed relative to the reference backend (1.0): service time
    /// is demand / speed. Lowered while a slowdown fault is active.
    pub speed: f64,
    /// Parallel request slots (requests served at once).
    pub workers: u32,
    /// Maximum requests waiting for a worker; `None` = unbounded.
    pub queue_limit: Option<u32>,
    /// Requests waiting for a worker, oldest first.
    pub queue: VecDeque<RequestId>,
    /// Requests in service (at most `workers`).
    pub in_service: Vec<RequestId>,
    /// Active sessions whose state lives here (this epoch).
    pub pinned: u32,
}

impl Backend {
    /// A live, idle backend in its first incarnation (epoch 0).
    pub fn new(speed: f64, workers: u32, queue_limit: Option<u32>) -> Self {
        Backend {
            alive: true,
            epoch: Epoch(0),
            speed,
            workers,
            queue_limit,
            queue: VecDeque::new(),
            in_service: Vec::with_capacity(workers as usize),
            pinned: 0,
        }
    }

    /// Workers busy now (requests in service).
    #[inline]
    pub fn busy(&self) -> u32 {
        self.in_service.len() as u32
    }

    /// Requests waiting for a worker now.
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
        let mut s: Slab<i32> = Slab::default();
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
