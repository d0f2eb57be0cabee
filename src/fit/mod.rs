//! `stickysim fit`: what an access log says about stickiness — sessions
//! and their rate by hour, requests per session and think times with the
//! family that fits them best, address concentration (the NAT estimate),
//! user agents per address, returning users and address changes — and a
//! synthetic scenario written from it ([`scenario`]).
//!
//! The log is read once, as `workload.replay` reads it (the same parsers,
//! reorder window, `exclude`, `from`/`to` and session identity: a session
//! field, else client address + user agent, ended by an idle gap). Memory
//! follows the sessions active at once, the lines inside the reorder
//! window, and one small counter per client address (its requests,
//! sessions and up to [`USERS_TRACKED`] distinct users) and per session
//! identity (up to [`MAX_IDENTITIES`]); samples are kept as sufficient
//! statistics and histograms, never as lists.

pub mod families;
pub mod scenario;

use crate::replay::{
    identity, Exclude, Item, LineReader, LogReader, Parser, FIRST_BAD, MAX_WINDOW_LINES,
};
use crate::scenario::replay::Replay;
use families::{Fitted, Moments};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::net::IpAddr;

/// An address with at least this many users counts as a NAT (or proxy)
/// address in the NAT estimate.
pub const NAT_USERS: u64 = 10;
/// Distinct users counted per address; past it the address has "at least"
/// this many.
pub const USERS_TRACKED: usize = 1024;
/// Session identities remembered to tell returning users; past it a new
/// identity is not remembered, and returns are a lower bound.
pub const MAX_IDENTITIES: usize = 1 << 22;
/// Addresses listed in the top-k table, at most.
pub const MAX_TOP: usize = 1000;
/// A zero service time counts as this many seconds in the log-based fits
/// (half a millisecond: logs write service times in ms or finer).
pub const ZERO_SERVICE_S: f64 = 0.0005;

/// A line between parsing and release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Held {
    time: i64,
    line: u64,
    identity: u64,
    user: u64,
    addr: IpAddr,
    service: u64,
}

#[derive(Debug, Clone, Copy)]
struct Active {
    last: i64,
    requests: u64,
    addr: IpAddr,
    changed: bool,
}

#[derive(Debug, Clone, Default)]
struct AddrStat {
    requests: u64,
    sessions: u64,
    /// Distinct users (user-agent hashes), sorted, at most [`USERS_TRACKED`].
    users: Vec<u64>,
    /// More users than tracked.
    more: bool,
}

/// A histogram of positive values in logarithmic bins (50 a decade, from
/// 1 µs), for quantiles in bounded memory.
#[derive(Debug, Clone, Default)]
pub struct LogHist {
    bins: Vec<u64>,
    n: u64,
}

impl LogHist {
    const PER_DECADE: f64 = 50.0;
    const FLOOR: f64 = 1e-6;
    const MAX_BINS: usize = 14 * 50;

    /// Adds `count` values `x`.
    pub fn add(&mut self, x: f64, count: u64) {
        let b = if x <= Self::FLOOR {
            0
        } else {
            ((x / Self::FLOOR).log10() * Self::PER_DECADE) as usize + 1
        }
        .min(Self::MAX_BINS);
        if self.bins.len() <= b {
            self.bins.resize(b + 1, 0);
        }
        self.bins[b] += count;
        self.n += count;
    }

    /// The `q` quantile (0..=1), to the bin's geometric middle (±2.3 %).
    pub fn quantile(&self, q: f64) -> f64 {
        let rank = ((q * self.n as f64).ceil() as u64).clamp(1, self.n.max(1));
        let mut seen = 0;
        for (b, &c) in self.bins.iter().enumerate() {
            seen += c;
            if seen >= rank {
                if b == 0 {
                    return Self::FLOOR;
                }
                return Self::FLOOR * 10f64.powf((b as f64 - 0.5) / Self::PER_DECADE);
            }
        }
        0.0
    }
}

