//! stickysim: a deterministic discrete-event simulator for load-balancer
//! stickiness trade-offs.
//!
//! A [`scenario`] describes clients, backends, failures and the routing
//! strategies to compare; the [`engine`] pushes one identical workload
//! through each strategy via the [`routing`] core, while [`control`] changes
//! the fleet (health checks, failures, deploys, autoscaling); [`metrics`]
//! gathers what happened and [`report`] writes it out.
//!
//! ```
//! let toml = r#"
//!     [simulation]
//!     duration = 600
//!     warmup = 60
//!     [workload]
//!     session_rate = 2.0
//!     requests_per_session = { dist = "geometric", mean = 5 }
//!     think_time = { dist = "exponential", mean = 5 }
//!     service_time = { dist = "lognormal", mean = 0.05, cv = 1.0 }
//!     [backends]
//!     count = 3
//!     [[strategies]]
//!     name = "rr"
//!     kind = "round_robin"
//!     [[strategies]]
//!     name = "sticky"
//!     kind = "lb_cookie"
//! "#;
//! let sc = stickysim::scenario::from_str(toml, "example.toml", "example", &[]).unwrap();
//! let runs = stickysim::engine::run_strategies(&sc, &[0, 1]);
//! let (rr, sticky) = (&runs[0].summary, &runs[1].summary);
//! // Same workload for both (common random numbers)...
//! assert_eq!(rr.sessions, sticky.sessions);
//! // ...but round robin scatters each session's requests over the backends,
//! // losing in-memory state, while the cookie keeps them together.
//! assert!(rr.sessions_lost > 0);
//! assert_eq!(sticky.sessions_lost, 0);
//! ```

pub mod cli;
pub mod control;
pub mod cost;
pub mod decision;
pub mod engine;
pub mod fit;
pub mod lbconf;
pub mod metrics;
pub mod model;
pub mod outdir;
pub mod replay;
pub mod report;
pub mod routing;
pub mod scenario;
pub mod sim;
pub mod stats;
pub mod sweep;
pub mod text;
