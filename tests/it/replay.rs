//! Replaying access logs (`workload.replay`) end to end.
