//! Source policy: `[sources]` and a plan's `**Sources**:` line deny, prefer or limit the sites a
//! runner fetches (the log names the rule), the same page is fetched once, and a named target
//! ("Scrape DeepSpeed GitHub docs") becomes a search of that site.

mod common;

use std::sync::{Arc, Mutex};

use axum::extract::RawQuery;
use axum::routing::get;

fn page(title: &str) -> String {
    format!(
        "<html><head><title>{title}</title></head><body><article><h1>{title}</h1><p>ZeRO partitions optimizer states, gradients and parameters across data parallel ranks so each GPU holds a share.</p></article></body></html>"
    )
}

/// What a test server was asked, in order.
type Seen = Arc<Mutex<Vec<String>>>;

/// A search server whose results come from two hosts (127.0.0.1 and localhost), one page twice
/// (with a tracking parameter); the queries it was asked, and every page fetched.
fn server() -> (String, Seen, Seen) {
    let (listener, base) = common::listen();
    let port = base.rsplit(':').next().unwrap().to_string();
    let queries = Arc::new(Mutex::new(Vec::new()));
    let fetched = Arc::new(Mutex::new(Vec::new()));
    let (q, f1, f2, f3) = (
        queries.clone(),
        fetched.clone(),
        fetched.clone(),
        fetched.clone(),
    );
    let results = serde_json::json!({"results": [
        {"url": format!("http://127.0.0.1:{port}/a"), "title": "A", "content": "zero"},
        {"url": format!("http://127.0.0.1:{port}/c?utm_source=feed"), "title": "C", "content": "zero"},
        {"url": format!("http://localhost:{port}/b"), "title": "B", "content": "zero"},
        {"url": format!("http://127.0.0.1:{port}/c"), "title": "C again", "content": "zero"}
    ]});
    let app = axum::Router::new()
        .route(
            "/search",
            get(move |RawQuery(raw): RawQuery| {
                let url =
                    reqwest::Url::parse(&format!("http://x/?{}", raw.unwrap_or_default())).unwrap();
                let query = url
                    .query_pairs()
                    .find(|(k, _)| k == "q")
                    .map(|(_, v)| v.to_string());
                q.lock().unwrap().push(query.unwrap_or_default());
                let body = results.to_string();
                async move { ([("content-type", "application/json")], body) }
            }),
        )
        .route(
            "/a",
            get(move || {
                f1.lock().unwrap().push("/a".into());
                async { axum::response::Html(page("Page A")) }
            }),
        )
        .route(
            "/b",
            get(move || {
                f2.lock().unwrap().push("/b".into());
                async { axum::response::Html(page("Page B")) }
            }),
        )
        .route(
            "/c",
            get(move || {
                f3.lock().unwrap().push("/c".into());
                async { axum::response::Html(page("Page C")) }
            }),
        );
    common::serve_in_thread(listener, app);
    (base, queries, fetched)
}

/// Run a one-PART plan that scrapes the top `top` results, with `sources_line` (a plan line) and
/// `toml` settings; its log lines.
fn run(sources_line: &str, toml: &str, base: &str, top: usize) -> Vec<String> {
    let plan = format!(
        "# P\n\n{sources_line}\n\n### PART 1: Create t/zero.md (~20 lines)\n\n- [ ] PART 1: Create t/zero.md\n\n- [ ] Search: \"zero stages\"\n- [ ] Scrape top {top} results\n- [ ] Scrape DeepSpeed GitHub docs\n- [ ] Section 1: Overview (~20 lines)\n"
    );
    let ws = common::workspace(&plan);
    std::fs::write(
        ws.path().join("expanse.toml"),
        format!("[search]\nprovider = \"searxng\"\n[fetch]\nprovider = \"direct\"\nallow_private = true\n{toml}"),
    )
    .unwrap();
    let out = common::expanse(ws.path())
        .args(["run", "plans/p.md", "--headless", "--json"])
        .env("SEARXNG_URL", base)
        .env_remove("OPENAI_MODEL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|e| e["message"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn deny_never_fetches_and_says_which_rule() {
    let (base, queries, fetched) = server();
    let logs = run("", "[sources]\ndeny = [\"localhost\"]\n", &base, 4);
    assert!(
        logs.iter()
            .any(|l| l.contains("/b: the source rule \"deny localhost\" leaves it out")),
        "{logs:#?}"
    );
    let pages = fetched.lock().unwrap().clone();
    assert!(!pages.contains(&"/b".to_string()), "{pages:?}");
    assert_eq!(
        pages.iter().filter(|p| *p == "/c").count(),
        1,
        "one page under two addresses is fetched once"
    );
    // The named target searched its site.
    assert!(
        queries
            .lock()
            .unwrap()
            .iter()
            .any(|q| q.starts_with("site:github.com DeepSpeed GitHub docs")),
        "{:?}",
        queries.lock().unwrap()
    );
}

#[test]
fn a_plans_prefer_line_fetches_that_site_first() {
    // One page may be scraped: the preferred site's, though the search ranks it third.
    let (base, _, fetched) = server();
    run("**Sources**: prefer localhost", "", &base, 1);
    // (The named target "DeepSpeed GitHub docs" adds its own best page, /a.)
    let mut pages = fetched.lock().unwrap().clone();
    pages.sort();
    assert_eq!(pages, ["/a", "/b"]);
    // Without the line the top result is taken instead, and /b not at all.
    let (base, _, fetched) = server();
    run("", "", &base, 1);
    let mut pages = fetched.lock().unwrap().clone();
    pages.sort();
    assert_eq!(pages, ["/a", "/c"]);
}

#[test]
fn only_fetches_nothing_else() {
    let (base, _, fetched) = server();
    let logs = run("**Sources**: only localhost", "", &base, 4);
    assert_eq!(*fetched.lock().unwrap(), ["/b"]);
    assert!(
        logs.iter()
            .any(|l| l.contains("\"only localhost\" leaves it out")),
        "{logs:#?}"
    );
}

#[test]
fn a_bad_sources_line_is_a_plan_error() {
    let ws = common::workspace(
        "# P\n\n**Sources**: favour arxiv.org\n\n### PART 1: Create a.md\n\n- [ ] PART 1: Create a.md\n",
    );
    let out = common::expanse(ws.path())
        .args(["check", "plans/p.md"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("plans/p.md:3: error: the Sources line: \"favour\" is not a source rule"),
        "{err}"
    );
}
