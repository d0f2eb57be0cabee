//! The routing core: a pure library that sees what a real load balancer
//! sees and decides where a request goes.

mod spec;
pub use spec::*;
