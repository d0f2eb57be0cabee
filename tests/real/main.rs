//! Differential tests against real nginx and HAProxy (skipped with a
//! notice when they are not installed, required under CI).

mod harness;
mod placement;
