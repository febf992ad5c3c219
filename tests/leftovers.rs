//! What a killed process leaves behind is cleaned up by the next command, and a step nobody is
//! doing is not shown as under way.

mod common;

use common::{RUNNABLE, append_journal, expanse, journal_dir, run_only, workspace};

#[test]
fn temp_files_a_kill_left_in_the_state_folder_are_removed() {
    let ws = workspace(RUNNABLE);
    assert!(run_only(ws.path(), "3").status.success());
    let dir = journal_dir(ws.path());
    std::fs::create_dir_all(dir.join("approvals")).unwrap();
    let temps = [
        dir.join("approvals/.expanse-tmp-AbCd1234.partial"),
        dir.join("drafts/.expanse-tmp-EfGh5678.partial"),
    ];
    for t in &temps {
        std::fs::write(t, "half written").unwrap();
    }
    let kept = dir.join("drafts/.expanse-notes.md");
    std::fs::write(&kept, "not ours").unwrap();
    assert!(
        expanse(ws.path())
            .args(["review", "plans/p.md"])
            .output()
            .unwrap()
            .status
            .success()
    );
    for t in &temps {
        assert!(!t.exists(), "{} is left", t.display());
    }
    assert!(kept.exists(), "only expanse's own temp names are removed");
}

#[test]
fn an_index_build_a_killed_process_left_is_removed() {
    let ws = workspace(RUNNABLE);
    // A process that has ended: its build folder is abandoned.
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let dead = child.id();
    child.wait().unwrap();
    let abandoned = ws
        .path()
        .join(format!(".expanse/index/index-0123456789ab.building-{dead}"));
    std::fs::create_dir_all(&abandoned).unwrap();
    std::fs::write(abandoned.join("meta.json"), "{}").unwrap();
    // A run on a corpus never indexed here builds an index, and sweeps the abandoned one.
    let corpus = tempfile::tempdir().unwrap();
    std::fs::write(
        corpus.path().join("a.md"),
        "# A\n\nZeRO partitions optimizer state across data parallel ranks.\n",
    )
    .unwrap();
    let out = expanse(ws.path())
        .args([
            "run",
            "plans/p.md",
            "--headless",
            "--offline",
            "--only",
            "3",
        ])
        .arg("--corpus")
        .arg(corpus.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!abandoned.exists());
}

#[test]
fn a_step_nobody_is_doing_is_not_shown_as_under_way() {
    let ws = workspace(RUNNABLE);
    assert!(run_only(ws.path(), "3").status.success());
    // A run killed while PART 4 was scraping (or one whose disk filled before it could say).
    append_journal(
        ws.path(),
        b"{\"type\":\"state\",\"ts\":\"2026-01-01T00:00:00+00:00\",\"part\":4,\"state\":\"scraping\"}\n",
    );
    let parts = common::status(ws.path());
    let p4 = parts.iter().find(|p| p["number"] == 4).unwrap();
    assert_eq!(p4["state"], "queued", "{p4}");
    assert_eq!(
        p4["reason"],
        "stopped while scraping (no run is live); the next run resumes it"
    );
}
