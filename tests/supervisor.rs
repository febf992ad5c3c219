//! The supervisor with scripted providers: pause, resume, cancel, retry, the jobs limit and stalls.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use expanse::journal::{Cache, Journal};
use expanse::plan::Plan;
use expanse::research::{
    Fetch, Hit, LogSink, Page, Providers, ResearchError, Search, local::ExtractiveWriter,
};
use expanse::runner::{
    self, Command, Event, EventKind, RunContext, RunOptions, RunnerState, Target, What,
};
use tokio::sync::mpsc;

/// A search that takes `delay`, counts calls and concurrency, and can be made to fail.
#[derive(Default)]
struct Scripted {
    delay: Duration,
    calls: AtomicUsize,
    /// Searches that ran to their end (a dropped one does not).
    completed: AtomicUsize,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    fail: AtomicBool,
}

#[async_trait]
impl Search for Scripted {
    fn name(&self) -> &str {
        "scripted"
    }
    async fn search(
        &self,
        query: &str,
        _limit: usize,
        _log: &LogSink,
    ) -> Result<Vec<Hit>, ResearchError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        // Dropped mid-sleep (a pause), the in-flight count must still come down.
        struct Leave<'a>(&'a AtomicUsize);
        impl Drop for Leave<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::SeqCst);
            }
        }
        let _leave = Leave(&self.in_flight);
        tokio::time::sleep(self.delay).await;
        self.completed.fetch_add(1, Ordering::SeqCst);
        if self.fail.load(Ordering::SeqCst) {
            return Err(ResearchError::Provider {
                provider: "scripted".into(),
                message: "HTTP 503".into(),
            });
        }
        Ok(vec![Hit {
            url: format!("mem://{query}"),
            title: query.into(),
            snippet: String::new(),
        }])
    }
}

struct Echo;

#[async_trait]
impl Fetch for Echo {
    fn name(&self) -> &str {
        "echo"
    }
    async fn fetch(&self, url: &str, _log: &LogSink) -> Result<Page, ResearchError> {
        Ok(Page {
            url: url.into(),
            title: url.into(),
            content: format!(
                "# {url}\n\nThe overview of {url} explains the fundamentals in enough words to be a passage.\n"
            ),
        })
    }
}

fn plan(parts: usize, queries: usize) -> Plan {
    Plan::parse(&plan_text(parts, queries))
}

fn plan_text(parts: usize, queries: usize) -> String {
    let mut s = String::from("# Test plan\n\n");
    for n in 1..=parts {
        s.push_str(&format!("### PART {n}: Create t/{n:02}-topic.md (~20 lines)\n\n- [ ] PART {n}: Create t/{n:02}-topic.md\n\n"));
        for q in 0..queries {
            s.push_str(&format!("- [ ] Search: \"p{n} q{q}\"\n"));
        }
        s.push_str(
            "- [ ] Scrape top 2 results\n- [ ] Section 1: Overview - fundamentals (~10 lines)\n\n",
        );
    }
    s
}

struct Harness {
    _dir: tempfile::TempDir,
    search: Arc<Scripted>,
    commands: mpsc::Sender<Command>,
    events: mpsc::Receiver<Event>,
    handle: tokio::task::JoinHandle<runner::Summary>,
}

fn start(plan: Plan, search: Scripted, options: RunOptions) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("knowledge")).unwrap();
    let search = Arc::new(search);
    let providers = Providers {
        search: search.clone(),
        fetch: Arc::new(Echo),
        writer: Arc::new(ExtractiveWriter),
        description: "scripted".into(),
    };
    let ctx = RunContext {
        plan,
        plan_path: dir.path().join("plan.md"),
        workspace: expanse::workspace::Workspace::new(dir.path()),
        providers,
        journal: Arc::new(Journal::open(&dir.path().join("j")).unwrap()),
        cache: Arc::new(Cache::new(&dir.path().join("cache"))),
    };
    let (tx, events) = mpsc::channel(64);
    let (commands, handle) = runner::spawn(ctx, options, tx);
    Harness {
        _dir: dir,
        search,
        commands,
        events,
        handle,
    }
}

