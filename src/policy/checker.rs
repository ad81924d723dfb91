//! Collects a document's errors and warnings, each with its text position,
//! while the parts of a policy are checked.

use super::error::{Code, PolicyError, PolicyWarning, Position, Severity};

/// Collects errors and warnings with their text positions.
pub(crate) struct Checker<'t> {
    pub(crate) text: &'t str,
    pub(crate) errors: Vec<PolicyError>,
    pub(crate) warnings: Vec<PolicyWarning>,
}

impl Checker<'_> {
    pub(crate) fn error(&mut self, code: Code, path: &str, offset: usize, message: String) {
        self.errors.push(PolicyError {
            code,
            path: path.to_string(),
            position: Position::of_offset(self.text, offset),
            message,
        });
    }

    pub(crate) fn warn(&mut self, path: &str, offset: usize, message: String) {
        self.push(Severity::Warning, path, offset, message);
    }

    pub(crate) fn note(&mut self, path: &str, offset: usize, message: String) {
        self.push(Severity::Note, path, offset, message);
    }

    fn push(&mut self, severity: Severity, path: &str, offset: usize, message: String) {
        self.warnings.push(PolicyWarning {
            severity,
            path: path.to_string(),
            position: Position::of_offset(self.text, offset),
            message,
        });
    }
}
