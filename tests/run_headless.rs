//! `expanse run --headless` and `expanse status` on real workspaces with the offline providers.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use serde_json::Value;

use common::{
    RUNNABLE, append_journal, corpus, drafted_parts, expanse, files, run, status, workspace,
};

const SEED: &str = include_str!("fixtures/seed-expansion-18-21.md");

/// Reject PART `n`'s draft with requeue, so the next run writes it again.
fn requeue(ws: &Path, n: &str) {
    expanse(ws)
        .args([
            "review",
            "plans/p.md",
            "--reject",
            n,
            "--reason",
            "again",
            "--requeue",
        ])
        .assert()
        .success();
}

fn logs<'a>(events: &'a [Value], prefix: &str) -> Vec<&'a str> {
    events
        .iter()
        .filter(|e| e["kind"] == "log")
        .filter_map(|e| e["message"].as_str())
        .filter(|m| m.starts_with(prefix))
        .collect()
}

fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out: Vec<(PathBuf, Vec<u8>)> = files(dir)
        .into_iter()
        .map(|p| {
            let b = std::fs::read(&p).unwrap();
            (p, b)
        })
        .collect();
    out.sort();
    out
}

#[test]
fn offline_run_takes_every_part_to_review_and_writes_nothing_unapproved() {
    let ws = workspace(RUNNABLE);
    let knowledge_before = snapshot(&ws.path().join("knowledge"));
    let (code, events, stderr) = run(ws.path(), &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("offline providers (--offline)"), "{stderr}");
    for e in &events {
        for key in ["ts", "part", "kind", "message"] {
            assert!(e.get(key).is_some(), "{key} missing in {e}");
        }
        assert!(
            ["state", "log", "draft", "written", "error"].contains(&e["kind"].as_str().unwrap())
        );
    }
    let drafts: Vec<&Value> = events.iter().filter(|e| e["kind"] == "draft").collect();
    assert_eq!(drafts.len(), 16);
    // Every PART went through the states in order.
    let p5: Vec<&str> = events
        .iter()
        .filter(|e| e["part"] == 5 && e["kind"] == "state")
        .map(|e| e["state"].as_str().unwrap())
        .collect();
    assert_eq!(
        p5,
        ["queued", "checking", "searching", "scraping", "writing"]
    );
    assert_eq!(
        logs(&events, "search \"").len(),
        80 + 16,
        "five queries and one named target per PART"
    );

    let parts = status(ws.path());
    assert_eq!(parts.len(), 16);
    for p in &parts {
        assert_eq!(p["state"], "review", "{p}");
        assert!(p["draft_lines"].as_u64().unwrap() > 100, "{p}");
        assert!(p["sources"].as_u64().unwrap() >= 2, "{p}");
    }
    assert_eq!(
        snapshot(&ws.path().join("knowledge")),
        knowledge_before,
        "nothing reaches knowledge/ without approval"
    );
    assert_eq!(
        std::fs::read_to_string(ws.path().join("plans/p.md")).unwrap(),
        RUNNABLE,
        "the plan is untouched"
    );
}

#[test]
fn a_second_run_repeats_nothing_and_redo_uses_the_cache() {
    let ws = workspace(RUNNABLE);
    let (code, _, _) = run(ws.path(), &["--only", "1-3"]);
    assert_eq!(code, 0);
    let (code, events, _) = run(ws.path(), &["--only", "1-3"]);
    assert_eq!(code, 0);
    assert!(
        logs(&events, "search").is_empty() && logs(&events, "fetch").is_empty(),
        "{events:?}"
    );
    assert!(
        events
            .iter()
            .filter(|e| e["kind"] == "state")
            .all(|e| e["state"] == "review")
    );
    assert!(
        events[0]["message"]
            .as_str()
            .unwrap()
            .contains("awaits review")
    );

    // Sent back to the writer, the PARTs are drafted again from the cache alone.
    for n in ["1", "2", "3"] {
        requeue(ws.path(), n);
    }
    let (code, events, _) = run(ws.path(), &["--only", "1-3"]);
    assert_eq!(code, 0);
    assert_eq!(events.iter().filter(|e| e["kind"] == "draft").count(), 3);
    let searches = logs(&events, "search");
    let fetches = logs(&events, "fetch");
    assert_eq!(searches.len(), 18);
    assert!(
        searches
            .iter()
            .chain(&fetches)
            .all(|m| m.ends_with("(cached)")),
        "{searches:?} {fetches:?}"
    );
}

