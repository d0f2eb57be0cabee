//! The arrivals of a replayed run: a log read as the simulation needs it,
//! sorted within a bounded window, filtered, grouped into sessions, and
//! handed to the engine as timed [`ReplayEvent`]s. Memory follows the
//! sessions active at once (and the lines inside the reorder window), not
//! the length of the log.

use super::parse::{Parser, Record};
use super::reader::{Item, LineReader, LogReader};
use crate::scenario::replay::Replay;
use crate::sim::{mix64, Nanos, GOLDEN};
use regex::Regex;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Bad lines kept with their line numbers for the report.
pub const FIRST_BAD: usize = 5;
/// The most lines held for sorting at once; past it the oldest is released
/// whatever the window (a bound on memory for a very busy log).
pub const MAX_WINDOW_LINES: usize = 1 << 20;

/// What happens next in a replayed workload.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ReplayEvent {
    /// A request of session `slot` at simulated time `t`.
    Request {
        /// Simulated time, ns from the start of the run.
        t: Nanos,
        /// The session's slot (reused once it has ended).
        slot: u32,
        /// The session starts with this request.
        start: bool,
        /// The client's address (a copy's own under `scale`).
        addr: IpAddr,
        /// The backend's time on it from the log, seconds at speed 1.
        service_s: Option<f64>,
    },
    /// Session `slot` ended (its idle gap passed) at simulated time `t`.
    End {
        /// Simulated time, ns.
        t: Nanos,
        /// The session's slot.
        slot: u32,
    },
}

impl ReplayEvent {
    /// When it happens, ns of simulated time.
    pub fn t(&self) -> Nanos {
        match *self {
            ReplayEvent::Request { t, .. } | ReplayEvent::End { t, .. } => t,
        }
    }
}

/// What reading the log found, for the report.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ReplayStats {
    /// Non-blank lines read.
    pub lines: u64,
    /// Lines that parsed.
    pub valid: u64,
    /// Lines that did not parse, skipped.
    pub skipped: u64,
    /// The first few bad lines: line number and what did not parse.
    pub first_bad: Vec<(u64, String)>,
    /// Lines that came earlier than a line before them, put in order.
    pub reordered: u64,
    /// Lines further out of order than the reorder window, skipped.
    pub late: u64,
    /// Lines left out by `exclude`.
    pub excluded: u64,
    /// Lines before `from`, at or after `to`, or after the end of the run.
    pub outside: u64,
    /// Lines replayed (each `scale` times).
    pub replayed: u64,
    /// Sessions started (copies counted).
    pub sessions: u64,
    /// Address changes within a session (with a session field: real churn).
    pub address_changes: u64,
    /// Lines whose service time came from the log.
    pub service_from_log: u64,
    /// Log time of the first line replayed, ns since the epoch.
    pub first_ns: Option<i64>,
    /// Log time of the last line replayed, ns since the epoch.
    pub last_ns: Option<i64>,
    /// Why the replay stopped early (I/O error, a bad line with `strict`).
    pub error: Option<String>,
}

/// A line between parsing and release, reduced to what the replay uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Held {
    time: i64,
    line: u64,
    identity: u64,
    addr: IpAddr,
    /// Service seconds as bits (`u64::MAX`: none), for `Ord`.
    service: u64,
}

#[derive(Debug, Clone, Copy)]
struct Active {
    slot: u32,
    last: i64,
    addr: IpAddr,
}

/// Regular expressions a line must not match.
#[derive(Debug, Clone, Default)]
pub struct Exclude {
    path: Option<Regex>,
    user_agent: Option<Regex>,
}

fn any_of(v: &[String]) -> Result<Option<Regex>, String> {
    if v.is_empty() {
        return Ok(None);
    }
    let joined = v
        .iter()
        .map(|r| format!("(?:{r})"))
        .collect::<Vec<_>>()
        .join("|");
    regex::RegexBuilder::new(&joined)
        .size_limit(1 << 22)
        .build()
        .map(Some)
        .map_err(|e| e.to_string())
}

