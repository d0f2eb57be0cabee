//! The engine against queueing closed forms (VALIDATION.md): M/M/1 and
//! M/M/c (Erlang C). Each check runs independent replications and asserts
//! that the 95 % Student-t confidence interval of the mean response time
//! contains the formula's value, and that the interval is tight enough
//! (a few percent) for the check to mean something.

use crate::common::{mean_ci95, queueing};
use stickysim::engine::run_strategy;

/// Erlang C: probability that an arrival waits in M/M/c with offered load a = λ/μ.
fn erlang_c(c: u32, a: f64) -> f64 {
    let mut term = 1.0; // a^k / k!
    let mut sum = 0.0;
    for k in 0..c {
        if k > 0 {
            term *= a / k as f64;
        }
        sum += term;
    }
    let last = term * a / c as f64 * (c as f64 / (c as f64 - a));
    last / (sum + last)
}

/// Mean response time (wait + service) of M/M/c, service mean `s`.
fn mmc_response(c: u32, lambda: f64, s: f64) -> f64 {
    let mu = 1.0 / s;
    let a = lambda * s;
    erlang_c(c, a) / (c as f64 * mu - lambda) + s
}

#[test]
fn erlang_c_matches_validation_table() {
    // VALIDATION.md, service mean 1: (c, rho) -> W.
    for (c, rho, w) in [
        (2, 0.8, 2.7778),
        (4, 0.8, 1.7455),
        (4, 0.9, 2.9694),
        (16, 0.9, 1.3696),
    ] {
        let got = mmc_response(c, rho * c as f64, 1.0);
        assert!((got - w).abs() < 1e-3, "c={c} rho={rho}: {got} vs {w}");
    }
    assert!((erlang_c(4, 3.2) - 0.5964).abs() < 1e-4);
}

/// Runs `reps` replications and checks the CI against `expected` (seconds).
fn check(label: &str, c: u32, rho: f64, customers_per_rep: f64, reps: u64, max_rel_halfwidth: f64) {
    let s = 0.01; // 10 ms mean service
    let lambda = rho * c as f64 / s;
    let expected = mmc_response(c, lambda, s);
    let duration = customers_per_rep / lambda;
    let means: Vec<f64> = (0..reps)
        .map(|seed| {
            let sc = queueing(lambda, s, 1, c, duration, 1000 + seed);
            let out = run_strategy(&sc, 0);
            assert_eq!(out.summary.failed + out.summary.rejected, 0);
            out.summary.latency_mean_ms / 1e3
        })
        .collect();
    let (m, hw) = mean_ci95(&means);
    eprintln!("{label}: mean {m:.5} ± {hw:.5} s, closed form {expected:.5} s");
    assert!(
        (m - expected).abs() <= hw,
        "{label}: CI {m} ± {hw} does not contain {expected}"
    );
    assert!(
        hw / expected < max_rel_halfwidth,
        "{label}: CI too wide to be a test: ±{:.1} %",
        100.0 * hw / expected
    );
}

#[test]
fn mm1_at_half_load() {
    check("M/M/1 rho=0.5", 1, 0.5, 100_000.0, 10, 0.02);
}

#[test]
fn mm1_at_0_9() {
    check("M/M/1 rho=0.9", 1, 0.9, 400_000.0, 10, 0.04);
}

#[test]
fn mmc_4_workers_at_0_8() {
    check("M/M/4 rho=0.8", 4, 0.8, 300_000.0, 10, 0.03);
}

#[test]
fn mmc_2_workers_at_0_5() {
    check("M/M/2 rho=0.5", 2, 0.5, 100_000.0, 10, 0.02);
}

/// M/G/1 by Pollaczek–Khinchine: W = E[S] + ρ E[S] (1 + C²) / (2 (1 − ρ)).
fn pk_response(rho: f64, s: f64, scv: f64) -> f64 {
    s + rho * s * (1.0 + scv) / (2.0 * (1.0 - rho))
}

/// Replications of a one-backend, one-worker queue with the given service
/// distribution; returns (mean, half-width) of the mean response time.
fn replicate(reps: u64, build: impl Fn(u64) -> stickysim::scenario::Scenario) -> (f64, f64) {
    let means: Vec<f64> = (0..reps)
        .map(|seed| {
            let out = run_strategy(&build(2000 + seed), 0);
            out.summary.latency_mean_ms / 1e3
        })
        .collect();
    mean_ci95(&means)
}

#[test]
fn md1_and_mg1_match_pollaczek_khinchine() {
    use stickysim::scenario::dist::Dist;
    let s = 0.01;
    let rho = 0.8;
    let lambda = rho / s;
    // Variance, not the mean, drives the wait: deterministic (C² = 0) and
    // gamma with C² = 4 at the same mean.
    // High service variance makes the mean wait converge slowly: the gamma
    // case needs a million customers per replication for an honest CI.
    for (label, dist, scv, customers) in [
        ("M/D/1", Dist::constant(s).unwrap(), 0.0, 300_000.0),
        (
            "M/G/1 gamma C²=4",
            Dist::gamma(s, 2.0).unwrap(),
            4.0,
            1_000_000.0,
        ),
    ] {
        let expected = pk_response(rho, s, scv);
        let (m, hw) = replicate(10, |seed| {
            let mut sc = queueing(lambda, s, 1, 1, customers / lambda, seed);
            sc.workload.service_time = dist.clone();
            sc
        });
        eprintln!("{label}: {m:.5} ± {hw:.5} s, P-K {expected:.5} s");
        assert!(
            (m - expected).abs() <= hw,
            "{label}: CI {m} ± {hw} does not contain {expected}"
        );
        assert!(hw / expected < 0.05, "{label}: CI too wide");
    }
}

