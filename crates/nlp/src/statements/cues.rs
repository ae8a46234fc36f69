//! Cue detection: which tokens introduce a statement ("said", "warned", "according to").
//!
//! Two detectors:
//!
//! - [`CueDetector::Rules`], the baseline: a hand-written list of speech verbs and "according
//!   to";
//! - [`CueDetector::Learned`]: a logistic-regression classifier over every word token, trained
//!   on PolNeAR (a token is positive when it lies inside a gold cue). Its features are the
//!   word, its neighbours, quotation marks in the sentence, a nearby "that", and a cue-verb
//!   lexicon learned from the same data (how often each word is a cue in training, bucketed).
//!   Adjacent tokens above the threshold form one cue ("has said", "according to").
//!
//! The model file (`cues.tsv`) is plain text: a header, the threshold, the lexicon
//! (`lex\tWORD\tCUE_COUNT\tCOUNT`) and the weights (`w\tFEATURE\tWEIGHT`).

use crate::doc::Doc;
use crate::error::NlpError;
use crate::lexicon::{WordSet, words};
use crate::statements::spans::is_quote;
use crate::statements::tsv;
use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// File name of the cue model inside a model directory.
pub const CUE_MODEL_FILE: &str = "cues.tsv";
const HEADER: &str = "newsflow-statements-cues\t1";

/// The baseline's speech verbs (lowercase).
static HAND_CUES: WordSet = words!("statements/hand-cues.txt");

/// Auxiliaries and adverbs skipped to find the word before a token, where a source would stand.
static CUE_FEATURE_SKIPS: WordSet = words!("statements/cue-feature-skips.txt");

/// Pronouns named in the features when one stands before a token.
static CUE_FEATURE_PRONOUNS: WordSet = words!("statements/cue-feature-pronouns.txt");

/// How cues are found.
#[derive(Debug, Clone)]
pub enum CueDetector {
    /// The hand-written verb list (the baseline).
    Rules,
    /// The learned classifier.
    Learned(CueModel),
}

/// A found cue: its tokens and confidence.
#[derive(Debug, Clone, PartialEq)]
pub struct Cue {
    /// Token indexes.
    pub tokens: Range<usize>,
    /// Confidence in [0, 1].
    pub confidence: f32,
}

impl CueDetector {
    /// The cues of a tokenized document, in text order.
    pub fn find(&self, doc: &Doc) -> Result<Vec<Cue>, NlpError> {
        match self {
            CueDetector::Rules => Ok(rule_cues(doc)),
            CueDetector::Learned(m) => m.cues(doc),
        }
    }
}

/// A document's tokens as the cue features read them, computed once: lowercased, and how
/// many quotation marks come before each, so "a quote before / after this token in its
/// sentence" costs O(1) rather than a scan of the sentence.
pub(crate) struct TokenView {
    low: Vec<String>,
    /// `quotes[i]`: quotation-mark tokens among tokens `0..i`.
    quotes: Vec<u32>,
}

impl TokenView {
    pub(crate) fn of(doc: &Doc) -> Self {
        let low = (0..doc.tokens.len())
            .map(|i| doc.token_text(i).to_lowercase())
            .collect();
        let mut quotes = Vec::with_capacity(doc.tokens.len() + 1);
        let mut seen = 0u32;
        quotes.push(seen);
        for token in 0..doc.tokens.len() {
            seen += u32::from(is_quote(doc.token_text(token)));
            quotes.push(seen);
        }
        Self { low, quotes }
    }

    /// Whether any token of `tokens` is a quotation mark.
    fn has_quote(&self, tokens: Range<usize>) -> bool {
        tokens.start < tokens.end && self.quotes[tokens.end] > self.quotes[tokens.start]
    }
}

/// How far back from a cue the source feature looks past auxiliaries and adverbs.
const MAX_SKIPPED_BEFORE_CUE: usize = 6;

