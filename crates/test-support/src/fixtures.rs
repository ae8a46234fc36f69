//! Article fixtures: a builder of consistent `AnalyzedArticle`s and a small corpus over three
//! days, for the tests of storage and of what reads it.

use chrono::{DateTime, TimeZone, Utc};
use newsflow_proto::v1::{
    Analysis, AnalyzedArticle, Article, Entity, EntitySummary, EntityType, Geo, GeoStatus, Mention,
    MentionKind, Polarity, Span, Stance, StanceMethod, Statement, StatementKind, Target, target,
};

pub fn at(y: i32, mo: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, 0, 0).unwrap()
}

pub fn ts(t: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: t.timestamp_subsec_nanos() as i32,
    }
}

/// A small builder for `AnalyzedArticle` fixtures. Spans are made up but consistent.
pub struct Doc(pub AnalyzedArticle);

impl Doc {
    pub fn new(id: &str, source: &str, published: Option<DateTime<Utc>>) -> Self {
        let ingested =
            published.map_or_else(|| at(2024, 11, 26, 0), |p| p + chrono::Duration::hours(1));
        Self(AnalyzedArticle {
            article: Some(Article {
                id: id.to_owned(),
                external_id: format!("ext-{id}"),
                url: format!("https://example.com/{id}"),
                source: source.to_owned(),
                title: format!("Title of {id}"),
                body: format!("Body of {id}. Vladimir Putin and others."),
                language: "en".to_owned(),
                published_at: published.map(ts),
                ingested_at: Some(ts(ingested)),
            }),
            analysis: Some(Analysis::default()),
            stages: vec![],
        })
    }

    pub fn ingested(mut self, t: DateTime<Utc>) -> Self {
        self.article_mut().ingested_at = Some(ts(t));
        self
    }

    pub fn article_mut(&mut self) -> &mut Article {
        self.0.article.as_mut().unwrap()
    }

    fn analysis(&mut self) -> &mut Analysis {
        self.0.analysis.as_mut().unwrap()
    }

    /// Adds entity `id` with `mentions` name mentions and a summary.
    pub fn entity(mut self, id: &str, ty: EntityType, name: &str, mentions: u32) -> Self {
        let key = format!("{}:{}", type_label(ty), name.to_lowercase());
        let mentions: Vec<Mention> = (0..mentions)
            .map(|i| Mention {
                span: Some(Span {
                    start: i * 10,
                    end: i * 10 + 5,
                }),
                text: name.to_owned(),
                kind: MentionKind::Name as i32,
                confidence: 0.9,
            })
            .collect();
        let count = mentions.len() as u32;
        let a = self.analysis();
        a.entities.push(Entity {
            id: id.to_owned(),
            r#type: ty as i32,
            canonical_name: name.to_owned(),
            key,
            salience: 0.5,
            mentions,
            geo: None,
        });
        a.summaries.push(EntitySummary {
            entity_id: id.to_owned(),
            mention_count: count,
            ..Default::default()
        });
        self
    }

    /// Like [`Doc::entity`] with one mention per text of `called` ("President Putin").
    pub fn entity_called(mut self, id: &str, ty: EntityType, name: &str, called: &[&str]) -> Self {
        self = self.entity(id, ty, name, called.len() as u32);
        let entity = self.analysis().entities.last_mut().unwrap();
        for (mention, text) in entity.mentions.iter_mut().zip(called) {
            mention.text = (*text).to_owned();
        }
        self
    }

    /// Places the last entity added at GeoNames place `geonames_id`.
    pub fn placed(
        mut self,
        geonames_id: u32,
        latitude: f64,
        longitude: f64,
        country: &str,
    ) -> Self {
        self.analysis().entities.last_mut().unwrap().geo = Some(Geo {
            status: GeoStatus::Resolved as i32,
            geonames_id,
            name: "Place".to_owned(),
            latitude,
            longitude,
            country_code: country.to_owned(),
            feature_class: "P".to_owned(),
            feature_code: "PPLC".to_owned(),
            population: 1_000_000,
        });
        self
    }

    pub fn statement(mut self, id: &str, speaker: &str) -> Self {
        self.analysis().statements.push(Statement {
            id: id.to_owned(),
            speaker_entity_id: speaker.to_owned(),
            speaker_span: Some(Span { start: 0, end: 5 }),
            speaker_text: "He".to_owned(),
            cue_span: Some(Span { start: 6, end: 10 }),
            cue: "said".to_owned(),
            content_span: Some(Span { start: 11, end: 30 }),
            content: "something".to_owned(),
            kind: StatementKind::Direct as i32,
            confidence: 0.8,
        });
        self
    }

