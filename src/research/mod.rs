//! Research providers: Search (query -> hits), Fetch (url -> main content), Writer (sources -> draft).

pub mod extract;
pub mod http;
pub mod local;
pub mod passages;
pub mod pdf;
pub mod placeholder;
pub mod sections;

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

/// Everything a writer needs to write one planned section of a PART's knowledge file.
#[derive(Debug, Clone)]
pub struct SectionRequest {
    /// The plan's title, for context.
    pub plan_title: Option<String>,
    /// The PART: its target, size and every planned section (the outline).
    pub part: Part,
    /// The file's `# ` title.
    pub title: String,
    /// Which planned section to write (index into `part.sections`).
    pub index: usize,
    /// The passages retrieved for this section, best first, with their PART-wide source numbers.
    pub passages: Vec<sections::SourcePassage>,
    /// The sources those passages come from (PART-wide numbers and titles).
    pub sources: Vec<Source>,
    /// What the checks found in the base.
    pub existing: Existing,
    /// What the target file already holds under this section's heading, when it exists: the
    /// section adds what this lacks instead of repeating it.
    pub already: Option<String>,
    /// A reviewer's reason for rewriting (a rejection or a regeneration).
    pub feedback: Option<String>,
    /// The text being rewritten, when a reviewer asked for this section again.
    pub previous: Option<String>,
    /// The PART's searches, for saying what was looked for when nothing fits.
    pub searched: Vec<String>,
    /// Completion tokens this request may use at most (set when a budget is): the writer asks
    /// the model for no more, and the budget reserves this much for it.
    pub max_tokens: Option<u32>,
}

impl SectionRequest {
    /// The planned section.
    pub fn section(&self) -> &crate::plan::Section {
        &self.part.sections[self.index]
    }

    /// The section's line budget: its own, or an even share of the file's, or 60.
    pub fn budget(&self) -> usize {
        self.part.budget_of(self.index)
    }
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
    /// The page arrived but holds nothing expanse can read (a binary file, an encrypted or
    /// image-only PDF, a page the extractor gave up on). Unlike a network failure, fetching it
    /// again gives the same answer, so the driver caches it as failed.
    #[error("{provider}: {url}: {reason}")]
    Unreadable {
        /// Which provider fetched it.
        provider: String,
        /// The page's address (redacted).
        url: String,
        /// Why it cannot be read, in one line.
        reason: String,
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

pub use crate::state::Usage;

/// What a writer produced for one section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The section's text under its heading, with `[n]` citations (expanse adds the heading).
    pub body: String,
    /// Token usage, when the writer is a model.
    pub usage: Option<Usage>,
}

/// Turns a query into ranked hits.
#[async_trait]
pub trait Search: Send + Sync {
    /// A short name for logs and cache keys (`local`, `searxng`).
    fn name(&self) -> &str;
    /// The name its results are cached under: [`Search::name`], plus whatever else they depend
    /// on (a local corpus: its contents, so a changed or different corpus is searched again).
    fn cache_key(&self) -> String {
        self.name().to_string()
    }
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
    /// The name `url`'s page is cached under: [`Fetch::name`], plus whatever else the page
    /// depends on (a corpus document: its size and modification time, so an edited one is read
    /// again).
    fn cache_key(&self, _url: &str) -> String {
        self.name().to_string()
    }
    /// The page at `url`, reduced to its main content.
    async fn fetch(&self, url: &str, log: &LogSink) -> Result<Page, ResearchError>;
}

/// Writes one planned section from its retrieved passages.
#[async_trait]
pub trait Writer: Send + Sync {
    /// A short name for logs.
    fn name(&self) -> &str;
    /// The most one request for `request` may spend: its prompt counted, its completion at most
    /// the request's token limit. None when the writer spends no model tokens.
    fn most(&self, _request: &SectionRequest) -> Option<Usage> {
        None
    }
    /// The section's text. `delta` receives each new piece of text as it is produced (a
    /// streamed writer calls it per token chunk).
    async fn write_section(
        &self,
        request: &SectionRequest,
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

/// The embedded offline providers over `corpus` (the embedded demo corpus when it is
/// [`local::embedded::dir_in`] the state folder), with the index kept under `index_root`.
pub fn offline(
    corpus: &std::path::Path,
    index_root: &std::path::Path,
    why: &str,
) -> Result<(Providers, local::IndexInfo), ResearchError> {
    let (search, info) = local::LocalSearch::open(corpus, index_root)?;
    let which = if local::embedded::is_embedded_dir(corpus) {
        format!("the embedded demo corpus (written to {})", corpus.display())
    } else {
        format!("local corpus {}", corpus.display())
    };
    let description = format!(
        "offline providers ({why}): search = {which} ({} documents, {} passages, index {}), fetch = local, writer = extractive",
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