fn rule_cues(doc: &Doc) -> Vec<Cue> {
    let low = TokenView::of(doc).low;
    let mut out = Vec::new();
    for sentence in &doc.sentences {
        let Range { start, end } = sentence.tokens;
        let mut token = start;
        while token < end {
            let capitalized_inside = token > start
                && doc
                    .token_text(token)
                    .chars()
                    .next()
                    .is_some_and(char::is_uppercase);
            if low[token] == "according" && token + 1 < end && low[token + 1] == "to" {
                out.push(Cue {
                    tokens: token..token + 2,
                    confidence: 1.0,
                });
                token += 2;
                continue;
            }
            if !capitalized_inside && HAND_CUES.contains(low[token].as_str()) {
                out.push(Cue {
                    tokens: token..token + 1,
                    confidence: 1.0,
                });
            }
            token += 1;
        }
    }
    out
}

/// Probability a token at either end of a cue needs to stay in it.
const EXTEND: f32 = 0.5;

/// The token range of the sentence holding `token`.
fn sentence_range(doc: &Doc, token: usize) -> Range<usize> {
    let index = doc
        .sentences
        .partition_point(|sentence| sentence.tokens.end <= token);
    doc.sentences
        .get(index)
        .map_or(token..token + 1, |sentence| sentence.tokens.clone())
}

/// The learned cue classifier.
#[derive(Debug, Clone)]
pub struct CueModel {
    weights: HashMap<String, f32>,
    /// Word -> (times inside a cue, times seen) in training.
    lexicon: HashMap<String, (u32, u32)>,
    /// Probability at or above which a token is part of a cue.
    pub threshold: f32,
}

#[cfg(feature = "train")]
/// Training settings.
#[derive(Debug, Clone)]
pub struct CueTrainConfig {
    /// Passes over the data.
    pub epochs: usize,
    /// Initial learning rate.
    pub learning_rate: f32,
    /// L2 penalty per update.
    pub l2: f32,
    /// Keep features seen at least this often.
    pub min_count: u32,
    /// Shuffling seed.
    pub seed: u64,
    /// Decision threshold stored in the model.
    pub threshold: f32,
}

#[cfg(feature = "train")]
impl Default for CueTrainConfig {
    fn default() -> Self {
        Self {
            epochs: 8,
            learning_rate: 0.2,
            l2: 1e-6,
            min_count: 2,
            seed: 7,
            threshold: 0.5,
        }
    }
}

#[cfg(feature = "train")]
/// Training examples of a logistic regression over string features.
#[derive(Debug, Default)]
pub(crate) struct Examples {
    ids: HashMap<String, u32>,
    counts: Vec<u32>,
    rows: Vec<(Vec<u32>, bool)>,
}

#[cfg(feature = "train")]
impl Examples {
    /// Adds one example.
    pub(crate) fn push(&mut self, features: Vec<String>, label: bool) {
        let fs = features
            .into_iter()
            .map(|f| {
                let next = self.ids.len() as u32;
                let id = *self.ids.entry(f).or_insert(next);
                if id as usize == self.counts.len() {
                    self.counts.push(0);
                }
                self.counts[id as usize] += 1;
                id
            })
            .collect();
        self.rows.push((fs, label));
    }

    /// Number of examples.
    pub(crate) fn len(&self) -> usize {
        self.rows.len()
    }

    /// Fits the weights by stochastic gradient descent on the log-loss (L2-penalized, shuffled
    /// each epoch, learning rate decaying as 1/(1+epoch)); reports (epoch, mean log-loss).
    /// Features seen fewer than `min_count` times and near-zero weights are left out.
    pub(crate) fn fit(
        self,
        config: &CueTrainConfig,
        progress: &mut impl FnMut(usize, f64),
    ) -> HashMap<String, f32> {
        let mut w = vec![0f32; self.ids.len()];
        let mut order: Vec<usize> = (0..self.rows.len()).collect();
        let mut rng = crate::xorshift::Xorshift(config.seed.max(1));
        for epoch in 0..config.epochs {
            rng.shuffle(&mut order);
            let lr = config.learning_rate / (1.0 + epoch as f32);
            let mut loss = 0f64;
            for &e in &order {
                let (fs, y) = &self.rows[e];
                let z: f32 = fs.iter().map(|&f| w[f as usize]).sum();
                let p = sigmoid(z);
                let target = if *y { 1.0 } else { 0.0 };
                loss -= f64::from(if *y {
                    p.max(1e-7).ln()
                } else {
                    (1.0 - p).max(1e-7).ln()
                });
                let g = target - p;
                for &f in fs {
                    let wf = &mut w[f as usize];
                    *wf += lr * (g - config.l2 * *wf);
                }
            }
            progress(epoch + 1, loss / self.rows.len().max(1) as f64);
        }
        let counts = self.counts;
        self.ids
            .into_iter()
            .filter(|&(_, id)| {
                counts[id as usize] >= config.min_count && w[id as usize].abs() > 1e-4
            })
            .map(|(f, id)| (f, w[id as usize]))
            .collect()
    }
}

