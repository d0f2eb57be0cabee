//! Build script: puts the git commit in `--version` when built from a
//! checkout (`0.1.0 (a1b2c3d)`); from a tarball, or without git, the
//! version is the package's alone.

use std::path::{Path, PathBuf};
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!s.is_empty()).then_some(s)
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let version = env!("CARGO_PKG_VERSION");
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    // Only this crate's own checkout counts: not a repository that merely
    // contains an unpacked tarball.
    let commit = if manifest.join(".git").exists() {
        git(&["rev-parse", "--short", "HEAD"])
    } else {
        None
    };
    if let Some(commit) = &commit {
        // Rebuild when HEAD moves: HEAD itself (a checkout) and the branch
        // it points at (a commit), loose or packed.
        let abs = |p: String| {
            let p = PathBuf::from(p);
            if p.is_absolute() {
                p
            } else {
                manifest.join(p)
            }
        };
        let watch = |p: &Path| {
            if p.exists() {
                println!("cargo:rerun-if-changed={}", p.display());
            }
        };
        if let Some(dir) = git(&["rev-parse", "--git-dir"]).map(abs) {
            watch(&dir.join("HEAD"));
        }
        if let Some(common) = git(&["rev-parse", "--git-common-dir"]).map(abs) {
            if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
                watch(&common.join(branch));
            }
            watch(&common.join("packed-refs"));
        }
        println!("cargo:rustc-env=STICKYSIM_VERSION={version} ({commit})");
    } else {
        println!("cargo:rustc-env=STICKYSIM_VERSION={version}");
    }
}
