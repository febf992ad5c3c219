//! A base that already holds a person's file: the PART grows it and never silently replaces
//! it, the gate guards the person's lines, and approval can take some hunks and leave others.

mod common;

use common::{expanse, run, run_only, workspace};
use std::path::Path;

/// One PART whose target the base already holds, on topics the demo corpus covers.
const PLAN: &str = "# P\n\n## EXPANSION 1: Training\n\n### PART 1: Create dist/zero.md (~80 lines)\n\n- [ ] PART 1: Create dist/zero.md\n\n- [ ] Read INDEX.md for ZeRO mentions\n- [ ] Grep for \"DeepSpeed\" in dist/\n- [ ] Search: \"ZeRO-1 ZeRO-2 ZeRO-3 comparison\"\n- [ ] Search: \"DeepSpeed ZeRO memory breakdown\"\n- [ ] Scrape top 3 results\n- [ ] Section 1: ZeRO-1, ZeRO-2, ZeRO-3 comparison (~40 lines)\n- [ ] Section 2: Memory optimization breakdown (~40 lines)\n- [ ] Cite all sources\n- [ ] Create KNOWLEDGE-DROP-zero-2026-01-01-[TIME].md\n";
const T1: &str = "dist/zero.md";
const NOTES: &str = "# ZeRO stages (hand notes)\n\nNotes from our cluster, kept by hand.\n\n## ZeRO-1, ZeRO-2, ZeRO-3 comparison\n\nZeRO-2 gave 1.4x throughput over ZeRO-3 on our 7B run, measured 2025-10 [1].\n\n## Pitfall\n\nOffloading optimizer state to NVMe made steps 5x slower.\n\n## Sources\n\n[1] Our run log — https://wiki.example/run\n";

/// A workspace whose base holds the hand notes as PART 1's target, and a related file.
fn with_notes() -> tempfile::TempDir {
    let ws = workspace(PLAN);
    let kb = ws.path().join("knowledge");
    std::fs::create_dir_all(kb.join("dist")).unwrap();
    std::fs::write(kb.join(T1), NOTES).unwrap();
    std::fs::write(
        kb.join("dist/memory.md"),
        "# Memory\n\n## Rule of thumb\n\nDeepSpeed ZeRO needs 16 bytes per parameter before sharding.\n",
    )
    .unwrap();
    ws
}

fn target(ws: &Path) -> String {
    std::fs::read_to_string(ws.join("knowledge").join(T1)).unwrap()
}

/// Whether every line of `old` is in `new`, in order.
fn keeps_every_line(old: &str, new: &str) -> bool {
    let mut it = new.lines();
    old.lines().all(|l| it.any(|n| n == l))
}

fn review(ws: &Path, args: &[&str]) -> std::process::Output {
    expanse(ws)
        .args(["review", "plans/p.md"])
        .args(args)
        .output()
        .unwrap()
}