impl Exclude {
    /// The exclusions of `spec`.
    pub fn new(spec: &Replay) -> Result<Self, String> {
        Ok(Exclude {
            path: any_of(&spec.exclude_path)?,
            user_agent: any_of(&spec.exclude_user_agent)?,
        })
    }

    /// Whether `r` is left out.
    pub fn excludes(&self, r: &Record<'_>) -> bool {
        self.path.as_ref().is_some_and(|x| x.is_match(&r.path))
            || self
                .user_agent
                .as_ref()
                .is_some_and(|x| x.is_match(&r.user_agent))
    }
}

/// A session's identity: its field's value when the log has one, else the
/// client address and user agent.
pub fn identity(r: &Record<'_>) -> u64 {
    match &r.session {
        Some(s) => xxhash_rust::xxh64::xxh64(s.as_bytes(), 0x5e55),
        None => xxhash_rust::xxh64::xxh64(r.user_agent.as_bytes(), addr_key(r.client)),
    }
}

fn addr_key(ip: IpAddr) -> u64 {
    match ip {
        IpAddr::V4(v) => u64::from(u32::from(v)),
        IpAddr::V6(v) => {
            let x = u128::from(v);
            mix64((x >> 64) as u64) ^ x as u64 ^ 0x6
        }
    }
}

/// The address copy `j` of a session from `ip` comes from under `scale`:
/// `ip` itself for copy 0, else a distinct address that is a function of
/// `(ip, j)` only, so every user behind one NAT address stays behind one
/// (copied) address.
pub fn scaled_addr(ip: IpAddr, j: u32) -> IpAddr {
    if j == 0 {
        return ip;
    }
    let h = mix64(addr_key(ip) ^ mix64(u64::from(j).wrapping_mul(GOLDEN)));
    match ip {
        // Clear of 0/8 and 10/8 (the backends' range), as generated clients.
        IpAddr::V4(_) => {
            let first = (h >> 56) as u32 % 200 + 11;
            IpAddr::V4(Ipv4Addr::from((first << 24) | (h as u32 & 0x00ff_ffff)))
        }
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::from(
            (0x2a00u128 << 112) | (u128::from(h) << 48) | u128::from(mix64(h) & 0xffff_ffff_ffff),
        )),
    }
}

/// A replayed workload: the engine asks for the next event's time and
/// takes the events due.
pub struct ReplaySource {
    reader: Option<LogReader>,
    exclude: Exclude,
    strict: bool,
    speed: f64,
    scale: u32,
    idle: i64,
    window: i64,
    from: Option<i64>,
    to: Option<i64>,
    duration: Nanos,
    held: BinaryHeap<Reverse<Held>>,
    max_seen: Option<i64>,
    last_out: Option<i64>,
    t0: Option<i64>,
    sessions: HashMap<u64, Active>,
    expiries: BinaryHeap<Reverse<(i64, u64)>>,
    free: Vec<u32>,
    next_slot: u32,
    out: VecDeque<ReplayEvent>,
    reading: bool,
    /// What reading the log has found so far.
    pub stats: ReplayStats,
}

impl ReplaySource {
    /// Opens the log of `spec` for a run of `duration` ns. An error to open
    /// it is recorded in `stats.error` and the replay is empty.
    pub fn new(spec: &Replay, duration: Nanos) -> Self {
        let parser = Parser::new(spec.format, spec.fields.clone(), spec.session_field.clone());
        let mut stats = ReplayStats::default();
        let exclude = Exclude::new(spec).unwrap_or_else(|e| {
            stats.error = Some(format!("workload.replay.exclude: {e}"));
            Exclude::default()
        });
        let reader = match LineReader::open(&spec.path) {
            Ok(l) if stats.error.is_none() => Some(LogReader::new(l, parser)),
            Ok(_) => None,
            Err(e) => {
                stats.error = Some(format!("{}: {e}", spec.path.display()));
                None
            }
        };
        Self::with_reader(spec, duration, reader, exclude, stats)
    }

