//! Engine properties: conservation, determinism, common random numbers,
//! and the session-loss behaviour each strategy family must show.
