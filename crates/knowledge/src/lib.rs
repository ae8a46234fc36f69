//! What newsflow knows across articles, as pure functions the store applies when it saves an
//! article (no I/O here; the store keeps the state in PostgreSQL):
//!
//! - [`near_duplicate`]: a signature per article, and the rule that links a near-copy (a wire
//!   story run by another outlet, a lightly edited version) to the article it copies.
//! - [`identity`]: one identity per entity across articles: the alias keys of an identity, and
//!   the rules that take an article's entity for a known one ("Putin" for "Vladimir Putin",
//!   "NATO" for "North Atlantic Treaty Organization") or keep it apart (namesakes, ambiguous
//!   surnames).
//! - [`story`]: articles about one event grouped into a story, by the cosine of their sentence
//!   embeddings to the story's centroid and the overlap of their salient entities within a time
//!   window; each story with a label (its most salient entities and a representative title).
//!
//! Each part gives the store keys to look candidates up by an index, and a decision over the
//! candidates found, so the cost of saving an article does not grow with what is stored.

pub mod country_table;
pub mod identity;
pub mod near_duplicate;
pub mod story;
