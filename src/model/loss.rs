//! Why a session lost its state: the product's headline metric, broken
//! down by cause. Attribution itself is [`super::state::land`].

/// Why a session's next request reached a backend without its state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LossCause {
    /// The backend holding the state crashed.
    Failure,
    /// The client's source address changed (mobile churn, CGNAT).
    IpChange,
    /// The client does not return cookies.
    CookieBlocked,
    /// The affinity cookie expired.
    TtlExpired,
    /// The strategy sent it elsewhere: no affinity, a re-hash after a
    /// health change, or a redispatch from a full or down pin.
    Rebalanced,
    /// The client's API token rotated and the header hash moved it.
    TokenRotation,
    /// The backend holding the state was replaced by a rolling deploy (the
    /// session was sent elsewhere while it drained, or it stopped).
    Deploy,
    /// The backend holding the state was removed by a scale-in.
    ScaleIn,
}

/// Number of [`LossCause`]s.
pub const LOSS_CAUSES: usize = 8;

impl LossCause {
    /// Every cause, in the order outputs list them.
    pub const ALL: [LossCause; LOSS_CAUSES] = [
        LossCause::Failure,
        LossCause::IpChange,
        LossCause::CookieBlocked,
        LossCause::TtlExpired,
        LossCause::Rebalanced,
        LossCause::TokenRotation,
        LossCause::Deploy,
        LossCause::ScaleIn,
    ];

    /// The cause's name in outputs (`lost_<name>` columns, traces).
    pub fn name(self) -> &'static str {
        match self {
            LossCause::Failure => "failure",
            LossCause::IpChange => "ip_change",
            LossCause::CookieBlocked => "cookie_blocked",
            LossCause::TtlExpired => "ttl_expired",
            LossCause::Rebalanced => "rebalanced",
            LossCause::TokenRotation => "token_rotation",
            LossCause::Deploy => "deploy",
            LossCause::ScaleIn => "scale_in",
        }
    }

    /// The cause named `name` in outputs (the inverse of [`LossCause::name`]).
    pub fn from_name(name: &str) -> Option<LossCause> {
        LossCause::ALL.into_iter().find(|c| c.name() == name)
    }
}
