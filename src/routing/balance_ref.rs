//! The O(N) balancers the indexed ones replaced, kept as the reference the
//! property tests compare against: nginx's smooth weighted round robin as
//! `ngx_http_upstream_get_peer` writes it (every candidate gains its
//! weight, the first largest wins and pays the total), and least
//! connections as a scan from a rotating start (HAProxy's tie rotation).

use super::{BackendId, Pool};

/// The reference balancer state.
#[derive(Debug, Clone, Default)]
pub(super) struct RefBalancer {
    current: Vec<i64>,
    cursor: usize,
}

impl RefBalancer {
    /// Candidates: `pool.up()` less `exclude`, which must leave at least one.
    pub(super) fn smooth_wrr(&mut self, pool: &Pool, exclude: Option<BackendId>) -> BackendId {
        if self.current.len() != pool.len() {
            self.current = vec![0; pool.len()];
        }
        let mut total = 0i64;
        let mut best: Option<BackendId> = None;
        let mut best_w = i64::MIN;
        for &id in pool.up() {
            if Some(id) == exclude {
                continue;
            }
            let w = pool.get(id).weight as i64;
            let c = &mut self.current[id.index()];
            *c += w;
            total += w;
            if *c > best_w {
                best_w = *c;
                best = Some(id);
            }
        }
        let best = best.expect("candidates are non-empty");
        self.current[best.index()] -= total;
        best
    }

    /// Fewest outstanding per unit of weight, first found scanning from a
    /// start that moves by one on every pick.
    pub(super) fn least_conn(&mut self, pool: &Pool, exclude: Option<BackendId>) -> BackendId {
        let up: Vec<BackendId> = pool
            .up()
            .iter()
            .copied()
            .filter(|&id| Some(id) != exclude)
            .collect();
        let n = up.len();
        let start = self.cursor % n;
        self.cursor = self.cursor.wrapping_add(1);
        let load = |id: BackendId| {
            let b = pool.get(id);
            ((b.outstanding as u64) << 16) / b.weight.max(1) as u64
        };
        let mut best = up[start];
        let mut best_load = load(best);
        for k in 1..n {
            let id = up[(start + k) % n];
            let l = load(id);
            if l < best_load {
                best = id;
                best_load = l;
            }
        }
        best
    }
}
