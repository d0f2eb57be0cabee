//! An affinity table with a sliding idle timeout and a size limit, as
//! HAProxy's stick tables (`expire`, `size`; the oldest entry goes when the
//! table is full) and Kubernetes' `ClientIP` affinity (`xt_recent --rcheck
//! --seconds T --reap` / `--set`) keep them.
//!
//! Entries live in a slab threaded on a list in the order they were last
//! placed at its head. A hit only stamps the entry's `last_ns` (no list
//! surgery, so one cache line is touched); the cold end is revisited lazily
//! ("second chance"): an entry found there that was used since it was
//! placed goes back to the head, one that is idle past the timeout is
//! dropped. When the table is full, the first entry at the cold end that
//! has not been used since it was placed is evicted — the least recently
//! used one among those. Lookups never iterate the map, so its order cannot
//! leak into results. Memory grows with live entries; once warm, a decision
//! allocates nothing.

use super::BackendId;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Keys are already well-mixed hashes or addresses: fold and mix them.
#[derive(Default)]
pub struct KeyHasher(u64);

impl Hasher for KeyHasher {
    #[inline]
    fn finish(&self) -> u64 {
        super::hash::mix64(self.0)
    }
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ b as u64).wrapping_mul(0x0100_0000_01b3);
        }
    }
    #[inline]
    fn write_u128(&mut self, i: u128) {
        self.0 ^= (i as u64) ^ super::hash::mix64((i >> 64) as u64);
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.0 ^= i;
    }
}

const NIL: u32 = u32::MAX;

#[derive(Debug, Clone)]
struct Node {
    key: u128,
    backend: BackendId,
    last_ns: u64,
    /// When it was last placed at the head of the list.
    placed_ns: u64,
    prev: u32,
    next: u32,
}

/// Key → backend pins with an idle timeout and a size limit (see the module
/// docs for the eviction order).
#[derive(Debug, Clone)]
pub struct AffinityTable {
    timeout_ns: u64,
    size: usize,
    map: HashMap<u128, u32, BuildHasherDefault<KeyHasher>>,
    nodes: Vec<Node>,
    free: Vec<u32>,
    /// Most recently used.
    head: u32,
    /// Least recently used.
    tail: u32,
}

impl AffinityTable {
    /// An empty table of at most `size` (> 0) entries, each dropped after
    /// `timeout_ns` ns without a hit.
    pub fn new(timeout_ns: u64, size: u32) -> Self {
        debug_assert!(size > 0);
        AffinityTable {
            timeout_ns,
            size: size as usize,
            map: HashMap::default(),
            nodes: Vec::new(),
            free: Vec::new(),
            head: NIL,
            tail: NIL,
        }
    }