/// GI/M/1 with Erlang-k arrivals (total rate λ, each server gets every k-th):
/// σ = (λ / (λ + μ(1 − σ)))^k, W = 1 / (μ (1 − σ)).
fn ekm1_response(k: u32, lambda_total: f64, mu: f64) -> f64 {
    let mut sigma: f64 = 0.5;
    for _ in 0..10_000 {
        sigma = (lambda_total / (lambda_total + mu * (1.0 - sigma))).powi(k as i32);
    }
    1.0 / (mu * (1.0 - sigma))
}

#[test]
fn round_robin_split_is_erlang_k_per_server_and_random_split_is_mm1() {
    use stickysim::routing::{Balance, StrategySpec};
    // VALIDATION.md: ρ = 0.9, k = 10 → W = 5.660 service times; random → 10.0.
    assert!((ekm1_response(10, 9.0, 1.0) - 5.660).abs() < 0.005);
    assert!((ekm1_response(2, 1.8, 1.0) - 7.588).abs() < 0.005);
    let s = 0.01;
    let k = 10;
    let lambda = 0.9 * k as f64 / s;
    let duration = 1_000_000.0 / lambda;
    for (label, balance, expected) in [
        (
            "round robin",
            Balance::RoundRobin,
            ekm1_response(k as u32, lambda, 1.0 / s),
        ),
        (
            "random",
            Balance::Random,
            mmc_response(1, lambda / k as f64, s),
        ),
    ] {
        let (m, hw) = replicate(8, |seed| {
            let mut sc = queueing(lambda, s, k, 1, duration, seed);
            sc.strategies[0].spec = StrategySpec::Balance(balance);
            sc
        });
        eprintln!("{label} over {k}: {m:.5} ± {hw:.5} s, closed form {expected:.5} s");
        assert!(
            (m - expected).abs() <= hw,
            "{label}: CI {m} ± {hw} does not contain {expected}"
        );
        assert!(hw / expected < 0.04, "{label}: CI too wide");
    }
}

#[test]
fn power_of_two_choices_approaches_the_supermarket_limit() {
    use stickysim::routing::{Balance, StrategySpec};
    // Mitzenmacher's N → ∞ limit at λ = 0.9, d = 2: T = Σ λ^(2^i − 2) = 2.614
    // service times. VALIDATION.md: a DES at N = 100 gives 2.661 (finite-N gap).
    let limit: f64 = (1..30).map(|i| 0.9f64.powf(2f64.powi(i) - 2.0)).sum();
    assert!((limit - 2.614).abs() < 0.001, "{limit}");
    let s = 0.01;
    let n = 100;
    let lambda = 0.9 * n as f64 / s;
    let (m, hw) = replicate(5, |seed| {
        let mut sc = queueing(lambda, s, n, 1, 500_000.0 / lambda, seed);
        sc.strategies[0].spec = StrategySpec::Balance(Balance::P2c);
        sc
    });
    let m = m / s; // in service times
    let hw = hw / s;
    eprintln!("p2c N=100: {m:.4} ± {hw:.4} service times, limit {limit:.4}");
    // Above the limit (finite N), within 4 % of it.
    assert!(
        m > limit - hw && m < limit * 1.04,
        "p2c {m} ± {hw} vs supermarket limit {limit}"
    );
    // And far better than random's 10 service times.
    assert!(m < 3.0);
}

#[test]
fn least_connections_sits_above_the_central_queue_bound() {
    use stickysim::routing::{Balance, StrategySpec};
    // JSQ over 10 single-worker backends at ρ = 0.9 can't beat one central
    // M/M/10 queue (1.669 service times); VALIDATION.md's DES gives 1.944.
    let s = 0.01;
    let n = 10;
    let lambda = 0.9 * n as f64 / s;
    let bound = mmc_response(n as u32, lambda, s);
    let (m, hw) = replicate(5, |seed| {
        let mut sc = queueing(lambda, s, n, 1, 500_000.0 / lambda, seed);
        sc.strategies[0].spec = StrategySpec::Balance(Balance::LeastConn);
        sc
    });
    eprintln!(
        "least_conn N=10: {:.4} ± {:.4} service times, M/M/10 bound {:.4}",
        m / s,
        hw / s,
        bound / s
    );
    assert!(
        m - hw > bound,
        "JSQ {m} cannot beat the central queue {bound}"
    );
    assert!(
        m / s < 2.1,
        "JSQ {} service times is far from the published 1.944",
        m / s
    );
}
