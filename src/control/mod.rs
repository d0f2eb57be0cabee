//! Control plane: what changes the fleet while a run goes — health checks,
//! failure injection, rolling deploys and the autoscaler.
//!
//! This module holds the controllers' state and decisions; the engine owns
//! the event loop and applies them to backends and the pool. Everything
//! here is deterministic: decisions depend only on the simulated time and
//! the fleet's state, random failures draw from per-instance streams.
//!
//! The fleet is a vector of *slots*. A slot holds one instance at a time;
//! when an instance stops (end of a drain), its slot is freed and the next
//! launch reuses the lowest free slot, so memory follows the largest fleet,
//! not the number of instances ever launched. A slot's name in outputs is
//! `b<index>`.

pub mod passive;

use crate::model::{Epoch, InstanceNo, LossCause};
use crate::routing::BackendId;
use crate::scenario::{Autoscaling, CrashMode, Victim};
use crate::sim::{Nanos, SimRng};
use std::collections::VecDeque;

/// Where an instance is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Life {
    /// The slot holds no instance.
    Absent,
    /// Launched, not running yet.
    Booting,
    /// Running (or crashed and waiting for repair); registered with the balancer.
    Active,
    /// Deregistered, finishing its sessions until its stop time.
    Draining,
}

/// One backend slot's control state.
#[derive(Debug)]
pub struct Slot {
    /// Where the instance is in its lifecycle (booting, active, draining…).
    pub life: Life,
    /// Index into `Backends::zones`.
    pub zone: u16,
    /// Number of the instance in the slot (0.. in launch order over the run).
    pub instance: InstanceNo,
    /// Simulated time the instance was launched, ns since the start.
    pub launched_ns: Nanos,
    /// Why it is draining (deploy or scale-in).
    pub retire: Option<LossCause>,
    /// `end_causes[e]`: what ended the slot's incarnation (epoch) `e`.
    pub end_causes: Vec<LossCause>,
    /// Bumped to cancel the slot's pending health-check chain.
    pub check_gen: u32,
    /// The load balancer's health-check streaks for this instance.
    pub health: HealthState,
    /// Speed without a slow-down.
    pub base_speed: f64,
    /// Has been marked up once since launch (`in_service` reported).
    pub announced: bool,
    /// Slow-start ramp length for this instance (0 = none).
    pub slow_start_ns: Nanos,
    /// When its slow start began.
    pub ramp_from_ns: Nanos,
    /// This instance's random-failure stream, with `random` faults.
    pub fault_rng: Option<SimRng>,
    /// While crashed: what it does to connections (`crash` `mode`).
    pub down_mode: CrashMode,
}

impl Slot {
    /// What ended the slot's incarnation `e` (an epoch before its current one).
    #[inline]
    pub fn ended_by(&self, e: Epoch) -> LossCause {
        self.end_causes[e.index()]
    }

    /// An active slot in `zone` for `instance`, launched at `launched_ns`,
    /// with no slow start, healthy streaks reset and no incarnation ended yet.
    pub fn new(zone: u16, instance: InstanceNo, launched_ns: Nanos, base_speed: f64) -> Self {
        Slot {
            life: Life::Active,
            zone,
            instance,
            launched_ns,
            retire: None,
            end_causes: Vec::new(),
            check_gen: 0,
            health: HealthState::default(),
            base_speed,
            announced: true,
            slow_start_ns: 0,
            ramp_from_ns: 0,
            fault_rng: None,
            down_mode: CrashMode::Reset,
        }
    }

    /// Counts towards capacity: booting or active, not retiring.
    #[inline]
    pub fn serving(&self) -> bool {
        matches!(self.life, Life::Booting | Life::Active)
    }
}

/// Consecutive health-check results of one backend.
#[derive(Debug, Clone, Copy, Default)]
pub struct HealthState {
    /// Successful probes in a row (reset by a failure).
    pub ok_streak: u32,
    /// Failed (timed-out) probes in a row (reset by a success).
    pub fail_streak: u32,
}

impl HealthState {
    /// A probe succeeded; true when the streak reaches `healthy_threshold`.
    #[inline]
    pub fn ok(&mut self, healthy_threshold: u32) -> bool {
        self.fail_streak = 0;
        self.ok_streak = self.ok_streak.saturating_add(1);
        self.ok_streak >= healthy_threshold
    }

    /// A probe timed out; true when the streak reaches `unhealthy_threshold`.
    #[inline]
    pub fn failed(&mut self, unhealthy_threshold: u32) -> bool {
        self.ok_streak = 0;
        self.fail_streak = self.fail_streak.saturating_add(1);
        self.fail_streak >= unhealthy_threshold
    }
}

