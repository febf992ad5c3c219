//! The way in without the source: `help plan` against the parser's own list of shapes, `new`
//! writing a plan `check` accepts, and the first approval in a fresh workspace.

use std::path::Path;

use assert_cmd::Command;
use expanse::plan::{ItemKind, Plan, SHAPES, item_kind};
use predicates::prelude::*;

fn expanse() -> Command {
    Command::cargo_bin("expanse").unwrap()
}

fn help_plan() -> String {
    let out = expanse().args(["help", "plan"]).output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn help_plan_shows_every_shape_the_parser_recognises() {
    let help = help_plan();
    // Explanations are wrapped: compare them with the line breaks and indents folded.
    let flat = help.split_whitespace().collect::<Vec<_>>().join(" ");
    // One shape per kind, in the parser's order, and every one printed with its example.
    assert_eq!(
        SHAPES.iter().map(|s| s.kind).collect::<Vec<_>>(),
        ItemKind::ALL
    );
    for shape in SHAPES {
        assert!(help.contains(shape.example), "missing: {}", shape.example);
        assert!(flat.contains(shape.means), "missing: {}", shape.means);
    }
    for rule in expanse::plan::RULES {
        assert!(help.contains(rule.text), "missing rule: {}", rule.text);
    }
    for glyph in expanse::plan::DONE_MARKS {
        assert!(help.contains(&format!("[{glyph}]")), "glyph {glyph}");
    }
    assert!(!help.contains("README"));
}

/// A kind the parser has but ItemKind::ALL lacks would fail to compile here first.
fn in_all(kind: ItemKind) -> bool {
    match kind {
        ItemKind::Title
        | ItemKind::Date
        | ItemKind::Sources
        | ItemKind::Expansion
        | ItemKind::PartHeading
        | ItemKind::PartCheckbox
        | ItemKind::Read
        | ItemKind::Grep
        | ItemKind::Look
        | ItemKind::Gaps
        | ItemKind::Search
        | ItemKind::ScrapeTop
        | ItemKind::ScrapeNamed
        | ItemKind::Section
        | ItemKind::Cite
        | ItemKind::CreateTarget
        | ItemKind::Drop
        | ItemKind::DropContent
        | ItemKind::Other => ItemKind::ALL.contains(&kind),
    }
}

#[test]
fn each_example_is_read_as_its_shape() {
    let target = "karpathy/distributed-training/00-deepspeed-zero.md";
    for shape in SHAPES {
        assert!(in_all(shape.kind));
        if shape.kind.is_part_item() && shape.kind != ItemKind::DropContent {
            let text = shape.example.trim_start_matches("- [ ] ");
            assert_eq!(item_kind(text, target), shape.kind, "{}", shape.example);
        }
    }
    // The structural shapes and the drop's contents, in a plan built from the examples alone.
    let example = |k: ItemKind| SHAPES.iter().find(|s| s.kind == k).unwrap().example;
    // Step paragraphs end one list and start the next, as in a real plan: the drop's contents
    // are the other items of the drop's own list.
    let mut text = String::new();
    for kind in ItemKind::ALL {
        match kind {
            ItemKind::Read => text.push_str("**Step 0: Check**\n"),
            ItemKind::Drop => text.push_str("\n**Step 4: Drop**\n"),
            ItemKind::Other => text.push_str("\n**Notes**\n"),
            _ => {}
        }
        text.push_str(example(*kind));
        text.push_str(if kind.is_part_item() { "\n" } else { "\n\n" });
    }
    let plan = Plan::parse(&text);
    assert!(plan.diagnostics.is_empty(), "{:?}", plan.diagnostics);
    assert_eq!(
        plan.title.as_deref(),
        Some("Knowledge Expansion: GPU Serving")
    );
    assert_eq!(plan.date.as_deref(), Some("2025-11-13"));
    assert_eq!(plan.expansions.len(), 1);
    let p = &plan.parts[0];
    assert_eq!(p.target, target);
    assert!(p.span.checkbox.is_some());
    assert_eq!(
        p.drop.as_ref().unwrap().contents,
        [example(ItemKind::DropContent).trim_start_matches("- [ ] ")]
    );
    assert_eq!(
        p.other,
        [example(ItemKind::Other).trim_start_matches("- [ ] ")]
    );
    assert_eq!(p.queries.len(), 1);
    assert_eq!(p.scrape.len(), 2);
    assert_eq!(p.sections.len(), 1);
    assert_eq!(p.checks.len(), 4);
    assert_eq!(p.requirements.len(), 1);
}

#[test]
fn the_minimal_plan_in_the_guide_checks_clean() {
    let help = help_plan();
    let start = help.find("A MINIMAL PLAN\n").unwrap() + "A MINIMAL PLAN\n".len();
    let plan: String = help[start..]
        .lines()
        .take_while(|l| l.starts_with("  "))
        .map(|l| format!("{}\n", &l[2..]))
        .collect();
    let parsed = Plan::parse(&plan);
    assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
    assert_eq!(parsed.parts[0].sections.len(), 2);
    assert!(parsed.parts[0].drop.is_some());
}

#[test]
fn help_routes_topics_and_commands() {
    expanse()
        .args(["help", "check"])
        .assert()
        .success()
        .stdout(predicate::str::contains("expanse check").and(predicate::str::contains("--json")));
    expanse()
        .arg("help")
        .assert()
        .success()
        .stdout(predicate::str::contains("init").and(predicate::str::contains("help plan")));
    expanse()
        .args(["help", "nonsense"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("expanse help plan"));
    expanse()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("README").not());
}

#[test]
fn new_writes_a_plan_check_accepts_and_never_overwrites() {
    let tmp = tempfile::tempdir().unwrap();
    expanse()
        .current_dir(tmp.path())
        .arg("init")
        .assert()
        .success();
    let new = |path: &str| {
        let mut c = expanse();
        c.current_dir(tmp.path()).args([
            "new",
            path,
            "--title",
            "GPU serving",
            "--part",
            "serving/triton-batching.md:Triton dynamic batching",
            "--part",
            "serving/01-vllm.md",
            "--lines",
            "240",
        ]);
        c
    };
    new("plans/serving/gpu.md")
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "expanse check plans/serving/gpu.md",
        ));
    let out = expanse()
        .current_dir(tmp.path())
        .args(["check", "plans/serving/gpu.md", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stderr), "", "no diagnostics");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["title"], "Knowledge Expansion: GPU serving");
    let parts = v["parts"].as_array().unwrap();
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0]["target"], "serving/triton-batching.md");
    assert_eq!(parts[0]["expected_lines"], 240);
    assert_eq!(parts[0]["queries"][0], "Triton dynamic batching overview");
    assert_eq!(parts[1]["queries"][0], "vllm overview");
    assert_eq!(parts[1]["sections"].as_array().unwrap().len(), 3);
    assert!(
        parts[1]["drop"]["name"]
            .as_str()
            .unwrap()
            .starts_with("KNOWLEDGE-DROP-vllm-")
    );
    let before = std::fs::read(tmp.path().join("plans/serving/gpu.md")).unwrap();
    new("plans/serving/gpu.md")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("already exists"));
    assert_eq!(
        std::fs::read(tmp.path().join("plans/serving/gpu.md")).unwrap(),
        before
    );
    // A reserved target is refused before anything is written.
    expanse()
        .current_dir(tmp.path())
        .args([
            "new",
            "plans/bad.md",
            "--title",
            "T",
            "--part",
            "INDEX.md:Index",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("INDEX.md"));
    assert!(!tmp.path().join("plans/bad.md").exists());
}

