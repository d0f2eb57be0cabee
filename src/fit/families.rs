//! Maximum-likelihood fits of the distribution families a scenario can
//! name, compared by AIC (Akaike's information criterion, 2k − 2 ln L:
//! the likelihood, less one unit per parameter). Times are fitted from
//! their sufficient statistics, so a sample of any size costs constant
//! memory; counts (requests per session) from their histogram.

use std::collections::BTreeMap;

/// The sufficient statistics of a sample of positive reals, for the
/// exponential, gamma, log-normal and Pareto likelihoods.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Moments {
    /// Samples.
    pub n: u64,
    /// Σx.
    pub sum: f64,
    /// Σx².
    pub sum2: f64,
    /// Σ ln x.
    pub sum_ln: f64,
    /// Σ (ln x)².
    pub sum_ln2: f64,
    /// The smallest sample.
    pub min: f64,
    /// The largest sample.
    pub max: f64,
}

impl Default for Moments {
    fn default() -> Self {
        Moments {
            n: 0,
            sum: 0.0,
            sum2: 0.0,
            sum_ln: 0.0,
            sum_ln2: 0.0,
            min: f64::INFINITY,
            max: 0.0,
        }
    }
}

impl Moments {
    /// Adds `count` samples equal to `x` (> 0).
    pub fn add(&mut self, x: f64, count: u64) {
        if count == 0 {
            return;
        }
        let c = count as f64;
        let l = x.ln();
        self.n += count;
        self.sum += c * x;
        self.sum2 += c * x * x;
        self.sum_ln += c * l;
        self.sum_ln2 += c * l * l;
        self.min = self.min.min(x);
        self.max = self.max.max(x);
    }

    /// The sample mean.
    pub fn mean(&self) -> f64 {
        self.sum / self.n as f64
    }

    /// The sample coefficient of variation (standard deviation / mean).
    pub fn cv(&self) -> f64 {
        let m = self.mean();
        let var = (self.sum2 / self.n as f64 - m * m).max(0.0);
        var.sqrt() / m
    }
}

/// A fitted family: its scenario parameters and how well it fits.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Fitted {
    /// The scenario's `dist` name.
    pub family: &'static str,
    /// The mean of the fitted law (its scenario `mean`; `value` for `constant`).
    pub mean: f64,
    /// Coefficient of variation (`lognormal`, `gamma`).
    pub cv: Option<f64>,
    /// Tail index (`pareto`).
    pub shape: Option<f64>,
    /// Maximised log-likelihood.
    pub log_lik: f64,
    /// Parameters fitted.
    pub params: u32,
    /// 2·params − 2·log_lik.
    pub aic: f64,
    /// Why it cannot be written into a scenario, if so (a Pareto tail
    /// index ≤ 1 has no mean).
    pub unusable: Option<String>,
}

impl Fitted {
    fn new(
        family: &'static str,
        mean: f64,
        cv: Option<f64>,
        shape: Option<f64>,
        log_lik: f64,
        params: u32,
    ) -> Self {
        let mut unusable = None;
        if !(log_lik.is_finite() && mean.is_finite() && mean > 0.0) {
            unusable = Some("no finite fit".to_string());
        }
        if let Some(s) = shape {
            if s.is_nan() || s <= 1.0 {
                unusable = Some(format!(
                    "tail index {} <= 1: the mean is infinite",
                    fmt_sig(s)
                ));
            }
        }
        if let Some(c) = cv {
            if !(c.is_finite() && c > 0.0) {
                unusable = Some("no variation".to_string());
            }
        }
        Fitted {
            family,
            mean,
            cv,
            shape,
            log_lik,
            params,
            aic: 2.0 * f64::from(params) - 2.0 * log_lik,
            unusable,
        }
    }

