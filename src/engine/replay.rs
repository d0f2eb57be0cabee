//! A replayed workload (`workload.replay`): arrivals, sessions and the
//! time of every request come from an access log through a
//! [`ReplaySource`]; everything after the request is sent — routing,
//! backends, state, control — is the same as for a generated workload.
//!
//! Each log line is one request, sent at its (compressed) time whatever
//! happened to the session's previous one, so a session may have several
//! requests in flight. A session ends when the source says its idle gap
//! has passed, once its last request is answered. Service demand is the
//! log's where it has one, else drawn from `workload.service_time` on the
//! session's own stream, as a generated session draws it.

use super::event::Ev;
use super::world::{fold, World};
use super::TraceKind;
use crate::model::{Drift, Pending, Placement, Session, SessionId};
use crate::replay::{write::Access, ReplayEvent, ReplaySource};
use crate::routing::BackendId;
use crate::scenario::{Scenario, SessionState};
use crate::sim::{stream, Nanos, Stream};

/// The replay's side of the workload.
pub(super) struct Replaying {
    pub(super) source: ReplaySource,
    /// Per source slot, the session in it.
    slots: Vec<Option<SessionId>>,
    /// Per session id, its requests in flight.
    inflight: Vec<u32>,
}

impl Replaying {
    /// The replay of `sc`, if it has one.
    pub(super) fn of(sc: &Scenario) -> Option<Self> {
        let spec = sc.workload.replay.as_ref()?;
        Some(Replaying {
            source: ReplaySource::new(spec, sc.simulation.duration_ns),
            slots: Vec::new(),
            inflight: Vec::new(),
        })
    }
}

impl World<'_> {
    /// Schedules the replay's next event, if any.
    pub(super) fn schedule_replay(&mut self) {
        let next = self.work.replay.as_mut().and_then(|r| r.source.peek());
        if let Some(t) = next.filter(|&t| t < self.sc.simulation.duration_ns) {
            self.q.schedule(t, Ev::Replay);
        }
    }

    /// Takes every replay event due at `now`.
    pub(super) fn on_replay(&mut self, now: Nanos) {
        loop {
            let Some(r) = self.work.replay.as_mut() else {
                return;
            };
            let Some(ev) = r.source.next_due(now) else {
                break;
            };
            match ev {
                ReplayEvent::Request {
                    slot,
                    start,
                    addr,
                    service_s,
                    ..
                } => self.replay_request(now, slot, start, addr, service_s),
                ReplayEvent::End { slot, .. } => self.replay_end(now, slot),
            }
        }
        self.schedule_replay();
    }

    /// A new replayed session in source slot `slot`.
    fn replay_session(&mut self, now: Nanos, slot: u32, addr: std::net::IpAddr) -> SessionId {
        let seed = self.sc.simulation.seed;
        let n = self.work.next_session;
        self.work.next_session += 1;
        let measured = self.out.rec.measured(now);
        if measured {
            self.out.rec.sessions += 1;
        }
        let store_rng =
            (self.place.kind != Placement::Local).then(|| stream(seed, Stream::Store, n));
        let id = self.work.sessions.insert(Session {
            no: n,
            digest: fold(n, now),
            store_rng,
            measured,
            segment: 0,
            user: 0,
            // Open until the source ends it.
            remaining: 1,
            rng: stream(seed, Stream::Session, n),
            net_rng: stream(seed, Stream::Network, n),
            next_ip_change_ns: Nanos::MAX,
            ip_changes: 0,
            ip: addr,
            blocks_cookies: false,
            cookie: None,
            token: None,
            token_base: 0,
            token_epoch: 0,
            app_id: None,
            app_issues: 0,
            home: None,
            lost: false,
            drift: Drift::default(),
            last_routed_ns: None,
            client_retries: 0,
        });
        self.place.new_session(id);
        let r = self.work.replay.as_mut().expect("replaying");
        let slot = slot as usize;
        if slot >= r.slots.len() {
            r.slots.resize(slot + 1, None);
        }
        r.slots[slot] = Some(id);
        if id.index() >= r.inflight.len() {
            r.inflight.resize(id.index() + 1, 0);
        }
        r.inflight[id.index()] = 0;
        self.work.peak_sessions = self.work.peak_sessions.max(self.work.sessions.len());
        self.log(now, id, TraceKind::Arrived);
        id
    }

    /// One log line's request: from its session (new or going on), at its
    /// address, with the log's service time if it has one.
    fn replay_request(
        &mut self,
        now: Nanos,
        slot: u32,
        start: bool,
        addr: std::net::IpAddr,
        service_s: Option<f64>,
    ) {
        let existing = match self.work.replay.as_ref() {
            Some(r) if !start => r.slots.get(slot as usize).copied().flatten(),
            _ => None,
        };
        let sid = match existing {
            Some(sid) => sid,
            None => self.replay_session(now, slot, addr),
        };
        let sc = self.sc;
        let s = self.work.sessions.get_mut(sid);
        if s.ip != addr {
            // The same session from another address: real churn.
            s.ip = addr;
            s.ip_changes += 1;
            s.drift.ip_changed = true;
        }
        let demand_s = match service_s {
            Some(v) => v,
            None => sc.workload.service_time.sample(&mut s.rng),
        };
        let state_s = match (self.place.state, &mut s.store_rng) {
            (SessionState::Shared { store_latency, .. }, Some(rng)) => store_latency.sample(rng),
            (SessionState::Replicated { write_latency, .. }, Some(rng)) => {
                write_latency.sample(rng)
            }
            _ => 0.0,
        };
        s.digest = fold(s.digest, demand_s.to_bits());
        s.cookie_at(now);
        if let Some(log) = &mut self.out.access {
            log.push(Access {
                t: now,
                addr,
                session: s.no,
                user: s.user,
                service_s: demand_s,
            });
        }
        self.work.planned_requests += 1;
        let measured = self.out.rec.measured(now);
        if measured {
            self.out.rec.requests += 1;
        }
        if let Some(r) = self.work.replay.as_mut() {
            r.inflight[sid.index()] += 1;
        }
        let p = Pending {
            start_ns: now,
            demand_s,
            state_s,
            measured,
            failed_on: BackendId(u32::MAX),
            lb_retries: 0,
            again: false,
        };
        self.dispatch(now, sid, p, None);
    }

    /// The source ended the session in `slot`: it ends now, or when its
    /// last request in flight is answered.
    fn replay_end(&mut self, now: Nanos, slot: u32) {
        let Some(r) = self.work.replay.as_mut() else {
            return;
        };
        let Some(sid) = r.slots.get_mut(slot as usize).and_then(Option::take) else {
            return;
        };
        let idle = r.inflight[sid.index()] == 0;
        self.work.sessions.get_mut(sid).remaining = 0;
        if idle {
            self.end_session(now, sid);
        }
    }

    /// A request of replayed session `sid` ended: whether the session ends
    /// with it (the source ended it and nothing else is in flight).
    pub(super) fn replay_request_ended(&mut self, sid: SessionId) -> bool {
        let Some(r) = self.work.replay.as_mut() else {
            return true;
        };
        let n = &mut r.inflight[sid.index()];
        debug_assert!(*n > 0);
        *n = n.saturating_sub(1);
        *n == 0 && self.work.sessions.get(sid).remaining == 0
    }
}
