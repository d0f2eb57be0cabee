//! stickysim: a deterministic discrete-event simulator for load-balancer
//! stickiness trade-offs.

pub mod engine;
pub mod metrics;
pub mod model;
pub mod routing;
pub mod scenario;
pub mod sim;
pub mod report;
pub mod cli;
