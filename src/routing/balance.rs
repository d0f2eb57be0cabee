//! Non-sticky balancers: the baselines, and what sticky strategies fall
//! back to for requests without usable affinity.
//!
//! Round robin and least connections keep an index over the pool so a
//! decision costs O(1) or O(log N) rather than a pass over every backend
//! (`swrr.rs`, `load_index.rs`); they pick exactly what the O(N) originals
//! (nginx's pass, a scan with HAProxy's tie rotation; `balance_ref.rs`,
//! kept for the property tests) pick.

use super::load_index::LoadIndex;
use super::swrr::Swrr;
use super::{BackendId, Balance, Decision, Pool, Refusal, RouteRng};

/// A balancer with its state (round-robin weights, tie-break cursor).
#[derive(Debug, Clone)]
pub struct Balancer {
    kind: Balance,
    /// Smooth weighted round robin's `current` weights, indexed.
    swrr: Swrr,
    /// Least connections' load index.
    loads: LoadIndex,
    /// Where least-connections starts scanning, so ties rotate.
    cursor: usize,
}

impl Balancer {
    /// A balancer of `kind` with no history (weights and cursor start at
    /// zero; they size themselves to the pool on first use).
    pub fn new(kind: Balance) -> Self {
        Balancer {
            kind,
            swrr: Swrr::default(),
            loads: LoadIndex::default(),
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
            // nginx's smooth weighted round robin (`ngx_http_upstream_get_peer`):
            // every up backend gains its weight, the largest wins and pays
            // the total. With equal weights this visits backends in index
            // order. A tried peer (`exclude`) is skipped before it gains
            // anything, as nginx does.
            Balance::RoundRobin => self.swrr.pick(pool, exclude),
            Balance::Random => up.get(rng.below(n)),
            // Fewest outstanding requests per unit of weight; ties go to the
            // first found scanning from a rotating start.
            Balance::LeastConn => {
                let start = self.cursor % n;
                self.cursor = self.cursor.wrapping_add(1);
                self.loads.pick(pool, exclude, up.get(start))
            }
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

    /// One step of the property tests' random pool histories.
    #[derive(Debug, Clone)]
    enum Op {
        Pick(Option<u8>),
        Health(u8, Health),
        Weight(u8, u32),
        Add(u8),
        Remove(u8),
        Reset(u8),
        Push(u32),
    }

    fn op(max_weight: u32) -> impl proptest::strategy::Strategy<Value = Op> {
        use proptest::prelude::*;
        let health = prop_oneof![
            6 => Just(Health::Up),
            2 => Just(Health::Down),
            1 => Just(Health::Draining)
        ];
        prop_oneof![
            30 => proptest::option::weighted(0.15, any::<u8>()).prop_map(Op::Pick),
            2 => (any::<u8>(), health).prop_map(|(i, h)| Op::Health(i, h)),
            2 => (any::<u8>(), 1..=max_weight).prop_map(|(i, w)| Op::Weight(i, w)),
            12 => any::<u8>().prop_map(Op::Add),
            10 => any::<u8>().prop_map(Op::Remove),
            1 => any::<u8>().prop_map(Op::Reset),
            1 => (1..=max_weight).prop_map(Op::Push),
        ]
    }

    /// Replays `ops` on a pool of `weights`, picking with the indexed
    /// balancer and the O(N) reference side by side.
    fn replay(kind: Balance, weights: &[u32], ops: &[Op]) {
        use crate::routing::balance_ref::RefBalancer;
        let mut pool = Pool::new(
            weights
                .iter()
                .enumerate()
                .map(|(i, &w)| BackendView {
                    addr: format!("10.0.0.{}:80", i + 1).parse().unwrap(),
                    weight: w,
                    health: Health::Up,
                    outstanding: 0,
                    capacity: None,
                })
                .collect(),
        );
        let mut fast = Balancer::new(kind);
        let mut reference = RefBalancer::default();
        let mut rng = RouteRng::new(1);
        for (step, op) in ops.iter().enumerate() {
            let id = |i: &u8| BackendId::from_index(*i as usize % pool.len());
            match op {
                Op::Pick(x) => {
                    let exclude = x.as_ref().map(id);
                    let got = fast.pick(&pool, &mut rng, exclude);
                    let n = Candidates::new(pool.up(), exclude).len();
                    let want = (n > 0).then(|| match kind {
                        Balance::RoundRobin => reference.smooth_wrr(&pool, exclude),
                        _ => reference.least_conn(&pool, exclude),
                    });
                    assert_eq!(got, want, "step {step}: {op:?}");
                    // Picked requests stay outstanding for a while.
                    if let Some(b) = got {
                        pool.add_outstanding(b);
                    }
                }
                Op::Health(i, h) => pool.set_health(id(i), *h),
                Op::Weight(i, w) => pool.set_weight(id(i), *w),
                Op::Add(i) => pool.add_outstanding(id(i)),
                Op::Remove(i) => {
                    if pool.get(id(i)).outstanding > 0 {
                        pool.remove_outstanding(id(i));
                    }
                }
                Op::Reset(i) => pool.reset_outstanding(id(i)),
                Op::Push(w) => {
                    let n = pool.len();
                    let b = pool.push(BackendView {
                        addr: format!("10.0.1.{}:80", n % 250 + 1).parse().unwrap(),
                        weight: *w,
                        health: Health::Down,
                        outstanding: 0,
                        capacity: None,
                    });
                    pool.set_health(b, Health::Up);
                }
            }
        }
    }

    fn history() -> impl proptest::strategy::Strategy<Value = (Vec<u32>, Vec<Op>)> {
        use proptest::prelude::*;
        (1u32..=12).prop_flat_map(|max_weight| {
            (
                proptest::collection::vec(1..=max_weight, 1..24),
                proptest::collection::vec(op(max_weight), 0..400),
            )
        })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(400))]

        /// The indexed smooth WRR picks what nginx's O(N) pass picks, over
        /// random weights, health and weight changes, retries and growth.
        #[test]
        fn smooth_wrr_matches_the_reference((weights, ops) in history()) {
            replay(Balance::RoundRobin, &weights, &ops);
        }

        /// The load index picks what the O(N) scan with its rotating start
        /// picks, over random in-flight counts, weights and health.
        #[test]
        fn least_conn_matches_the_reference((weights, ops) in history()) {
            replay(Balance::LeastConn, &weights, &ops);
        }
    }

    /// Long equal-weight runs go through the rotation and back: thousands
    /// of picks with an occasional retry and health change.
    #[test]
    fn smooth_wrr_rotation_matches_the_reference_over_long_runs() {
        let mut ops = Vec::new();
        let mut x: u64 = 7;
        for k in 0..20_000u32 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let r = (x >> 33) as u32;
            ops.push(match r % 1000 {
                0..=2 => Op::Pick(Some((r >> 10) as u8)),
                3 => Op::Health((r >> 10) as u8, Health::Down),
                4..=5 => Op::Health((r >> 10) as u8, Health::Up),
                6 if k > 10_000 => Op::Weight((r >> 10) as u8, 1 + r % 3),
                _ => Op::Pick(None),
            });
        }
        replay(Balance::RoundRobin, &[1; 37], &ops);
        replay(Balance::RoundRobin, &[3; 5], &ops);
    }
}
