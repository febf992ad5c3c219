//! `expanse verify`: a knowledge file's claims against its sources — cached, fetched from a
//! server, or unreadable and named — and the one-claim-a-line contract.

mod common;

use axum::routing::get;
use common::{RUNNABLE, expanse, run_only, workspace};

const T3: &str = "karpathy/distributed-training/02-megatron-lm-tensor-parallelism.md";

#[test]
fn a_draft_written_offline_verifies_from_the_cache() {
    let ws = workspace(RUNNABLE);
    assert!(run_only(ws.path(), "3").status.success());
    assert!(
        expanse(ws.path())
            .args(["review", "plans/p.md", "--approve", "3"])
            .output()
            .unwrap()
            .status
            .success()
    );
    let out = expanse(ws.path())
        .args(["verify", &format!("knowledge/{T3}"), "--json", "--corpus"])
        .arg(common::corpus())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let sources = v["sources"].as_array().unwrap();
    assert!(!sources.is_empty());
    assert!(sources.iter().all(|s| s["status"] == "cached"), "{v}");
    assert!(v["counts"]["supported"].as_u64().unwrap() > 10, "{v}");
    assert_eq!(v["counts"]["unsupported"], 0);
}

#[test]
fn sources_are_fetched_when_not_cached_and_an_unreadable_one_is_named() {
    let base = common::serve(
        axum::Router::new().route(
            "/zero",
            get(|| async {
                axum::response::Html("<html><head><title>ZeRO</title></head><body><article><h1>ZeRO</h1><p>ZeRO stage 3 partitions the model parameters across the data parallel ranks, in addition to gradients and optimizer states.</p><p>Stage 2 partitions gradients and optimizer states only.</p></article></body></html>")
            }),
        ),
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("zero.md");
    std::fs::write(
        &file,
        format!(
            "# ZeRO\n\n## Stages\n\nZeRO stage 3 partitions the model parameters across data parallel ranks. [1]\n\nZeRO stage 3 was first released in 1999. [1]\n\nStage 2 needs a license server. [2]\n\n## Sources\n\n[1] ZeRO — {base}/zero\n[2] Gone — {base}/missing\n"
        ),
    )
    .unwrap();
    let out = expanse(dir.path())
        .args(["verify", "zero.md"])
        .env("EXPANSE_ALLOW_PRIVATE_URLS", "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a ✗ claim fails the command: {text}"
    );
    assert!(
        text.contains(&format!("[1] {base}/zero (fetched)")),
        "{text}"
    );
    assert!(
        text.contains(&format!("[2] {base}/missing could not be read"))
            && text.contains("not found"),
        "{text}"
    );
    assert!(text.contains("✓ line 5: ZeRO stage 3 partitions"), "{text}");
    assert!(
        text.contains("✗ line 7: ZeRO stage 3 was first released in 1999."),
        "{text}"
    );
    assert!(text.contains("3 claims: 1 ✓ supported"), "{text}");
    assert!(
        text.contains("[2] could not be read (direct: not found"),
        "{text}"
    );
    // Outside a workspace nothing is created.
    assert!(!dir.path().join(".expanse").exists());
}

#[test]
fn one_claim_a_line_in_order() {
    let input = r#"{"id": "a", "claim": "FSDP became part of core PyTorch in version 1.11 in 2022. [1]", "sources": {"1": "FSDP became part of core PyTorch in version 1.11 (2022)."}}
{"id": 7, "claim": "Venus does not have a runaway greenhouse effect. [1]", "sources": {"1": "Venus experienced a runaway greenhouse effect."}}
{"id": "c", "claim": "Uncited sentence about nothing."}
"#;
    let dir = tempfile::tempdir().unwrap();
    let out = expanse(dir.path())
        .args(["verify", "--jsonl", "-"])
        .write_stdin(input)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ids: Vec<&serde_json::Value> = lines.iter().map(|l| &l["id"]).collect();
    assert_eq!(
        ids,
        [
            &serde_json::json!("a"),
            &serde_json::json!(7),
            &serde_json::json!("c")
        ]
    );
    assert_eq!(lines[0]["verdict"], "supported");
    assert_ne!(
        lines[1]["verdict"], "supported",
        "a negation the source does not share"
    );
    assert_eq!(lines[2]["verdict"], "uncited");
    let bad = expanse(dir.path())
        .args(["verify", "--jsonl", "-"])
        .write_stdin("{\"id\": 1}\n")
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("line 1: not a claim line"));
}
