//! Probability distributions written in scenarios as inline tables, e.g.
//! `{ dist = "lognormal", mean = 0.05, cv = 1.5 }`, built once on
//! `rand_distr` and sampled on the hot path without allocation.

use rand::Rng;
use rand_distr::{Distribution, Exp, Gamma, Geometric, LogNormal, Pareto, Uniform};

/// Largest mean of a geometric distribution. Its sampler needs `1 - 1/mean`
/// to differ from 1 in floating point (from ~4.5e15 on, setting it up never
/// ends); 1e9 requests or seconds is far beyond any session.
pub const MAX_GEOMETRIC_MEAN: f64 = 1e9;

/// The distribution kinds a scenario may name, with the keys each takes.
pub const KINDS: &[(&str, &str)] = &[
    ("constant", "value"),
    ("exponential", "mean"),
    ("uniform", "min, max"),
    ("lognormal", "mean, cv"),
    ("gamma", "mean, cv"),
    ("pareto", "mean, shape (shape > 1)"),
    ("geometric", "mean (>= 1; integers 1, 2, 3, ...)"),
];

/// A built distribution over non-negative reals. Serialised (for the
/// scenario hash) by its parameters; the built sampler is derived from them.
#[derive(Debug, Clone, serde::Serialize)]
pub enum Dist {
    /// Always the same value.
    Constant(f64),
    /// Exponential: memoryless, cv 1.
    Exponential {
        /// Mean of the samples.
        mean: f64,
        /// The sampler built from the parameters (not serialised).
        #[serde(skip)]
        d: Exp<f64>,
    },
    /// Uniform between `min` and `max`.
    Uniform {
        /// Smallest value (inclusive).
        min: f64,
        /// Upper bound (exclusive).
        max: f64,
        /// The sampler built from the parameters (not serialised).
        #[serde(skip)]
        d: Uniform<f64>,
    },
    /// Log-normal, parameterised by mean and cv.
    LogNormal {
        /// Mean of the samples.
        mean: f64,
        /// Coefficient of variation (standard deviation / mean).
        cv: f64,
        /// The sampler built from the parameters (not serialised).
        #[serde(skip)]
        d: LogNormal<f64>,
    },
    /// Gamma, parameterised by mean and cv (shape 1/cv²).
    Gamma {
        /// Mean of the samples.
        mean: f64,
        /// Coefficient of variation (standard deviation / mean).
        cv: f64,
        /// The sampler built from the parameters (not serialised).
        #[serde(skip)]
        d: Gamma<f64>,
    },
    /// Pareto (type I): heavy-tailed.
    Pareto {
        /// Mean of the samples.
        mean: f64,
        /// Tail index α (> 1, so the mean is finite).
        shape: f64,
        /// The sampler built from the parameters (not serialised).
        #[serde(skip)]
        d: Pareto<f64>,
    },
    /// Geometric on 1, 2, 3, … (counts, e.g. requests per session).
    Geometric {
        /// Mean of the samples.
        mean: f64,
        /// The sampler built from the parameters (not serialised).
        #[serde(skip)]
        d: Geometric,
    },
}

/// Why a distribution's parameters were refused.
#[derive(Debug, Clone, PartialEq)]
pub struct DistError(pub String);

fn positive(name: &str, v: f64) -> Result<f64, DistError> {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(DistError(format!(
            "`{name}` must be a finite number > 0, found {v}"
        )))
    }
}

fn non_negative(name: &str, v: f64) -> Result<f64, DistError> {
    if v.is_finite() && v >= 0.0 {
        Ok(v)
    } else {
        Err(DistError(format!(
            "`{name}` must be a finite number >= 0, found {v}"
        )))
    }
}

impl Dist {
    /// Always `value` (>= 0).
    pub fn constant(value: f64) -> Result<Self, DistError> {
        Ok(Dist::Constant(non_negative("value", value)?))
    }

    /// Exponential with the given mean (> 0): memoryless, cv 1.
    pub fn exponential(mean: f64) -> Result<Self, DistError> {
        let mean = positive("mean", mean)?;
        let d = Exp::new(1.0 / mean).map_err(|e| DistError(e.to_string()))?;
        Ok(Dist::Exponential { mean, d })
    }

    /// Uniform on `[min, max)`, 0 <= `min` < `max`.
    pub fn uniform(min: f64, max: f64) -> Result<Self, DistError> {
        let min = non_negative("min", min)?;
        let max = non_negative("max", max)?;
        if max <= min {
            return Err(DistError(format!(
                "`max` must be greater than `min`, found min = {min}, max = {max}"
            )));
        }
        Ok(Dist::Uniform {
            min,
            max,
            d: Uniform::new(min, max),
        })
    }

    /// Log-normal with the given mean and coefficient of variation.
    pub fn lognormal(mean: f64, cv: f64) -> Result<Self, DistError> {
        let mean = positive("mean", mean)?;
        let cv = positive("cv", cv)?;
        let sigma2 = (1.0 + cv * cv).ln();
        let mu = mean.ln() - sigma2 / 2.0;
        let d = LogNormal::new(mu, sigma2.sqrt()).map_err(|e| DistError(e.to_string()))?;
        Ok(Dist::LogNormal { mean, cv, d })
    }

    /// Gamma with the given mean and coefficient of variation (shape 1/cv²).
    pub fn gamma(mean: f64, cv: f64) -> Result<Self, DistError> {
        let mean = positive("mean", mean)?;
        let cv = positive("cv", cv)?;
        let shape = 1.0 / (cv * cv);
        let scale = mean / shape;
        // A tiny cv makes the shape 1/cv² overflow and the scale 0: name
        // the key, not rand_distr's "scale is not positive".
        if !(shape.is_finite() && scale.is_finite() && scale > 0.0 && shape > 0.0) {
            return Err(DistError(format!(
                "`cv` = {} is out of range for a gamma with mean {}: its shape 1/cv² \
                 and scale mean·cv² must be finite and > 0 (use `constant` for no variation)",
                crate::text::number(cv),
                crate::text::number(mean)
            )));
        }
        let d = Gamma::new(shape, scale).map_err(|e| DistError(e.to_string()))?;
        Ok(Dist::Gamma { mean, cv, d })
    }

