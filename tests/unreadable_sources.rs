//! The real binary against a local search server whose results include pages nothing can read
//! (binary data, an encrypted PDF): each is a failed source, logged with its reason, cached as
//! failed so a later run does not fetch it again, and the PART is drafted from the rest.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use common::{RUNNABLE, expanse, workspace};
use serde_json::Value;

/// How often each page was requested.
type Hits = Arc<Mutex<HashMap<String, usize>>>;

async fn search(RawQuery(raw): RawQuery, headers: HeaderMap) -> Response {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let url = reqwest::Url::parse(&format!("http://x/?{}", raw.unwrap_or_default())).unwrap();
    let q = url
        .query_pairs()
        .find(|(k, _)| k == "q")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    let results: Vec<Value> = ["good", "binary", "locked"]
        .iter()
        .map(|p| serde_json::json!({"url": format!("http://{host}/page/{p}"), "title": format!("{q} {p}"), "content": "x"}))
        .collect();
    (
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::json!({"query": q, "results": results}).to_string(),
    )
        .into_response()
}

/// A PDF whose trailer names an encryption dictionary: readable by nobody without the key.
fn encrypted_pdf() -> Vec<u8> {
    let mut out = b"%PDF-1.4\n".to_vec();
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
        "<< /Filter /Standard /V 2 /R 3 /Length 128 /P -44 /O <0000000000000000000000000000000000000000000000000000000000000000> /U <0000000000000000000000000000000000000000000000000000000000000000> >>",
    ];
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for o in offsets {
        out.extend(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R /Encrypt 4 0 R /ID [<00112233445566778899aabbccddeeff> <00112233445566778899aabbccddeeff>] >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

async fn page(State(hits): State<Hits>, Path(name): Path<String>) -> Response {
    *hits.lock().unwrap().entry(name.clone()).or_default() += 1;
    match name.as_str() {
        "binary" => (
            [(header::CONTENT_TYPE, "application/octet-stream")],
            vec![0u8, 159, 146, 150, 0, 1, 2, 3, 255, 254, 0, 0],
        )
            .into_response(),
        "locked" => ([(header::CONTENT_TYPE, "application/pdf")], encrypted_pdf()).into_response(),
        _ => (
            [(header::CONTENT_TYPE, "text/html")],
            "<html><head><title>Pipelines</title></head><body><nav>Home</nav><main><h1>Pipelines</h1>\
<p>Pipeline parallelism places consecutive layers on different GPUs and streams micro-batches \
through them, so each device holds only its own stage of the model and its activations.</p>\
<p>Schedules such as 1F1B interleave forward and backward passes to keep the bubble small.</p>\
</main></body></html>",
        )
            .into_response(),
    }
}

fn server() -> (String, Hits) {
    let hits = Hits::default();
    let app = Router::new()
        .route("/search", get(search))
        .route("/page/{name}", get(page))
        .with_state(hits.clone());
    (common::serve(app), hits)
}

fn run(ws: &std::path::Path, base: &str) -> (i32, Vec<Value>) {
    let out = expanse(ws)
        .args([
            "run",
            "plans/p.md",
            "--headless",
            "--json",
            "--only",
            "1",
            "--corpus",
            "/nonexistent",
        ])
        .env("SEARXNG_URL", base)
        .env("EXPANSE_ALLOW_PRIVATE_URLS", "1")
        .env_remove("OPENAI_BASE_URL")
        .env_remove("OPENAI_API_KEY")
        .output()
        .unwrap();
    let events = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    (out.status.code().unwrap_or(-1), events)
}

fn fetch_logs(events: &[Value], page: &str) -> Vec<(String, String)> {
    events
        .iter()
        .filter(|e| e["kind"] == "log")
        .filter_map(|e| Some((e["level"].as_str()?, e["message"].as_str()?)))
        .filter(|(_, m)| m.starts_with("fetch ") && m.contains(&format!("/page/{page}")))
        .map(|(l, m)| (l.to_string(), m.to_string()))
        .collect()
}

#[test]
fn unreadable_pages_are_failed_sources_cached_as_failed() {
    let (base, hits) = server();
    let ws = workspace(RUNNABLE);
    let (code, events) = run(ws.path(), &base);
    assert_eq!(
        code, 0,
        "the PART is drafted from the readable page: {events:?}"
    );
    assert!(events.iter().any(|e| e["kind"] == "draft"), "{events:?}");

    let binary = fetch_logs(&events, "binary");
    let locked = fetch_logs(&events, "locked");
    assert!(!binary.is_empty() && !locked.is_empty(), "{events:?}");
    assert!(
        binary
            .iter()
            .all(|(l, m)| l == "warn" && m.contains("failed") && m.contains("binary")),
        "{binary:?}"
    );
    assert!(
        locked
            .iter()
            .all(|(l, m)| l == "warn" && m.contains("failed") && m.contains("encrypted")),
        "{locked:?}"
    );
    let first: HashMap<String, usize> = hits.lock().unwrap().clone();
    assert!(first["binary"] >= 1 && first["locked"] >= 1 && first["good"] >= 1);

    // Sent back to the writer: the unreadable pages are not fetched again, and say why.
    expanse(ws.path())
        .args([
            "review",
            "plans/p.md",
            "--reject",
            "1",
            "--reason",
            "again",
            "--requeue",
        ])
        .assert()
        .success();
    let (code, events) = run(ws.path(), &base);
    assert_eq!(code, 0, "{events:?}");
    assert_eq!(
        *hits.lock().unwrap(),
        first,
        "nothing is fetched again, failed or not"
    );
    let again = fetch_logs(&events, "locked");
    assert!(
        !again.is_empty()
            && again
                .iter()
                .all(|(l, m)| l == "warn" && m.contains("encrypted") && m.ends_with("(cached)")),
        "{again:?}"
    );
}
