//! A slow page does not hold its PART: a PART's pages are fetched at once (within each site's
//! limits), and a page that trickles its body is given up after `[fetch] page_deadline_secs`.

mod common;

use std::convert::Infallible;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::routing::get;

const PLAN: &str = "# P\n\n### PART 1: Create t/zero.md (~20 lines)\n\n- [ ] PART 1: Create t/zero.md\n\n- [ ] Search: \"zero stages\"\n- [ ] Scrape top 3 results\n- [ ] Section 1: Overview (~20 lines)\n";

fn page(title: &str) -> String {
    format!(
        "<html><head><title>{title}</title></head><body><article><h1>{title}</h1><p>ZeRO partitions optimizer states, gradients and parameters across data parallel ranks, so each GPU holds only its share of the model state during training.</p></article></body></html>"
    )
}

#[test]
fn a_trickling_page_is_left_out_while_the_others_are_fetched() {
    let (listener, base) = common::listen();
    let results = serde_json::json!({
        "query": "zero stages",
        "results": [
            {"url": format!("{base}/slow"), "title": "Slow", "content": "ZeRO stages"},
            {"url": format!("{base}/fast1"), "title": "Fast one", "content": "ZeRO stages"},
            {"url": format!("{base}/fast2"), "title": "Fast two", "content": "ZeRO stages"}
        ]
    });
    let app =
        axum::Router::new()
            .route(
                "/search",
                get(move || async move {
                    ([("content-type", "application/json")], results.to_string())
                }),
            )
            .route(
                "/fast1",
                get(|| async { axum::response::Html(page("Fast one")) }),
            )
            .route(
                "/fast2",
                get(|| async { axum::response::Html(page("Fast two")) }),
            )
            .route(
                "/slow",
                get(|| async {
                    // One byte every half second, for ever.
                    let stream = futures_util::stream::unfold(0u64, |i| async move {
                        tokio::time::sleep(Duration::from_millis(500)).await;
                        Some((Ok::<Bytes, Infallible>(Bytes::from_static(b" ")), i + 1))
                    });
                    ([("content-type", "text/html")], Body::from_stream(stream))
                }),
            );
    common::serve_in_thread(listener, app);
    let ws = common::workspace(PLAN);
    std::fs::write(
        ws.path().join("expanse.toml"),
        "[search]\nprovider = \"searxng\"\n[fetch]\nprovider = \"direct\"\nallow_private = true\npage_deadline_secs = 2\n",
    )
    .unwrap();
    let out = common::expanse(ws.path())
        .args(["run", "plans/p.md", "--headless", "--json"])
        .env("SEARXNG_URL", &base)
        .env_remove("OPENAI_BASE_URL")
        .env_remove("OPENAI_MODEL")
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let messages: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|e| e["message"].as_str().map(str::to_string))
        .collect();
    let at = |needle: &str| {
        messages
            .iter()
            .position(|m| m.contains(needle))
            .unwrap_or_else(|| panic!("no {needle:?} in {messages:#?}"))
    };
    let slow = at("/slow failed");
    assert!(
        messages[slow].contains("took over 2 s in all"),
        "{}",
        messages[slow]
    );
    // The slow page is first in the results, yet the others were fetched while it trickled.
    assert!(
        at("/fast1 → ok") < slow && at("/fast2 → ok") < slow,
        "{messages:#?}"
    );
    assert!(at("draft ready") > slow);
}