    /// A source reading `lines` (tests, benches) with the rest of `spec`.
    pub fn from_lines(spec: &Replay, duration: Nanos, lines: LineReader) -> Self {
        let parser = Parser::new(spec.format, spec.fields.clone(), spec.session_field.clone());
        let exclude = Exclude::new(spec).unwrap_or_default();
        let reader = Some(LogReader::new(lines, parser));
        Self::with_reader(spec, duration, reader, exclude, ReplayStats::default())
    }

    fn with_reader(
        spec: &Replay,
        duration: Nanos,
        reader: Option<LogReader>,
        exclude: Exclude,
        stats: ReplayStats,
    ) -> Self {
        ReplaySource {
            reading: reader.is_some(),
            reader,
            exclude,
            strict: spec.strict,
            speed: spec.speed,
            scale: spec.scale,
            idle: spec.idle_ns.min(i64::MAX as u64) as i64,
            window: spec.reorder_window_ns.min(i64::MAX as u64) as i64,
            from: spec.from_ns,
            to: spec.to_ns,
            duration,
            held: BinaryHeap::new(),
            max_seen: None,
            last_out: None,
            t0: spec.from_ns,
            sessions: HashMap::new(),
            expiries: BinaryHeap::new(),
            free: Vec::new(),
            next_slot: 0,
            out: VecDeque::new(),
            stats,
        }
    }

    /// Sessions active now (their idle gap has not passed).
    pub fn active(&self) -> usize {
        self.sessions.len()
    }

    /// The most slots in use at once, times `scale`: the engine's table size.
    pub fn slots(&self) -> usize {
        self.next_slot as usize * self.scale as usize
    }

    /// The time of the next event, `None` when the replay is over.
    pub fn peek(&mut self) -> Option<Nanos> {
        while self.out.is_empty() && self.reading {
            self.step();
        }
        self.out.front().map(ReplayEvent::t)
    }

    /// The next event, if it is due at or before `now`.
    pub fn next_due(&mut self, now: Nanos) -> Option<ReplayEvent> {
        match self.peek() {
            Some(t) if t <= now => self.out.pop_front(),
            _ => None,
        }
    }

    /// Log time to simulated time.
    fn sim(&self, log: i64) -> Nanos {
        let d = log.saturating_sub(self.t0.unwrap_or(log)).max(0) as f64 / self.speed;
        if d >= u64::MAX as f64 {
            u64::MAX
        } else {
            d.round() as u64
        }
    }