    /// The scenario's inline table, e.g. `{ dist = "lognormal", mean = 0.05, cv = 1.5 }`.
    pub fn toml(&self) -> String {
        let n = |v: f64| fmt_sig(v);
        match self.family {
            "constant" => format!("{{ dist = \"constant\", value = {} }}", n(self.mean)),
            "exponential" | "geometric" => {
                format!("{{ dist = \"{}\", mean = {} }}", self.family, n(self.mean))
            }
            "pareto" => format!(
                "{{ dist = \"pareto\", mean = {}, shape = {} }}",
                n(self.mean),
                n(self.shape.unwrap_or(2.0))
            ),
            f => format!(
                "{{ dist = \"{f}\", mean = {}, cv = {} }}",
                n(self.mean),
                n(self.cv.unwrap_or(1.0))
            ),
        }
    }

    /// In words: `lognormal (mean 12.3, cv 1.8)`.
    pub fn describe(&self) -> String {
        let n = |v: f64| fmt_sig(v);
        match (self.cv, self.shape) {
            (Some(cv), _) => format!("{} (mean {}, cv {})", self.family, n(self.mean), n(cv)),
            (_, Some(s)) => format!("{} (mean {}, shape {})", self.family, n(self.mean), n(s)),
            _ => format!("{} (mean {})", self.family, n(self.mean)),
        }
    }
}

/// A number with 4 significant digits, written as TOML and the scenario
/// read it (no exponent for everyday magnitudes).
pub fn fmt_sig(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let digits = (4 - 1 - v.abs().log10().floor() as i32).max(0) as usize;
    let s = format!("{v:.digits$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    if s == "0" || s == "-0" {
        format!("{v:e}")
    } else {
        s
    }
}

/// The fit with the lowest AIC among the usable ones (`fits` in order of
/// parameter count: a tie goes to the simpler family).
pub fn best(fits: &[Fitted]) -> Option<&Fitted> {
    let mut best: Option<&Fitted> = None;
    for f in fits.iter().filter(|f| f.unusable.is_none()) {
        if best.is_none_or(|b| f.aic < b.aic) {
            best = Some(f);
        }
    }
    best
}

