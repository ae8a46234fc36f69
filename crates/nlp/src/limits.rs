//! What one document may cost: the caps that keep every stage linear in the text's length, and
//! the deadline after which the analysis stops.
//!
//! The caps bound the quadratic shapes text can take: a "sentence" of a whole article with no
//! full stop, a statement whose content runs on, thousands of cues or targets. Each stage reads
//! the caps of the document it works on ([`crate::Doc::limits`]) and checks the deadline
//! ([`crate::Doc::check_deadline`]) between sentences or batches, so an analysis that runs out
//! of time stops within one batch and frees its core.

use std::time::{Duration, Instant};

use crate::error::NlpError;

/// The caps on one document's analysis. The defaults leave ordinary news untouched (the
/// longest BBC sentence has about 105 words; statements run to a few dozen tokens) and bound
/// hostile text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Tokens after which a sentence is cut, at the last comma, semicolon or colon of its
    /// last quarter if it has one.
    pub max_sentence_tokens: usize,
    /// Tokens of a statement's content; longer content is cut at this length.
    pub max_statement_tokens: usize,
    /// Statements kept per document: the most confident, in text order.
    pub max_statements: usize,
    /// Stance targets classified per document: those toward the most salient entities and
    /// the topics, in text order.
    pub max_targets: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_sentence_tokens: 256,
            max_statement_tokens: 120,
            max_statements: 200,
            max_targets: 500,
        }
    }
}

/// When an analysis must stop: a point in time and the budget it came from (for the reason).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    /// The instant after which stages stop.
    pub at: Instant,
    /// The budget the analysis was given.
    pub budget: Duration,
}

impl Deadline {
    /// A deadline `budget` from now.
    pub fn after(budget: Duration) -> Self {
        Self {
            at: Instant::now() + budget,
            budget,
        }
    }

    /// An error naming `stage` once the deadline has passed.
    pub fn check(&self, stage: &str) -> Result<(), NlpError> {
        if Instant::now() >= self.at {
            return Err(NlpError::Deadline {
                stage: stage.to_owned(),
                budget: self.budget,
            });
        }
        Ok(())
    }
}

/// Checks an optional deadline.
pub fn check(deadline: Option<&Deadline>, stage: &str) -> Result<(), NlpError> {
    deadline.map_or(Ok(()), |deadline| deadline.check(stage))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_passed_deadline_names_the_stage() {
        let passed = Deadline {
            at: Instant::now(),
            budget: Duration::from_millis(5),
        };
        let error = passed.check("ner").unwrap_err();
        assert!(error.to_string().starts_with("deadline"), "{error}");
        assert!(error.to_string().contains("ner"), "{error}");
        assert!(
            Deadline::after(Duration::from_secs(60))
                .check("ner")
                .is_ok()
        );
        assert!(check(None, "ner").is_ok());
    }
}
