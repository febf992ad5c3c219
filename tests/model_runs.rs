//! The real binary writing with a model served on 127.0.0.1: one streamed request per section,
//! exact usage and cost in `status`, estimates when the server sends none, budgets that stop new
//! requests and resume without repeats, and a kill -9 after three sections of five that the next
//! run finishes with two requests.

mod common;

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use common::{expanse, journal_dir, status, workspace};

/// How the test model answers.
#[derive(Clone, Default)]
struct Script {
    /// Report usage (prompt, completion) per request; None: the server sends no usage.
    usage: Option<(u64, u64)>,
    /// Report the most a request may spend instead: its prompt as the o200k tokenizer counts it,
    /// and every completion token its `max_tokens` allows (a model that always writes to the limit).
    worst: bool,
    /// Sections (1-based) whose answer never ends.
    hang: Vec<usize>,
    /// Send the answer a piece at a time, 150 ms apart (long enough for progress samples).
    slow: bool,
    /// Report the tokens the o200k tokenizer counts in the prompt and the answer.
    counted: bool,
    /// Every request: (target, section number).
    seen: Arc<Mutex<Vec<(String, usize)>>>,
    /// Every yes/no question asked about a claim.
    questions: Arc<Mutex<Vec<String>>>,
    /// When set, section requests wait until it is true.
    gate: Option<Arc<std::sync::atomic::AtomicBool>>,
    /// Every section request's prompt: (section number, user message).
    prompts: Arc<Mutex<Vec<(usize, String)>>>,
}

fn chunk(content: &str) -> String {
    serde_json::json!({"choices": [{"index": 0, "delta": {"content": content}, "finish_reason": null}]}).to_string()
}

