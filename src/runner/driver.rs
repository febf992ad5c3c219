//! The thin IO driver of one runner: executes the machine's actions against providers, cache and journal.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use super::event::{Event, Level};
use super::machine::{self, Action, Progress};
use crate::draft::{self, Draft, SourceRef};
use crate::journal::{Cache, Journal, Record};
use crate::plan::Part;
use crate::research::{Providers, Source, WriteRequest};
use crate::state::RunnerState;

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
    /// A reviewer's reason for rejecting the previous draft.
    pub feedback: Option<String>,
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
}

struct Cancelled;

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

    /// Wait here while paused; the in-flight request already finished, nothing new starts.
    async fn gate(&mut self, current: RunnerState) -> Result<(), Cancelled> {
        if !*self.pause.borrow() {
            return Ok(());
        }
        let n = self.part.number;
        self.emit(Event::state(
            n,
            RunnerState::Paused,
            format!("paused before {current}"),
        ))
        .await;
        loop {
            tokio::select! {
                _ = self.cancel.cancelled() => return Err(Cancelled),
                changed = self.pause.changed() => {
                    if changed.is_err() || !*self.pause.borrow() {
                        break;
                    }
                }
            }
        }
        self.emit(Event::state(n, current, "resumed")).await;
        Ok(())
    }

    /// Run `fut` unless cancelled first.
    async fn or_cancel<T>(
        &self,
        fut: impl std::future::Future<Output = T>,
    ) -> Result<T, Cancelled> {
        tokio::select! {
            _ = self.cancel.cancelled() => Err(Cancelled),
            v = fut => Ok(v),
        }
    }
}

/// Run one PART from where its journal and cache leave it to a draft awaiting review.
pub async fn run_part(mut ctx: RunnerCtx) -> Outcome {
    match drive(&mut ctx).await {
        Ok(outcome) => outcome,
        Err(Cancelled) => Outcome::Cancelled,
    }
}

