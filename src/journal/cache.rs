//! The content-addressed cache of search results and fetched pages, shared by every plan.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize, de::DeserializeOwned};
use sha2::{Digest, Sha256};

use crate::research::{Hit, Page};

/// A cache folder with one JSON file per entry, named by the hash of its key.
pub struct Cache {
    dir: PathBuf,
}

/// What is stored: the key (to detect hash collisions and misplaced files), a checksum, the value.
#[derive(Serialize, Deserialize)]
struct Entry<T> {
    key: String,
    checksum: String,
    value: T,
}

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl Cache {
    /// A cache in `dir` (created on first write).
    pub fn new(dir: &Path) -> Cache {
        Cache {
            dir: dir.to_path_buf(),
        }
    }

    fn path(&self, kind: &str, key: &str) -> PathBuf {
        let h = sha(key.as_bytes());
        self.dir.join(kind).join(&h[..2]).join(format!("{h}.json"))
    }

    fn get<T: Serialize + DeserializeOwned>(&self, kind: &str, key: &str) -> Option<T> {
        let path = self.path(kind, key);
        let bytes = std::fs::read(&path).ok()?;
        let entry: Entry<T> = match serde_json::from_slice(&bytes) {
            Ok(e) => e,
            Err(e) => {
                tracing::warn!(path = %path.display(), "corrupt cache entry, refetching: {e}");
                return None;
            }
        };
        let checksum = sha(&serde_json::to_vec(&entry.value).ok()?);
        if entry.key != key || entry.checksum != checksum {
            tracing::warn!(path = %path.display(), "cache entry fails its checksum, refetching");
            return None;
        }
        Some(entry.value)
    }

    fn put<T: Serialize>(&self, kind: &str, key: &str, value: &T) -> std::io::Result<()> {
        let checksum = sha(&serde_json::to_vec(value)?);
        let entry = Entry {
            key: key.to_string(),
            checksum,
            value,
        };
        // Not fsynced: a cache entry lost to a power cut is fetched again, and a damaged one
        // fails its checksum and is fetched again too.
        crate::fsutil::write_replacing(&self.path(kind, key), &serde_json::to_vec(&entry)?, false)
    }

    fn search_key(provider: &str, query: &str, limit: usize) -> String {
        format!("{provider}\u{0}{limit}\u{0}{query}")
    }

    /// Cached hits of `query` on `provider`.
    pub fn search(&self, provider: &str, query: &str, limit: usize) -> Option<Vec<Hit>> {
        self.get("search", &Self::search_key(provider, query, limit))
    }

    /// Remember hits of `query` on `provider`.
    pub fn put_search(
        &self,
        provider: &str,
        query: &str,
        limit: usize,
        hits: &[Hit],
    ) -> std::io::Result<()> {
        self.put("search", &Self::search_key(provider, query, limit), &hits)
    }

    /// A cached page.
    pub fn page(&self, provider: &str, url: &str) -> Option<Page> {
        self.get("pages", &format!("{provider}\u{0}{url}"))
    }

    /// Remember a page.
    pub fn put_page(&self, provider: &str, page: &Page) -> std::io::Result<()> {
        self.put("pages", &format!("{provider}\u{0}{}", page.url), page)
    }

    fn unreadable_key(provider: &str, url: &str) -> String {
        // The version is in the key: a newer extractor may read what this one could not.
        format!("{}\u{0}{provider}\u{0}{url}", env!("CARGO_PKG_VERSION"))
    }

    /// Why a page fetched earlier could not be read, if it could not.
    pub fn unreadable(&self, provider: &str, url: &str) -> Option<String> {
        self.get("unreadable", &Self::unreadable_key(provider, url))
    }

    /// Remember that a page cannot be read, and why, so no run fetches it again.
    pub fn put_unreadable(&self, provider: &str, url: &str, reason: &str) -> std::io::Result<()> {
        self.put("unreadable", &Self::unreadable_key(provider, url), &reason)
    }

    /// A model's earlier yes/no on whether `evidence` supports `claim`.
    /// A value stored under `kind` and `key` (any serializable answer worth asking once).
    pub fn get_json<T: Serialize + DeserializeOwned>(&self, kind: &str, key: &str) -> Option<T> {
        self.get(kind, key)
    }

    /// Store `value` under `kind` and `key`.
    pub fn put_json<T: Serialize>(&self, kind: &str, key: &str, value: &T) -> std::io::Result<()> {
        self.put(kind, key, value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_corruption_is_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path());
        let hits = vec![Hit {
            url: "u".into(),
            title: "t".into(),
            snippet: "s".into(),
        }];
        assert!(cache.search("local", "q", 3).is_none());
        cache.put_search("local", "q", 3, &hits).unwrap();
        assert_eq!(cache.search("local", "q", 3), Some(hits.clone()));
        assert!(
            cache.search("local", "q", 4).is_none(),
            "the limit is part of the key"
        );

        let path = cache.path("search", &Cache::search_key("local", "q", 3));
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replace("\"t\"", "\"tampered\"")).unwrap();
        assert!(
            cache.search("local", "q", 3).is_none(),
            "checksum mismatch is not trusted"
        );
        std::fs::write(&path, b"{not json").unwrap();
        assert!(cache.search("local", "q", 3).is_none());
    }
}
