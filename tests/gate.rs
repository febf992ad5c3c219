//! The gate as a reviewer and an attacker use it: `review --check`, undo as the exact inverse of
//! approval (refused after an outside edit, finished after a crash), one section regenerated
//! with the others' bytes kept, concurrent approvals that lose nothing, one run per plan, and
//! damaged state that costs no reviewer's work.

mod common;

use std::path::Path;

use common::{RUNNABLE, append_journal, corpus, expanse, journal_dir, run_only, workspace};
use serde_json::Value;

fn drafted(only: &str) -> tempfile::TempDir {
    let ws = workspace(RUNNABLE);
    let out = run_only(ws.path(), only);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    ws
}

fn review(ws: &Path, args: &[&str]) -> std::process::Output {
    expanse(ws)
        .args(["review", "plans/p.md"])
        .args(args)
        .output()
        .unwrap()
}

fn read(ws: &Path, rel: &str) -> Option<String> {
    std::fs::read_to_string(ws.join(rel)).ok()
}

fn draft(ws: &Path, part: u32) -> Value {
    serde_json::from_slice(
        &std::fs::read(journal_dir(ws).join(format!("drafts/part-{part}.json"))).unwrap(),
    )
    .unwrap()
}

fn state_of(ws: &Path, part: u64) -> String {
    common::status(ws)
        .into_iter()
        .find(|p| p["number"] == part)
        .unwrap()["state"]
        .as_str()
        .unwrap()
        .to_string()
}

const TARGET3: &str =
    "knowledge/karpathy/distributed-training/02-megatron-lm-tensor-parallelism.md";

#[test]
fn check_json_has_the_contract_shape_and_says_why() {
    let ws = drafted("4");
    let out = review(ws.path(), &["--check", "4", "--json"]);
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["part"], 4);
    assert!(v["clean"].is_boolean());
    assert_eq!(
        v["clean"].as_bool().unwrap(),
        v["reasons"].as_array().unwrap().is_empty()
    );
    let sections = v["sections"].as_array().unwrap();
    assert_eq!(sections.len(), 5);
    for s in sections {
        for key in ["title", "lines", "budget", "filled", "claims", "supported"] {
            assert!(s.get(key).is_some(), "{key} in {s}");
        }
    }
    let claims = v["claims"].as_array().unwrap();
    assert!(claims.len() > 50, "{}", claims.len());
    for c in claims {
        let verdict = c["verdict"].as_str().unwrap();
        assert!(["supported", "weak", "unsupported", "uncited"].contains(&verdict));
        assert!(c["line"].as_u64().unwrap() > 0);
        if verdict == "supported" {
            assert!(c["evidence"]["source"].as_u64().is_some(), "{c}");
        }
    }
    // Extractive drafts quote their sources: nearly every claim is supported.
    let supported = claims
        .iter()
        .filter(|c| c["verdict"] == "supported")
        .count();
    assert!(
        supported * 10 >= claims.len() * 9,
        "{supported}/{}",
        claims.len()
    );
}

