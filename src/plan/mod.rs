//! The plan model: parse a knowledge-expansion plan and edit its PART checkboxes byte-exactly.

mod edit;
mod items;
mod load;
mod model;
mod parse;
mod shapes;
mod skeleton;
mod text;
mod validate;

pub use edit::{DEFAULT_DONE_MARK, EditError, tick, untick};
pub use items::item_kind;
pub use load::{LoadError, MAX_PLAN_BYTES, load};
pub use model::{
    Check, CheckboxLine, Diagnostic, DropSpec, Expansion, GrepOp, Part, PartSpan, Plan, Scrape,
    Section, Severity,
};
pub use parse::ParseError;
pub use shapes::{DONE_MARKS, ItemKind, RULES, Rule, SHAPES, Shape, format_guide, is_done_mark};
pub use skeleton::{NewPart, SkeletonError, skeleton};
pub use validate::{MAX_SCRAPE_TOP, invisible, reserved_target, target_problem, visible};
