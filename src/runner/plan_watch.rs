//! The run watches its own plan file: an edit (a PART added, one ticked by hand) reaches the
//! supervisor whether or not a terminal is attached.

use std::path::Path;

use tokio::sync::mpsc;

use super::event::Command;

/// Send the plan to `commands` each time its file changes and still parses without errors.
/// The watcher stops when dropped; None when the file cannot be watched (the run goes on with
/// the plan it read).
pub fn watch_plan(
    plan_path: &Path,
    commands: mpsc::Sender<Command>,
) -> Option<notify::RecommendedWatcher> {
    on_plan_change(plan_path, move |plan| {
        let _ = commands.blocking_send(Command::UpdatePlan(Box::new(plan)));
    })
}

/// Call `changed` with the plan each time its file changes and still parses without errors (a
/// terminal redraws its cards with it; the run takes new PARTs and ticks by hand).
pub fn on_plan_change(
    plan_path: &Path,
    changed: impl Fn(crate::plan::Plan) + Send + 'static,
) -> Option<notify::RecommendedWatcher> {
    use notify::{RecursiveMode, Watcher as _};
    // notify reports absolute paths; compare against an absolute one. The folder is watched,
    // since editors replace the file rather than write into it.
    let plan_file = plan_path.canonicalize().ok()?;
    let watched = plan_file.clone();
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        let Ok(event) = res else { return };
        if !(event.kind.is_modify() || event.kind.is_create()) || !event.paths.contains(&watched) {
            return;
        }
        if let Ok((plan, _)) = crate::plan::load(&watched)
            && !plan.has_errors()
        {
            changed(plan);
        }
    })
    .ok()?;
    watcher
        .watch(plan_file.parent()?, RecursiveMode::NonRecursive)
        .ok()?;
    Some(watcher)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_edit_that_parses_reaches_the_run_and_one_with_errors_does_not() {
        let dir = tempfile::tempdir().unwrap();
        let plan = dir.path().join("p.md");
        let one = "# P\n\n### PART 1: Create t/a.md (~30 lines)\n\n- [ ] PART 1: Create t/a.md\n- [ ] Section 1: A (~10 lines)\n";
        std::fs::write(&plan, one).unwrap();
        let (tx, mut rx) = mpsc::channel(8);
        let _w = watch_plan(&plan, tx).unwrap();
        // An edit that does not parse is not sent (given time to be seen)…
        std::fs::write(&plan, "# P\n\n### PART 1: Create\n").unwrap();
        let quiet = tokio::time::timeout(std::time::Duration::from_millis(800), rx.recv()).await;
        assert!(quiet.is_err(), "a plan with errors was sent: {quiet:?}");
        // …the next good one is.
        let two = one.to_string()
            + "\n### PART 2: Create t/b.md (~30 lines)\n\n- [ ] PART 2: Create t/b.md\n- [ ] Section 1: B (~10 lines)\n";
        std::fs::write(&plan, two).unwrap();
        let got = tokio::time::timeout(std::time::Duration::from_secs(10), rx.recv())
            .await
            .expect("the edit is seen")
            .unwrap();
        let Command::UpdatePlan(p) = got else {
            panic!("{got:?}")
        };
        assert_eq!(p.parts.len(), 2, "the first plan sent is the good edit");
    }
}