/// A crude lemma: the word without a verb ending ("claims", "claimed", "claiming" -> "claim").
fn lemma(w: &str) -> &str {
    for suffix in ["ing", "ed", "es", "s", "d"] {
        if let Some(stem) = w.strip_suffix(suffix)
            && stem.chars().count() >= 3
        {
            return stem;
        }
    }
    w
}

/// Whether a token can be (part of) a cue: a word or a colon.
fn candidate(t: &str) -> bool {
    t.chars().next().is_some_and(char::is_alphanumeric) || t == ":"
}

fn token_class(t: &str) -> &'static str {
    if is_quote(t) {
        "Q"
    } else if t == "," {
        ","
    } else if t == ":" {
        ":"
    } else if matches!(t, "." | "!" | "?") {
        "."
    } else if t.chars().next().is_some_and(char::is_uppercase) {
        "Cap"
    } else if t.chars().next().is_some_and(char::is_alphanumeric) {
        "w"
    } else {
        "p"
    }
}

/// Features of `token` in the sentence over tokens `sentence`.
fn features(
    doc: &Doc,
    view: &TokenView,
    sentence: &Range<usize>,
    token: usize,
    lexicon: &HashMap<String, (u32, u32)>,
) -> Vec<String> {
    let low = &view.low;
    let inside = |offset: isize| -> Option<usize> {
        let at = token as isize + offset;
        (at >= sentence.start as isize && at < sentence.end as isize).then_some(at as usize)
    };
    // The lowercase word `offset` tokens away, or a sentence boundary.
    let at = |offset: isize| -> &str {
        match inside(offset) {
            Some(at) => low[at].as_str(),
            None if offset < 0 => "<s>",
            None => "</s>",
        }
    };
    let word = low[token].as_str();
    let text = doc.token_text(token);
    let suffix: String = {
        let chars: Vec<char> = word.chars().collect();
        chars[chars.len().saturating_sub(3)..].iter().collect()
    };
    let mut out = vec![
        "b".to_string(),
        format!("w={word}"),
        format!("s3={suffix}"),
        format!("p1={}", at(-1)),
        format!("n1={}", at(1)),
        format!("p2={}", at(-2)),
        format!("n2={}", at(2)),
        format!("p1w={}|{word}", at(-1)),
        format!("wn1={word}|{}", at(1)),
        format!("c={}", token_class(text)),
    ];
    // The class of the token `offset` tokens away, or "none" outside the sentence.
    let class_at = |offset: isize| -> &'static str {
        inside(offset).map_or("none", |at| token_class(doc.token_text(at)))
    };
    out.push(format!("pc={}|nc={}", class_at(-1), class_at(1)));
    out.push(format!("pc2={}|pc={}", class_at(-2), class_at(-1)));
    out.push(format!("nc={}|nc2={}", class_at(1), class_at(2)));
    if token == sentence.start {
        out.push("first".into());
    }
    let quote_before = view.has_quote(sentence.start..token);
    let quote_after = view.has_quote(token + 1..sentence.end);
    out.push(format!(
        "q={}{}",
        u8::from(quote_before),
        u8::from(quote_after)
    ));
    if (token + 1..(token + 4).min(sentence.end)).any(|next| low[next] == "that") {
        out.push("that3".into());
        out.push(format!("that3|w={word}"));
    }
    out.push(format!(
        "q={}{}|w={word}",
        u8::from(quote_before),
        u8::from(quote_after)
    ));
    out.push(format!("w={word}|nc={}", class_at(1)));
    out.push(format!("lem={}", lemma(word)));
    out.push(format!("lem={}|left={}", lemma(word), class_at(-1)));
    out.push(format!("w={word}|pc={}", class_at(-1)));
    // The word before, past auxiliaries and adverbs: what a source would look like.
    let mut source_end = token;
    while source_end > sentence.start && token - source_end < MAX_SKIPPED_BEFORE_CUE {
        let before = low[source_end - 1].as_str();
        let skip =
            CUE_FEATURE_SKIPS.contains(before) || (before.ends_with("ly") && before.len() > 4);
        if !skip {
            break;
        }
        source_end -= 1;
    }
    let left = if source_end > sentence.start {
        let before = low[source_end - 1].as_str();
        if CUE_FEATURE_PRONOUNS.contains(before) {
            format!("pron:{before}")
        } else {
            token_class(doc.token_text(source_end - 1)).to_string()
        }
    } else {
        "start".to_string()
    };
    out.push(format!("left={left}"));
    out.push(format!("left={left}|w={word}"));
    match lexicon.get(word) {
        Some(&(cue, total)) if total >= 3 => {
            let bucket = (10.0 * cue as f32 / total as f32).round() as u32;
            out.push(format!("lex={bucket}"));
            out.push(format!("lex={bucket}|pc={}", class_at(-1)));
        }
        Some(_) => out.push("lex=rare".into()),
        None => out.push("lex=none".into()),
    }
    out
}

