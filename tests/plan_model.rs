//! The plan model on the seed plan, on plans of the same family, and under random input.

use expanse::plan::{self, Check, GrepOp, Plan, Scrape, Severity};
use proptest::prelude::*;

const SEED: &str = include_str!("fixtures/seed-expansion-18-21.md");
const RUNNABLE: &str = include_str!("../plans/expansion-18-21.md");

fn untick_all(text: &str) -> String {
    let plan = Plan::parse(text);
    plan.parts.iter().fold(text.to_string(), |acc, p| {
        plan::untick(&acc, p.number).expect("every seed PART has a checkbox line")
    })
}

#[test]
fn seed_parses_into_the_full_model() {
    let plan = Plan::parse(SEED);
    assert!(plan.diagnostics.is_empty(), "{:?}", plan.diagnostics);
    assert_eq!(
        plan.title.as_deref(),
        Some("Knowledge Expansion: Multi-GPU, Inference, Orchestration, Alternative Hardware")
    );
    assert_eq!(plan.date.as_deref(), Some("2025-11-13"));
    assert_eq!(
        plan.expansions.iter().map(|e| e.number).collect::<Vec<_>>(),
        [18, 19, 20, 21]
    );
    assert_eq!(plan.parts.len(), 16);
    assert!(plan.parts.iter().all(|p| p.done));
    assert_eq!(
        plan.parts.iter().map(|p| p.number).collect::<Vec<_>>(),
        (1..=16).collect::<Vec<_>>()
    );
    for p in &plan.parts {
        assert_eq!(p.queries.len(), 5, "PART {}", p.number);
        assert_eq!(p.sections.len(), 5, "PART {}", p.number);
        assert!(p.other.is_empty(), "PART {}: {:?}", p.number, p.other);
        assert!(p.drop.is_some(), "PART {}", p.number);
        assert_eq!(p.requirements.len(), 1, "PART {}", p.number);
    }

    let p1 = plan.part(1).unwrap();
    assert_eq!(
        p1.expansion.as_ref().unwrap().title,
        "Multi-GPU Distributed Frameworks"
    );
    assert_eq!(
        p1.target,
        "karpathy/distributed-training/00-deepspeed-zero-optimizer.md"
    );
    assert_eq!(p1.expected_lines, Some(500));
    assert_eq!(p1.annotation.as_deref(), Some("FILE EXISTS - 22.6 KB"));
    assert_eq!(
        p1.queries[3],
        "site:github.com DeepSpeed ZeRO PyTorch example"
    );
    assert_eq!(
        p1.scrape,
        vec![
            Scrape::Top { n: 3 },
            Scrape::Named {
                target: "DeepSpeed GitHub docs/tutorials".into()
            }
        ]
    );
    assert_eq!(p1.sections[0].title, "ZeRO Overview");
    assert_eq!(
        p1.sections[0].hint.as_deref(),
        Some("what is it, why use it")
    );
    assert_eq!(p1.sections[0].lines, Some(100));
    assert_eq!(p1.sections.iter().filter_map(|s| s.lines).sum::<u32>(), 500);
    assert_eq!(
        p1.checks[1],
        Check::Grep {
            terms: vec!["DeepSpeed".into(), "ZeRO".into()],
            op: GrepOp::And,
            scope: Some("karpathy/".into())
        }
    );
    assert!(
        matches!(&p1.checks[2], Check::Read { path, glob: true, .. } if path == "distributed-*.md")
    );
    assert!(
        matches!(&p1.checks[3], Check::Gaps { note } if note == "What's NOT covered about DeepSpeed ZeRO?")
    );
    let drop = p1.drop.as_ref().unwrap();
    assert_eq!(
        drop.name,
        "KNOWLEDGE-DROP-deepspeed-zero-2025-11-13-[TIME].md"
    );
    assert_eq!(drop.contents.len(), 4);
    assert_eq!(p1.drop_slug(), "deepspeed-zero");

    let p3 = plan.part(3).unwrap();
    assert!(
        matches!(&p3.checks[1], Check::Grep { op: GrepOp::Or, terms, .. } if terms == &["Megatron", "tensor parallelism"])
    );
    assert_eq!(
        plan.part(2).unwrap().annotation.as_deref(),
        Some("Completed 2025-11-13 22:59")
    );
    // The summary after PART 16 belongs to no PART.
    assert_eq!(plan.part(16).unwrap().checks.len(), 4);
}

#[test]
fn runnable_plan_is_the_seed_with_every_part_unticked() {
    assert_eq!(untick_all(SEED), RUNNABLE);
    let plan = Plan::parse(RUNNABLE);
    assert!(plan.parts.iter().all(|p| !p.done && p.annotation.is_none()));
}

