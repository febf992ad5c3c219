//! Local Search: a tantivy BM25 index of corpus passages, built once and reused until the corpus changes.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use sha2::{Digest, Sha256};
use tantivy::collector::TopDocs;
use tantivy::query::QueryParser;
use tantivy::schema::{
    Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::{Index, IndexReader, TantivyDocument, doc};

use super::{SCHEME, load_doc, scan_corpus};
use crate::research::{Hit, LogSink, ResearchError, Search, passages};

/// A searchable corpus.
pub struct LocalSearch {
    index: Index,
    reader: IndexReader,
    fields: Fields,
    /// The corpus's listing hashed (paths, sizes, modification times): what the index holds.
    fingerprint: String,
}

#[derive(Clone, Copy)]
struct Fields {
    path: Field,
    title: Field,
    body: Field,
}

/// What opening the index did: built or reused, and which files were skipped.
#[derive(Debug, Clone)]
pub struct IndexInfo {
    /// Whether the index was built now (false: reused from an earlier run).
    pub built: bool,
    /// Documents indexed.
    pub documents: usize,
    /// Passages indexed.
    pub passages: usize,
    /// Files skipped, with the reason.
    pub skipped: Vec<(String, String)>,
    /// Where the index lives.
    pub dir: PathBuf,
}

/// The index's analyzer, [`crate::terms::stemming`], under a name of its own: tantivy's built-in
/// `en_stem` differs (no accent folding), and an index opened without registering this one fails
/// instead of splitting words another way.
const TERMS: &str = "expanse_terms";

fn schema() -> (Schema, Fields) {
    let mut sb = Schema::builder();
    let text = TextOptions::default()
        .set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(TERMS)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        )
        .set_stored();
    let path = sb.add_text_field("path", STRING | STORED);
    let title = sb.add_text_field("title", text.clone());
    let body = sb.add_text_field("body", text);
    (sb.build(), Fields { path, title, body })
}

fn tantivy_err(e: impl std::fmt::Display) -> ResearchError {
    ResearchError::Provider {
        provider: "local search".into(),
        message: format!("index: {e}"),
    }
}

