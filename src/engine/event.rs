//! The events of a run, typed by what they name, and the loop that
//! dispatches them in `(time, seq)` order until the end of the run.

use super::world::World;
use super::RunOutput;
use crate::metrics::{ControlKind, LossCause};
use crate::model::{Epoch, InstanceNo, RequestId, SessionId};
use crate::routing::BackendId;

/// What happens at an instant.
#[derive(Debug, Clone, Copy)]
pub(super) enum Ev {
    /// The next session arrives.
    Arrival,
    /// The replayed log's next requests (and session ends) are due.
    Replay,
    /// The session sends its next request.
    Send(SessionId),
    /// A request's second attempt after it failed on a dead backend.
    Retry(SessionId),
    /// A user sends a request again after an error (`[[clients]] retry`).
    Resend(SessionId),
    /// A request's service ends on a backend, if it is still in the
    /// incarnation that took it.
    Done {
        backend: BackendId,
        epoch: Epoch,
        req: RequestId,
    },
    /// The per-try timeout of attempt `tag` (request `req`) passes: if it
    /// is still unanswered, the load balancer gives up on it. (The backend
    /// is in the request: with it here the event would grow from 16 to 24
    /// bytes, and every pending event with it.)
    TryTimeout { req: RequestId, tag: u64 },
    /// A health check probes backend `b` (check chain `gen`).
    Check { b: BackendId, gen: u32 },
    /// A probe of backend `b` timed out.
    CheckFailed { b: BackendId, gen: u32 },
    /// A scheduled crash, and what the crashed instance does to connections.
    Crash(BackendId, crate::scenario::CrashMode),
    /// An attempt held on a crashed backend (`Workload::held`) times out.
    Held(u32),
    /// nginx: instance `inst` in slot `b` may be due back from its `fail_timeout`.
    PassiveDue { b: BackendId, inst: InstanceNo },
    /// Envoy's outlier-detection interval timer.
    OutlierSweep,
    /// A scheduled recovery.
    Recover(BackendId),
    /// A random failure of instance `inst` in slot `b`.
    RandCrash { b: BackendId, inst: InstanceNo },
    /// The repair of a random failure.
    RandRecover { b: BackendId, inst: InstanceNo },
    /// Zone number `.0` goes out.
    ZoneDown(usize),
    /// Zone number `.0` is back.
    ZoneUp(usize),
    /// Fault number `.0` (a `slow` fault) begins.
    SlowOn(usize),
    /// Fault number `.0` (a `slow` fault) ends.
    SlowOff(usize),
    /// Instance `inst` in slot `b` was marked down a grace ago: replace
    /// it if it is still down (`replace_unhealthy`).
    Replace { b: BackendId, inst: InstanceNo },
    /// Instance `inst` in slot `b` finished booting.
    Booted { b: BackendId, inst: InstanceNo },
    /// Instance `inst` in slot `b` finished draining.
    DrainEnd { b: BackendId, inst: InstanceNo },
    /// The next step of instance `inst`'s slow-start ramp.
    Ramp { b: BackendId, inst: InstanceNo },
    /// Deploy number `.0` (in the scenario) starts.
    DeployStart(usize),
    /// Next batch of deploy run number `.0`.
    DeployBatch(usize),
    /// The autoscaler evaluates.
    Evaluate,
    /// The shared session store goes down.
    StoreDown,
    /// The shared session store is back.
    StoreUp,
    /// An output bucket ends.
    Tick,
    /// Warm-up ends: metrics count from here.
    WarmupEnd,
}

// Every pending event is a 32-byte heap entry (a 16-byte key and the
// event): an event over 16 bytes would make each entry 48.
const _: () = assert!(std::mem::size_of::<Ev>() <= 16);

