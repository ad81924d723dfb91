//! Reference evaluator (filled in next).
