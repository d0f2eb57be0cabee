//! What a crashed instance does to the load balancer's connections, by
//! [`CrashMode`]: when an attempt sent to it fails, and when the requests
//! it held at the crash fail. The engine holds a delayed attempt (and
//! counts it outstanding on the backend, as nginx's `conns` and HAProxy's
//! `served` count a connection in progress) until that time.

use crate::scenario::CrashMode;
use crate::sim::Nanos;

/// What the load balancer saw of one attempt on a backend, as its passive
/// health checks classify it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Answered.
    Answered,
    /// The connect failed: refused at once (`reset`), or timed out
    /// (`blackhole`); or the connection was reset in flight at a crash.
    ConnectFailed,
    /// Connected, but no answer came within the read timeout (`hang`, or a
    /// request in flight when the host vanished).
    TimedOut,
}

/// An attempt sent at `now` to an instance crashed in `mode`: `None` if it
/// fails at once (`reset`: the connect is refused), else when it fails and
/// what the load balancer saw — the connect timeout (`blackhole`) or the
/// read timeout after a connect that succeeded (`hang`).
#[inline]
pub fn attempt_fails_at(
    mode: CrashMode,
    now: Nanos,
    connect_timeout_ns: Nanos,
    read_timeout_ns: Nanos,
) -> Option<(Nanos, Outcome)> {
    match mode {
        CrashMode::Reset => None,
        CrashMode::Blackhole => Some((
            now.saturating_add(connect_timeout_ns),
            Outcome::ConnectFailed,
        )),
        CrashMode::Hang => Some((now.saturating_add(read_timeout_ns), Outcome::TimedOut)),
    }
}

/// A request the instance held (queued or in service) when it crashed at
/// `now` in `mode`, sent to it at `sent_ns`: `None` if it fails at the crash
/// (`reset`: the connection is reset), else when it fails — the read timeout
/// counts from when the request was sent, as no byte of an answer came
/// since, and is never before the crash (the request was still waiting).
#[inline]
pub fn held_fails_at(
    mode: CrashMode,
    now: Nanos,
    sent_ns: Nanos,
    read_timeout_ns: Nanos,
) -> Option<Nanos> {
    match mode {
        CrashMode::Reset => None,
        CrashMode::Blackhole | CrashMode::Hang => {
            Some(sent_ns.saturating_add(read_timeout_ns).max(now))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_mode_fails_an_attempt_after_its_own_timeout() {
        let (c, r) = (5, 60);
        assert_eq!(attempt_fails_at(CrashMode::Reset, 100, c, r), None);
        assert_eq!(
            attempt_fails_at(CrashMode::Blackhole, 100, c, r),
            Some((105, Outcome::ConnectFailed))
        );
        assert_eq!(
            attempt_fails_at(CrashMode::Hang, 100, c, r),
            Some((160, Outcome::TimedOut))
        );
    }

    #[test]
    fn held_requests_time_out_from_when_they_were_sent_never_before_the_crash() {
        assert_eq!(held_fails_at(CrashMode::Reset, 100, 90, 60), None);
        assert_eq!(held_fails_at(CrashMode::Hang, 100, 90, 60), Some(150));
        assert_eq!(held_fails_at(CrashMode::Blackhole, 100, 10, 60), Some(100));
    }
}
