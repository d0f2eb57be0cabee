//! stickysim: a deterministic discrete-event simulator for load-balancer
//! stickiness trade-offs.

pub mod cli;
pub mod engine;
pub mod metrics;
pub mod model;
pub mod report;
pub mod routing;
pub mod scenario;
pub mod sim;