impl Harness {
    /// Events until `pred` holds for one (returned), failing after a generous deadline.
    async fn until(&mut self, pred: impl Fn(&Event) -> bool) -> Event {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let e = tokio::time::timeout_at(deadline, self.events.recv())
                .await
                .expect("the expected event never came")
                .expect("the event channel closed first");
            if pred(&e) {
                return e;
            }
        }
    }

    async fn finish(mut self) -> (runner::Summary, Vec<Event>) {
        let mut rest = Vec::new();
        while let Some(e) = self.events.recv().await {
            rest.push(e);
        }
        (self.handle.await.unwrap(), rest)
    }
}

fn is_state(part: u32, state: RunnerState) -> impl Fn(&Event) -> bool {
    move |e| e.part == Some(part) && e.state_now() == Some(state)
}

// A paused clock: the providers' delays and the test's waits are virtual, never the wall's.
#[tokio::test(start_paused = true)]
async fn pause_drops_the_search_in_flight_and_resume_redoes_only_it() {
    let search = Scripted {
        delay: Duration::from_millis(300),
        ..Default::default()
    };
    let mut h = start(plan(1, 4), search, RunOptions::default());
    h.until(is_state(1, RunnerState::Searching)).await;
    h.commands
        .send(Command::Pause(Target::Part(1)))
        .await
        .unwrap();
    h.until(is_state(1, RunnerState::Paused)).await;
    let calls_at_pause = h.search.calls.load(Ordering::SeqCst);
    let done_at_pause = h.search.completed.load(Ordering::SeqCst);
    assert!(done_at_pause < 4, "pause stops before every search ran");
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(
        h.search.completed.load(Ordering::SeqCst),
        done_at_pause,
        "the search in flight was dropped, not finished"
    );
    assert_eq!(
        h.search.calls.load(Ordering::SeqCst),
        calls_at_pause,
        "nothing new starts while paused"
    );
    h.commands
        .send(Command::Resume(Target::Part(1)))
        .await
        .unwrap();
    h.until(is_state(1, RunnerState::Searching)).await;
    let search = h.search.clone();
    let (summary, after_resume) = h.finish().await;
    assert_eq!(summary.states[&1], RunnerState::Review);
    assert_eq!(
        search.completed.load(Ordering::SeqCst),
        4,
        "each search finished exactly once"
    );
    assert!(
        !after_resume
            .iter()
            .any(|e| e.state_now() == Some(RunnerState::Checking)),
        "the runner goes on from its step: the checks are not run again"
    );
    assert!(
        search.calls.load(Ordering::SeqCst) <= 5,
        "only the dropped search was asked again"
    );
}

#[tokio::test]
async fn pause_is_at_once_even_when_a_request_would_take_long_or_the_part_is_queued() {
    let search = Scripted {
        delay: Duration::from_secs(60),
        ..Default::default()
    };
    let options = RunOptions {
        jobs: Some(1),
        ..RunOptions::default()
    };
    let mut h = start(plan(2, 1), search, options);
    h.until(is_state(1, RunnerState::Searching)).await;
    // The searching runner's request takes a minute; the queued one has no slot: both pause now
    // (the harness gives up after 20 s, so a pause that waited would fail here).
    h.commands.send(Command::Pause(Target::All)).await.unwrap();
    h.until(is_state(1, RunnerState::Paused)).await;
    h.until(is_state(2, RunnerState::Paused)).await;
    h.commands.send(Command::Cancel(Target::All)).await.unwrap();
    let (summary, _) = h.finish().await;
    assert!(summary.states.values().all(|s| *s == RunnerState::Skipped));
}

