//! What a user does after an error (`[[clients]] retry`): sends the same
//! request again after a delay, up to a limit, then abandons the session.
//! Pure decisions and the closed forms they obey; the engine schedules them.

use crate::scenario::{secs_to_ns, ClientRetry};
use crate::sim::Nanos;
use rand::Rng;

/// The user's next step after a request of theirs failed or was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterError {
    /// No retry behaviour: the session goes on with its next request.
    GoOn,
    /// The request is sent again this long after the error.
    Retry {
        /// From the error to the retry.
        delay_ns: Nanos,
    },
    /// Retries are used up: the user leaves, the session ends here.
    Abandon,
}

/// The user's step after an error, having retried this request
/// `retries_so_far` times; a retry draws its delay from `rng`.
pub fn after_error<R: Rng + ?Sized>(
    retry: Option<&ClientRetry>,
    retries_so_far: u32,
    rng: &mut R,
) -> AfterError {
    match retry {
        None => AfterError::GoOn,
        Some(r) if retries_so_far >= r.attempts => AfterError::Abandon,
        Some(r) => AfterError::Retry {
            delay_ns: secs_to_ns(r.delay.sample(rng)),
        },
    }
}

/// Requests sent per request the user means to send, when each attempt
/// fails independently with probability `p` and the user retries up to `k`
/// times: the geometric sum 1 + p + … + p^k = (1 − p^(k+1)) / (1 − p).
pub fn offered_multiplier(p: f64, k: u32) -> f64 {
    if p >= 1.0 {
        return f64::from(k + 1);
    }
    (1.0 - p.powi(k as i32 + 1)) / (1.0 - p)
}

/// The share of requests whose every attempt fails, so the user abandons:
/// p^(k+1).
pub fn abandon_share(p: f64, k: u32) -> f64 {
    p.powi(k as i32 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::dist::Dist;
    use crate::sim::{stream, Stream};

    fn cfg(attempts: u32) -> ClientRetry {
        ClientRetry {
            attempts,
            delay: Dist::constant(2.5).unwrap(),
        }
    }

    #[test]
    fn retries_until_the_limit_then_abandons() {
        let mut rng = stream(1, Stream::Session, 0);
        let c = cfg(2);
        let retry = AfterError::Retry {
            delay_ns: 2_500_000_000,
        };
        assert_eq!(after_error(Some(&c), 0, &mut rng), retry);
        assert_eq!(after_error(Some(&c), 1, &mut rng), retry);
        assert_eq!(after_error(Some(&c), 2, &mut rng), AfterError::Abandon);
        assert_eq!(after_error(Some(&cfg(0)), 0, &mut rng), AfterError::Abandon);
        assert_eq!(after_error(None, 7, &mut rng), AfterError::GoOn);
    }

    #[test]
    fn the_geometric_sum_matches_its_terms() {
        for p in [0.0f64, 0.1, 0.25, 0.5, 0.9] {
            for k in 0..6u32 {
                let sum: f64 = (0..=k).map(|i| p.powi(i as i32)).sum();
                assert!(
                    (offered_multiplier(p, k) - sum).abs() < 1e-12,
                    "p {p} k {k}"
                );
            }
        }
        assert_eq!(offered_multiplier(1.0, 3), 4.0);
        assert!((offered_multiplier(0.25, 2) - 1.3125).abs() < 1e-12);
        assert!((abandon_share(0.25, 2) - 1.0 / 64.0).abs() < 1e-15);
    }
}
