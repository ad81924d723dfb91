//! A compiled statement: its effect, action and resource patterns and
//! condition clauses, ready to evaluate.

use super::action::{ActionBits, ActionPattern};
use super::condition::Clause;
use super::resource::ResourcePattern;

/// `allow` or `deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Effect {
    /// Grants the action.
    Allow,
    /// Forbids the action, whatever else allows it.
    Deny,
}

/// A compiled statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// Its index in the document's `statement` array.
    pub index: usize,
    /// Allow or deny.
    pub effect: Effect,
    /// Action patterns, OR'ed.
    pub actions: Vec<ActionPattern>,
    /// The catalogued actions `actions` match, precomputed.
    pub action_bits: ActionBits,
    /// Resource patterns, OR'ed.
    pub resources: Vec<ResourcePattern>,
    /// The resource patterns as written (for display only).
    pub resources_shown: Box<[Box<str>]>,
    /// True when one of `resources` is `*` (needed to grant operation-level APIs).
    pub any_resource: bool,
    /// Condition clauses, AND'ed.
    pub conditions: Vec<Clause>,
}
