//! Small statistics shared by sweeps and the validation tests: Student t
//! quantiles and confidence intervals of a mean from independent
//! replications.
//!
//! The t quantile is computed, not tabulated: the t distribution's CDF is
//! written with the regularized incomplete beta function (continued
//! fraction, Lentz's method) and inverted by bisection, so any number of
//! degrees of freedom and any confidence level work to ~1e-12.
//!
//! ```
//! use stickysim::stats::{mean_ci, t_quantile};
//! assert!((t_quantile(0.975, 9.0) - 2.262157).abs() < 1e-6);
//! let ci = mean_ci(&[1.0, 2.0, 3.0], 0.95).unwrap();
//! assert_eq!(ci.mean, 2.0);
//! // s = 1, t(0.975, 2) = 4.302653: half-width 4.302653 / √3
//! assert!((ci.half_width.unwrap() - 2.484138).abs() < 1e-6);
//! ```

/// ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms; relative error ~1e-15).
pub fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x)Γ(1−x) = π / sin(πx).
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + G + 0.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// Continued fraction for the incomplete beta function (modified Lentz).
fn beta_cf(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let away_from_zero = |v: f64| if v.abs() < TINY { TINY } else { v };
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 / away_from_zero(1.0 - qab * x / qap);
    let mut h = d;
    // One Lentz step with coefficient `aa`: the factor it multiplies `h` by.
    let mut step = |aa: f64| {
        d = 1.0 / away_from_zero(1.0 + aa * d);
        c = away_from_zero(1.0 + aa / c);
        d * c
    };
    for m in 1..=1000 {
        let m = m as f64;
        let m2 = 2.0 * m;
        // The even and the odd term of the fraction.
        h *= step(m * (b - m) * x / ((qam + m2) * (a + m2)));
        let del = step(-(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)));
        h *= del;
        if (del - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

/// The regularized incomplete beta function I_x(a, b), for a, b > 0 and
/// 0 <= x <= 1.
pub fn inc_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    let front = ln_front.exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_cf(a, b, x) / a
    } else {
        1.0 - front * beta_cf(b, a, 1.0 - x) / b
    }
}

/// P(T <= t) for Student's t with `df` degrees of freedom (df > 0).
pub fn t_cdf(t: f64, df: f64) -> f64 {
    let tail = 0.5 * inc_beta(df / 2.0, 0.5, df / (df + t * t));
    if t >= 0.0 {
        1.0 - tail
    } else {
        tail
    }
}

/// The `p` quantile of Student's t with `df` degrees of freedom
/// (0 < p < 1, df > 0): the t with P(T <= t) = p.
pub fn t_quantile(p: f64, df: f64) -> f64 {
    assert!(p > 0.0 && p < 1.0 && df > 0.0, "t_quantile({p}, {df})");
    if p < 0.5 {
        return -t_quantile(1.0 - p, df);
    }
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    while t_cdf(hi, df) < p {
        hi *= 2.0;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if t_cdf(mid, df) < p {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo <= 1e-13 * hi.max(1.0) {
            break;
        }
    }
    0.5 * (lo + hi)
}

/// A sample mean and its confidence interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MeanCi {
    /// Number of values in the sample.
    pub n: usize,
    /// Arithmetic mean of the sample (at least one value).
    pub mean: f64,
    /// Sample standard deviation (n − 1 in the denominator); `None` for n < 2.
    pub sd: Option<f64>,
    /// Half-width of the two-sided Student t interval; `None` for n < 2.
    pub half_width: Option<f64>,
}

/// Mean and two-sided Student t confidence interval (`level`, e.g. 0.95)
/// of independent observations; `None` for an empty slice.
pub fn mean_ci(xs: &[f64], level: f64) -> Option<MeanCi> {
    let n = xs.len();
    if n == 0 {
        return None;
    }
    let mean = xs.iter().sum::<f64>() / n as f64;
    if n < 2 {
        return Some(MeanCi {
            n,
            mean,
            sd: None,
            half_width: None,
        });
    }
    let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1) as f64;
    let sd = var.sqrt();
    let t = t_quantile(0.5 + level / 2.0, (n - 1) as f64);
    Some(MeanCi {
        n,
        mean,
        sd: Some(sd),
        half_width: Some(t * sd / (n as f64).sqrt()),
    })
}

/// Mean and 95 % Student t half-width of `xs` (n >= 2).
pub fn mean_ci95(xs: &[f64]) -> (f64, f64) {
    let ci = mean_ci(xs, 0.95).expect("at least one observation");
    (
        ci.mean,
        ci.half_width.expect("at least two observations for a CI"),
    )
}

