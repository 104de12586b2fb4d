//! YAML rules: what they look like ([`format`]), how files are loaded and checked
//! ([`load`]), how they run on a message or ticket event ([`eval`]), and how
//! `rule enable/disable` edits a file in place ([`edit`]).

mod categories;
pub mod edit;
pub mod eval;
pub mod format;
pub mod load;
mod pieces;

pub use eval::{Decision, Event as RuleEvent};
pub use format::{Rule, When};
pub use load::{LoadErrors, RuleSet};
