//! nginx's smooth weighted round robin without the O(N) pass per pick,
//! producing exactly the sequence `ngx_http_upstream_get_peer` produces
//! (the O(N) original is `balance_ref.rs`, which the property tests
//! compare against).
//!
//! nginx adds every candidate's weight to its `current`, picks the first
//! largest and subtracts the total from it. Write `current_i = s_i + w_i·t`
//! where `t` counts picks: the additions become implicit and a pick only
//! changes the winner's `s_i`. Candidates of equal weight then keep their
//! order by `s_i` (ties to the lowest index), so one max-tree per distinct
//! weight finds each group's leader in O(log N), and the pick compares the
//! leaders: O(G + log N) with G distinct weights among the up backends.
//! With more than [`MAX_GROUPS`] weights it falls back to nginx's scan.
//!
//! With equal weights the sequence settles into a fixed rotation: once the
//! lowest `current` is above the highest minus the total (or equal to it
//! and ordered before it), the winner drops to the back every time (see
//! [`Swrr::try_rotation`]). The balancer then walks that rotation in O(1)
//! per pick, and writes the `s_i` back only when something breaks it (a
//! retry's excluded backend, a health or weight change).
//!
//! Health, membership and weight changes rebuild the structure from the
//! materialised `current` values in O(N) (nginx's pass is O(N) per pick;
//! these happen per health-check transition or slow-start step, not per
//! request).

use super::{BackendId, Pool};

/// Above this many distinct weights among the up backends, pick by scan.
pub(super) const MAX_GROUPS: usize = 8;
/// Not a candidate (down, draining, or not in the pool).
const NO_GROUP: u8 = u8::MAX;
/// Picks after which the `s_i` are rebased (`t` back to 0), so that
/// `w_i · t` stays far from overflow.
const REBASE_EVERY: i64 = 1 << 20;
/// An empty tree slot: loses against every real `(s, index)`.
const EMPTY: (i64, u32) = (i64::MIN, u32::MAX);

/// Smooth weighted round robin state for one pool.
#[derive(Debug, Clone, Default)]
pub(super) struct Swrr {
    /// Pool identity, generation and weight generation it was built for.
    built_for: Option<(u64, u64, u64)>,
    /// `current_i - w_i·t` for candidates, `current_i` for the others.
    s: Vec<i64>,
    /// Each candidate's weight when the structure was built.
    w: Vec<i64>,
    /// Each backend's weight group, or `NO_GROUP`.
    group: Vec<u8>,
    /// Picks since the last rebuild or rebase.
    t: i64,
    /// Sum of the candidates' weights.
    total: i64,
    mode: Mode,
}

#[derive(Debug, Clone, Default)]
enum Mode {
    /// nginx's O(N) pass over `s`, which then holds `current` (`t == 0`).
    #[default]
    Scan,
    /// One max-tree of `(s_i, index)` per weight.
    Groups {
        groups: Vec<Group>,
        /// Picks since the last excluded one (rotation is tried after a few rounds).
        calm: usize,
    },
    /// Equal weights in a settled rotation: `order[p]` is next; the
    /// winner's `s` is lowered by the total once per lap (written back
    /// into `s` on leaving).
    Rotation {
        order: Vec<u32>,
        p: usize,
        laps: i64,
    },
}

#[derive(Debug, Clone)]
struct Group {
    w: i64,
    tree: MaxTree,
}

/// Leaves `(s_i, i)` at `size + i`; a node holds the larger child (equal
/// `s`: the lower index, nginx's first-found).
#[derive(Debug, Clone)]
struct MaxTree {
    nodes: Vec<(i64, u32)>,
    size: usize,
}

#[inline]
fn better(a: (i64, u32), b: (i64, u32)) -> (i64, u32) {
    if a.0 > b.0 || (a.0 == b.0 && a.1 < b.1) {
        a
    } else {
        b
    }
}

impl MaxTree {
    fn new(n: usize) -> Self {
        let size = n.max(1).next_power_of_two();
        MaxTree {
            nodes: vec![EMPTY; 2 * size],
            size,
        }
    }

    fn fix_all(&mut self) {
        for k in (1..self.size).rev() {
            self.nodes[k] = better(self.nodes[2 * k], self.nodes[2 * k + 1]);
        }
    }

    #[inline]
    fn set(&mut self, i: usize, v: (i64, u32)) {
        let mut k = self.size + i;
        self.nodes[k] = v;
        while k > 1 {
            k /= 2;
            self.nodes[k] = better(self.nodes[2 * k], self.nodes[2 * k + 1]);
        }
    }