impl LocalSearch {
    /// Open the index of `corpus` under `index_root`, building it if the corpus changed.
    pub fn open(corpus: &Path, index_root: &Path) -> Result<(Self, IndexInfo), ResearchError> {
        // The embedded demo corpus is written out on first use (and repaired if edited).
        super::embedded::prepare(corpus).map_err(|e| ResearchError::Provider {
            provider: "local search".into(),
            message: format!(
                "cannot write the embedded demo corpus to {}: {e}",
                corpus.display()
            ),
        })?;
        if !corpus.is_dir() {
            return Err(ResearchError::Provider {
                provider: "local search".into(),
                message: format!("corpus folder {} does not exist", corpus.display()),
            });
        }
        let listing = scan_corpus(corpus);
        let files = listing.files;
        let mut hasher = Sha256::new();
        // v3: the analyzer folds accents, as the one tokenizer does.
        hasher.update(b"expanse-index-v3\0");
        for f in &files {
            hasher.update(f.rel.as_bytes());
            hasher.update(f.len.to_le_bytes());
            hasher.update(f.mtime.to_le_bytes());
        }
        let fingerprint = hex::encode(&hasher.finalize()[..12]);
        let dir = index_root.join(format!("index-{fingerprint}"));
        let (schema, fields) = schema();
        let mut info = IndexInfo {
            built: false,
            documents: 0,
            passages: 0,
            skipped: listing.unsupported,
            dir: dir.clone(),
        };
        // Files that failed to load, remembered beside the index so a reused index reports them.
        let failed_list = dir.join("skipped.json");
        let index = if dir.join("meta.json").is_file() {
            Index::open_in_dir(&dir).map_err(tantivy_err)?
        } else {
            info.built = true;
            // Build beside the final place and rename, so a killed build is never mistaken for a finished one.
            let tmp = index_root.join(format!(
                "index-{fingerprint}.building-{}",
                std::process::id()
            ));
            let _ = std::fs::remove_dir_all(&tmp);
            remove_abandoned_builds(index_root);
            std::fs::create_dir_all(&tmp).map_err(tantivy_err)?;
            let index = Index::create_in_dir(&tmp, schema).map_err(tantivy_err)?;
            index.tokenizers().register(TERMS, crate::terms::stemming());
            let mut writer = index
                .writer_with_num_threads(1, 30_000_000)
                .map_err(tantivy_err)?;
            for f in &files {
                let doc = match load_doc(&f.path) {
                    Ok(doc) => doc,
                    Err(skip) => {
                        tracing::warn!(file = %f.rel, "{skip}");
                        info.skipped.push((f.rel.clone(), skip.to_string()));
                        continue;
                    }
                };
                info.documents += 1;
                for p in passages::passages(&doc.text) {
                    let body = if p.heading.is_empty() {
                        p.text
                    } else {
                        format!("{}\n{}", p.heading, p.text)
                    };
                    writer
                        .add_document(doc!(fields.path => f.rel.clone(), fields.title => doc.title.clone(), fields.body => body))
                        .map_err(tantivy_err)?;
                    info.passages += 1;
                }
            }
            let failed: Vec<&(String, String)> = info
                .skipped
                .iter()
                .filter(|(f, _)| files.iter().any(|c| &c.rel == f))
                .collect();
            if let Ok(json) = serde_json::to_vec(&failed) {
                // Only the summary line depends on it: a failed write loses nothing else.
                let _ = std::fs::write(tmp.join("skipped.json"), json);
            }
            writer.commit().map_err(tantivy_err)?;
            drop(writer);
            drop(index);
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::rename(&tmp, &dir).map_err(tantivy_err)?;
            Index::open_in_dir(&dir).map_err(tantivy_err)?
        };
        index.tokenizers().register(TERMS, crate::terms::stemming());
        // The index does not change during a run: no reload watcher (it polls twice a second).
        let reader = index
            .reader_builder()
            .reload_policy(tantivy::ReloadPolicy::Manual)
            .try_into()
            .map_err(tantivy_err)?;
        if !info.built {
            let searcher = reader.searcher();
            info.passages = searcher.num_docs() as usize;
            let failed: Vec<(String, String)> = std::fs::read(&failed_list)
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok())
                .unwrap_or_default();
            info.documents = files.len().saturating_sub(failed.len());
            info.skipped.extend(failed);
            info.skipped.sort();
        }
        Ok((
            LocalSearch {
                index,
                reader,
                fields,
                fingerprint,
            },
            info,
        ))
    }

    fn search_sync(&self, query: &str, limit: usize) -> Result<Vec<Hit>, ResearchError> {
        let cleaned = clean_query(query);
        if cleaned.is_empty() {
            return Ok(Vec::new());
        }
        let mut parser =
            QueryParser::for_index(&self.index, vec![self.fields.title, self.fields.body]);
        parser.set_field_boost(self.fields.title, 0.5);
        let (q, _) = parser.parse_query_lenient(&cleaned);
        let searcher = self.reader.searcher();
        let top = searcher
            .search(&q, &TopDocs::with_limit(limit.max(1) * 8).order_by_score())
            .map_err(tantivy_err)?;
        let mut hits: Vec<Hit> = Vec::new();
        for (_score, addr) in top {
            let d: TantivyDocument = searcher.doc(addr).map_err(tantivy_err)?;
            let get = |f| {
                d.get_first(f)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string()
            };
            let url = format!("{SCHEME}{}", get(self.fields.path));
            if hits.iter().any(|h| h.url == url) {
                continue;
            }
            hits.push(Hit {
                url,
                title: get(self.fields.title),
                snippet: snippet(&get(self.fields.body)),
            });
            if hits.len() == limit {
                break;
            }
        }
        Ok(hits)
    }
}

