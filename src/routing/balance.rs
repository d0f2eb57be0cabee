//! Non-sticky balancers: the baselines, and what sticky strategies fall
//! back to for requests without usable affinity.

use super::{BackendId, Balance, Decision, Pool, Refusal, RouteRng};

/// A balancer with its state (round-robin weights, tie-break cursor).
#[derive(Debug, Clone)]
pub struct Balancer {
    kind: Balance,
    /// Smooth weighted round robin: each backend's current weight.
    current: Vec<i64>,
    /// Where least-connections starts scanning, so ties rotate.
    cursor: usize,
}

impl Balancer {
    /// A balancer of `kind` with no history (weights and cursor start at
    /// zero; they size themselves to the pool on first use).
    pub fn new(kind: Balance) -> Self {
        Balancer {
            kind,
            current: Vec::new(),
            cursor: 0,
        }
    }

    /// The balancer as a strategy: forward to [`pick`](Self::pick)'s
    /// backend without a cookie, or refuse when none is up.
    #[inline]
    pub fn route(&mut self, pool: &Pool, rng: &mut RouteRng) -> Decision {
        match self.pick(pool, rng) {
            Some(backend) => Decision::Forward {
                backend,
                set_cookie: None,
            },
            None => Decision::Refuse(Refusal::NoBackend),
        }
    }

    /// Picks an `Up` backend, or `None` when there is none.
    #[inline]
    pub fn pick(&mut self, pool: &Pool, rng: &mut RouteRng) -> Option<BackendId> {
        let up = pool.up();
        if up.is_empty() {
            return None;
        }
        Some(match self.kind {
            Balance::RoundRobin => self.smooth_wrr(pool),
            Balance::Random => up[rng.below(up.len())],
            Balance::LeastConn => self.least_conn(pool),
            Balance::P2c => {
                if up.len() == 1 {
                    up[0]
                } else {
                    let i = rng.below(up.len());
                    let mut j = rng.below(up.len() - 1);
                    if j >= i {
                        j += 1;
                    }
                    let (a, b) = (up[i], up[j]);
                    if pool.get(b).outstanding < pool.get(a).outstanding {
                        b
                    } else {
                        a
                    }
                }
            }
        })
    }

    /// nginx's smooth weighted round robin (`ngx_http_upstream_get_peer`):
    /// every up backend gains its weight, the largest wins and pays the total.
    /// With equal weights this visits backends in index order.
    fn smooth_wrr(&mut self, pool: &Pool) -> BackendId {
        if self.current.len() != pool.len() {
            self.current = vec![0; pool.len()];
        }
        let mut total = 0i64;
        let mut best: Option<BackendId> = None;
        let mut best_w = i64::MIN;
        for &id in pool.up() {
            let w = pool.get(id).weight as i64;
            let c = &mut self.current[id.index()];
            *c += w;
            total += w;
            if *c > best_w {
                best_w = *c;
                best = Some(id);
            }
        }
        let best = best.expect("caller checked the up set is non-empty");
        self.current[best.index()] -= total;
        best
    }

    /// Fewest outstanding requests per unit of weight; ties go to the first
    /// found scanning from a rotating start.
    fn least_conn(&mut self, pool: &Pool) -> BackendId {
        let up = pool.up();
        let n = up.len();
        let start = self.cursor % n;
        self.cursor = self.cursor.wrapping_add(1);
        let mut best = up[start];
        let mut best_load = load(pool, best);
        for k in 1..n {
            let id = up[(start + k) % n];
            let l = load(pool, id);
            if l < best_load {
                best = id;
                best_load = l;
            }
        }
        best
    }
}

/// Outstanding requests scaled by weight, compared without division.
#[inline]
fn load(pool: &Pool, id: BackendId) -> u64 {
    let b = pool.get(id);
    // outstanding / weight, as a fixed-point number with 2^16 fraction bits.
    ((b.outstanding as u64) << 16) / b.weight.max(1) as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routing::{BackendView, Health};

    #[test]
    fn round_robin_cycles_in_order_and_skips_down() {
        let mut pool = Pool::with_default_addrs(3, None);
        let mut b = Balancer::new(Balance::RoundRobin);
        let mut rng = RouteRng::new(1);
        let seq: Vec<u32> = (0..6).map(|_| b.pick(&pool, &mut rng).unwrap().0).collect();
        assert_eq!(seq, [0, 1, 2, 0, 1, 2]);
        pool.set_health(BackendId(1), Health::Down);
        let seq: Vec<u32> = (0..4).map(|_| b.pick(&pool, &mut rng).unwrap().0).collect();
        assert!(!seq.contains(&1));
        assert_eq!(seq.iter().filter(|&&x| x == 0).count(), 2);
    }

    #[test]
    fn smooth_wrr_matches_nginx_sequence_for_weights_5_1_1() {
        // nginx's documented example: weights a=5, b=1, c=1 give a a b a c a a.
        let backends = [5, 1, 1]
            .iter()
            .enumerate()
            .map(|(i, &w)| BackendView {
                addr: format!("10.0.0.{}:80", i + 1).parse().unwrap(),
                weight: w,
                health: Health::Up,
                outstanding: 0,
                capacity: None,
            })
            .collect();
        let pool = Pool::new(backends);
        let mut b = Balancer::new(Balance::RoundRobin);
        let mut rng = RouteRng::new(1);
        let seq: Vec<u32> = (0..7).map(|_| b.pick(&pool, &mut rng).unwrap().0).collect();
        assert_eq!(seq, [0, 0, 1, 0, 2, 0, 0]);
    }

    #[test]
    fn least_conn_picks_the_emptiest() {
        let mut pool = Pool::with_default_addrs(3, None);
        for _ in 0..3 {
            pool.add_outstanding(BackendId(0));
        }
        pool.add_outstanding(BackendId(2));
        let mut b = Balancer::new(Balance::LeastConn);
        let mut rng = RouteRng::new(1);
        for _ in 0..5 {
            assert_eq!(b.pick(&pool, &mut rng), Some(BackendId(1)));
        }
    }

    #[test]
    fn p2c_never_picks_the_single_most_loaded() {
        let mut pool = Pool::with_default_addrs(4, None);
        for _ in 0..10 {
            pool.add_outstanding(BackendId(3));
        }
        let mut b = Balancer::new(Balance::P2c);
        let mut rng = RouteRng::new(5);
        for _ in 0..1000 {
            assert_ne!(b.pick(&pool, &mut rng), Some(BackendId(3)));
        }
    }

    #[test]
    fn random_is_roughly_uniform() {
        let pool = Pool::with_default_addrs(4, None);
        let mut b = Balancer::new(Balance::Random);
        let mut rng = RouteRng::new(5);
        let mut counts = [0u32; 4];
        for _ in 0..40_000 {
            counts[b.pick(&pool, &mut rng).unwrap().index()] += 1;
        }
        for c in counts {
            assert!((9_500..10_500).contains(&c), "{counts:?}");
        }
    }
}
