//! One folder is one workspace: one journal per plan and one run lock, whether it is named
//! relative, absolute, through `..`, through a symbolic link, or found from a folder inside it.

mod common;

use common::{corpus, workspace};
use std::path::Path;
use std::time::Duration;

const PLAN: &str = include_str!("../plans/expansion-18-21.md");

fn bin() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("expanse").unwrap()
}

/// PART 1's state as `status --json` run in `cwd` with `args` before the subcommand reports it.
fn state_of_part_1(cwd: &Path, args: &[&str], plan: &str) -> String {
    let out = bin()
        .current_dir(cwd)
        .args(args)
        .args(["status", plan, "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["parts"][0]["state"].as_str().unwrap().to_string()
}

#[test]
fn every_spelling_of_the_root_reads_one_journal() {
    let ws = workspace(PLAN);
    let parent = ws.path().parent().unwrap();
    let name = ws.path().file_name().unwrap().to_str().unwrap().to_string();
    // A run through a relative root, from the parent folder.
    let run = bin()
        .current_dir(parent)
        .args([
            "--root",
            &name,
            "run",
            "plans/p.md",
            "--headless",
            "--offline",
        ])
        .args(["--only", "1", "--corpus"])
        .arg(corpus())
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let link = tempfile::tempdir().unwrap();
    let through_link = link.path().join("ws");
    std::os::unix::fs::symlink(ws.path(), &through_link).unwrap();
    let abs = ws.path().to_str().unwrap().to_string();
    let dotted = format!("{abs}/plans/..");
    let linked = through_link.to_str().unwrap().to_string();
    for args in [
        vec!["--root", name.as_str()],
        vec!["--root", abs.as_str()],
        vec!["--root", dotted.as_str()],
        vec!["--root", linked.as_str()],
    ] {
        assert_eq!(
            state_of_part_1(parent, &args, "plans/p.md"),
            "review",
            "{args:?}"
        );
    }
    // From a folder inside the workspace, no --root: found as git finds its repository, the plan
    // named from where the command runs.
    assert_eq!(
        state_of_part_1(&ws.path().join("plans"), &[], "p.md"),
        "review"
    );
    assert_eq!(
        std::fs::read_dir(ws.path().join(".expanse/plans"))
            .unwrap()
            .count(),
        1,
        "one journal folder"
    );
}

#[test]
fn a_second_run_of_a_plan_is_refused_however_the_root_is_named() {
    let ws = workspace(PLAN);
    // A search server that answers slowly keeps the first run alive.
    let app = axum::Router::new().route(
        "/search",
        axum::routing::get(|| async {
            tokio::time::sleep(Duration::from_secs(20)).await;
            "{}"
        }),
    );
    let base = common::serve(app);
    let mut first = std::process::Command::new(assert_cmd::cargo::cargo_bin("expanse"))
        .current_dir(ws.path())
        .args(["run", "plans/p.md", "--headless", "--only", "1"])
        .env("SEARXNG_URL", &base)
        .env("EXPANSE_ALLOW_PRIVATE_URLS", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait for it to hold its lock: its journal says the PART is searching.
    let started = std::time::Instant::now();
    while !common::files(&ws.path().join(".expanse/plans"))
        .iter()
        .any(|p| {
            p.ends_with("journal.jsonl")
                && std::fs::read_to_string(p).is_ok_and(|t| t.contains("\"searching\""))
        })
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the run never started"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let link = tempfile::tempdir().unwrap();
    let through_link = link.path().join("ws");
    std::os::unix::fs::symlink(ws.path(), &through_link).unwrap();
    let second = bin()
        .current_dir(ws.path().parent().unwrap())
        .arg("--root")
        .arg(&through_link)
        .args([
            "run",
            "plans/p.md",
            "--headless",
            "--offline",
            "--only",
            "1",
        ])
        .output()
        .unwrap();
    let _ = first.kill();
    let _ = first.wait();
    assert_eq!(second.status.code(), Some(1));
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(err.contains("is already running in process"), "{err}");
}
