//! The thin IO driver of one runner: executes the machine's actions against providers, cache and
//! journal. Pause takes effect at once in every state: a request in flight is dropped (its
//! connection closed) and only it is done again on resume; finished work is never repeated.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use futures_util::StreamExt as _;
use futures_util::stream::FuturesUnordered;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, watch};
use tokio_util::sync::CancellationToken;

use super::budget::{Budget, Ticket};
use super::event::{Counts, Event, Level};
use super::machine::{self, Action, Progress};
use crate::draft::{self, Draft, DraftSection, SourceRef};
use crate::journal::{Cache, FinishedSection, Journal, Record};
use crate::plan::{Part, Section};
use crate::research::sections::{self, Assigned, SectionQuery, SourcePassage};
use crate::research::{Hit, Providers, ResearchError, SectionRequest, Source, Written};
use crate::state::{RunnerState, now};
use crate::words::{human_bytes, plural};

/// Sections of one PART written at once (the model server's own limit applies on top).
mod writing;
use writing::*;

pub const SECTIONS_AT_ONCE: usize = 4;

/// Everything one runner needs.
pub struct RunnerCtx {
    /// The PART to run.
    pub part: Part,
    /// The plan's title, for the writer.
    pub plan_title: Option<String>,
    /// The providers.
    pub providers: Providers,
    /// The plan's journal.
    pub journal: Arc<Journal>,
    /// The search/page cache.
    pub cache: Arc<Cache>,
    /// The knowledge base root.
    pub knowledge: PathBuf,
    /// Where events go (the supervisor).
    pub events: mpsc::Sender<Event>,
    /// `true` while the user has this runner paused.
    pub pause: watch::Receiver<bool>,
    /// Cancels the runner at once.
    pub cancel: CancellationToken,
    /// A reviewer's reason for writing again (a rejection with requeue, or a regeneration).
    pub feedback: Option<String>,
    /// Write only this section again (0-based), keeping the others' bytes.
    pub only_section: Option<usize>,
    /// Runner slots: a runner holds one while it works, not while paused.
    pub permits: Arc<Semaphore>,
    /// The plan's model budget.
    pub budget: Arc<Budget>,
    /// Sections an earlier run finished and journalled (kept, never asked again).
    pub resume: BTreeMap<usize, FinishedSection>,
    /// The most one page may take, retries included.
    pub page_deadline: std::time::Duration,
    /// Which sites may be fetched, and which first.
    pub sources: crate::sources::SourcePolicy,
    /// A person's notes, as they stand when each section starts (`m`, `expanse steer`).
    pub notes: Arc<std::sync::Mutex<Vec<String>>>,
}

/// How a runner ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A draft awaits review.
    Review,
    /// It failed, with the reason.
    Failed(String),
    /// It was cancelled.
    Cancelled,
    /// The model budget is reached; finished sections are kept, the rest waits for more budget.
    BudgetPaused(String),
}

/// Why work stopped before it finished.
enum Stop {
    /// The run is ending.
    Cancelled,
    /// The user paused the runner: redo only what was in flight, after resume.
    Paused,
}

impl RunnerCtx {
    async fn emit(&self, event: Event) {
        // The supervisor outlives its runners; a closed channel only means the run is ending.
        // A cancelled runner never waits on a full channel: it has nothing more to say.
        tokio::select! {
            _ = self.cancel.cancelled() => {}
            _ = self.events.send(event) => {}
        }
    }

    async fn log(&self, level: Level, message: impl Into<String>) {
        self.emit(Event::log(Some(self.part.number), level, message))
            .await;
    }

