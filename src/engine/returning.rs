//! Users who come back (`[[clients]] cookie_jar = "user"`): a session
//! starts with what its user's jar still holds and leaves its cookies
//! there when it ends ([`crate::model::jar`] keeps them).

use super::world::World;
use crate::model::jar::UserJar;
use crate::model::{Session, SessionId};
use crate::routing::Affinity;
use crate::scenario::CookieJar;
use crate::sim::Nanos;

impl World<'_> {
    /// Whether session `s`'s cookies belong to its user's jar.
    #[inline]
    fn keeps_jar(&self, s: &Session) -> bool {
        !s.blocks_cookies && self.sc.clients[usize::from(s.segment)].cookie_jar == CookieJar::User
    }

    /// How long the load balancer still knows an application cookie after
    /// its last use: the strategy's table timeout (`app_cookie`); `None`
    /// when it keeps no table of them (the cookie then ends with the visit).
    #[inline]
    fn app_cookie_ttl(&self) -> Option<Nanos> {
        (self.lb.affinity == Affinity::AppCookie)
            .then_some(self.lb.idle_timeout_ns)
            .flatten()
    }

    /// New session `sid` at `now`: its client brings its user's cookies.
    pub(super) fn open_jar(&mut self, sid: SessionId, now: Nanos) {
        let s = self.work.sessions.get(sid);
        if !self.keeps_jar(s) {
            return;
        }
        let jar = self.work.jars.open(s.segment, s.user, now);
        let app_kept = self.app_cookie_ttl().is_some();
        let s = self.work.sessions.get_mut(sid);
        s.cookie = jar.lb;
        if app_kept {
            s.app_id = jar.app.map(|(id, _)| id);
        }
    }

    /// Session `s` ended at `now`: its user's browser keeps its cookies.
    pub(super) fn close_jar(&mut self, s: &Session, now: Nanos) {
        if !self.keeps_jar(s) {
            return;
        }
        let app = match (self.app_cookie_ttl(), s.app_id, s.last_routed_ns) {
            (Some(ttl), Some(id), Some(last)) => Some((id, last.saturating_add(ttl))),
            _ => None,
        };
        let jar = UserJar { lb: s.cookie, app };
        self.work.jars.store(s.segment, s.user, now, jar);
    }
}