/// One sample of times (think or service times): its statistics, quantiles
/// and fits.
#[derive(Debug, Clone, Default)]
pub struct Sample {
    /// Positive values' sufficient statistics (zeros added at the end).
    pub moments: Moments,
    /// Values that were 0 (below the log's time resolution).
    pub zeros: u64,
    /// Quantiles.
    pub hist: LogHist,
}

impl Sample {
    fn add(&mut self, x: f64) {
        if x > 0.0 {
            self.moments.add(x, 1);
            self.hist.add(x, 1);
        } else {
            self.zeros += 1;
            self.hist.add(0.0, 1);
        }
    }

    /// Samples.
    pub fn n(&self) -> u64 {
        self.moments.n + self.zeros
    }

    /// The statistics with each zero counted as `zero`.
    pub fn with_zeros(&self, zero: f64) -> Moments {
        let mut m = self.moments;
        m.add(zero, self.zeros);
        m
    }
}

/// What reading the log found.
#[derive(Debug, Clone, Default)]
pub struct Counts {
    /// Non-blank lines read.
    pub lines: u64,
    /// Lines that parsed.
    pub valid: u64,
    /// Lines that did not parse.
    pub skipped: u64,
    /// The first few bad lines: line number and what did not parse.
    pub first_bad: Vec<(u64, String)>,
    /// Lines put back in time order.
    pub reordered: u64,
    /// Lines further out of order than the window, skipped.
    pub late: u64,
    /// Lines left out by `exclude`.
    pub excluded: u64,
    /// Lines before `from` or at or after `to`.
    pub outside: u64,
    /// Requests counted.
    pub requests: u64,
    /// Why reading stopped early (an I/O error).
    pub error: Option<String>,
}

/// Reads a log and gathers what [`Fit`] reports.
pub struct Fitter {
    reader: LogReader,
    exclude: Exclude,
    idle: i64,
    window: i64,
    from: Option<i64>,
    to: Option<i64>,
    held: BinaryHeap<Reverse<Held>>,
    max_seen: Option<i64>,
    last_out: Option<i64>,
    sessions: HashMap<u64, Active>,
    expiries: BinaryHeap<Reverse<(i64, u64)>>,
    identities: HashMap<u64, u32>,
    identities_full: bool,
    addrs: HashMap<IpAddr, AddrStat>,
    res_ns: i64,
    f: Fit,
}

/// Per hour of the log (from its first request).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Hour {
    /// Requests in the hour.
    pub requests: u64,
    /// Sessions started in the hour.
    pub sessions: u64,
}

/// One address of the top-k table.
#[derive(Debug, Clone, PartialEq)]
pub struct TopAddr {
    /// The address.
    pub addr: IpAddr,
    /// Its requests.
    pub requests: u64,
    /// Its sessions.
    pub sessions: u64,
    /// Its distinct users (address + user agent).
    pub users: u64,
    /// More users than counted ([`USERS_TRACKED`]).
    pub more: bool,
}

/// Addresses grouped by how many users they have.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Band {
    /// Addresses.
    pub addresses: u64,
    /// Their users.
    pub users: u64,
    /// Their sessions.
    pub sessions: u64,
    /// Their requests.
    pub requests: u64,
}

impl Band {
    fn add(&mut self, a: &TopAddr) {
        self.addresses += 1;
        self.users += a.users;
        self.sessions += a.sessions;
        self.requests += a.requests;
    }
}

/// The user bands: 1, 2–9, 10–99, ≥ 100 users an address.
pub const BANDS: [(u64, u64); 4] = [(1, 1), (2, 9), (10, 99), (100, u64::MAX)];

