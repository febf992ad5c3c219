//! One module per subcommand; each turns parsed arguments into library calls and output.

/// `print!` through [`emit`]: a closed pipe ends the process quietly, a full disk with one line.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cmd::emit(format_args!($($arg)*))
    };
}

/// `println!` through [`emit`].
macro_rules! outln {
    () => {
        $crate::cmd::emit(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::cmd::emit(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `eprintln!` that never panics: a message to a closed or full stderr is dropped, since there
/// is nowhere left to report it.
macro_rules! note {
    ($($arg:tt)*) => {
        $crate::cmd::note(format_args!($($arg)*))
    };
}

pub mod attach;
pub mod check;
pub mod extract;
pub mod help;
pub mod init;
pub mod launch;
pub mod new;
pub mod review;
pub mod run;
pub mod said;
pub mod status;
pub mod steer;
pub mod verify;

use std::io::Write as _;
use std::path::Path;

/// Write to stdout and flush. `println!` panics (exit 101) when stdout is a closed pipe
/// (`expanse status PLAN | head -1`) or a full disk; here a closed pipe ends the process quietly
/// with status 0 (the reader has all it wanted) and any other write error with one line and
/// status 1. Both end the process at once: nothing later could reach the reader either.
pub fn emit(args: std::fmt::Arguments<'_>) {
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout.write_fmt(args).and_then(|()| stdout.flush()) {
        output_failed(&e);
    }
}

/// End the process after a failed write to stdout (see [`emit`]).
pub fn output_failed(e: &std::io::Error) -> ! {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    note(format_args!("expanse: cannot write the output: {e}"));
    std::process::exit(1);
}

/// One line to stderr, dropped if stderr cannot take it (see [`note!`]).
pub fn note(args: std::fmt::Arguments<'_>) {
    let mut stderr = std::io::stderr().lock();
    let _ = stderr
        .write_fmt(args)
        .and_then(|()| stderr.write_all(b"\n"));
}

use expanse::plan::{self, Plan, Severity};

/// Load a plan and print its diagnostics as `PLAN:LINE: level: message`; None when it has errors.
pub fn load_checked(path: &Path, shown: &str) -> anyhow::Result<Option<Plan>> {
    Ok(load_reported(path, shown).filter(|plan| !plan.has_errors()))
}

/// Load a plan and print every problem as `PLAN:LINE: level: message`; the plan even when it
/// has errors (check shows it anyway), None only when it could not be read at all.
pub fn load_reported(path: &Path, shown: &str) -> Option<Plan> {
    let plan = match plan::load(path) {
        Ok((plan, _)) => plan,
        Err(plan::LoadError::Parse { source, .. }) => {
            note!("{shown}:{}: error: {source}", source.line());
            return None;
        }
        Err(plan::LoadError::Io { source, .. }) => {
            note!("{shown}: error: cannot read the plan: {source}");
            return None;
        }
    };
    for d in &plan.diagnostics {
        let level = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        note!("{shown}:{}: {level}: {}", d.line, d.message);
    }
    Some(plan)
}

/// Send `tracing` output to `.expanse/expanse.log`, never to the terminal.
pub fn init_logging(state: &Path) {
    let Ok(file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(state.join("expanse.log"))
    else {
        return;
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("EXPANSE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::sync::Mutex::new(file))
        .try_init();
}

/// Say what became of approvals a crash had interrupted.
pub fn report_resumed(
    resumed: &[(
        u32,
        Result<expanse::review::Approved, expanse::review::ReviewError>,
    )],
) {
    for (n, result) in resumed {
        match result {
            Ok(_) => note!("expanse: finished the interrupted approval of PART {n}"),
            Err(e) => note!(
                "expanse: the interrupted approval of PART {n} cannot finish: {e}; its draft stays for review"
            ),
        }
    }
}

/// The model's yes/no as the grounding check's second opinion. Reviews run off the async
/// threads, so this blocks: on the run's runtime when there is one, else on its own.
pub struct ModelOpinion {
    writer: std::sync::Arc<expanse::research::http::OpenAiWriter>,
    /// A runtime of its own, made only when asked outside any (`review --check`).
    own: std::sync::OnceLock<Option<tokio::runtime::Runtime>>,
    name: String,
}

impl ModelOpinion {
    /// An opinion from `writer`'s model.
    pub fn new(writer: std::sync::Arc<expanse::research::http::OpenAiWriter>, model: &str) -> Self {
        ModelOpinion {
            writer,
            own: std::sync::OnceLock::new(),
            name: model.to_string(),
        }
    }
}

impl expanse::review::opinion::ModelJudge for ModelOpinion {
    fn name(&self) -> &str {
        &self.name
    }

    fn ask(
        &self,
        system: &str,
        user: &str,
    ) -> Result<(String, Option<expanse::state::Usage>), expanse::research::ResearchError> {
        // A line per claim with its quote: room for each, and no more.
        let claims = user.matches(". Claim: ").count().max(1) as u32;
        let ask = self
            .writer
            .ask(system, user, 80 * claims + 64, &|_: &str| {});
        // On the run's runtime when called from its blocking pool (its connections live there).
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => handle.block_on(ask),
            Err(_) => {
                let rt = self.own.get_or_init(|| {
                    tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .ok()
                });
                match rt {
                    Some(rt) => rt.block_on(ask),
                    None => Err(expanse::research::ResearchError::Config(
                        "cannot start an async runtime for the second opinion".into(),
                    )),
                }
            }
        }
    }
}

/// The second opinion `[review] verify = "model"` asks for, when a model is configured.
pub fn second_opinion(
    config: &expanse::config::Config,
    model: Option<std::sync::Arc<expanse::research::http::OpenAiWriter>>,
) -> Option<expanse::review::opinion::Judge> {
    if config.review.verify != Some(expanse::config::Verify::Model) {
        return None;
    }
    let Some(writer) = model else {
        note!(
            "expanse: [review] verify = \"model\" needs a model (OPENAI_MODEL or [model] model); claims are checked by their words only"
        );
        return None;
    };
    let name = expanse::config::var(
        &expanse::config::process_env,
        expanse::config::env::OPENAI_MODEL,
    )
    .or_else(|| config.model.model.clone())
    .unwrap_or_else(|| "model".into());
    Some(expanse::review::opinion::Judge(std::sync::Arc::new(
        ModelOpinion::new(writer, &name),
    )))
}