impl World<'_> {
    /// Runs from the initial events to the end of the simulated time.
    pub(super) fn run(mut self, strategy: usize) -> RunOutput {
        self.schedule_initial();
        let end = self.sc.simulation.duration_ns;
        let mut events = 0u64;
        while let Some((now, ev)) = self.q.pop() {
            if now >= end {
                break;
            }
            events += 1;
            self.handle(now, ev);
        }
        self.finish(strategy, events)
    }

    /// Dispatches one event.
    #[inline]
    fn handle(&mut self, now: u64, ev: Ev) {
        match ev {
            Ev::Arrival => self.on_arrival(now),
            Ev::Replay => self.on_replay(now),
            Ev::Send(s) => self.on_send(now, s),
            Ev::Done {
                backend,
                epoch,
                req,
            } => self.on_done(now, backend, epoch, req),
            Ev::Retry(s) => self.on_retry(now, s),
            Ev::TryTimeout { req, tag } => self.on_try_timeout(now, req, tag),
            Ev::Resend(s) => self.on_resend(now, s),
            Ev::Check { b, gen } => self.on_check(now, b, gen),
            Ev::CheckFailed { b, gen } => self.on_check_failed(now, b, gen),
            Ev::Crash(b, mode) => self.crash(now, b, LossCause::Failure, mode),
            Ev::Held(h) => self.on_held(now, h),
            Ev::PassiveDue { b, inst } => self.on_passive_due(now, b, inst),
            Ev::OutlierSweep => self.on_outlier_sweep(now),
            Ev::Recover(b) => self.recover(now, b),
            Ev::RandCrash { b, inst } => self.on_rand_crash(now, b, inst),
            Ev::RandRecover { b, inst } => self.on_rand_recover(now, b, inst),
            Ev::ZoneDown(z) => self.on_zone_down(now, z),
            Ev::ZoneUp(z) => self.on_zone_up(now, z),
            Ev::SlowOn(i) => self.on_slow(now, i, true),
            Ev::SlowOff(i) => self.on_slow(now, i, false),
            Ev::Booted { b, inst } => self.on_booted(b, inst),
            Ev::Replace { b, inst } => self.on_replace(now, b, inst),
            Ev::DrainEnd { b, inst } => self.on_drain_end(now, b, inst),
            Ev::Ramp { b, inst } => self.on_ramp(now, b, inst),
            Ev::DeployStart(i) => self.on_deploy_start(now, i),
            Ev::DeployBatch(k) => self.next_batch(now, k),
            Ev::Evaluate => self.on_evaluate(now),
            Ev::StoreDown => {
                self.place.store_down = true;
                self.event(now, ControlKind::StoreDown, None);
            }
            Ev::StoreUp => {
                self.place.store_down = false;
                self.event(now, ControlKind::StoreUp, None);
            }
            Ev::Tick => {
                self.close_bucket(now);
                let next = now.saturating_add(self.sc.output.bucket_ns);
                if next < self.sc.simulation.duration_ns {
                    self.q.schedule(next, Ev::Tick);
                }
            }
            Ev::WarmupEnd => self.out.rec.end_warmup(now),
        }
    }

    /// Closes the last bucket and gathers the outputs.
    fn finish(mut self, strategy: usize, events: u64) -> RunOutput {
        let end = self.sc.simulation.duration_ns;
        self.close_bucket(end);
        let work = &mut self.work;
        for s in work.sessions.iter() {
            work.digest = work.digest.wrapping_add(s.digest);
        }
        // Requests in a worker or a queue, waiting for their retry, or held
        // on a crashed backend (not those the load balancer gave up on).
        let in_flight = work
            .requests
            .iter()
            .filter(|r| r.measured && !r.orphan)
            .count() as u64
            + work.pending.iter().flatten().filter(|p| p.measured).count() as u64
            + work.held.iter().filter(|h| h.p.measured && !h.done).count() as u64;
        let active = work.sessions.iter().filter(|s| s.measured).count() as u64;
        let cfg = &self.sc.strategies[strategy];
        let (mut summary, buckets) = self.out.rec.finish(
            &cfg.name,
            cfg.spec.kind(),
            end,
            self.sc.backends.workers,
            in_flight,
            active,
            events,
        );
        summary.placement = self.place.kind.name().to_string();
        RunOutput {
            summary,
            buckets,
            workload_digest: self.work.digest,
            planned_requests: self.work.planned_requests,
            peak_sessions: self.work.peak_sessions,
            trace: self.out.trace.unwrap_or_default(),
            access: self
                .out
                .access
                .map(crate::replay::write::AccessLog::into_vec)
                .unwrap_or_default(),
            replay: self.work.replay.map(|r| r.source.stats),
            events: self.out.events,
            instances: self.out.instances,
        }
    }
}
