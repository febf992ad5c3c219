//! The terminal UI: a front end over the supervisor's Events and Commands (ratatui + crossterm).

pub mod app;
pub mod cards;
pub mod keymap;
pub mod layout;
pub mod logbuf;
pub mod overlay;
pub mod runtime;
pub mod screens;
pub mod terminal;
pub mod theme;
pub mod wrap;

pub use app::view;
pub use runtime::{Closed, Ending, TuiOptions, attach};
pub use terminal::restore_terminal;
