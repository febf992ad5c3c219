//! Output that cannot be written: a closed pipe (`expanse status PLAN | head -1`) ends a command
//! quietly, a full disk (`> /dev/full`) with one line and status 1; never a panic (status 101).
#![cfg(unix)]

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::{RUNNABLE, workspace};

/// The commands under test, each printing something to stdout in the workspace `ws`.
fn commands(ws: &Path) -> Vec<(&'static str, Vec<String>)> {
    let page = ws.join("page.html");
    std::fs::write(
        &page,
        "<html><head><title>T</title></head><body><article><h1>Title</h1><p>Some text that is the main content of this page, long enough to count.</p></article></body></html>",
    )
    .unwrap();
    let s = |v: &[&str]| v.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    vec![
        ("check", s(&["check", "plans/p.md"])),
        ("check --json", s(&["check", "plans/p.md", "--json"])),
        ("status", s(&["status", "plans/p.md"])),
        ("status --json", s(&["status", "plans/p.md", "--json"])),
        ("review (list)", s(&["review", "plans/p.md"])),
        (
            "extract",
            vec!["extract".into(), page.display().to_string()],
        ),
        ("help plan", s(&["help", "plan"])),
    ]
}

fn run_with_stdout(ws: &Path, args: &[String], stdout: Stdio) -> Output {
    Command::new(env!("CARGO_BIN_EXE_expanse"))
        .arg("--root")
        .arg(ws)
        .args(args)
        .stdout(stdout)
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

#[test]
fn a_closed_pipe_ends_every_command_quietly() {
    let ws = workspace(RUNNABLE);
    for (name, args) in commands(ws.path()) {
        // The reading end is closed before the command starts, so its first write fails with
        // EPIPE, deterministically (no race with a reader that exits later).
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = run_with_stdout(ws.path(), &args, Stdio::from(writer));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{name}: {stderr}");
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
        assert!(!stderr.contains("Broken pipe"), "{name}: {stderr}");
    }
}

#[test]
fn a_full_disk_is_one_line_and_status_1() {
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
        eprintln!("skipped: no /dev/full on this system");
        return;
    };
    let ws = workspace(RUNNABLE);
    for (name, args) in commands(ws.path()) {
        let out = run_with_stdout(ws.path(), &args, Stdio::from(full.try_clone().unwrap()));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{name}: {stderr}");
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
        let last: Vec<&str> = stderr
            .lines()
            .filter(|l| l.contains("cannot write the output"))
            .collect();
        assert_eq!(last.len(), 1, "{name}: {stderr}");
        assert!(
            last[0].contains("No space left on device"),
            "{name}: {stderr}"
        );
    }
}