#[tokio::test(start_paused = true)]
async fn cancel_is_immediate() {
    let search = Scripted {
        delay: Duration::from_secs(30),
        ..Default::default()
    };
    let mut h = start(plan(2, 1), search, RunOptions::default());
    h.until(is_state(2, RunnerState::Searching)).await;
    // Virtual time: a runner that waited out its 30 s search would show here as 30 s.
    let t = tokio::time::Instant::now();
    h.commands.send(Command::Cancel(Target::All)).await.unwrap();
    let (summary, _) = h.finish().await;
    assert!(t.elapsed() < Duration::from_secs(5));
    assert_eq!(summary.states[&1], RunnerState::Skipped);
    assert_eq!(summary.states[&2], RunnerState::Skipped);
}

#[tokio::test]
async fn jobs_limit_bounds_concurrency() {
    let search = Scripted {
        delay: Duration::from_millis(40),
        ..Default::default()
    };
    let options = RunOptions {
        jobs: Some(2),
        ..Default::default()
    };
    let h = start(plan(6, 2), search, options);
    let search = h.search.clone();
    let (summary, events) = h.finish().await;
    assert!(summary.states.values().all(|s| *s == RunnerState::Review));
    assert_eq!(search.max_in_flight.load(Ordering::SeqCst), 2);
    // The run says once, for the whole run, that every PART has settled.
    let settled: Vec<&Event> = events.iter().filter(|e| e.what == What::Settled).collect();
    assert_eq!(settled.len(), 1, "{settled:?}");
    assert_eq!(settled[0].part, None);
    assert_eq!(settled[0].message, "every PART has settled: 6 review");
}

#[tokio::test]
async fn every_search_failing_fails_the_part_and_retry_resumes_it() {
    let search = Scripted {
        fail: AtomicBool::new(true),
        ..Default::default()
    };
    let options = RunOptions {
        exit_when_settled: false,
        ..Default::default()
    };
    let mut h = start(plan(1, 2), search, options);
    let failed = h.until(is_state(1, RunnerState::Failed)).await;
    assert!(
        failed.message.contains("all 2 searches failed") && failed.message.contains("HTTP 503"),
        "{}",
        failed.message
    );
    let said = h.until(|e| e.what == What::Settled).await;
    assert_eq!(said.message, "every PART has settled: 1 failed");
    h.search.fail.store(false, Ordering::SeqCst);
    h.commands.send(Command::Retry(1)).await.unwrap();
    let draft = h.until(|e| e.kind() == EventKind::Draft).await;
    assert_eq!(draft.part, Some(1));
    // New work settles again, and is said again.
    let again = h.until(|e| e.what == What::Settled).await;
    assert_eq!(again.message, "every PART has settled: 1 review");
    h.commands.send(Command::Shutdown).await.unwrap();
    let (summary, _) = h.finish().await;
    assert_eq!(summary.states[&1], RunnerState::Review);
}

#[tokio::test(start_paused = true)]
async fn a_runner_without_progress_is_reported_stalled_then_active_again() {
    let search = Scripted {
        delay: Duration::from_millis(900),
        ..Default::default()
    };
    let options = RunOptions {
        stall_after: Duration::from_millis(300),
        ..Default::default()
    };
    let mut h = start(plan(1, 1), search, options);
    let stalled = h.until(is_state(1, RunnerState::Stalled)).await;
    assert!(
        stalled.message.contains("no progress"),
        "{}",
        stalled.message
    );
    h.until(is_state(1, RunnerState::Searching)).await;
    let (summary, _) = h.finish().await;
    assert_eq!(summary.states[&1], RunnerState::Review);
}

struct Panics;

#[async_trait]
impl Search for Panics {
    fn name(&self) -> &str {
        "panics"
    }
    async fn search(&self, _: &str, _: usize, _: &LogSink) -> Result<Vec<Hit>, ResearchError> {
        panic!("a provider bug");
    }
}

