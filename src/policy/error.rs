//! Validation errors and warnings for policy documents, each with its CAM error code.

use std::fmt;

pub use crate::code::Code;

/// A line and column in the document text, both counted from 1 (columns in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Position {
    /// Line number, from 1.
    pub line: u32,
    /// Column number in characters, from 1.
    pub column: u32,
}

impl Position {
    /// The position of byte offset `offset` in `text`.
    pub fn of_offset(text: &str, offset: usize) -> Self {
        let mut line = 1u32;
        let mut column = 1u32;
        for (i, c) in text.char_indices() {
            if i >= offset {
                break;
            }
            if c == '\n' {
                line = line.saturating_add(1);
                column = 1;
            } else {
                column = column.saturating_add(1);
            }
        }
        Self { line, column }
    }
}

/// One thing wrong with a policy document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    /// The CAM error code.
    pub code: Code,
    /// Where in the document, e.g. `statement[2].condition.ip_equal.qcs:ip[0]`;
    /// empty for the document as a whole.
    pub path: String,
    /// Where in the text.
    pub position: Position,
    /// What is wrong, lowercase, naming the bad input.
    pub message: String,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.code)?;
        if !self.path.is_empty() {
            write!(f, "at `{}` ", self.path)?;
        }
        write!(
            f,
            "(line {}, column {}): {}",
            self.position.line, self.position.column, self.message
        )
    }
}

impl std::error::Error for PolicyError {}

/// How much a [`PolicyWarning`] matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// Legal but probably not meant.
    Warning,
    /// Worth knowing, nothing wrong: e.g. an action that is camd's own,
    /// not Tencent's.
    Note,
}

impl Severity {
    /// `warning` or `note`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Warning => "warning",
            Self::Note => "note",
        }
    }
}

/// Something legal but probably not meant, e.g. a wildcard action that
/// matches no catalogued action; or, as a note, something worth knowing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyWarning {
    /// A warning or a note.
    pub severity: Severity,
    /// Where in the document.
    pub path: String,
    /// Where in the text.
    pub position: Position,
    /// What looks wrong.
    pub message: String,
}

impl fmt::Display for PolicyWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: at `{}` (line {}, column {}): {}",
            self.severity.as_str(),
            self.path,
            self.position.line,
            self.position.column,
            self.message
        )
    }
}

/// Every error found in one document (never empty when returned as an error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyErrors(pub Vec<PolicyError>);

impl PolicyErrors {
    /// The first error's code; documents are reported under it.
    pub fn code(&self) -> Option<Code> {
        self.0.first().map(|e| e.code)
    }
}

impl fmt::Display for PolicyErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for PolicyErrors {}