async fn drive(ctx: &mut RunnerCtx) -> Result<Outcome, Cancelled> {
    let n = ctx.part.number;
    let planned = machine::planned_searches(&ctx.part);
    let limit = machine::search_limit(&ctx.part);
    let mut progress = Progress::default();
    let mut state = RunnerState::Queued;
    loop {
        if ctx.cancel.is_cancelled() {
            return Err(Cancelled);
        }
        let action = machine::next_action(&ctx.part, &progress);
        let next = action.state();
        ctx.gate(if state == RunnerState::Queued {
            next
        } else {
            state
        })
        .await?;
        if next != state && next != RunnerState::Failed {
            state = next;
            ctx.emit(Event::state(n, state, "")).await;
        }
        match action {
            Action::Check => {
                let root = ctx.knowledge.clone();
                let part = ctx.part.clone();
                let existing = ctx
                    .or_cancel(tokio::task::spawn_blocking(move || {
                        crate::knowledge::scan(&root, &part)
                    }))
                    .await?
                    .unwrap_or_default();
                let lines: usize = existing.files.iter().map(|f| f.matches.len()).sum();
                ctx.log(
                    Level::Info,
                    format!(
                        "checked the base: {} files, {} matching lines{}",
                        existing.files.len(),
                        lines,
                        if existing.gaps.is_empty() {
                            String::new()
                        } else {
                            format!("; gap: {}", existing.gaps.join("; "))
                        }
                    ),
                )
                .await;
                progress.existing = Some(existing);
            }
            Action::Search(i) => {
                let query = planned[i].query.clone();
                progress.searches.resize(planned.len(), None);
                let step = Some([i + 1, planned.len()]);
                let (result, how) = search(ctx, &query, limit).await?;
                let event = match &result {
                    Ok(hits) => Event {
                        hits: Some(hits.len()),
                        ..Event::log(
                            Some(n),
                            Level::Info,
                            format!("search \"{query}\" → {} hits {how}", hits.len()),
                        )
                    },
                    Err(e) => Event::log(
                        Some(n),
                        Level::Warn,
                        format!("search \"{query}\" failed: {e}"),
                    ),
                };
                ctx.emit(Event { step, ..event }).await;
                progress.searches[i] = Some(result);
            }
            Action::PlanFetches => {
                let hits = machine::search_hits(&progress);
                let urls = machine::plan_fetches(&planned, &hits, machine::top_n(&ctx.part));
                if urls.is_empty() {
                    ctx.log(Level::Warn, "the searches found nothing to scrape")
                        .await;
                }
                progress.pages = vec![None; urls.len()];
                progress.fetches = Some(urls);
            }
            Action::Fetch(i) => {
                let url = progress
                    .fetches
                    .as_ref()
                    .map(|f| f[i].clone())
                    .unwrap_or_default();
                let provider = ctx.providers.fetch.name().to_string();
                let step = Some([i + 1, progress.pages.len()]);
                let fetched = progress
                    .pages
                    .iter()
                    .filter(|p| matches!(p, Some(Ok(_))))
                    .count();
                let fetch_log = |level, message: String| Event {
                    step,
                    sources: Some(fetched + usize::from(level == Level::Info)),
                    ..Event::log(Some(n), level, message)
                };
                if let Some(page) = ctx.cache.page(&provider, &url) {
                    ctx.emit(fetch_log(
                        Level::Info,
                        format!("fetch {url} → {} (cached)", size(page.content.len())),
                    ))
                    .await;
                    progress.pages[i] = Some(Ok(page));
                    continue;
                }
                let started = Instant::now();
                let fetch = ctx.providers.fetch.clone();
                let sink = log_sink(&ctx.events, n);
                let result = ctx.or_cancel(fetch.fetch(&url, &sink)).await?;
                let ms = started.elapsed().as_millis();
                match result {
                    Ok(page) => {
                        if let Err(e) = ctx.cache.put_page(&provider, &page) {
                            ctx.log(Level::Warn, format!("could not cache page: {e}"))
                                .await;
                        }
                        let _ = ctx.journal.append(&Record::Fetched {
                            ts: crate::state::now(),
                            part: n,
                            url: url.clone(),
                            bytes: page.content.len(),
                        });
                        ctx.emit(fetch_log(
                            Level::Info,
                            format!("fetch {url} → ok, {} in {ms} ms", size(page.content.len())),
                        ))
                        .await;
                        progress.pages[i] = Some(Ok(page));
                    }
                    Err(e) => {
                        ctx.emit(fetch_log(Level::Warn, format!("fetch {url} failed: {e}")))
                            .await;
                        progress.pages[i] = Some(Err(e.to_string()));
                    }
                }
            }
            Action::Write => return write(ctx, &progress).await,
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
) -> Result<(Result<Vec<crate::research::Hit>, String>, String), Cancelled> {
    let n = ctx.part.number;
    let provider = ctx.providers.search.name().to_string();
    if let Some(hits) = ctx.cache.search(&provider, query, limit) {
        return Ok((Ok(hits), "(cached)".into()));
    }
    let started = Instant::now();
    let search = ctx.providers.search.clone();
    let sink = log_sink(&ctx.events, n);
    let result = ctx.or_cancel(search.search(query, limit, &sink)).await?;
    let how = format!("in {} ms", started.elapsed().as_millis());
    let Ok(hits) = result else {
        return Ok((result.map_err(|e| e.to_string()), how));
    };
    if let Err(e) = ctx.cache.put_search(&provider, query, limit, &hits) {
        ctx.log(Level::Warn, format!("could not cache search results: {e}"))
            .await;
    }
    let _ = ctx.journal.append(&Record::Searched {
        ts: crate::state::now(),
        part: n,
        query: query.to_string(),
        hits: hits.len(),
    });
    Ok((Ok(hits), how))
}

async fn write(ctx: &mut RunnerCtx, progress: &Progress) -> Result<Outcome, Cancelled> {
    let n = ctx.part.number;
    let sources: Vec<Source> = machine::fetched_pages(progress)
        .into_iter()
        .enumerate()
        .map(|(i, page)| Source { n: i + 1, page })
        .collect();
    let request = WriteRequest {
        plan_title: ctx.plan_title.clone(),
        part: ctx.part.clone(),
        sources: sources.clone(),
        existing: progress.existing.clone().unwrap_or_default(),
        feedback: ctx.feedback.clone(),
    };
    ctx.log(
        Level::Info,
        format!(
            "writing with {} from {} sources",
            ctx.providers.writer.name(),
            sources.len()
        ),
    )
    .await;
    let sink = log_sink(&ctx.events, n);
    let stream = Arc::new(StreamProgress::new(ctx.events.clone(), n));
    let pusher = stream.clone();
    let delta = move |piece: &str| pusher.push(piece);
    let writer = ctx.providers.writer.clone();
    let written = match ctx.or_cancel(writer.write(&request, &sink, &delta)).await? {
        Ok(w) => w,
        Err(e) => return Ok(Outcome::Failed(format!("the writer failed: {e}"))),
    };
    stream.finish();
    if let Some(u) = written.usage {
        let _ = ctx.journal.append(&Record::Usage {
            ts: crate::state::now(),
            part: n,
            prompt_tokens: u.prompt_tokens,
            completion_tokens: u.completion_tokens,
        });
        ctx.log(
            Level::Info,
            format!(
                "tokens: {} prompt, {} completion",
                u.prompt_tokens, u.completion_tokens
            ),
        )
        .await;
    }
    let body = written.body;
    let text = draft::with_sources(&body, &sources);
    let used = draft::cited(&text);
    let refs: Vec<SourceRef> = sources
        .iter()
        .filter(|s| used.contains(&s.n))
        .map(|s| SourceRef {
            n: s.n,
            url: s.page.url.clone(),
            title: s.page.title.clone(),
        })
        .collect();
    // The diff is against the target as it is now; approval refuses if it changes meanwhile.
    let base_hash = match crate::knowledge::resolve_target(&ctx.knowledge, &ctx.part.target) {
        Ok(path) => std::fs::read_to_string(path)
            .ok()
            .map(|t| crate::review::content_hash(&t)),
        // A base that does not exist yet holds no target to compare against.
        Err(_) if !ctx.knowledge.exists() => None,
        Err(e) => return Ok(Outcome::Failed(e.to_string())),
    };
    let created = chrono::Local::now().format("%Y-%m-%d %H:%M").to_string();
    let drop_text = draft::render_drop(
        &ctx.part,
        text.lines().count(),
        &refs,
        &request.existing,
        &created,
    );
    let draft = Draft {
        part: n,
        target: ctx.part.target.clone(),
        drop_name: ctx
            .part
            .drop
            .as_ref()
            .map(|d| d.name.clone())
            .unwrap_or_else(|| format!("KNOWLEDGE-DROP-{}-[TIME].md", ctx.part.drop_slug())),
        text,
        drop_text,
        sources: refs,
        existing: request.existing,
        writer: ctx.providers.writer.name().to_string(),
        created,
        base_hash,
    };
    if let Err(e) = ctx.journal.save_draft(&draft) {
        return Ok(Outcome::Failed(format!("could not save the draft: {e}")));
    }
    let lines = draft.lines();
    if let Err(e) = ctx.journal.append(&Record::Drafted {
        ts: crate::state::now(),
        part: n,
        lines,
        sources: draft.sources.len(),
    }) {
        return Ok(Outcome::Failed(format!("could not journal the draft: {e}")));
    }
    ctx.emit(Event::draft(
        n,
        lines,
        draft.sources.len(),
        format!(
            "draft ready: {lines} lines, {} sources",
            draft.sources.len()
        ),
    ))
    .await;
    Ok(Outcome::Review)
}

/// A provider's log lines as events of this PART. Best effort: when the front end lags, a
/// dropped line loses nothing (the journal and cache hold what matters).
fn log_sink(events: &mpsc::Sender<Event>, part: u32) -> impl Fn(&str) + Send + Sync + use<> {
    let events = events.clone();
    move |line: &str| {
        let _ = events.try_send(Event::log(Some(part), Level::Info, line.to_string()));
    }
}

/// Streamed writer output turned into sampled progress events: at most one per 100 ms, each
/// carrying the line count, token chunks so far and the latest line being written.
struct StreamProgress {
    events: mpsc::Sender<Event>,
    part: u32,
    state: std::sync::Mutex<StreamState>,
}

#[derive(Default)]
struct StreamState {
    text: String,
    chunks: usize,
    sent_chunks: usize,
    last_sent: Option<Instant>,
}

impl StreamProgress {
    fn new(events: mpsc::Sender<Event>, part: u32) -> Self {
        StreamProgress {
            events,
            part,
            state: std::sync::Mutex::new(StreamState::default()),
        }
    }

    fn push(&self, piece: &str) {
        // The lock is only ever held here and in `finish`, never across an await.
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        st.text.push_str(piece);
        st.chunks += 1;
        if st.last_sent.is_none_or(|t| t.elapsed().as_millis() >= 100) {
            st.last_sent = Some(Instant::now());
            self.send(&mut st);
        }
    }

    fn finish(&self) {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if st.sent_chunks != st.chunks {
            self.send(&mut st);
        }
    }

    fn send(&self, st: &mut StreamState) {
        st.sent_chunks = st.chunks;
        let lines = st.text.lines().count();
        let last = st
            .text
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        let last: String = last.chars().take(80).collect();
        let _ = self.events.try_send(Event::log(
            Some(self.part),
            Level::Info,
            format!("writing: {lines} lines, {} chunks — {last}", st.chunks),
        ));
    }
}

fn size(bytes: usize) -> String {
    if bytes >= 1024 {
        format!("{:.1} KB", bytes as f64 / 1024.0)
    } else {
        format!("{bytes} B")
    }
}
