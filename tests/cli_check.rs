//! `expanse check` and the help text, driven through the real binary.

use assert_cmd::Command;
use predicates::prelude::*;

fn expanse() -> Command {
    Command::cargo_bin("expanse").unwrap()
}

fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn table_on_the_runnable_plan() {
    let out = expanse()
        .args(["check", "plans/expansion-18-21.md"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let out = String::from_utf8(out).unwrap();
    let header = out.lines().find(|l| l.starts_with("PART")).unwrap();
    for col in [
        "EXPANSION",
        "TARGET",
        "LINES",
        "DONE",
        "QUERIES",
        "SECTIONS",
    ] {
        assert!(header.contains(col), "{header}");
    }
    let row = out
        .lines()
        .find(|l| l.contains("03-tpu-programming-fundamentals.md"))
        .unwrap();
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(
        cells,
        [
            "16",
            "21",
            "karpathy/alternative-hardware/03-tpu-programming-fundamentals.md",
            "~400",
            "open",
            "5",
            "5"
        ]
    );
    assert!(out.contains("16 PARTs (0 done, 16 open), 80 queries, 80 sections"));
}

#[test]
fn json_has_the_design_shape() {
    let out = expanse()
        .args(["check", "tests/fixtures/seed-expansion-18-21.md", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert!(
        v["title"]
            .as_str()
            .unwrap()
            .starts_with("Knowledge Expansion")
    );
    let p = &v["parts"][6];
    assert_eq!(p["number"], 7);
    assert_eq!(p["expansion"]["number"], 19);
    assert_eq!(
        p["target"],
        "karpathy/inference-optimization/02-triton-inference-server.md"
    );
    assert_eq!(p["expected_lines"], 500);
    assert_eq!(p["done"], true);
    assert_eq!(p["annotation"], "FILE EXISTS - 29.9 KB");
    assert_eq!(p["queries"][1], "Triton dynamic batching explained");
    assert_eq!(p["scrape"][1]["target"], "NVIDIA docs");
    assert_eq!(p["sections"].as_array().unwrap().len(), 5);
    assert!(p["sections"][0]["lines"].is_u64());
    assert_eq!(
        p["drop"]["name"],
        "KNOWLEDGE-DROP-triton-server-2025-11-13-[TIME].md"
    );
    assert!(
        p["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["kind"] == "grep")
    );
}

#[test]
fn broken_plans_report_plan_line_message_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&str, &str, &str)] = &[
        (
            "none.md",
            "# Empty\n\nNothing to do.\n",
            "none.md:1: error: no PARTs found",
        ),
        (
            "dup.md",
            "### PART 1: Create a.md\n- [ ] PART 1: Create a.md\n### PART 1: Create b.md\n- [ ] PART 1: Create b.md\n",
            "dup.md:3: error: PART 1 appears twice (first at line 1)",
        ),
        (
            "mismatch.md",
            "### PART 2: Create a.md\n\n- [ ] PART 2: Create b.md\n",
            "mismatch.md:3: error: PART 2's checkbox line names \"b.md\" but its heading (line 1) names \"a.md\"",
        ),
        (
            "abs.md",
            "### PART 1: Create /etc/x.md\n- [ ] PART 1: Create /etc/x.md\n",
            "abs.md:1: error: PART 1's target \"/etc/x.md\" is an absolute path",
        ),
        (
            "up.md",
            "### PART 1: Create ../../x.md\n- [ ] PART 1: Create ../../x.md\n",
            "up.md:1: error: PART 1's target \"../../x.md\" contains \"..\"",
        ),
        (
            "txt.md",
            "### PART 1: Create notes.txt\n- [ ] PART 1: Create notes.txt\n",
            "txt.md:1: error: PART 1's target \"notes.txt\" is not a markdown file",
        ),
    ];
    for (name, text, expected) in cases {
        let path = write(&dir, name, text.as_bytes());
        expanse()
            .arg("check")
            .arg(&path)
            .assert()
            .code(1)
            .stderr(predicate::str::contains(format!(
                "{}{expected}",
                dir.path().join("").display()
            )));
    }
}

#[test]
fn warnings_do_not_fail_the_check() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir,
        "warn.md",
        b"### PART 1: Create a.md\n- [ ] PART 1: Create a.md\n- [ ] Section 1: Intro\n",
    );
    expanse()
        .arg("check")
        .arg(&path)
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "warn.md:3: warning: section \"Intro\" has no line budget",
        ));
}

#[test]
fn non_utf8_binary_missing_and_directory_inputs_are_refused_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write(&dir, "latin1.md", b"# Plan\n\ncaf\xe9\n");
    expanse()
        .arg("check")
        .arg(&bad)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("latin1.md:3: error: not UTF-8"));
    let bin = write(&dir, "bin.md", b"\x7fELF\x02\x01\x01\x00\x00");
    expanse()
        .arg("check")
        .arg(&bin)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("bin.md:1: error: binary data"));
    expanse()
        .args(["check", "no/such/plan.md"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "no/such/plan.md: error: cannot read the plan",
        ));
    expanse()
        .arg("check")
        .arg(dir.path())
        .assert()
        .code(1)
        .stderr(predicate::str::contains("is a directory"));
}

#[test]
fn root_resolves_relative_plan_paths() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("plans")).unwrap();
    write(
        &dir,
        "plans/p.md",
        b"### PART 1: Create a.md\n- [ ] PART 1: Create a.md\n",
    );
    expanse()
        .arg("--root")
        .arg(dir.path())
        .args(["check", "plans/p.md"])
        .assert()
        .success()
        .stdout(predicate::str::contains("1 PARTs (0 done, 1 open)"));
}

#[test]
fn help_is_complete() {
    expanse()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("check").and(predicate::str::contains("--root")));
    expanse()
        .args(["check", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("--json").and(predicate::str::contains("PLAN:LINE")));
}

#[test]
fn check_names_the_line_of_orphan_checkboxes_odd_glyphs_and_reserved_targets() {
    let dir = tempfile::tempdir().unwrap();
    let warn = write(
        &dir,
        "warn.md",
        "### PART 1: Create a.md\n- [~] PART 1: Create a.md\n- [ ] PART 2: Create b.md\n"
            .as_bytes(),
    );
    expanse().arg("check").arg(&warn).assert().success().stderr(
        predicate::str::contains("warn.md:2: warning: PART 1's checkbox \"[~]\"").and(
            predicate::str::contains(
                "warn.md:3: warning: checkbox line for PART 2 has no \"### PART 2: …\" heading",
            ),
        ),
    );
    let bad = write(
        &dir,
        "bad.md",
        b"### PART 1: Create Index.md\n- [ ] PART 1: Create Index.md\n\n### PART 2: Create drops/x.md\n- [ ] PART 2: Create drops/x.md\n",
    );
    expanse().arg("check").arg(&bad).assert().code(1).stderr(
        predicate::str::contains(
            "bad.md:1: error: PART 1's target \"Index.md\" is the knowledge base's INDEX.md",
        )
        .and(predicate::str::contains(
            "bad.md:4: error: PART 2's target \"drops/x.md\" is inside drops/",
        )),
    );
}

#[test]
fn help_points_at_the_format_in_the_binary() {
    expanse().arg("--help").assert().success().stdout(
        predicate::str::contains("expanse help plan")
            .and(predicate::str::contains("expanse init"))
            .and(predicate::str::contains("README").not()),
    );
}
