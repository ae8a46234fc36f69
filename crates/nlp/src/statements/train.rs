//! Training both learned steps on PolNeAR: the cue model on every article, then the candidate
//! filter on candidates that cue models cross-fitted over two halves of the articles
//! propose for the half they did not see.

use crate::doc::{Doc, Pipeline, Span};
use crate::error::NlpError;
use crate::statements::candidates;
use crate::statements::cues::{CueDetector, CueModel, CueTrainConfig, Examples};
use crate::statements::frames::{self, FrameModel};
use crate::statements::polnear::Article;

/// Training settings.
#[derive(Debug, Clone)]
pub struct TrainConfig {
    /// The cue model's settings.
    pub cue: CueTrainConfig,
    /// The candidate filter's settings (epochs, learning rate, ...; its threshold is
    /// `frame_threshold`).
    pub frame: CueTrainConfig,
    /// Cue probability at or above which a cue becomes a candidate.
    pub candidate_threshold: f32,
    /// Candidate probability at or above which a candidate becomes a statement.
    pub frame_threshold: f32,
    /// Whether a candidate is positive only when its source is right too (overlaps the gold
    /// source of an attribution whose cue it overlaps, or both have none); otherwise a right
    /// cue is enough.
    pub source_label: bool,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            cue: CueTrainConfig::default(),
            frame: CueTrainConfig {
                epochs: 10,
                learning_rate: 0.1,
                min_count: 2,
                ..CueTrainConfig::default()
            },
            candidate_threshold: 0.3,
            frame_threshold: 0.3,
            source_label: true,
        }
    }
}

/// Trains the cue model and the candidate filter. `entities` is the entity pipeline
/// (tokenize, NER, types, grouping), run over each article to give the filter its mention
/// features; `log` receives progress lines.
pub fn train(
    articles: &[Article],
    entities: &Pipeline,
    config: &TrainConfig,
    mut log: impl FnMut(&str),
) -> Result<(CueModel, FrameModel), NlpError> {
    if articles.len() < 2 {
        return Err(NlpError::Training(
            "need at least two training articles".into(),
        ));
    }
    log("cue model on all articles");
    let cues = CueModel::train(articles, &config.cue, |epoch, loss| {
        log(&format!("  epoch {epoch:>2}  log-loss {loss:.5}"));
    })?;
    let mut docs = Vec::with_capacity(articles.len());
    for a in articles {
        let mut doc = Doc::from_normalized(a.text.clone());
        entities.process(&mut doc)?;
        docs.push(doc);
    }
    let mut data = Examples::default();
    for fold in 0..2 {
        let rest: Vec<Article> = articles
            .iter()
            .enumerate()
            .filter(|(i, _)| i % 2 != fold)
            .map(|(_, a)| a.clone())
            .collect();
        log(&format!(
            "cue model for fold {fold} ({} articles)",
            rest.len()
        ));
        let mut model = CueModel::train(&rest, &config.cue, |_, _| {})?;
        model.threshold = config.candidate_threshold;
        let detector = CueDetector::Learned(model);
        for (i, (a, doc)) in articles.iter().zip(&docs).enumerate() {
            if i % 2 != fold {
                continue;
            }
            let overlaps = |g: &crate::statements::polnear::GoldSpan, s: Span| {
                g.fragments
                    .iter()
                    .any(|f| f.start < s.end && s.start < f.end)
            };
            for (cue, frame) in candidates(&detector, doc)? {
                let span = Span::new(
                    doc.tokens[cue.tokens.start].span.start,
                    doc.tokens[cue.tokens.end - 1].span.end,
                );
                let source = frame.source.as_ref().map(|r| {
                    Span::new(
                        doc.tokens[r.start].span.start,
                        doc.tokens[r.end - 1].span.end,
                    )
                });
                let positive = a.attributions.iter().any(|at| {
                    at.cues.iter().any(|g| overlaps(g, span))
                        && (!config.source_label
                            || match source {
                                None => at.sources.is_empty(),
                                Some(s) => at.sources.iter().any(|g| overlaps(g, s)),
                            })
                });
                data.push(frames::features(doc, &cue, &frame), positive);
            }
        }
    }
    log(&format!("candidate filter on {} candidates", data.len()));
    let weights = data.fit(&config.frame, &mut |epoch, loss| {
        log(&format!("  epoch {epoch:>2}  log-loss {loss:.5}"));
    });
    Ok((
        cues,
        FrameModel {
            weights,
            threshold: config.frame_threshold,
            cue_threshold: config.candidate_threshold,
        },
    ))
}
