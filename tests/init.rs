//! `expanse init`: a workspace from nothing that runs offline, refusal to overwrite, refusal of
//! commands outside a workspace, and the commented settings template.

use std::path::Path;

use assert_cmd::Command;
use expanse::config::{Config, ConfigError};
use expanse::workspace::{CONFIG_TEMPLATE, EXAMPLE_PLAN_PATH};

/// The built binary, started in `dir` with no --root: what a user who installed it types.
fn expanse_in(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("expanse").unwrap();
    c.current_dir(dir);
    c
}

/// A folder far from the repository: no assets/ beside it or above it.
fn empty_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    assert!(!dir.path().join("assets").exists());
    assert!(
        !dir.path().starts_with(env!("CARGO_MANIFEST_DIR")),
        "the temp folder must be outside the repository"
    );
    dir
}

fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(
                    p.strip_prefix(dir)
                        .unwrap()
                        .to_string_lossy()
                        .replace('\\', "/"),
                );
            }
        }
    }
    out.sort();
    out
}

#[test]
fn init_then_an_offline_run_reaches_review_with_no_assets_folder() {
    let tmp = empty_dir();
    let out = expanse_in(tmp.path())
        .args(["init", "ws"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let ws = tmp.path().join("ws");
    assert_eq!(
        files_under(&ws),
        [
            ".gitignore",
            "expanse.toml",
            "knowledge/INDEX.md",
            "plans/example.md"
        ]
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("expanse run plans/example.md"), "{stdout}");
    assert_eq!(
        std::fs::read_to_string(ws.join(".gitignore"))
            .unwrap()
            .lines()
            .last(),
        Some(".expanse/")
    );
    // The plan is dated today and checks clean.
    let plan = std::fs::read_to_string(ws.join(EXAMPLE_PLAN_PATH)).unwrap();
    assert!(!plan.contains("{{DATE}}"));
    let parsed = expanse::plan::Plan::parse(&plan);
    assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
    assert_eq!(parsed.parts.len(), 3);

    // The installed binary, in the new workspace, offline, with no corpus of its own.
    let out = expanse_in(&ws)
        .args([
            "run",
            EXAMPLE_PLAN_PATH,
            "--headless",
            "--json",
            "--offline",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("embedded demo corpus"), "{stderr}");
    assert!(stderr.contains("64 documents"), "{stderr}");
    assert!(!ws.join("assets").exists());
    let reviews: Vec<u64> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|e| e["state"] == "review")
        .map(|e| e["part"].as_u64().unwrap())
        .collect();
    assert_eq!(reviews.len(), 3, "every PART reaches review: {reviews:?}");

    // Each draft cites the demo corpus; review lists all three as clean.
    let list = expanse_in(&ws)
        .args(["review", EXAMPLE_PLAN_PATH])
        .output()
        .unwrap();
    let list = String::from_utf8(list.stdout).unwrap();
    assert!(list.contains("3 drafts awaiting review"), "{list}");
    assert!(!list.contains("not clean"), "{list}");
    let diff = expanse_in(&ws)
        .args(["review", EXAMPLE_PLAN_PATH, "--diff", "2"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8(diff.stdout)
            .unwrap()
            .contains("corpus://inference-optimization/triton-02-dynamic-batching.md")
    );
}

#[test]
fn a_second_run_reuses_the_written_corpus_and_its_index() {
    let tmp = empty_dir();
    expanse_in(tmp.path()).arg("init").assert().success();
    let run = || {
        let out = expanse_in(tmp.path())
            .args([
                "run",
                EXAMPLE_PLAN_PATH,
                "--headless",
                "--offline",
                "--only",
                "1",
            ])
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stderr).unwrap()
    };
    assert!(run().contains("index built now"));
    let corpus = std::fs::read_dir(tmp.path().join(".expanse/corpus"))
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .path();
    // An edited copy is put back: the embedded bytes are the corpus, and the index follows.
    let doc = corpus.join("orchestration/ray-01-fundamentals-ray-core-vs-dask.md");
    let original = std::fs::read(&doc).unwrap();
    std::fs::write(&doc, "tampered").unwrap();
    let second = run();
    assert_eq!(std::fs::read(&doc).unwrap(), original);
    assert!(second.contains("index built now"), "{second}");
    assert!(run().contains("index reused"));
}

#[test]
fn init_refuses_to_overwrite_and_writes_nothing() {
    let tmp = empty_dir();
    std::fs::create_dir(tmp.path().join("knowledge")).unwrap();
    std::fs::write(tmp.path().join("knowledge/INDEX.md"), "# mine\n").unwrap();
    std::fs::write(tmp.path().join("expanse.toml"), "jobs = 2\n").unwrap();
    let out = expanse_in(tmp.path()).arg("init").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("knowledge/INDEX.md") && err.contains("expanse.toml"),
        "{err}"
    );
    assert!(err.contains("never overwrites"), "{err}");
    assert_eq!(
        files_under(tmp.path()),
        ["expanse.toml", "knowledge/INDEX.md"]
    );
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("knowledge/INDEX.md")).unwrap(),
        "# mine\n"
    );
    // A second init over a fresh workspace names the example plan too.
    let other = empty_dir();
    expanse_in(other.path()).arg("init").assert().success();
    let before = files_under(other.path());
    let out = expanse_in(other.path()).arg("init").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("plans/example.md"));
    assert_eq!(files_under(other.path()), before);
}

