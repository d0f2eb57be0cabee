//! The load balancer's retry decision (`[[strategies]] retry`): after an
//! attempt failed, whether to try again, where (the same backend or
//! another), or to give up — because the condition is not retried, the
//! tries are spent, or the retry budget is. Pure; the engine schedules it.

use crate::scenario::{LbRetry, RetryBudget};

/// Why an attempt failed, as the load balancer's retry conditions name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptFailure {
    /// The backend was dead: connection refused or timed out (nginx
    /// `error timeout`, Envoy `connect-failure`, HAProxy `conn-failure`).
    Error,
    /// The backend was full and answered 503 (nginx `http_503`, Envoy `5xx`).
    Overloaded,
    /// No answer within the per-try timeout (nginx `timeout`, Envoy `5xx`).
    Timeout,
}

/// What the load balancer does with a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LbNext {
    /// Try again: on the backend that failed (`same_backend`) or elsewhere.
    Retry {
        /// Back to the same backend (HAProxy before its redispatch).
        same_backend: bool,
    },
    /// No retry: the condition is not retried or the tries are spent.
    GiveUp,
    /// A retry was due but the budget was spent (Envoy's retry overflow).
    OverBudget,
}

/// Retries the budget allows under way at once with `active` requests.
pub fn allowed(b: &RetryBudget, active: u64) -> u64 {
    let share = (b.percent / 100.0 * active as f64).floor() as u64;
    share.max(u64::from(b.min_concurrency))
}

/// The decision after attempt number `tried + 1` of a request failed with
/// `cause`, `others` backends besides the failed one being up, while
/// `retries_active` retries are under way among `active` requests.
pub fn decide(
    r: &LbRetry,
    cause: AttemptFailure,
    tried: u32,
    others: usize,
    retries_active: u64,
    active: u64,
) -> LbNext {
    let wanted = match cause {
        AttemptFailure::Error => r.on_error,
        AttemptFailure::Overloaded => r.on_overloaded,
        AttemptFailure::Timeout => r.on_timeout,
    };
    let limit = r
        .attempts
        .unwrap_or(u32::try_from(others).unwrap_or(u32::MAX));
    if !wanted || tried >= limit {
        return LbNext::GiveUp;
    }
    if let Some(b) = &r.budget {
        if retries_active >= allowed(b, active) {
            return LbNext::OverBudget;
        }
    }
    LbNext::Retry {
        same_backend: r.same_backend && tried + 1 < limit,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::RetryPolicy;
    use AttemptFailure::{Error, Overloaded};

    const ELSEWHERE: LbNext = LbNext::Retry {
        same_backend: false,
    };
    const SAME: LbNext = LbNext::Retry { same_backend: true };

    #[test]
    fn once_retries_an_error_once_elsewhere() {
        let r = LbRetry::preset(RetryPolicy::Once);
        assert_eq!(decide(&r, Error, 0, 3, 0, 10), ELSEWHERE);
        assert_eq!(decide(&r, Error, 1, 3, 0, 10), LbNext::GiveUp);
        assert_eq!(decide(&r, Overloaded, 0, 3, 0, 10), LbNext::GiveUp);
    }

    #[test]
    fn nginx_tries_every_other_backend() {
        let r = LbRetry::preset(RetryPolicy::Nginx);
        for tried in 0..4 {
            assert_eq!(decide(&r, Error, tried, 4, 100, 100), ELSEWHERE);
        }
        assert_eq!(decide(&r, Error, 4, 4, 0, 0), LbNext::GiveUp);
        assert_eq!(decide(&r, Error, 0, 0, 0, 0), LbNext::GiveUp);
    }

    #[test]
    fn haproxy_goes_back_to_the_same_server_then_redispatches() {
        let r = LbRetry::preset(RetryPolicy::Haproxy);
        assert_eq!(decide(&r, Error, 0, 3, 0, 0), SAME);
        assert_eq!(decide(&r, Error, 1, 3, 0, 0), SAME);
        assert_eq!(decide(&r, Error, 2, 3, 0, 0), ELSEWHERE);
        assert_eq!(decide(&r, Error, 3, 3, 0, 0), LbNext::GiveUp);
    }

    #[test]
    fn envoy_caps_the_retries_under_way() {
        let mut r = LbRetry::preset(RetryPolicy::Envoy);
        // The max_retries circuit breaker: 3 at once.
        assert_eq!(decide(&r, Overloaded, 0, 3, 2, 1000), ELSEWHERE);
        assert_eq!(decide(&r, Overloaded, 0, 3, 3, 1000), LbNext::OverBudget);
        r.budget = Some(RetryBudget {
            percent: 20.0,
            min_concurrency: 3,
        });
        // 20 % of 100 active requests: 20 retries at once.
        assert_eq!(allowed(r.budget.as_ref().unwrap(), 100), 20);
        assert_eq!(allowed(r.budget.as_ref().unwrap(), 4), 3);
        assert_eq!(decide(&r, Error, 0, 3, 19, 100), ELSEWHERE);
        assert_eq!(decide(&r, Error, 0, 3, 20, 100), LbNext::OverBudget);
        // Not retried at all beats over budget.
        assert_eq!(decide(&r, Error, 1, 3, 20, 100), LbNext::GiveUp);
    }
}
