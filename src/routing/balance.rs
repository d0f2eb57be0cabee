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
    pub fn route(
        &mut self,
        pool: &Pool,
        rng: &mut RouteRng,
        exclude: Option<BackendId>,
    ) -> Decision {
        match self.pick(pool, rng, exclude) {
            Some(backend) => Decision::Forward {
                backend,
                set_cookie: None,
            },
            None => Decision::Refuse(Refusal::NoBackend),
        }
    }

    /// Picks an `Up` backend other than `exclude` (the one a retried
    /// attempt failed on), or `None` when there is none. Every balancer
    /// skips the excluded backend as if it were not up, as nginx skips
    /// tried peers and HAProxy's `fwrr`/`fwlc`/`random` avoid `prev_srv`
    /// on a redispatch; its round-robin weight is left untouched.
    #[inline]
    pub fn pick(
        &mut self,
        pool: &Pool,
        rng: &mut RouteRng,
        exclude: Option<BackendId>,
    ) -> Option<BackendId> {
        let up = Candidates::new(pool.up(), exclude);
        let n = up.len();
        if n == 0 {
            return None;
        }
        Some(match self.kind {
            Balance::RoundRobin => self.smooth_wrr(pool, exclude),
            Balance::Random => up.get(rng.below(n)),
            Balance::LeastConn => self.least_conn(pool, &up),
            Balance::P2c => {
                if n == 1 {
                    up.get(0)
                } else {
                    let i = rng.below(n);
                    let mut j = rng.below(n - 1);
                    if j >= i {
                        j += 1;
                    }
                    let (a, b) = (up.get(i), up.get(j));
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
    /// With equal weights this visits backends in index order. A tried peer
    /// (`exclude`) is skipped before it gains anything, as nginx does.
    fn smooth_wrr(&mut self, pool: &Pool, exclude: Option<BackendId>) -> BackendId {
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
        let best = best.expect("caller checked the candidates are non-empty");
        self.current[best.index()] -= total;
        best
    }

    /// Fewest outstanding requests per unit of weight; ties go to the first
    /// found scanning from a rotating start.
    fn least_conn(&mut self, pool: &Pool, up: &Candidates) -> BackendId {
        let n = up.len();
        let start = self.cursor % n;
        self.cursor = self.cursor.wrapping_add(1);
        let mut best = up.get(start);
        let mut best_load = load(pool, best);
        for k in 1..n {
            let id = up.get((start + k) % n);
            let l = load(pool, id);
            if l < best_load {
                best = id;
                best_load = l;
            }
        }
        best
    }
}

/// The up backends less the excluded one, indexed without copying: the
/// excluded backend's position is skipped.
struct Candidates<'a> {
    up: &'a [BackendId],
    /// Position of the excluded backend in `up`, if it is there.
    skip: Option<usize>,
}

impl<'a> Candidates<'a> {
    #[inline]
    fn new(up: &'a [BackendId], exclude: Option<BackendId>) -> Self {
        // `up` is in index order.
        let skip = exclude.and_then(|x| up.binary_search(&x).ok());
        Candidates { up, skip }
    }

    #[inline]
    fn len(&self) -> usize {
        self.up.len() - usize::from(self.skip.is_some())
    }

    #[inline]
    fn get(&self, i: usize) -> BackendId {
        match self.skip {
            Some(s) if i >= s => self.up[i + 1],
            _ => self.up[i],
        }
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
        let seq: Vec<u32> = (0..6)
            .map(|_| b.pick(&pool, &mut rng, None).unwrap().0)
            .collect();
        assert_eq!(seq, [0, 1, 2, 0, 1, 2]);
        pool.set_health(BackendId(1), Health::Down);
        let seq: Vec<u32> = (0..4)
            .map(|_| b.pick(&pool, &mut rng, None).unwrap().0)
            .collect();
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
        let seq: Vec<u32> = (0..7)
            .map(|_| b.pick(&pool, &mut rng, None).unwrap().0)
            .collect();
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
            assert_eq!(b.pick(&pool, &mut rng, None), Some(BackendId(1)));
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
            assert_ne!(b.pick(&pool, &mut rng, None), Some(BackendId(3)));
        }
    }

    #[test]
    fn random_is_roughly_uniform() {
        let pool = Pool::with_default_addrs(4, None);
        let mut b = Balancer::new(Balance::Random);
        let mut rng = RouteRng::new(5);
        let mut counts = [0u32; 4];
        for _ in 0..40_000 {
            counts[b.pick(&pool, &mut rng, None).unwrap().index()] += 1;
        }
        for c in counts {
            assert!((9_500..10_500).contains(&c), "{counts:?}");
        }
    }
}
