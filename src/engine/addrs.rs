//! Backend addresses: the starting fleet's (the scenario's `addresses`, or
//! the default `10.0.x.y:8080`) and those launched instances draw
//! (`address_pool`, or the default scheme by instance number).
//!
//! From a pool, a launch takes the block's next never-used address that no
//! instance holds; once every one has been used, the address released
//! longest ago (an instance that stopped gives its address back); with
//! none free either, it counts on past the block's end. Validation makes
//! the block hold at least as many addresses as the most instances the
//! run can hold at once, so only drains overlapping launches beyond that
//! reach the last rule.

use super::world::capacity;
use crate::model::InstanceNo;
use crate::routing::{BackendId, BackendView, Health, Pool};
use crate::scenario::addresses::AddressPool;
use crate::scenario::Scenario;
use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

/// The address of instance number `i` without a pool:
/// `10.0.<i/250>.<i%250+1>:8080` for the first 64 000 (as the default
/// starting fleet), then on into 10.x.
pub(super) fn instance_addr(inst: InstanceNo) -> SocketAddr {
    let i = inst.0;
    let ip = 0x0A00_0000u32 | ((i / 250) % 65_536) << 8 | (i % 250 + 1);
    SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::from(ip), 8080))
}

/// The starting pool: each backend at its address, weighted `weight ×
/// full_weight`, all up.
pub(super) fn initial_pool(sc: &Scenario, full_weight: u32) -> Pool {
    let fleet = &sc.backends.fleet;
    let cap = capacity(&sc.backends);
    Pool::new(
        (0..sc.backends.count())
            .map(|i| BackendView {
                addr: fleet.initial_addr(i),
                weight: fleet.weight(i) * full_weight,
                health: Health::Up,
                outstanding: 0,
                capacity: cap,
            })
            .collect(),
    )
}

/// Hands out launched instances' addresses.
#[derive(Debug, Default)]
pub(super) struct AddrAlloc {
    block: Option<AddressPool>,
    /// The block's next never-used host number.
    next: u64,
    /// Addresses of the block given back by stopped instances, oldest first.
    released: VecDeque<SocketAddr>,
}

impl AddrAlloc {
    pub(super) fn new(block: Option<AddressPool>) -> Self {
        AddrAlloc {
            block,
            ..Self::default()
        }
    }

    /// The address for instance `inst`, none of `pool`'s backends holding it.
    pub(super) fn take(&mut self, inst: InstanceNo, pool: &Pool) -> SocketAddr {
        let Some(block) = self.block else {
            return instance_addr(inst);
        };
        let held = |a: SocketAddr| pool.backends().iter().any(|v| v.addr == a);
        while self.next < block.hosts() {
            let a = block.nth(self.next);
            self.next += 1;
            if !held(a) {
                return a;
            }
        }
        while let Some(a) = self.released.pop_front() {
            if !held(a) {
                return a;
            }
        }
        loop {
            // Past the block's end (see the module's rule).
            let a = block.nth(self.next);
            self.next = self.next.wrapping_add(1);
            if !held(a) {
                return a;
            }
        }
    }

    /// Backend `b` stops: an address of the block goes back to it.
    pub(super) fn release(&mut self, pool: &Pool, b: BackendId) {
        let a = pool.get(b).addr;
        if self.block.is_some_and(|p| p.contains(a.ip())) && !self.released.contains(&a) {
            self.released.push_back(a);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(addr: &str) -> BackendView {
        BackendView {
            addr: addr.parse().unwrap(),
            weight: 1,
            health: Health::Up,
            outstanding: 0,
            capacity: None,
        }
    }

    #[test]
    fn a_pool_hands_out_unheld_addresses_then_released_ones_then_past_its_end() {
        let block = AddressPool::parse("10.1.2.0/30", 80).unwrap(); // .1 and .2
        let mut pool = Pool::new(vec![view("10.1.2.1:80")]);
        let mut a = AddrAlloc::new(Some(block));
        let first = a.take(InstanceNo(5), &pool);
        assert_eq!(first.to_string(), "10.1.2.2:80", ".1 is held");
        let id = pool.push(view("10.1.2.2:80"));
        // Exhausted: past the end.
        assert_eq!(a.take(InstanceNo(6), &pool).to_string(), "10.1.2.3:80");
        // .1 stops and is given back: it is reused before going further.
        a.release(&pool, BackendId(0));
        pool.set_addr(BackendId(0), "0.0.0.0:0".parse().unwrap());
        assert_eq!(a.take(InstanceNo(7), &pool).to_string(), "10.1.2.1:80");
        // An address outside the block is never given back.
        pool.set_addr(id, "192.0.2.1:80".parse().unwrap());
        a.release(&pool, id);
        assert_eq!(a.take(InstanceNo(8), &pool).to_string(), "10.1.2.4:80");
    }

    #[test]
    fn without_a_pool_instances_take_the_default_scheme() {
        let pool = Pool::new(vec![]);
        let mut a = AddrAlloc::new(None);
        assert_eq!(a.take(InstanceNo(0), &pool).to_string(), "10.0.0.1:8080");
        assert_eq!(a.take(InstanceNo(251), &pool).to_string(), "10.0.1.2:8080");
    }
}