/// ln Γ(x), x > 0 (Lanczos, g = 7, nine coefficients: ~15 digits).
pub fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
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
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = G[0];
    let t = x + 7.5;
    for (i, g) in G.iter().enumerate().skip(1) {
        a += g / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// ψ(x) and ψ′(x), x > 0: the recurrence up to 10, then the asymptotic series.
fn digamma_trigamma(mut x: f64) -> (f64, f64) {
    let (mut psi, mut tri) = (0.0, 0.0);
    while x < 10.0 {
        psi -= 1.0 / x;
        tri += 1.0 / (x * x);
        x += 1.0;
    }
    let x2 = 1.0 / (x * x);
    psi += x.ln() - 0.5 / x - x2 * (1.0 / 12.0 - x2 * (1.0 / 120.0 - x2 / 252.0));
    tri += 1.0 / x + 0.5 * x2 + x2 / x * (1.0 / 6.0 - x2 * (1.0 / 30.0 - x2 / 42.0));
    (psi, tri)
}

/// Fits of a sample of positive reals: exponential, gamma, log-normal and
/// Pareto (type I), by maximum likelihood. Empty for fewer than 2 samples
/// or no variation (the caller writes a constant).
pub fn continuous(m: &Moments) -> Vec<Fitted> {
    if m.n < 2 || m.max <= m.min {
        return Vec::new();
    }
    let n = m.n as f64;
    let mean = m.mean();
    let mean_ln = m.sum_ln / n;
    let mut out = Vec::new();
    // Exponential: rate n / Σx.
    out.push(Fitted::new(
        "exponential",
        mean,
        None,
        None,
        n * (1.0 / mean).ln() - n,
        1,
    ));
    // Gamma: the shape k solves ln k − ψ(k) = ln(mean) − mean(ln x)
    // (Newton's method from Minka's starting point), scale mean / k.
    let s = (mean.ln() - mean_ln).max(1e-12);
    let mut k = (3.0 - s + ((s - 3.0).powi(2) + 24.0 * s).sqrt()) / (12.0 * s);
    for _ in 0..50 {
        let (psi, tri) = digamma_trigamma(k);
        let f = k.ln() - psi - s;
        let step = f / (1.0 / k - tri);
        let next = (k - step).max(k / 10.0);
        if (next - k).abs() <= 1e-12 * k {
            k = next;
            break;
        }
        k = next;
    }
    let theta = mean / k;
    let ll = (k - 1.0) * m.sum_ln - m.sum / theta - n * k * theta.ln() - n * ln_gamma(k);
    out.push(Fitted::new(
        "gamma",
        mean,
        Some(1.0 / k.sqrt()),
        None,
        ll,
        2,
    ));
    // Log-normal: μ, σ² the mean and variance of ln x.
    let var_ln = (m.sum_ln2 / n - mean_ln * mean_ln).max(0.0);
    let ll = -m.sum_ln - n / 2.0 * (2.0 * std::f64::consts::PI * var_ln).ln() - n / 2.0;
    out.push(Fitted::new(
        "lognormal",
        (mean_ln + var_ln / 2.0).exp(),
        Some((var_ln.exp() - 1.0).sqrt()),
        None,
        ll,
        2,
    ));
    // Pareto I: scale the smallest sample, tail index n / Σ ln(x / min).
    let xm = m.min;
    let alpha = n / (m.sum_ln - n * xm.ln());
    let ll = n * alpha.ln() + n * alpha * xm.ln() - (alpha + 1.0) * m.sum_ln;
    out.push(Fitted::new(
        "pareto",
        if alpha > 1.0 {
            alpha * xm / (alpha - 1.0)
        } else {
            f64::INFINITY
        },
        None,
        Some(alpha),
        ll,
        2,
    ));
    out
}

/// Φ(x), the standard normal CDF (erfc by Numerical Recipes' Chebyshev
/// fit, relative error < 1.2·10⁻⁷).
fn normal_cdf(x: f64) -> f64 {
    let z = (x / std::f64::consts::SQRT_2).abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87
                                        + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    if x >= 0.0 {
        1.0 - r / 2.0
    } else {
        r / 2.0
    }
}

/// Nelder–Mead minimisation of `f` over two parameters from `x0`.
fn nelder_mead(f: impl Fn([f64; 2]) -> f64, x0: [f64; 2], step: f64) -> [f64; 2] {
    let mut s = [x0, [x0[0] + step, x0[1]], [x0[0], x0[1] + step]];
    let mut v = s.map(&f);
    for _ in 0..400 {
        let mut idx = [0usize, 1, 2];
        idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
        let (b, m, w) = (idx[0], idx[1], idx[2]);
        if (v[w] - v[b]).abs() <= 1e-10 * (1.0 + v[b].abs()) {
            break;
        }
        let c = [(s[b][0] + s[m][0]) / 2.0, (s[b][1] + s[m][1]) / 2.0];
        let at = |t: f64| [c[0] + t * (s[w][0] - c[0]), c[1] + t * (s[w][1] - c[1])];
        let r = at(-1.0);
        let fr = f(r);
        if fr < v[b] {
            let e = at(-2.0);
            let fe = f(e);
            (s[w], v[w]) = if fe < fr { (e, fe) } else { (r, fr) };
        } else if fr < v[m] {
            (s[w], v[w]) = (r, fr);
        } else {
            let k = if fr < v[w] { at(-0.5) } else { at(0.5) };
            let fk = f(k);
            if fk < v[w].min(fr) {
                (s[w], v[w]) = (k, fk);
            } else {
                for i in [m, w] {
                    s[i] = [(s[i][0] + s[b][0]) / 2.0, (s[i][1] + s[b][1]) / 2.0];
                    v[i] = f(s[i]);
                }
            }
        }
    }
    let b = (0..3).min_by(|&a, &b| v[a].total_cmp(&v[b])).unwrap_or(0);
    s[b]
}

/// The log-likelihood of counts `hist` (value → how many) under a
/// continuous law with CDF `cdf`, rounded as the simulator rounds
/// requests per session: to the nearest integer, and never below 1.
fn rounded_ll(hist: &BTreeMap<u64, u64>, cdf: impl Fn(f64) -> f64) -> f64 {
    let mut ll = 0.0;
    for (&k, &c) in hist {
        let k = k as f64;
        let p = if k <= 1.0 {
            cdf(1.5)
        } else {
            cdf(k + 0.5) - cdf(k - 0.5)
        };
        ll += c as f64 * p.max(1e-300).ln();
    }
    ll
}

/// Fits of counts 1, 2, 3, … (`hist`: value → how many): geometric, and
/// log-normal and Pareto rounded to integers as the simulator rounds
/// them. Empty for fewer than 2 samples or no variation.
pub fn counts(hist: &BTreeMap<u64, u64>) -> Vec<Fitted> {
    let n: u64 = hist.values().sum();
    if n < 2 || hist.len() < 2 {
        return Vec::new();
    }
    let nf = n as f64;
    let sum: f64 = hist.iter().map(|(&k, &c)| k as f64 * c as f64).sum();
    let mean = sum / nf;
    let mut out = Vec::new();
    // Geometric on 1, 2, …: success probability 1 / mean.
    let p = 1.0 / mean;
    let ll = (sum - nf) * (1.0 - p).ln() + nf * p.ln();
    out.push(Fitted::new("geometric", mean, None, None, ll, 1));
    // Log-normal, rounded: (μ, ln σ) by Nelder–Mead from the moments of ln k.
    let (mut l1, mut l2) = (0.0, 0.0);
    for (&k, &c) in hist {
        let l = (k as f64).ln();
        l1 += c as f64 * l;
        l2 += c as f64 * l * l;
    }
    let mu0 = l1 / nf;
    let sd0 = (l2 / nf - mu0 * mu0).max(1e-4).sqrt();
    let nll = |p: [f64; 2]| {
        let sd = p[1].exp();
        -rounded_ll(hist, |x| normal_cdf((x.ln() - p[0]) / sd))
    };
    let [mu, lsd] = nelder_mead(nll, [mu0, sd0.ln()], 0.3);
    let sd = lsd.exp();
    out.push(Fitted::new(
        "lognormal",
        (mu + sd * sd / 2.0).exp(),
        Some((sd * sd).exp_m1().sqrt()),
        None,
        -nll([mu, lsd]),
        2,
    ));
    // Pareto I, rounded: (ln scale, ln α), the scale at most 1.5 (else
    // no sample could round to 1 … the smallest count seen).
    let nll = |p: [f64; 2]| {
        let (xm, a) = (p[0].exp(), p[1].exp());
        -rounded_ll(hist, |x| if x <= xm { 0.0 } else { 1.0 - (xm / x).powf(a) })
    };
    let [lxm, la] = nelder_mead(nll, [0.0, 0.5], 0.3);
    let (xm, a) = (lxm.exp(), la.exp());
    out.push(Fitted::new(
        "pareto",
        if a > 1.0 {
            a * xm / (a - 1.0)
        } else {
            f64::INFINITY
        },
        None,
        Some(a),
        -nll([lxm, la]),
        2,
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_distr::Distribution;

    fn moments(xs: impl Iterator<Item = f64>) -> Moments {
        let mut m = Moments::default();
        for x in xs {
            m.add(x, 1);
        }
        m
    }

    #[test]
    fn special_functions_match_known_values() {
        // Γ(5) = 24, Γ(1/2) = √π.
        assert!((ln_gamma(5.0) - 24f64.ln()).abs() < 1e-12);
        assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-12);
        // ψ(1) = −γ, ψ′(1) = π²/6.
        let (psi, tri) = digamma_trigamma(1.0);
        assert!((psi + 0.577_215_664_901_532_9).abs() < 1e-10);
        assert!((tri - std::f64::consts::PI.powi(2) / 6.0).abs() < 1e-10);
        assert!((normal_cdf(1.959_964) - 0.975).abs() < 1e-6);
        assert!((normal_cdf(-1.0) - 0.158_655_25).abs() < 1e-6);
    }

    #[test]
    fn each_family_is_recovered_from_its_own_samples() {
        let mut rng = rand_pcg::Pcg64::seed_from_u64(7);
        let n = 20_000;
        let cases: Vec<(&str, Vec<f64>)> = vec![
            (
                "exponential",
                (0..n)
                    .map(|_| rand_distr::Exp::new(0.1).unwrap().sample(&mut rng))
                    .collect(),
            ),
            (
                "lognormal",
                (0..n)
                    .map(|_| {
                        rand_distr::LogNormal::new(1.0, 1.2)
                            .unwrap()
                            .sample(&mut rng)
                    })
                    .collect(),
            ),
            (
                "gamma",
                (0..n)
                    .map(|_| rand_distr::Gamma::new(3.0, 2.0).unwrap().sample(&mut rng))
                    .collect(),
            ),
            (
                "pareto",
                (0..n)
                    .map(|_| rand_distr::Pareto::new(2.0, 2.5).unwrap().sample(&mut rng))
                    .collect(),
            ),
        ];
        for (family, xs) in cases {
            let m = moments(xs.iter().copied());
            let fits = continuous(&m);
            let b = best(&fits).unwrap();
            assert_eq!(b.family, family, "{fits:#?}");
            // The fitted mean within 4 standard errors of the sample mean
            // (the Pareto's, with shape 2.5, has a heavier tail).
            let se = m.mean() * m.cv() / (n as f64).sqrt();
            assert!(
                (b.mean - m.mean()).abs() < 4.0 * se,
                "{family}: {b:?} vs {}",
                m.mean()
            );
        }
        // Parameters: the gamma's shape 3 → cv 1/√3; the log-normal's σ 1.2.
        let mut rng = rand_pcg::Pcg64::seed_from_u64(8);
        let g = moments((0..n).map(|_| rand_distr::Gamma::new(3.0, 2.0).unwrap().sample(&mut rng)));
        let fit = &continuous(&g)[1];
        assert!(
            (fit.cv.unwrap() - 1.0 / 3f64.sqrt()).abs() < 0.02,
            "{fit:?}"
        );
    }

    #[test]
    fn counts_are_fitted_as_the_simulator_rounds_them() {
        let mut rng = rand_pcg::Pcg64::seed_from_u64(9);
        let geo = crate::scenario::dist::Dist::geometric(7.0).unwrap();
        let ln = crate::scenario::dist::Dist::lognormal(6.0, 1.5).unwrap();
        for (want, d) in [("geometric", geo), ("lognormal", ln)] {
            let mut hist = BTreeMap::new();
            for _ in 0..20_000 {
                *hist.entry(u64::from(d.sample_count(&mut rng))).or_insert(0) += 1;
            }
            let fits = counts(&hist);
            let b = best(&fits).unwrap();
            assert_eq!(b.family, want, "{fits:#?}");
            assert!((b.mean - d.mean()).abs() < 0.05 * d.mean(), "{b:?}");
            if want == "lognormal" {
                assert!((b.cv.unwrap() - 1.5).abs() < 0.15, "{b:?}");
            }
        }
    }

    #[test]
    fn numbers_are_written_with_four_significant_digits() {
        assert_eq!(fmt_sig(15.034_56), "15.03");
        assert_eq!(fmt_sig(0.050_123), "0.05012");
        assert_eq!(fmt_sig(1234.6), "1235");
        assert_eq!(fmt_sig(7.0), "7");
        assert_eq!(fmt_sig(123_456.0), "123456");
    }
}