/// The slow-start weight of an instance `elapsed` into a ramp of `len`
/// (linear from 1/`full` of full weight to full weight).
#[inline]
pub fn ramp_weight(full: u32, elapsed: Nanos, len: Nanos) -> u32 {
    if len == 0 || elapsed >= len {
        return full;
    }
    ((full as u128 * elapsed as u128 / len as u128) as u32).clamp(1, full)
}

/// What the autoscaler wants done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// Keep the fleet as it is.
    Hold,
    /// Launch this many instances.
    Out(u32),
    /// Retire this many instances.
    In(u32),
}

/// Target tracking on average utilisation, with cooldowns.
#[derive(Debug)]
pub struct Autoscaler {
    /// The scenario's `[autoscaling]` settings (target, bounds, cooldowns).
    pub cfg: Autoscaling,
    /// Utilisation of the last evaluation periods (at most a window's worth).
    samples: VecDeque<f64>,
    last_out_ns: Option<Nanos>,
    last_in_ns: Option<Nanos>,
    /// No scale-in before this time (see [`Autoscaler::after_warmup`]).
    scale_in_from_ns: Nanos,
}

impl Autoscaler {
    /// An autoscaler with no samples yet and no cooldown running.
    pub fn new(cfg: Autoscaling) -> Self {
        let keep = (cfg.metric_window_ns / cfg.evaluation_period_ns) as usize;
        Autoscaler {
            cfg,
            samples: VecDeque::with_capacity(keep),
            last_out_ns: None,
            last_in_ns: None,
            scale_in_from_ns: 0,
        }
    }

    /// The simulated fleet starts with no sessions: during the warm-up
    /// utilisation climbs from 0 to its steady level, which no real fleet
    /// shows. A window that covers any of it understates the load, so the
    /// autoscaler scales in only on a window that lies wholly after the
    /// warm-up (scale-out, which the ramp can only delay, is unaffected).
    pub fn after_warmup(mut self, warmup_ns: Nanos) -> Self {
        if warmup_ns > 0 {
            self.scale_in_from_ns = warmup_ns.saturating_add(self.cfg.metric_window_ns);
        }
        self
    }

    /// One evaluation at `now`: `util` is the in-service instances' average
    /// utilisation over the last period, `in_service` how many take traffic,
    /// `serving` how many are booting or active (not retiring) and
    /// `booting` how many of those are not in service yet.
    pub fn evaluate(
        &mut self,
        now: Nanos,
        util: Option<f64>,
        in_service: u32,
        serving: u32,
        booting: u32,
    ) -> Scale {
        let keep = (self.cfg.metric_window_ns / self.cfg.evaluation_period_ns) as usize;
        if let Some(u) = util {
            if self.samples.len() == keep {
                self.samples.pop_front();
            }
            self.samples.push_back(u);
        }
        let c = &self.cfg;
        // Below the minimum (instances lost to failures are not replaced,
        // but a scale-in never goes below it) or above the maximum: no metric needed.
        if serving < c.min {
            return self.out(now, c.min - serving);
        }
        if self.samples.is_empty() || in_service == 0 {
            return Scale::Hold;
        }
        let mean = self.samples.iter().sum::<f64>() / self.samples.len() as f64;
        let desired = ((in_service as f64 * mean / c.target).ceil() as u32).clamp(c.min, c.max);
        let out_ok = self
            .last_out_ns
            .is_none_or(|t| now >= t.saturating_add(c.scale_out_cooldown_ns));
        let in_ok = self
            .last_in_ns
            .is_none_or(|t| now >= t.saturating_add(c.scale_in_cooldown_ns))
            && out_ok;
        if desired > serving && out_ok {
            return self.out(now, desired - serving);
        }
        // Scale in only on a full window of evidence.
        let full = self.samples.len() == keep;
        if desired < serving && booting == 0 && in_ok && full && now >= self.scale_in_from_ns {
            self.last_in_ns = Some(now);
            return Scale::In(serving - desired);
        }
        Scale::Hold
    }

    fn out(&mut self, now: Nanos, n: u32) -> Scale {
        self.last_out_ns = Some(now);
        Scale::Out(n)
    }
}

/// Picks up to `n` scale-in victims among `candidates`:
/// `(slot, launched_ns, pinned sessions)`, in slot order.
pub fn pick_victims(
    victim: Victim,
    candidates: &mut [(BackendId, Nanos, u32)],
    n: usize,
) -> Vec<BackendId> {
    match victim {
        Victim::Newest => candidates.sort_by(|a, b| b.1.cmp(&a.1).then(b.0.cmp(&a.0))),
        Victim::Oldest => candidates.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0))),
        Victim::LeastSessions => candidates.sort_by(|a, b| a.2.cmp(&b.2).then(a.0.cmp(&b.0))),
    }
    candidates.iter().take(n).map(|c| c.0).collect()
}

