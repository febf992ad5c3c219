//! The plan model: parse a knowledge-expansion plan and edit its PART checkboxes byte-exactly.

mod edit;
mod load;
mod model;
mod parse;
mod text;
mod validate;

pub use edit::{DEFAULT_DONE_MARK, EditError, tick, untick};
pub use load::{LoadError, MAX_PLAN_BYTES, load};
pub use model::{
    Check, CheckboxLine, Diagnostic, DropSpec, Expansion, GrepOp, Part, PartSpan, Plan, Scrape,
    Section, Severity,
};
pub use parse::ParseError;
pub use validate::{MAX_SCRAPE_TOP, target_problem};