    /// Wait until the runner may work: not paused, holding a slot. A paused runner gives its
    /// slot back so another PART can use it.
    async fn ready(&mut self, permit: &mut Option<OwnedSemaphorePermit>) -> Result<(), Stop> {
        loop {
            if self.cancel.is_cancelled() {
                return Err(Stop::Cancelled);
            }
            if *self.pause.borrow() {
                permit.take();
                tokio::select! {
                    _ = self.cancel.cancelled() => return Err(Stop::Cancelled),
                    changed = self.pause.changed() => if changed.is_err() {
                        return Err(Stop::Cancelled);
                    },
                }
                continue;
            }
            if permit.is_some() {
                return Ok(());
            }
            let permits = self.permits.clone();
            tokio::select! {
                _ = self.cancel.cancelled() => return Err(Stop::Cancelled),
                changed = self.pause.changed() => if changed.is_err() {
                    return Err(Stop::Cancelled);
                },
                p = permits.acquire_owned() => match p {
                    Ok(p) => *permit = Some(p),
                    Err(_) => return Err(Stop::Cancelled),
                },
            }
        }
    }

    /// Run `fut` unless the runner is cancelled or paused first; then `fut` is dropped, which
    /// closes its connection.
    async fn interruptible<T>(&self, fut: impl std::future::Future<Output = T>) -> Result<T, Stop> {
        let mut pause = self.pause.clone();
        tokio::select! {
            biased;
            _ = self.cancel.cancelled() => Err(Stop::Cancelled),
            _ = pause.wait_for(|p| *p) => Err(Stop::Paused),
            v = fut => Ok(v),
        }
    }

    /// `result`'s value, or the stop it carries; a pause is first said in the log (`said`: what
    /// is kept and what is asked again on resume).
    async fn unless_stopped<T>(
        &self,
        result: Result<T, Stop>,
        said: impl FnOnce() -> String,
    ) -> Result<T, Stop> {
        if let Err(Stop::Paused) = &result {
            self.log(Level::Info, said()).await;
        }
        result
    }
}

/// Run one PART from where its journal and cache leave it to a draft awaiting review.
pub async fn run_part(mut ctx: RunnerCtx) -> Outcome {
    let mut permit = None;
    // What it has done outlives a pause: a resumed runner goes on from the step it was on, and
    // only the work in flight when it paused is done again.
    let mut progress = Progress::default();
    let mut state = RunnerState::Queued;
    loop {
        match drive(&mut ctx, &mut permit, &mut progress, &mut state).await {
            Ok(outcome) => return outcome,
            Err(Stop::Cancelled) => return Outcome::Cancelled,
            Err(Stop::Paused) => continue,
        }
    }
}

/// The planned sections, or one covering the whole file when the plan names none.
fn planned_sections(part: &Part) -> Vec<Section> {
    if part.sections.is_empty() {
        vec![Section {
            title: "Overview".into(),
            hint: None,
            lines: part.expected_lines,
        }]
    } else {
        part.sections.clone()
    }
}