#[test]
fn done_parts_are_not_run_unless_redo() {
    let ws = workspace(SEED);
    let (code, events, _) = run(ws.path(), &[]);
    assert_eq!(code, 0);
    assert!(logs(&events, "search").is_empty());
    assert_eq!(events.iter().filter(|e| e["state"] == "done").count(), 16);
    let (code, events, _) = run(ws.path(), &["--only", "2", "--redo"]);
    assert_eq!(code, 0);
    assert_eq!(drafted_parts(&events), [2]);
}

#[test]
fn a_torn_journal_line_and_a_corrupt_cache_are_survived() {
    let ws = workspace(RUNNABLE);
    assert_eq!(run(ws.path(), &["--only", "4"]).0, 0);
    let state = ws.path().join(".expanse");
    requeue(ws.path(), "4");
    append_journal(ws.path(), br#"{"type":"state","part":4,"sta"#);
    // status reads the journal as it is: the torn line stays until a run opens the journal.
    let journal = common::journal_dir(ws.path()).join("journal.jsonl");
    let before = std::fs::read(&journal).unwrap();
    assert_eq!(status(ws.path())[3]["state"], "rejected");
    assert_eq!(
        std::fs::read(&journal).unwrap(),
        before,
        "status changes nothing"
    );
    for p in files(&state.join("cache")) {
        std::fs::write(p, b"{\"key\": garbage").unwrap();
    }
    let (code, events, stderr) = run(ws.path(), &["--only", "4"]);
    assert_eq!(code, 0, "{stderr}");
    let searches = logs(&events, "search");
    assert!(
        !searches.is_empty() && searches.iter().all(|m| !m.ends_with("(cached)")),
        "corrupt entries are refetched: {searches:?}"
    );
    assert_eq!(status(ws.path())[3]["state"], "review");
}

#[test]
fn kill_9_mid_run_loses_nothing_finished() {
    let ws = workspace(RUNNABLE);
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("expanse"))
        .arg("--root")
        .arg(ws.path())
        .args([
            "run",
            "plans/p.md",
            "--headless",
            "--json",
            "--offline",
            "--jobs",
            "1",
            "--corpus",
        ])
        .arg(corpus())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first_draft = None;
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let e: Value = serde_json::from_str(&line.unwrap()).unwrap();
        if e["kind"] == "draft" {
            first_draft = e["part"].as_u64();
            break;
        }
    }
    child.kill().unwrap(); // SIGKILL on unix
    child.wait().unwrap();
    let first = first_draft.expect("a draft before the kill");
    // The killed run may have drafted a few more PARTs after the line we read: ask the journal.
    let kept: Vec<u64> = status(ws.path())
        .iter()
        .filter(|p| p["state"] == "review")
        .map(|p| p["number"].as_u64().unwrap())
        .collect();
    assert!(kept.contains(&first));

    let (code, events, _) = run(ws.path(), &[]);
    assert_eq!(code, 0);
    let rerun = drafted_parts(&events);
    assert!(
        rerun.iter().all(|n| !kept.contains(n)),
        "drafts made before the kill are kept, not redone: {kept:?} then {rerun:?}"
    );
    assert_eq!(
        rerun.len() + kept.len(),
        16,
        "every other PART is drafted once"
    );
    assert!(status(ws.path()).iter().all(|p| p["state"] == "review"));
}

#[test]
fn a_part_whose_searches_find_nothing_still_gets_a_draft_saying_what_is_missing() {
    let ws = workspace(
        "# P\n\n### PART 1: Create x/00-underwater-basket-weaving.md (~50 lines)\n\n- [ ] PART 1: Create x/00-underwater-basket-weaving.md\n\n- [ ] Search: \"qwxyzzy flurble\"\n- [ ] Section 1: Knots - which knots hold wet (~20 lines)\n",
    );
    let (code, events, _) = run(ws.path(), &[]);
    assert_eq!(code, 0);
    assert!(
        logs(&events, "search \"qwxyzzy flurble\" → 0 hits").len() == 1,
        "{events:?}"
    );
    let drafts = files(&ws.path().join(".expanse/plans"))
        .into_iter()
        .find(|p| p.ends_with("part-1.json"))
        .unwrap();
    let draft: Value = serde_json::from_slice(&std::fs::read(drafts).unwrap()).unwrap();
    assert!(
        draft["text"]
            .as_str()
            .unwrap()
            .contains("**Missing:** none of the gathered sources covers \"Knots\"")
    );
}