#[test]
fn undo_after_approve_gives_back_every_byte() {
    let ws = drafted("2,3");
    // PART 3's file already exists; PART 2's is new.
    std::fs::create_dir_all(ws.path().join("knowledge/karpathy/distributed-training")).unwrap();
    std::fs::write(ws.path().join(TARGET3), "# Megatron notes\n\nBy hand.\n").unwrap();
    std::fs::write(
        ws.path().join("knowledge/INDEX.md"),
        "# Index\r\n\r\n## Files\r\n\r\n- [other.md](other.md) — kept\r\n",
    )
    .unwrap();
    let before = |ws: &Path| {
        (
            read(ws, "plans/p.md"),
            read(ws, "knowledge/INDEX.md"),
            read(ws, TARGET3),
        )
    };
    let at_start = before(ws.path());
    // Seeing the new diff of PART 3 against the hand-written file, then approving both.
    assert!(review(ws.path(), &["--diff", "3"]).status.success());
    for n in ["2", "3"] {
        let out = review(ws.path(), &["--approve", n]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_ne!(before(ws.path()), at_start);
    for n in ["3", "2"] {
        let out = review(ws.path(), &["--undo", n]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(
        before(ws.path()),
        at_start,
        "plan, INDEX and target byte-identical"
    );
    assert!(
        read(
            ws.path(),
            "knowledge/karpathy/distributed-training/01-deepspeed-pipeline-parallelism.md"
        )
        .is_none(),
        "a new file is removed again"
    );
    assert!(
        common::files(&ws.path().join("knowledge/drops")).is_empty(),
        "the drops are gone"
    );
    assert_eq!(state_of(ws.path(), 3), "review");
    // Approving again works as before.
    assert!(review(ws.path(), &["--approve", "3"]).status.success());
}

#[test]
fn undo_is_refused_naming_a_file_changed_since() {
    let ws = drafted("3");
    assert!(review(ws.path(), &["--approve", "3"]).status.success());
    let approved = read(ws.path(), TARGET3).unwrap();
    let edited = approved.clone() + "\nA reader's note.\n";
    std::fs::write(ws.path().join(TARGET3), &edited).unwrap();
    let plan = read(ws.path(), "plans/p.md");
    let out = review(ws.path(), &["--undo", "3"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("02-megatron-lm-tensor-parallelism.md changed since the approval"),
        "{err}"
    );
    assert_eq!(read(ws.path(), TARGET3).unwrap(), edited, "nothing undone");
    assert_eq!(read(ws.path(), "plans/p.md"), plan);
    assert_eq!(state_of(ws.path(), 3), "approved");
    // The file as approved again, its drop edited instead: refused, naming the drop.
    std::fs::write(ws.path().join(TARGET3), &approved).unwrap();
    let drop = common::files(&ws.path().join("knowledge/drops")).remove(0);
    std::fs::write(&drop, "rewritten by hand\n").unwrap();
    let out = review(ws.path(), &["--undo", "3"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    let name = drop.file_name().unwrap().to_string_lossy();
    assert!(
        err.contains(&format!("{name} changed since the approval")),
        "{err}"
    );
    assert_eq!(state_of(ws.path(), 3), "approved");
}

#[test]
fn an_undo_cut_short_by_a_crash_is_finished_by_the_next_command() {
    let ws = drafted("3");
    let at_start = (
        read(ws.path(), "plans/p.md"),
        read(ws.path(), "knowledge/INDEX.md"),
    );
    assert!(review(ws.path(), &["--approve", "3"]).status.success());
    // What a kill -9 right after the undo began and removed the drop leaves behind.
    let drop = common::files(&ws.path().join("knowledge/drops")).remove(0);
    std::fs::remove_file(&drop).unwrap();
    append_journal(
        ws.path(),
        b"{\"type\":\"undo\",\"ts\":\"2026-11-29T12:00:00+00:00\",\"part\":3,\"step\":\"begin\"}\n",
    );
    // Any command finishes it: all of it, not some.
    assert_eq!(state_of(ws.path(), 3), "review");
    assert_eq!(
        (
            read(ws.path(), "plans/p.md"),
            read(ws.path(), "knowledge/INDEX.md")
        ),
        at_start
    );
    assert!(read(ws.path(), TARGET3).is_none());
}

#[test]
fn regenerating_one_section_keeps_the_other_sections_bytes() {
    let ws = drafted("1");
    let before = draft(ws.path(), 1);
    let out = review(
        ws.path(),
        &[
            "--regenerate",
            "1",
            "--section",
            "2",
            "--reason",
            "compare the communication volume of each stage",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = draft(ws.path(), 1);
    let sections = |d: &Value| -> Vec<String> {
        d["sections"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["text"].as_str().unwrap().to_string())
            .collect()
    };
    let (b, a) = (sections(&before), sections(&after));
    for k in [0, 2, 3, 4] {
        assert_eq!(a[k], b[k], "section {} kept its bytes", k + 1);
        assert!(after["text"].as_str().unwrap().contains(a[k].trim()));
    }
    assert_ne!(
        a[1], b[1],
        "the reason changed what section 2 was written from"
    );
    assert_eq!(state_of(ws.path(), 1), "review");
    let journal = std::fs::read_to_string(journal_dir(ws.path()).join("journal.jsonl")).unwrap();
    assert!(journal.contains("\"type\":\"regenerate\""));
}

#[test]
fn concurrent_approvals_lose_no_tick_and_no_index_entry() {
    let ws = drafted("1-16");
    // Eight pairs approved by two processes at the same moment.
    for pair in 0..8u32 {
        let (a, b) = (pair * 2 + 1, pair * 2 + 2);
        let spawn = |n: u32| {
            std::process::Command::new(assert_cmd::cargo::cargo_bin("expanse"))
                .arg("--root")
                .arg(ws.path())
                .args(["review", "plans/p.md", "--approve", &n.to_string()])
                .output()
        };
        let (ra, rb) = std::thread::scope(|s| {
            let ha = s.spawn(|| spawn(a));
            let hb = s.spawn(|| spawn(b));
            (ha.join().unwrap().unwrap(), hb.join().unwrap().unwrap())
        });
        assert!(ra.status.success() && rb.status.success());
    }
    let plan = read(ws.path(), "plans/p.md").unwrap();
    assert_eq!(plan.matches("- [✓] PART ").count(), 16, "{plan}");
    let index = read(ws.path(), "knowledge/INDEX.md").unwrap();
    assert_eq!(index.matches("](karpathy/").count(), 16, "{index}");
    assert_eq!(common::files(&ws.path().join("knowledge/drops")).len(), 16);
}

#[test]
fn a_second_run_of_a_running_plan_is_refused_naming_the_process() {
    let ws = drafted("1");
    let held =
        expanse::knowledge::lock::run(&journal_dir(ws.path()).join("run.lock"), "test").unwrap();
    let out = expanse(ws.path())
        .args(["run", "plans/p.md", "--headless", "--offline", "--corpus"])
        .arg(corpus())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "already running in process {}",
            std::process::id()
        )),
        "{err}"
    );
    drop(held);
}

#[test]
fn a_lost_journal_never_costs_an_edited_draft() {
    let ws = drafted("3");
    let edited = format!(
        "{}\nThe reviewer's own paragraph.\n",
        draft(ws.path(), 3)["text"].as_str().unwrap()
    );
    let out = expanse(ws.path())
        .env(
            "EDITOR",
            "sh -c 'echo \"The reviewer s own paragraph.\" >> \"$1\"' sh",
        )
        .args(["review", "plans/p.md", "--edit", "3"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let kept = draft(ws.path(), 3)["text"].as_str().unwrap().to_string();
    assert!(kept.contains("The reviewer s own paragraph."), "{kept}");
    let _ = edited;
    // The journal is truncated to nothing; the next run must not redraft over the edit.
    std::fs::write(journal_dir(ws.path()).join("journal.jsonl"), "").unwrap();
    let out = run_only(ws.path(), "3");
    assert!(out.status.success());
    assert_eq!(draft(ws.path(), 3)["text"].as_str().unwrap(), kept);
    assert_eq!(state_of(ws.path(), 3), "review");
}

#[test]
fn a_corrupt_draft_affects_only_its_part_and_is_named() {
    let ws = drafted("1,2");
    let bad = journal_dir(ws.path()).join("drafts/part-1.json");
    std::fs::write(&bad, "{ not json").unwrap();
    let out = review(ws.path(), &[]);
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stdout.contains("01-deepspeed-pipeline-parallelism.md"),
        "{stdout}"
    );
    assert!(
        stderr.contains("part-1.json") && stderr.contains("corrupt"),
        "{stderr}"
    );
    // A run does not overwrite it silently either: PART 1 fails naming the file.
    let out = run_only(ws.path(), "1");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("part-1.json"));
    assert_eq!(std::fs::read_to_string(&bad).unwrap(), "{ not json");
}

#[test]
fn a_forged_drop_path_and_a_symlinked_index_are_refused() {
    let ws = drafted("2,3");
    let target3 = ws.path().join(TARGET3);
    // A forged record: an approval of PART 2 "begun" with PART 3's target as its drop.
    append_journal(
        ws.path(),
        b"{\"type\":\"approval\",\"ts\":\"2026-11-29T12:00:00+00:00\",\"part\":2,\"step\":\"begin\",\"path\":\"karpathy/distributed-training/02-megatron-lm-tensor-parallelism.md\"}\n",
    );
    let out = review(ws.path(), &["--approve", "2"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a file in knowledge/drops/"));
    assert!(
        !target3.exists(),
        "nothing written over another PART's target"
    );

    let outside = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(outside.path(), "outside the base\n").unwrap();
    std::fs::remove_file(ws.path().join("knowledge/INDEX.md")).unwrap();
    std::os::unix::fs::symlink(outside.path(), ws.path().join("knowledge/INDEX.md")).unwrap();
    let out = review(ws.path(), &["--approve", "3"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("symbolic link"));
    assert!(!target3.exists());
    assert_eq!(
        std::fs::read_to_string(outside.path()).unwrap(),
        "outside the base\n"
    );
}

/// Undo says what it did: a PART ticked by hand before the approval stays ticked, and the
/// message does not claim to have unticked it.
#[test]
fn undo_tells_only_what_it_did() {
    let ws = drafted("3");
    let out = review(ws.path(), &["--approve", "3"]);
    assert!(out.status.success());
    let out = review(ws.path(), &["--undo", "3"]);
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        said.contains("its line in plans/p.md unticked, INDEX.md put back"),
        "{said}"
    );

    let plan_path = ws.path().join("plans/p.md");
    let plan = std::fs::read_to_string(&plan_path).unwrap();
    let line = plan
        .lines()
        .find(|l| l.starts_with("- [ ] PART 3:"))
        .unwrap()
        .to_string();
    std::fs::write(
        &plan_path,
        plan.replace(&line, &line.replacen("[ ]", "[x]", 1)),
    )
    .unwrap();
    assert!(review(ws.path(), &["--approve", "3"]).status.success());
    let out = review(ws.path(), &["--undo", "3"]);
    assert!(out.status.success());
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(!said.contains("unticked"), "{said}");
    assert!(said.contains("INDEX.md put back"), "{said}");
    assert!(
        std::fs::read_to_string(&plan_path)
            .unwrap()
            .contains("- [x] PART 3:")
    );
}
