//! Integration tests, one binary with topic modules.

mod cli;
mod common;
mod engine;
mod queueing;
mod report;
mod sweep;