async fn drive(
    ctx: &mut RunnerCtx,
    permit: &mut Option<OwnedSemaphorePermit>,
    progress: &mut Progress,
    state: &mut RunnerState,
) -> Result<Outcome, Stop> {
    let n = ctx.part.number;
    let planned = machine::planned_searches(&ctx.part);
    let limit = machine::search_limit(&ctx.part);
    loop {
        ctx.ready(permit).await?;
        let action = machine::next_action(&ctx.part, progress);
        let next = action.state();
        if next != *state && next != RunnerState::Failed {
            *state = next;
            ctx.emit(Event::state(n, next, "")).await;
        }
        match action {
            Action::Check => {
                let root = ctx.knowledge.clone();
                let part = ctx.part.clone();
                let existing = match ctx
                    .interruptible(tokio::task::spawn_blocking(move || {
                        crate::knowledge::scan(&root, &part)
                    }))
                    .await
                {
                    Ok(r) => r.unwrap_or_default(),
                    Err(stop) => return Err(stop),
                };
                let lines: usize = existing.files.iter().map(|f| f.matches.len()).sum();
                ctx.log(
                    Level::Info,
                    format!(
                        "checked the base: {}, {}{}{}",
                        plural(existing.files.len(), "file"),
                        plural(lines, "matching line"),
                        match &existing.target {
                            Some(t) => format!(
                                "; {} exists ({}): this PART grows it, keeping every line",
                                ctx.part.target,
                                plural(t.lines, "line")
                            ),
                            None => String::new(),
                        },
                        if existing.gaps.is_empty() {
                            String::new()
                        } else {
                            format!("; gap: {}", existing.gaps.join("; "))
                        }
                    ),
                )
                .await;
                let analysis = draft::gap_analysis(&existing);
                if !analysis.is_empty() {
                    ctx.log(
                        Level::Info,
                        format!("planned sections: {}", analysis.join("; ")),
                    )
                    .await;
                }
                progress.existing = Some(existing);
            }
            Action::Search(i) => {
                let query = planned[i].query.clone();
                progress.searches.resize(planned.len(), None);
                let step = Some([i + 1, planned.len()]);
                let counts = Counts {
                    step,
                    ..Counts::default()
                };
                let (result, how) = ctx
                    .unless_stopped(search(ctx, &query, limit).await, || {
                        format!("paused: the search \"{query}\" is asked again on resume")
                    })
                    .await?;
                let event = match &result {
                    Ok(hits) => Event::counted(
                        Some(n),
                        Level::Info,
                        format!("search \"{query}\" → {}{how}", plural(hits.len(), "hit")),
                        Counts {
                            hits: Some(hits.len()),
                            ..counts
                        },
                    ),
                    Err(e) => Event::counted(
                        Some(n),
                        Level::Warn,
                        format!("search \"{query}\" failed: {e}"),
                        counts,
                    ),
                };
                ctx.emit(event).await;
                progress.searches[i] = Some(result);
            }
            Action::PlanFetches => {
                let hits = machine::search_hits(progress);
                let fetch_plan = machine::plan_fetches_within(
                    &planned,
                    &hits,
                    machine::top_n(&ctx.part),
                    &ctx.sources,
                );
                for (url, rule, glob) in &fetch_plan.skipped {
                    let why = match rule {
                        crate::sources::Rule::Deny => format!("deny {glob}"),
                        crate::sources::Rule::Only => format!("only {glob}"),
                        crate::sources::Rule::Prefer => format!("prefer {glob}"),
                    };
                    ctx.log(
                        Level::Info,
                        format!("skip {url}: the source rule \"{why}\" leaves it out"),
                    )
                    .await;
                }
                let urls = fetch_plan.urls;
                if urls.is_empty() {
                    ctx.log(Level::Warn, "the searches found nothing to scrape")
                        .await;
                }
                progress.pages = vec![None; urls.len()];
                progress.fetches = Some(urls);
            }
            Action::Fetch(_) => fetch_pending(ctx, progress).await?,
            Action::Write => return write(ctx, progress).await,
            Action::Fail(reason) => return Ok(Outcome::Failed(reason)),
        }
    }
}

/// One search, from the cache when it holds it; the result and how it was got (`(cached)` or
/// `in N ms`). A fresh result is cached and journalled.
async fn search(
    ctx: &RunnerCtx,
    query: &str,
    limit: usize,
) -> Result<(Result<Vec<Hit>, ResearchError>, String), Stop> {
    let n = ctx.part.number;
    let key = ctx.providers.search.cache_key();
    if let Some(hits) = ctx.cache.search(&key, query, limit) {
        return Ok((Ok(hits), " (cached)".into()));
    }
    let search = ctx.providers.search.clone();
    let sink = log_sink(&ctx.events, n);
    let result = ctx
        .interruptible(search.search(query, limit, &sink))
        .await?;
    // The provider's own log line says how long the server took and how long it waited.
    let how = String::new();
    let Ok(hits) = result else {
        return Ok((result, how));
    };
    if let Err(e) = ctx.cache.put_search(&key, query, limit, &hits) {
        ctx.log(Level::Warn, format!("could not cache search results: {e}"))
            .await;
    }
    let _ = ctx.journal.append(&Record::Searched {
        ts: now(),
        part: n,
        query: query.to_string(),
        hits: hits.len(),
    });
    Ok((Ok(hits), how))
}

/// Pages of one PART fetched at once (each site's own limits still apply in the HTTP client):
/// a slow page no longer holds the others up.
pub const PAGES_AT_ONCE: usize = 4;

