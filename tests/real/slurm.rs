//! `docs/distributed.md`'s Slurm recipe, run for real: a single-node Slurm
//! cluster (Debian's `slurm-wlm` and `munge`) started by the test in a
//! temporary directory — its own munge socket and key, its own ports on
//! loopback, state and spool directories inside the temporary directory,
//! no cgroup plugins — runs the doc's array job (3 tasks) and the
//! dependent merge job, and the merged outputs must equal the unsharded
//! sweep byte for byte. Needs root (slurmd launches the job steps);
//! skipped with a notice without the programs or root, required under CI.
//! Every process the test starts is stopped when it ends.

use crate::harness::{free_ports, product};
use std::collections::BTreeMap;
use std::fs;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long the whole cluster may take to run both jobs.
const JOBS_TIMEOUT: Duration = Duration::from_secs(150);

/// The doc's recipe, scaled to a test: each `(as in the doc, in the test)`
/// must occur exactly once in `sweep.sbatch`, so a change to the doc's
/// commands makes this test fail rather than test something else. Only
/// sizes change (array size, cores, grid, scenario); every command is
/// run as written.
const SCALE: &[(&str, &str)] = &[
    ("#SBATCH --array=1-8", "#SBATCH --array=1-3"),
    ("SHARDS=8", "SHARDS=3"),
    ("#SBATCH --cpus-per-task=4", "#SBATCH --cpus-per-task=1"),
    ("scenarios/checkout.toml", "scenarios/tiny.toml"),
    (
        "--param strategies.cookie-1m.ttl=60,300,900,1800,3600,86400",
        "--param strategies.cookie.ttl=60,300,900",
    ),
    (
        "--param backends.count=4..16:4",
        "--param backends.count=2..3",
    ),
    ("--replications 10", "--replications 2"),
];

/// The same sweep, unsharded, as `stickysim sweep` arguments.
const WHOLE: &[&str] = &[
    "sweep",
    "scenarios/tiny.toml",
    "--param",
    "strategies.cookie.ttl=60,300,900",
    "--param",
    "backends.count=2..3",
    "--replications",
    "2",
    "--quiet",
    "--out",
    "whole",
];

/// The daemons the test started, each in its own process group; all
/// killed (with anything they started) and reaped on drop.
struct Daemons(Vec<Child>);

impl Drop for Daemons {
    fn drop(&mut self) {
        for c in self.0.iter_mut().rev() {
            // SAFETY: signals our own child's process group.
            unsafe {
                libc::kill(-(c.id() as libc::pid_t), libc::SIGKILL);
            }
            let _ = c.wait();
        }
    }
}

/// The fenced ```bash blocks of a Markdown text.
fn bash_blocks(md: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur: Option<String> = None;
    for line in md.lines() {
        match (&mut cur, line.trim_end()) {
            (None, "```bash") => cur = Some(String::new()),
            (Some(_), "```") => out.extend(cur.take()),
            (Some(b), l) => {
                b.push_str(l);
                b.push('\n');
            }
            _ => {}
        }
    }
    out
}

fn the_block<'a>(blocks: &'a [String], marker: &str) -> &'a str {
    let found: Vec<&String> = blocks.iter().filter(|b| b.contains(marker)).collect();
    assert_eq!(
        found.len(),
        1,
        "docs/distributed.md: one bash block with `{marker}`"
    );
    found[0]
}

fn short_hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length.
    let r = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    assert_eq!(r, 0, "gethostname");
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    let name = String::from_utf8_lossy(&buf[..end]).into_owned();
    name.split('.').next().unwrap_or(&name).to_string()
}

fn slurm_conf(t: &Path, host: &str, ports: &[u16]) -> String {
    let t = t.display();
    format!(
        "ClusterName=stickysim\n\
         SlurmctldHost={host}(127.0.0.1)\n\
         SlurmctldPort={ctld}\n\
         SlurmdPort={d}\n\
         AuthType=auth/munge\n\
         AuthInfo=socket={t}/munge/sock\n\
         CredType=cred/munge\n\
         SlurmUser=root\n\
         SlurmdUser=root\n\
         StateSaveLocation={t}/state\n\
         SlurmdSpoolDir={t}/spool\n\
         SlurmctldPidFile={t}/slurmctld.pid\n\
         SlurmdPidFile={t}/slurmd.pid\n\
         SlurmctldLogFile={t}/slurmctld.log\n\
         SlurmdLogFile={t}/slurmd.log\n\
         PlugStackConfig={t}/plugstack.conf\n\
         ProctrackType=proctrack/linuxproc\n\
         TaskPlugin=task/none\n\
         JobAcctGatherType=jobacct_gather/none\n\
         AccountingStorageType=accounting_storage/none\n\
         JobCompType=jobcomp/none\n\
         SchedulerType=sched/builtin\n\
         SelectType=select/cons_tres\n\
         SelectTypeParameters=CR_CPU\n\
         MpiDefault=none\n\
         SwitchType=switch/none\n\
         ReturnToService=2\n\
         SlurmdParameters=config_overrides\n\
         NodeName={host} NodeAddr=127.0.0.1 CPUs=4 State=UNKNOWN\n\
         PartitionName=test Nodes={host} Default=YES MaxTime=INFINITE State=UP\n",
        ctld = ports[0],
        d = ports[1],
    )
}

