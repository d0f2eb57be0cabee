//! Integration tests, one binary with topic modules.

mod common;
mod engine;
mod queueing;
