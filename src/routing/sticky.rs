//! Stateful pins kept by the load balancer: `source_ip_table` (HAProxy
//! `stick on src`, Kubernetes `ClientIP`) and the learned identifiers
//! `app_cookie` (ALB `app_cookie`, nginx `sticky learn`) and `session_id`
//! (HAProxy `stick store-response` + `stick match`).
//!
//! A pin holds while its entry is fresh (sliding idle timeout) and its
//! backend is usable. A pinned backend that is down or full is handled per
//! `on_unavailable`; a draining one per `on_draining`. When a pin moves, the
//! entry is rewritten to the new backend, so — as ALB documents for
//! `app_cookie` — the session stays there even after the old one returns.
//! Source-address pins are stored when the request is routed; learned ones
//! when the application's response carries the identifier
//! ([`Router::on_response`](super::Router::on_response)).

use super::table::AffinityTable;
use super::{
    BackendId, Balance, Balancer, Decision, Health, Learned, OnDraining, OnUnavailable, Pool,
    Refusal, RouteRequest, RouteRng,
};
use std::net::IpAddr;

/// What the table is keyed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableKey {
    /// The client's source address, pinned on its first request.
    SourceIp,
    /// An identifier the application issues, pinned when a response
    /// carries it.
    Learned(Learned),
}

/// An address as a table key (IPv4 and IPv6 kept apart).
#[inline]
pub fn ip_key(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => (1u128 << 64) | u32::from(v4) as u128,
        IpAddr::V6(v6) => u128::from(v6) ^ (1u128 << 127),
    }
}

/// The affinity-table router (`source_ip_table`, `learn`): a key found in
/// the table goes to its backend, an unknown one is balanced and pinned.
#[derive(Debug, Clone)]
pub struct Sticky {
    key: TableKey,
    table: AffinityTable,
    balancer: Balancer,
    on_unavailable: OnUnavailable,
    on_draining: OnDraining,
}

impl Sticky {
    /// A router with an empty table of at most `size` entries, each expiring
    /// after `timeout_ns` ns without a hit; unpinned requests go to `balance`.
    pub fn new(
        key: TableKey,
        timeout_ns: u64,
        size: u32,
        balance: Balance,
        on_unavailable: OnUnavailable,
        on_draining: OnDraining,
    ) -> Self {
        Sticky {
            key,
            table: AffinityTable::new(timeout_ns, size),
            balancer: Balancer::new(balance),
            on_unavailable,
            on_draining,
        }
    }

    /// What the table is keyed on.
    pub fn key(&self) -> TableKey {
        self.key
    }

    /// Entries currently held.
    pub fn table_len(&self) -> usize {
        self.table.len()
    }

    fn fresh(
        &mut self,
        key: Option<u128>,
        store: bool,
        req: &RouteRequest,
        pool: &Pool,
        rng: &mut RouteRng,
    ) -> Decision {
        match self.balancer.pick(pool, rng, req.exclude) {
            Some(b) => {
                if let (Some(k), true) = (key, store) {
                    self.table.put(k, b, req.now_ns);
                }
                Decision::Forward {
                    backend: b,
                    set_cookie: None,
                }
            }
            None => Decision::Refuse(Refusal::NoBackend),
        }
    }

    /// Follows `req`'s pin if its backend is eligible with room; otherwise
    /// balances anew (re-pinning) or refuses, per `on_draining` and
    /// `on_unavailable`. Requests without the key are balanced, unpinned.
    pub fn route(&mut self, req: &RouteRequest, pool: &Pool, rng: &mut RouteRng) -> Decision {
        let key = match self.key {
            TableKey::SourceIp => Some(ip_key(req.src)),
            TableKey::Learned(_) => req.app_id.map(|id| id as u128),
        };
        // Source pins are stored on the request; learned ones on the response.
        let store_new = self.key == TableKey::SourceIp;
        let Some(k) = key else {
            return self.fresh(None, false, req, pool, rng);
        };
        let Some(slot) = self.table.find(k, req.now_ns) else {
            return self.fresh(Some(k), store_new, req, pool, rng);
        };
        let b = self.table.backend(slot);
        let v = pool.get(b);
        // A retry treats the pinned backend it failed on as down.
        let retried_from = req.exclude == Some(b);
        if !retried_from && v.eligible(self.on_draining) && v.has_room() {
            self.table.touch(slot, b, req.now_ns);
            return Decision::Forward {
                backend: b,
                set_cookie: None,
            };
        }
        if !retried_from && v.health == Health::Draining && self.on_draining == OnDraining::Reroute
        {
            return self.fresh(Some(k), true, req, pool, rng);
        }
        match self.on_unavailable {
            OnUnavailable::Redispatch => self.fresh(Some(k), true, req, pool, rng),
            OnUnavailable::Reject => Decision::Refuse(Refusal::PinnedUnavailable),
        }
    }

    /// `backend` was deregistered and stopped: its pins are gone.
    pub fn forget(&mut self, backend: BackendId) {
        self.table.remove_backend(backend);
    }

    /// The application's response from `backend` carried identifier `id`.
    pub fn learn(&mut self, now_ns: u64, backend: BackendId, id: u64) {
        if let TableKey::Learned(_) = self.key {
            self.table.put(id as u128, backend, now_ns);
        }
    }
}