#[test]
fn binary_and_huge_corpus_files_are_skipped_with_a_note() {
    let ws = workspace(
        "# P\n\n### PART 1: Create x/a.md\n\n- [ ] PART 1: Create x/a.md\n\n- [ ] Search: \"ray tune\"\n- [ ] Section 1: Tune (~10 lines)\n",
    );
    let corpus = ws.path().join("corpus");
    std::fs::create_dir_all(&corpus).unwrap();
    std::fs::write(corpus.join("ok.md"), "# Ray Tune\n\nRay Tune runs hyperparameter searches with schedulers such as ASHA on a cluster.\n").unwrap();
    std::fs::write(corpus.join("blob.md"), b"\x00\x01binary").unwrap();
    std::fs::write(corpus.join("huge.txt"), "ray tune ".repeat(300_000)).unwrap();
    let out = expanse(ws.path())
        .args([
            "run",
            "plans/p.md",
            "--headless",
            "--offline",
            "--corpus",
            "corpus",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{stderr}");
    // One summary line at the start of the run names every skipped file and why.
    assert!(
        stderr.contains(
            "3 files: 1 read, 2 skipped: blob.md (binary file), huge.txt (2700000 bytes is over"
        ),
        "{stderr}"
    );
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .contains("draft ready")
    );
}

#[test]
fn bad_arguments_are_clear() {
    let ws = workspace(RUNNABLE);
    let (code, _, stderr) = run(ws.path(), &["--only", "3,99"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("--only names PARTs the plan does not have: 99"),
        "{stderr}"
    );
    let (code, _, stderr) = run(ws.path(), &["--only", "x-y"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("\"x-y\" is not a PART number or range"),
        "{stderr}"
    );
    let out = expanse(ws.path())
        .args([
            "run",
            "plans/p.md",
            "--headless",
            "--offline",
            "--corpus",
            "nope",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("corpus folder")
    );
}

/// The caches follow the corpus: a document added to it is found, and an edited one is read
/// again, instead of an earlier run's results coming back as "(cached)".
#[test]
fn a_changed_corpus_is_searched_and_read_again() {
    let ws = workspace(
        "# P\n\n### PART 1: Create x/a.md\n\n- [ ] PART 1: Create x/a.md\n\n- [ ] Search: \"ray tune schedulers\"\n- [ ] Section 1: Tune (~10 lines)\n",
    );
    let corpus = ws.path().join("corpus");
    std::fs::create_dir_all(&corpus).unwrap();
    std::fs::write(
        corpus.join("knots.md"),
        "# Knots\n\nA bowline holds when wet.\n",
    )
    .unwrap();
    let run_on_corpus = || -> Vec<Value> {
        let out = expanse(ws.path())
            .args(["run", "plans/p.md", "--headless", "--json", "--offline"])
            .args(["--corpus", "corpus"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let draft = || -> String {
        let path = files(&ws.path().join(".expanse/plans"))
            .into_iter()
            .find(|p| p.ends_with("part-1.json"))
            .unwrap();
        let d: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        d["text"].as_str().unwrap().to_string()
    };

    let first = run_on_corpus();
    assert_eq!(
        logs(&first, "search \"ray tune schedulers\" → 0 hits"),
        ["search \"ray tune schedulers\" → 0 hits"]
    );

    let tune = corpus.join("tune.md");
    std::fs::write(
        &tune,
        "# Ray Tune\n\nRay Tune schedulers such as ASHA stop bad trials early.\n",
    )
    .unwrap();
    requeue(ws.path(), "1");
    let second = run_on_corpus();
    assert_eq!(
        logs(&second, "search \"ray tune schedulers\""),
        ["search \"ray tune schedulers\" → 1 hit"],
        "the new document is searched for, not the old corpus's cached 0 hits"
    );
    assert_eq!(logs(&second, "fetch corpus://tune.md → ok").len(), 1);
    assert!(draft().contains("ASHA"));

    // The same size, so only the modification time tells the edit apart.
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(
        &tune,
        "# Ray Tune\n\nRay Tune schedulers such as HBOP stop bad trials early.\n",
    )
    .unwrap();
    requeue(ws.path(), "1");
    let third = run_on_corpus();
    assert_eq!(
        logs(&third, "fetch corpus://tune.md → ok").len(),
        1,
        "{third:?}"
    );
    assert!(
        logs(&third, "fetch corpus://tune.md → ok")[0].ends_with("B"),
        "read, not cached"
    );
    let text = draft();
    assert!(text.contains("HBOP") && !text.contains("ASHA"), "{text}");
}
