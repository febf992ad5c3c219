//! `expanse review` and `run --approve-all`: the gate that writes files, drops, plan ticks and INDEX.md.

mod common;

use std::path::Path;

use serde_json::Value;

use common::{
    RUNNABLE, append_journal, corpus, drafted_parts, expanse, files, journal_dir, run, run_only,
    workspace,
};

const T3: &str = "karpathy/distributed-training/02-megatron-lm-tensor-parallelism.md";

/// A workspace with the runnable plan, run offline for `only`, drafts awaiting review.
fn drafted(only: &str) -> tempfile::TempDir {
    let dir = workspace(RUNNABLE);
    expanse(dir.path())
        .args([
            "run",
            "plans/p.md",
            "--headless",
            "--offline",
            "--only",
            only,
            "--corpus",
        ])
        .arg(corpus())
        .assert()
        .success();
    dir
}

fn review(ws: &Path, args: &[&str]) -> std::process::Output {
    expanse(ws)
        .args(["review", "plans/p.md"])
        .args(args)
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn state_of(ws: &Path, part: u64) -> String {
    let out = expanse(ws)
        .args(["status", "plans/p.md", "--json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["parts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["number"] == part)
        .unwrap()["state"]
        .as_str()
        .unwrap()
        .to_string()
}

fn drops(ws: &Path) -> Vec<String> {
    match std::fs::read_dir(ws.join("knowledge/drops")) {
        Ok(rd) => rd
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    }
}

fn changed_lines(a: &str, b: &str) -> Vec<(String, String)> {
    a.lines()
        .zip(b.lines())
        .filter(|(x, y)| x != y)
        .map(|(x, y)| (x.to_string(), y.to_string()))
        .collect()
}

#[test]
fn list_diff_and_approve_write_file_drop_tick_and_index() {
    let ws = drafted("3,4");
    let out = review(ws.path(), &[]);
    let listing = text(&out.stdout);
    assert!(
        listing.contains(T3) && listing.contains("5/5 sections"),
        "{listing}"
    );
    assert!(listing.contains("2 drafts awaiting review"));

    let out = review(ws.path(), &["--diff", "3"]);
    let diff = text(&out.stdout);
    assert!(
        diff.starts_with("--- /dev/null\n+++ b/karpathy/distributed-training/02-megatron"),
        "{diff}"
    );
    assert!(diff.contains("+## Section 1: Tensor parallelism fundamentals"));
    assert!(diff.contains("+++ b/drops/KNOWLEDGE-DROP-megatron-lm-2025-11-13-[TIME].md"));
    assert!(!diff.contains('\x1b'), "no colour when piped");

    let out = review(ws.path(), &["--approve", "3"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let file = std::fs::read_to_string(ws.path().join("knowledge").join(T3)).unwrap();
    assert!(file.contains("## Sources\n\n[1] "));
    let drop_names = drops(ws.path());
    assert_eq!(drop_names.len(), 1);
    let name = &drop_names[0];
    assert!(
        name.starts_with("KNOWLEDGE-DROP-megatron-lm-2025-11-13-")
            && name.ends_with(".md")
            && !name.contains("[TIME]"),
        "{name}"
    );
    let hhmm = &name["KNOWLEDGE-DROP-megatron-lm-2025-11-13-".len()..name.len() - 3];
    assert!(
        hhmm.len() == 4 && hhmm.bytes().all(|b| b.is_ascii_digit()),
        "{hhmm}"
    );
    let drop = std::fs::read_to_string(ws.path().join("knowledge/drops").join(name)).unwrap();
    assert!(
        drop.contains("**Runner**: PART 3")
            && drop.contains(&format!("({} lines)", file.lines().count()))
    );

    let plan = std::fs::read_to_string(ws.path().join("plans/p.md")).unwrap();
    let changed = changed_lines(RUNNABLE, &plan);
    assert_eq!(changed.len(), 1, "only PART 3's checkbox line changes");
    assert!(
        changed[0]
            .1
            .starts_with(&format!("- [✓] PART 3: Create {T3} (Completed "))
    );
    assert_eq!(
        plan.len(),
        RUNNABLE.len() + changed[0].1.len() - changed[0].0.len()
    );

    let index = std::fs::read_to_string(ws.path().join("knowledge/INDEX.md")).unwrap();
    assert!(index.starts_with("# Index\n\n## Files\n\n- [karpathy/distributed-training/02-megatron-lm-tensor-parallelism.md]("), "{index}");
    assert_eq!(state_of(ws.path(), 3), "approved");
    let again = review(ws.path(), &["--approve", "3"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(text(&again.stderr).contains("PART 3 is approved, not awaiting review"));
    assert!(text(&review(ws.path(), &[]).stdout).contains("1 draft awaiting review"));
}

#[test]
fn a_target_changed_on_disk_is_never_clobbered() {
    let ws = drafted("3");
    let target = ws.path().join("knowledge").join(T3);
    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
    std::fs::write(&target, "# Someone else's notes\n\nHand-written.\n").unwrap();
    let out = review(ws.path(), &["--approve", "3"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr)
            .contains("changed on disk since its diff was computed; nothing was written"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout).contains("-# Someone else's notes"),
        "the new diff is shown"
    );
    assert_eq!(
        std::fs::read_to_string(&target).unwrap(),
        "# Someone else's notes\n\nHand-written.\n"
    );
    assert_eq!(
        std::fs::read_to_string(ws.path().join("plans/p.md")).unwrap(),
        RUNNABLE
    );
    assert_eq!(state_of(ws.path(), 3), "review", "the draft is kept");
    // Having seen the new diff, approving again writes the draft over it.
    assert!(review(ws.path(), &["--approve", "3"]).status.success());
    assert!(
        std::fs::read_to_string(&target)
            .unwrap()
            .starts_with("# Megatron-LM Tensor Parallelism")
    );
}

#[test]
fn the_tick_applies_to_the_plan_as_it_is_now() {
    let ws = drafted("3");
    let edited = format!("<!-- edited by hand -->\n{}", RUNNABLE.replace(
        "- [ ] PART 16: Create karpathy/alternative-hardware/03-tpu-programming-fundamentals.md",
        "- [x] PART 16: Create karpathy/alternative-hardware/03-tpu-programming-fundamentals.md (by hand)",
    ));
    std::fs::write(ws.path().join("plans/p.md"), &edited).unwrap();
    assert!(review(ws.path(), &["--approve", "3"]).status.success());
    let plan = std::fs::read_to_string(ws.path().join("plans/p.md")).unwrap();
    let changed = changed_lines(&edited, &plan);
    assert_eq!(changed.len(), 1);
    // The plan's own glyph is now `x`, so the tick uses it.
    assert!(
        changed[0]
            .1
            .starts_with(&format!("- [x] PART 3: Create {T3} (Completed ")),
        "{changed:?}"
    );
    assert!(plan.starts_with("<!-- edited by hand -->\n"));
}

#[test]
fn reject_skips_or_requeues() {
    let ws = drafted("3,4");
    let out = review(ws.path(), &["--reject", "3", "--reason", "too shallow"]);
    assert!(out.status.success());
    assert_eq!(state_of(ws.path(), 3), "skipped");
    let out = review(
        ws.path(),
        &["--reject", "4", "--reason", "needs benchmarks", "--requeue"],
    );
    assert!(text(&out.stdout).contains("writes it again with your reason"));
    assert_eq!(state_of(ws.path(), 4), "rejected");
    let (_, events, _) = run(ws.path(), &["--only", "3,4"]);
    assert_eq!(
        drafted_parts(&events),
        [4],
        "the requeued PART is written again, the skipped one is not"
    );
    assert!(!ws.path().join("knowledge").join(T3).exists());
}

#[test]
fn an_edited_draft_is_what_gets_written() {
    let ws = drafted("3");
    let out = expanse(ws.path())
        .env(
            "EDITOR",
            "sed -i -e 's/^# Megatron-LM Tensor Parallelism$/# Megatron-LM Tensor Parallelism (edited)/'",
        )
        .args(["review", "plans/p.md", "--edit", "3"])
        .output()
        .unwrap();
    assert!(
        text(&out.stdout).contains("PART 3: draft updated"),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(review(ws.path(), &["--approve", "3"]).status.success());
    let file = std::fs::read_to_string(ws.path().join("knowledge").join(T3)).unwrap();
    assert!(file.starts_with("# Megatron-LM Tensor Parallelism (edited)\n"));
}

#[test]
fn an_interrupted_approval_completes_on_the_next_start() {
    let ws = drafted("3");
    append_journal(ws.path(), b"{\"type\":\"approval\",\"ts\":\"2026-11-24T10:00:00+00:00\",\"part\":3,\"step\":\"begin\",\"path\":\"drops/KNOWLEDGE-DROP-megatron-lm-2025-11-13-1000.md\"}\n");
    let out = review(ws.path(), &[]);
    assert!(text(&out.stderr).contains("finished the interrupted approval of PART 3"));
    assert!(ws.path().join("knowledge").join(T3).is_file());
    assert_eq!(
        drops(ws.path()),
        ["KNOWLEDGE-DROP-megatron-lm-2025-11-13-1000.md"],
        "the begun drop name is reused"
    );
    assert_eq!(state_of(ws.path(), 3), "approved");
}

#[test]
fn a_target_escaping_through_a_symlink_is_refused() {
    let ws = drafted("3");
    let outside = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(outside.path(), ws.path().join("knowledge/karpathy")).unwrap();
    let out = review(ws.path(), &["--approve", "3"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("outside the knowledge base"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
    assert_eq!(
        std::fs::read_to_string(ws.path().join("plans/p.md")).unwrap(),
        RUNNABLE
    );
}

/// Make `dir` unwritable even for root: chmod, then the immutable attribute. False if neither works.
fn make_read_only(dir: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o555)).unwrap();
    if std::fs::write(dir.join(".probe"), b"x").is_err() {
        return true;
    }
    let _ = std::fs::remove_file(dir.join(".probe"));
    let ok = std::process::Command::new("chattr")
        .arg("+i")
        .arg(dir)
        .status()
        .is_ok_and(|s| s.success());
    ok && std::fs::write(dir.join(".probe"), b"x").is_err()
}

fn undo_read_only(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::process::Command::new("chattr")
        .arg("-i")
        .arg(dir)
        .status();
    let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755));
}

#[test]
fn a_read_only_base_fails_the_approval_cleanly() {
    let ws = drafted("3");
    let knowledge = ws.path().join("knowledge");
    let before_index = std::fs::read_to_string(knowledge.join("INDEX.md")).unwrap();
    if !make_read_only(&knowledge) {
        undo_read_only(&knowledge);
        eprintln!("skipped: cannot make a read-only folder on this file system");
        return;
    }
    let out = review(ws.path(), &["--approve", "3"]);
    undo_read_only(&knowledge);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("cannot write"), "{err}");
    assert!(err.contains("knowledge"), "{err}");
    assert!(!knowledge.join("karpathy").exists());
    assert!(drops(ws.path()).is_empty());
    assert_eq!(
        std::fs::read_to_string(knowledge.join("INDEX.md")).unwrap(),
        before_index
    );
    assert_eq!(
        std::fs::read_to_string(ws.path().join("plans/p.md")).unwrap(),
        RUNNABLE
    );
    assert_eq!(state_of(ws.path(), 3), "review");
    assert!(
        review(ws.path(), &["--approve", "3"]).status.success(),
        "once writable, the kept draft approves"
    );
}

#[test]
fn approve_all_approves_clean_drafts_only() {
    let ws = drafted("1");
    let (code, events, stderr) = run(ws.path(), &["--only", "2,3,4", "--approve-all"]);
    assert_eq!(code, 0, "{stderr}");
    let written: Vec<u64> = events
        .iter()
        .filter(|e| e["kind"] == "written")
        .map(|e| e["part"].as_u64().unwrap())
        .collect();
    let left: Vec<u64> = events
        .iter()
        .filter(|e| {
            e["message"]
                .as_str()
                .unwrap_or("")
                .starts_with("left for review")
        })
        .map(|e| e["part"].as_u64().unwrap())
        .collect();
    assert_eq!(written.len() / 2 + left.len(), 3, "{events:?}");
    assert!(
        left.contains(&4),
        "PART 4's draft is under half its planned length: {left:?}"
    );
    let plan = std::fs::read_to_string(ws.path().join("plans/p.md")).unwrap();
    for n in [2u64, 3] {
        let ticked = plan.contains(&format!("- [✓] PART {n}: "));
        assert_eq!(ticked, written.contains(&n), "PART {n}");
    }
    assert!(
        !plan.contains("- [✓] PART 1: "),
        "PART 1 was not in this run and stays in review"
    );
    assert_eq!(state_of(ws.path(), 1), "review");
}

#[test]
fn a_full_disk_fails_the_approval_cleanly() {
    let ws = drafted("3");
    let mount = ws.path().join("knowledge/karpathy");
    std::fs::create_dir_all(&mount).unwrap();
    // A 12 KiB file system: too small for the draft. Needs root; skipped elsewhere.
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=12k", "tmpfs"])
        .arg(&mount)
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("skipped: cannot mount a small tmpfs here");
        return;
    }
    let out = review(ws.path(), &["--approve", "3"]);
    let listing: Vec<_> = files(&mount);
    let _ = std::process::Command::new("umount").arg(&mount).status();
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("No space left on device") || err.contains("os error 28"),
        "{err}"
    );
    assert!(listing.is_empty(), "no partial file is left: {listing:?}");
    assert!(drops(ws.path()).is_empty());
    assert_eq!(
        std::fs::read_to_string(ws.path().join("plans/p.md")).unwrap(),
        RUNNABLE
    );
    assert_eq!(state_of(ws.path(), 3), "review");
}

/// A redo of an approved PART grows the file as it is now: a line added by hand since stays,
/// and what the file already says is not written again.
#[test]
fn redo_grows_the_existing_file_and_keeps_lines_added_by_hand() {
    let ws = drafted("3");
    assert!(review(ws.path(), &["--approve", "3"]).status.success());
    let target = ws.path().join("knowledge").join(T3);
    let approved = std::fs::read_to_string(&target).unwrap();
    let by_hand = approved.replacen("## Section 1:", "A line added by hand.\n\n## Section 1:", 1);
    std::fs::write(&target, &by_hand).unwrap();
    let run = run_only(ws.path(), "3");
    assert!(
        text(&run.stdout).contains("PART  3  approved — approved in an earlier run"),
        "{}",
        text(&run.stdout)
    );
    expanse(ws.path())
        .args([
            "run",
            "plans/p.md",
            "--headless",
            "--offline",
            "--only",
            "3",
            "--redo",
            "--corpus",
        ])
        .arg(corpus())
        .assert()
        .success();
    let diff = text(&review(ws.path(), &["--diff", "3"]).stdout);
    assert!(
        diff.starts_with(&format!("--- a/{T3}\n+++ b/{T3}\n")),
        "{diff}"
    );
    // Rendered lines are `OLD NEW SIGN text` with four-wide numbers: the sign is column 10.
    let file_diff = diff.split("--- /dev/null").next().unwrap();
    let signs: Vec<char> = file_diff
        .lines()
        .skip(2)
        .filter(|l| !l.starts_with("@@"))
        .filter_map(|l| l.chars().nth(10))
        .collect();
    assert_eq!(
        signs.iter().filter(|&&c| c == '-').count(),
        0,
        "no line of the file goes, the one added by hand included: {diff}"
    );
    let check = text(&review(ws.path(), &["--check", "3", "--json"]).stdout);
    let check: serde_json::Value = serde_json::from_str(&check).unwrap();
    assert_eq!(check["removed"], serde_json::json!([]));
    assert_eq!(check["existing_lines"], by_hand.lines().count());
}

#[test]
fn redo_never_throws_away_a_draft_awaiting_review() {
    let ws = drafted("3,4");
    assert!(review(ws.path(), &["--approve", "3"]).status.success());
    let journal_dir = journal_dir(ws.path());
    let draft4 = std::fs::read(journal_dir.join("drafts/part-4.json")).unwrap();
    let (_, events, _) = run(ws.path(), &["--only", "3,4", "--redo"]);
    assert_eq!(drafted_parts(&events), [3], "only the done PART is redone");
    assert_eq!(
        std::fs::read(journal_dir.join("drafts/part-4.json")).unwrap(),
        draft4
    );
}

#[test]
fn approval_keeps_permissions_and_never_shares_a_drop_file() {
    use std::os::unix::fs::PermissionsExt;
    let ws = drafted("3");
    let plan = ws.path().join("plans/p.md");
    std::fs::set_permissions(&plan, std::fs::Permissions::from_mode(0o664)).unwrap();
    // A drop of the same name already exists (another PART approved the same minute).
    let journal_dir = journal_dir(ws.path());
    let draft: Value =
        serde_json::from_slice(&std::fs::read(journal_dir.join("drafts/part-3.json")).unwrap())
            .unwrap();
    let planned = draft["drop_name"].as_str().unwrap().to_string();
    std::fs::create_dir_all(ws.path().join("knowledge/drops")).unwrap();
    let now = chrono::Local::now();
    let mut taken = Vec::new();
    for m in [
        now - chrono::Duration::minutes(1),
        now,
        now + chrono::Duration::minutes(1),
    ] {
        let name = planned.replace("[TIME]", &m.format("%H%M").to_string());
        std::fs::write(
            ws.path().join("knowledge/drops").join(&name),
            "someone else's drop\n",
        )
        .unwrap();
        taken.push(name);
    }
    assert!(review(ws.path(), &["--approve", "3"]).status.success());
    for name in &taken {
        assert_eq!(
            std::fs::read_to_string(ws.path().join("knowledge/drops").join(name)).unwrap(),
            "someone else's drop\n"
        );
    }
    assert_eq!(
        drops(ws.path()).len(),
        taken.len() + 1,
        "a new drop file was added beside them"
    );
    assert_eq!(
        std::fs::metadata(&plan).unwrap().permissions().mode() & 0o777,
        0o664,
        "the plan keeps its mode"
    );
    let file = ws.path().join("knowledge").join(T3);
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o644
    );
}

#[test]
fn a_rejected_draft_is_never_written_by_a_resumed_approval() {
    let ws = drafted("3");
    append_journal(ws.path(), b"{\"type\":\"approval\",\"ts\":\"2026-11-24T10:00:00+00:00\",\"part\":3,\"step\":\"begin\",\"path\":\"drops/KNOWLEDGE-DROP-x.md\"}\n");
    append_journal(ws.path(), b"{\"type\":\"rejected\",\"ts\":\"2026-11-24T10:01:00+00:00\",\"part\":3,\"reason\":\"no\",\"requeue\":false}\n");
    let out = review(ws.path(), &[]);
    assert!(
        !text(&out.stderr).contains("interrupted approval"),
        "{}",
        text(&out.stderr)
    );
    assert!(!ws.path().join("knowledge").join(T3).exists());
    assert_eq!(
        std::fs::read_to_string(ws.path().join("plans/p.md")).unwrap(),
        RUNNABLE
    );
}

/// The sweep of temp files a crash left touches only expanse's own temp names: a user's file
/// that merely starts like one, in the knowledge base or beside the plan, is kept.
#[test]
fn the_temp_sweep_keeps_files_that_only_look_like_temps() {
    let ws = drafted("3");
    let knowledge = ws.path().join("knowledge");
    let plans = ws.path().join("plans");
    std::fs::create_dir_all(knowledge.join("orchestration")).unwrap();
    std::fs::create_dir_all(plans.join("notes")).unwrap();
    let kept = [
        knowledge.join("orchestration/.expanse-ray.md"),
        plans.join(".expanse-notes.md"),
        plans.join("notes/.expanse-tmp-abcdefgh.partial"),
    ];
    for f in &kept {
        std::fs::write(f, "mine").unwrap();
    }
    let stale = [
        knowledge.join("orchestration/.expanse-tmp-Ab3dE5gH.partial"),
        plans.join(".expanse-tmp-12345678.partial"),
    ];
    for f in &stale {
        std::fs::write(f, "half").unwrap();
    }
    let out = review(ws.path(), &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    for f in &kept {
        assert!(f.is_file(), "{} was deleted", f.display());
    }
    for f in &stale {
        assert!(!f.exists(), "{} was left", f.display());
    }
}

/// An interrupted approval finished on the next start never writes over a file edited since:
/// nobody saw that diff, so the refusal stands until a person approves again.
#[test]
fn an_interrupted_approval_never_finishes_over_a_hand_edit() {
    let ws = drafted("3");
    append_journal(ws.path(), b"{\"type\":\"approval\",\"ts\":\"2026-11-24T10:00:00+00:00\",\"part\":3,\"step\":\"begin\",\"path\":\"drops/KNOWLEDGE-DROP-megatron-lm-2025-11-13-1000.md\"}\n");
    let target = ws.path().join("knowledge").join(T3);
    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
    std::fs::write(&target, "# My own notes\n").unwrap();
    for _ in 0..2 {
        let out = review(ws.path(), &[]);
        let err = text(&out.stderr);
        assert!(err.contains("cannot finish"), "{err}");
        assert_eq!(
            std::fs::read_to_string(&target).unwrap(),
            "# My own notes\n"
        );
    }
    assert!(drops(ws.path()).is_empty());
    // A person shown the new diff is refused once; nothing finishes on its own after that,
    // and an approval then writes over the edit, as that person chose.
    let out = review(ws.path(), &["--approve", "3"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stdout).contains("My own notes"),
        "{}",
        text(&out.stdout)
    );
    let out = review(ws.path(), &[]);
    assert!(
        !text(&out.stderr).contains("finished"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(&target).unwrap(),
        "# My own notes\n"
    );
    assert_eq!(state_of(ws.path(), 3), "review");
    let out = review(ws.path(), &["--approve", "3"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_ne!(
        std::fs::read_to_string(&target).unwrap(),
        "# My own notes\n"
    );
    assert_eq!(state_of(ws.path(), 3), "approved");
}

/// An approval ticks the PART its draft was written for or nothing: after PARTs are
/// renumbered, it refuses, writing nothing, instead of ticking another file's line.
#[test]
fn an_approval_refuses_when_the_plan_renumbered_its_part() {
    let ws = drafted("3");
    let plan_path = ws.path().join("plans/p.md");
    let plan = std::fs::read_to_string(&plan_path).unwrap();
    // PARTs 3 and 4 swap numbers.
    let swapped = plan
        .replace("PART 3:", "PART @:")
        .replace("PART 4:", "PART 3:")
        .replace("PART @:", "PART 4:");
    std::fs::write(&plan_path, &swapped).unwrap();
    let out = review(ws.path(), &["--approve", "3"]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains(
            "PART 3 in the plan now names karpathy/distributed-training/03-fsdp-vs-deepspeed.md"
        ) && err.contains(&format!("its draft was written for {T3}")),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&plan_path).unwrap(), swapped);
    assert!(!ws.path().join("knowledge").join(T3).exists());
    assert!(drops(ws.path()).is_empty());
}

/// One plan has one journal however its path is spelled: an absolute path or a doubled slash
/// finds the drafts a run made (it said "No drafts await review").
#[test]
fn a_plan_spelled_another_way_finds_its_drafts() {
    let ws = drafted("3");
    let absolute = ws.path().join("plans/p.md").to_string_lossy().to_string();
    for spelling in [
        absolute.as_str(),
        "plans//p.md",
        "./plans/p.md",
        "plans/../plans/p.md",
    ] {
        let out = expanse(ws.path())
            .args(["review", spelling])
            .output()
            .unwrap();
        let listed = text(&out.stdout);
        assert!(out.status.success(), "{spelling}: {}", text(&out.stderr));
        assert!(
            listed.contains("1 draft awaiting review"),
            "{spelling}: {listed}"
        );
    }
}

/// An edit is never lost: when the PART is approved elsewhere while the editor is open, the
/// edited text is kept in the state folder and the error says where.
#[test]
fn an_edit_the_draft_cannot_take_is_kept() {
    let ws = drafted("3");
    let bin = assert_cmd::cargo::cargo_bin("expanse");
    let editor = format!(
        "{} --root {} review plans/p.md --approve 3 >/dev/null 2>&1; sed -i -e 's/^# Megatron/# Mine: Megatron/'",
        bin.display(),
        ws.path().display()
    );
    let out = expanse(ws.path())
        .env("EDITOR", editor)
        .env_remove("VISUAL")
        .args(["review", "plans/p.md", "--edit", "3"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("PART 3 is approved, not awaiting review"),
        "{err}"
    );
    let kept = err
        .split("your edited text is kept in ")
        .nth(1)
        .unwrap_or_else(|| panic!("{err}"))
        .trim();
    let saved = std::fs::read_to_string(kept).unwrap();
    assert!(saved.starts_with("# Mine: Megatron"), "{saved}");
}

/// A reject waits for the workspace lock, as approvals hold it, and then finds the PART
/// approved: it refuses, and the approved PART is not marked skipped.
#[test]
fn a_reject_after_an_approval_under_the_lock_is_refused() {
    use expanse::journal::Journal;
    use expanse::review::Review;
    use expanse::workspace::Workspace;
    let ws = drafted("3");
    let workspace = Workspace::new(ws.path());
    let plan = ws.path().join("plans/p.md");
    let journal = std::sync::Arc::new(Journal::open(&workspace.journal_dir(&plan)).unwrap());
    let review = Review::new(workspace, plan, journal);
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(ws.path().join(".expanse/lock"))
        .unwrap();
    lock.lock().unwrap();
    let reject = std::thread::spawn(move || review.reject(3, Some("no"), false));
    // While the lock is held, an approval of PART 3 completes (as another process's would).
    std::thread::sleep(std::time::Duration::from_millis(300));
    append_journal(
        ws.path(),
        b"{\"type\":\"approval\",\"ts\":\"2026-11-30T10:00:00+00:00\",\"part\":3,\"step\":\"done\"}\n",
    );
    lock.unlock().unwrap();
    let e = reject.join().unwrap().unwrap_err();
    assert!(e.to_string().contains("PART 3 is approved"), "{e}");
    assert_eq!(state_of(ws.path(), 3), "approved");
}

/// Undo on a disk with little or no room left is all or nothing: at every level of free space
/// it either puts everything back or changes nothing (file, drop, plan, INDEX.md, state).
#[test]
fn undo_on_a_full_disk_is_all_or_nothing() {
    let ws = drafted("3");
    assert!(review(ws.path(), &["--approve", "3"]).status.success());
    let _ = std::fs::remove_dir_all(ws.path().join(".expanse/index"));
    let _ = std::fs::remove_dir_all(ws.path().join(".expanse/cache"));
    let mount = tempfile::tempdir().unwrap();
    let mut outcomes = (0, 0);
    for free_pages in 0..16u64 {
        // A small file system holding the workspace, filled to leave `free_pages` pages.
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=8m", "tmpfs"])
            .arg(mount.path())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !mounted {
            eprintln!("skipped: cannot mount a small tmpfs here");
            return;
        }
        let here = mount.path().join("ws");
        let copied = std::process::Command::new("cp")
            .arg("-a")
            .arg(ws.path())
            .arg(&here)
            .status()
            .unwrap();
        assert!(copied.success());
        let before = |p: &str| std::fs::read_to_string(here.join(p)).ok();
        let target = format!("knowledge/{T3}");
        let snapshot = (
            before(&target),
            drops(&here),
            before("plans/p.md"),
            before("knowledge/INDEX.md"),
        );
        let filler = mount.path().join("filler");
        let mut f = std::fs::File::create(&filler).unwrap();
        let page = vec![b'x'; 4096];
        while std::io::Write::write_all(&mut f, &page).is_ok() {}
        let len = std::fs::metadata(&filler).unwrap().len();
        f.set_len(len.saturating_sub(free_pages * 4096)).unwrap();
        drop(f);
        let out = review(&here, &["--undo", "3"]);
        let after = (
            before(&target),
            drops(&here),
            before("plans/p.md"),
            before("knowledge/INDEX.md"),
        );
        let state = state_of(&here, 3);
        let _ = std::process::Command::new("umount")
            .arg(mount.path())
            .status();
        if out.status.success() {
            outcomes.0 += 1;
            assert_eq!(
                after.0, None,
                "the new file is gone ({free_pages} pages free)"
            );
            assert!(after.1.is_empty());
            assert_eq!(after.2.as_deref(), Some(RUNNABLE));
            assert_eq!(state, "review");
        } else {
            outcomes.1 += 1;
            assert!(
                after == snapshot,
                "something changed with {free_pages} pages free"
            );
            assert_eq!(state, "approved", "{}", text(&out.stderr));
        }
    }
    assert!(
        outcomes.0 > 0 && outcomes.1 > 0,
        "both ends were reached: {outcomes:?}"
    );
}

/// A regeneration that was cut (its process killed mid-write) leaves the draft it was to replace
/// awaiting review: it can be approved without another run.
#[test]
fn a_cut_regeneration_leaves_the_old_draft_awaiting_review() {
    let ws = drafted("3");
    common::append_journal(
        ws.path(),
        b"{\"type\":\"regenerate\",\"ts\":\"2026-01-01T00:00:00+00:00\",\"part\":3,\"section\":0,\"reason\":\"more on memory\"}\n\
{\"type\":\"state\",\"ts\":\"2026-01-01T00:00:01+00:00\",\"part\":3,\"state\":\"writing\"}\n",
    );
    let out = review(ws.path(), &["--approve", "3"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(state_of(ws.path(), 3), "approved");
}

/// A regeneration asked for while a run of the plan is live changes nothing and says where to
/// ask instead.
#[test]
fn a_regeneration_that_cannot_run_changes_nothing() {
    let ws = drafted("3");
    let journal = common::journal_dir(ws.path()).join("journal.jsonl");
    let before = std::fs::read(&journal).unwrap();
    // The plan's run lock, held as a live run holds it.
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(common::journal_dir(ws.path()).join("run.lock"))
        .unwrap();
    lock.try_lock().unwrap();
    let out = review(
        ws.path(),
        &["--regenerate", "3", "--section", "1", "--reason", "more"],
    );
    drop(lock);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("is already running") && err.contains("nothing was changed"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&journal).unwrap(),
        before,
        "nothing was journalled"
    );
    assert_eq!(state_of(ws.path(), 3), "review");
}

/// A reject that would write the PART again needs a reason: without one nothing changes and the
/// draft still awaits review.
#[test]
fn a_requeue_without_a_reason_changes_nothing() {
    let ws = drafted("3");
    let out = review(ws.path(), &["--reject", "3", "--requeue"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("say why it should be written again (--reason TEXT)"));
    assert_eq!(state_of(ws.path(), 3), "review");
    let blank = review(ws.path(), &["--reject", "3", "--requeue", "--reason", "  "]);
    assert_eq!(blank.status.code(), Some(1));
    assert_eq!(state_of(ws.path(), 3), "review");
}
