//! The embedded offline providers: a tantivy index over a corpus folder (markdown, text, HTML,
//! PDF), local fetch, extractive writer.

mod corpus;
pub mod embedded;
mod extractive;
mod fetch;
mod search;

pub use corpus::{
    CorpusDoc, CorpusFile, CorpusListing, EXTENSIONS, MAX_DOC_BYTES, MAX_PDF_DOC_BYTES, Skip,
    list_corpus, load_doc, scan_corpus, summary,
};
pub use extractive::{ExtractiveWriter, WRAP, compose_section};
pub use fetch::LocalFetch;
pub use search::{IndexInfo, LocalSearch};

/// The URL scheme of local corpus documents.
pub const SCHEME: &str = "corpus://";
