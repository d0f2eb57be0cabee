//! stickysim: a deterministic discrete-event simulator for load-balancer
//! stickiness trade-offs.

pub mod routing;
pub mod scenario;
