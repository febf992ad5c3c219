//! End-to-end latency: 16 PARTs through the real supervisor and the real HTTP providers (SearXNG
//! search, direct fetch, streamed OpenAI-compatible writer) against a local server that adds
//! 0.2–2 s to every request. Runners work in parallel, so the wall time should be close to the
//! slowest PART, far below the sum of all PARTs' times.
//!
//! Run: `cargo bench --profile dev --bench latency` (plain main, no criterion: one run is the figure).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{Uri, header};
use axum::response::Response;
use axum::routing::{get, post};
use expanse::config::Config;
use expanse::journal::{Cache, Journal};
use expanse::plan::Plan;
use expanse::research::select;
use expanse::runner::{self, EventKind, RunContext, RunOptions, RunnerState};

const PARTS: u32 = 16;

/// Requests served and the latency added to them, in milliseconds.
#[derive(Clone, Default)]
struct Stats {
    requests: Arc<AtomicU64>,
    added_ms: Arc<AtomicU64>,
}

/// 0.2–2 s, spread deterministically over the request's key so runs are comparable.
async fn delay(stats: &Stats, key: &str) {
    let h = key.bytes().fold(1469598103934665603u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(1099511628211)
    });
    let ms = 200 + h % 1801;
    stats.requests.fetch_add(1, Ordering::Relaxed);
    stats.added_ms.fetch_add(ms, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

async fn search(State((stats, base)): State<(Stats, String)>, uri: Uri) -> Response {
    let query = reqwest::Url::parse(&format!("http://local{uri}"))
        .ok()
        .and_then(|u| {
            u.query_pairs()
                .find(|(k, _)| k == "q")
                .map(|(_, v)| v.to_string())
        })
        .unwrap_or_default();
    delay(&stats, &format!("search {query}")).await;
    let results: Vec<serde_json::Value> = (0..2)
        .map(|i| {
            serde_json::json!({
                "url": format!("{base}/page/{}-{i}", query.replace(' ', "-")),
                "title": format!("{query} result {i}"),
                "content": "A page about the topic.",
            })
        })
        .collect();
    Response::builder()
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            serde_json::json!({"query": query, "number_of_results": 2, "results": results})
                .to_string(),
        ))
        .unwrap()
}

async fn page(State((stats, _)): State<(Stats, String)>, Path(name): Path<String>) -> Response {
    delay(&stats, &format!("page {name}")).await;
    let html = format!(
        "<html><head><title>{name}</title></head><body><nav>Home | Docs</nav><article><h1>{name}</h1>\
         <p>The overview of {name} explains the fundamentals of the topic in enough words to be a passage worth citing.</p>\
         <p>Memory, communication and compute trade off against each other in every design discussed on this page.</p></article>\
         <footer>© example</footer></body></html>"
    );
    Response::builder()
        .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
        .body(Body::from(html))
        .unwrap()
}

async fn chat(State((stats, _)): State<(Stats, String)>, body: Bytes) -> Response {
    let text = String::from_utf8_lossy(&body).to_string();
    let key = text
        .chars()
        .filter(|c| c.is_ascii_digit())
        .take(40)
        .collect::<String>();
    delay(&stats, &format!("chat {key}")).await;
    let chunk = |c: &str| {
        format!(
            "data: {}\n\n",
            serde_json::json!({"choices": [{"index": 0, "delta": {"content": c}, "finish_reason": null}]})
        )
    };
    let mut out = String::new();
    for piece in [
        "## Overview\n\n",
        "The fundamentals are explained ",
        "in the sources [1][2].\n",
    ] {
        out.push_str(&chunk(piece));
    }
    out.push_str("data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n");
    out.push_str("data: {\"choices\":[],\"usage\":{\"prompt_tokens\":100,\"completion_tokens\":20}}\n\ndata: [DONE]\n\n");
    Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream")
        .body(Body::from(out))
        .unwrap()
}

fn plan() -> Plan {
    let mut s = String::from("# Latency plan\n\n");
    for n in 1..=PARTS {
        s.push_str(&format!(
            "### PART {n}: Create t/{n:02}-topic.md (~20 lines)\n\n- [ ] PART {n}: Create t/{n:02}-topic.md\n\n\
             - [ ] Search: \"topic {n}\"\n- [ ] Scrape top 2 results\n- [ ] Section 1: Overview - fundamentals (~10 lines)\n\n"
        ));
    }
    Plan::parse(&s)
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    rt.block_on(run());
}

async fn run() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let stats = Stats::default();
    let app = Router::new()
        .route("/search", get(search))
        .route("/page/{name}", get(page))
        .route("/v1/chat/completions", post(chat))
        .with_state((stats.clone(), base.clone()));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });

    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("corpus");
    std::fs::create_dir_all(&corpus).unwrap();
    let config = Config::parse(
        "[limits]\nrequests_per_second = 1000\nper_host_concurrency = 64\ntimeout_secs = 30\n",
        "bench",
    )
    .unwrap();
    let env_base = base.clone();
    let env = move |name: &str| match name {
        "SEARXNG_URL" => Some(env_base.clone()),
        "OPENAI_BASE_URL" => Some(format!("{env_base}/v1")),
        "OPENAI_MODEL" => Some("bench-model".into()),
        _ => None,
    };
    let selection = select(&config, &env, false, &corpus, &dir.path().join("index")).unwrap();
    println!("{}", selection.description);
    let ctx = RunContext {
        plan: plan(),
        plan_path: dir.path().join("plan.md"),
        workspace: expanse::workspace::Workspace::new(dir.path()),
        providers: selection.providers,
        journal: Arc::new(Journal::open(&dir.path().join("journal")).unwrap()),
        cache: Arc::new(Cache::new(&dir.path().join("cache"))),
    };
    let (tx, mut events) = tokio::sync::mpsc::channel(1024);
    let started = Instant::now();
    let (_commands, handle) = runner::spawn(ctx, RunOptions::default(), tx);
    let mut finished: BTreeMap<u32, Duration> = BTreeMap::new();
    while let Some(e) = events.recv().await {
        // The draft event carries the `review` state; a failure comes as a state event.
        if let (
            EventKind::State | EventKind::Draft,
            Some(RunnerState::Review | RunnerState::Failed),
            Some(n),
        ) = (e.kind, e.state, e.part)
        {
            finished.entry(n).or_insert_with(|| started.elapsed());
        }
        if e.kind == EventKind::Error {
            eprintln!("error: PART {:?}: {}", e.part, e.message);
        }
    }
    let summary = handle.await.unwrap();
    let wall = started.elapsed();
    let slowest = finished.values().max().copied().unwrap_or_default();
    let sum: Duration = finished.values().sum();
    println!(
        "{} PARTs: {} in review, {} failed",
        PARTS,
        summary.count(RunnerState::Review),
        summary.count(RunnerState::Failed)
    );
    println!(
        "requests served: {}, latency added in all: {:.1} s",
        stats.requests.load(Ordering::Relaxed),
        stats.added_ms.load(Ordering::Relaxed) as f64 / 1000.0
    );
    println!(
        "wall time {:.2} s; slowest PART {:.2} s; sum of PART times {:.1} s",
        wall.as_secs_f64(),
        slowest.as_secs_f64(),
        sum.as_secs_f64()
    );
}
