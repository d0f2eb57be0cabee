//! Instances' spans in service, read off `events.csv`.

use super::{EventRow, RunData};
use crate::metrics::ControlKind;

/// One instance's uninterrupted time in service (taking new traffic) in a
/// backend slot, read off `events.csv`: slots are reused, so an instance is
/// told apart by its `boot_start`.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceSpan {
    /// The backend slot.
    pub backend: u32,
    /// When it started taking traffic (`in_service`, `marked_up`, or 0 for
    /// an instance present from the start).
    pub from_s: f64,
    /// When it stopped (`drain_start`, `stopped`, `crash`, `marked_down`),
    /// or infinity.
    pub to_s: f64,
    /// Launched during the run (a `boot_start` after t = 0), as opposed to
    /// present from the start.
    pub launched: bool,
    /// When this instance first went into service (its `in_service` event,
    /// or 0 for one present from the start).
    pub first_in_service_s: f64,
}

impl RunData {
    /// The rows of `events.csv` for strategy `s` (none without the file).
    pub fn events_of(&self, s: usize) -> impl Iterator<Item = &EventRow> {
        self.events
            .iter()
            .flatten()
            .filter(move |e| e.strategy == s)
    }

    /// Whether `events.csv` has an `event` for strategy `s`.
    pub fn has_event(&self, s: usize, event: ControlKind) -> bool {
        self.events_of(s).any(|e| e.event == event)
    }

    /// Strategy `s`'s instances' spans in service, from `events.csv` (empty
    /// without it). A slot with a `backends.csv` row starting at t = 0 holds
    /// an instance present from the start.
    pub fn service_spans(&self, s: usize) -> Vec<ServiceSpan> {
        let mut out = Vec::new();
        if self.events.is_none() {
            return out;
        }
        let start = self
            .backend_rows(s)
            .map(|r| r.t_start_s)
            .fold(f64::INFINITY, f64::min);
        for b in 0..self.backend_count {
            let name = format!("b{b}");
            // A slot launched into during the first bucket has a row there
            // too; an instance present from the start has no `boot_start`
            // before its slot is freed (`stopped`).
            let first_change = self.events_of(s).find(|e| {
                e.backend == name
                    && matches!(e.event, ControlKind::BootStart | ControlKind::Stopped)
            });
            let initial = self
                .backend_rows(s)
                .any(|r| r.backend == b && r.t_start_s == start)
                && first_change
                    .is_none_or(|e| e.event != ControlKind::BootStart || e.time_s <= 0.0);
            // (in service since, launched, first in service)
            let mut up: Option<f64> = initial.then_some(0.0);
            let mut launched = false;
            let mut first = 0.0;
            let span = |from_s, to_s, launched, first_in_service_s| ServiceSpan {
                backend: b,
                from_s,
                to_s,
                launched,
                first_in_service_s,
            };
            for e in self.events_of(s).filter(|e| e.backend == name) {
                match e.event {
                    ControlKind::BootStart
                    | ControlKind::DrainStart
                    | ControlKind::Stopped
                    | ControlKind::Crash
                    | ControlKind::MarkedDown
                    | ControlKind::Ejected => {
                        if let Some(from_s) = up.take() {
                            out.push(span(from_s, e.time_s, launched, first));
                        }
                        // A new instance in the slot.
                        if e.event == ControlKind::BootStart {
                            launched = e.time_s > 0.0;
                            first = f64::INFINITY;
                        }
                    }
                    ControlKind::InService | ControlKind::MarkedUp | ControlKind::Returned => {
                        if up.is_none() {
                            up = Some(e.time_s);
                        }
                        if e.event == ControlKind::InService && first.is_infinite() {
                            first = e.time_s;
                        }
                    }
                    _ => {}
                }
            }
            if let Some(from_s) = up {
                out.push(span(from_s, f64::INFINITY, launched, first));
            }
        }
        out
    }
}