/// Starts `bin args` in its own process group, output to `log`.
fn daemon(bin: &Path, args: &[&str], env: &[(&str, &Path)], log: &Path) -> Child {
    let out = fs::File::create(log).unwrap();
    let mut c = Command::new(bin);
    c.args(args)
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .process_group(0);
    for (k, v) in env {
        c.env(k, v);
    }
    c.spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", bin.display()))
}

/// Every regular file of `dir`, by name.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_file())
        .map(|e| {
            (
                e.file_name().into_string().unwrap(),
                fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

/// Everything the cluster wrote, for a failure message.
fn logs(t: &Path, work: &Path) -> String {
    let mut s = String::new();
    let mut paths: Vec<PathBuf> = ["slurmctld.log", "slurmd.log", "munge/log"]
        .iter()
        .map(|n| t.join(n))
        .collect();
    if let Ok(d) = fs::read_dir(work.join("logs")) {
        paths.extend(d.flatten().map(|e| e.path()));
    }
    for p in paths {
        let text = fs::read_to_string(&p).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(15).collect();
        s += &format!("--- {} (last lines)\n", p.display());
        for l in tail.into_iter().rev() {
            s += l;
            s.push('\n');
        }
    }
    s
}

/// `scontrol show job -o ID`'s `JobState` values (one per array task).
fn job_states(scontrol: &Path, conf: &Path, id: &str) -> Vec<String> {
    let out = Command::new(scontrol)
        .args(["show", "job", "-o", id])
        .env("SLURM_CONF", conf)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            l.split_whitespace()
                .find_map(|f| f.strip_prefix("JobState="))
                .map(|s| {
                    let reason = l
                        .split_whitespace()
                        .find_map(|f| f.strip_prefix("Reason="))
                        .unwrap_or("");
                    format!("{s} {reason}")
                })
        })
        .collect()
}

#[test]
fn the_docs_slurm_array_and_merge_jobs_give_the_unsharded_sweep() {
    let names = [
        "munged",
        "mungekey",
        "slurmctld",
        "slurmd",
        "sbatch",
        "scontrol",
    ];
    let found: Vec<Option<PathBuf>> = names.iter().map(|n| product(n)).collect();
    if found.iter().any(Option::is_none) {
        return;
    }
    let bins: BTreeMap<&str, PathBuf> =
        names.into_iter().zip(found.into_iter().flatten()).collect();
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
            panic!("the Slurm test must run as root under CI (slurmd launches the job steps)");
        }
        eprintln!("notice: not root; skipping the Slurm test (slurmd must run as root)");
        return;
    }

    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    for d in ["munge", "state", "spool", "work/scenarios"] {
        fs::create_dir_all(t.join(d)).unwrap();
    }
    // munged insists on a private key file and a socket directory others
    // can search.
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(t, fs::Permissions::from_mode(0o755)).unwrap();
    fs::set_permissions(t.join("munge"), fs::Permissions::from_mode(0o755)).unwrap();
    let key = t.join("munge/munge.key");
    let st = Command::new(&bins["mungekey"])
        .arg("-c")
        .arg("-k")
        .arg(&key)
        .status()
        .unwrap();
    assert!(st.success(), "mungekey");
    fs::write(t.join("plugstack.conf"), "").unwrap();
    let conf = t.join("slurm.conf");
    fs::write(&conf, slurm_conf(t, &short_hostname(), &free_ports(2))).unwrap();

    let mut daemons = Daemons(Vec::new());
    let munge_args = [
        "-F".to_string(),
        "-f".to_string(),
        format!("--socket={}", t.join("munge/sock").display()),
        format!("--key-file={}", key.display()),
        format!("--pid-file={}", t.join("munge/pid").display()),
        format!("--log-file={}", t.join("munge/log").display()),
        format!("--seed-file={}", t.join("munge/seed").display()),
    ];
    let munge_args: Vec<&str> = munge_args.iter().map(String::as_str).collect();
    daemons.0.push(daemon(
        &bins["munged"],
        &munge_args,
        &[],
        &t.join("munged.out"),
    ));
    let env = [("SLURM_CONF", conf.as_path())];
    daemons.0.push(daemon(
        &bins["slurmctld"],
        &["-D", "-i"],
        &env,
        &t.join("slurmctld.out"),
    ));
    daemons.0.push(daemon(
        &bins["slurmd"],
        &["-D"],
        &env,
        &t.join("slurmd.out"),
    ));

    // The scenario and the scripts, from the doc.
    let work = t.join("work");
    fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/tiny.toml"),
        work.join("scenarios/tiny.toml"),
    )
    .unwrap();
    let doc = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/distributed.md"))
        .unwrap();
    let blocks = bash_blocks(&doc);
    let mut sweep = the_block(&blocks, "#SBATCH --array").to_string();
    for (doc_text, test_text) in SCALE {
        assert_eq!(
            sweep.matches(doc_text).count(),
            1,
            "docs/distributed.md's sweep.sbatch: `{doc_text}` once"
        );
        sweep = sweep.replace(doc_text, test_text);
    }
    fs::write(work.join("sweep.sbatch"), sweep).unwrap();
    fs::write(
        work.join("merge.sbatch"),
        the_block(&blocks, "--job-name=stickysim-ttl-merge"),
    )
    .unwrap();
    fs::write(
        work.join("submit.sh"),
        format!(
            "set -euo pipefail\n{}",
            the_block(&blocks, "sbatch --parsable")
        ),
    )
    .unwrap();

    // stickysim on the jobs' PATH (sbatch passes the environment on).
    let exe = Path::new(env!("CARGO_BIN_EXE_stickysim"));
    let path = std::env::join_paths(
        std::iter::once(exe.parent().unwrap().to_path_buf()).chain(
            std::env::var_os("PATH")
                .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
                .unwrap_or_default(),
        ),
    )
    .unwrap();
    let stickysim_env = |c: &mut Command| {
        c.current_dir(&work)
            .env("PATH", &path)
            .env("SLURM_CONF", &conf);
        for v in [
            "SLURM_ARRAY_TASK_ID",
            "SLURM_ARRAY_TASK_COUNT",
            "SLURM_ARRAY_TASK_MIN",
            "SLURM_ARRAY_TASK_STEP",
            "JOB_COMPLETION_INDEX",
            "STICKYSIM_SHARD_COUNT",
            "STICKYSIM_FAILPOINT",
        ] {
            c.env_remove(v);
        }
    };

    // Wait for the controller (bounded) before submitting.
    let start = Instant::now();
    loop {
        let ping = Command::new(&bins["scontrol"])
            .arg("ping")
            .env("SLURM_CONF", &conf)
            .output()
            .unwrap();
        if String::from_utf8_lossy(&ping.stdout).contains("is UP") {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "slurmctld did not come up\n{}",
            logs(t, &work)
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    let mut submit = Command::new("bash");
    submit.arg("submit.sh");
    stickysim_env(&mut submit);
    let out = submit.output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "submit: {said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let merge_id = said
        .split_whitespace()
        .last()
        .filter(|w| w.bytes().all(|b| b.is_ascii_digit()))
        .unwrap_or_else(|| panic!("the merge job's id in `{said}`"))
        .to_string();

    // Wait (bounded) for the merge job, which starts after the array.
    loop {
        let states = job_states(&bins["scontrol"], &conf, &merge_id);
        let state = states.first().cloned().unwrap_or_default();
        if state.starts_with("COMPLETED") {
            break;
        }
        assert!(
            ![
                "FAILED",
                "CANCELLED",
                "TIMEOUT",
                "NODE_FAIL",
                "OUT_OF_MEMORY"
            ]
            .iter()
            .any(|s| state.starts_with(s))
                && !state.contains("DependencyNeverSatisfied"),
            "merge job {merge_id}: {state}\n{}",
            logs(t, &work)
        );
        assert!(
            start.elapsed() < JOBS_TIMEOUT,
            "the jobs did not finish in {JOBS_TIMEOUT:?} (merge job: {state})\n{}",
            logs(t, &work)
        );
        std::thread::sleep(Duration::from_millis(500));
    }

    let mut whole = Command::new(exe);
    whole.args(WHOLE);
    stickysim_env(&mut whole);
    let out = whole.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sweep_dir = work.join("results/ttl-sweep");
    for k in 1..=3 {
        assert!(
            sweep_dir.join(format!("shard-{k}/runs.jsonl")).is_file(),
            "shard {k} ran\n{}",
            logs(t, &work)
        );
    }
    let merged = files(&sweep_dir.join("merged"));
    let unsharded = files(&work.join("whole"));
    assert!(merged.contains_key("sweep.csv") && merged.contains_key("report.md"));
    assert_eq!(
        merged.keys().collect::<Vec<_>>(),
        unsharded.keys().collect::<Vec<_>>()
    );
    for (name, bytes) in &merged {
        assert!(bytes == &unsharded[name], "{name}: merged ≠ unsharded");
    }
    drop(daemons);
}