pub(crate) fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x.clamp(-30.0, 30.0)).exp())
}

impl CueModel {
    /// Probability that `token` of the sentence over tokens `sentence` is part of a cue.
    fn prob(&self, doc: &Doc, view: &TokenView, sentence: &Range<usize>, token: usize) -> f32 {
        let z: f32 = features(doc, view, sentence, token, &self.lexicon)
            .iter()
            .filter_map(|f| self.weights.get(f))
            .sum();
        sigmoid(z)
    }

    /// The cues of a tokenized document.
    pub fn cues(&self, doc: &Doc) -> Result<Vec<Cue>, NlpError> {
        let view = TokenView::of(doc);
        let mut out: Vec<Cue> = Vec::new();
        for sentence in &doc.sentences {
            doc.check_deadline("statements")?;
            let mut open: Option<Cue> = None;
            for token in sentence.tokens.clone() {
                let p = if candidate(doc.token_text(token)) {
                    self.prob(doc, &view, &sentence.tokens, token)
                } else {
                    0.0
                };
                if p >= self.threshold {
                    match open.as_mut() {
                        Some(cue) => {
                            cue.tokens.end = token + 1;
                            cue.confidence = cue.confidence.max(p);
                        }
                        None => {
                            open = Some(Cue {
                                tokens: token..token + 1,
                                confidence: p,
                            })
                        }
                    }
                } else if let Some(cue) = open.take() {
                    out.push(cue);
                }
            }
            out.extend(open);
        }
        // Tokens below the extension threshold at either end of a cue are dropped ("said at"
        // -> "said"), keeping its most probable token.
        for cue in &mut out {
            let probs: Vec<f32> = cue
                .tokens
                .clone()
                .map(|token| self.prob(doc, &view, &sentence_range(doc, token), token))
                .collect();
            let best = probs
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map_or(0, |(k, _)| k);
            let first = (0..best).find(|&k| probs[k] >= EXTEND).unwrap_or(best);
            let last = (best + 1..probs.len())
                .rev()
                .find(|&k| probs[k] >= EXTEND)
                .unwrap_or(best);
            cue.tokens = cue.tokens.start + first..cue.tokens.start + last + 1;
        }
        // A lone colon is a cue only when a word cue does not sit beside it.
        out.retain(|cue| !(cue.tokens.len() == 1 && doc.token_text(cue.tokens.start) == ":"));
        Ok(out)
    }

