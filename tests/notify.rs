//! `[notify] command`: each draft to review (and the run's end) reaches the command as one JSON
//! line on stdin, and a command that hangs never holds the run.

mod common;

use std::time::Duration;

#[test]
fn the_command_gets_a_line_per_new_draft_and_one_when_the_run_finishes() {
    let ws = common::workspace(common::RUNNABLE);
    let notes = ws.path().join("notes.jsonl");
    std::fs::write(
        ws.path().join("expanse.toml"),
        format!("[notify]\ncommand = \"cat >> '{}'\"\n", notes.display()),
    )
    .unwrap();
    let (code, _, stderr) = common::run(ws.path(), &["--only", "1,2"]);
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&notes)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut reviews: Vec<u64> = lines
        .iter()
        .filter(|l| l["kind"] == "review")
        .map(|l| l["part"].as_u64().unwrap())
        .collect();
    reviews.sort_unstable();
    assert_eq!(reviews, [1, 2], "{lines:#?}");
    let one = lines.iter().find(|l| l["part"] == 1).unwrap();
    assert_eq!(one["plan"], "plans/p.md");
    assert!(
        one["title"].as_str().unwrap().ends_with(".md"),
        "the PART's target: {one}"
    );
    let finished: Vec<&serde_json::Value> =
        lines.iter().filter(|l| l["kind"] == "finished").collect();
    assert_eq!(finished.len(), 1, "{lines:#?}");
    assert!(
        finished[0]["message"]
            .as_str()
            .unwrap()
            .contains("every PART has settled: 2 review"),
        "{lines:#?}"
    );

    // A second run finds the drafts already waiting: nothing new happened, nothing is said.
    std::fs::remove_file(&notes).unwrap();
    let (code, _, _) = common::run(ws.path(), &["--only", "1,2"]);
    assert_eq!(code, 0);
    let again = std::fs::read_to_string(&notes).unwrap_or_default();
    assert!(again.is_empty(), "{again}");
}

#[test]
fn a_command_that_hangs_does_not_hold_the_run() {
    let ws = common::workspace(common::RUNNABLE);
    std::fs::write(
        ws.path().join("expanse.toml"),
        "[notify]\ncommand = \"sleep 600\"\n",
    )
    .unwrap();
    // Without the notifier's own threads and deadline, the run would wait on sleep 600.
    let out = common::expanse(ws.path())
        .args([
            "run",
            "plans/p.md",
            "--headless",
            "--offline",
            "--only",
            "1,2,3",
        ])
        .arg("--corpus")
        .arg(common::corpus())
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("finished 3 PARTs: 3 review"));
}
