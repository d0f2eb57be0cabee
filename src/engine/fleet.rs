//! The control plane inside the engine loop: health checks, faults,
//! launching, draining and stopping instances, rolling deploys and the
//! autoscaler's decisions applied to the fleet. The decisions themselves
//! (thresholds, target tracking, victims, slow-start weights) live in
//! [`crate::control`]; this applies them to the world's backends and pool.

use super::event::Ev;
use super::world::{capacity, World, RAMP_STEPS, STOPPED_ADDR};
use super::TraceKind;
use crate::control::{pick_victims, ramp_weight, DeployRun, Life, Scale, Slot};
use crate::metrics::{ControlEvent, ControlKind, LossCause};
use crate::model::{Backend, InstanceNo, Pending};
use crate::routing::{BackendId, BackendView, Health};
use crate::scenario::{secs_to_ns as s_to_ns, CrashMode, Fault};
use crate::sim::{stream, Nanos, SimRng, Stream};
use rand::Rng;
use rand_distr::Exp1;

impl World<'_> {
    // ---- health checks ----

    pub(super) fn schedule_checks(&mut self, now: Nanos, b: BackendId) {
        let bi = b.index();
        let slot = &mut self.fleet.slots[bi];
        slot.check_gen += 1;
        let gen = slot.check_gen;
        let interval = self.sc.health_check.interval_ns.max(1);
        let mut phase = stream(
            self.sc.simulation.seed,
            Stream::Health,
            1 + slot.instance.stream_index(),
        );
        let offset = phase.gen_range(0..interval);
        self.q
            .schedule(now.saturating_add(offset), Ev::Check { b, gen });
    }

    pub(super) fn on_check(&mut self, now: Nanos, b: BackendId, gen: u32) {
        let bi = b.index();
        if self.fleet.slots[bi].check_gen != gen {
            return; // the instance this chain probed is gone
        }
        let hc = &self.sc.health_check;
        self.q
            .schedule(now.saturating_add(hc.interval_ns), Ev::Check { b, gen });
        if !self.fleet.backends[bi].alive {
            // The probe times out.
            self.q.schedule(
                now.saturating_add(hc.timeout_ns),
                Ev::CheckFailed { b, gen },
            );
            return;
        }
        let healthy = self.fleet.slots[bi].health.ok(hc.healthy_threshold);
        if self.passive_holds(b) {
            // Ejected: the checks' verdict waits for the ejection's end.
            return self.passive_check_result(b, !healthy);
        }
        let id = b;
        if healthy
            && self.lb.pool.get(id).health == Health::Down
            && self.fleet.slots[bi].life == Life::Active
        {
            self.set_health(now, b, Health::Up);
            let slot = &mut self.fleet.slots[bi];
            if slot.announced {
                self.event(now, ControlKind::MarkedUp, Some(b));
            } else {
                slot.announced = true;
                let ramp = slot.slow_start_ns;
                let inst = slot.instance;
                self.event(now, ControlKind::InService, Some(b));
                if ramp > 0 {
                    self.fleet.slots[bi].ramp_from_ns = now;
                    let full = self.full_weight(b);
                    self.lb.pool.set_weight(id, ramp_weight(full, 0, ramp));
                    self.q.schedule(
                        now.saturating_add((ramp / RAMP_STEPS).max(1)),
                        Ev::Ramp { b, inst },
                    );
                }
                self.deploy_in_service(now, b);
            }
        }
    }

    pub(super) fn on_check_failed(&mut self, now: Nanos, b: BackendId, gen: u32) {
        let bi = b.index();
        if self.fleet.slots[bi].check_gen != gen {
            return;
        }
        let hc = &self.sc.health_check;
        let unhealthy = self.fleet.slots[bi].health.failed(hc.unhealthy_threshold);
        if unhealthy && self.passive_holds(b) {
            return self.passive_check_result(b, true);
        }
        let h = self.lb.pool.get(b).health;
        if unhealthy && h != Health::Down {
            self.set_health(now, b, Health::Down);
            self.event(now, ControlKind::MarkedDown, Some(b));
            if let Some(r) = self.sc.backends.replace_unhealthy {
                let inst = self.fleet.slots[bi].instance;
                self.q
                    .schedule(now.saturating_add(r.grace_ns), Ev::Replace { b, inst });
            }
        }
    }

    /// The grace after instance `inst` in slot `b` was marked down is over:
    /// if it is still down, it is terminated and a new instance launched
    /// (`replace_unhealthy`), like for like unless `launch_speed` says.
    pub(super) fn on_replace(&mut self, now: Nanos, b: BackendId, inst: InstanceNo) {
        let bi = b.index();
        let slot = &self.fleet.slots[bi];
        let Some(r) = self.sc.backends.replace_unhealthy else {
            return;
        };
        if slot.instance != inst
            || slot.life != Life::Active
            || self.lb.pool.get(b).health != Health::Down
        {
            return; // gone, draining, or healthy again
        }
        let speed = self.sc.backends.launch_speed.unwrap_or(slot.base_speed);
        let w = self.fleet.unit_weights[bi];
        self.event(now, ControlKind::Replaced, Some(b));
        self.fleet.slots[bi].retire = Some(LossCause::Failure);
        self.stop(now, b);
        let zone = self.emptiest_zone();
        self.launch(now, zone, speed, w, r.boot_time_ns, 0);
    }

    // ---- failures ----

    /// Ends the current incarnation of backend `b`: its state and in-flight
    /// requests are gone.
    pub(super) fn end_epoch(&mut self, now: Nanos, b: BackendId, cause: LossCause) {
        let bi = b.index();
        let be = &mut self.fleet.backends[bi];
        be.epoch = be.epoch.next();
        be.pinned = 0;
        self.fleet.slots[bi].end_causes.push(cause);
        debug_assert_eq!(self.fleet.slots[bi].end_causes.len(), be.epoch.index());
        // Taken out while their sessions go on (which never dispatches at
        // once), then put back empty to keep their allocations.
        let mut in_service = std::mem::take(&mut be.in_service);
        let mut queue = std::mem::take(&mut be.queue);
        let mut held = 0;
        for &rid in in_service.iter().chain(&queue) {
            let r = self.work.requests.remove(rid);
            if r.orphan {
                continue; // already failed when its per-try timeout passed
            }
            self.lb.retry_admitted -= u64::from(r.lb_retries > 0);
            if self.hold_crashed(now, b, &r) {
                held += 1; // fails at its read timeout (`blackhole`, `hang`)
                continue;
            }
            if r.measured {
                self.out.rec.failed += 1;
            }
            self.log(now, r.session, TraceKind::Failed(b));
            self.request_error(now, r.session, Pending::of(&r));
        }
        in_service.clear();
        queue.clear();
        let be = &mut self.fleet.backends[bi];
        be.in_service = in_service;
        be.queue = queue;
        self.backend_state(b, now);
        self.lb.pool.reset_outstanding(b);
        for _ in 0..held {
            self.lb.pool.add_outstanding(b);
        }
    }

    pub(super) fn crash(&mut self, now: Nanos, b: BackendId, cause: LossCause, mode: CrashMode) {
        let bi = b.index();
        let life = self.fleet.slots[bi].life;
        if !self.fleet.backends[bi].alive || !matches!(life, Life::Active | Life::Draining) {
            return;
        }
        self.fleet.backends[bi].alive = false;
        self.fleet.slots[bi].down_mode = mode;
        self.event(now, ControlKind::Crash, Some(b));
        self.end_epoch(now, b, cause);
    }

    pub(super) fn recover(&mut self, now: Nanos, b: BackendId) {
        let bi = b.index();
        let slot = &self.fleet.slots[bi];
        if self.fleet.backends[bi].alive
            || self.fleet.zone_down[usize::from(slot.zone)]
            || !matches!(slot.life, Life::Active | Life::Draining)
        {
            return;
        }
        self.fleet.backends[bi].alive = true;
        self.event(now, ControlKind::Recover, Some(b));
    }

    pub(super) fn schedule_random_crash(&mut self, now: Nanos, b: BackendId) {
        let bi = b.index();
        let Some((mtbf_ns, _)) = random_fault(&self.sc.faults) else {
            return;
        };
        let slot = &mut self.fleet.slots[bi];
        let Some(rng) = &mut slot.fault_rng else {
            return;
        };
        let at = now.saturating_add(exp_ns(rng, mtbf_ns));
        self.q.schedule(
            at,
            Ev::RandCrash {
                b,
                inst: slot.instance,
            },
        );
    }

    pub(super) fn on_rand_crash(&mut self, now: Nanos, b: BackendId, inst: InstanceNo) {
        let bi = b.index();
        if self.fleet.slots[bi].instance != inst || self.fleet.slots[bi].life == Life::Absent {
            return;
        }
        if !self.fleet.backends[bi].alive {
            // Booting or already down: this failure does not happen; draw the next.
            return self.schedule_random_crash(now, b);
        }
        self.crash(now, b, LossCause::Failure, CrashMode::Reset);
        let Some((_, mttr_ns)) = random_fault(&self.sc.faults) else {
            return;
        };
        let rng = self.fleet.slots[bi]
            .fault_rng
            .as_mut()
            .expect("random faults give every instance a stream");
        let at = now.saturating_add(exp_ns(rng, mttr_ns));
        self.q.schedule(at, Ev::RandRecover { b, inst });
    }

    pub(super) fn on_rand_recover(&mut self, now: Nanos, b: BackendId, inst: InstanceNo) {
        let bi = b.index();
        if self.fleet.slots[bi].instance != inst || self.fleet.slots[bi].life == Life::Absent {
            return;
        }
        self.recover(now, b);
        self.schedule_random_crash(now, b);
    }

    pub(super) fn on_zone_down(&mut self, now: Nanos, z: usize) {
        self.fleet.zone_down[z] = true;
        self.event(now, ControlKind::ZoneOutage, None);
        // Running instances crash; booting ones come up with the zone.
        for i in 0..self.fleet.slots.len() {
            if usize::from(self.fleet.slots[i].zone) == z {
                self.crash(
                    now,
                    BackendId::from_index(i),
                    LossCause::Failure,
                    CrashMode::Reset,
                );
            }
        }
    }

    pub(super) fn on_zone_up(&mut self, now: Nanos, z: usize) {
        self.fleet.zone_down[z] = false;
        for i in 0..self.fleet.slots.len() {
            if usize::from(self.fleet.slots[i].zone) == z {
                self.recover(now, BackendId::from_index(i));
            }
        }
    }

    pub(super) fn on_slow(&mut self, now: Nanos, i: usize, on: bool) {
        let Fault::Slow {
            backend, factor, ..
        } = self.sc.faults[i]
        else {
            return;
        };
        if self.fleet.slots[backend].life == Life::Absent {
            return;
        }
        let base = self.fleet.slots[backend].base_speed;
        self.fleet.backends[backend].speed = if on { base / factor } else { base };
        let kind = if on {
            ControlKind::SlowStart
        } else {
            ControlKind::SlowEnd
        };
        self.event(now, kind, Some(BackendId::from_index(backend)));
    }

    // ---- instances: launch, boot, drain, stop ----

    /// Backend `b`'s weight once any slow start is over.
    fn full_weight(&self, b: BackendId) -> u32 {
        self.fleet.unit_weights[b.index()] * self.lb.full_weight
    }

    /// Launches a new instance in `zone`; returns its slot.
    pub(super) fn launch(
        &mut self,
        now: Nanos,
        zone: u16,
        speed: f64,
        unit_weight: u32,
        boot_ns: Nanos,
        slow_start_ns: Nanos,
    ) -> BackendId {
        let inst = self.fleet.next_instance;
        self.fleet.next_instance = inst.next();
        let addr = self.fleet.addrs.take(inst, &self.lb.pool);
        let weight = unit_weight * self.lb.full_weight;
        // The lowest free slot, so names stay small and memory bounded.
        let b = match self
            .fleet
            .free_slots
            .iter()
            .enumerate()
            .min_by_key(|(_, &b)| b)
        {
            Some((k, _)) => {
                let b = self.fleet.free_slots.swap_remove(k);
                let bi = b.index();
                let be = &mut self.fleet.backends[bi];
                debug_assert!(be.in_service.is_empty() && be.queue.is_empty());
                be.alive = false;
                be.speed = speed;
                be.pinned = 0;
                self.lb.pool.set_addr(b, addr);
                self.lb.pool.set_weight(b, weight);
                self.fleet.unit_weights[bi] = unit_weight;
                let old_gen = self.fleet.slots[bi].check_gen;
                let end_causes = std::mem::take(&mut self.fleet.slots[bi].end_causes);
                self.fleet.slots[bi] = Slot::new(zone, inst, now, speed);
                self.fleet.slots[bi].end_causes = end_causes;
                self.fleet.slots[bi].check_gen = old_gen;
                b
            }
            None => {
                let capacity = capacity(&self.sc.backends);
                let mut be = Backend::new(
                    speed,
                    self.sc.backends.workers,
                    self.sc.backends.queue_limit,
                );
                be.alive = false;
                self.fleet.backends.push(be);
                let id = self.lb.pool.push(BackendView {
                    addr,
                    weight,
                    health: Health::Down,
                    outstanding: 0,
                    capacity,
                });
                let r = self.out.rec.add_backend(now);
                debug_assert_eq!(
                    (id.index(), r),
                    (self.fleet.backends.len() - 1, self.fleet.backends.len() - 1)
                );
                self.fleet.slots.push(Slot::new(zone, inst, now, speed));
                self.fleet.unit_weights.push(unit_weight);
                id
            }
        };
        self.out.rec.set_present(b.index(), now, true);
        if let Some(p) = &mut self.lb.passive {
            p.reset(b);
        }
        let slot = &mut self.fleet.slots[b.index()];
        slot.life = Life::Booting;
        slot.announced = false;
        slot.slow_start_ns = slow_start_ns;
        if random_fault(&self.sc.faults).is_some() {
            slot.fault_rng = Some(stream(
                self.sc.simulation.seed,
                Stream::Faults,
                inst.stream_index(),
            ));
        }
        self.event(now, ControlKind::BootStart, Some(b));
        self.schedule_checks(now, b);
        self.q
            .schedule(now.saturating_add(boot_ns), Ev::Booted { b, inst });
        self.schedule_random_crash(now, b);
        b
    }

    pub(super) fn on_booted(&mut self, b: BackendId, inst: InstanceNo) {
        let bi = b.index();
        let slot = &mut self.fleet.slots[bi];
        if slot.instance != inst || slot.life != Life::Booting {
            return;
        }
        slot.life = Life::Active;
        // In a zone that is out it comes up with its zone (`on_zone_up`).
        if !self.fleet.zone_down[usize::from(slot.zone)] {
            self.fleet.backends[bi].alive = true;
        }
    }

    pub(super) fn on_ramp(&mut self, now: Nanos, b: BackendId, inst: InstanceNo) {
        let bi = b.index();
        let slot = &self.fleet.slots[bi];
        if slot.instance != inst || slot.life == Life::Absent {
            return;
        }
        let len = slot.slow_start_ns;
        let full = self.full_weight(b);
        let w = ramp_weight(full, now - slot.ramp_from_ns, len);
        self.lb.pool.set_weight(b, w);
        if w < full {
            self.q.schedule(
                now.saturating_add((len / RAMP_STEPS).max(1)),
                Ev::Ramp { b, inst },
            );
        }
    }

    /// Deregisters backend `bi` for `cause`: it drains for `delay_ns`, then stops.
    pub(super) fn retire(&mut self, now: Nanos, b: BackendId, cause: LossCause, delay_ns: Nanos) {
        let bi = b.index();
        let slot = &mut self.fleet.slots[bi];
        debug_assert!(slot.life == Life::Active);
        slot.life = Life::Draining;
        slot.retire = Some(cause);
        let inst = slot.instance;
        if self.lb.pool.get(b).health == Health::Up {
            self.set_health(now, b, Health::Draining);
        }
        self.event(now, ControlKind::DrainStart, Some(b));
        if delay_ns == 0 {
            self.stop(now, b);
        } else {
            self.q
                .schedule(now.saturating_add(delay_ns), Ev::DrainEnd { b, inst });
        }
    }

    pub(super) fn on_drain_end(&mut self, now: Nanos, b: BackendId, inst: InstanceNo) {
        let bi = b.index();
        let slot = &self.fleet.slots[bi];
        if slot.instance == inst && slot.life == Life::Draining {
            self.stop(now, b);
        }
    }

    /// The end of a drain: the instance stops; what is left on it is lost.
    pub(super) fn stop(&mut self, now: Nanos, b: BackendId) {
        let bi = b.index();
        let cause = self.fleet.slots[bi].retire.unwrap_or(LossCause::Failure);
        self.fleet.backends[bi].alive = false;
        // What a stop leaves in flight is cut off, whatever a crash did.
        self.fleet.slots[bi].down_mode = CrashMode::Reset;
        self.end_epoch(now, b, cause);
        self.release_held(now, b, self.fleet.slots[bi].instance);
        self.set_health(now, b, Health::Down);
        // The target is gone, not down: pins naming it are dropped and
        // cookies naming it no longer decode, so under `reject` its sessions
        // are re-placed (and counted lost to `cause`) rather than refused
        // until their pin expires.
        self.fleet.addrs.release(&self.lb.pool, b);
        self.lb.pool.set_addr(b, STOPPED_ADDR);
        self.lb.router.forget(b);
        let slot = &mut self.fleet.slots[bi];
        slot.life = Life::Absent;
        slot.check_gen += 1;
        self.out.rec.set_present(bi, now, false);
        self.fleet.free_slots.push(b);
        self.event(now, ControlKind::Stopped, Some(b));
    }

    /// The zone with the fewest serving instances that is not out.
    pub(super) fn emptiest_zone(&self) -> u16 {
        let mut count = vec![0u32; self.fleet.zone_down.len()];
        for s in &self.fleet.slots {
            if s.serving() {
                count[usize::from(s.zone)] += 1;
            }
        }
        (0..count.len())
            .filter(|&z| !self.fleet.zone_down[z])
            .min_by_key(|&z| (count[z], z))
            .unwrap_or(0) as u16
    }

    // ---- rolling deploys ----

    pub(super) fn on_deploy_start(&mut self, now: Nanos, i: usize) {
        let todo = self
            .fleet
            .slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.life == Life::Active)
            .map(|(b, s)| (BackendId::from_index(b), s.instance))
            .collect();
        self.fleet.deploys.push(DeployRun {
            index: i,
            todo,
            batch_old: Vec::new(),
            batch_new: Vec::new(),
        });
        self.next_batch(now, self.fleet.deploys.len() - 1);
    }

    pub(super) fn next_batch(&mut self, now: Nanos, k: usize) {
        let d = &self.sc.deploys[self.fleet.deploys[k].index];
        let batch = d.batch_size as usize;
        let mut old = Vec::with_capacity(batch);
        while old.len() < batch {
            let Some((b, inst)) = self.fleet.deploys[k].todo.pop_front() else {
                break;
            };
            let s = &self.fleet.slots[b.index()];
            if s.instance == inst && s.life == Life::Active {
                old.push((b, inst));
            }
        }
        let mut new = Vec::with_capacity(old.len());
        for &(b, _) in &old {
            let s = &self.fleet.slots[b.index()];
            let (zone, speed) = (s.zone, s.base_speed);
            // A replacement keeps the weight of the instance it replaces.
            let w = self.fleet.unit_weights[b.index()];
            let nb = self.launch(now, zone, speed, w, d.boot_time_ns, d.slow_start_ns);
            new.push((nb, self.fleet.slots[nb.index()].instance));
        }
        let run = &mut self.fleet.deploys[k];
        run.batch_old = old;
        run.batch_new = new;
    }

    /// Backend `b` entered service for the first time: if it is a deploy's
    /// replacement and the last of its batch, the batch's old instances
    /// drain and the next batch follows after the pause.
    pub(super) fn deploy_in_service(&mut self, now: Nanos, b: BackendId) {
        let inst = self.fleet.slots[b.index()].instance;
        for k in 0..self.fleet.deploys.len() {
            let run = &mut self.fleet.deploys[k];
            let Some(pos) = run.batch_new.iter().position(|&x| x == (b, inst)) else {
                continue;
            };
            run.batch_new.swap_remove(pos);
            if !run.batch_new.is_empty() {
                return;
            }
            let d = &self.sc.deploys[run.index];
            let old = std::mem::take(&mut run.batch_old);
            for (ob, i) in old {
                let s = &self.fleet.slots[ob.index()];
                if s.instance == i && s.life == Life::Active {
                    self.retire(now, ob, LossCause::Deploy, d.deregistration_delay_ns);
                }
            }
            if !self.fleet.deploys[k].todo.is_empty() {
                self.q
                    .schedule(now.saturating_add(d.pause_ns), Ev::DeployBatch(k));
            }
            return;
        }
    }

    // ---- autoscaling ----

    pub(super) fn on_evaluate(&mut self, now: Nanos) {
        let Some(cfg) = self.fleet.autoscaler.as_ref().map(|a| a.cfg.clone()) else {
            return;
        };
        self.q
            .schedule(now.saturating_add(cfg.evaluation_period_ns), Ev::Evaluate);
        self.advance_integrals(now);
        let u = &mut self.fleet.util;
        let (busy, up) = (u.up_busy_int, u.up_int);
        let (pb, pu) = u.eval_prev;
        u.eval_prev = (busy, up);
        let util = (up > pu)
            .then(|| (busy - pb) as f64 / ((up - pu) as f64 * self.sc.backends.workers as f64));
        let in_service = self.lb.pool.up().len() as u32;
        let slots = &self.fleet.slots;
        let serving = slots.iter().filter(|s| s.serving()).count() as u32;
        let booting = slots.iter().filter(|s| s.serving() && !s.announced).count() as u32;
        let decision = self
            .fleet
            .autoscaler
            .as_mut()
            .expect("checked above")
            .evaluate(now, util, in_service, serving, booting);
        match decision {
            Scale::Hold => {}
            Scale::Out(n) => {
                let n = n.min(cfg.max.saturating_sub(serving));
                let b = &self.sc.backends;
                let speed = b.launch_speed.unwrap_or(b.speeds[0]);
                // A new instance's weight is the first backend's.
                let w = self.sc.backends.fleet.weight(0);
                for _ in 0..n {
                    let zone = self.emptiest_zone();
                    let b = self.launch(now, zone, speed, w, cfg.boot_time_ns, cfg.slow_start_ns);
                    // `scale_out` goes before the `boot_start` launch wrote.
                    let at = self.out.events.len() - 1;
                    self.out.events.insert(
                        at,
                        ControlEvent {
                            t_ns: now,
                            kind: ControlKind::ScaleOut,
                            backend: Some(b.0),
                        },
                    );
                }
            }
            Scale::In(n) => {
                let n = n.min(serving.saturating_sub(cfg.min)) as usize;
                let pool = &self.lb.pool;
                let backends = &self.fleet.backends;
                let mut candidates: Vec<(BackendId, Nanos, u32)> = self
                    .fleet
                    .slots
                    .iter()
                    .enumerate()
                    .map(|(i, s)| (BackendId::from_index(i), s))
                    .filter(|&(b, s)| {
                        s.life == Life::Active && s.announced && pool.get(b).health == Health::Up
                    })
                    .map(|(b, s)| (b, s.launched_ns, backends[b.index()].pinned))
                    .collect();
                for b in pick_victims(cfg.victim, &mut candidates, n) {
                    self.event(now, ControlKind::ScaleIn, Some(b));
                    self.retire(now, b, LossCause::ScaleIn, cfg.deregistration_delay_ns);
                }
            }
        }
    }
}

/// The `random` fault's `(mtbf_ns, mttr_ns)`, if the scenario has one.
pub(super) fn random_fault(faults: &[Fault]) -> Option<(Nanos, Nanos)> {
    faults.iter().find_map(|f| match *f {
        Fault::Random { mtbf_ns, mttr_ns } => Some((mtbf_ns, mttr_ns)),
        _ => None,
    })
}

/// An exponential time with mean `mean_ns`, at least 1 ns.
fn exp_ns(rng: &mut SimRng, mean_ns: Nanos) -> Nanos {
    let x: f64 = rng.sample(Exp1);
    s_to_ns(x * mean_ns as f64 / 1e9).max(1)
}
