//! Cross-strategy properties and golden product vectors.
use super::*;
use std::net::Ipv4Addr;

fn req(ip: [u8; 4], cookie: Option<u64>, now_ns: u64) -> RouteRequest {
    RouteRequest {
        now_ns,
        src: IpAddr::V4(Ipv4Addr::from(ip)),
        cookie,
        header: None,
    }
}

fn all_specs() -> Vec<StrategySpec> {
    let mut v: Vec<StrategySpec> = [
        Balance::RoundRobin,
        Balance::Random,
        Balance::LeastConn,
        Balance::P2c,
    ]
    .into_iter()
    .map(StrategySpec::Balance)
    .collect();
    for on_unavailable in [OnUnavailable::Redispatch, OnUnavailable::Reject] {
        v.push(StrategySpec::LbCookie {
            ttl_ns: 60_000_000_000,
            ttl_mode: TtlMode::Sliding,
            cookie: CookieAttrs::default(),
            balance: Balance::RoundRobin,
            on_unavailable,
        });
        v.push(StrategySpec::SourceIp {
            hash: IpHash::Modulo,
            on_unavailable,
        });
    }
    v
}

#[test]
fn no_strategy_ever_returns_a_down_backend() {
    let mut pool = Pool::with_default_addrs(5, None);
    pool.set_health(BackendId(1), Health::Down);
    pool.set_health(BackendId(3), Health::Down);
    for spec in all_specs() {
        let mut r = Router::new(&spec, 9);
        let mut rng = RouteRng::new(2);
        let mut cookie = None;
        for i in 0..2000u32 {
            let d = r.route(&req(i.to_be_bytes(), cookie, 0), &pool, &mut rng);
            if let Decision::Forward {
                backend,
                set_cookie,
            } = d
            {
                assert_eq!(
                    pool.get(backend).health,
                    Health::Up,
                    "{spec:?} chose {backend:?}"
                );
                if let Some(c) = set_cookie {
                    cookie = Some(c.value);
                }
            }
        }
    }
}

#[test]
fn everything_down_is_refused() {
    let mut pool = Pool::with_default_addrs(2, None);
    pool.set_health(BackendId(0), Health::Down);
    pool.set_health(BackendId(1), Health::Down);
    for spec in all_specs() {
        let mut r = Router::new(&spec, 9);
        let d = r.route(&req([1, 2, 3, 4], None, 0), &pool, &mut RouteRng::new(1));
        assert_eq!(d, Decision::Refuse(Refusal::NoBackend), "{spec:?}");
    }
}
