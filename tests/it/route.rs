//! `stickysim route`: product hashes as a command, and its usage errors.

use crate::common::{bin, HASHES};
use predicates::prelude::*;

fn route(args: &[&str]) -> assert_cmd::assert::Assert {
    bin().arg("route").args(args).assert()
}

const ENVOY_HOSTS: &str =
    "127.0.0.1:90,127.0.0.1:91,127.0.0.1:92,127.0.0.1:93,127.0.0.1:94,127.0.0.1:95";

/// Envoy `maglev_lb_test.cc` `MaglevLoadBalancerTest.Basic`, through the CLI.
#[test]
fn maglev_raw_keys_match_envoys_test() {
    route(&[
        "--hash",
        "maglev",
        "--backends",
        ENVOY_HOSTS,
        "--table-size",
        "7",
        "--raw-key",
        "0",
        "1",
        "2",
        "3",
        "4",
        "5",
        "6",
    ])
    .success()
    .stdout(
        "0 127.0.0.1:92\n1 127.0.0.1:94\n2 127.0.0.1:90\n3 127.0.0.1:91\n\
         4 127.0.0.1:95\n5 127.0.0.1:90\n6 127.0.0.1:93\n",
    );
}

/// Envoy `ring_hash_lb_test.cc` `RingHashLoadBalancerTest.Basic`.
#[test]
fn envoy_ring_raw_keys_match_envoys_test() {
    route(&[
        "--hash",
        "envoy_ring",
        "--backends",
        ENVOY_HOSTS,
        "--min-ring-size",
        "12",
        "--raw-key",
        "0",
        "3551244743356806947",
        "3551244743356806948",
    ])
    .success()
    .stdout("0 127.0.0.1:94\n3551244743356806947 127.0.0.1:95\n3551244743356806948 127.0.0.1:93\n");
}

/// pingora-ketama's real nginx capture (`test-data/sample-nginx-upstream.csv`).
#[test]
fn ketama_matches_nginx_capture() {
    let hosts: Vec<String> = (1..=9).map(|i| format!("10.0.0.{i}:443")).collect();
    route(&[
        "--hash",
        "ketama",
        "--backends",
        &hosts.join(","),
        "--weights",
        "100,100,100,100,100,100,100,100,100",
        "/81fa1d251d605775d647b5b55565e71526d4cef6",
        "/fe5199bdfeee5cd431ae7e9f77f178164f9995a0",
    ])
    .success()
    .stdout(
        "/81fa1d251d605775d647b5b55565e71526d4cef6 10.0.0.7:443\n\
         /fe5199bdfeee5cd431ae7e9f77f178164f9995a0 10.0.0.9:443\n",
    );
}

#[test]
fn nginx_ip_hash_keeps_a_slash_24_together_and_skips_down_peers() {
    let out = route(&[
        "--hash",
        "nginx_ip_hash",
        "--backends",
        "10.0.0.1:80,10.0.0.2:80,10.0.0.3:80",
        "192.168.1.9",
        "192.168.1.200",
    ])
    .success();
    out.stdout("192.168.1.9 10.0.0.2:80\n192.168.1.200 10.0.0.2:80\n");
    route(&[
        "--hash",
        "nginx_ip_hash",
        "--backends",
        "10.0.0.1:80,10.0.0.2:80,10.0.0.3:80",
        "--down",
        "10.0.0.2:80",
        "192.168.1.9",
    ])
    .success()
    .stdout("192.168.1.9 10.0.0.3:80\n");
}

#[test]
fn every_hash_answers_for_ipv4_and_ipv6_keys() {
    for algo in HASHES {
        route(&[
            "--hash",
            algo,
            "--backends",
            "10.0.0.1:80,10.0.0.2:80,[2001:db8::1]:80",
            "198.51.100.7",
            "2001:db8:1::42",
        ])
        .success()
        .stdout(
            predicate::str::is_match("^198\\.51\\.100\\.7 \\S+:80\n2001:db8:1::42 \\S+:80\n$")
                .unwrap(),
        );
    }
}

#[test]
fn usage_errors_exit_2_with_a_clear_message() {
    let cases: [(&[&str], &str); 7] = [
        (
            &["--hash", "magelv", "--backends", "10.0.0.1:80", "k"],
            "--hash: expected one of",
        ),
        (
            &[
                "--hash",
                "maglev",
                "--table-size",
                "65536",
                "--backends",
                "10.0.0.1:80",
                "k",
            ],
            "expected a prime number",
        ),
        (
            &[
                "--hash",
                "ketama",
                "--backends",
                "10.0.0.1:80,10.0.0.2:80",
                "--weights",
                "1,0",
                "k",
            ],
            "weights of at least 1, found 0",
        ),
        (
            &[
                "--hash",
                "ketama",
                "--backends",
                "10.0.0.1:80,10.0.0.2:80",
                "--weights",
                "1,1000000",
                "k",
            ],
            "weights up to 256 (HAProxy's maximum), found 1000000",
        ),
        (
            &["--hash", "ketama", "--backends", "10.0.0.1", "k"],
            "expected an address `ip:port`",
        ),
        (
            &[
                "--hash",
                "jump",
                "--backends",
                "10.0.0.1:80",
                "--raw-key",
                "abc",
            ],
            "decimal 64-bit value",
        ),
        (
            &[
                "--hash",
                "ketama",
                "--backends",
                "10.0.0.1:80",
                "--down",
                "10.0.0.9:80",
                "k",
            ],
            "one of the backends (--backends",
        ),
    ];
    for (args, msg) in cases {
        route(args)
            .code(2)
            .stdout("")
            .stderr(predicate::str::contains(msg));
    }
}

/// HAProxy `hash-type consistent djb2 avalanche`, weights 1,3,2: what
/// HAProxy 2.6.12 chose for these header values (captured from the binary).
#[test]
fn haproxy_consistent_with_function_and_avalanche_matches_the_real_binary() {
    route(&[
        "--hash",
        "haproxy_consistent",
        "--hash-function",
        "djb2",
        "--avalanche",
        "--backends",
        "127.0.0.1:18181,127.0.0.1:18182,127.0.0.1:18183",
        "--weights",
        "1,3,2",
        "alpha",
        "bravo",
        "delta",
        "foxtrot",
    ])
    .success()
    .stdout(
        "alpha 127.0.0.1:18183\nbravo 127.0.0.1:18181\ndelta 127.0.0.1:18181\nfoxtrot 127.0.0.1:18183\n",
    );
}

#[test]
fn haproxy_hash_options_apply_to_haproxy_hashes_only() {
    route(&[
        "--hash",
        "ketama",
        "--avalanche",
        "--backends",
        "10.0.0.1:80",
        "k",
    ])
    .code(2)
    .stderr(predicate::str::contains("--avalanche: applies to"));
    route(&[
        "--hash",
        "haproxy_source",
        "--hash-function",
        "md5",
        "--backends",
        "10.0.0.1:80",
        "k",
    ])
    .code(2)
    .stderr(predicate::str::contains(
        "expected one of sdbm, djb2, wt6, crc32, found `md5`",
    ));
}