#[test]
fn an_existing_gitignore_gains_one_line() {
    let tmp = empty_dir();
    std::fs::write(tmp.path().join(".gitignore"), "target/").unwrap();
    expanse_in(tmp.path()).arg("init").assert().success();
    assert_eq!(
        std::fs::read_to_string(tmp.path().join(".gitignore")).unwrap(),
        format!("target/\n{}", expanse::workspace::GITIGNORE)
    );
    let other = empty_dir();
    std::fs::write(other.path().join(".gitignore"), "/.expanse\n").unwrap();
    expanse_in(other.path()).arg("init").assert().success();
    assert_eq!(
        std::fs::read_to_string(other.path().join(".gitignore")).unwrap(),
        "/.expanse\n"
    );
}

#[test]
fn commands_outside_a_workspace_suggest_init_and_create_nothing() {
    let tmp = empty_dir();
    std::fs::write(
        tmp.path().join("p.md"),
        "### PART 1: Create a.md\n- [ ] PART 1: Create a.md\n",
    )
    .unwrap();
    for args in [
        &["run", "p.md", "--headless", "--offline"][..],
        &["status", "p.md"],
        &["review", "p.md"],
        &["review", "p.md", "--approve", "1"],
    ] {
        let out = expanse_in(tmp.path()).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(
            err.contains("not an expanse workspace") && err.contains("`expanse init`"),
            "{args:?}: {err}"
        );
        assert_eq!(files_under(tmp.path()), ["p.md"], "{args:?}");
    }
    // With --root the suggestion names the folder.
    let out = Command::cargo_bin("expanse")
        .unwrap()
        .arg("--root")
        .arg(tmp.path())
        .args(["status", "p.md"])
        .output()
        .unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains(&format!("expanse init {}", tmp.path().display())),
        "{err}"
    );
    // check needs no workspace: it only reads the plan.
    expanse_in(tmp.path())
        .args(["check", "p.md"])
        .assert()
        .success();
}

/// `name = value` lines of the template, commented out, with the table each is in.
fn template_settings() -> Vec<(String, String, String)> {
    let mut table = String::new();
    let mut out = Vec::new();
    for line in CONFIG_TEMPLATE.lines() {
        if let Some(t) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            table = t.to_string();
        } else if let Some(setting) = line.strip_prefix("# ")
            && let Some((key, value)) = setting.split_once(" = ")
            && !key.is_empty()
            && key
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '_' || c.is_ascii_digit())
        {
            out.push((table.clone(), key.to_string(), value.to_string()));
        }
    }
    out
}

