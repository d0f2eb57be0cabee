//! Tests against real programs: differential tests against nginx and
//! HAProxy, and the Slurm recipe of `docs/distributed.md` on a one-node
//! cluster, and `report.html` in headless Chromium (each skipped with a notice when the programs are not
//! installed, required under CI).

mod behaviour;
mod browser;
mod harness;
mod import_export;
mod placement;
mod slurm;