/// The difference between two paired samples — `a[r] − b[r]` for each
/// replication `r`, where replication `r` of both shares its random
/// numbers — with a Student t interval on the mean difference. Pairing
/// removes the variance the two share, so this interval is usually far
/// tighter than two independent ones.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairedDiff {
    /// Replications (pairs).
    pub n: usize,
    /// Mean of the per-replication differences `a − b`.
    pub mean: f64,
    /// Half-width of the two-sided interval on `mean`; `None` for n < 2.
    pub half_width: Option<f64>,
}

impl PairedDiff {
    /// Whether the interval covers 0 (the data cannot tell `a` from `b`);
    /// `None` without an interval (one replication).
    pub fn indistinguishable(&self) -> Option<bool> {
        self.half_width.map(|hw| self.mean.abs() <= hw)
    }

    /// The interval `(low, high)`, when there is one.
    pub fn interval(&self) -> Option<(f64, f64)> {
        self.half_width.map(|hw| (self.mean - hw, self.mean + hw))
    }
}

/// Paired difference `a − b` at confidence `level` (e.g. 0.95); `None`
/// when the samples are empty or of different lengths.
pub fn paired_diff(a: &[f64], b: &[f64], level: f64) -> Option<PairedDiff> {
    if a.len() != b.len() {
        return None;
    }
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    let ci = mean_ci(&d, level)?;
    Some(PairedDiff {
        n: ci.n,
        mean: ci.mean,
        half_width: ci.half_width,
    })
}

/// The difference of the means of two independent samples, `mean(a) −
/// mean(b)`, with Welch's interval: Student t on the Welch–Satterthwaite
/// degrees of freedom, no equal-variance assumption. For samples that do
/// not share their random numbers (different seeds or replication counts);
/// paired samples deserve [`paired_diff`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WelchDiff {
    /// `mean(a) − mean(b)`.
    pub mean: f64,
    /// Welch–Satterthwaite degrees of freedom; `None` without an interval.
    pub df: Option<f64>,
    /// Half-width of the two-sided interval; `None` when either sample has
    /// fewer than two values. Zero when both samples are constant.
    pub half_width: Option<f64>,
}

