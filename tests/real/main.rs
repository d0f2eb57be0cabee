//! Differential tests against real nginx and HAProxy (skipped with a
//! notice when they are not installed, required under CI).

mod behaviour;
mod harness;
mod import_export;
mod placement;