    #[inline]
    fn top(&self) -> (i64, u32) {
        self.nodes[1]
    }
}

impl Swrr {
    /// The next pick among `pool.up()` less `exclude` (at least one
    /// candidate must remain).
    #[inline]
    pub(super) fn pick(&mut self, pool: &Pool, exclude: Option<BackendId>) -> BackendId {
        let key = (pool.uid(), pool.generation(), pool.weight_generation());
        if self.built_for != Some(key) || self.t >= REBASE_EVERY {
            self.rebuild(pool);
            self.built_for = Some(key);
        }
        // A retry's excluded backend matters only if it is a candidate.
        let x = exclude.filter(|x| self.group.get(x.index()).is_some_and(|&g| g != NO_GROUP));
        match &mut self.mode {
            Mode::Scan => return self.scan(pool, exclude),
            Mode::Rotation { order, p, laps } if x.is_none() => {
                let id = order[*p];
                *p += 1;
                if *p == order.len() {
                    *p = 0;
                    *laps += 1;
                }
                self.t += 1;
                return BackendId(id);
            }
            Mode::Rotation { .. } => self.leave_rotation(),
            Mode::Groups { .. } => {}
        }
        self.pick_in_groups(x)
    }

    /// nginx's pass, on `s` holding `current`.
    fn scan(&mut self, pool: &Pool, exclude: Option<BackendId>) -> BackendId {
        let mut total = 0i64;
        let mut best: Option<BackendId> = None;
        let mut best_w = i64::MIN;
        for &id in pool.up() {
            if Some(id) == exclude {
                continue;
            }
            let w = pool.get(id).weight as i64;
            let c = &mut self.s[id.index()];
            *c += w;
            total += w;
            if *c > best_w {
                best_w = *c;
                best = Some(id);
            }
        }
        let best = best.expect("caller checked the candidates are non-empty");
        self.s[best.index()] -= total;
        best
    }

    #[inline]
    fn pick_in_groups(&mut self, x: Option<BackendId>) -> BackendId {
        let Mode::Groups { groups, calm } = &mut self.mode else {
            unreachable!("pick_in_groups outside group mode")
        };
        self.t += 1;
        let mut total = self.total;
        if let Some(x) = x {
            // The excluded backend gains nothing this pick.
            let i = x.index();
            self.s[i] -= self.w[i];
            total -= self.w[i];
            groups[self.group[i] as usize].tree.set(i, EMPTY);
        }
        let mut best = EMPTY;
        for g in groups.iter() {
            let (s, i) = g.tree.top();
            if i != u32::MAX {
                best = better(best, (s + g.w * self.t, i));
            }
        }
        debug_assert!(best.1 != u32::MAX, "smooth_wrr over no candidate");
        let b = best.1 as usize;
        self.s[b] -= total;
        groups[self.group[b] as usize]
            .tree
            .set(b, (self.s[b], b as u32));
        if let Some(x) = x {
            let i = x.index();
            groups[self.group[i] as usize]
                .tree
                .set(i, (self.s[i], i as u32));
            *calm = 0;
        } else {
            *calm += 1;
            // Amortised: at most one O(N) check per 4 laps of tree picks.
            if groups.len() == 1 && *calm >= 4 * (self.total / groups[0].w) as usize {
                *calm = 0;
                self.try_rotation();
            }
        }
        BackendId(b as u32)
    }

    /// Switches from one equal-weight group to the O(1) rotation when the
    /// `s` values have settled: with `front` the leader (largest `s`,
    /// lowest index) and `back` the last (smallest `s`, highest index),
    /// `s_back > s_front - total`, or equal with `back < front`. Then the
    /// leader, lowered by the total, sorts after every other candidate, and
    /// the new leader satisfies the same condition — so the picks cycle
    /// through the candidates in their current order forever.
    fn try_rotation(&mut self) {
        let Mode::Groups { groups, .. } = &self.mode else {
            return;
        };
        if groups.len() != 1 {
            return;
        }
        let mut order: Vec<u32> = (0..self.group.len())
            .filter(|&i| self.group[i] != NO_GROUP)
            .map(|i| i as u32)
            .collect();
        let key = |i: &u32| (std::cmp::Reverse(self.s[*i as usize]), *i);
        let front = *order.iter().min_by_key(|i| key(i)).expect("a candidate");
        let back = *order.iter().max_by_key(|i| key(i)).expect("a candidate");
        let (sf, sb) = (self.s[front as usize], self.s[back as usize]);
        if sb > sf - self.total || (sb == sf - self.total && back < front) {
            order.sort_unstable_by_key(key);
            self.mode = Mode::Rotation {
                order,
                p: 0,
                laps: 0,
            };
        }
    }

