//! The pending-event set: a 4-ary min-heap keyed by `(time_ns, seq)`.
//!
//! The key packs the time into the high and the scheduling sequence number
//! into the low 64 bits of one `u128`, so an order test is one wide compare
//! and keys are unique (no two events are ever unordered). A 4-ary heap is
//! half as deep as a binary one: a pop reads four children per level but
//! moves an entry half as many times, and the four children share a cache
//! line or two. Any correct priority queue pops the same sequence, so the
//! choice changes speed only, never outputs.

use super::Nanos;

#[derive(Clone, Copy)]
struct Entry<E> {
    key: u128,
    event: E,
}

#[inline(always)]
fn key(time: Nanos, seq: u64) -> u128 {
    ((time as u128) << 64) | seq as u128
}

#[inline(always)]
fn time_of(key: u128) -> Nanos {
    (key >> 64) as Nanos
}

/// Events totally ordered by time, then by scheduling order.
pub struct EventQueue<E> {
    heap: Vec<Entry<E>>,
    next_seq: u64,
    now: Nanos,
}

impl<E: Copy> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E: Copy> EventQueue<E> {
    /// An empty queue at time 0.
    pub fn new() -> Self {
        Self::with_capacity(0)
    }

    /// An empty queue at time 0 with room for `n` pending events before it
    /// reallocates.
    pub fn with_capacity(n: usize) -> Self {
        EventQueue {
            heap: Vec::with_capacity(n),
            next_seq: 0,
            now: 0,
        }
    }

    /// Schedules `event` at `time` (never in the past).
    #[inline]
    pub fn schedule(&mut self, time: Nanos, event: E) {
        debug_assert!(
            time >= self.now,
            "event scheduled in the past: {time} < {}",
            self.now
        );
        let seq = self.next_seq;
        self.next_seq += 1;
        let new = Entry {
            key: key(time, seq),
            event,
        };
        // Sift up: move parents down into the hole until `new` fits.
        let heap = &mut self.heap;
        let mut i = heap.len();
        heap.push(new);
        while i > 0 {
            let parent = (i - 1) / 4;
            if heap[parent].key <= new.key {
                break;
            }
            heap[i] = heap[parent];
            i = parent;
        }
        heap[i] = new;
    }

    /// Removes and returns the earliest event, advancing the clock.
    #[inline]
    pub fn pop(&mut self) -> Option<(Nanos, E)> {
        let last = self.heap.pop()?;
        let top = match self.heap.first() {
            Some(&top) => top,
            None => {
                self.now = time_of(last.key);
                return Some((self.now, last.event));
            }
        };
        // Sift `last` down from the root: move the smallest child up into
        // the hole until `last` is no larger than every child.
        let heap = &mut self.heap[..];
        let n = heap.len();
        let mut i = 0;
        loop {
            let c = 4 * i + 1;
            let (m, mk) = if c + 4 <= n {
                let (a, b) = min_of(heap, c, c + 1);
                let (d, e) = min_of(heap, c + 2, c + 3);
                if b <= e {
                    (a, b)
                } else {
                    (d, e)
                }
            } else if c < n {
                let mut m = c;
                let mut mk = heap[c].key;
                for (j, x) in heap.iter().enumerate().skip(c + 1) {
                    if x.key < mk {
                        m = j;
                        mk = x.key;
                    }
                }
                (m, mk)
            } else {
                break;
            };
            if mk >= last.key {
                break;
            }
            heap[i] = heap[m];
            i = m;
        }
        heap[i] = last;
        self.now = time_of(top.key);
        Some((self.now, top.event))
    }

    /// Number of pending events.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// No event is pending.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

/// The smaller of two adjacent entries: its index and key.
#[inline(always)]
fn min_of<E>(heap: &[Entry<E>], a: usize, b: usize) -> (usize, u128) {
    let (ka, kb) = (heap[a].key, heap[b].key);
    if ka <= kb {
        (a, ka)
    } else {
        (b, kb)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Pops come out sorted by time, and FIFO among equal times.
        #[test]
        fn pops_in_time_then_fifo_order(times in proptest::collection::vec(0u64..50, 1..300)) {
            let mut q = EventQueue::new();
            for (i, &t) in times.iter().enumerate() {
                q.schedule(t, i);
            }
            let mut out = Vec::new();
            while let Some((t, i)) = q.pop() {
                out.push((t, i));
            }
            let mut expected: Vec<(u64, usize)> = times.iter().copied().zip(0..).collect();
            expected.sort(); // by time, then by insertion index
            prop_assert_eq!(out, expected);
        }
    }

    proptest! {
        /// Schedules and pops interleaved at random (each schedule at or
        /// after the clock) come out as a reference ordered set says:
        /// earliest time first, FIFO among equal times.
        #[test]
        fn interleaved_matches_an_ordered_set(
            ops in proptest::collection::vec((any::<bool>(), 0u64..40), 1..600)
        ) {
            let mut q = EventQueue::new();
            let mut reference = std::collections::BTreeSet::new();
            for (i, &(pop, dt)) in ops.iter().enumerate() {
                if pop {
                    let want = reference.pop_first();
                    prop_assert_eq!(q.pop(), want);
                } else {
                    let t = q.now + dt;
                    q.schedule(t, i);
                    reference.insert((t, i));
                }
                prop_assert_eq!(q.len(), reference.len());
            }
            while let Some(want) = reference.pop_first() {
                prop_assert_eq!(q.pop(), Some(want));
            }
            prop_assert!(q.is_empty());
        }
    }

    #[test]
    fn interleaved_schedule_and_pop() {
        let mut q = EventQueue::new();
        q.schedule(10, 'a');
        q.schedule(5, 'b');
        assert_eq!(q.pop(), Some((5, 'b')));
        q.schedule(7, 'c');
        q.schedule(10, 'd');
        assert_eq!(q.pop(), Some((7, 'c')));
        assert_eq!(q.pop(), Some((10, 'a')));
        assert_eq!(q.pop(), Some((10, 'd')));
        assert_eq!(q.pop(), None);
    }
}
