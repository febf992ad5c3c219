//! Embeds the demo corpus (`assets/corpus/`) in the binary, so `expanse run --offline` works in
//! any folder, installed or not: writes `$OUT_DIR/embedded_corpus.rs`, a sorted table of
//! `(relative path, include_bytes!(…))`. Cargo reruns this when anything under the folder changes.

use std::path::{Path, PathBuf};

// A build script reports failure by panicking; cargo shows the message and stops the build.
fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let corpus = manifest.join("assets").join("corpus");
    println!("cargo:rerun-if-changed=assets/corpus");
    let mut files = Vec::new();
    collect(&corpus, &corpus, &mut files);
    files.sort();
    let mut out = String::from(
        "/// The demo corpus's files: path relative to `assets/corpus/` (`/`-separated), bytes.\n\
         pub static FILES: &[(&str, &[u8])] = &[\n",
    );
    for (rel, path) in &files {
        out.push_str(&format!("    ({rel:?}, include_bytes!({:?})),\n", path));
    }
    out.push_str("];\n");
    let dest = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo"))
        .join("embedded_corpus.rs");
    std::fs::write(&dest, out).expect("OUT_DIR is writable");
}

/// Every regular, non-hidden file under `dir`, as (relative path, absolute path).
fn collect(base: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        // No corpus in this source tree: the binary then embeds an empty one.
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        match entry.file_type() {
            Ok(t) if t.is_dir() => collect(base, &path, out),
            Ok(t) if t.is_file() => {
                if let Ok(rel) = path.strip_prefix(base) {
                    let rel = rel
                        .components()
                        .map(|c| c.as_os_str().to_string_lossy().into_owned())
                        .collect::<Vec<_>>()
                        .join("/");
                    out.push((rel, path.clone()));
                }
            }
            _ => {}
        }
    }
}
