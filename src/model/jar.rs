//! Users who come back: the cookie jar a user keeps between their sessions
//! (`[[clients]] cookie_jar = "user"`).
//!
//! A session ends and its client's jar is stored under its user: the load
//! balancer's cookie if it has an expiry (`Max-Age`: a browser-session
//! cookie ends with the visit), until that expiry; the application's
//! cookie while the load balancer's table would still know it (the
//! strategy's idle timeout). The user's next session starts with what is
//! still valid. Only users holding a live cookie have an entry, and
//! expired entries are swept whenever the map has doubled since the last
//! sweep, so memory follows the users whose cookies are alive, not the
//! population (the scenario's memory check counts them at
//! [`crate::scenario::limits::BYTES_PER_JAR`] each).

use super::JarCookie;
use crate::sim::Nanos;
use std::collections::HashMap;

/// What one user's browser keeps between sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UserJar {
    /// The load balancer's cookie (always with an expiry here).
    pub lb: Option<JarCookie>,
    /// The application's cookie and when the load balancer forgets it.
    pub app: Option<(u64, Nanos)>,
}

impl UserJar {
    /// The jar as it is at `now`: expired cookies dropped.
    #[inline]
    pub fn at(self, now: Nanos) -> UserJar {
        UserJar {
            lb: self.lb.filter(|c| c.expires_ns.is_some_and(|t| t > now)),
            app: self.app.filter(|&(_, t)| t > now),
        }
    }

    /// Whether it holds nothing.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.lb.is_none() && self.app.is_none()
    }

    /// When its last cookie expires.
    fn expiry(&self) -> Nanos {
        let lb = self.lb.and_then(|c| c.expires_ns).unwrap_or(0);
        lb.max(self.app.map_or(0, |(_, t)| t))
    }
}

/// The jars of users who have one, keyed by `(segment, user)`.
#[derive(Debug, Default)]
pub struct Jars {
    map: HashMap<u64, UserJar>,
    /// Size after the last sweep (the next one runs at twice it).
    swept_at: usize,
    /// The most entries held at once.
    pub peak: usize,
}

#[inline]
fn key(segment: u16, user: u32) -> u64 {
    (u64::from(segment) << 32) | u64::from(user)
}

impl Jars {
    /// User `user` of segment `segment` starts a session at `now`: what
    /// their jar still holds.
    #[inline]
    pub fn open(&self, segment: u16, user: u32, now: Nanos) -> UserJar {
        self.map
            .get(&key(segment, user))
            .map_or_else(UserJar::default, |j| j.at(now))
    }

    /// The user's session ends at `now` leaving `jar`: it is what their
    /// browser keeps (a later session of theirs overwrites an earlier one's).
    pub fn store(&mut self, segment: u16, user: u32, now: Nanos, jar: UserJar) {
        let jar = jar.at(now);
        let k = key(segment, user);
        if jar.is_empty() {
            self.map.remove(&k);
            return;
        }
        self.map.insert(k, jar);
        if self.map.len() >= 2 * self.swept_at.max(1024) {
            self.map.retain(|_, j| j.expiry() > now);
            self.swept_at = self.map.len();
        }
        self.peak = self.peak.max(self.map.len());
    }

    /// Users holding a jar now (expired ones not yet swept included).
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether no user holds a jar.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lb(value: u64, expires: Option<Nanos>) -> Option<JarCookie> {
        Some(JarCookie {
            value,
            expires_ns: expires,
        })
    }

    #[test]
    fn a_returning_user_finds_their_cookies_until_they_expire() {
        let mut j = Jars::default();
        j.store(
            1,
            7,
            100,
            UserJar {
                lb: lb(42, Some(1_000)),
                app: Some((9, 500)),
            },
        );
        let back = j.open(1, 7, 400);
        assert_eq!(back.lb, lb(42, Some(1_000)));
        assert_eq!(back.app, Some((9, 500)));
        // The app cookie's table entry is gone, the LB cookie not yet.
        assert_eq!(j.open(1, 7, 500).app, None);
        assert_eq!(j.open(1, 7, 999).lb, lb(42, Some(1_000)));
        assert!(j.open(1, 7, 1_000).is_empty());
        // Another user, another segment: nothing.
        assert!(j.open(0, 7, 400).is_empty());
        assert!(j.open(1, 8, 400).is_empty());
    }

    #[test]
    fn session_cookies_end_with_the_visit_and_empty_jars_are_not_kept() {
        let mut j = Jars::default();
        j.store(
            0,
            1,
            10,
            UserJar {
                lb: lb(5, None),
                app: None,
            },
        );
        assert!(j.is_empty(), "a browser-session cookie is not kept");
        j.store(
            0,
            1,
            10,
            UserJar {
                lb: lb(5, Some(20)),
                app: None,
            },
        );
        assert_eq!(j.len(), 1);
        // The session ends after its cookie expired: the entry goes.
        j.store(
            0,
            1,
            30,
            UserJar {
                lb: lb(5, Some(20)),
                app: None,
            },
        );
        assert!(j.is_empty());
    }

    #[test]
    fn expired_jars_are_swept_so_memory_follows_live_cookies() {
        let mut j = Jars::default();
        // 10,000 users, each cookie living 1,000 ns from its session's end.
        for u in 0..10_000u32 {
            let now = u64::from(u) * 10;
            j.store(
                0,
                u,
                now,
                UserJar {
                    lb: lb(1, Some(now + 1_000)),
                    app: None,
                },
            );
        }
        // At most ~100 are alive at once; sweeps keep the map near that
        // (below twice the last sweep's size, and at least the sweep floor).
        assert!(j.len() < 2 * 1024, "{}", j.len());
        assert!(j.peak < 2 * 1024, "{}", j.peak);
    }
}
