//! One module per subcommand; each turns parsed arguments into library calls and output.

pub mod check;
pub mod extract;
pub mod review;
pub mod run;
pub mod status;

use std::path::Path;

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
            eprintln!("{shown}:{}: error: {source}", source.line());
            return None;
        }
        Err(plan::LoadError::Io { source, .. }) => {
            eprintln!("{shown}: error: cannot read the plan: {source}");
            return None;
        }
    };
    for d in &plan.diagnostics {
        let level = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        eprintln!("{shown}:{}: {level}: {}", d.line, d.message);
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
            Ok(_) => eprintln!("expanse: finished the interrupted approval of PART {n}"),
            Err(e) => eprintln!(
                "expanse: the interrupted approval of PART {n} cannot finish: {e}; its draft stays for review"
            ),
        }
    }
}
