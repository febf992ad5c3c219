//! `expanse extract`: the main content of one page (file or URL), exactly as a runner sees it.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use expanse::research::Fetch as _;
use expanse::research::extract::markdown_to_text;
use expanse::research::http::{DirectFetch, HttpClient, Redactor, http_options};

/// What to print.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// Markdown, as the writer receives it.
    Markdown,
    /// Plain text (markdown syntax removed).
    Text,
}

/// Arguments of `expanse extract`.
#[derive(clap::Args)]
pub struct Args {
    /// An HTML, markdown or text file, or an http(s) URL.
    input: String,
    /// Print markdown (what the writer gets) or plain text.
    #[arg(long, value_enum, default_value = "markdown")]
    format: Format,
}

/// Run the command.
pub fn run(root: &Path, args: &Args) -> anyhow::Result<ExitCode> {
    let is_url = args.input.starts_with("http://") || args.input.starts_with("https://");
    let (title, content) = if is_url {
        let config = expanse::config::Config::load(root)?;
        // Secrets never reach the output: every key the environment holds is redacted.
        let secrets = ["OPENAI_API_KEY", "BRAVE_API_KEY", "BRIGHTDATA_API_KEY"]
            .iter()
            .filter_map(|k| std::env::var(k).ok());
        let client = HttpClient::new(http_options(&config), Redactor::new(secrets))
            .map_err(|e| anyhow::anyhow!("cannot set up HTTP: {e}"))?;
        let fetch = DirectFetch::new(Arc::new(client), None);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        let log = |line: &str| eprintln!("expanse: {line}");
        match rt.block_on(fetch.fetch(&args.input, &log)) {
            Ok(page) => (page.title, page.content),
            Err(e) => {
                eprintln!("expanse: {e}");
                return Ok(ExitCode::FAILURE);
            }
        }
    } else {
        let path = PathBuf::from(&args.input);
        match expanse::research::local::load_doc(&path) {
            Ok(doc) => (doc.title, doc.text),
            Err(skip) => {
                eprintln!("expanse: {}: {skip}", path.display());
                return Ok(ExitCode::FAILURE);
            }
        }
    };
    eprintln!("expanse: title: {title}");
    match args.format {
        Format::Markdown => out!("{content}"),
        Format::Text => out!("{}", markdown_to_text(&content)),
    }
    Ok(ExitCode::SUCCESS)
}
