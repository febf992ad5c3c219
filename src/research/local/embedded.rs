//! The demo corpus compiled into the binary (see `build.rs`), written out as a folder under
//! `.expanse/` on first use so local search, `corpus://` fetches and `expanse extract` read it
//! exactly like a corpus of your own.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

mod generated {
    include!(concat!(env!("OUT_DIR"), "/embedded_corpus.rs"));
}

/// The embedded files: path relative to the corpus root (`/`-separated), bytes; sorted by path.
pub fn files() -> &'static [(&'static str, &'static [u8])] {
    generated::FILES
}

/// A short hash of every embedded path and byte: a binary with a different corpus writes (and
/// indexes) a different folder, so a cached index never outlives the corpus it was built from.
pub fn fingerprint() -> String {
    let mut h = Sha256::new();
    h.update(b"expanse-embedded-corpus-v1\0");
    for (rel, bytes) in files() {
        h.update(rel.as_bytes());
        h.update([0]);
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    }
    hex::encode(&h.finalize()[..8])
}

/// The folder name the embedded corpus is written to (`demo-<fingerprint>`).
pub fn dir_name() -> String {
    format!("demo-{}", fingerprint())
}

/// Where the embedded corpus lives in a workspace whose state folder is `state`
/// (`.expanse/corpus/demo-<fingerprint>/`). Nothing is written until [`prepare`].
pub fn dir_in(state: &Path) -> PathBuf {
    state.join("corpus").join(dir_name())
}

/// Whether `corpus` is the folder this binary writes its embedded corpus to.
pub fn is_embedded_dir(corpus: &Path) -> bool {
    corpus.file_name().and_then(|n| n.to_str()) == Some(dir_name().as_str())
}

/// Make sure `corpus`, if it is the embedded corpus's folder ([`is_embedded_dir`]), holds every
/// embedded file byte for byte: written on first use, repaired if a file was changed or removed.
/// Other folders are left alone. Returns whether `corpus` is the embedded one.
pub fn prepare(corpus: &Path) -> std::io::Result<bool> {
    if !is_embedded_dir(corpus) {
        return Ok(false);
    }
    for (rel, bytes) in files() {
        let path = rel.split('/').fold(corpus.to_path_buf(), |p, c| p.join(c));
        // Reading 64 small files is cheaper than trusting a folder someone may have edited.
        let same = std::fs::read(&path).is_ok_and(|b| b == *bytes);
        if !same {
            // Each file replaced atomically: a concurrent run reads the old bytes or the new.
            crate::fsutil::write_replacing(&path, bytes, false)?;
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_corpus_is_embedded() {
        let rels: Vec<&str> = files().iter().map(|(r, _)| *r).collect();
        assert_eq!(rels.len(), 64, "{rels:?}");
        assert!(rels.contains(&"distributed-training/deepspeed-zero-01-overview.md"));
        assert!(rels.windows(2).all(|w| w[0] < w[1]), "sorted");
    }

    #[test]
    fn prepare_writes_and_repairs_only_its_own_folder() {
        let dir = tempfile::tempdir().unwrap();
        let other = dir.path().join("mine");
        assert!(!prepare(&other).unwrap());
        assert!(!other.exists());
        let corpus = dir_in(&dir.path().join(".expanse"));
        assert!(prepare(&corpus).unwrap());
        let (rel, bytes) = files()[0];
        let path = corpus.join(rel);
        assert_eq!(std::fs::read(&path).unwrap(), bytes);
        std::fs::write(&path, "edited").unwrap();
        std::fs::remove_file(corpus.join(files()[1].0)).unwrap();
        prepare(&corpus).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), bytes);
        assert_eq!(
            std::fs::read(corpus.join(files()[1].0)).unwrap(),
            files()[1].1
        );
    }
}
