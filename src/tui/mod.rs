//! The terminal UI: a front end over the supervisor's Events and Commands (ratatui + crossterm).

pub mod app;
pub mod keymap;
pub mod layout;
pub mod logbuf;
pub mod runtime;
pub mod theme;
pub mod view;

pub use runtime::{TuiOptions, restore_terminal, run};
