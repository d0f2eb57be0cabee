//! Integration tests, one binary with topic modules.

mod cli;
mod combos;
mod common;
mod decision;
mod elasticity;
mod engine;
mod faults;
mod queueing;
mod report;
mod route;
mod sanity;
mod scenarios;
mod sweep;
mod usability;
mod whatif;