/// The most one page may take, every retry included: a server that trickles its body is left
/// out rather than holding its PART for minutes.
pub const PAGE_DEADLINE: std::time::Duration = std::time::Duration::from_secs(60);

/// Fetch every planned page not fetched yet, [`PAGES_AT_ONCE`] at a time. A pause drops the
/// fetches in flight; pages already fetched are kept and only the others are fetched on resume.
async fn fetch_pending(ctx: &RunnerCtx, progress: &mut Progress) -> Result<(), Stop> {
    let urls = progress.fetches.clone().unwrap_or_default();
    let total = progress.pages.len();
    let mut pending: VecDeque<usize> = (0..total)
        .filter(|&i| progress.pages[i].is_none())
        .collect();
    let fetched = std::sync::atomic::AtomicUsize::new(
        progress
            .pages
            .iter()
            .filter(|p| matches!(p, Some(Ok(_))))
            .count(),
    );
    let mut running = FuturesUnordered::new();
    loop {
        while running.len() < PAGES_AT_ONCE
            && let Some(i) = pending.pop_front()
        {
            let url = urls.get(i).cloned().unwrap_or_default();
            let fetched = &fetched;
            running.push(async move { (i, fetch_one(ctx, &url, i, total, fetched).await) });
        }
        let Some((i, result)) = ctx.interruptible(running.next()).await? else {
            return Ok(());
        };
        let page = ctx
            .unless_stopped(result, || {
                format!(
                    "paused: {} fetched are kept; the rest are fetched on resume",
                    plural(fetched.load(std::sync::atomic::Ordering::SeqCst), "page")
                )
            })
            .await?;
        progress.pages[i] = Some(page);
    }
}

/// Fetch page `i` of `total` at `url` (from the cache when it holds it), saying how it went.
async fn fetch_one(
    ctx: &RunnerCtx,
    url: &str,
    i: usize,
    total: usize,
    fetched: &std::sync::atomic::AtomicUsize,
) -> Result<Result<crate::research::Page, ResearchError>, Stop> {
    use std::sync::atomic::Ordering;
    let n = ctx.part.number;
    let provider = ctx.providers.fetch.name().to_string();
    let key = ctx.providers.fetch.cache_key(url);
    let step = Some([i + 1, total]);
    let fetch_log = |level, message: String| {
        let done = if level == Level::Info {
            fetched.fetch_add(1, Ordering::SeqCst) + 1
        } else {
            fetched.load(Ordering::SeqCst)
        };
        let counts = Counts {
            step,
            sources: Some(done),
            ..Counts::default()
        };
        Event::counted(Some(n), level, message, counts)
    };
    if let Some(page) = ctx.cache.page(&key, url) {
        ctx.emit(fetch_log(
            Level::Info,
            format!("fetch {url} → {} (cached)", human_bytes(page.content.len())),
        ))
        .await;
        return Ok(Ok(page));
    }
    if let Some(reason) = ctx.cache.unreadable(&key, url) {
        let e = ResearchError::Unreadable {
            provider: provider.clone(),
            url: url.to_string(),
            reason,
        };
        ctx.emit(fetch_log(
            Level::Warn,
            format!("fetch {url} failed: {e} (cached)"),
        ))
        .await;
        return Ok(Err(e));
    }
    let fetch = ctx.providers.fetch.clone();
    let sink = log_sink(&ctx.events, n);
    let bounded = async {
        match tokio::time::timeout(ctx.page_deadline, fetch.fetch(url, &sink)).await {
            Ok(r) => r,
            Err(_) => Err(ResearchError::Provider {
                provider: provider.clone(),
                message: format!(
                    "{url} took over {} s in all (a slow or trickling server; [fetch] page_deadline_secs); left out",
                    ctx.page_deadline.as_secs()
                ),
            }),
        }
    };
    let result = ctx.interruptible(bounded).await?;
    match result {
        Ok(page) => {
            if let Err(e) = ctx.cache.put_page(&key, &page) {
                ctx.log(Level::Warn, format!("could not cache page: {e}"))
                    .await;
            }
            let _ = ctx.journal.append(&Record::Fetched {
                ts: now(),
                part: n,
                url: url.to_string(),
                bytes: page.content.len(),
            });
            ctx.emit(fetch_log(
                Level::Info,
                format!("fetch {url} → ok, {}", human_bytes(page.content.len())),
            ))
            .await;
            Ok(Ok(page))
        }
        Err(e) => {
            if let ResearchError::Unreadable { reason, .. } = &e
                && let Err(io) = ctx.cache.put_unreadable(&key, url, reason)
            {
                ctx.log(Level::Warn, format!("could not cache the failure: {io}"))
                    .await;
            }
            ctx.emit(fetch_log(Level::Warn, format!("fetch {url} failed: {e}")))
                .await;
            Ok(Err(e))
        }
    }
}

