//! The control plane inside the engine loop: health checks, faults,
//! launching, draining and stopping instances, rolling deploys and the
//! autoscaler's decisions applied to the fleet. The decisions themselves
//! (thresholds, target tracking, victims, slow-start weights) live in
//! [`crate::control`]; this applies them to the world's backends and pool.

use super::{instance_addr, Ev, TraceKind, World, RAMP_STEPS, STOPPED_ADDR};
use crate::control::{pick_victims, ramp_weight, DeployRun, Life, Scale, Slot};
use crate::metrics::{ControlEvent, ControlKind, LossCause};
use crate::model::Backend;
use crate::routing::{BackendId, BackendView, Health};
use crate::scenario::{secs_to_ns as s_to_ns, Fault};
use crate::sim::{stream, Nanos, SimRng, Stream};
use rand::Rng;
use rand_distr::Exp1;

impl World<'_> {
    // ---- health checks ----

    pub(super) fn schedule_checks(&mut self, now: Nanos, bi: usize) {
        let slot = &mut self.slots[bi];
        slot.check_gen += 1;
        let gen = slot.check_gen;
        let interval = self.sc.health_check.interval_ns.max(1);
        let mut phase = stream(
            self.sc.simulation.seed,
            Stream::Health,
            1 + slot.instance as u64,
        );
        let offset = phase.gen_range(0..interval);
        self.q
            .schedule(now.saturating_add(offset), Ev::Check { b: bi as u32, gen });
    }

    pub(super) fn on_check(&mut self, now: Nanos, bi: usize, gen: u32) {
        if self.slots[bi].check_gen != gen {
            return; // the instance this chain probed is gone
        }
        let hc = &self.sc.health_check;
        self.q.schedule(
            now.saturating_add(hc.interval_ns),
            Ev::Check { b: bi as u32, gen },
        );
        if !self.backends[bi].alive {
            // The probe times out.
            self.q.schedule(
                now.saturating_add(hc.timeout_ns),
                Ev::CheckFailed { b: bi as u32, gen },
            );
            return;
        }
        let healthy = self.slots[bi].health.ok(hc.healthy_threshold);
        let id = BackendId(bi as u32);
        if healthy
            && self.pool.get(id).health == Health::Down
            && self.slots[bi].life == Life::Active
        {
            self.set_health(now, bi, Health::Up);
            let slot = &mut self.slots[bi];
            if slot.announced {
                self.event(now, ControlKind::MarkedUp, Some(bi));
            } else {
                slot.announced = true;
                let ramp = slot.slow_start_ns;
                let inst = slot.instance;
                self.event(now, ControlKind::InService, Some(bi));
                if ramp > 0 {
                    self.slots[bi].ramp_from_ns = now;
                    self.pool
                        .set_weight(id, ramp_weight(self.full_weight, 0, ramp));
                    self.q.schedule(
                        now.saturating_add((ramp / RAMP_STEPS).max(1)),
                        Ev::Ramp { b: bi as u32, inst },
                    );
                }
                self.deploy_in_service(now, bi);
            }
        }
    }

    pub(super) fn on_check_failed(&mut self, now: Nanos, bi: usize, gen: u32) {
        if self.slots[bi].check_gen != gen {
            return;
        }
        let hc = &self.sc.health_check;
        let unhealthy = self.slots[bi].health.failed(hc.unhealthy_threshold);
        let h = self.pool.get(BackendId(bi as u32)).health;
        if unhealthy && h != Health::Down {
            self.set_health(now, bi, Health::Down);
            self.event(now, ControlKind::MarkedDown, Some(bi));
        }
    }

    // ---- failures ----

    /// Ends incarnation `epoch` of backend `bi`: its state and in-flight
    /// requests are gone.
    pub(super) fn end_epoch(&mut self, now: Nanos, bi: usize, cause: LossCause) {
        let be = &mut self.backends[bi];
        be.epoch += 1;
        be.pinned = 0;
        self.slots[bi].end_causes.push(cause);
        debug_assert_eq!(self.slots[bi].end_causes.len(), be.epoch as usize);
        // Taken out while their sessions go on (which never dispatches at
        // once), then put back empty to keep their allocations.
        let mut in_service = std::mem::take(&mut be.in_service);
        let mut queue = std::mem::take(&mut be.queue);
        for &rid in in_service.iter().chain(&queue) {
            let r = self.requests.remove(rid);
            if r.measured {
                self.rec.failed += 1;
            }
            self.log(now, r.session, TraceKind::Failed(BackendId(bi as u32)));
            self.continue_session(now, r.session);
        }
        in_service.clear();
        queue.clear();
        let be = &mut self.backends[bi];
        be.in_service = in_service;
        be.queue = queue;
        self.backend_state(bi, now);
        self.pool.reset_outstanding(BackendId(bi as u32));
    }

    pub(super) fn crash(&mut self, now: Nanos, bi: usize, cause: LossCause) {
        let life = self.slots[bi].life;
        if !self.backends[bi].alive || !matches!(life, Life::Active | Life::Draining) {
            return;
        }
        self.backends[bi].alive = false;
        self.event(now, ControlKind::Crash, Some(bi));
        self.end_epoch(now, bi, cause);
    }

    pub(super) fn recover(&mut self, now: Nanos, bi: usize) {
        let slot = &self.slots[bi];
        if self.backends[bi].alive
            || self.zone_down[slot.zone as usize]
            || !matches!(slot.life, Life::Active | Life::Draining)
        {
            return;
        }
        self.backends[bi].alive = true;
        self.event(now, ControlKind::Recover, Some(bi));
    }

    pub(super) fn schedule_random_crash(&mut self, now: Nanos, bi: usize) {
        let Some((mtbf_ns, _)) = random_fault(&self.sc.faults) else {
            return;
        };
        let slot = &mut self.slots[bi];
        let Some(rng) = &mut slot.fault_rng else {
            return;
        };
        let at = now.saturating_add(exp_ns(rng, mtbf_ns));
        self.q.schedule(
            at,
            Ev::RandCrash {
                b: bi as u32,
                inst: slot.instance,
            },
        );
    }

    pub(super) fn on_rand_crash(&mut self, now: Nanos, bi: usize, inst: u32) {
        if self.slots[bi].instance != inst || self.slots[bi].life == Life::Absent {
            return;
        }
        if !self.backends[bi].alive {
            // Booting or already down: this failure does not happen; draw the next.
            return self.schedule_random_crash(now, bi);
        }
        self.crash(now, bi, LossCause::Failure);
        let Some((_, mttr_ns)) = random_fault(&self.sc.faults) else {
            return;
        };
        let rng = self.slots[bi]
            .fault_rng
            .as_mut()
            .expect("random faults give every instance a stream");
        let at = now.saturating_add(exp_ns(rng, mttr_ns));
        self.q.schedule(at, Ev::RandRecover { b: bi as u32, inst });
    }

    pub(super) fn on_rand_recover(&mut self, now: Nanos, bi: usize, inst: u32) {
        if self.slots[bi].instance != inst || self.slots[bi].life == Life::Absent {
            return;
        }
        self.recover(now, bi);
        self.schedule_random_crash(now, bi);
    }

    pub(super) fn on_zone_down(&mut self, now: Nanos, z: usize) {
        self.zone_down[z] = true;
        self.event(now, ControlKind::ZoneOutage, None);
        // Running instances crash; booting ones come up with the zone.
        for bi in 0..self.slots.len() {
            if self.slots[bi].zone as usize == z {
                self.crash(now, bi, LossCause::Failure);
            }
        }
    }

    pub(super) fn on_zone_up(&mut self, now: Nanos, z: usize) {
        self.zone_down[z] = false;
        for bi in 0..self.slots.len() {
            if self.slots[bi].zone as usize == z {
                self.recover(now, bi);
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
        if self.slots[backend].life == Life::Absent {
            return;
        }
        let base = self.slots[backend].base_speed;
        self.backends[backend].speed = if on { base / factor } else { base };
        let kind = if on {
            ControlKind::SlowStart
        } else {
            ControlKind::SlowEnd
        };
        self.event(now, kind, Some(backend));
    }

    // ---- instances: launch, boot, drain, stop ----

    /// Launches a new instance in `zone`; returns its slot.
    pub(super) fn launch(
        &mut self,
        now: Nanos,
        zone: u16,
        speed: f64,
        boot_ns: Nanos,
        slow_start_ns: Nanos,
    ) -> usize {
        let inst = self.next_instance;
        self.next_instance += 1;
        let addr = instance_addr(inst);
        // The lowest free slot, so names stay small and memory bounded.
        let bi = match self.free_slots.iter().enumerate().min_by_key(|(_, &b)| b) {
            Some((k, _)) => {
                let bi = self.free_slots.swap_remove(k) as usize;
                let be = &mut self.backends[bi];
                debug_assert!(be.in_service.is_empty() && be.queue.is_empty());
                be.alive = false;
                be.speed = speed;
                be.pinned = 0;
                let id = BackendId(bi as u32);
                self.pool.set_addr(id, addr);
                self.pool.set_weight(id, self.full_weight);
                let old_gen = self.slots[bi].check_gen;
                let end_causes = std::mem::take(&mut self.slots[bi].end_causes);
                self.slots[bi] = Slot::new(zone, inst, now, speed);
                self.slots[bi].end_causes = end_causes;
                self.slots[bi].check_gen = old_gen;
                bi
            }
            None => {
                let capacity = super::capacity(&self.sc.backends);
                let mut be = Backend::new(
                    speed,
                    self.sc.backends.workers,
                    self.sc.backends.queue_limit,
                );
                be.alive = false;
                self.backends.push(be);
                let id = self.pool.push(BackendView {
                    addr,
                    weight: self.full_weight,
                    health: Health::Down,
                    outstanding: 0,
                    capacity,
                });
                let b = self.rec.add_backend(now);
                debug_assert_eq!(
                    (id.index(), b),
                    (self.backends.len() - 1, self.backends.len() - 1)
                );
                self.slots.push(Slot::new(zone, inst, now, speed));
                self.backends.len() - 1
            }
        };
        self.rec.set_present(bi, now, true);
        let slot = &mut self.slots[bi];
        slot.life = Life::Booting;
        slot.announced = false;
        slot.slow_start_ns = slow_start_ns;
        if random_fault(&self.sc.faults).is_some() {
            slot.fault_rng = Some(stream(self.sc.simulation.seed, Stream::Faults, inst as u64));
        }
        self.event(now, ControlKind::BootStart, Some(bi));
        self.schedule_checks(now, bi);
        self.q.schedule(
            now.saturating_add(boot_ns),
            Ev::Booted { b: bi as u32, inst },
        );
        self.schedule_random_crash(now, bi);
        bi
    }

    pub(super) fn on_booted(&mut self, bi: usize, inst: u32) {
        let slot = &mut self.slots[bi];
        if slot.instance != inst || slot.life != Life::Booting {
            return;
        }
        slot.life = Life::Active;
        // In a zone that is out it comes up with its zone (`on_zone_up`).
        if !self.zone_down[slot.zone as usize] {
            self.backends[bi].alive = true;
        }
    }

    pub(super) fn on_ramp(&mut self, now: Nanos, bi: usize, inst: u32) {
        let slot = &self.slots[bi];
        if slot.instance != inst || slot.life == Life::Absent {
            return;
        }
        let len = slot.slow_start_ns;
        let w = ramp_weight(self.full_weight, now - slot.ramp_from_ns, len);
        self.pool.set_weight(BackendId(bi as u32), w);
        if w < self.full_weight {
            self.q.schedule(
                now.saturating_add((len / RAMP_STEPS).max(1)),
                Ev::Ramp { b: bi as u32, inst },
            );
        }
    }

    /// Deregisters backend `bi` for `cause`: it drains for `delay_ns`, then stops.
    pub(super) fn retire(&mut self, now: Nanos, bi: usize, cause: LossCause, delay_ns: Nanos) {
        let slot = &mut self.slots[bi];
        debug_assert!(slot.life == Life::Active);
        slot.life = Life::Draining;
        slot.retire = Some(cause);
        let inst = slot.instance;
        if self.pool.get(BackendId(bi as u32)).health == Health::Up {
            self.set_health(now, bi, Health::Draining);
        }
        self.event(now, ControlKind::DrainStart, Some(bi));
        if delay_ns == 0 {
            self.stop(now, bi);
        } else {
            self.q.schedule(
                now.saturating_add(delay_ns),
                Ev::DrainEnd { b: bi as u32, inst },
            );
        }
    }

    pub(super) fn on_drain_end(&mut self, now: Nanos, bi: usize, inst: u32) {
        let slot = &self.slots[bi];
        if slot.instance == inst && slot.life == Life::Draining {
            self.stop(now, bi);
        }
    }

    /// The end of a drain: the instance stops; what is left on it is lost.
    pub(super) fn stop(&mut self, now: Nanos, bi: usize) {
        let cause = self.slots[bi].retire.unwrap_or(LossCause::Failure);
        self.backends[bi].alive = false;
        self.end_epoch(now, bi, cause);
        self.set_health(now, bi, Health::Down);
        // The target is gone, not down: pins naming it are dropped and
        // cookies naming it no longer decode, so under `reject` its sessions
        // are re-placed (and counted lost to `cause`) rather than refused
        // until their pin expires.
        let id = BackendId(bi as u32);
        self.pool.set_addr(id, STOPPED_ADDR);
        self.router.forget(id);
        let slot = &mut self.slots[bi];
        slot.life = Life::Absent;
        slot.check_gen += 1;
        self.rec.set_present(bi, now, false);
        self.free_slots.push(bi as u32);
        self.event(now, ControlKind::Stopped, Some(bi));
    }

    /// The zone with the fewest serving instances that is not out.
    pub(super) fn emptiest_zone(&self) -> u16 {
        let mut count = vec![0u32; self.zone_down.len()];
        for s in &self.slots {
            if s.serving() {
                count[s.zone as usize] += 1;
            }
        }
        (0..count.len())
            .filter(|&z| !self.zone_down[z])
            .min_by_key(|&z| (count[z], z))
            .unwrap_or(0) as u16
    }

    // ---- rolling deploys ----

    pub(super) fn on_deploy_start(&mut self, now: Nanos, i: usize) {
        let todo = self
            .slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.life == Life::Active)
            .map(|(b, s)| (b as u32, s.instance))
            .collect();
        self.deploys.push(DeployRun {
            index: i,
            todo,
            batch_old: Vec::new(),
            batch_new: Vec::new(),
        });
        self.next_batch(now, self.deploys.len() - 1);
    }

    pub(super) fn next_batch(&mut self, now: Nanos, k: usize) {
        let d = &self.sc.deploys[self.deploys[k].index];
        let mut old = Vec::with_capacity(d.batch_size as usize);
        while old.len() < d.batch_size as usize {
            let Some((b, inst)) = self.deploys[k].todo.pop_front() else {
                break;
            };
            let s = &self.slots[b as usize];
            if s.instance == inst && s.life == Life::Active {
                old.push((b, inst));
            }
        }
        let mut new = Vec::with_capacity(old.len());
        for &(b, _) in &old {
            let s = &self.slots[b as usize];
            let (zone, speed) = (s.zone, s.base_speed);
            let nb = self.launch(now, zone, speed, d.boot_time_ns, d.slow_start_ns);
            new.push((nb as u32, self.slots[nb].instance));
        }
        let run = &mut self.deploys[k];
        run.batch_old = old;
        run.batch_new = new;
    }

    /// Backend `bi` entered service for the first time: if it is a deploy's
    /// replacement and the last of its batch, the batch's old instances
    /// drain and the next batch follows after the pause.
    pub(super) fn deploy_in_service(&mut self, now: Nanos, bi: usize) {
        let inst = self.slots[bi].instance;
        for k in 0..self.deploys.len() {
            let run = &mut self.deploys[k];
            let Some(pos) = run
                .batch_new
                .iter()
                .position(|&(b, i)| b as usize == bi && i == inst)
            else {
                continue;
            };
            run.batch_new.swap_remove(pos);
            if !run.batch_new.is_empty() {
                return;
            }
            let d = &self.sc.deploys[run.index];
            let old = std::mem::take(&mut run.batch_old);
            for (b, i) in old {
                let s = &self.slots[b as usize];
                if s.instance == i && s.life == Life::Active {
                    self.retire(
                        now,
                        b as usize,
                        LossCause::Deploy,
                        d.deregistration_delay_ns,
                    );
                }
            }
            if !self.deploys[k].todo.is_empty() {
                self.q
                    .schedule(now.saturating_add(d.pause_ns), Ev::DeployBatch(k as u32));
            }
            return;
        }
    }

    // ---- autoscaling ----

    pub(super) fn on_evaluate(&mut self, now: Nanos) {
        let Some(cfg) = self.autoscaler.as_ref().map(|a| a.cfg.clone()) else {
            return;
        };
        self.q
            .schedule(now.saturating_add(cfg.evaluation_period_ns), Ev::Evaluate);
        self.advance_integrals(now);
        let (busy, up) = (self.up_busy_int, self.up_int);
        let (pb, pu) = self.eval_prev;
        self.eval_prev = (busy, up);
        let util = (up > pu)
            .then(|| (busy - pb) as f64 / ((up - pu) as f64 * self.sc.backends.workers as f64));
        let in_service = self.pool.up().len() as u32;
        let serving = self.slots.iter().filter(|s| s.serving()).count() as u32;
        let booting = self
            .slots
            .iter()
            .filter(|s| s.serving() && !s.announced)
            .count() as u32;
        let decision = self
            .autoscaler
            .as_mut()
            .expect("checked above")
            .evaluate(now, util, in_service, serving, booting);
        match decision {
            Scale::Hold => {}
            Scale::Out(n) => {
                let n = n.min(cfg.max.saturating_sub(serving));
                let speed = self.sc.backends.speeds[0];
                for _ in 0..n {
                    let zone = self.emptiest_zone();
                    let bi = self.launch(now, zone, speed, cfg.boot_time_ns, cfg.slow_start_ns);
                    // `scale_out` goes before the `boot_start` launch wrote.
                    let at = self.events.len() - 1;
                    self.events.insert(
                        at,
                        ControlEvent {
                            t_ns: now,
                            kind: ControlKind::ScaleOut,
                            backend: Some(bi as u32),
                        },
                    );
                }
            }
            Scale::In(n) => {
                let n = n.min(serving.saturating_sub(cfg.min)) as usize;
                let mut candidates: Vec<(u32, Nanos, u32)> = self
                    .slots
                    .iter()
                    .enumerate()
                    .filter(|(b, s)| {
                        s.life == Life::Active
                            && s.announced
                            && self.pool.get(BackendId(*b as u32)).health == Health::Up
                    })
                    .map(|(b, s)| (b as u32, s.launched_ns, self.backends[b].pinned))
                    .collect();
                for b in pick_victims(cfg.victim, &mut candidates, n) {
                    self.event(now, ControlKind::ScaleIn, Some(b as usize));
                    self.retire(
                        now,
                        b as usize,
                        LossCause::ScaleIn,
                        cfg.deregistration_delay_ns,
                    );
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
