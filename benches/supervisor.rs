//! The supervisor's overhead per PART: 1,000 PARTs through check, search, fetch and write on
//! instant in-memory providers, with the real journal and cache on disk; and how long a pause,
//! then a resume, of every PART of a 20,000-PART run takes to be said for each.

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use criterion::{Criterion, criterion_group, criterion_main};
use expanse::journal::{Cache, Journal};
use expanse::plan::Plan;
use expanse::research::{
    Fetch, Hit, LogSink, Page, Providers, ResearchError, Search, SectionRequest, Writer, Written,
};
use expanse::runner::{self, RunContext, RunOptions, RunnerState};
use tokio::sync::mpsc;

struct Instant0;

#[async_trait]
impl Search for Instant0 {
    fn name(&self) -> &str {
        "instant"
    }
    async fn search(&self, query: &str, _: usize, _: &LogSink) -> Result<Vec<Hit>, ResearchError> {
        Ok(vec![Hit {
            url: format!("mem://{query}"),
            title: query.into(),
            snippet: String::new(),
        }])
    }
}

#[async_trait]
impl Fetch for Instant0 {
    fn name(&self) -> &str {
        "instant"
    }
    async fn fetch(&self, url: &str, _: &LogSink) -> Result<Page, ResearchError> {
        Ok(Page {
            url: url.into(),
            title: url.into(),
            content: "A short page.".into(),
        })
    }
}

#[async_trait]
impl Writer for Instant0 {
    fn name(&self) -> &str {
        "instant"
    }
    async fn write_section(
        &self,
        r: &SectionRequest,
        _: &LogSink,
        _: &LogSink,
    ) -> Result<Written, ResearchError> {
        Ok(Written {
            body: format!("A fact about {}. [1]\n", r.part.target),
            usage: None,
        })
    }
}

fn plan(parts: usize) -> Plan {
    let mut s = String::from("# Bench\n\n");
    for n in 1..=parts {
        s.push_str(&format!("### PART {n}: Create b/{n}.md\n\n- [ ] PART {n}: Create b/{n}.md\n- [ ] Search: \"topic {n}\"\n- [ ] Scrape top 1 results\n- [ ] Section 1: A (~5 lines)\n\n"));
    }
    Plan::parse(&s)
}

/// A run of `parts` PARTs with its state in `dir`, searching with `search` and fetching and
/// writing at once.
fn context(parts: usize, dir: &std::path::Path, search: Arc<dyn Search>) -> RunContext {
    let p = Arc::new(Instant0);
    RunContext {
        plan: plan(parts),
        plan_path: dir.join("plan.md"),
        workspace: expanse::workspace::Workspace::new(dir),
        providers: Providers {
            search,
            fetch: p.clone(),
            writer: p,
            description: String::new(),
        },
        journal: Arc::new(Journal::open(&dir.join("j")).unwrap()),
        cache: Arc::new(Cache::new(&dir.join("cache"))),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// One full run of `parts` PARTs with its state under `base`; returns the wall time.
fn run(parts: usize, base: &std::path::Path) -> std::time::Duration {
    let dir = tempfile::tempdir_in(base).unwrap();
    let ctx = context(parts, dir.path(), Arc::new(Instant0));
    let rt = runtime();
    let start = Instant::now();
    let summary = rt.block_on(async move {
        let (tx, mut rx) = mpsc::channel(1024);
        let (_c, handle) = runner::spawn(ctx, RunOptions::default(), tx);
        while rx.recv().await.is_some() {}
        handle.await.unwrap()
    });
    let took = start.elapsed();
    assert_eq!(summary.count(RunnerState::Review), parts);
    took
}

/// A search that never answers: its runner stays at work until it is stopped.
struct Never;

#[async_trait]
impl Search for Never {
    fn name(&self) -> &str {
        "never"
    }
    async fn search(&self, _: &str, _: usize, _: &LogSink) -> Result<Vec<Hit>, ResearchError> {
        std::future::pending().await
    }
}

/// Until `parts` events have said `word`.
async fn said(rx: &mut mpsc::Receiver<runner::Event>, word: &str, parts: usize) {
    let mut n = 0;
    while n < parts {
        if rx.recv().await.unwrap().message == word {
            n += 1;
        }
    }
}

/// A run of `parts` PARTs (64 at work, the rest queued) paused and resumed whole: the time from
/// each command until every PART has said it.
fn pause_all(parts: usize) -> (std::time::Duration, std::time::Duration) {
    use expanse::runner::{Command, Target};
    let dir = tempfile::tempdir_in("/dev/shm").unwrap_or_else(|_| tempfile::tempdir().unwrap());
    let ctx = context(parts, dir.path(), Arc::new(Never));
    let rt = runtime();
    rt.block_on(async move {
        let (tx, mut rx) = mpsc::channel(1024);
        let (commands, handle) = runner::spawn(ctx, RunOptions::default(), tx);
        let mut searching = 0;
        // Every runner at work, 64 unless --jobs says otherwise.
        while searching < 64 {
            let e = rx.recv().await.unwrap();
            if e.state_now() == Some(RunnerState::Searching) {
                searching += 1;
            }
        }
        let t = Instant::now();
        commands.send(Command::Pause(Target::All)).await.unwrap();
        said(&mut rx, "paused by you", parts).await;
        let paused = t.elapsed();
        let t = Instant::now();
        commands.send(Command::Resume(Target::All)).await.unwrap();
        said(&mut rx, "resumed", parts).await;
        let resumed = t.elapsed();
        commands.send(Command::Shutdown).await.unwrap();
        while rx.recv().await.is_some() {}
        handle.await.unwrap();
        (paused, resumed)
    })
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("supervisor");
    g.sample_size(10);
    // On disk the figure includes the journal's fsyncs (a draft is fsynced before it counts);
    // on tmpfs (/dev/shm) what remains is the supervisor's and runners' own overhead.
    let disk = std::env::temp_dir();
    let shm = std::path::Path::new("/dev/shm");
    g.bench_function("1000 PARTs on instant providers, state on disk", |b| {
        b.iter(|| run(1000, &disk))
    });
    if shm.is_dir() {
        g.bench_function("1000 PARTs on instant providers, state on tmpfs", |b| {
            b.iter(|| run(1000, shm))
        });
    }
    g.finish();
    for (name, base) in [("disk", disk.as_path()), ("tmpfs", shm)] {
        if base.is_dir() {
            let t = run(1000, base);
            println!(
                "supervisor ({name}): 1000 PARTs in {t:?} = {:.3} ms per PART",
                t.as_secs_f64()
            );
        }
    }
    let (paused, resumed) = pause_all(20_000);
    println!(
        "supervisor: pause every PART of 20000 (64 at work): {paused:?}; resume every one: {resumed:?}"
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
