//! The events charts mark (crashes, health changes, deploys, scaling): from
//! `events.csv` when the run wrote one, otherwise derived from the
//! `alive` / `lb_up` columns of `backends.csv` (at bucket resolution).

#![allow(missing_docs)] // Some public items here still lack doc comments; remove this as they get them.

use super::{Marker, PALETTE};
use crate::report::data::RunData;
use plotters::style::RGBColor;

/// One event of one strategy's run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunEvent {
    pub time_s: f64,
    /// `crash`, `recover`, `marked_down`, …
    pub event: String,
    /// The backend's number, for per-backend events.
    pub backend: Option<u32>,
}

/// Events that change how many instances exist or serve (deploys, scaling).
pub const CAPACITY_EVENTS: &[&str] = &[
    "drain_start",
    "stopped",
    "boot_start",
    "in_service",
    "scale_out",
    "scale_in",
];

/// How an event reads on a chart: something broke, something came back,
/// or capacity changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Failure,
    Recovery,
    Change,
}

/// The tone of an event name.
pub fn tone(event: &str) -> Tone {
    match event {
        "crash" | "marked_down" | "zone_outage" | "store_down" => Tone::Failure,
        "recover" | "marked_up" | "store_up" => Tone::Recovery,
        _ => Tone::Change,
    }
}

/// The colour events of this tone are marked in.
pub fn tone_colour(t: Tone) -> RGBColor {
    match t {
        Tone::Failure => PALETTE[3],  // vermillion
        Tone::Recovery => PALETTE[2], // bluish green
        Tone::Change => RGBColor(90, 90, 90),
    }
}

/// Strategy `s`'s events, in time order.
pub fn events_for(data: &RunData, s: usize) -> Vec<RunEvent> {
    let mut out: Vec<RunEvent> = match &data.events {
        Some(ev) => ev
            .iter()
            .filter(|e| e.strategy == s)
            .map(|e| RunEvent {
                time_s: e.time_s,
                event: e.event.clone(),
                backend: e.backend.strip_prefix('b').and_then(|n| n.parse().ok()),
            })
            .collect(),
        None => derived_events(data, s),
    };
    out.sort_by(|a, b| {
        a.time_s
            .total_cmp(&b.time_s)
            .then(a.backend.cmp(&b.backend))
            .then(a.event.cmp(&b.event))
    });
    out
}

/// Crashes and recoveries, and health-check marks, read off bucket-end
/// states: an event is placed at the start of the bucket in which the state
/// changed.
fn derived_events(data: &RunData, s: usize) -> Vec<RunEvent> {
    let mut out = Vec::new();
    let mut last: Vec<(bool, bool)> = vec![(true, true); data.backend_count as usize];
    for r in data.backend_rows(s) {
        let prev = &mut last[r.backend as usize];
        let mut push = |event: &str| {
            out.push(RunEvent {
                time_s: r.t_start_s,
                event: event.to_string(),
                backend: Some(r.backend),
            })
        };
        if prev.0 != r.alive {
            push(if r.alive { "recover" } else { "crash" });
        }
        if prev.1 != r.lb_up {
            push(if r.lb_up { "marked_up" } else { "marked_down" });
        }
        *prev = (r.alive, r.lb_up);
    }
    out
}

/// Vertical markers for `events` on a time axis in units of `div` seconds
/// spanning `span` units: events closer than 1 % of the span share one
/// marker; with more than `max_labelled` markers, labels are left off.
pub fn markers(events: &[RunEvent], div: f64, span: f64, max_labelled: usize) -> Vec<Marker> {
    let mut groups: Vec<(f64, Vec<&RunEvent>)> = Vec::new();
    for e in events {
        let x = e.time_s / div;
        match groups.last_mut() {
            Some((gx, g)) if x - *gx <= span * 0.01 => g.push(e),
            _ => groups.push((x, vec![e])),
        }
    }
    let labelled = groups.len() <= max_labelled;
    groups
        .into_iter()
        .map(|(x, g)| {
            let first = g[0];
            let mut label = event_label(first);
            if g.len() > 1 {
                label.push_str(&format!(" +{}", g.len() - 1));
            }
            Marker {
                x,
                label: if labelled { label } else { String::new() },
                colour: tone_colour(tone(&first.event)),
            }
        })
        .collect()
}

/// "b3 crash", or the event alone for run-wide ones.
pub fn event_label(e: &RunEvent) -> String {
    match e.backend {
        Some(b) => format!("b{b} {}", e.event.replace('_', " ")),
        None => e.event.replace('_', " "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(t: f64, e: &str, b: Option<u32>) -> RunEvent {
        RunEvent {
            time_s: t,
            event: e.into(),
            backend: b,
        }
    }

    #[test]
    fn close_events_share_a_marker() {
        let evs = [
            ev(100.0, "crash", Some(3)),
            ev(101.0, "marked_down", Some(3)),
            ev(900.0, "recover", Some(3)),
        ];
        let m = markers(&evs, 60.0, 20.0, 10);
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].label, "b3 crash +1");
        assert_eq!(m[1].label, "b3 recover");
        assert_eq!(m[1].colour, tone_colour(Tone::Recovery));
        assert!(markers(&evs, 60.0, 20.0, 1)
            .iter()
            .all(|m| m.label.is_empty()));
    }
}
