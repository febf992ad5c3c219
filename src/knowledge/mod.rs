//! The knowledge base on disk: safe path resolution and the Step 0 scan of what it already holds.

pub mod coverage;
pub mod index;
pub mod lock;
mod paths;
mod scan;

pub use coverage::{Coverage, CoveredBy, SectionCoverage};
pub use paths::{Managed, PathError, open_managed, resolve_managed, resolve_target};
pub use scan::{Existing, ExistingFile, MatchLine, TargetFile, read_text, scan};