    /// Pareto (type I) with the given mean and tail index `shape` > 1.
    pub fn pareto(mean: f64, shape: f64) -> Result<Self, DistError> {
        let mean = positive("mean", mean)?;
        if !(shape.is_finite() && shape > 1.0) {
            return Err(DistError(format!(
                "`shape` must be > 1 (the mean is infinite otherwise), found {shape}"
            )));
        }
        let scale = mean * (shape - 1.0) / shape;
        let d = Pareto::new(scale, shape).map_err(|e| DistError(e.to_string()))?;
        Ok(Dist::Pareto { mean, shape, d })
    }

    /// Geometric on 1, 2, 3, … with the given mean (1 to
    /// [`MAX_GEOMETRIC_MEAN`]).
    pub fn geometric(mean: f64) -> Result<Self, DistError> {
        if !(mean.is_finite() && (1.0..=MAX_GEOMETRIC_MEAN).contains(&mean)) {
            return Err(DistError(format!(
                "`mean` must be a number from 1 to {MAX_GEOMETRIC_MEAN:e}, found {mean}"
            )));
        }
        let d = Geometric::new(1.0 / mean).map_err(|e| DistError(e.to_string()))?;
        Ok(Dist::Geometric { mean, d })
    }

    /// The distribution's mean.
    pub fn mean(&self) -> f64 {
        match *self {
            Dist::Constant(v) => v,
            Dist::Exponential { mean, .. }
            | Dist::LogNormal { mean, .. }
            | Dist::Gamma { mean, .. }
            | Dist::Pareto { mean, .. }
            | Dist::Geometric { mean, .. } => mean,
            Dist::Uniform { min, max, .. } => (min + max) / 2.0,
        }
    }

    /// Squared coefficient of variation (variance / mean²); infinite for a
    /// Pareto with shape <= 2.
    pub fn scv(&self) -> f64 {
        match *self {
            Dist::Constant(_) => 0.0,
            Dist::Exponential { .. } => 1.0,
            Dist::Uniform { min, max, .. } => {
                let m = (min + max) / 2.0;
                (max - min).powi(2) / 12.0 / (m * m)
            }
            Dist::LogNormal { cv, .. } | Dist::Gamma { cv, .. } => cv * cv,
            Dist::Pareto { shape, .. } => {
                if shape <= 2.0 {
                    f64::INFINITY
                } else {
                    1.0 / (shape * (shape - 2.0))
                }
            }
            Dist::Geometric { mean, .. } => (mean - 1.0) / mean,
        }
    }

    /// One sample (>= 0).
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self {
            Dist::Constant(v) => *v,
            Dist::Exponential { d, .. } => d.sample(rng),
            Dist::Uniform { d, .. } => d.sample(rng),
            Dist::LogNormal { d, .. } => d.sample(rng),
            Dist::Gamma { d, .. } => d.sample(rng),
            Dist::Pareto { d, .. } => d.sample(rng),
            Dist::Geometric { d, .. } => (d.sample(rng) + 1) as f64,
        }
    }

    /// One sample rounded to a count >= 1 (requests per session).
    #[inline]
    pub fn sample_count<R: Rng + ?Sized>(&self, rng: &mut R) -> u32 {
        let x = self.sample(rng).round();
        if x < 1.0 {
            1
        } else if x > u32::MAX as f64 {
            u32::MAX
        } else {
            x as u32
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_pcg::Pcg64Mcg;

    fn sample_mean(d: &Dist, n: usize) -> f64 {
        let mut rng = Pcg64Mcg::seed_from_u64(7);
        (0..n).map(|_| d.sample(&mut rng)).sum::<f64>() / n as f64
    }

    #[test]
    fn sample_means_match_configured_means() {
        let cases = [
            Dist::exponential(2.0).unwrap(),
            Dist::uniform(1.0, 3.0).unwrap(),
            Dist::lognormal(0.05, 1.5).unwrap(),
            Dist::gamma(4.0, 0.5).unwrap(),
            Dist::pareto(1.0, 3.0).unwrap(),
            Dist::geometric(8.0).unwrap(),
        ];
        for d in &cases {
            let m = sample_mean(d, 400_000);
            let rel = (m - d.mean()).abs() / d.mean();
            assert!(rel < 0.02, "{d:?}: sample mean {m} vs {}", d.mean());
        }
    }

    #[test]
    fn lognormal_cv_matches() {
        let d = Dist::lognormal(1.0, 0.8).unwrap();
        let mut rng = Pcg64Mcg::seed_from_u64(3);
        let xs: Vec<f64> = (0..400_000).map(|_| d.sample(&mut rng)).collect();
        let m = xs.iter().sum::<f64>() / xs.len() as f64;
        let v = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / xs.len() as f64;
        let cv = v.sqrt() / m;
        assert!((cv - 0.8).abs() < 0.03, "cv {cv}");
    }

    #[test]
    fn bad_parameters_are_refused() {
        assert!(Dist::exponential(0.0).is_err());
        assert!(Dist::uniform(3.0, 1.0).is_err());
        assert!(Dist::pareto(1.0, 1.0).is_err());
        assert!(Dist::geometric(0.5).is_err());
        assert!(Dist::lognormal(-1.0, 1.0).is_err());
        assert!(Dist::constant(f64::NAN).is_err());
    }
}