    /// Entries held, including idle ones not yet reaped.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether the table holds no entry.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    fn unlink(&mut self, i: u32) {
        let (p, n) = (self.nodes[i as usize].prev, self.nodes[i as usize].next);
        if p == NIL {
            self.head = n;
        } else {
            self.nodes[p as usize].next = n;
        }
        if n == NIL {
            self.tail = p;
        } else {
            self.nodes[n as usize].prev = p;
        }
    }

    fn push_front(&mut self, i: u32) {
        self.nodes[i as usize].placed_ns = self.nodes[i as usize].last_ns;
        self.nodes[i as usize].prev = NIL;
        self.nodes[i as usize].next = self.head;
        if self.head != NIL {
            self.nodes[self.head as usize].prev = i;
        }
        self.head = i;
        if self.tail == NIL {
            self.tail = i;
        }
    }

    fn remove_tail(&mut self) {
        let t = self.tail;
        self.unlink(t);
        self.map.remove(&self.nodes[t as usize].key);
        self.free.push(t);
    }

    /// Walks the cold end: entries used since they were placed go back to
    /// the head; idle ones past the timeout are dropped. Stops at the first
    /// entry that is neither (every other entry is then younger), or after
    /// evicting one such entry when `make_room`.
    fn sweep(&mut self, now_ns: u64, make_room: bool) {
        while self.tail != NIL {
            let t = self.tail;
            let n = &self.nodes[t as usize];
            if now_ns.saturating_sub(n.last_ns) >= self.timeout_ns {
                self.remove_tail();
            } else if n.last_ns != n.placed_ns {
                self.unlink(t);
                self.push_front(t);
            } else {
                if make_room && self.map.len() >= self.size {
                    self.remove_tail();
                }
                return;
            }
        }
    }

    /// The slot of a live entry, if any (an idle one counts as absent).
    #[inline]
    pub fn find(&self, key: u128, now_ns: u64) -> Option<u32> {
        let &i = self.map.get(&key)?;
        let n = &self.nodes[i as usize];
        (now_ns.saturating_sub(n.last_ns) < self.timeout_ns).then_some(i)
    }

    /// The backend an entry points at.
    #[inline]
    pub fn backend(&self, slot: u32) -> BackendId {
        self.nodes[slot as usize].backend
    }

    /// Marks an entry used now, optionally pointing it elsewhere.
    #[inline]
    pub fn touch(&mut self, slot: u32, backend: BackendId, now_ns: u64) {
        let n = &mut self.nodes[slot as usize];
        n.backend = backend;
        n.last_ns = now_ns;
    }

    /// The backend a live entry points at (without refreshing it).
    #[inline]
    pub fn get(&mut self, key: u128, now_ns: u64) -> Option<BackendId> {
        self.find(key, now_ns).map(|i| self.backend(i))
    }

    /// Drops every entry that points at `backend` (it was deregistered and
    /// has stopped: its pins name a target that no longer exists). Walks
    /// the list, not the map, so the order of the free list — and thus the
    /// table's layout — stays deterministic.
    pub fn remove_backend(&mut self, backend: BackendId) {
        let mut i = self.head;
        while i != NIL {
            let next = self.nodes[i as usize].next;
            if self.nodes[i as usize].backend == backend {
                self.unlink(i);
                self.map.remove(&self.nodes[i as usize].key);
                self.free.push(i);
            }
            i = next;
        }
    }

    /// Creates or refreshes an entry: `key` now points at `backend`, last
    /// used `now_ns`. A full table first drops its least recently used entry.
    pub fn put(&mut self, key: u128, backend: BackendId, now_ns: u64) {
        if let Some(&i) = self.map.get(&key) {
            self.touch(i, backend, now_ns);
            return;
        }
        self.sweep(now_ns, true);
        let node = Node {
            key,
            backend,
            last_ns: now_ns,
            placed_ns: now_ns,
            prev: NIL,
            next: NIL,
        };
        let i = match self.free.pop() {
            Some(i) => {
                self.nodes[i as usize] = node;
                i
            }
            None => {
                self.nodes.push(node);
                (self.nodes.len() - 1) as u32
            }
        };
        self.map.insert(key, i);
        self.push_front(i);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sliding_timeout_and_size_limit() {
        let mut t = AffinityTable::new(100, 2);
        t.put(1, BackendId(1), 0);
        t.put(2, BackendId(2), 10);
        assert_eq!(t.get(1, 99), Some(BackendId(1)));
        t.put(1, BackendId(1), 99); // refreshed: lives until 199
        assert_eq!(t.get(2, 110), None, "idle for 100 ns");
        assert_eq!(t.get(1, 198), Some(BackendId(1)));
        assert_eq!(t.get(1, 199), None);
        // Full table: the least recently used entry goes.
        t.put(3, BackendId(3), 200);
        t.put(4, BackendId(4), 201);
        t.put(3, BackendId(3), 202);
        t.put(5, BackendId(5), 203);
        assert_eq!(t.len(), 2);
        assert_eq!(t.get(4, 204), None);
        assert_eq!(t.get(3, 204), Some(BackendId(3)));
        assert_eq!(t.get(5, 204), Some(BackendId(5)));
    }

    #[test]
    fn removing_a_backend_drops_only_its_entries() {
        let mut t = AffinityTable::new(100, 10);
        for k in 0..6u128 {
            t.put(k, BackendId(k as u32 % 3), 0);
        }
        t.remove_backend(BackendId(1));
        assert_eq!(t.len(), 4);
        for k in 0..6u128 {
            let expect = (k % 3 != 1).then_some(BackendId(k as u32 % 3));
            assert_eq!(t.get(k, 1), expect);
        }
        // Freed nodes are reused and the list stays whole.
        t.put(9, BackendId(2), 2);
        t.put(10, BackendId(2), 3);
        assert_eq!(t.len(), 6);
        t.remove_backend(BackendId(2));
        assert_eq!(t.len(), 2);
        assert_eq!(t.get(0, 4), Some(BackendId(0)));
        assert_eq!(t.get(3, 4), Some(BackendId(0)));
    }

    proptest::proptest! {
        /// With room to spare, the table answers exactly like a map of
        /// (backend, last use) with an idle timeout.
        #[test]
        fn behaves_like_a_map_with_idle_timeout(
            ops in proptest::collection::vec((0u8..3, 0u128..20, 0u64..40), 1..300)
        ) {
            let mut t = AffinityTable::new(50, 1000);
            let mut model = std::collections::BTreeMap::new();
            let mut now = 0u64;
            for (op, key, dt) in ops {
                now += dt;
                match op {
                    0 => {
                        let b = BackendId((key as u32 + now as u32) % 7);
                        t.put(key, b, now);
                        model.insert(key, (b, now));
                    }
                    1 => {
                        if let Some(i) = t.find(key, now) {
                            let b = t.backend(i);
                            t.touch(i, b, now);
                            model.insert(key, (b, now));
                        }
                    }
                    _ => {}
                }
                let expect = model
                    .get(&key)
                    .filter(|(_, last)| now - last < 50)
                    .map(|(b, _)| *b);
                proptest::prop_assert_eq!(t.get(key, now), expect);
            }
        }
    }
}
