//! expanse: run a knowledge-expansion plan with one research runner per PART, under human review.

pub mod knowledge;
pub mod plan;
pub mod research;