/// The README's first five minutes, with the review from the command line: init, run, read the
/// diff, approve; then the file, its drop, the tick and the INDEX entry are there.
#[test]
fn first_approval_in_a_fresh_workspace() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path();
    let cmd = |args: &[&str]| {
        let out = expanse().current_dir(ws).args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    cmd(&["init"]);
    cmd(&[
        "run",
        "plans/example.md",
        "--headless",
        "--offline",
        "--only",
        "2",
    ]);
    let diff = cmd(&["review", "plans/example.md", "--diff", "2"]);
    assert!(
        diff.contains("+++ b/gpu-serving/triton-dynamic-batching.md"),
        "{diff}"
    );
    let approved = cmd(&["review", "plans/example.md", "--approve", "2"]);
    assert!(approved.contains("ticked PART 2"), "{approved}");
    let file = ws.join("knowledge/gpu-serving/triton-dynamic-batching.md");
    assert!(file.is_file());
    let drops: Vec<_> = std::fs::read_dir(ws.join("knowledge/drops"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(drops.len(), 1);
    assert!(
        drops[0].starts_with("KNOWLEDGE-DROP-triton-batching-"),
        "{drops:?}"
    );
    let plan = std::fs::read_to_string(ws.join("plans/example.md")).unwrap();
    assert!(
        plan.contains("- [✓] PART 2: Create gpu-serving/triton-dynamic-batching.md (Completed "),
        "{plan}"
    );
    let index = std::fs::read_to_string(ws.join("knowledge/INDEX.md")).unwrap();
    assert!(
        index.contains("gpu-serving/triton-dynamic-batching.md"),
        "{index}"
    );
    assert!(Path::new(&ws.join(".expanse")).is_dir());
}
