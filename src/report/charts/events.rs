//! The events charts mark (crashes, health changes, deploys, scaling): from
//! `events.csv` when the run wrote one, otherwise derived from the
//! `alive` / `lb_up` columns of `backends.csv` (at bucket resolution).

use super::{Marker, PALETTE};
use crate::metrics::ControlKind;
use crate::report::data::RunData;
use plotters::style::RGBColor;

/// One event of one strategy's run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunEvent {
    /// When it happened, seconds from the start.
    pub time_s: f64,
    /// What happened.
    pub event: ControlKind,
    /// The backend's number, for per-backend events.
    pub backend: Option<u32>,
}

/// Events that change how many instances exist or serve (deploys, scaling).
pub const CAPACITY_EVENTS: &[ControlKind] = &[
    ControlKind::DrainStart,
    ControlKind::Stopped,
    ControlKind::BootStart,
    ControlKind::InService,
    ControlKind::ScaleOut,
    ControlKind::ScaleIn,
    ControlKind::Replaced,
];

/// How an event reads on a chart: something broke, something came back,
/// or capacity changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// Something broke (a crash, a health mark down, an outage).
    Failure,
    /// Something came back.
    Recovery,
    /// Capacity or speed changed (deploys, scaling, slow periods).
    Change,
}

/// The tone of an event.
pub fn tone(event: ControlKind) -> Tone {
    use ControlKind as K;
    match event {
        K::Crash | K::MarkedDown | K::ZoneOutage | K::StoreDown | K::Ejected => Tone::Failure,
        K::Recover | K::MarkedUp | K::StoreUp | K::Returned => Tone::Recovery,
        K::SlowStart
        | K::SlowEnd
        | K::DrainStart
        | K::Stopped
        | K::BootStart
        | K::InService
        | K::ScaleOut
        | K::ScaleIn
        | K::Replaced => Tone::Change,
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
                event: e.event,
                backend: e.backend.strip_prefix('b').and_then(|n| n.parse().ok()),
            })
            .collect(),
        None => derived_events(data, s),
    };
    out.sort_by(|a, b| {
        a.time_s
            .total_cmp(&b.time_s)
            .then(a.backend.cmp(&b.backend))
            .then(a.event.name().cmp(b.event.name()))
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
        let mut push = |event: ControlKind| {
            out.push(RunEvent {
                time_s: r.t_start_s,
                event,
                backend: Some(r.backend),
            })
        };
        if prev.0 != r.alive {
            push(if r.alive {
                ControlKind::Recover
            } else {
                ControlKind::Crash
            });
        }
        if prev.1 != r.lb_up {
            push(if r.lb_up {
                ControlKind::MarkedUp
            } else {
                ControlKind::MarkedDown
            });
        }
        *prev = (r.alive, r.lb_up);
    }
    out
}

/// Vertical markers for `events` on a time axis in units of `div` seconds
/// spanning `span` units: events closer than 1 % of the span share one
/// marker; with more than `max_labelled` markers, labels are left off.
pub fn markers(events: &[RunEvent], div: f64, span: f64, max_labelled: usize) -> Vec<Marker> {
    let groups = marker_groups(events, div, span);
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
                colour: tone_colour(tone(first.event)),
            }
        })
        .collect()
}

/// Events grouped as [`markers`] groups them: `(x, events)` per marker.
fn marker_groups(events: &[RunEvent], div: f64, span: f64) -> Vec<(f64, Vec<&RunEvent>)> {
    let mut groups: Vec<(f64, Vec<&RunEvent>)> = Vec::new();
    for e in events {
        let x = e.time_s / div;
        match groups.last_mut() {
            Some((gx, g)) if x - *gx <= span * 0.01 => g.push(e),
            _ => groups.push((x, vec![e])),
        }
    }
    groups
}

/// The kinds of event the [`markers`] of `events` are drawn for (a marker
/// takes its colour from its first event), in [`ControlKind::ALL`] order:
/// what a legend of those markers lists.
pub fn marked_kinds(events: &[RunEvent], div: f64, span: f64) -> Vec<ControlKind> {
    let firsts: Vec<ControlKind> = marker_groups(events, div, span)
        .iter()
        .map(|(_, g)| g[0].event)
        .collect();
    ControlKind::ALL
        .iter()
        .copied()
        .filter(|k| firsts.contains(k))
        .collect()
}

/// Legend entries for markers of these kinds: one per tone drawn, in the
/// tone's colour, naming the kinds (`"crash, marked down"`).
pub fn marker_legend(kinds: &[ControlKind]) -> Vec<(String, RGBColor)> {
    [Tone::Failure, Tone::Recovery, Tone::Change]
        .into_iter()
        .filter_map(|t| {
            let names: Vec<String> = kinds
                .iter()
                .filter(|k| tone(**k) == t)
                .map(|k| k.name().replace('_', " "))
                .collect();
            (!names.is_empty()).then(|| (names.join(", "), tone_colour(t)))
        })
        .collect()
}

/// "b3 crash", or the event alone for run-wide ones.
pub fn event_label(e: &RunEvent) -> String {
    match e.backend {
        Some(b) => format!("b{b} {}", e.event.name().replace('_', " ")),
        None => e.event.name().replace('_', " "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(t: f64, e: ControlKind, b: Option<u32>) -> RunEvent {
        RunEvent {
            time_s: t,
            event: e,
            backend: b,
        }
    }

    #[test]
    fn close_events_share_a_marker() {
        let evs = [
            ev(100.0, ControlKind::Crash, Some(3)),
            ev(101.0, ControlKind::MarkedDown, Some(3)),
            ev(900.0, ControlKind::Recover, Some(3)),
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