/// A provider's log lines as events of this PART. Best effort: when the front end lags, a
/// dropped line loses nothing (the journal and cache hold what matters).
fn log_sink(events: &mpsc::Sender<Event>, part: u32) -> impl Fn(&str) + Send + Sync + use<> {
    let events = events.clone();
    move |line: &str| {
        let _ = events.try_send(Event::log(Some(part), Level::Info, line.to_string()));
    }
}

/// A section's streamed text turned into sampled progress events: at most one per 250 ms, the
/// first 250 ms after the section started (a section written at once, as the extractive writer
/// does, has only its "written" line), saying which section and how many lines so far (never
/// the text itself).
struct StreamProgress {
    events: mpsc::Sender<Event>,
    part: u32,
    label: String,
    state: std::sync::Mutex<StreamState>,
}

#[derive(Default)]
struct StreamState {
    lines: usize,
    last_sent: Option<Instant>,
}

impl StreamProgress {
    fn new(events: mpsc::Sender<Event>, part: u32, k: usize, of: usize, title: String) -> Self {
        StreamProgress {
            events,
            part,
            label: format!("section {}/{of} \"{title}\"", k + 1),
            state: std::sync::Mutex::new(StreamState {
                lines: 0,
                last_sent: Some(Instant::now()),
            }),
        }
    }

    fn push(&self, piece: &str) {
        self.push_at(piece, Instant::now());
    }

    fn push_at(&self, piece: &str, now: Instant) {
        // The lock is only ever held here, never across an await.
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        st.lines += piece.matches('\n').count();
        if st
            .last_sent
            .is_some_and(|t| now.saturating_duration_since(t).as_millis() < 250)
        {
            return;
        }
        st.last_sent = Some(now);
        let _ = self.events.try_send(Event::progress(
            self.part,
            format!(
                "writing {}: {} so far",
                self.label,
                plural(st.lines, "line")
            ),
            Counts::default(),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn messages(rx: &mut mpsc::Receiver<Event>) -> Vec<String> {
        std::iter::from_fn(|| rx.try_recv().ok())
            .map(|e| e.message)
            .collect()
    }

    #[test]
    fn progress_waits_a_quarter_second_then_samples() {
        let (tx, mut rx) = mpsc::channel(16);
        let p = StreamProgress::new(tx, 3, 0, 2, "Stages".into());
        let t0 = p.state.lock().unwrap().last_sent.unwrap();
        // A whole section at once (the extractive writer): no progress line before "written".
        p.push_at("a\nb\nc\n", t0 + Duration::from_millis(5));
        assert!(messages(&mut rx).is_empty());
        // A slow stream: the first line after 250 ms, then at most one per 250 ms.
        p.push_at("d\n", t0 + Duration::from_millis(300));
        p.push_at("e\n", t0 + Duration::from_millis(400));
        p.push_at("f\n", t0 + Duration::from_millis(600));
        assert_eq!(
            messages(&mut rx),
            vec![
                "writing section 1/2 \"Stages\": 4 lines so far",
                "writing section 1/2 \"Stages\": 6 lines so far",
            ]
        );
    }
}
