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
