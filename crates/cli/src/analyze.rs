//! `newsflow analyze`: runs the entity pipeline over a text file and prints what it found.

use anyhow::Context;
use clap::Args;
use newsflow_nlp::entity_pipeline;
use serde_json::json;
use std::path::PathBuf;

/// Arguments of `newsflow analyze`.
#[derive(Args)]
pub struct AnalyzeArgs {
    /// A plain-text article.
    file: PathBuf,
    #[command(flatten)]
    models: crate::ner::ModelArgs,
    /// Print one JSON object instead of tables.
    #[arg(long)]
    json: bool,
}

/// Analyzes the file and prints its entities and mentions.
pub fn run(args: &AnalyzeArgs) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("reading {}", args.file.display()))?;
    let pipeline = entity_pipeline(args.models.load()?);
    let doc = pipeline.run(&text)?;
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
        let out = json!({"sentences": doc.sentences.len(), "tokens": doc.tokens.len(),
                         "entities": entities});
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
    Ok(())
}
