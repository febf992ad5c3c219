//! expanse: run a knowledge-expansion plan with one research runner per PART, under human review.

pub mod config;
pub mod draft;
pub mod editor;
pub mod fsutil;
pub mod journal;
pub mod knowledge;
pub mod markdown;
pub mod notify;
pub mod plan;
pub mod research;
pub mod review;
pub mod runner;
pub mod sources;
pub mod state;
pub mod terms;
pub mod tui;
pub mod words;
pub mod workspace;
