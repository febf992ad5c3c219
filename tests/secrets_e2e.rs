//! The real binary against local search and model servers with an API key in the environment:
//! the key is sent to the server and appears nowhere else — not on stdout or stderr, not in the
//! journal, the log file, the drafts, the cache or, after approval, the knowledge base — even
//! when a server echoes it in an error, or a model writes it (plain, lower-case or base64) into
//! its answer.

mod common;

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::{RUNNABLE, expanse, files, workspace};

const KEY: &str = "sk-test-SECRET-7f3a9c";

/// The key and the forms a model might write it in: none may appear anywhere.
fn forms() -> Vec<String> {
    vec![
        KEY.to_string(),
        KEY.to_lowercase(),
        STANDARD.encode(KEY),
        // The part of base64("Bearer " + key) that encodes the key alone.
        STANDARD.encode(format!("Bearer {KEY}"))[12..36].to_string(),
    ]
}

fn leaks(text: &str) -> Vec<String> {
    forms().into_iter().filter(|f| text.contains(f)).collect()
}

#[derive(Clone, Default)]
struct Seen {
    auth: Arc<Mutex<Vec<String>>>,
}

fn chunk(content: &str) -> String {
    serde_json::json!({"choices": [{"index": 0, "delta": {"content": content}, "finish_reason": null}]}).to_string()
}

async fn completions(State(seen): State<Seen>, headers: HeaderMap, body: Bytes) -> Response {
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    seen.auth.lock().unwrap().push(auth);
    let prompt = String::from_utf8_lossy(&body);
    // PART 1's request is refused by a server that echoes the key it was given, as some do.
    if prompt.contains("00-deepspeed-zero-optimizer") {
        let body = serde_json::json!({"error": {"message": format!("Incorrect API key provided: {KEY}"), "type": "invalid_request_error"}});
        return (
            StatusCode::UNAUTHORIZED,
            [(header::CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
            .into_response();
    }
    let finish =
        serde_json::json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
            .to_string();
    let usage = serde_json::json!({"choices": [], "usage": {"prompt_tokens": 900, "completion_tokens": 40}}).to_string();
    // The model echoes the key it can see in its context, in three forms, split across chunks.
    let echo = format!(
        "The server key was {KEY} ({}), or {} in a header.\n",
        KEY.to_lowercase(),
        STANDARD.encode(format!("Bearer {KEY}"))
    );
    let (a, b) = echo.split_at(echo.len() / 2);
    let sse = format!(
        "data: {}\n\ndata: {}\n\ndata: {}\n\ndata: {}\n\ndata: {finish}\n\ndata: {usage}\n\ndata: [DONE]\n\n",
        chunk(
            "# Pipeline Parallelism\n\n## Section 1: Pipeline parallelism fundamentals\n\nStages hold layers [1].\n"
        ),
        chunk(a),
        chunk(b),
        chunk("\n## Sources\n\n[1] invented by the model — https://made-up.example\n"),
    );
    ([(header::CONTENT_TYPE, "text/event-stream")], sse).into_response()
}

async fn search(RawQuery(raw): RawQuery, headers: HeaderMap) -> Response {
    let base = format!(
        "http://{}",
        headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("")
    );
    let url = reqwest::Url::parse(&format!("http://x/?{}", raw.unwrap_or_default())).unwrap();
    let q = url
        .query_pairs()
        .find(|(k, _)| k == "q")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    let slug: String = q.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    let body = serde_json::json!({"query": q, "results": [{"url": format!("{base}/page/{slug}"), "title": q, "content": "x"}]});
    (
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn page() -> Response {
    let html = "<html><head><title>Pipelines</title></head><body><nav>Home</nav><main><h1>Pipelines</h1>\
<p>Pipeline parallelism places consecutive layers on different GPUs and streams micro-batches through them.</p></main></body></html>";
    ([(header::CONTENT_TYPE, "text/html")], html).into_response()
}

fn server() -> (String, Seen) {
    let seen = Seen::default();
    let app = Router::new()
        .route("/v1/chat/completions", post(completions))
        .route("/search", get(search))
        .route("/page/{slug}", get(page))
        .with_state(seen.clone());
    (common::serve(app), seen)
}

#[test]
fn the_api_key_reaches_the_server_and_nothing_else() {
    let (base, seen) = server();
    let ws = workspace(RUNNABLE);
    let out = expanse(ws.path())
        .args([
            "run",
            "plans/p.md",
            "--headless",
            "--json",
            "--only",
            "1,2",
            "--corpus",
            "/nonexistent",
        ])
        .env("SEARXNG_URL", &base)
        .env("OPENAI_BASE_URL", format!("{base}/v1"))
        .env("OPENAI_API_KEY", KEY)
        .env("OPENAI_MODEL", "test-model")
        .env("EXPANSE_LOG", "debug")
        // The search results point at pages on this test's own server (127.0.0.1).
        .env("EXPANSE_ALLOW_PRIVATE_URLS", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        seen.auth
            .lock()
            .unwrap()
            .iter()
            .all(|a| a == &format!("Bearer {KEY}")),
        "the key is sent to the model server"
    );
    assert!(!seen.auth.lock().unwrap().is_empty());
    assert!(
        stderr.contains("writer = openai-compatible model test-model"),
        "{stderr}"
    );
    assert_eq!(out.status.code(), Some(1), "PART 1 failed: {stdout}");
    assert!(stdout.contains("401"), "the refusal is reported: {stdout}");
    for (name, text) in [("stdout", stdout.as_ref()), ("stderr", stderr.as_ref())] {
        assert!(leaks(text).is_empty(), "the key leaked to {name}: {text}");
    }
    let state = files(&ws.path().join(".expanse"));
    assert!(
        state.iter().any(|p| p.ends_with("journal.jsonl"))
            && state.iter().any(|p| p.ends_with("expanse.log"))
    );
    for p in &state {
        let bytes = std::fs::read(p).unwrap();
        assert!(
            leaks(&String::from_utf8_lossy(&bytes)).is_empty(),
            "the key leaked to {}",
            p.display()
        );
    }
    // PART 2's draft came from the model, with expanse's own Sources list.
    let draft = state
        .iter()
        .find(|p| p.ends_with("part-2.json"))
        .expect("PART 2 drafted");
    let draft: serde_json::Value = serde_json::from_slice(&std::fs::read(draft).unwrap()).unwrap();
    let text = draft["text"].as_str().unwrap();
    assert!(text.contains("Stages hold layers [1]."), "{text}");
    assert!(
        !text.contains("made-up.example"),
        "the model's Sources list is replaced: {text}"
    );
    assert!(text.contains("## Sources\n\n[1] "), "{text}");
    assert!(
        text.contains("The server key was [redacted] ([redacted]), or "),
        "the echo is kept, the key is not: {text}"
    );

    // Approved, the draft reaches knowledge/ with the key still removed.
    let out = expanse(ws.path())
        .args(["review", "plans/p.md", "--approve", "2"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let written = files(&ws.path().join("knowledge"));
    assert!(written.len() >= 3, "file, drop and INDEX.md: {written:?}");
    let mut echoed = false;
    for p in &written {
        let text = String::from_utf8_lossy(&std::fs::read(p).unwrap()).into_owned();
        assert!(leaks(&text).is_empty(), "the key reached {}", p.display());
        echoed |= text.contains("The server key was [redacted]");
    }
    assert!(echoed, "the approved file holds the redacted echo");
}
