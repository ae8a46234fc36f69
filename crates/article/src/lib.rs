//! An article as it enters newsflow: what ingest checks before anything is published, shared
//! with every other way in (`newsflow analyze`, `newsflow submit`).
//!
//! - [`validate`]: a client's `SubmitRequest` turned into a valid, normalized `Article`, or the
//!   field at fault ([`ArticleError`]), under a [`Policy`] of limits;
//! - [`html`]: HTML bodies recognized and turned into text;
//! - [`page`]: the main text of a news page, with its title, byline, time, language and URL;
//! - [`language`]: the body's language and the policy on languages not served;
//! - [`identity`]: the content-derived article id that makes every stage idempotent;
//! - [`json`]: an article as JSON (the HTTP API's and the command line's form).

pub mod error;
pub mod html;
pub mod identity;
pub mod json;
pub mod language;
pub mod page;
pub mod validate;

pub use error::ArticleError;
pub use validate::{Policy, validate};