#[test]
fn crlf_copy_parses_the_same_and_edits_keep_crlf() {
    let crlf = SEED.replace('\n', "\r\n");
    let a = Plan::parse(SEED);
    let b = Plan::parse(&crlf);
    assert_eq!(
        serde_json::to_value(&a.parts).unwrap(),
        serde_json::to_value(&b.parts).unwrap()
    );
    let unticked = untick_all(&crlf);
    assert_eq!(unticked, RUNNABLE.replace('\n', "\r\n"));
    let ticked = plan::tick(&unticked, 4, "Completed 2026-11-24 09:30").unwrap();
    assert!(ticked.contains("- [✓] PART 4: Create karpathy/distributed-training/03-fsdp-vs-deepspeed.md (Completed 2026-11-24 09:30)\r\n"));
    assert!(!ticked.replace("\r\n", "").contains('\n'));
}

#[test]
fn a_plan_of_the_same_family_with_other_shapes() {
    let text = "# Expansion 40: Tiny\n\n## EXPANSION 40: Vector Databases\n\n\
### PART 7: Create vdb/00-faiss.md (~120 lines)\n\n\
- [x] PART 7: Create vdb/00-faiss.md (Completed 2026-01-02 10:11)\n\n\
**Step 0: Check Existing Knowledge**\n- [ ] Grep for FAISS OR HNSW in vdb/\n\n\
**Step 3: Create Knowledge File**\n\
- [ ] Section 1: Index types - flat, IVF, HNSW (~60 lines)\n\
- [ ] Section 2: GPU search (~40 lines)\n\
- [ ] Section 3: Pitfalls\n\
- [ ] Search: \"FAISS \\\"IVF\\\" tuning\"\n\
- [ ] Ask a friend about it\n\n\
### PART 9: Create vdb/01-hnsw.md\n\n- [ ] PART 9: Create vdb/01-hnsw.md\n\n\
- [ ] Scrape top 10 results\n";
    let plan = Plan::parse(text);
    assert_eq!(plan.parts.len(), 2);
    let p7 = plan.part(7).unwrap();
    assert!(p7.done);
    assert_eq!(p7.expansion.as_ref().unwrap().number, 40);
    assert_eq!(p7.sections.len(), 3);
    assert_eq!(p7.sections[2].lines, None);
    assert_eq!(p7.queries, vec!["FAISS \"IVF\" tuning"]);
    assert_eq!(p7.other, vec!["Ask a friend about it"]);
    assert!(
        matches!(&p7.checks[0], Check::Grep { op: GrepOp::Or, terms, scope: Some(s) } if terms == &["FAISS", "HNSW"] && s == "vdb/")
    );
    let p9 = plan.part(9).unwrap();
    assert_eq!(p9.expected_lines, None);
    assert_eq!(p9.scrape, vec![Scrape::Top { n: 10 }]);
    // Only the section without a budget is flagged, and only as a warning.
    assert_eq!(plan.diagnostics.len(), 1);
    assert_eq!(plan.diagnostics[0].severity, Severity::Warning);
    assert_eq!(plan.diagnostics[0].line, 15);
    // Ticking PART 9 copies this plan's own `[x]` glyph.
    let out = plan::tick(text, 9, "Completed 2026-11-24 12:00").unwrap();
    assert!(out.contains("- [x] PART 9: Create vdb/01-hnsw.md (Completed 2026-11-24 12:00)\n"));
}

#[test]
fn validation_errors_carry_lines() {
    let text = "# P\n\n### PART 1: Create a/x.md\n\n- [ ] PART 1: Create a/y.md\n\n\
### PART 1: Create /etc/z.md\n\n- [ ] PART 1: Create /etc/z.md\n\n\
### PART 3: Create ../up.md\n- [ ] PART 3: Create ../up.md\n\n### PART 4: Create notes.txt\n- [ ] PART 4: Create notes.txt\n\n\
### PART 5: Create k/five.md\n";
    let plan = Plan::parse(text);
    let errs: Vec<(usize, &str)> = plan
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| (d.line, d.message.as_str()))
        .collect();
    assert!(
        errs.iter()
            .any(|(l, m)| *l == 5 && m.contains("checkbox line names \"a/y.md\"")),
        "{errs:?}"
    );
    assert!(
        errs.iter()
            .any(|(l, m)| *l == 7 && m.contains("appears twice (first at line 3)")),
        "{errs:?}"
    );
    assert!(
        errs.iter().any(|(l, m)| *l == 7 && m.contains("absolute")),
        "{errs:?}"
    );
    assert!(
        errs.iter().any(|(l, m)| *l == 11 && m.contains("\"..\"")),
        "{errs:?}"
    );
    assert!(
        errs.iter().any(|(l, m)| *l == 14 && m.contains(".md")),
        "{errs:?}"
    );
    assert!(
        errs.iter()
            .any(|(l, m)| *l == 17 && m.contains("no checkbox line")),
        "{errs:?}"
    );
    let empty = Plan::parse("# Nothing here\n\njust prose\n");
    assert!(empty.has_errors());
    assert!(empty.diagnostics[0].message.contains("no PARTs found"));
}