/// The keys config.rs knows in `table`, read from its unknown-key message.
fn known_keys(table: &str) -> Vec<String> {
    let probe = if table.is_empty() {
        "zzz_probe = 1\n".to_string()
    } else {
        format!("[{table}]\nzzz_probe = 1\n")
    };
    match Config::parse(&probe, "probe") {
        Err(ConfigError::UnknownKey { known, .. }) => {
            known.split(", ").map(str::to_string).collect()
        }
        other => panic!("no unknown-key error for [{table}]: {other:?}"),
    }
}

#[test]
fn the_settings_template_lists_every_setting_and_each_parses() {
    // As written (all commented out) it is a valid, empty configuration.
    assert_eq!(
        Config::parse(CONFIG_TEMPLATE, "expanse.toml").unwrap(),
        Config::default()
    );
    let settings = template_settings();
    let tables: Vec<String> = known_keys("")
        .into_iter()
        .filter(|k| !["jobs", "corpus"].contains(&k.as_str()))
        .collect();
    for key in known_keys("") {
        let listed = settings.iter().any(|(t, k, _)| t.is_empty() && *k == key)
            || CONFIG_TEMPLATE.contains(&format!("\n[{key}]\n"));
        assert!(listed, "expanse.toml template lacks `{key}`");
    }
    for table in tables.iter().filter(|t| *t != "keys") {
        for key in known_keys(table) {
            assert!(
                settings.iter().any(|(t, k, _)| t == table && *k == key),
                "expanse.toml template lacks [{table}] {key}"
            );
        }
    }
    // Settings another change adds to config.rs; until it lands they are documented only.
    let pending = [
        ("fetch", "allow_private"),
        ("model", "concurrency"),
        ("model", "requests_per_second"),
    ];
    for (table, key, value) in &settings {
        if table == "keys" {
            continue;
        }
        let text = if table.is_empty() {
            format!("{key} = {value}\n")
        } else {
            format!("[{table}]\n{key} = {value}\n")
        };
        match Config::parse(&text, "expanse.toml") {
            Ok(_) => {}
            Err(ConfigError::UnknownKey { .. })
                if pending.contains(&(table.as_str(), key.as_str())) => {}
            Err(e) => panic!("[{table}] {key} = {value}: {e}"),
        }
    }
    for (table, key) in pending {
        assert!(
            settings.iter().any(|(t, k, _)| t == table && k == key),
            "[{table}] {key}"
        );
    }
}

#[test]
fn the_key_defaults_in_the_template_are_the_keymaps() {
    use expanse::tui::keymap::{Action, Keymap, ScreenKind, parse_key};
    let keys: Vec<(String, String)> = template_settings()
        .into_iter()
        .filter(|(t, _, _)| t == "keys")
        .map(|(_, k, v)| (k, v.trim_matches('"').to_string()))
        .collect();
    let km = Keymap::default();
    let all: std::collections::BTreeSet<Action> = ScreenKind::ALL
        .iter()
        .flat_map(|s| km.actions(*s).iter().copied())
        .collect();
    for action in &all {
        let name = toml::Value::try_from(action)
            .unwrap()
            .as_str()
            .unwrap()
            .to_string();
        let (_, key) = keys
            .iter()
            .find(|(k, _)| *k == name)
            .unwrap_or_else(|| panic!("the template's [keys] lacks {name}"));
        let key = parse_key(key).unwrap();
        assert!(
            ScreenKind::ALL
                .iter()
                .any(|s| km.action(*s, key) == Some(*action)),
            "{name} = {key:?} is not {name}'s key on any screen"
        );
    }
    assert_eq!(keys.len(), all.len(), "one line per action");
}