/// A rolling deploy in progress.
#[derive(Debug)]
pub struct DeployRun {
    /// Index into `Scenario::deploys`.
    pub index: usize,
    /// Old instances still to replace, `(slot, instance)`, in slot order.
    pub todo: VecDeque<(BackendId, InstanceNo)>,
    /// The current batch's old instances.
    pub batch_old: Vec<(BackendId, InstanceNo)>,
    /// The current batch's replacements, `(slot, instance)`, not in service yet.
    pub batch_new: Vec<(BackendId, InstanceNo)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> Autoscaling {
        Autoscaling {
            min: 2,
            max: 6,
            target: 0.5,
            metric_window_ns: 2,
            evaluation_period_ns: 1,
            scale_out_cooldown_ns: 10,
            scale_in_cooldown_ns: 20,
            boot_time_ns: 0,
            victim: Victim::Oldest,
            deregistration_delay_ns: 0,
            slow_start_ns: 0,
        }
    }

    #[test]
    fn target_tracking_scales_to_hold_the_target_within_bounds() {
        let mut a = Autoscaler::new(cfg());
        // 4 in service at 90 %: wants ceil(4 × 0.9 / 0.5) = 8, capped at 6.
        assert_eq!(a.evaluate(0, Some(0.9), 4, 4, 0), Scale::Out(2));
        // Within the scale-out cooldown: hold.
        assert_eq!(a.evaluate(5, Some(0.9), 4, 6, 2), Scale::Hold);
        // Idle: wants 1, floored at min 2; not while booting.
        assert_eq!(a.evaluate(11, Some(0.0), 6, 6, 1), Scale::Hold);
        assert_eq!(a.evaluate(12, Some(0.0), 6, 6, 0), Scale::In(4));
        // Scale-in cooldown.
        assert_eq!(a.evaluate(20, Some(0.0), 2, 3, 0), Scale::Hold);
        assert_eq!(a.evaluate(32, Some(0.0), 2, 3, 0), Scale::In(1));
    }

    #[test]
    fn the_metric_is_the_mean_over_the_window() {
        let mut a = Autoscaler::new(cfg());
        assert_eq!(a.evaluate(0, Some(0.5), 4, 4, 0), Scale::Hold);
        // Mean of 0.5 and 0.8 over the 2-period window: ceil(4 × 0.65 / 0.5) = 6.
        assert_eq!(a.evaluate(1, Some(0.8), 4, 4, 0), Scale::Out(2));
    }

    #[test]
    fn no_scale_in_on_a_window_that_covers_the_warm_up() {
        // Window 2, warm-up 3: the first window wholly after it ends at 5.
        let mut a = Autoscaler::new(cfg()).after_warmup(3);
        for t in 1..5 {
            assert_eq!(a.evaluate(t, Some(0.1), 4, 4, 0), Scale::Hold, "at {t}");
        }
        assert_eq!(a.evaluate(5, Some(0.1), 4, 4, 0), Scale::In(2));
        // Scale-out is not held back.
        let mut a = Autoscaler::new(cfg()).after_warmup(100);
        assert_eq!(a.evaluate(1, Some(0.9), 4, 4, 0), Scale::Out(2));
    }

    #[test]
    fn victims_follow_the_policy() {
        let base = [(0u32, 0u64, 9u32), (1, 50, 3), (2, 50, 7), (3, 10, 1)]
            .map(|(b, t, n)| (BackendId(b), t, n));
        let ids = |v: &[u32]| v.iter().map(|&b| BackendId(b)).collect::<Vec<_>>();
        let mut c = base;
        assert_eq!(pick_victims(Victim::Newest, &mut c, 2), ids(&[2, 1]));
        let mut c = base;
        assert_eq!(pick_victims(Victim::Oldest, &mut c, 2), ids(&[0, 3]));
        let mut c = base;
        assert_eq!(pick_victims(Victim::LeastSessions, &mut c, 2), ids(&[3, 1]));
    }

    #[test]
    fn slow_start_ramps_linearly() {
        assert_eq!(ramp_weight(100, 0, 100), 1);
        assert_eq!(ramp_weight(100, 50, 100), 50);
        assert_eq!(ramp_weight(100, 100, 100), 100);
        assert_eq!(ramp_weight(100, 7, 0), 100);
    }
}
