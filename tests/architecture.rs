//! The architecture DESIGN.md draws, checked on the source: no file past 750 lines, the core
//! never imports the terminal UI's crates, and no two modules import each other (directly or
//! around a loop). A module's
//! imports are the `crate::…`, `super::…` and `self::…` paths it names outside its tests; a
//! parent and its own children are one unit (a child reaching its parent is not a circle).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// `src/tui/screens/review.rs` → `crate::tui::screens::review` (`mod.rs` names its folder).
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .iter()
        .map(|s| s.to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    if parts == ["lib"] || parts == ["main"] {
        parts.clear();
    }
    std::iter::once("crate".to_string())
        .chain(parts)
        .collect::<Vec<_>>()
        .join("::")
}

/// The source without its `#[cfg(test)] mod tests { … }` (at the end of a file, by convention).
fn without_tests(text: &str) -> &str {
    text.find("#[cfg(test)]\nmod tests")
        .map_or(text, |i| &text[..i])
}

/// The module a path names, as the longest known module it starts with.
fn target(current: &str, path: &str, modules: &BTreeSet<String>) -> Option<String> {
    let mut segs: Vec<&str> = path.split("::").collect();
    let mut base: Vec<&str> = current.split("::").collect();
    match segs.first() {
        Some(&"crate") => {
            base = vec!["crate"];
            segs.remove(0);
        }
        Some(&"super") => {
            while segs.first() == Some(&"super") {
                base.pop();
                segs.remove(0);
            }
        }
        Some(&"self") => {
            segs.remove(0);
        }
        _ => return None,
    }
    let mut best = modules.contains(&base.join("::")).then(|| base.join("::"));
    for s in segs {
        base.push(s);
        let name = base.join("::");
        if modules.contains(&name) {
            best = Some(name);
        }
    }
    best
}

/// Each module and the modules it imports (a parent and its children left out of each other).
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let modules: BTreeSet<String> = files.iter().map(|f| module_of(&src, f)).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in &files {
        let current = module_of(&src, f);
        let text = std::fs::read_to_string(f).unwrap();
        // Comments name modules without importing them (doc links).
        let code: String = without_tests(&text)
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        for p in paths_in(&code) {
            if let Some(t) = target(&current, &p, &modules)
                && t != current
                && !current.starts_with(&format!("{t}::"))
                && !t.starts_with(&format!("{current}::"))
            {
                graph.entry(current.clone()).or_default().insert(t);
            }
        }
    }
    graph
}

/// The `crate::a::b`, `super::x` and `self::y` paths in a text (identifiers joined by `::`); a
/// group `super::{a, b::c}` gives one path for each of its items (`super::a`, `super::b::c`).
fn paths_in(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    // The identifiers joined by `::` from `j`: where they end.
    let path_end = |mut j: usize| {
        loop {
            while j < bytes.len() && ident(bytes[j]) {
                j += 1;
            }
            if bytes[j..].starts_with(b"::") && bytes.get(j + 2).is_some_and(|b| ident(*b)) {
                j += 2;
            } else {
                return j;
            }
        }
    };
    let mut i = 0;
    while i < bytes.len() {
        let starts = ["crate::", "super::", "self::"]
            .iter()
            .find(|s| bytes[i..].starts_with(s.as_bytes()))
            .filter(|_| i == 0 || !ident(bytes[i - 1]));
        if starts.is_none() {
            i += 1;
            continue;
        }
        let j = path_end(i);
        let head = &text[i..j];
        if bytes[j..].starts_with(b"::{") {
            // One level of a group: each item is a path of its own below the head.
            let inner = j + 3;
            let close = text[inner..].find('}').map_or(text.len(), |k| inner + k);
            for item in text[inner..close].split(',') {
                let item = item.trim();
                let end = item
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
                    .unwrap_or(item.len());
                let item = item[..end].trim_end_matches(':');
                if !item.is_empty() && item != "self" {
                    out.push(format!("{head}::{item}"));
                }
            }
            out.push(head.to_string());
            i = close.max(i + 1);
        } else {
            out.push(head.to_string());
            i = j.max(i + 1);
        }
    }
    out
}

/// The modules that reach themselves through the graph's imports.
fn circles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    let mut circles = Vec::new();
    for start in graph.keys() {
        let mut seen = BTreeSet::new();
        let mut todo: Vec<&String> = graph[start].iter().collect();
        while let Some(m) = todo.pop() {
            if m == start {
                circles.push(start.clone());
                break;
            }
            if seen.insert(m.clone())
                && let Some(next) = graph.get(m)
            {
                todo.extend(next);
            }
        }
    }
    circles
}

#[test]
fn no_two_modules_import_each_other_directly_or_around_a_loop() {
    let graph = imports();
    assert!(
        graph.len() > 50,
        "the source was read: {} modules",
        graph.len()
    );
    // Every module reachable from each one; a module that reaches itself is in a circle.
    let circles = circles(&graph);
    assert!(
        circles.is_empty(),
        "modules in a circle of imports: {circles:?}"
    );
}

#[test]
fn the_core_never_imports_the_terminal_ui() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let front_ends = ["tui", "cmd", "main.rs"];
    let mut offenders = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(&src).unwrap();
        if front_ends.iter().any(|fe| rel.starts_with(fe)) {
            continue;
        }
        let text = std::fs::read_to_string(f).unwrap();
        if text.contains("ratatui") || text.contains("crossterm") || text.contains("crate::tui") {
            offenders.push(rel.display().to_string());
        }
    }
    assert!(
        offenders.is_empty(),
        "core modules that import the UI: {offenders:?}"
    );
}

#[test]
fn the_checker_finds_a_circle_when_there_is_one() {
    let modules: BTreeSet<String> = ["crate::a", "crate::b", "crate::a::c"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let paths = paths_in("use crate::b::X; let y = super::super::a::c::f(); self::z");
    assert_eq!(paths, ["crate::b::X", "super::super::a::c::f", "self::z"]);
    assert_eq!(
        paths_in("use super::{prompt, tokens::Tok, self};"),
        ["super::prompt", "super::tokens::Tok", "super"]
    );
    let graph = |edges: &[(&str, &str)]| {
        let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (from, to) in edges {
            g.entry(from.to_string())
                .or_default()
                .insert(to.to_string());
        }
        g
    };
    assert_eq!(
        circles(&graph(&[("a", "b"), ("b", "c"), ("c", "a"), ("d", "a")])),
        ["a", "b", "c"]
    );
    assert!(circles(&graph(&[("a", "b"), ("b", "c"), ("d", "a")])).is_empty());
    assert_eq!(
        target("crate::a", "crate::b::X", &modules).as_deref(),
        Some("crate::b")
    );
    assert_eq!(
        target("crate::b", "super::a::c::f", &modules).as_deref(),
        Some("crate::a::c")
    );
}

#[test]
fn no_source_file_is_past_750_lines() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let long: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let lines = std::fs::read_to_string(f).unwrap().lines().count();
            (lines > 750).then(|| format!("{} ({lines})", f.strip_prefix(&src).unwrap().display()))
        })
        .collect();
    assert!(long.is_empty(), "split these along their seams: {long:?}");
}
