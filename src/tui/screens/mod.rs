//! The screens: each owns its state, turns an Action into Steps with `handle`, and draws itself
//! read-only with `draw`. The app routes keys to the screen in front and applies the Steps.

pub mod drafts;
pub mod grid;
pub mod log;
pub mod review;

use super::cards::Cards;
pub use super::overlay::{EditWhat, Effect, Step};

/// What a screen sees of the app while handling an action.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    /// Every card.
    pub cards: &'a Cards,
    /// Index of the selected card.
    pub selected: usize,
    /// The terminal's size.
    pub size: (u16, u16),
}