/// [`WelchDiff`] of `a` and `b` at confidence `level`; `None` when either
/// is empty.
pub fn welch_diff(a: &[f64], b: &[f64], level: f64) -> Option<WelchDiff> {
    let (ca, cb) = (mean_ci(a, level)?, mean_ci(b, level)?);
    let mean = ca.mean - cb.mean;
    let (Some(sa), Some(sb)) = (ca.sd, cb.sd) else {
        return Some(WelchDiff {
            mean,
            df: None,
            half_width: None,
        });
    };
    let (va, vb) = (sa * sa / ca.n as f64, sb * sb / cb.n as f64);
    let se2 = va + vb;
    if se2 == 0.0 {
        return Some(WelchDiff {
            mean,
            df: None,
            half_width: Some(0.0),
        });
    }
    let df = se2 * se2 / (va * va / (ca.n - 1) as f64 + vb * vb / (cb.n - 1) as f64);
    let t = t_quantile(0.5 + level / 2.0, df);
    Some(WelchDiff {
        mean,
        df: Some(df),
        half_width: Some(t * se2.sqrt()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_published_tables() {
        // Two-sided 95 % (p = 0.975), from the standard t table.
        let table = [
            (1.0, 12.706_204_736),
            (2.0, 4.302_652_730),
            (3.0, 3.182_446_305),
            (4.0, 2.776_445_105),
            (9.0, 2.262_157_163),
            (29.0, 2.045_229_642),
            (100.0, 1.983_971_519),
        ];
        for (df, t) in table {
            let q = t_quantile(0.975, df);
            assert!((q - t).abs() < 1e-8, "df {df}: {q} vs {t}");
        }
        // Large df tends to the normal quantile 1.959964.
        assert!((t_quantile(0.975, 1e7) - 1.959_964).abs() < 1e-5);
        assert!((t_quantile(0.995, 5.0) - 4.032_142_984).abs() < 1e-8);
        assert_eq!(t_quantile(0.025, 4.0), -t_quantile(0.975, 4.0));
    }

    #[test]
    fn ln_gamma_of_integers_is_log_factorial() {
        assert!(ln_gamma(1.0).abs() < 1e-14);
        assert!((ln_gamma(5.0) - 24f64.ln()).abs() < 1e-13);
        assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-13);
    }

    #[test]
    fn ci_of_a_hand_computed_sample() {
        // xs = 2, 4, 4, 4, 5, 5, 7, 9: mean 5, Σ(x−5)² = 32, s² = 32/7,
        // s = 2.138090, t(0.975, 7) = 2.364624, hw = 2.364624·2.138090/√8
        // = 1.787488.
        let ci = mean_ci(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0], 0.95).unwrap();
        assert_eq!(ci.mean, 5.0);
        assert!((ci.sd.unwrap() - (32.0f64 / 7.0).sqrt()).abs() < 1e-12);
        assert!((ci.half_width.unwrap() - 1.787_488).abs() < 1e-6);
        let one = mean_ci(&[3.0], 0.95).unwrap();
        assert_eq!((one.mean, one.half_width), (3.0, None));
        assert!(mean_ci(&[], 0.95).is_none());
    }

    #[test]
    fn paired_difference_of_a_hand_computed_sample() {
        // a = 10, 12, 11, 13, 14 and b = 9, 11.5, 10, 12, 12.5:
        // d = a − b = 1, 0.5, 1, 1, 1.5; mean 5/5 = 1.0;
        // Σ(d − 1)² = 0 + 0.25 + 0 + 0 + 0.25 = 0.5, s² = 0.5/4 = 0.125,
        // s = 0.353553; t(0.975, 4) = 2.776445;
        // hw = 2.776445 · 0.353553 / √5 = 2.776445 · 0.158114 = 0.438995.
        let a = [10.0, 12.0, 11.0, 13.0, 14.0];
        let b = [9.0, 11.5, 10.0, 12.0, 12.5];
        let p = paired_diff(&a, &b, 0.95).unwrap();
        assert_eq!(p.n, 5);
        assert!((p.mean - 1.0).abs() < 1e-12);
        assert!((p.half_width.unwrap() - 0.438_995).abs() < 1e-6);
        assert_eq!(p.indistinguishable(), Some(false));
        // Independent intervals of a and b overlap (means 12 and 11, each
        // half-width > 1.9), yet the paired one excludes 0.
        let (ma, ha) = mean_ci95(&a);
        let (mb, hb) = mean_ci95(&b);
        assert!(ma - ha < mb + hb);
        // Swapped, the difference changes sign and nothing else.
        let q = paired_diff(&b, &a, 0.95).unwrap();
        assert!((q.mean + 1.0).abs() < 1e-12 && q.half_width == p.half_width);
        // Equal samples: a zero-width interval at 0 is a tie.
        let t = paired_diff(&a, &a, 0.95).unwrap();
        assert_eq!(
            (t.mean, t.half_width, t.indistinguishable()),
            (0.0, Some(0.0), Some(true))
        );
        // One replication: no interval, no verdict on distinguishability.
        let one = paired_diff(&[3.0], &[1.0], 0.95).unwrap();
        assert_eq!(
            (one.mean, one.half_width, one.indistinguishable()),
            (2.0, None, None)
        );
        assert!(paired_diff(&a, &b[..4], 0.95).is_none());
        assert!(paired_diff(&[], &[], 0.95).is_none());
    }

    #[test]
    fn welch_of_a_hand_computed_pair() {
        // a = 1, 2, 3: mean 2, s² = 1; b = 2, 4, 6, 8: mean 5, s² = 20/3.
        // se² = 1/3 + (20/3)/4 = 2; df = 2² / ((1/3)²/2 + (5/3)²/3)
        // = 4 / (1/18 + 25/27) = 4.075472.
        let w = welch_diff(&[1.0, 2.0, 3.0], &[2.0, 4.0, 6.0, 8.0], 0.95).unwrap();
        assert_eq!(w.mean, -3.0);
        assert!((w.df.unwrap() - 4.075_471_698).abs() < 1e-8);
        let hw = w.half_width.unwrap();
        assert!((hw - t_quantile(0.975, 4.075_471_698) * 2f64.sqrt()).abs() < 1e-8);
        // Between the t table's df 5 and df 4 rows, times √2.
        assert!((2.570_58 * 2f64.sqrt()..2.776_45 * 2f64.sqrt()).contains(&hw));
        // One value on a side: no interval; constant samples: zero width.
        assert_eq!(
            welch_diff(&[1.0], &[2.0, 3.0], 0.95).unwrap().half_width,
            None
        );
        assert_eq!(
            welch_diff(&[1.0, 1.0], &[2.0, 2.0], 0.95)
                .unwrap()
                .half_width,
            Some(0.0)
        );
        assert_eq!(welch_diff(&[], &[2.0], 0.95), None);
    }
}