#[tokio::test]
async fn a_panicking_runner_fails_its_part_and_the_run_still_ends() {
    let dir = tempfile::tempdir().unwrap();
    let providers = Providers {
        search: Arc::new(Panics),
        fetch: Arc::new(Echo),
        writer: Arc::new(ExtractiveWriter),
        description: "panics".into(),
    };
    let ctx = RunContext {
        plan: plan(2, 1),
        plan_path: dir.path().join("plan.md"),
        workspace: expanse::workspace::Workspace::new(dir.path()),
        providers,
        journal: Arc::new(Journal::open(&dir.path().join("j")).unwrap()),
        cache: Arc::new(Cache::new(&dir.path().join("cache"))),
    };
    let (tx, mut rx) = mpsc::channel(64);
    let (_c, handle) = runner::spawn(ctx, RunOptions::default(), tx);
    let mut errors = Vec::new();
    while let Some(e) = tokio::time::timeout(Duration::from_secs(20), rx.recv())
        .await
        .expect("the run ends")
    {
        if e.kind() == EventKind::Error {
            errors.push(e.message);
        }
    }
    let summary = handle.await.unwrap();
    assert_eq!(summary.count(RunnerState::Failed), 2);
    assert!(
        errors
            .iter()
            .all(|m| m.contains("the runner crashed: a provider bug")),
        "{errors:?}"
    );
}

/// A model server on 127.0.0.1 whose answer to section 2 streams slowly and that notes when a
/// client closes a stream before its end.
mod slow_model {
    use std::convert::Infallible;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use axum::Router;
    use axum::body::{Body, Bytes};
    use axum::extract::State;
    use axum::response::IntoResponse;
    use axum::routing::post;

    #[derive(Clone, Default)]
    pub struct Model {
        /// Section numbers asked for, in order.
        pub asked: Arc<Mutex<Vec<usize>>>,
        /// Streams the client closed before their end.
        pub closed_early: Arc<AtomicUsize>,
        /// Streams of section 2 open now.
        pub open_slow: Arc<AtomicUsize>,
        /// Streams sent to their end.
        pub completed: Arc<AtomicUsize>,
    }

    struct Watch {
        model: Model,
        slow: bool,
        finished: bool,
    }

    impl Drop for Watch {
        fn drop(&mut self) {
            if self.slow {
                self.model.open_slow.fetch_sub(1, Ordering::SeqCst);
            }
            if self.finished {
                self.model.completed.fetch_add(1, Ordering::SeqCst);
            } else {
                self.model.closed_early.fetch_add(1, Ordering::SeqCst);
            }
        }
    }