/// What a log says about stickiness.
#[derive(Debug, Clone, Default)]
pub struct Fit {
    /// Reading.
    pub counts: Counts,
    /// The first and last request's time, ns since the epoch.
    pub first_ns: Option<i64>,
    /// See `first_ns`.
    pub last_ns: Option<i64>,
    /// The log's time resolution, ns (1 s for Common Log Format stamps).
    pub resolution_ns: i64,
    /// By hour from the first request.
    pub hours: Vec<Hour>,
    /// Sessions.
    pub sessions: u64,
    /// Requests per session: value → sessions.
    pub requests_per_session: BTreeMap<u64, u64>,
    /// Gaps between a session's consecutive requests, s.
    pub think: Sample,
    /// Service times from the log, s.
    pub service: Sample,
    /// Distinct session identities.
    pub identities: u64,
    /// Identities with more than one session.
    pub returning_identities: u64,
    /// Sessions of an identity seen before (after its idle gap).
    pub returning_sessions: u64,
    /// Identities not remembered past [`MAX_IDENTITIES`] (returns are then a lower bound).
    pub identities_full: bool,
    /// Address changes within sessions.
    pub address_changes: u64,
    /// Sessions with at least one address change.
    pub sessions_changed: u64,
    /// Distinct client addresses.
    pub addresses: u64,
    /// Distinct users (address + user agent).
    pub users: u64,
    /// The addresses with the most requests.
    pub top: Vec<TopAddr>,
    /// Addresses by users, [`BANDS`].
    pub bands: [Band; 4],
    /// Addresses with ≥ [`NAT_USERS`] users: the NAT estimate.
    pub nat: Band,
    /// Sessions were identified by a log field.
    pub by_field: bool,
}

fn hash(s: &str) -> u64 {
    xxhash_rust::xxh64::xxh64(s.as_bytes(), 0x75a)
}

impl Fitter {
    /// A fitter reading `lines` with the format, identity, window, exclude
    /// and time range of `spec` (`speed`, `scale` and `strict` are not
    /// used); `top` addresses listed.
    pub fn new(spec: &Replay, lines: LineReader) -> Result<Self, String> {
        let parser = Parser::new(spec.format, spec.fields.clone(), spec.session_field.clone());
        Ok(Fitter {
            reader: LogReader::new(lines, parser),
            exclude: Exclude::new(spec)?,
            idle: spec.idle_ns.min(i64::MAX as u64) as i64,
            window: spec.reorder_window_ns.min(i64::MAX as u64) as i64,
            from: spec.from_ns,
            to: spec.to_ns,
            held: BinaryHeap::new(),
            max_seen: None,
            last_out: None,
            sessions: HashMap::new(),
            expiries: BinaryHeap::new(),
            identities: HashMap::new(),
            identities_full: false,
            addrs: HashMap::new(),
            res_ns: 1_000_000_000,
            f: Fit {
                by_field: spec.session_field.is_some(),
                ..Fit::default()
            },
        })
    }

    /// Reads the whole log; `top` addresses are listed.
    pub fn run(mut self, top: usize) -> Fit {
        loop {
            let item = match self.reader.next_record() {
                Ok(Some(Item::Record(r))) => Ok((
                    r.time_ns,
                    identity(&r),
                    hash(&r.user_agent),
                    r.client,
                    r.service_s,
                    self.exclude.excludes(&r),
                )),
                Ok(Some(Item::Bad(b))) => Err(b),
                Ok(None) => break,
                Err(e) => {
                    self.f.counts.error =
                        Some(format!("reading line {}: {e}", self.reader.line_no() + 1));
                    break;
                }
            };
            let line = self.reader.line_no();
            let c = &mut self.f.counts;
            c.lines += 1;
            let (t, identity, user, addr, service, excluded) = match item {
                Err(b) => {
                    c.skipped += 1;
                    if c.first_bad.len() < FIRST_BAD {
                        c.first_bad.push((line, b.to_string()));
                    }
                    continue;
                }
                Ok(x) => x,
            };
            c.valid += 1;
            if excluded {
                c.excluded += 1;
                continue;
            }
            if self.from.is_some_and(|f| t < f) || self.to.is_some_and(|to| t >= to) {
                c.outside += 1;
                continue;
            }
            if self.last_out.is_some_and(|l| t < l) {
                c.late += 1;
                continue;
            }
            if self.max_seen.is_some_and(|m| t < m) {
                c.reordered += 1;
            }
            self.max_seen = Some(self.max_seen.map_or(t, |m| m.max(t)));
            self.held.push(Reverse(Held {
                time: t,
                line,
                identity,
                user,
                addr,
                service: service.map_or(u64::MAX, f64::to_bits),
            }));
            let horizon = self.max_seen.unwrap_or(t).saturating_sub(self.window);
            while let Some(Reverse(h)) = self.held.peek().copied() {
                if h.time > horizon && self.held.len() <= MAX_WINDOW_LINES {
                    break;
                }
                self.held.pop();
                self.release(h);
            }
        }
        while let Some(Reverse(h)) = self.held.pop() {
            self.release(h);
        }
        self.expire(i64::MAX);
        self.finish(top)
    }