    /// A stance of `holder` ("" for the text's own) toward entity `target`.
    pub fn stance(mut self, holder: &str, statement: &str, target: &str, score: f32) -> Self {
        self.push_stance(
            holder,
            statement,
            target::Target::EntityId(target.to_owned()),
            score,
        );
        self
    }

    pub fn topic_stance(mut self, holder: &str, topic: &str, score: f32) -> Self {
        self.push_stance(holder, "", target::Target::Topic(topic.to_owned()), score);
        self
    }

    fn push_stance(&mut self, holder: &str, statement: &str, target: target::Target, score: f32) {
        let polarity = if score > 0.2 {
            Polarity::Positive
        } else if score < -0.2 {
            Polarity::Negative
        } else {
            Polarity::Neutral
        };
        self.analysis().stances.push(Stance {
            holder_entity_id: holder.to_owned(),
            statement_id: statement.to_owned(),
            target: Some(Target {
                target: Some(target),
                span: Some(Span { start: 1, end: 2 }),
            }),
            polarity: polarity as i32,
            score,
            confidence: 0.7,
            evidence_span: Some(Span { start: 0, end: 40 }),
            method: if holder.is_empty() {
                StanceMethod::Portrayal
            } else {
                StanceMethod::HolderModel
            } as i32,
        });
    }

    /// Sets the article's sentence embedding (model "test-embedding").
    pub fn embedding(mut self, values: Vec<f32>) -> Self {
        self.analysis().embedding = Some(newsflow_proto::v1::ArticleEmbedding {
            model: "test-embedding".to_owned(),
            values,
        });
        self
    }

    pub fn build(self) -> AnalyzedArticle {
        self.0
    }
}

/// The type as keys spell it ("PERSON").
fn type_label(ty: EntityType) -> &'static str {
    ty.as_str_name().trim_start_matches("ENTITY_TYPE_")
}

pub const PUTIN: &str = "PERSON:vladimir putin";
pub const UKRAINE: &str = "GPE:ukraine";
pub const NATO: &str = "ORG:nato";

/// Ukraine's GeoNames id, where the corpus places it.
pub const UKRAINE_GEONAMES_ID: u32 = 690_791;

/// Four articles over three days (newest first: a3, a2, a1, a4) with entities, statements,
/// stances toward entities and a topic, and summaries; a3 names Putin by his surname.
pub fn corpus() -> Vec<AnalyzedArticle> {
    use EntityType::*;
    let a1 = Doc::new("a1", "reuters", Some(at(2024, 11, 20, 10)))
        .entity_called(
            "e1",
            Person,
            "Vladimir Putin",
            &["President Vladimir Putin", "Putin"],
        )
        .entity("e2", Person, "Dmitry Peskov", 1)
        .entity("e3", Gpe, "Ukraine", 1)
        .placed(UKRAINE_GEONAMES_ID, 49.0, 32.0, "UA")
        .statement("s1", "e2")
        .stance("e2", "s1", "e1", 0.8)
        .stance("", "", "e3", 0.0)
        .topic_stance("e1", "Western troops", -0.7)
        .build();
    let a2 = Doc::new("a2", "bbc", Some(at(2024, 11, 20, 15)))
        .entity("e1", Person, "Vladimir Putin", 1)
        .entity("e2", Org, "NATO", 2)
        .stance("e2", "", "e1", -0.6)
        .stance("", "", "e1", -0.4)
        .build();
    // No published time: listed by its ingested time.
    let a3 = Doc::new("a3", "reuters", None)
        .ingested(at(2024, 11, 21, 8))
        // Another name of the same person: storage takes it for him (the same surname, and
        // the title agrees).
        .entity_called("e1", Person, "Putin", &["President Putin"])
        .entity("e2", Person, "Volodymyr Zelensky", 1)
        .statement("s1", "e2")
        .stance("e2", "s1", "e1", -0.9)
        .build();
    let a4 = Doc::new("a4", "bbc", Some(at(2024, 11, 19, 12)))
        .entity("e1", Gpe, "Ukraine", 3)
        .placed(UKRAINE_GEONAMES_ID, 49.0, 32.0, "UA")
        .build();
    vec![a1, a2, a3, a4]
}
