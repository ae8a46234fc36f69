//! The readable terminal view of an analyzed article, shared by `analyze` and `get`: its
//! entities, statements and stances as tables.

use std::collections::HashMap;

use newsflow_proto::v1::{AnalyzedArticle, EntityType, Polarity, StatementKind, target};

/// Prints `document` as tables on standard output.
pub fn print(document: &AnalyzedArticle) {
    let article = document.article.clone().unwrap_or_default();
    let analysis = document.analysis.clone().unwrap_or_default();
    let names: HashMap<&str, &str> = analysis
        .entities
        .iter()
        .map(|e| (e.id.as_str(), e.canonical_name.as_str()))
        .collect();
    let name = |id: &str| names.get(id).copied().unwrap_or("-").to_owned();

    println!("article {}", article.id);
    if !article.title.is_empty() {
        println!("title   {}", article.title);
    }
    println!(
        "{} entities, {} statements, {} stances",
        analysis.entities.len(),
        analysis.statements.len(),
        analysis.stances.len()
    );

    println!(
        "\n{:<8} {:>8} {:>3}  {:<32} key",
        "type", "salience", "n", "entity"
    );
    for entity in &analysis.entities {
        let kind = EntityType::try_from(entity.r#type)
            .map(|t| short(t.as_str_name(), "ENTITY_TYPE_"))
            .unwrap_or_default();
        println!(
            "{:<8} {:>8.3} {:>3}  {:<32} {}",
            kind,
            entity.salience,
            entity.mentions.len(),
            entity.canonical_name,
            entity.key
        );
    }

    println!("\n{:<10} {:<24} {:<18} content", "kind", "speaker", "cue");
    for statement in &analysis.statements {
        let kind = StatementKind::try_from(statement.kind)
            .map(|k| short(k.as_str_name(), "STATEMENT_KIND_"))
            .unwrap_or_default();
        let speaker = if statement.speaker_entity_id.is_empty() {
            statement.speaker_text.clone()
        } else {
            name(&statement.speaker_entity_id)
        };
        println!(
            "{:<10} {:<24} {:<18} {}",
            kind,
            clip(&speaker, 24),
            clip(&statement.cue, 18),
            clip(&statement.content, 70)
        );
    }

    println!(
        "\n{:<24} {:<9} {:>6}  target",
        "holder", "polarity", "score"
    );
    for stance in &analysis.stances {
        let holder = if stance.holder_entity_id.is_empty() {
            "(the text)".to_owned()
        } else {
            name(&stance.holder_entity_id)
        };
        let toward = match stance.target.as_ref().and_then(|t| t.target.as_ref()) {
            Some(target::Target::EntityId(id)) => name(id),
            Some(target::Target::Topic(topic)) => format!("topic: {topic}"),
            None => "-".into(),
        };
        let polarity = Polarity::try_from(stance.polarity)
            .map(|p| short(p.as_str_name(), "POLARITY_"))
            .unwrap_or_default();
        println!(
            "{:<24} {:<9} {:>+6.2}  {}",
            clip(&holder, 24),
            polarity,
            stance.score,
            toward
        );
    }
}

fn short(name: &str, prefix: &str) -> String {
    name.strip_prefix(prefix).unwrap_or(name).to_lowercase()
}

fn clip(text: &str, chars: usize) -> String {
    if text.chars().count() <= chars {
        return text.to_owned();
    }
    let mut clipped: String = text.chars().take(chars.saturating_sub(3)).collect();
    clipped.push_str("...");
    clipped
}
