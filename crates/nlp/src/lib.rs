//! The newsflow analysis as a plain library: no network, no async runtime.
//!
//! A [`Doc`] holds the normalized text and everything the stages add to it; each stage
//! implements [`Stage`] and a [`Pipeline`] runs them in order:
//!
//! - [`tokenize::Tokenizer`]: tokens and sentences with code-point spans;
//! - [`ner::NerTagger`]: entity mentions, fast (averaged perceptron) or accurate (perceptron
//!   combined with a fine-tuned MiniLM tagger, the default; see [`ner::NerMode`]);
//! - [`types::FineTyper`]: the contract's finer types (GPE, NORP, EVENT, DATE), from
//!   [`gazetteer`]s that come from registry packages;
//! - [`group::EntityGrouper`]: mentions grouped into entities with a canonical name and a
//!   salience;
//! - [`statements::StatementFinder`]: who said what (source, cue, content), the source
//!   resolved to an entity.
//!
//! [`stance::StanceClassifier`] gives the polarity of a sentence toward a target mention, from a
//! MiniLM ([`encoder`]) with its top layers fine-tuned on NewsMTSC.
//! [`embedding::SentenceEmbedder`] gives an article's sentence embedding from the same base
//! MiniLM, for grouping articles about one event into stories.
//!
//! [`conll`] reads CoNLL-2003 files and [`eval`] scores BIO taggings with conlleval semantics.

#[cfg(feature = "train")]
pub mod conll;
pub mod device;
pub mod doc;
pub mod embedding;
pub mod encoder;
pub mod error;
#[cfg(feature = "train")]
pub mod eval;
pub mod gazetteer;
pub mod geo;
pub mod group;
mod kernels;
mod lexicon;
pub mod limits;
mod model_file;
pub mod ner;
pub mod normalize;
pub mod stance;
pub mod statements;
pub mod tokenize;
pub mod types;
#[cfg(feature = "train")]
mod xorshift;

pub use doc::{
    Doc, Entity, EntitySummary, EntityType, Mention, Pipeline, Sentence, Span, Stage, Stance,
    StanceMethod, Statement, StatementKind, Target, Token,
};
pub use error::NlpError;
pub use limits::{Deadline, Limits};

/// The entity pipeline: tokenize, tag, refine types, group mentions into entities.
pub fn entity_pipeline(tagger: ner::NerTagger, typer: types::FineTyper) -> Pipeline {
    Pipeline::new()
        .with(tokenize::Tokenizer)
        .with(tagger)
        .with(typer)
        .with(group::EntityGrouper)
}

/// The entity pipeline followed by the statement finder.
pub fn statement_pipeline(
    tagger: ner::NerTagger,
    typer: types::FineTyper,
    finder: statements::StatementFinder,
) -> Pipeline {
    entity_pipeline(tagger, typer).with(finder)
}

/// Has the tensor library use one thread per analysis unless `RAYON_NUM_THREADS` says
/// otherwise. Call it first thing in `main`, before any other thread exists.
///
/// Parallelism comes from analysing several articles at once (the services run one analysis
/// per core); threads inside each matrix product on top of that only oversubscribe the cores.
/// Measured: on two shared cores one training thread ran eight times faster than two, and the
/// pipeline under load went from 0.53 to 0.72-0.87 articles/s (BENCHMARKS.md).
pub fn one_tensor_thread_by_default() {
    if std::env::var_os("RAYON_NUM_THREADS").is_none() {
        // SAFETY: called first thing in `main`, before any other thread exists, so nothing
        // reads the environment concurrently.
        unsafe { std::env::set_var("RAYON_NUM_THREADS", "1") };
    }
}