#[test]
fn non_utf8_and_binary_are_refused_with_a_line() {
    let mut bytes = b"# P\n\nok\n".to_vec();
    bytes.extend_from_slice(&[0xff, 0xfe, b'\n']);
    let err = Plan::from_bytes(&bytes).unwrap_err();
    assert_eq!(err.line(), 4);
    assert!(err.to_string().contains("not UTF-8"));
    let err = Plan::from_bytes(b"# P\n\x00\x01binary").unwrap_err();
    assert_eq!(err.line(), 2);
    assert!(err.to_string().contains("binary"));
}

/// A generated plan of the family: random PART count, sections, queries, glyph and line ending.
fn family_plan() -> impl Strategy<Value = String> {
    (
        proptest::collection::vec(
            (0u32..4, 0usize..6, 0usize..5, proptest::option::of("[A-Za-z ]{1,12}"), 1u32..900),
            1..12,
        ),
        prop_oneof![Just('✓'), Just('x'), Just('X')],
        any::<bool>(),
    )
        .prop_map(|(parts, glyph, crlf)| {
            let mut s = String::from("# Knowledge Expansion: Generated\n\n**Date**: 2026-01-01\n\n## EXPANSION 1: Gen\n\n");
            for (i, (state, sections, queries, annotation, lines)) in parts.iter().enumerate() {
                let n = i + 1;
                let target = format!("gen/{n:02}-topic.md");
                s.push_str(&format!("### PART {n}: Create {target} (~{lines} lines)\n\n"));
                let mark = if *state == 0 { ' ' } else { glyph };
                let ann = match (state, annotation) {
                    (0, _) | (_, None) => String::new(),
                    (_, Some(a)) => format!(" ({})", a.trim()),
                };
                s.push_str(&format!("- [{mark}] PART {n}: Create {target}{ann}\n\n**Step 1: Web Research**\n"));
                for q in 0..*queries {
                    s.push_str(&format!("- [ ] Search: \"topic {n} query {q}\"\n"));
                }
                s.push_str("- [ ] Scrape top 2 results\n\n**Step 2: Create Knowledge File**\n");
                for k in 0..*sections {
                    s.push_str(&format!("- [ ] Section {}: Part {k} - about it (~{} lines)\n", k + 1, 10 + k));
                }
                s.push_str("\n---\n\n");
            }
            if crlf { s.replace('\n', "\r\n") } else { s }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn seed_untick_then_tick_in_any_order_is_identical(order in Just((1u32..=16).collect::<Vec<_>>()).prop_shuffle()) {
        let seed = Plan::parse(SEED);
        let mut text = untick_all(SEED);
        for n in order {
            let annotation = seed.part(n).unwrap().annotation.clone().unwrap();
            text = plan::tick(&text, n, &annotation).unwrap();
        }
        prop_assert_eq!(text, SEED);
    }

    #[test]
    fn no_op_edits_are_identical_on_any_plan(text in family_plan()) {
        let plan = Plan::parse(&text);
        prop_assert!(!plan.has_errors(), "{:?}", plan.diagnostics);
        for p in &plan.parts {
            let same = if p.done {
                match &p.annotation {
                    Some(a) => plan::tick(&text, p.number, a).unwrap(),
                    None => continue,
                }
            } else {
                plan::untick(&text, p.number).unwrap()
            };
            prop_assert_eq!(&same, &text);
            // A real edit changes exactly one line.
            let flipped = if p.done { plan::untick(&text, p.number) } else { plan::tick(&text, p.number, "Completed 2026-11-24 10:00") }.unwrap();
            let changed = text.lines().zip(flipped.lines()).filter(|(a, b)| a != b).count();
            prop_assert_eq!(changed, 1);
            prop_assert_eq!(text.lines().count(), flipped.lines().count());
            prop_assert_eq!(Plan::parse(&flipped).part(p.number).unwrap().done, !p.done);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        if let Ok(plan) = Plan::from_bytes(&bytes) {
            let text = std::str::from_utf8(&bytes).unwrap();
            for p in &plan.parts {
                let _ = plan::tick(text, p.number, "x");
                let _ = plan::untick(text, p.number);
            }
        }
    }

    #[test]
    fn mutated_seed_never_panics(cuts in proptest::collection::vec((0usize..SEED.len(), 0usize..64, "[\\[\\]()~*#\\-\" \r\n✓xPART0-9:.]{0,8}"), 1..8)) {
        let mut bytes = SEED.as_bytes().to_vec();
        for (at, len, insert) in cuts {
            let at = at.min(bytes.len());
            let end = (at + len).min(bytes.len());
            bytes.splice(at..end, insert.bytes());
        }
        if let Ok(plan) = Plan::from_bytes(&bytes) {
            let text = std::str::from_utf8(&bytes).unwrap();
            for p in &plan.parts {
                if let Ok(t) = plan::tick(text, p.number, "Completed 2026-11-24 10:00") {
                    prop_assert!(Plan::from_bytes(t.as_bytes()).is_ok());
                }
                let _ = plan::untick(text, p.number);
            }
        }
    }
}

#[test]
fn a_checkbox_line_without_its_heading_is_a_warning() {
    let text = "# P\n\n### PART 1: Create a/x.md\n\n- [ ] PART 1: Create a/x.md\n- [ ] PART 2: Create a/y.md\n- [ ] Search: \"y\"\n";
    let plan = Plan::parse(text);
    assert!(!plan.has_errors(), "{:?}", plan.diagnostics);
    // Still a PART (plans of checkbox lines alone stay runnable), but never silently.
    assert_eq!(plan.parts.len(), 2);
    assert_eq!(plan.part(2).unwrap().queries, ["y"]);
    let w: Vec<_> = plan
        .diagnostics
        .iter()
        .map(|d| (d.line, d.severity, d.message.as_str()))
        .collect();
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0].0, 6);
    assert_eq!(w[0].1, Severity::Warning);
    assert!(
        w[0].2.contains("PART 2") && w[0].2.contains("no \"### PART 2"),
        "{w:?}"
    );
    assert!(w[0].2.contains("PART 1 above (line 3)"), "{w:?}");
    // The seed has a heading for every checkbox line: no such warning.
    assert!(Plan::parse(SEED).diagnostics.is_empty());
}

#[test]
fn an_unknown_glyph_is_warned_about_and_ticked_with_a_done_one() {
    let text = "### PART 1: Create a.md\n\n- [~] PART 1: Create a.md\n\n### PART 2: Create b.md\n\n- [✔] PART 2: Create b.md\n";
    let plan = Plan::parse(text);
    let p1 = plan.part(1).unwrap();
    assert!(!p1.done);
    assert!(plan.part(2).unwrap().done);
    assert_eq!(plan.diagnostics.len(), 1, "{:?}", plan.diagnostics);
    let d = &plan.diagnostics[0];
    assert_eq!((d.line, d.severity), (3, Severity::Warning));
    assert!(
        d.message.contains("[~]") && d.message.contains("[✓]"),
        "{}",
        d.message
    );
    // Approving writes the plan's own done glyph: the PART is then really done.
    let ticked = plan::tick(text, 1, "Completed 2026-11-24 10:00").unwrap();
    assert!(ticked.contains("- [✔] PART 1: Create a.md (Completed 2026-11-24 10:00)\n"));
    let again = Plan::parse(&ticked);
    assert!(again.part(1).unwrap().done);
    assert!(again.diagnostics.is_empty());
    for glyph in plan::DONE_MARKS {
        assert!(plan::is_done_mark(*glyph));
    }
    assert!(!plan::is_done_mark('~') && !plan::is_done_mark(' '));
}

#[test]
fn index_and_drops_are_refused_as_targets() {
    for (target, what) in [
        ("INDEX.md", "INDEX.md"),
        ("index.md", "INDEX.md"),
        ("./Index.md", "INDEX.md"),
        ("drops/notes.md", "drops/"),
        ("Drops/KNOWLEDGE-DROP-x-2025-01-01-1200.md", "drops/"),
    ] {
        let text = format!("# P\n\n### PART 1: Create {target}\n- [ ] PART 1: Create {target}\n");
        let plan = Plan::parse(&text);
        let errs: Vec<_> = plan
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .collect();
        assert_eq!(errs.len(), 1, "{target}: {:?}", plan.diagnostics);
        assert_eq!(errs[0].line, 3);
        assert!(errs[0].message.contains(what), "{}", errs[0].message);
    }
    // Deeper INDEX.md files and folders merely named like drops are ordinary targets.
    let ok = "### PART 1: Create a/INDEX.md\n- [ ] PART 1: Create a/INDEX.md\n### PART 2: Create dropship/x.md\n- [ ] PART 2: Create dropship/x.md\n";
    assert!(!Plan::parse(ok).has_errors());
}
