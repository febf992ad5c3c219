//! Local Fetch: reads a `corpus://` document from the corpus folder.

use std::path::PathBuf;

use async_trait::async_trait;

use super::{SCHEME, load_doc};
use crate::research::{Fetch, LogSink, Page, ResearchError};

/// Fetches `corpus://path` documents from a corpus folder.
pub struct LocalFetch {
    dir: PathBuf,
}

impl LocalFetch {
    /// A fetcher over the corpus at `dir`.
    pub fn new(dir: PathBuf) -> Self {
        LocalFetch { dir }
    }

    /// The corpus file `url` names, refused when the path would leave the corpus folder.
    fn path_of(&self, url: &str) -> Result<PathBuf, ResearchError> {
        let refused = |message: String| ResearchError::Provider {
            provider: "local fetch".into(),
            message,
        };
        let rel = url.strip_prefix(SCHEME).ok_or_else(|| {
            refused(format!(
                "{url} is not a corpus document (offline mode fetches only {SCHEME} URLs)"
            ))
        })?;
        if rel.split('/').any(|c| c == ".." || c.is_empty()) || rel.starts_with('/') {
            return Err(refused(format!("{url}: path leaves the corpus folder")));
        }
        Ok(self.dir.join(rel))
    }
}

#[async_trait]
impl Fetch for LocalFetch {
    fn name(&self) -> &str {
        "local"
    }

    fn cache_key(&self, url: &str) -> String {
        let stamp = self
            .path_of(url)
            .ok()
            .and_then(|p| std::fs::metadata(p).ok())
            .map(|m| format!("-{}-{}", m.len(), crate::fsutil::modified_nanos(&m)));
        format!("local{}", stamp.unwrap_or_default())
    }

    async fn fetch(&self, url: &str, _log: &LogSink) -> Result<Page, ResearchError> {
        let err = |message: String| ResearchError::Provider {
            provider: "local fetch".into(),
            message,
        };
        let path = self.path_of(url)?;
        if !path.is_file() {
            return Err(ResearchError::NotFound {
                provider: "local fetch".into(),
                what: url.to_string(),
            });
        }
        let doc = tokio::task::spawn_blocking(move || load_doc(&path))
            .await
            .map_err(|e| err(e.to_string()))?
            .map_err(|skip| err(format!("{url}: {skip}")))?;
        Ok(Page {
            url: url.to_string(),
            title: doc.title,
            content: doc.text,
        })
    }
}
