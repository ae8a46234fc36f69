//! What one article's analysis may cost: the caps of `newsflow_nlp::Limits`, the deadline and
//! the number of topics, as flags and environment variables shared by the services and the
//! command line.

use std::time::Duration;

use newsflow_nlp::{Deadline, Doc, Limits};

/// The analysis budget as flags and environment variables (flags win). The README's "Caps"
/// section says what a caller gets when an article exceeds each.
#[derive(clap::Args, Clone, Debug)]
pub struct BudgetArgs {
    /// How long one article's analysis (one stage of it) may take; past it the analysis stops
    /// between sentences or batches and the message is parked with reason `deadline`
    /// (`250ms`, `90s`, `5m`; `0` for no deadline).
    #[arg(long, env = "NEWSFLOW_ANALYSIS_DEADLINE", default_value = "120s", value_parser = humantime::parse_duration)]
    pub analysis_deadline: Duration,
    /// Tokens after which a sentence is cut (at its last comma or semicolon near the end).
    #[arg(long, env = "NEWSFLOW_MAX_SENTENCE_TOKENS", default_value_t = Limits::default().max_sentence_tokens)]
    pub max_sentence_tokens: usize,
    /// Tokens of a statement's content; longer content is cut.
    #[arg(long, env = "NEWSFLOW_MAX_STATEMENT_TOKENS", default_value_t = Limits::default().max_statement_tokens)]
    pub max_statement_tokens: usize,
    /// Statements kept per article (the most confident).
    #[arg(long, env = "NEWSFLOW_MAX_STATEMENTS", default_value_t = Limits::default().max_statements)]
    pub max_statements: usize,
    /// Stance targets classified per article (topics, speakers' stances and the most salient
    /// entities first).
    #[arg(long, env = "NEWSFLOW_MAX_TARGETS", default_value_t = Limits::default().max_targets)]
    pub max_targets: usize,
    /// Topics per article: configured ones plus those a `Classify` call adds.
    #[arg(long, env = "NEWSFLOW_MAX_TOPICS", default_value_t = Budget::default().max_topics)]
    pub max_topics: usize,
}

/// The budget of one article's analysis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    /// The caps every stage keeps to.
    pub limits: Limits,
    /// How long one part of the analysis may take; `None` for no deadline.
    pub deadline: Option<Duration>,
    /// Topics per article.
    pub max_topics: usize,
    /// Characters of one topic.
    pub max_topic_chars: usize,
}

impl Default for Budget {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            deadline: Some(Duration::from_secs(120)),
            max_topics: 32,
            max_topic_chars: 100,
        }
    }
}

impl From<&BudgetArgs> for Budget {
    fn from(args: &BudgetArgs) -> Self {
        Self {
            limits: Limits {
                max_sentence_tokens: args.max_sentence_tokens.max(1),
                max_statement_tokens: args.max_statement_tokens.max(1),
                max_statements: args.max_statements,
                max_targets: args.max_targets,
            },
            deadline: (!args.analysis_deadline.is_zero()).then_some(args.analysis_deadline),
            max_topics: args.max_topics,
            ..Budget::default()
        }
    }
}

impl Budget {
    /// An empty document over normalized `text` under this budget, its clock started.
    pub fn doc(&self, text: String) -> Doc {
        let mut doc = Doc::from_normalized(text);
        doc.limits = self.limits;
        doc.deadline = self.deadline.map(Deadline::after);
        doc
    }
}