/// Remove index builds a killed process left (`index-….building-PID` whose process is gone).
fn remove_abandoned_builds(index_root: &Path) {
    let Ok(entries) = std::fs::read_dir(index_root) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        let Some(pid) = name
            .rsplit_once(".building-")
            .and_then(|(_, p)| p.parse::<i32>().ok())
        else {
            continue;
        };
        if pid > 0 && !crate::fsutil::process_alive(pid) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// Web-search syntax the local index does not understand (`site:`, quotes, operators) removed.
fn clean_query(query: &str) -> String {
    query
        .split_whitespace()
        .filter(|w| !w.contains(':'))
        .map(|w| {
            w.chars()
                .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '.' | '_'))
                .collect::<String>()
        })
        .map(|w| w.replace(['-', '.', '_'], " "))
        .filter(|w| !w.trim().is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn snippet(body: &str) -> String {
    let flat: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(280) {
        Some((i, _)) => format!("{}…", &flat[..i]),
        None => flat,
    }
}

#[async_trait]
impl Search for LocalSearch {
    fn name(&self) -> &str {
        "local"
    }

    fn cache_key(&self) -> String {
        format!("local-{}", self.fingerprint)
    }

    async fn search(
        &self,
        query: &str,
        limit: usize,
        _log: &LogSink,
    ) -> Result<Vec<Hit>, ResearchError> {
        // Searching a small in-memory index is quick enough to run inline.
        self.search_sync(query, limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_cleaning() {
        assert_eq!(
            clean_query("site:github.com DeepSpeed \"ZeRO\" PyTorch"),
            "DeepSpeed ZeRO PyTorch"
        );
        assert_eq!(clean_query("ZeRO-1 ZeRO-2"), "ZeRO 1 ZeRO 2");
        assert_eq!(clean_query("site:x.com"), "");
    }

    #[tokio::test]
    async fn the_index_splits_words_as_the_one_tokenizer_does() {
        let dir = tempfile::tempdir().unwrap();
        let corpus = dir.path().join("corpus");
        std::fs::create_dir_all(&corpus).unwrap();
        std::fs::write(
            corpus.join("cafe.md"),
            "# Cafés\n\nThe Düsseldorf café served résumés to optimizers.\n",
        )
        .unwrap();
        std::fs::write(corpus.join("other.md"), "# Other\n\nNothing here.\n").unwrap();
        let (search, _) = LocalSearch::open(&corpus, &dir.path().join("idx")).unwrap();
        // Accents folded and words stemmed, as crate::terms splits them everywhere else.
        let hits = search
            .search("dusseldorf cafe resumes", 2, &|_| {})
            .await
            .unwrap();
        assert_eq!(hits[0].url, "corpus://cafe.md");
    }

    #[tokio::test]
    async fn builds_once_ranks_and_skips_bad_files() {
        let dir = tempfile::tempdir().unwrap();
        let corpus = dir.path().join("corpus");
        std::fs::create_dir_all(corpus.join("sub")).unwrap();
        std::fs::write(corpus.join("zero.md"), "# ZeRO stages\n\nZeRO stage 3 partitions parameters, gradients and optimizer states across data parallel ranks.\n").unwrap();
        std::fs::write(corpus.join("sub/tpu.md"), "# TPUs\n\nA TPU pod slice connects chips with a high bandwidth interconnect for matrix multiplies.\n").unwrap();
        std::fs::write(corpus.join("page.html"), "<html><head><title>Triton</title></head><body><nav>menu menu</nav><p>Triton dynamic batching groups inference requests on the server side.</p></body></html>").unwrap();
        std::fs::write(corpus.join("bin.md"), b"\x00\x01\x02 ZeRO").unwrap();
        let index_root = dir.path().join("idx");
        let (search, info) = LocalSearch::open(&corpus, &index_root).unwrap();
        assert!(info.built);
        assert_eq!(info.documents, 3);
        assert_eq!(info.skipped.len(), 1);
        assert!(info.skipped[0].1.contains("binary"));

        let hits = search
            .search("ZeRO optimizer partitioning", 3, &|_| {})
            .await
            .unwrap();
        assert_eq!(hits[0].url, "corpus://zero.md");
        assert_eq!(hits[0].title, "ZeRO stages");
        let hits = search.search("dynamic batching", 3, &|_| {}).await.unwrap();
        assert_eq!(hits[0].url, "corpus://page.html");
        assert!(!hits[0].snippet.contains("menu"));
        assert!(
            search
                .search("site:github.com", 3, &|_| {})
                .await
                .unwrap()
                .is_empty()
        );

        drop(search);
        let (_, again) = LocalSearch::open(&corpus, &index_root).unwrap();
        assert!(!again.built, "an unchanged corpus reuses its index");
        std::fs::write(
            corpus.join("new.md"),
            "# New\n\nA new document about pipeline parallelism micro batches.\n",
        )
        .unwrap();
        let (s3, changed) = LocalSearch::open(&corpus, &index_root).unwrap();
        assert!(changed.built, "a changed corpus is re-indexed");
        assert_eq!(
            s3.search("pipeline micro batches", 1, &|_| {})
                .await
                .unwrap()[0]
                .url,
            "corpus://new.md"
        );
    }
}
