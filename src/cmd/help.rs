//! `expanse help [TOPIC]`: the plan format (`help plan`), the terminal UI's keys (`help keys`),
//! or a command's help.

use std::process::ExitCode;

use clap::CommandFactory;

/// Arguments of `expanse help`.
#[derive(clap::Args)]
pub struct Args {
    /// `plan` for the plan format, `keys` for the terminal UI's keys, or a command's name.
    topic: Option<String>,
}

/// Run the command.
pub fn run<C: CommandFactory>(args: &Args) -> anyhow::Result<ExitCode> {
    let mut cli = C::command();
    // Built first so a command's usage line reads `expanse check …`, as typed.
    cli.build();
    match args.topic.as_deref() {
        None => out!("{}", cli.render_long_help()),
        Some("plan" | "plans" | "format") => out!("{}", expanse::plan::format_guide()),
        Some("keys" | "tui") => out!(
            "The terminal UI's keys, per screen (rebind them in expanse.toml's [keys]):\n{}",
            expanse::tui::keymap::Keymap::default().markdown()
        ),
        Some(name) => match cli.find_subcommand_mut(name) {
            Some(sub) => out!("{}", sub.render_long_help()),
            None => {
                note!(
                    "expanse: no help topic \"{name}\"; try `expanse help plan`, or one of the commands in `expanse help`"
                );
                return Ok(ExitCode::FAILURE);
            }
        },
    }
    Ok(ExitCode::SUCCESS)
}