/// `File: t/x.md — …` and `The section to write: 2. Title` from the prompt.
fn what(body: &[u8]) -> (String, usize) {
    let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let prompt = v["messages"][1]["content"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let target = prompt
        .lines()
        .find_map(|l| l.strip_prefix("File: "))
        .and_then(|l| l.split(' ').next())
        .unwrap_or("")
        .to_string();
    let section = prompt
        .lines()
        .find_map(|l| l.strip_prefix("## The section to write: "))
        .and_then(|l| l.split('.').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    (target, section)
}

async fn completions(State(s): State<Script>, body: Bytes) -> Response {
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    if v["messages"][0]["content"]
        .as_str()
        .is_some_and(|c| c.starts_with("You check claims"))
    {
        // The grounding check's second opinion, one request per section: supported (quoting
        // the excerpt) for one kind of claim only, with some rambling around the answers.
        let q = v["messages"][1]["content"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let mut lines = vec!["Here is my assessment of each claim.".to_string()];
        let mut claim = String::new();
        let mut k = 0;
        for l in q.lines() {
            if let Some((_, c)) = l.split_once(". Claim: ") {
                claim = c.to_string();
                k += 1;
            } else if let Some(excerpt) = l.trim().strip_prefix("Excerpt: ") {
                let quote: String = excerpt
                    .split_whitespace()
                    .take(5)
                    .collect::<Vec<_>>()
                    .join(" ");
                lines.push(if claim.contains("It cites the source") {
                    format!("{k}: SUPPORTED \"{quote}\"")
                } else {
                    format!("{k}: NOT SUPPORTED")
                });
            }
        }
        lines.push("Let me know if you need more.".into());
        s.questions.lock().unwrap().push(q);
        let answer = format!(
            "data: {}\n\ndata: {}\n\ndata: {}\n\ndata: [DONE]\n\n",
            chunk(&lines.join("\n")),
            serde_json::json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}),
            serde_json::json!({"choices": [], "usage": {"prompt_tokens": 50, "completion_tokens": 1}})
        );
        return ([(header::CONTENT_TYPE, "text/event-stream")], answer).into_response();
    }
    let (target, section) = what(&body);
    s.seen.lock().unwrap().push((target.clone(), section));
    s.prompts.lock().unwrap().push((
        section,
        v["messages"][1]["content"]
            .as_str()
            .unwrap_or("")
            .to_string(),
    ));
    if let Some(gate) = &s.gate {
        while !gate.load(std::sync::atomic::Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let text = format!(
        "Section {section} of {target} says what its source says about sharding [1].\nIt cites the source [1].\n"
    );
    let mut events = vec![format!("data: {}\n\n", chunk(&text))];
    let hang = s.hang.contains(&section);
    if !hang {
        events.push(format!(
            "data: {}\n\n",
            serde_json::json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        ));
        let worst = s.worst.then(|| {
            let prompt =
                expanse::research::http::tokens::estimate(&v["messages"], "").prompt_tokens;
            (prompt, v["max_tokens"].as_u64().unwrap_or(0))
        });
        let counted = s.counted.then(|| {
            let prompt =
                expanse::research::http::tokens::estimate(&v["messages"], "").prompt_tokens;
            let answer = expanse::research::http::tokens::estimate(&serde_json::json!([]), &text);
            (prompt, answer.completion_tokens)
        });
        if let Some((p, c)) = worst.or(counted).or(s.usage) {
            events.push(format!(
                "data: {}\n\n",
                serde_json::json!({"choices": [], "usage": {"prompt_tokens": p, "completion_tokens": c}})
            ));
        }
        events.push("data: [DONE]\n\n".to_string());
    }
    let slow = s.slow;
    let events = if slow {
        // The text a word at a time.
        let mut pieces: Vec<String> = text
            .split_inclusive(' ')
            .map(|w| format!("data: {}\n\n", chunk(w)))
            .collect();
        pieces.extend(events.into_iter().skip(1));
        pieces
    } else {
        events
    };
    let stream = futures_util::stream::unfold((events, 0usize), move |(events, i)| async move {
        if slow && i > 0 {
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
        if i < events.len() {
            let item: Result<Bytes, Infallible> = Ok(Bytes::from(events[i].clone()));
            Some((item, (events, i + 1)))
        } else if hang {
            // Never ends: the client's idle limit or a kill ends it.
            tokio::time::sleep(Duration::from_secs(3600)).await;
            None
        } else {
            None
        }
    });
    (
        [(header::CONTENT_TYPE, "text/event-stream")],
        Body::from_stream(stream),
    )
        .into_response()
}

fn serve(script: Script) -> String {
    let app = Router::new()
        .route("/v1/chat/completions", post(completions))
        .with_state(script);
    format!("{}/v1", common::serve(app))
}

/// A plan of `parts` PARTs with `sections` sections each, on topics the demo corpus covers.
fn plan(parts: usize, sections: usize) -> String {
    let mut s = String::from("# Model plan\n\n");
    for n in 1..=parts {
        s.push_str(&format!(
            "### PART {n}: Create t/{n:02}-zero.md (~{} lines)\n\n- [ ] PART {n}: Create t/{n:02}-zero.md\n\
             - [ ] Search: \"DeepSpeed ZeRO stages\"\n- [ ] Scrape top 2 results\n",
            sections * 10
        ));
        for k in 1..=sections {
            s.push_str(&format!(
                "- [ ] Section {k}: ZeRO stage {k} - what it partitions (~10 lines)\n"
            ));
        }
        s.push_str("- [ ] Cite all sources\n\n");
    }
    s
}

/// `expanse run --headless --json` with the test model, local search and pages, and `extra`.
fn run_with(ws: &std::path::Path, base: &str, extra: &[&str]) -> std::process::Output {
    std::fs::write(
        ws.join("expanse.toml"),
        "[search]\nprovider = \"local\"\n[fetch]\nprovider = \"local\"\n[model]\nprice_input_per_mtok = 3.0\nprice_output_per_mtok = 15.0\n",
    )
    .unwrap();
    expanse(ws)
        .args(["run", "plans/p.md", "--headless", "--json"])
        .args(extra)
        .env("OPENAI_BASE_URL", base)
        .env("OPENAI_MODEL", "test-model")
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap()
}

fn requests(seen: &Arc<Mutex<Vec<(String, usize)>>>) -> BTreeMap<(String, usize), usize> {
    let mut out = BTreeMap::new();
    for k in seen.lock().unwrap().iter() {
        *out.entry(k.clone()).or_default() += 1;
    }
    out
}

#[test]
fn one_request_per_section_and_exact_usage_and_cost() {
    let script = Script {
        usage: Some((1_000, 100)),
        ..Script::default()
    };
    let seen = script.seen.clone();
    let base = serve(script);
    let ws = workspace(&plan(2, 3));
    let out = run_with(ws.path(), &base, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reqs = requests(&seen);
    assert_eq!(reqs.len(), 6, "two PARTs × three sections: {reqs:?}");
    assert!(reqs.values().all(|&n| n == 1), "one request each: {reqs:?}");
    let parts = status(ws.path());
    for p in &parts {
        assert_eq!(p["state"], "review");
        assert_eq!(p["usage"]["prompt_tokens"], 3_000);
        assert_eq!(p["usage"]["completion_tokens"], 300);
        assert_eq!(p["usage"]["estimated"], false);
        // 3,000 × $3/M + 300 × $15/M = $0.009 + $0.0045, to the cent.
        assert_eq!(p["usage"]["cost_usd"], 0.01);
    }
    let all = expanse(ws.path())
        .args(["status", "plans/p.md", "--json"])
        .output()
        .unwrap();
    let all: serde_json::Value = serde_json::from_slice(&all.stdout).unwrap();
    assert_eq!(all["usage"]["prompt_tokens"], 6_000);
    assert_eq!(all["usage"]["completion_tokens"], 600);
    assert_eq!(all["usage"]["cost_usd"], 0.03);
    // Each section of the file came from its own request, under its planned heading.
    let draft: serde_json::Value = serde_json::from_slice(
        &std::fs::read(journal_dir(ws.path()).join("drafts/part-1.json")).unwrap(),
    )
    .unwrap();
    let text = draft["text"].as_str().unwrap();
    for k in 1..=3 {
        assert!(
            text.contains(&format!(
                "## Section {k}: ZeRO stage {k}\n\nSection {k} of t/01-zero.md says"
            )),
            "{text}"
        );
    }
}

#[test]
fn a_server_without_usage_gives_estimates_marked_as_such() {
    let base = serve(Script::default());
    let ws = workspace(&plan(1, 2));
    let out = run_with(ws.path(), &base, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let p = &status(ws.path())[0];
    assert_eq!(p["usage"]["estimated"], true, "{p}");
    let completion = p["usage"]["completion_tokens"].as_u64().unwrap();
    assert!((10..200).contains(&completion), "{p}");
    let table = expanse(ws.path())
        .args(["status", "plans/p.md"])
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(
        table.contains("(estimated)") && table.contains('~'),
        "{table}"
    );
}

#[test]
fn a_budget_too_small_for_one_request_starts_none_and_a_higher_one_resumes_without_repeats() {
    let script = Script {
        usage: Some((100, 10)),
        ..Script::default()
    };
    let seen = script.seen.clone();
    let base = serve(script);
    let ws = workspace(&plan(5, 1));
    let out = run_with(ws.path(), &base, &["--jobs", "1", "--budget-tokens", "250"]);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        out.status.success(),
        "a budget pause is not a failure: {stderr}"
    );
    assert_eq!(
        seen.lock().unwrap().len(),
        0,
        "no request fits in 250 tokens: none is sent"
    );
    let parts = status(ws.path());
    assert!(parts.iter().all(|p| p["state"] == "paused"), "{parts:?}");
    let reason = parts[0]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("budget reached: the next request may use up to ")
            && reason.contains("and 250 of 250 are left for the plan (0 spent)"),
        "{reason}"
    );
    assert!(
        stderr
            .trim_end()
            .lines()
            .last()
            .unwrap()
            .contains("budget: 0 of 250 tokens used"),
        "the budget line comes last: {stderr}"
    );
    // More budget: every PART asks the model once.
    let out = run_with(
        ws.path(),
        &base,
        &["--jobs", "1", "--budget-tokens", "1000000"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reqs = requests(&seen);
    assert_eq!(reqs.len(), 5, "{reqs:?}");
    assert!(
        reqs.values().all(|&n| n == 1),
        "nothing asked twice: {reqs:?}"
    );
    assert!(status(ws.path()).iter().all(|p| p["state"] == "review"));
}

/// The plan's spending as `status --json` reports it.
fn spent(ws: &std::path::Path) -> u64 {
    let out = expanse(ws)
        .args(["status", "plans/p.md", "--json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["usage"]["prompt_tokens"].as_u64().unwrap()
        + v["usage"]["completion_tokens"].as_u64().unwrap()
}

/// A budget is a cap: with a model that spends all it may on every request, a run never spends
/// past it, however many requests run at once; and it comes within one request of it.
#[test]
fn a_budget_is_never_passed_at_any_concurrency() {
    let base = serve(Script {
        worst: true,
        ..Script::default()
    });
    // What one section costs when nothing limits the run (the same plan, sections of one size).
    let ws = workspace(&plan(8, 2));
    assert!(
        run_with(ws.path(), &base, &["--budget-tokens", "100000000"])
            .status
            .success()
    );
    let one = spent(ws.path()) / 16;
    assert!(one > 500, "{one}");
    for (budget, jobs) in [
        (one * 3 / 2, 16),
        (one * 9 / 2, 1),
        (one * 9 / 2, 16),
        (one * 21 / 2, 4),
    ] {
        let ws = workspace(&plan(8, 2));
        let out = run_with(
            ws.path(),
            &base,
            &[
                "--jobs",
                &jobs.to_string(),
                "--budget-tokens",
                &budget.to_string(),
            ],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let used = spent(ws.path());
        assert!(
            used <= budget,
            "spent {used} of {budget} with {jobs} at once"
        );
        // The reservation is the prompt with a quarter of margin: a run stops within about
        // two requests of its cap.
        assert!(
            used + 2 * one + one / 2 >= budget,
            "spent {used} of {budget} with {jobs} at once: stopped too early"
        );
    }
    // Dollars too: 3 and 15 dollars per million tokens.
    let ws = workspace(&plan(8, 2));
    let out = run_with(ws.path(), &base, &["--jobs", "16", "--budget-usd", "0.05"]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(
        &expanse(ws.path())
            .args(["status", "plans/p.md", "--json"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let cost = v["usage"]["cost_usd"].as_f64().unwrap();
    assert!(cost <= 0.05 && cost > 0.0, "{v}");
}

#[test]
fn a_kill_after_three_sections_of_five_resumes_with_two_requests() {
    let hanging = Script {
        usage: Some((10, 10)),
        hang: vec![4, 5],
        ..Script::default()
    };
    let base = serve(hanging);
    let ws = workspace(&plan(1, 5));
    std::fs::write(
        ws.path().join("expanse.toml"),
        "[search]\nprovider = \"local\"\n[fetch]\nprovider = \"local\"\n",
    )
    .unwrap();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("expanse"))
        .arg("--root")
        .arg(ws.path())
        .args(["run", "plans/p.md", "--headless"])
        .env("OPENAI_BASE_URL", &base)
        .env("OPENAI_MODEL", "test-model")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until three sections are journalled, then kill -9.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let journal = std::fs::read_to_string(ws.path().join(".expanse"))
            .ok()
            .or_else(|| {
                common::files(&ws.path().join(".expanse/plans"))
                    .into_iter()
                    .find(|p| p.ends_with("journal.jsonl"))
                    .and_then(|p| std::fs::read_to_string(p).ok())
            })
            .unwrap_or_default();
        if journal.matches("\"type\":\"section\"").count() >= 3 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "three sections never came"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let script = Script {
        usage: Some((10, 10)),
        ..Script::default()
    };
    let seen = script.seen.clone();
    let base = serve(script);
    let out = run_with(ws.path(), &base, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let asked: Vec<usize> = seen.lock().unwrap().iter().map(|(_, s)| *s).collect();
    let mut asked = asked;
    asked.sort();
    assert_eq!(
        asked,
        [4, 5],
        "only the unfinished sections are asked again"
    );
    let p = &status(ws.path())[0];
    assert_eq!(p["state"], "review");
}

#[test]
fn verify_model_asks_about_doubtful_claims_once_and_counts_the_tokens() {
    let script = Script {
        usage: Some((10, 10)),
        ..Script::default()
    };
    let questions = script.questions.clone();
    let base = serve(script);
    let ws = workspace(&plan(1, 2));
    let out = run_with(ws.path(), &base, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let check = |ws: &std::path::Path| -> serde_json::Value {
        let out = expanse(ws)
            .args(["review", "plans/p.md", "--check", "1", "--json"])
            .env("OPENAI_BASE_URL", &base)
            .env("OPENAI_MODEL", "test-model")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    // By their words alone, the model's sentences are not what the sources say.
    let lexical = check(ws.path());
    let doubtful = |v: &serde_json::Value| {
        v["claims"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["verdict"] != "supported")
            .count()
    };
    let before = doubtful(&lexical);
    assert!(before >= 2, "{lexical}");
    assert!(
        questions.lock().unwrap().is_empty(),
        "nothing asked without verify = model"
    );
    let toml = std::fs::read_to_string(ws.path().join("expanse.toml")).unwrap();
    std::fs::write(
        ws.path().join("expanse.toml"),
        format!("{toml}[review]\nverify = \"model\"\n"),
    )
    .unwrap();
    let tokens_before = status(ws.path())[0]["usage"]["prompt_tokens"]
        .as_u64()
        .unwrap();
    let second = check(ws.path());
    let asked = questions.lock().unwrap().len();
    // One request per section holding doubtful claims (two sections), each claim in it once.
    assert_eq!(asked, 2, "{:?}", questions.lock().unwrap());
    let in_requests: usize = questions
        .lock()
        .unwrap()
        .iter()
        .map(|q| q.matches(". Claim: ").count())
        .sum();
    assert!(in_requests <= before, "{in_requests} of {before}");
    let confirmed: Vec<&serde_json::Value> = second["claims"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["text"].as_str().unwrap().contains("It cites the source"))
        .collect();
    assert!(!confirmed.is_empty() && confirmed.iter().all(|c| c["verdict"] == "supported"));
    assert!(
        doubtful(&second) < before && doubtful(&second) > 0,
        "the model said no to the rest"
    );
    assert_eq!(
        status(ws.path())[0]["usage"]["prompt_tokens"]
            .as_u64()
            .unwrap(),
        tokens_before + 50 * asked as u64,
        "the requests' tokens count for the PART"
    );
    // Asked once: a second check uses the answers already given.
    check(ws.path());
    assert_eq!(questions.lock().unwrap().len(), asked);
}

/// Progress is sampled for the cards and `--json`; the readable headless output gives each step
/// once, not a "N lines so far" line every quarter second.
#[test]
fn progress_is_in_json_events_not_in_the_readable_lines() {
    let base = serve(Script {
        usage: Some((10, 10)),
        slow: true,
        ..Script::default()
    });
    let ws = workspace(&plan(1, 1));
    let out = run_with(ws.path(), &base, &[]);
    assert!(out.status.success());
    let progress: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|e| e["kind"] == "progress")
        .collect();
    assert!(!progress.is_empty(), "the JSON events carry progress");
    assert!(progress[0]["message"].as_str().unwrap().contains("so far"));
    let toml = std::fs::read_to_string(ws.path().join("expanse.toml")).unwrap();
    let ws = workspace(&plan(1, 1));
    std::fs::write(ws.path().join("expanse.toml"), toml).unwrap();
    let readable = expanse(ws.path())
        .args(["run", "plans/p.md", "--headless"])
        .env("OPENAI_BASE_URL", &base)
        .env("OPENAI_MODEL", "test-model")
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    let text = String::from_utf8(readable.stdout).unwrap();
    assert!(text.contains("written:"), "{text}");
    assert!(!text.contains("so far"), "{text}");
}

/// `run --dry-run` says what the run then asks: the same model requests, searches and at most
/// the pages it said, and tokens within the range it printed; `status` sets one against the other.
#[test]
fn the_estimate_is_what_the_run_then_asks() {
    let script = Script {
        counted: true,
        ..Script::default()
    };
    let seen = script.seen.clone();
    let base = serve(script);
    let ws = workspace(&plan(3, 2));
    // run_with writes the settings; its run is replaced by the dry run below.
    std::fs::write(
        ws.path().join("expanse.toml"),
        "[search]\nprovider = \"local\"\n[fetch]\nprovider = \"local\"\n[model]\nprice_input_per_mtok = 3.0\nprice_output_per_mtok = 15.0\n",
    )
    .unwrap();
    let dry = expanse(ws.path())
        .args(["run", "plans/p.md", "--dry-run", "--json"])
        .env("OPENAI_BASE_URL", &base)
        .env("OPENAI_MODEL", "test-model")
        .output()
        .unwrap();
    assert!(
        dry.status.success(),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    assert!(seen.lock().unwrap().is_empty(), "a dry run sends nothing");
    let e: serde_json::Value = serde_json::from_slice(&dry.stdout).unwrap();
    let t = &e["totals"];
    assert_eq!(t["model_requests"], 6);
    let out = run_with(ws.path(), &base, &[]);
    assert!(out.status.success());
    let events: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let said = |start: &str| {
        events
            .iter()
            .filter(|e| e["message"].as_str().is_some_and(|m| m.starts_with(start)))
            .count() as u64
    };
    assert_eq!(
        seen.lock().unwrap().len() as u64,
        t["model_requests"].as_u64().unwrap()
    );
    assert_eq!(said("search "), t["searches"].as_u64().unwrap());
    assert!(said("fetch ") <= t["fetches_max"].as_u64().unwrap());
    let status: serde_json::Value = serde_json::from_slice(
        &expanse(ws.path())
            .args(["status", "plans/p.md", "--json"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let used = status["usage"]["prompt_tokens"].as_u64().unwrap()
        + status["usage"]["completion_tokens"].as_u64().unwrap();
    let (low, high) = (
        t["tokens"]["low"].as_u64().unwrap(),
        t["tokens"]["high"].as_u64().unwrap(),
    );
    // The figures BENCHMARKS.md records (`-- --nocapture`).
    eprintln!(
        "estimate: {} requests (made {}), tokens {low}–{high}, used {used}",
        t["model_requests"],
        seen.lock().unwrap().len()
    );
    assert!(low <= used && used <= high, "{low} <= {used} <= {high}");
    let cost = status["usage"]["cost_usd"].as_f64().unwrap();
    assert!(
        t["usd"]["low"].as_f64().unwrap() <= cost && cost <= t["usd"]["high"].as_f64().unwrap()
    );
    assert_eq!(
        status["parts"][0]["estimate"]["low"],
        e["parts"][0]["tokens"]["low"]
    );
}

/// `[budget] confirm_over_usd`: a run estimated to cost more is not started without a yes, and
/// without a terminal to ask on it says so and starts nothing.
#[test]
fn a_run_estimated_over_confirm_over_usd_is_not_started_unasked() {
    let script = Script::default();
    let seen = script.seen.clone();
    let base = serve(script);
    let ws = workspace(&plan(2, 2));
    std::fs::write(
        ws.path().join("expanse.toml"),
        "[search]\nprovider = \"local\"\n[fetch]\nprovider = \"local\"\n[model]\nprice_input_per_mtok = 3.0\nprice_output_per_mtok = 15.0\n[budget]\nconfirm_over_usd = 0.0001\n",
    )
    .unwrap();
    let out = expanse(ws.path())
        .args(["run", "plans/p.md", "--headless"])
        .env("OPENAI_BASE_URL", &base)
        .env("OPENAI_MODEL", "test-model")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("more than [budget] confirm_over_usd ($0.00010)")
            && err.contains("nothing was started"),
        "{err}"
    );
    assert!(seen.lock().unwrap().is_empty());
    assert!(!ws.path().join(".expanse").exists(), "nothing was created");
}

/// A one-PART plan of five sections whose model server holds every section request until the
/// gate opens: four sections are then in flight and the fifth starts when one of them ends.
struct Gated {
    ws: tempfile::TempDir,
    base: String,
    gate: Arc<std::sync::atomic::AtomicBool>,
    prompts: Arc<Mutex<Vec<(usize, String)>>>,
}

fn gated() -> Gated {
    let gate = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let script = Script {
        usage: Some((100, 20)),
        gate: Some(gate.clone()),
        ..Script::default()
    };
    let prompts = script.prompts.clone();
    let base = serve(script);
    let ws = workspace(&plan(1, 5));
    std::fs::write(
        ws.path().join("expanse.toml"),
        "[search]\nprovider = \"local\"\n[fetch]\nprovider = \"local\"\n",
    )
    .unwrap();
    Gated {
        ws,
        base,
        gate,
        prompts,
    }
}

impl Gated {
    /// `expanse run --headless` in the background (`--json` events on a pipe when `json`).
    fn run(&self, json: bool) -> std::process::Child {
        let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("expanse"));
        c.arg("--root")
            .arg(self.ws.path())
            .args(["run", "plans/p.md", "--headless"])
            .env("OPENAI_BASE_URL", &self.base)
            .env("OPENAI_MODEL", "test-model")
            .stderr(std::process::Stdio::null());
        if json {
            c.arg("--json").stdout(std::process::Stdio::piped());
        } else {
            c.stdout(std::process::Stdio::null());
        }
        c.spawn().unwrap()
    }

    /// Wait (at most 60 s) until the four first sections are held at the server.
    fn wait_for_four_sections(&self) {
        for _ in 0..3000 {
            if self.prompts.lock().unwrap().len() == 4 {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("the run never asked for four sections");
    }
}

#[test]
fn a_note_reaches_only_the_sections_that_start_after_it_and_survives_in_the_journal() {
    use std::io::BufRead as _;
    use std::sync::atomic::Ordering;
    let g = gated();
    let (ws, gate, prompts) = (&g.ws, &g.gate, &g.prompts);
    // No run live: one clear line, nothing journalled.
    let out = expanse(ws.path())
        .args([
            "steer",
            "plans/p.md",
            "1",
            "prefer",
            "the",
            "PyTorch",
            "API",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no run of plans/p.md is live"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");

    let mut child = g.run(true);
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let reader = {
        let lines = lines.clone();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for l in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                lines.lock().unwrap().push(l);
            }
        })
    };
    let wait_for = |what: &dyn Fn() -> bool| {
        for _ in 0..3000 {
            if what() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("waited 60 s: {:?}", lines.lock().unwrap());
    };
    wait_for(&|| prompts.lock().unwrap().len() == 4);
    common::succeeds(expanse(ws.path()).args([
        "steer",
        "plans/p.md",
        "1",
        "Prefer the PyTorch API.",
    ]));
    // The run says it took the note before any section is let go.
    wait_for(&|| {
        lines
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("note (1 in all)") && l.contains("Prefer the PyTorch API."))
    });
    // With the socket gone (as when a run cannot serve one), the note is journalled and the run
    // reads it from the journal.
    std::fs::remove_file(journal_dir(ws.path()).join("run.sock")).unwrap();
    common::succeeds(expanse(ws.path()).args(["steer", "plans/p.md", "1", "Cite the tutorial."]));
    wait_for(&|| {
        lines
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("note (expanse steer") && l.contains("Cite the tutorial."))
    });
    gate.store(true, Ordering::SeqCst);
    assert!(child.wait().unwrap().success());
    reader.join().unwrap();

    let prompts = prompts.lock().unwrap().clone();
    assert_eq!(prompts.len(), 5, "one request per section");
    let noted: Vec<usize> = prompts
        .iter()
        .filter(|(_, p)| p.contains("Prefer the PyTorch API."))
        .map(|(k, _)| *k)
        .collect();
    let fifth = prompts[4].0;
    assert_eq!(
        noted,
        [fifth],
        "only the section that started after the note has it"
    );
    assert!(
        prompts[4].1.contains("Cite the tutorial."),
        "a second note adds to the first"
    );
    // Journalled, and listed in the drop.
    let journal = std::fs::read_to_string(journal_dir(ws.path()).join("journal.jsonl")).unwrap();
    assert!(journal.contains("\"type\":\"noted\""), "{journal}");
    let draft = std::fs::read_to_string(journal_dir(ws.path()).join("drafts/part-1.json")).unwrap();
    assert!(
        draft.contains("Notes given while it ran") && draft.contains("Prefer the PyTorch API.")
    );
    // Steering a PART in review is refused with what to do instead.
    let out = expanse(ws.path())
        .args(["steer", "plans/p.md", "1", "x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

/// Connect to a live run's socket as a client would: the run's hello, then a line reader.
fn attach_raw(
    dir: &std::path::Path,
) -> (
    std::os::unix::net::UnixStream,
    std::io::BufReader<std::os::unix::net::UnixStream>,
    serde_json::Value,
) {
    use std::io::{BufRead as _, Write as _};
    let mut s = std::os::unix::net::UnixStream::connect(dir.join("run.sock")).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(b"{\"expanse\": 1}\n").unwrap();
    let mut r = std::io::BufReader::new(s.try_clone().unwrap());
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    (s, r, serde_json::from_str(&line).unwrap())
}

#[test]
fn a_live_run_is_attached_to_by_two_clients_shown_in_status_and_stopped_cleanly() {
    use std::io::{BufRead as _, Write as _};
    use std::os::unix::fs::PermissionsExt as _;
    let g = gated();
    let (ws, gate) = (&g.ws, &g.gate);
    let mut child = g.run(false);
    g.wait_for_four_sections();
    let dir = journal_dir(ws.path());
    let mode = std::fs::metadata(dir.join("run.sock"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "only its user may connect");

    let (_a, mut a, hello) = attach_raw(&dir);
    assert_eq!(hello["pid"], child.id());
    let (mut b_w, mut b, hello) = attach_raw(&dir);
    assert_eq!(hello["clients"], 2);
    let status = expanse(ws.path())
        .args(["status", "plans/p.md", "--json"])
        .output()
        .unwrap();
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["live"]["pid"], child.id().to_string());
    assert_eq!(status["live"]["clients"], 2);

    // A command from one client is seen by both.
    b_w.write_all(b"{\"note\": {\"part\": 1, \"text\": \"Use the PyTorch API.\"}}\n")
        .unwrap();
    for r in [&mut a, &mut b] {
        let mut seen = false;
        for _ in 0..200 {
            let mut line = String::new();
            if r.read_line(&mut line).unwrap() == 0 {
                break;
            }
            if line.contains("Use the PyTorch API.") {
                seen = true;
                break;
            }
        }
        assert!(seen, "both clients see the note");
    }

    // stop ends the run cleanly; its socket goes with it.
    let out = expanse(ws.path())
        .args(["stop", "plans/p.md"])
        .timeout(Duration::from_secs(90))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("stopped"));
    assert!(child.wait().unwrap().success());
    assert!(!dir.join("run.sock").exists());
    gate.store(true, std::sync::atomic::Ordering::SeqCst);

    // A socket a crashed run left is found stale and removed, with one clear line.
    std::fs::write(dir.join("run.sock"), "").unwrap();
    common::attach_finds_the_socket_stale(ws.path(), &dir.join("run.sock"));
}

#[test]
fn a_note_survives_a_kill_and_reaches_the_next_runs_sections() {
    use std::sync::atomic::Ordering;
    let g = gated();
    let (ws, gate, prompts) = (&g.ws, &g.gate, &g.prompts);
    let mut child = g.run(false);
    g.wait_for_four_sections();
    common::succeeds(expanse(ws.path()).args(["steer", "plans/p.md", "1", "Keep to ZeRO-3."]));
    // The run has journalled it (the socket hands it over; the run writes it down).
    for _ in 0..3000 {
        let j = std::fs::read_to_string(journal_dir(ws.path()).join("journal.jsonl")).unwrap();
        if j.contains("Keep to ZeRO-3.") {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // kill -9 before any section is written: every section is still to write.
    child.kill().unwrap();
    child.wait().unwrap();
    prompts.lock().unwrap().clear();
    gate.store(true, Ordering::SeqCst);
    assert!(g.run(false).wait().unwrap().success());
    let prompts = prompts.lock().unwrap().clone();
    assert_eq!(prompts.len(), 5);
    assert!(
        prompts.iter().all(|(_, p)| p.contains("Keep to ZeRO-3.")),
        "the journalled note reaches every section the next run writes"
    );
}