    /// Ends the sessions idle for the gap by log time `now`.
    fn expire(&mut self, now: i64) {
        while let Some(&Reverse((due, id))) = self.expiries.peek() {
            if due > now {
                break;
            }
            self.expiries.pop();
            let Some(a) = self.sessions.get(&id).copied() else {
                continue;
            };
            let due = a.last.saturating_add(self.idle);
            if due > now {
                self.expiries.push(Reverse((due, id)));
                continue;
            }
            self.sessions.remove(&id);
            *self.f.requests_per_session.entry(a.requests).or_insert(0) += 1;
            self.f.sessions_changed += u64::from(a.changed);
        }
    }

    fn release(&mut self, h: Held) {
        if self.last_out.is_some_and(|l| h.time < l) {
            self.f.counts.late += 1;
            return;
        }
        self.last_out = Some(h.time);
        self.expire(h.time);
        let f = &mut self.f;
        f.counts.requests += 1;
        let t0 = *f.first_ns.get_or_insert(h.time);
        f.last_ns = Some(h.time);
        while self.res_ns > 1 && h.time % self.res_ns != 0 {
            self.res_ns /= 1000;
        }
        let hour = ((h.time - t0) / 3_600_000_000_000) as usize;
        if f.hours.len() <= hour {
            f.hours.resize(hour + 1, Hour::default());
        }
        f.hours[hour].requests += 1;
        if h.service != u64::MAX {
            f.service.add(f64::from_bits(h.service));
        }
        let a = self.addrs.entry(h.addr).or_default();
        a.requests += 1;
        if let Err(i) = a.users.binary_search(&h.user) {
            if a.users.len() < USERS_TRACKED {
                a.users.insert(i, h.user);
            } else {
                a.more = true;
            }
        }
        match self.sessions.get_mut(&h.identity) {
            Some(s) => {
                f.think.add((h.time - s.last) as f64 / 1e9);
                if s.addr != h.addr {
                    s.addr = h.addr;
                    s.changed = true;
                    f.address_changes += 1;
                }
                s.last = h.time;
                s.requests += 1;
            }
            None => {
                f.sessions += 1;
                f.hours[hour].sessions += 1;
                a.sessions += 1;
                let room = self.identities.len() < MAX_IDENTITIES;
                match self.identities.get_mut(&h.identity) {
                    Some(n) => {
                        f.returning_sessions += 1;
                        if *n == 1 {
                            f.returning_identities += 1;
                        }
                        *n = n.saturating_add(1);
                    }
                    None if room => {
                        self.identities.insert(h.identity, 1);
                    }
                    None => self.identities_full = true,
                }
                self.sessions.insert(
                    h.identity,
                    Active {
                        last: h.time,
                        requests: 1,
                        addr: h.addr,
                        changed: false,
                    },
                );
                self.expiries
                    .push(Reverse((h.time.saturating_add(self.idle), h.identity)));
            }
        }
    }

    fn finish(mut self, top: usize) -> Fit {
        let f = &mut self.f;
        f.resolution_ns = self.res_ns;
        f.identities = self.identities.len() as u64;
        f.identities_full = self.identities_full;
        f.addresses = self.addrs.len() as u64;
        let mut all: Vec<TopAddr> = self
            .addrs
            .iter()
            .map(|(&addr, a)| TopAddr {
                addr,
                requests: a.requests,
                sessions: a.sessions,
                users: a.users.len() as u64,
                more: a.more,
            })
            .collect();
        // Most requests first; the address breaks ties (no hash order).
        all.sort_by(|a, b| b.requests.cmp(&a.requests).then(a.addr.cmp(&b.addr)));
        for a in &all {
            f.users += a.users;
            let band = BANDS
                .iter()
                .position(|&(lo, hi)| (lo..=hi).contains(&a.users))
                .unwrap_or(0);
            f.bands[band].add(a);
            if a.users >= NAT_USERS {
                f.nat.add(a);
            }
        }
        all.truncate(top.min(MAX_TOP));
        f.top = all;
        self.f
    }
}

