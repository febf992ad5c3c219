//! `expanse init`: make a workspace with an example plan that runs offline.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use expanse::workspace::{self, Created};

/// Arguments of `expanse init`.
#[derive(clap::Args)]
pub struct Args {
    /// The folder to make the workspace in (created if missing). Default: --root, else the
    /// current folder.
    dir: Option<PathBuf>,
}

/// Run the command: refuse (exit 1, naming the files) if it would overwrite anything.
pub fn run(root: &Path, args: &Args) -> anyhow::Result<ExitCode> {
    let dir = args.dir.clone().unwrap_or_else(|| root.to_path_buf());
    let today = chrono::Local::now().format("%Y-%m-%d").to_string();
    let created = match workspace::init(&dir, &today) {
        Ok(c) => c,
        Err(e) => {
            note!("expanse: {e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let what = |path: &Path| -> &'static str {
        let p = path.to_string_lossy();
        if p.ends_with(".md") && p.contains("plans") {
            "a 3-PART plan that runs offline on the demo corpus built into expanse"
        } else if p.ends_with("INDEX.md") {
            "the knowledge base's index; approved files are listed here"
        } else if p.ends_with(".toml") {
            "every setting, commented out, with its default"
        } else {
            "keeps .expanse/ (journals, cache, drafts awaiting review) out of git"
        }
    };
    for c in &created {
        match c {
            Created::File(p) => outln!("created {:<28} {}", p.display().to_string(), what(p)),
            Created::IgnoreAdded(p) => outln!("added .expanse/ to {}", p.display()),
            Created::IgnoreKept(p) => outln!("kept {} (it already ignores .expanse/)", p.display()),
        }
    }
    let cd = if dir == Path::new(".") || dir.as_os_str().is_empty() {
        String::new()
    } else {
        format!("  cd {}\n", shell_word(&dir.display().to_string()))
    };
    outln!(
        "\nNext:\n{cd}  expanse run {plan}     the terminal UI: n opens the next draft, a approves it, q quits\n  \
         expanse help plan                the plan format\n  \
         expanse new plans/mine.md --title \"…\" --part dir/file.md:Title   a plan of your own",
        plan = workspace::EXAMPLE_PLAN_PATH
    );
    Ok(ExitCode::SUCCESS)
}

/// `dir` quoted for a POSIX shell when it needs it.
fn shell_word(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}
