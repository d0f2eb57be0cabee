//! Integration tests, one binary with topic modules.

mod cli;
mod combos;
mod common;
mod compare;
mod decision;
mod elasticity;
mod engine;
mod faults;
mod fleet;
mod fuzz;
mod limits;
mod messages;
mod outputs;
mod queueing;
mod report;
mod returning;
mod route;
mod sanity;
mod scenarios;
mod schema;
mod sweep;
mod sweep_decision;
mod usability;
mod whatif;