    /// Writes the rotation's picks back into `s` and returns to one tree.
    fn leave_rotation(&mut self) {
        let Mode::Rotation { order, p, laps } = std::mem::take(&mut self.mode) else {
            return;
        };
        for (j, &i) in order.iter().enumerate() {
            let picks = laps + i64::from(j < p);
            self.s[i as usize] -= self.total * picks;
        }
        let w = self.w[order[0] as usize];
        let mut tree = MaxTree::new(self.s.len());
        for &i in &order {
            tree.nodes[tree.size + i as usize] = (self.s[i as usize], i);
        }
        tree.fix_all();
        self.mode = Mode::Groups {
            groups: vec![Group { w, tree }],
            calm: 0,
        };
    }

    /// Turns `s` into nginx's `current` for every backend (`t` to 0).
    fn materialise(&mut self) {
        if matches!(self.mode, Mode::Rotation { .. }) {
            self.leave_rotation();
        }
        if !matches!(self.mode, Mode::Scan) {
            for i in 0..self.s.len() {
                if self.group[i] != NO_GROUP {
                    self.s[i] += self.w[i] * self.t;
                }
            }
        }
        self.t = 0;
    }

    fn rebuild(&mut self, pool: &Pool) {
        self.materialise();
        let n = pool.len();
        if self.s.len() != n {
            // nginx's peers are new: every `current` starts at zero.
            self.s = vec![0; n];
        }
        self.w.clear();
        self.w.resize(n, 0);
        self.group.clear();
        self.group.resize(n, NO_GROUP);
        let mut weights: Vec<i64> = Vec::new();
        self.total = 0;
        for &id in pool.up() {
            let w = pool.get(id).weight as i64;
            self.total += w;
            let g = match weights.iter().position(|&v| v == w) {
                Some(g) => g,
                None => {
                    weights.push(w);
                    weights.len() - 1
                }
            };
            if weights.len() > MAX_GROUPS {
                self.mode = Mode::Scan;
                self.group.fill(NO_GROUP);
                return;
            }
            self.w[id.index()] = w;
            self.group[id.index()] = g as u8;
        }
        if weights.is_empty() {
            self.mode = Mode::Scan;
            return;
        }
        let mut groups: Vec<Group> = weights
            .iter()
            .map(|&w| Group {
                w,
                tree: MaxTree::new(n),
            })
            .collect();
        for &id in pool.up() {
            let i = id.index();
            let tree = &mut groups[self.group[i] as usize].tree;
            tree.nodes[tree.size + i] = (self.s[i], i as u32);
        }
        for g in &mut groups {
            g.tree.fix_all();
        }
        let single = groups.len() == 1;
        self.mode = Mode::Groups { groups, calm: 0 };
        if single {
            self.try_rotation();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routing::{BackendId, Health};

    /// The property tests only prove equality; this proves the fast paths
    /// are the ones taken.
    #[test]
    fn equal_weights_settle_into_the_rotation_and_weights_use_groups() {
        let mut pool = Pool::with_default_addrs(5, None);
        let mut s = Swrr::default();
        s.pick(&pool, None);
        assert!(matches!(s.mode, Mode::Rotation { .. }), "{:?}", s.mode);
        s.pick(&pool, Some(BackendId(3)));
        assert!(matches!(s.mode, Mode::Groups { .. }), "{:?}", s.mode);
        for _ in 0..40 {
            s.pick(&pool, None);
        }
        assert!(matches!(s.mode, Mode::Rotation { .. }), "{:?}", s.mode);
        pool.set_weight(BackendId(0), 3);
        s.pick(&pool, None);
        assert!(matches!(&s.mode, Mode::Groups { groups, .. } if groups.len() == 2));
        let mut big = Pool::with_default_addrs(MAX_GROUPS + 1, None);
        for i in 0..=MAX_GROUPS {
            big.set_weight(BackendId::from_index(i), 1 + i as u32);
        }
        big.set_health(BackendId(0), Health::Up);
        s.pick(&big, None);
        assert!(matches!(s.mode, Mode::Scan), "{:?}", s.mode);
    }
}
