//! Typed ids: what the engine's events and tables are indexed by, so a
//! session number is never passed where a request number is expected.
//! (Backends are [`BackendId`](crate::routing::BackendId), the routing
//! core's own id.)

/// A live session's slot in the session arena (reused once it ends; not
/// the session's number in arrival order, which is `Session::no`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SessionId(pub u32);

/// An in-flight request's slot in the request arena.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RequestId(pub u32);

/// The number of an instance, in launch order over a run (the initial
/// fleet is `0..n`); a backend slot holds one instance at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InstanceNo(pub u32);

/// A backend's incarnation: bumped on every crash or stop, so state and
/// completions from a previous life are recognised as gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Epoch(pub u32);

/// An id an arena hands out: a slot number in a typed wrapper.
pub trait ArenaId: Copy {
    /// The id of slot `slot`.
    fn from_slot(slot: u32) -> Self;
    /// The slot this id names.
    fn slot(self) -> u32;
    /// The slot as an index into per-id tables.
    #[inline]
    fn index(self) -> usize {
        self.slot() as usize
    }
}

impl ArenaId for u32 {
    #[inline]
    fn from_slot(slot: u32) -> Self {
        slot
    }
    #[inline]
    fn slot(self) -> u32 {
        self
    }
}

impl ArenaId for SessionId {
    #[inline]
    fn from_slot(slot: u32) -> Self {
        SessionId(slot)
    }
    #[inline]
    fn slot(self) -> u32 {
        self.0
    }
}

impl ArenaId for RequestId {
    #[inline]
    fn from_slot(slot: u32) -> Self {
        RequestId(slot)
    }
    #[inline]
    fn slot(self) -> u32 {
        self.0
    }
}

impl SessionId {
    /// The id as an index into per-session tables.
    #[inline]
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl InstanceNo {
    /// The instance launched after this one.
    #[inline]
    pub fn next(self) -> InstanceNo {
        InstanceNo(self.0 + 1)
    }

    /// The instance's stream index (random failures, health-check phases).
    #[inline]
    pub fn stream_index(self) -> u64 {
        u64::from(self.0)
    }
}

impl Epoch {
    /// The incarnation after this one.
    #[inline]
    pub fn next(self) -> Epoch {
        Epoch(self.0 + 1)
    }

    /// The epoch as an index into per-incarnation tables.
    #[inline]
    pub fn index(self) -> usize {
        self.0 as usize
    }
}