impl Fit {
    /// Seconds from the first request to the last.
    pub fn span_s(&self) -> f64 {
        match (self.first_ns, self.last_ns) {
            (Some(a), Some(b)) => (b - a) as f64 / 1e9,
            _ => 0.0,
        }
    }

    /// What a gap of 0 counts as in the think-time fits: half the log's
    /// time resolution, s.
    pub fn zero_gap_s(&self) -> f64 {
        self.resolution_ns.max(1) as f64 / 2e9
    }

    /// The think-time fits (see [`families::continuous`]).
    pub fn think_fits(&self) -> Vec<Fitted> {
        families::continuous(&self.think.with_zeros(self.zero_gap_s()))
    }

    /// The service-time fits.
    pub fn service_fits(&self) -> Vec<Fitted> {
        families::continuous(&self.service.with_zeros(ZERO_SERVICE_S))
    }

    /// The requests-per-session fits (see [`families::counts`]).
    pub fn requests_fits(&self) -> Vec<Fitted> {
        families::counts(&self.requests_per_session)
    }

    /// Mean requests per session.
    pub fn requests_mean(&self) -> f64 {
        self.counts.requests as f64 / self.sessions.max(1) as f64
    }

    /// The `q` quantile of requests per session.
    pub fn requests_quantile(&self, q: f64) -> u64 {
        let rank = ((q * self.sessions as f64).ceil() as u64).clamp(1, self.sessions.max(1));
        let mut seen = 0;
        for (&k, &c) in &self.requests_per_session {
            seen += c;
            if seen >= rank {
                return k;
            }
        }
        0
    }

    /// Each hour's length covered by the log, s (the last one is partial).
    pub fn hour_len_s(&self, i: usize) -> f64 {
        let span = self.span_s();
        (span - i as f64 * 3600.0).clamp(0.0, 3600.0)
    }
}

/// The population of users that, drawing each of `sessions` sessions
/// from it uniformly at random (as the simulator does), shows `seen`
/// distinct users on average: solves U·(1 − e^(−S/U)) = seen, capped at
/// 100 × `sessions` when (almost) every session had a user of its own.
pub fn population(seen: u64, sessions: u64) -> u64 {
    let (s, seen_f) = (sessions as f64, seen as f64);
    if seen == 0 || sessions == 0 {
        return seen.max(1);
    }
    let cap = 100.0 * s;
    let shown = |u: f64| u * -(-s / u).exp_m1();
    if seen_f >= s || shown(cap) <= seen_f {
        return cap.round() as u64;
    }
    let (mut lo, mut hi) = (seen_f, cap);
    for _ in 0..200 {
        let mid = (lo + hi) / 2.0;
        if shown(mid) < seen_f {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    hi.round().max(seen_f) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_population_behind_the_users_seen() {
        // 1000 users, 2000 sessions: 1000 · (1 − e⁻²) ≈ 865 seen.
        assert!(population(865, 2000).abs_diff(1000) <= 1);
        assert_eq!(population(2000, 2000), 200_000);
        assert_eq!(population(0, 10), 1);
    }

    #[test]
    fn log_histogram_quantiles_are_within_a_bin() {
        let mut h = LogHist::default();
        for i in 1..=1000 {
            h.add(i as f64 / 100.0, 1);
        }
        let q = h.quantile(0.5);
        assert!((q / 5.0 - 1.0).abs() < 0.025, "{q}");
        assert!((h.quantile(1.0) / 10.0 - 1.0).abs() < 0.025);
    }
}
