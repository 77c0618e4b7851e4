//! Embeds the git revision as QDRANT_EXPORTER_REVISION: taken from that
//! environment variable when set (container builds have no .git), else from git.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=QDRANT_EXPORTER_REVISION");
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/refs/heads");
    let revision = std::env::var("QDRANT_EXPORTER_REVISION")
        .ok()
        .filter(|r| !r.is_empty())
        .or_else(|| {
            let output = Command::new("git")
                .args(["rev-parse", "--short=12", "HEAD"])
                .output()
                .ok()?;
            output
                .status
                .success()
                .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=QDRANT_EXPORTER_REVISION={revision}");
}