fn check_json(ws: &Path) -> serde_json::Value {
    let out = review(ws, &["--check", "1", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn a_persons_lines_survive_approve_all_and_the_file_grows() {
    let ws = with_notes();
    let (code, events, _) = run(ws.path(), &["--only", "1", "--approve-all"]);
    assert_eq!(code, 0);
    let logs: Vec<&str> = events
        .iter()
        .filter_map(|e| e["message"].as_str())
        .collect();
    assert!(
        logs.iter()
            .any(|m| m.contains("exists (15 lines): this PART grows it")),
        "{logs:?}"
    );
    assert!(
        logs.iter().any(|m| m.contains(
            "\"ZeRO-1, ZeRO-2, ZeRO-3 comparison\" extends `dist/zero.md` § ZeRO-1, ZeRO-2, ZeRO-3 comparison (1 line)"
        )),
        "Step 0 names the file and heading that cover a planned section: {logs:?}"
    );
    let grown = target(ws.path());
    assert!(keeps_every_line(NOTES, &grown), "{grown}");
    assert!(
        grown.starts_with("# ZeRO stages (hand notes)\n"),
        "the H1 is kept"
    );
    assert!(grown.lines().count() > NOTES.lines().count() + 50);
    // The person's [1] stays theirs; new sources are numbered after it and listed once.
    assert_eq!(grown.matches("## Sources").count(), 1);
    assert!(grown.contains("\n[1] Our run log — https://wiki.example/run\n[2] "));
    let drops = common::files(&ws.path().join("knowledge/drops"));
    let drop = std::fs::read_to_string(&drops[0]).unwrap();
    assert!(
        drop.contains("- **Grows**: the existing file (15 lines)"),
        "{drop}"
    );
}

#[test]
fn a_changed_line_of_the_persons_file_is_never_clean() {
    let ws = with_notes();
    assert!(run_only(ws.path(), "1").status.success());
    assert_eq!(check_json(ws.path())["removed"], serde_json::json!([]));
    // A revision of one of the person's lines, as an edit would make it.
    let out = expanse(ws.path())
        .env(
            "EDITOR",
            "sed -i -e 's/^ZeRO-2 gave 1.4x throughput/ZeRO-2 gave 2x throughput/'",
        )
        .args(["review", "plans/p.md", "--edit", "1"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let check = check_json(ws.path());
    assert_eq!(check["clean"], false);
    assert_eq!(check["removed"][0]["line"], 7);
    assert!(
        check["reasons"][0].as_str().unwrap().starts_with(
            "removes or changes 1 line of the existing file (line 7: \"ZeRO-2 gave 1.4x"
        ),
        "{check}"
    );
    // --approve-all leaves it for a person and says why.
    let (_, events, _) = run(ws.path(), &["--only", "1", "--approve-all"]);
    assert!(
        events.iter().any(|e| e["message"]
            .as_str()
            .is_some_and(|m| m.contains("left for review, not clean: removes or changes 1 line"))),
        "{events:?}"
    );
    assert_eq!(target(ws.path()), NOTES, "nothing was written");
}

#[test]
fn approving_some_hunks_writes_exactly_those_and_undo_restores_the_file() {
    let ws = with_notes();
    assert!(run_only(ws.path(), "1").status.success());
    let diff = String::from_utf8(review(ws.path(), &["--diff", "1"]).stdout).unwrap();
    let file_diff = diff.split("+++ b/drops/").next().unwrap();
    let hunks = file_diff.matches(" @@ hunk ").count();
    assert!(hunks >= 2, "{diff}");
    let bad = review(ws.path(), &["--approve", "1", "--hunks", "99"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains(&format!("has no hunk 99 (it has {hunks}")),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
    assert_eq!(target(ws.path()), NOTES);
    let ok = review(ws.path(), &["--approve", "1", "--hunks", "1"]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let written = target(ws.path());
    assert!(keeps_every_line(NOTES, &written));
    // Exactly the first hunk went in: the diff of the file written against the notes is one
    // block of added lines, and it is the first hunk's.
    let first: Vec<&str> = diff
        .split(" @@ hunk 2")
        .next()
        .unwrap()
        .lines()
        // Inserted lines: no old number, the new one, then `+` (`        12 +text`).
        .filter(|l| l.len() > 10 && l.is_char_boundary(10) && l[..4].trim().is_empty())
        .filter_map(|l| l[10..].strip_prefix('+'))
        .collect();
    let added: Vec<&str> = written
        .lines()
        .filter(|l| !NOTES.lines().any(|n| n == *l))
        .collect();
    let first_added: Vec<&str> = first
        .iter()
        .copied()
        .filter(|l| !NOTES.lines().any(|n| n == *l))
        .collect();
    assert_eq!(added, first_added);
    let drops = common::files(&ws.path().join("knowledge/drops"));
    let drop = std::fs::read_to_string(&drops[0]).unwrap();
    assert!(
        drop.contains(&format!("({} lines)", written.lines().count())),
        "the drop counts the lines written: {drop}"
    );
    let undo = review(ws.path(), &["--undo", "1"]);
    assert!(
        undo.status.success(),
        "{}",
        String::from_utf8_lossy(&undo.stderr)
    );
    assert_eq!(
        target(ws.path()),
        NOTES,
        "undo puts the notes back byte for byte"
    );
}

#[test]
fn a_new_file_is_titled_as_its_sources_spell_it() {
    let ws = workspace(
        "# P\n\n### PART 1: Create dist/zero-stages.md (~60 lines)\n\n- [ ] PART 1: Create dist/zero-stages.md\n\n- [ ] Search: \"deepspeed zero stages memory\"\n- [ ] Scrape top 2 results\n- [ ] Section 1: Overview (~30 lines)\n- [ ] Section 2: Memory (~30 lines)\n",
    );
    assert!(run_only(ws.path(), "1").status.success());
    let out = review(ws.path(), &["--diff", "1"]);
    let diff = String::from_utf8(out.stdout).unwrap();
    assert!(diff.contains("+# ZeRO Stages\n"), "{diff}");
}
