//! Research providers: Search (query -> hits), Fetch (url -> main content), Writer (sources -> draft).

pub mod extract;
pub mod http;
pub mod local;
pub mod passages;
pub mod pdf;

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use http::{Selection, select};

use crate::knowledge::Existing;
use crate::plan::Part;

/// One ranked search result.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Hit {
    /// Where the result lives (`https://…`, or `corpus://path` for the local corpus).
    pub url: String,
    /// Its title.
    pub title: String,
    /// A short excerpt.
    pub snippet: String,
}

/// A fetched page reduced to its main content, as markdown.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Page {
    /// The page's address.
    pub url: String,
    /// Its title.
    pub title: String,
    /// Main content as markdown (navigation, scripts and boilerplate removed).
    pub content: String,
}

/// A gathered source handed to the writer, numbered for citation as `[n]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Source {
    /// The citation number, from 1.
    pub n: usize,
    /// The page.
    pub page: Page,
}

/// Everything a writer needs to draft one PART's knowledge file.
#[derive(Debug, Clone)]
pub struct WriteRequest {
    /// The plan's title, for context.
    pub plan_title: Option<String>,
    /// The PART with its sections, hints and budgets.
    pub part: Part,
    /// The gathered sources, numbered.
    pub sources: Vec<Source>,
    /// What the checks found in the base.
    pub existing: Existing,
    /// Why the previous draft was rejected, if it was.
    pub feedback: Option<String>,
}

/// Why a provider call failed.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ResearchError {
    /// The provider answered with an error or something expanse cannot use.
    #[error("{provider}: {message}")]
    Provider {
        /// Which provider.
        provider: String,
        /// What went wrong.
        message: String,
    },
    /// The settings do not make a usable provider (a missing variable, a bad URL).
    #[error("configuration: {0}")]
    Config(String),
    /// The requested document does not exist.
    #[error("{provider}: not found: {what}")]
    NotFound {
        /// Which provider.
        provider: String,
        /// What was asked for.
        what: String,
    },
}

/// Where a provider sends log lines for the PART it is working for (requests, retries).
/// Lines must already have secrets redacted.
pub type LogSink = dyn for<'s> Fn(&'s str) + Send + Sync;

/// Token counts a model server reported for one draft.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Usage {
    /// Prompt tokens.
    pub prompt_tokens: u64,
    /// Completion tokens.
    pub completion_tokens: u64,
}

/// What a writer produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The draft body: sections with `[n]` citations. Any Sources list in it is replaced by expanse's.
    pub body: String,
    /// Token usage, when the writer is a model that reports it.
    pub usage: Option<Usage>,
}

/// Turns a query into ranked hits.
#[async_trait]
pub trait Search: Send + Sync {
    /// A short name for logs and cache keys (`local`, `searxng`).
    fn name(&self) -> &str;
    /// The best `limit` hits for `query`, best first.
    async fn search(
        &self,
        query: &str,
        limit: usize,
        log: &LogSink,
    ) -> Result<Vec<Hit>, ResearchError>;
}

/// Turns a URL into its main content.
#[async_trait]
pub trait Fetch: Send + Sync {
    /// A short name for logs and cache keys.
    fn name(&self) -> &str;
    /// The page at `url`, reduced to its main content.
    async fn fetch(&self, url: &str, log: &LogSink) -> Result<Page, ResearchError>;
}

/// Turns a PART and its sources into the body of a knowledge file (sections with `[n]` citations).
#[async_trait]
pub trait Writer: Send + Sync {
    /// A short name for logs.
    fn name(&self) -> &str;
    /// The draft. `delta` receives each new piece of text as it is produced (a streamed writer
    /// calls it per token chunk; the concatenation of all deltas is the body before clean-up).
    async fn write(
        &self,
        request: &WriteRequest,
        log: &LogSink,
        delta: &LogSink,
    ) -> Result<Written, ResearchError>;
}

/// The three providers a run uses, with a line saying which they are and why.
#[derive(Clone)]
pub struct Providers {
    /// Search provider.
    pub search: Arc<dyn Search>,
    /// Fetch provider.
    pub fetch: Arc<dyn Fetch>,
    /// Writer.
    pub writer: Arc<dyn Writer>,
    /// Which providers and why, for the start of a run.
    pub description: String,
}

/// The embedded offline providers over `corpus`, with the index kept under `index_root`.
pub fn offline(
    corpus: &std::path::Path,
    index_root: &std::path::Path,
    why: &str,
) -> Result<(Providers, local::IndexInfo), ResearchError> {
    let (search, info) = local::LocalSearch::open(corpus, index_root)?;
    let description = format!(
        "offline providers ({why}): search = local corpus {} ({} documents, {} passages, index {}), fetch = local, writer = extractive",
        corpus.display(),
        info.documents,
        info.passages,
        if info.built { "built now" } else { "reused" }
    );
    Ok((
        Providers {
            search: Arc::new(search),
            fetch: Arc::new(local::LocalFetch::new(corpus.to_path_buf())),
            writer: Arc::new(local::ExtractiveWriter),
            description,
        },
        info,
    ))
}
