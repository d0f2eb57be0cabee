//! Least connections in O(log N): a min segment tree over the backends'
//! load (outstanding requests per unit of weight, in fixed point), kept in
//! step with the pool through its outstanding-change log.
//!
//! The pick is the one the O(N) scan makes (HAProxy's tie rotation): among
//! the candidates with the smallest load, the first at or after the
//! rotating start position in index order, wrapping around. The tree gives
//! the minimum at its root and "the first index at or after `t` whose load
//! is at most `m`" by one descent.

use super::{BackendId, Health, Pool};

/// Load of a backend that is not a candidate (not up, or excluded).
const ABSENT: u64 = u64::MAX;

/// Outstanding requests scaled by weight, compared without division
/// (2^16 fraction bits).
#[inline]
pub(super) fn load_of(outstanding: u32, weight: u32) -> u64 {
    ((outstanding as u64) << 16) / weight.max(1) as u64
}

/// The load index of one pool.
#[derive(Debug, Clone, Default)]
pub(super) struct LoadIndex {
    /// Pool identity, generation and weight generation it was built for.
    built_for: Option<(u64, u64, u64)>,
    /// Outstanding-change log position it has read up to.
    seen: u64,
    /// Leaves at `size..size + n`; node `k` holds the minimum of `2k`, `2k+1`.
    tree: Vec<u64>,
    size: usize,
}

impl LoadIndex {
    /// Brings the index up to date with `pool`: O(changes · log N), or a
    /// rebuild in O(N) after a membership, health or weight change (or
    /// when the change log no longer reaches back to what was read).
    #[inline]
    fn sync(&mut self, pool: &Pool) {
        let key = (pool.uid(), pool.generation(), pool.weight_generation());
        if self.built_for == Some(key) {
            if let Some(changes) = pool.outstanding_changes_since(self.seen) {
                for &id in changes {
                    let v = leaf_value(pool, id);
                    self.set(id.index(), v);
                }
                self.seen = pool.log_end();
                return;
            }
        }
        self.rebuild(pool);
        self.built_for = Some(key);
    }

    fn rebuild(&mut self, pool: &Pool) {
        let n = pool.len().max(1);
        self.size = n.next_power_of_two();
        self.tree.clear();
        self.tree.resize(2 * self.size, ABSENT);
        for i in 0..pool.len() {
            self.tree[self.size + i] = leaf_value(pool, BackendId::from_index(i));
        }
        for k in (1..self.size).rev() {
            self.tree[k] = self.tree[2 * k].min(self.tree[2 * k + 1]);
        }
        self.seen = pool.log_end();
    }

    #[inline]
    fn set(&mut self, i: usize, v: u64) {
        let mut k = self.size + i;
        if self.tree[k] == v {
            return;
        }
        self.tree[k] = v;
        while k > 1 {
            k /= 2;
            let m = self.tree[2 * k].min(self.tree[2 * k + 1]);
            if self.tree[k] == m {
                break;
            }
            self.tree[k] = m;
        }
    }

    /// The first leaf at index `>= from` whose value is `<= bound`.
    #[inline]
    fn first_at_most(&self, from: usize, bound: u64) -> Option<usize> {
        // Climb from the leaf, looking right of the path, then descend.
        let mut k = self.size + from;
        if self.tree[k] <= bound {
            return Some(from);
        }
        loop {
            // Move to the next subtree to the right of `k`.
            while k & 1 == 1 {
                k /= 2;
                if k == 0 {
                    return None;
                }
            }
            if k == 0 {
                return None;
            }
            k += 1;
            if self.tree[k] <= bound {
                break;
            }
        }
        while k < self.size {
            k = if self.tree[2 * k] <= bound {
                2 * k
            } else {
                2 * k + 1
            };
        }
        Some(k - self.size)
    }

    /// Least connections' pick among `pool.up()` less `exclude` (which
    /// leaves `n >= 1` candidates), scanning from candidate position
    /// `start` (`< n`), whose backend is `start_id`.
    #[inline]
    pub(super) fn pick(
        &mut self,
        pool: &Pool,
        exclude: Option<BackendId>,
        start_id: BackendId,
    ) -> BackendId {
        self.sync(pool);
        let excluded = exclude.filter(|&x| pool.get(x).health == Health::Up);
        if let Some(x) = excluded {
            self.set(x.index(), ABSENT);
        }
        let min = self.tree[1];
        debug_assert!(min != ABSENT, "least_conn over no candidate");
        let i = self
            .first_at_most(start_id.index(), min)
            .or_else(|| self.first_at_most(0, min))
            .expect("the minimum is at some leaf");
        if let Some(x) = excluded {
            self.set(x.index(), leaf_value(pool, x));
        }
        BackendId::from_index(i)
    }
}

#[inline]
fn leaf_value(pool: &Pool, id: BackendId) -> u64 {
    let b = pool.get(id);
    if b.health == Health::Up {
        load_of(b.outstanding, b.weight)
    } else {
        ABSENT
    }
}