    /// Number of weights.
    pub fn len(&self) -> usize {
        self.weights.len()
    }

    /// Whether the model has no weights.
    pub fn is_empty(&self) -> bool {
        self.weights.is_empty()
    }

    /// Drops the weights whose magnitude is below `min_abs` (they barely move a score); returns
    /// how many were dropped.
    pub fn prune(&mut self, min_abs: f32) -> usize {
        let before = self.weights.len();
        self.weights.retain(|_, w| w.abs() >= min_abs);
        before - self.weights.len()
    }

    /// Writes `cues.tsv` into `dir` (created if missing); returns the file's path.
    pub fn save(&self, dir: &Path) -> Result<PathBuf, NlpError> {
        let mut lexicon: Vec<_> = self.lexicon.iter().collect();
        lexicon.sort();
        let records = lexicon
            .into_iter()
            .map(|(word, (cues, seen))| format!("lex\t{word}\t{cues}\t{seen}"));
        tsv::save(
            dir,
            CUE_MODEL_FILE,
            HEADER,
            &[("threshold", self.threshold)],
            records,
            &self.weights,
        )
    }

    /// Loads `cues.tsv` from a model directory (or the file itself).
    pub fn load(path: &Path) -> Result<Self, NlpError> {
        let mut threshold = 0.5;
        let mut lexicon = HashMap::new();
        let weights = tsv::load(path, CUE_MODEL_FILE, HEADER, "cue", |fields| {
            match fields {
                ["threshold", value] => threshold = tsv::finite(value)?,
                ["lex", word, cues, seen] => {
                    let counts = (cues.parse().ok()?, seen.parse().ok()?);
                    lexicon.insert((*word).to_string(), counts);
                }
                _ => return None,
            }
            Some(())
        })?;
        Ok(CueModel {
            weights,
            lexicon,
            threshold,
        })
    }

    /// Trains the classifier on PolNeAR articles.
    #[cfg(feature = "train")]
    pub fn train(
        articles: &[crate::statements::polnear::Article],
        config: &CueTrainConfig,
        mut progress: impl FnMut(usize, f64),
    ) -> Result<Self, NlpError> {
        if articles.is_empty() {
            return Err(NlpError::Training("no training articles".into()));
        }
        // Tokenize, label, count the lexicon.
        use crate::doc::Stage;
        use crate::tokenize::Tokenizer;
        let mut prepared: Vec<(Doc, TokenView, Vec<bool>)> = Vec::new();
        let mut lexicon: HashMap<String, (u32, u32)> = HashMap::new();
        for a in articles {
            let mut doc = Doc::from_normalized(a.text.clone());
            Tokenizer.process(&mut doc)?;
            let view = TokenView::of(&doc);
            let fragments: Vec<_> = a
                .attributions
                .iter()
                .flat_map(|at| at.cues.iter())
                .flat_map(|g| g.fragments.iter().copied())
                .collect();
            let labels: Vec<bool> = doc
                .tokens
                .iter()
                .map(|t| {
                    fragments
                        .iter()
                        .any(|f| f.start < t.span.end && t.span.start < f.end)
                })
                .collect();
            for (i, l) in labels.iter().enumerate() {
                if candidate(doc.token_text(i)) {
                    let e = lexicon.entry(view.low[i].clone()).or_default();
                    e.1 += 1;
                    e.0 += u32::from(*l);
                }
            }
            prepared.push((doc, view, labels));
        }
        lexicon.retain(|_, (c, _)| *c >= 2);
        let mut data = Examples::default();
        for (doc, view, labels) in &prepared {
            for sentence in &doc.sentences {
                for token in sentence.tokens.clone() {
                    if candidate(doc.token_text(token)) {
                        let features = features(doc, view, &sentence.tokens, token, &lexicon);
                        data.push(features, labels[token]);
                    }
                }
            }
        }
        drop(prepared);
        let weights = data.fit(config, &mut progress);
        Ok(CueModel {
            weights,
            lexicon,
            threshold: config.threshold,
        })
    }
}
