//! The EXAMPLES section at the end of each subcommand's `--help` (and of
//! the man page), one constant per subcommand.

pub(super) const TOP: &str = "\
Examples:
  stickysim validate scenarios/checkout.toml
  stickysim run scenarios/checkout.toml --out results/checkout
  stickysim sweep scenarios/checkout.toml --param workload.session_rate=20..60:10
  stickysim completions bash > ~/.local/share/bash-completion/completions/stickysim
  stickysim man > stickysim.1";

pub(super) const RUN: &str = "\
Examples:
  stickysim run scenarios/checkout.toml
  stickysim run scenarios/checkout.toml --strategy round-robin --strategy cookie-1d --seed 7
  stickysim run scenarios/checkout.toml --set workload.session_rate=80 --out results/peak
  stickysim run scenarios/checkout.toml --json --no-charts > summary.json
  stickysim run scenarios/checkout.toml --assert 'all: sessions_lost_pct < 1' --junit junit.xml
  cat scenarios/checkout.toml | stickysim run - --out results/piped";

pub(super) const CHECK: &str = "\
Examples:
  stickysim check scenarios/checkout.toml
  stickysim check scenarios/checkout.toml --assert 'cookie-1d: sessions_lost_pct < 1'
  stickysim check scenarios/checkout.toml --set simulation.duration=600 --junit junit.xml";

pub(super) const VALIDATE: &str = "\
Examples:
  stickysim validate scenarios/checkout.toml
  stickysim validate scenarios/checkout.toml --set backends.count=8
  stickysim validate scenarios/checkout.toml --json
  cat scenarios/checkout.toml | stickysim validate -";

pub(super) const SWEEP: &str = "\
Examples:
  stickysim sweep scenarios/checkout.toml --param strategies.cookie-1m.ttl=60,300,900
  stickysim sweep scenarios/checkout.toml --param backends.count=4..16:4 --replications 10
  stickysim sweep scenarios/checkout.toml --param workload.session_rate=20,40 --dry-run
  stickysim sweep scenarios/checkout.toml --shard 2/4 --out results/sweep-2
  stickysim sweep scenarios/checkout.toml --out results/sweep --resume";

pub(super) const MERGE: &str = "\
Examples:
  stickysim merge results/sweep-1 results/sweep-2 results/sweep-3 --out results/sweep
  stickysim merge results/checkout-sweep/shard-*-of-4 --out results/checkout-sweep";

pub(super) const REPORT: &str = "\
Examples:
  stickysim report results/checkout
  stickysim report results/checkout --no-charts";

pub(super) const ROUTE: &str = "\
Examples:
  stickysim route --hash ketama --backends 10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 192.0.2.7
  stickysim route --hash maglev --backends 10.0.0.1:80,10.0.0.2:80 --down 10.0.0.2:80 192.0.2.7 198.51.100.4
  stickysim route --hash haproxy_consistent --hash-function wt6 --backends 10.0.0.1:80,10.0.0.2:80 user-42
  stickysim route --scenario my-fleet.toml --strategy source-ip 192.0.2.7 198.51.100.4";

pub(super) const IMPORT: &str = "\
Examples:
  stickysim import /etc/nginx/nginx.conf
  stickysim import haproxy.cfg --format haproxy --out strategies.toml";

pub(super) const EXPORT: &str = "\
Examples:
  stickysim export scenarios/checkout.toml --strategy cookie-1d --to nginx
  stickysim export scenarios/checkout.toml --strategy source-ip --to haproxy --backends 10.1.0.1:80,10.1.0.2:80";

pub(super) const TRAFFIC: &str = "\
Examples:
  stickysim traffic scenarios/checkout.toml --out checkout.jsonl
  stickysim traffic scenarios/checkout.toml --strategy cookie-1d --format combined --out access.log.gz";

pub(super) const FIT: &str = "\
Examples:
  stickysim fit scenarios/logs/shop.log --out my.toml
  stickysim fit scenarios/logs/shop.log --exclude-path '^/healthz' --exclude-user-agent '(?i)bot'
  stickysim fit access.jsonl --format jsonl --field time=ts --session-field sid --idle 15m
  stickysim fit /var/log/nginx/access.log.1.gz --from 2026-03-02T09:00:00Z --to 2026-03-02T17:00:00Z";

pub(super) const COMPLETIONS: &str = "\
Examples:
  stickysim completions bash > ~/.local/share/bash-completion/completions/stickysim
  stickysim completions zsh > \"${fpath[1]}/_stickysim\"
  stickysim completions fish > ~/.config/fish/completions/stickysim.fish
  stickysim completions powershell >> $PROFILE";

pub(super) const MAN: &str = "\
Examples:
  stickysim man > stickysim.1 && man ./stickysim.1
  stickysim man | gzip > /usr/local/share/man/man1/stickysim.1.gz";

pub(super) const SCHEMA: &str = "\
Examples:
  stickysim schema > scenario.schema.json
  stickysim schema | jq '.properties | keys'";

pub(super) const INIT: &str = "\
Examples:
  stickysim init --from checkout my.toml
  stickysim init my.toml
  stickysim init --users 50000 --sessions-per-hour 20000 --backends 6 --nat-share 0.2 my.toml
  stickysim init --strategies round_robin,lb_cookie,bounded_load > my.toml";

pub(super) const COMPARE: &str = "\
Examples:
  stickysim compare results/checkout results/peak
  stickysim compare results/checkout results/peak --column sessions_lost_pct --column latency_p99_ms
  stickysim compare results/before results/after --fail-if-worse sessions_lost_pct --json";