    /// Reads one line (or finishes), releasing what it can.
    fn step(&mut self) {
        let Some(reader) = self.reader.as_mut() else {
            self.reading = false;
            return;
        };
        let item = match reader.next_record() {
            Ok(Some(Item::Record(r))) => Ok((
                r.time_ns,
                identity(&r),
                r.client,
                r.service_s,
                self.exclude.excludes(&r),
            )),
            Ok(Some(Item::Bad(b))) => Err(b),
            Ok(None) => return self.finish(),
            Err(e) => {
                self.stats.error = Some(format!("reading line {}: {e}", reader.line_no() + 1));
                return self.finish();
            }
        };
        let line = reader.line_no();
        self.stats.lines += 1;
        let (t, identity, client, service_s, excluded) = match item {
            Err(b) => {
                self.stats.skipped += 1;
                if self.stats.first_bad.len() < FIRST_BAD {
                    self.stats.first_bad.push((line, b.to_string()));
                }
                if self.strict {
                    self.stats.error = Some(format!(
                        "line {line}: {b} (`strict = true` makes a bad line an error)"
                    ));
                    self.out.clear();
                    self.reading = false;
                }
                return;
            }
            Ok(r) => r,
        };
        self.stats.valid += 1;
        if excluded {
            self.stats.excluded += 1;
            return;
        }
        if self.from.is_some_and(|f| t < f) || self.to.is_some_and(|to| t >= to) {
            self.stats.outside += 1;
            return;
        }
        if self.last_out.is_some_and(|l| t < l) {
            self.stats.late += 1;
            return;
        }
        if let Some(m) = self.max_seen {
            if t < m {
                self.stats.reordered += 1;
            }
            // Far past the end of the run (and its window): stop reading.
            if self.t0.is_some() && self.sim(m.saturating_sub(self.window)) >= self.duration {
                self.stats.outside += 1;
                return self.finish();
            }
        }
        self.max_seen = Some(self.max_seen.map_or(t, |m| m.max(t)));
        let held = Held {
            time: t,
            line,
            identity,
            addr: client,
            service: service_s.map_or(u64::MAX, f64::to_bits),
        };
        self.held.push(Reverse(held));
        let horizon = self.max_seen.unwrap_or(t).saturating_sub(self.window);
        while let Some(Reverse(h)) = self.held.peek().copied() {
            if h.time > horizon && self.held.len() <= MAX_WINDOW_LINES {
                break;
            }
            self.held.pop();
            self.release(h);
        }
    }

    /// The end of the log, of the run, or an error: release what is held
    /// and end every session.
    fn finish(&mut self) {
        while let Some(Reverse(h)) = self.held.pop() {
            self.release(h);
        }
        self.expire(i64::MAX);
        self.reading = false;
        self.reader = None;
    }

    /// Ends the sessions idle for the gap by log time `now`.
    fn expire(&mut self, now: i64) {
        while let Some(&Reverse((exp, id))) = self.expiries.peek() {
            if exp > now {
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
            self.free.push(a.slot);
            let t = self.sim(due);
            for j in 0..self.scale {
                self.out.push_back(ReplayEvent::End {
                    t,
                    slot: a.slot * self.scale + j,
                });
            }
        }
    }

    /// A line leaves the window: it becomes `scale` requests.
    fn release(&mut self, h: Held) {
        if self.last_out.is_some_and(|l| h.time < l) {
            // Only when the window overflowed its line cap.
            self.stats.late += 1;
            return;
        }
        if self.t0.is_none() {
            self.t0 = Some(h.time);
        }
        let t = self.sim(h.time);
        if t >= self.duration {
            self.stats.outside += 1;
            return;
        }
        self.last_out = Some(h.time);
        self.expire(h.time);
        self.stats.replayed += 1;
        self.stats.first_ns.get_or_insert(h.time);
        self.stats.last_ns = Some(h.time);
        let service_s = (h.service != u64::MAX).then(|| f64::from_bits(h.service));
        self.stats.service_from_log += u64::from(service_s.is_some());
        let (slot, start) = match self.sessions.get_mut(&h.identity) {
            Some(a) => {
                if a.addr != h.addr {
                    a.addr = h.addr;
                    self.stats.address_changes += u64::from(self.scale);
                }
                a.last = h.time;
                (a.slot, false)
            }
            None => {
                let slot = self.free.pop().unwrap_or_else(|| {
                    self.next_slot += 1;
                    self.next_slot - 1
                });
                self.sessions.insert(
                    h.identity,
                    Active {
                        slot,
                        last: h.time,
                        addr: h.addr,
                    },
                );
                self.expiries
                    .push(Reverse((h.time.saturating_add(self.idle), h.identity)));
                self.stats.sessions += u64::from(self.scale);
                (slot, true)
            }
        };
        for j in 0..self.scale {
            self.out.push_back(ReplayEvent::Request {
                t,
                slot: slot * self.scale + j,
                start,
                addr: scaled_addr(h.addr, j),
                service_s,
            });
        }
    }
}
