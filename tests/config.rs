//! Settings and provider selection: expanse.toml plus an environment passed in as a function,
//! so no test touches the process environment.

use std::collections::HashMap;

use expanse::config::{Config, ConfigError};
use expanse::research::{ResearchError, select};

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name: &str| map.get(name).cloned()
}

struct Dirs {
    _tmp: tempfile::TempDir,
    corpus: std::path::PathBuf,
    index: std::path::PathBuf,
}

fn dirs() -> Dirs {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = tmp.path().join("corpus");
    std::fs::create_dir_all(&corpus).unwrap();
    std::fs::write(
        corpus.join("zero.md"),
        "# ZeRO\n\nZeRO partitions optimizer state, gradients and parameters across data-parallel ranks.\n",
    )
    .unwrap();
    Dirs {
        index: tmp.path().join("index"),
        corpus,
        _tmp: tmp,
    }
}

#[test]
fn nothing_configured_is_offline() {
    let d = dirs();
    let s = select(&Config::default(), &env(&[]), false, &d.corpus, &d.index).unwrap();
    assert!(
        s.description.contains("nothing else is configured"),
        "{}",
        s.description
    );
    assert_eq!(s.providers.writer.name(), "extractive");
    assert!(s.index.is_some());
}

#[test]
fn offline_wins_over_everything() {
    let d = dirs();
    let e = env(&[("SEARXNG_URL", "http://127.0.0.1:9"), ("OPENAI_MODEL", "m")]);
    let s = select(&Config::default(), &e, true, &d.corpus, &d.index).unwrap();
    assert!(s.description.contains("--offline"), "{}", s.description);
    assert_eq!(s.providers.search.name(), "local");
}

#[test]
fn web_search_without_a_model_uses_the_extractive_writer_and_says_so() {
    let d = dirs();
    let e = env(&[("SEARXNG_URL", "http://127.0.0.1:8888")]);
    let s = select(&Config::default(), &e, false, &d.corpus, &d.index).unwrap();
    let lines: Vec<&str> = s.description.lines().collect();
    assert_eq!(lines.len(), 3, "{}", s.description);
    assert_eq!(
        lines[0],
        "search = searxng at http://127.0.0.1:8888/ (from SEARXNG_URL)"
    );
    assert!(lines[1].starts_with("fetch = direct HTTP"), "{}", lines[1]);
    assert!(
        lines[2].starts_with("writer = extractive (no model is configured"),
        "{}",
        lines[2]
    );
    assert_eq!(s.providers.search.name(), "searxng");
    assert_eq!(s.providers.writer.name(), "extractive");
}

#[test]
fn keys_select_providers_and_never_show() {
    let d = dirs();
    let e = env(&[
        ("BRAVE_API_KEY", "brave-secret-123"),
        ("OPENAI_API_KEY", "sk-secret-456"),
        ("OPENAI_MODEL", "gpt-4o-mini"),
        ("OPENAI_BASE_URL", "http://user:pw@127.0.0.1:8000/v1"),
        ("BRIGHTDATA_API_KEY", "bd-secret-789"),
        ("BRIGHTDATA_UNLOCKER_ZONE", "unlocker1"),
    ]);
    let s = select(&Config::default(), &e, false, &d.corpus, &d.index).unwrap();
    assert_eq!(s.providers.search.name(), "brave");
    assert_eq!(s.providers.fetch.name(), "brightdata unlocker");
    assert_eq!(s.providers.writer.name(), "openai");
    for secret in ["brave-secret-123", "sk-secret-456", "bd-secret-789", "pw"] {
        assert!(!s.description.contains(secret), "{}", s.description);
        assert!(!s.providers.description.contains(secret));
    }
    assert!(
        s.description.contains("model gpt-4o-mini"),
        "{}",
        s.description
    );
}

#[test]
fn a_configured_provider_without_its_key_is_a_clear_error() {
    let d = dirs();
    let config = Config::parse("[search]\nprovider = \"brave\"\n", "expanse.toml").unwrap();
    let e = select(&config, &env(&[]), false, &d.corpus, &d.index)
        .err()
        .unwrap();
    assert_eq!(
        e,
        ResearchError::Config(
            "search.provider = \"brave\" needs BRAVE_API_KEY in the environment".into()
        )
    );
    let config = Config::parse("[search]\nprovider = \"searxng\"\n", "expanse.toml").unwrap();
    let e = select(&config, &env(&[]), false, &d.corpus, &d.index)
        .err()
        .unwrap();
    assert!(e.to_string().contains("SEARXNG_URL"), "{e}");
}

#[test]
fn env_overrides_the_file() {
    let d = dirs();
    let config = Config::parse(
        "[search]\nsearxng_url = \"http://127.0.0.1:1111\"\n[model]\nmodel = \"from-file\"\nbase_url = \"http://127.0.0.1:2222/v1\"\ncontext_chars = 9000\n",
        "expanse.toml",
    )
    .unwrap();
    let e = env(&[
        ("SEARXNG_URL", "http://127.0.0.1:3333"),
        ("OPENAI_MODEL", "from-env"),
    ]);
    let s = select(&config, &e, false, &d.corpus, &d.index).unwrap();
    assert!(
        s.description.contains("127.0.0.1:3333"),
        "{}",
        s.description
    );
    assert!(
        s.description
            .contains("model from-env at http://127.0.0.1:2222/v1"),
        "{}",
        s.description
    );
    assert!(
        s.description.contains("no API key") && s.description.contains("9000 context characters"),
        "{}",
        s.description
    );
}

#[test]
fn a_model_alone_keeps_local_search_and_fetch() {
    let d = dirs();
    let e = env(&[
        ("OPENAI_MODEL", "llama3"),
        ("OPENAI_BASE_URL", "http://127.0.0.1:11434/v1"),
    ]);
    let s = select(&Config::default(), &e, false, &d.corpus, &d.index).unwrap();
    assert_eq!(s.providers.search.name(), "local");
    assert_eq!(s.providers.fetch.name(), "local");
    assert_eq!(s.providers.writer.name(), "openai");
}

#[test]
fn the_file_is_optional_and_checked() {
    let tmp = tempfile::tempdir().unwrap();
    assert_eq!(Config::load(tmp.path()).unwrap(), Config::default());
    std::fs::write(tmp.path().join("expanse.toml"), "[limits]\nper_host = 3\n").unwrap();
    let e = Config::load(tmp.path()).unwrap_err();
    assert!(matches!(e, ConfigError::UnknownKey { .. }), "{e:?}");
    let m = e.to_string();
    assert!(
        m.contains("expanse.toml")
            && m.contains("limits.per_host")
            && m.contains("per_host_concurrency"),
        "{m}"
    );
    std::fs::write(
        tmp.path().join("expanse.toml"),
        "[search]\nbrave_api_key = \"k\"\n",
    )
    .unwrap();
    let m = Config::load(tmp.path()).unwrap_err().to_string();
    assert!(
        m.contains("secrets only from the environment") && m.contains("BRAVE_API_KEY"),
        "{m}"
    );
    std::fs::write(tmp.path().join("expanse.toml"), "jobs = \"four\"\n").unwrap();
    let m = Config::load(tmp.path()).unwrap_err().to_string();
    assert!(m.contains("expanse.toml") && m.contains("jobs"), "{m}");
}
