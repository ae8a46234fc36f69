//! `newsflow analyze`: runs the whole pipeline (entities, then statements) over a text file and
//! prints what it found.

use anyhow::Context;
use clap::Args;
use newsflow_nlp::statement_pipeline;
use newsflow_nlp::statements::StatementFinder;
use serde_json::json;
use std::path::PathBuf;

/// Arguments of `newsflow analyze`.
#[derive(Args)]
pub struct AnalyzeArgs {
    /// A plain-text article.
    file: PathBuf,
    #[command(flatten)]
    models: crate::ner::ModelArgs,
    /// Statements model directory.
    #[arg(long, default_value = crate::statements::DEFAULT_MODEL)]
    statements_model: PathBuf,
    /// Print one JSON object instead of tables.
    #[arg(long)]
    json: bool,
}

/// Analyzes the file and prints its entities, mentions and statements.
pub fn run(args: &AnalyzeArgs) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("reading {}", args.file.display()))?;
    let pipeline = statement_pipeline(
        args.models.load()?,
        args.models.typer()?,
        StatementFinder::load(&args.statements_model)?,
    );
    let doc = pipeline.run(&text)?;
    let speaker = |s: &newsflow_nlp::Statement| {
        s.entity
            .and_then(|e| doc.entities.get(e))
            .map(|e| e.canonical_name.clone())
    };
    if args.json {
        let entities: Vec<serde_json::Value> = doc
            .entities
            .iter()
            .map(|e| {
                let mentions: Vec<serde_json::Value> = e
                    .mentions
                    .iter()
                    .map(|&i| {
                        let m = &doc.mentions[i];
                        json!({"start": m.span.start, "end": m.span.end,
                               "text": doc.mention_text(m), "confidence": m.confidence})
                    })
                    .collect();
                json!({"type": e.label.as_str(), "canonical_name": e.canonical_name,
                       "key": e.key(), "salience": e.salience, "mentions": mentions})
            })
            .collect();
        let span = |s: newsflow_nlp::Span| json!({"start": s.start, "end": s.end});
        let statements: Vec<serde_json::Value> = doc
            .statements
            .iter()
            .map(|s| {
                json!({"kind": s.kind.as_str(), "confidence": s.confidence,
                       "source": s.source.map(span),
                       "source_text": s.source.map(|x| doc.span_text(x)),
                       "speaker": speaker(s),
                       "speaker_key": s.entity.and_then(|e| doc.entities.get(e)).map(|e| e.key()),
                       "cue": span(s.cue), "cue_text": doc.span_text(s.cue),
                       "content": span(s.content), "content_text": doc.span_text(s.content)})
            })
            .collect();
        let out = json!({"sentences": doc.sentences.len(), "tokens": doc.tokens.len(),
                         "entities": entities, "statements": statements});
        println!("{out}");
        return Ok(());
    }
    println!(
        "{} sentences, {} tokens, {} mentions, {} entities",
        doc.sentences.len(),
        doc.tokens.len(),
        doc.mentions.len(),
        doc.entities.len()
    );
    println!(
        "{:<7} {:>8} {:>3}  {:<32} mentions",
        "type", "salience", "n", "canonical name"
    );
    for e in &doc.entities {
        let texts: Vec<String> = e
            .mentions
            .iter()
            .map(|&i| {
                let m = &doc.mentions[i];
                format!("{}@{}", doc.mention_text(m), m.span.start)
            })
            .collect();
        println!(
            "{:<7} {:>8.3} {:>3}  {:<32} {}",
            e.label.as_str(),
            e.salience,
            e.mentions.len(),
            e.canonical_name,
            texts.join(", ")
        );
    }
    println!("\n{} statements", doc.statements.len());
    println!(
        "{:<12} {:<24} {:<20} {:<16} content",
        "kind", "speaker", "source", "cue"
    );
    for s in &doc.statements {
        let content = doc.span_text(s.content);
        let short: String = content.chars().take(70).collect();
        println!(
            "{:<12} {:<24} {:<20} {:<16} {}{}",
            s.kind.as_str(),
            speaker(s).unwrap_or_else(|| "-".into()),
            s.source.map_or("-", |x| doc.span_text(x)),
            doc.span_text(s.cue),
            short,
            if short.len() < content.len() {
                "..."
            } else {
                ""
            }
        );
    }
    Ok(())
}