    async fn answer(State(m): State<Model>, body: Bytes) -> axum::response::Response {
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let prompt = v["messages"][1]["content"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let section: usize = prompt
            .lines()
            .find_map(|l| l.strip_prefix("## The section to write: "))
            .and_then(|l| l.split('.').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        m.asked.lock().unwrap().push(section);
        // The first time section 2 is asked, it streams for a minute; afterwards at once.
        let slow = section == 2 && m.asked.lock().unwrap().iter().filter(|s| **s == 2).count() == 1;
        if slow {
            m.open_slow.fetch_add(1, Ordering::SeqCst);
        }
        let watch = Watch {
            model: m.clone(),
            slow,
            finished: false,
        };
        let pieces = if slow { 600 } else { 3 };
        let stream = futures_util::stream::unfold((watch, 0usize), move |(mut w, i)| async move {
            if slow {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            let data = if i < pieces {
                serde_json::json!({"choices": [{"index": 0, "delta": {"content": format!("Part {i} of section {section} [1].\n")}, "finish_reason": null}]}).to_string()
            } else if i == pieces {
                serde_json::json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
                    .to_string()
            } else if i == pieces + 1 {
                "[DONE]".to_string()
            } else {
                w.finished = true;
                drop(w);
                return None;
            };
            let item: Result<Bytes, Infallible> = Ok(Bytes::from(format!("data: {data}\n\n")));
            Some((item, (w, i + 1)))
        });
        (
            [("content-type", "text/event-stream")],
            Body::from_stream(stream),
        )
            .into_response()
    }

    pub fn serve() -> (String, Model) {
        let model = Model::default();
        let app = Router::new()
            .route("/v1/chat/completions", post(answer))
            .with_state(model.clone());
        (format!("{}/v1", crate::common::serve(app)), model)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_mid_stream_closes_the_connection_and_resume_asks_only_that_section() {
    use expanse::research::http::{HttpClient, HttpOptions, OpenAiWriter, Redactor, WriterOptions};
    let (base, model) = slow_model::serve();
    let client = Arc::new(
        HttpClient::new(HttpOptions::default(), Redactor::new(Vec::<String>::new())).unwrap(),
    );
    let writer =
        OpenAiWriter::new(client, WriterOptions::new(&base, "test-model", None), None).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let plan = Plan::parse(
        "# P\n\n### PART 1: Create t/01-topic.md (~30 lines)\n\n- [ ] PART 1: Create t/01-topic.md\n\
         - [ ] Search: \"topic\"\n- [ ] Scrape top 1 results\n- [ ] Section 1: Overview (~10 lines)\n\
         - [ ] Section 2: Details (~10 lines)\n- [ ] Section 3: Uses (~10 lines)\n",
    );
    let providers = Providers {
        search: Arc::new(Scripted::default()),
        fetch: Arc::new(Echo),
        writer: Arc::new(writer),
        description: "slow model".into(),
    };
    let ctx = RunContext {
        plan,
        plan_path: dir.path().join("plan.md"),
        workspace: expanse::workspace::Workspace::new(dir.path()),
        providers,
        journal: Arc::new(Journal::open(&dir.path().join("j")).unwrap()),
        cache: Arc::new(Cache::new(&dir.path().join("cache"))),
    };
    let (tx, mut events) = mpsc::channel(256);
    let (commands, handle) = runner::spawn(ctx, RunOptions::default(), tx);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    // Sections 1 and 3 are written (the runner says so once they are journalled) while section
    // 2 is still streaming.
    let mut written = 0;
    while written < 2 {
        let e = tokio::time::timeout_at(deadline.into(), events.recv())
            .await
            .expect("sections 1 and 3 were never written")
            .unwrap();
        if e.message.contains("\" written:") {
            written += 1;
        }
    }
    assert_eq!(
        model.open_slow.load(Ordering::SeqCst),
        1,
        "section 2 is streaming"
    );
    // Keep the event channel flowing.
    let drain = tokio::spawn(async move { while events.recv().await.is_some() {} });
    commands
        .send(Command::Pause(Target::Part(1)))
        .await
        .unwrap();
    // The connection is closed at once (the stream would run for a minute otherwise).
    while model.closed_early.load(Ordering::SeqCst) == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the stream was never closed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(model.open_slow.load(Ordering::SeqCst), 0);
    let asked_while_paused = model.asked.lock().unwrap().len();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        model.asked.lock().unwrap().len(),
        asked_while_paused,
        "nothing new while paused"
    );
    commands
        .send(Command::Resume(Target::Part(1)))
        .await
        .unwrap();
    drop(commands);
    let summary = handle.await.unwrap();
    drain.abort();
    assert_eq!(summary.states[&1], RunnerState::Review);
    let mut asked = model.asked.lock().unwrap().clone();
    asked.sort();
    assert_eq!(
        asked,
        [1, 2, 2, 3],
        "only the section cut by the pause is asked again"
    );
}

#[tokio::test]
async fn a_reject_with_requeue_says_so_and_writes_the_part_again() {
    let options = RunOptions {
        exit_when_settled: false,
        ..Default::default()
    };
    let mut h = start(plan(1, 1), Scripted::default(), options);
    h.until(|e| e.kind() == EventKind::Draft).await;
    h.commands
        .send(Command::Reject {
            part: 1,
            reason: Some("too thin on memory".into()),
            requeue: true,
        })
        .await
        .unwrap();
    let rejected = h.until(is_state(1, RunnerState::Rejected)).await;
    assert_eq!(
        rejected.message,
        "rejected, written again with your reason: too thin on memory"
    );
    let again = h.until(|e| e.kind() == EventKind::Draft).await;
    assert_eq!(again.part, Some(1));
    h.commands.send(Command::Shutdown).await.unwrap();
    h.finish().await;
}

/// An approval made by another command while the run is live (the CLI's `review --approve`) is
/// shown as an approval, and a runner report still on its way does not undo it in the journal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_from_another_command_is_an_approval_for_the_run() {
    let options = RunOptions {
        exit_when_settled: false,
        ..Default::default()
    };
    let text = plan_text(1, 1);
    let mut h = start(Plan::parse(&text), Scripted::default(), options);
    let dir = h._dir.path().to_path_buf();
    std::fs::write(dir.join("plan.md"), &text).unwrap();
    h.until(|e| e.kind() == EventKind::Draft).await;
    // Another process: its own journal handle on the same files, as the CLI has.
    let journal = Arc::new(Journal::open(&dir.join("j")).unwrap());
    let review = expanse::review::Review::new(
        expanse::workspace::Workspace::new(&dir),
        dir.join("plan.md"),
        journal.clone(),
    );
    review.approve(1, chrono::Local::now()).unwrap();
    // The run's watcher sees the plan ticked.
    h.commands
        .send(Command::UpdatePlan(Box::new(Plan::parse(
            &std::fs::read_to_string(dir.join("plan.md")).unwrap(),
        ))))
        .await
        .unwrap();
    let approved = h.until(is_state(1, RunnerState::Approved)).await;
    assert_eq!(approved.message, "approved from another command");
    // A report the runner sent before the approval, journalled after it, changes nothing.
    journal
        .append(&expanse::journal::Record::State {
            ts: "2026-01-01T00:00:00+00:00".into(),
            part: 1,
            state: RunnerState::Review,
            message: None,
            cause: None,
        })
        .unwrap();
    assert_eq!(
        journal.status(1).unwrap().unwrap().state,
        Some(RunnerState::Approved)
    );
    h.commands.send(Command::Shutdown).await.unwrap();
    h.finish().await;
}

#[tokio::test(start_paused = true)]
async fn a_persons_pause_keeps_the_run_open_and_a_run_with_nothing_to_do_says_nothing() {
    let search = Scripted {
        delay: Duration::from_millis(400),
        ..Default::default()
    };
    let options = RunOptions {
        exit_when_settled: false,
        ..Default::default()
    };
    let mut h = start(plan(2, 2), search, options);
    h.until(is_state(1, RunnerState::Searching)).await;
    h.commands
        .send(Command::Pause(Target::Part(1)))
        .await
        .unwrap();
    // PART 2 settles while PART 1 is held: the run is not finished, nothing says it is.
    let mut seen = Vec::new();
    loop {
        let e = h.until(|_| true).await;
        assert_ne!(
            e.what,
            What::Settled,
            "said while PART 1 was paused: {seen:?}"
        );
        let done = e.part == Some(2) && e.state_now() == Some(RunnerState::Review);
        seen.push(e);
        if done {
            break;
        }
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert!(
        h.events.try_recv().is_err(),
        "nothing more while PART 1 is paused"
    );
    h.commands
        .send(Command::Resume(Target::Part(1)))
        .await
        .unwrap();
    let said = h.until(|e| e.what == What::Settled).await;
    assert_eq!(said.message, "every PART has settled: 2 review");
    h.commands.send(Command::Shutdown).await.unwrap();
    h.finish().await;

    // Every PART ticked in the plan: nothing to do, and nothing is said.
    let ticked = plan_text(2, 1).replace("- [ ] PART", "- [x] PART");
    let h = start(
        Plan::parse(&ticked),
        Scripted::default(),
        RunOptions::default(),
    );
    let (summary, events) = h.finish().await;
    assert!(summary.states.values().all(|s| *s == RunnerState::Done));
    assert!(events.iter().all(|e| e.what != What::Settled), "{events:?}");
}
