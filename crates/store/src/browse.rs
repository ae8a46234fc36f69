//! The analyst's queries, beside the `StorageService` ones: articles by any combination of
//! filters (stance holder, target and polarity, and full text included), statements by or
//! about an entity, the stance edges between entities over a period, and one entity's facts.
//! The query service (`newsflow-web`) asks them; `ListArticles` is [`Store::find_articles`]
//! under its request's filters.
//!
//! Lists page by keyset (the position of the last item in an opaque token), newest article
//! first, so pages neither skip nor repeat items when new articles are stored meanwhile.

use chrono::{DateTime, Utc};
use newsflow_proto::v1::{
    ArticleSummary, EntityType, ListArticlesResponse, Polarity, StatementKind,
};
use prost::Message;
use sqlx::{Postgres, QueryBuilder};

use crate::query::{ArticleOnly, no_nul, unsigned, unsigned64};
use crate::token::{Cursor, RowCursor};
use crate::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Store, StoreError};

/// id, sort time, document, entity, statement and stance counts, story.
type ListRow = (String, DateTime<Utc>, Vec<u8>, i32, i32, i32, Option<i64>);
/// type, articles, mentions, first and last time, statements.
type FactsRow = (i16, i64, i64, DateTime<Utc>, DateTime<Utc>, i64);

/// Most stance edges one [`Store::stance_edges`] call returns.
pub const MAX_EDGES: u32 = 1_000;

/// Which articles: every filter that is set must hold.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ArticleFilter {
    /// Published (or, when unpublished, ingested) at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Published (or ingested) before this time.
    pub to: Option<DateTime<Utc>>,
    /// From this source.
    pub source: Option<String>,
    /// Mentioning this entity (`Entity.key`).
    pub entity_key: Option<String>,
    /// Mentioning an entity of this type.
    pub entity_type: Option<EntityType>,
    /// Naming this place (a GeoNames id, `Geo.geonames_id`), by whatever name.
    pub place: Option<u32>,
    /// In this story (`Story.id`).
    pub story: Option<u64>,
    /// Holding a stance that matches.
    pub stance: StanceMatch,
    /// Matching this full-text query (PostgreSQL `websearch_to_tsquery`, English: words,
    /// `"a phrase"`, `-not`, `or`) over the title and body.
    pub text: Option<String>,
}

/// What one stance of an article must be; an empty match matches every article.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StanceMatch {
    /// Held by this entity (`Entity.key`).
    pub holder: Option<String>,
    /// Toward this entity (`Entity.key`) or configured topic ("Western troops").
    pub target: Option<String>,
    /// Of this polarity.
    pub polarity: Option<Polarity>,
}

impl StanceMatch {
    fn is_empty(&self) -> bool {
        self.holder.is_none() && self.target.is_none() && self.polarity.is_none()
    }

    /// Appends the conditions on stance `s`.
    fn push_where(&self, q: &mut QueryBuilder<Postgres>) -> Result<(), StoreError> {
        if let Some(holder) = &self.holder {
            no_nul("holder", holder)?;
            q.push(" AND s.holder_key = ").push_bind(holder.clone());
        }
        if let Some(target) = &self.target {
            no_nul("target", target)?;
            q.push(" AND (s.target_key = ")
                .push_bind(target.clone())
                .push(" OR s.target_topic = ")
                .push_bind(target.clone())
                .push(")");
        }
        if let Some(polarity) = self.polarity {
            q.push(" AND s.polarity = ").push_bind(polarity as i16);
        }
        Ok(())
    }
}

impl ArticleFilter {
    /// Appends ` AND ...` for every filter that is set, on articles aliased `a`.
    fn push_where(&self, q: &mut QueryBuilder<Postgres>) -> Result<(), StoreError> {
        if let Some(source) = &self.source {
            no_nul("source", source)?;
            q.push(" AND a.source = ").push_bind(source.clone());
        }
        push_period(q, self.from, self.to);
        if let Some(key) = &self.entity_key {
            no_nul("entity", key)?;
            q.push(
                " AND EXISTS (SELECT 1 FROM article_entities ae \
                 WHERE ae.article_id = a.id AND ae.entity_key = ",
            )
            .push_bind(key.clone())
            .push(")");
        }
        if let Some(place) = self.place {
            q.push(
                " AND EXISTS (SELECT 1 FROM article_entities ae \
                 WHERE ae.article_id = a.id AND ae.geonames_id = ",
            )
            .push_bind(i64::from(place))
            .push(")");
        }
        if let Some(story) = self.story {
            let story = i64::try_from(story).map_err(|_| {
                StoreError::InvalidArgument(format!("story {story} is out of range"))
            })?;
            q.push(" AND a.story_id = ").push_bind(story);
        }
        if let Some(ty) = self.entity_type {
            q.push(
                " AND EXISTS (SELECT 1 FROM article_entities ae \
                 WHERE ae.article_id = a.id AND ae.type = ",
            )
            .push_bind(ty as i16)
            .push(")");
        }
        if !self.stance.is_empty() {
            q.push(" AND EXISTS (SELECT 1 FROM stances s WHERE s.article_id = a.id");
            self.stance.push_where(q)?;
            q.push(")");
        }
        if let Some(text) = &self.text {
            let text = text.trim();
            if text.is_empty() {
                return Err(StoreError::InvalidArgument("text is empty".into()));
            }
            no_nul("text", text)?;
            // The expression of the `articles_text_idx` index, so the planner can use it.
            q.push(" AND to_tsvector('english', a.title || ' ' || a.body) @@ websearch_to_tsquery('english', ")
                .push_bind(text.to_owned())
                .push(")");
        }
        Ok(())
    }

    /// Appends the filter and the keyset condition and order of a listing of articles `a`
    /// newest first, after `cursor`, `limit` rows.
    pub(crate) fn push_page(
        &self,
        q: &mut QueryBuilder<Postgres>,
        cursor: Option<&Cursor>,
        limit: i64,
    ) -> Result<(), StoreError> {
        self.push_where(q)?;
        if let Some(cursor) = cursor {
            q.push(" AND (a.sort_time, a.id) < (")
                .push_bind(cursor.time()?)
                .push(", ")
                .push_bind(cursor.id.clone())
                .push(")");
        }
        q.push(" ORDER BY a.sort_time DESC, a.id DESC LIMIT ")
            .push_bind(limit);
        Ok(())
    }
}

fn push_period(
    q: &mut QueryBuilder<Postgres>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) {
    if let Some(from) = from {
        q.push(" AND a.sort_time >= ").push_bind(from);
    }
    if let Some(to) = to {
        q.push(" AND a.sort_time < ").push_bind(to);
    }
}

/// A page size as asked: 0 means the default, more than the largest is cut to it.
fn effective_page_size(asked: u32) -> u32 {
    match asked {
        0 => DEFAULT_PAGE_SIZE,
        n => n.min(MAX_PAGE_SIZE),
    }
}

/// A statement found by [`Store::statements`], with its article and its speaker resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct FoundStatement {
    /// The article it is in.
    pub article_id: String,
    /// That article's title.
    pub article_title: String,
    /// That article's source.
    pub source: String,
    /// That article's time (published, else ingested).
    pub time: DateTime<Utc>,
    /// `Statement.id` within the article.
    pub statement_id: String,
    /// The speaker's cross-article key; `None` when the speaker names no entity.
    pub speaker_key: Option<String>,
    /// The speaker's canonical name in the article.
    pub speaker_name: Option<String>,
    /// The speaker's words in the text ("He").
    pub speaker_text: String,
    /// The cue ("said").
    pub cue: String,
    /// What was said.
    pub content: String,
    /// Where the content stands in the article's body (code points), when known.
    pub content_span: Option<(u32, u32)>,
    /// How it is reported.
    pub kind: StatementKind,
    /// The attribution model's confidence.
    pub confidence: f32,
    /// With [`StatementFilter::about`]: the strongest stance this statement takes toward that
    /// entity (polarity and score), if it takes one.
    pub stance: Option<(Polarity, f32)>,
}

/// Which statements: every filter that is set must hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StatementFilter {
    /// Said by this entity (`Entity.key`).
    pub speaker: Option<String>,
    /// About this entity (`Entity.key`): the content mentions it, or the statement takes a
    /// stance toward it.
    pub about: Option<String>,
    /// In articles at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// In articles before this time.
    pub to: Option<DateTime<Utc>>,
}

/// One page of statements.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StatementPage {
    /// Newest article first, in text order within an article.
    pub statements: Vec<FoundStatement>,
    /// The token of the next page; empty on the last.
    pub next_page_token: String,
}

#[derive(sqlx::FromRow)]
struct StatementRow {
    article_id: String,
    title: String,
    source: String,
    sort_time: DateTime<Utc>,
    ordinal: i32,
    statement_id: String,
    speaker_key: Option<String>,
    speaker_name: Option<String>,
    speaker_text: String,
    cue: String,
    content: String,
    content_start: Option<i64>,
    content_end: Option<i64>,
    kind: i16,
    confidence: f32,
    stance_polarity: Option<i16>,
    stance_score: Option<f32>,
}

/// One directed edge of the stance graph: what `holder` holds toward `target` over a period.
#[derive(Clone, Debug, PartialEq)]
pub struct StanceEdge {
    /// The holder's cross-article key.
    pub holder_key: String,
    /// The holder's most frequent name.
    pub holder_name: String,
    /// The target: an entity's key, or a configured topic.
    pub target: EdgeTarget,
    /// The target's name (the entity's canonical name, or the topic).
    pub target_name: String,
    /// Stances by class.
    pub negative: u32,
    /// Neutral stances.
    pub neutral: u32,
    /// Positive stances.
    pub positive: u32,
    /// Mean score, in [-1, 1].
    pub mean_score: f32,
    /// Articles the stances come from.
    pub articles: u32,
}

/// The target of a stance edge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EdgeTarget {
    /// An entity, by `Entity.key`.
    Entity(String),
    /// A topic the operator configured.
    Topic(String),
}

/// Which stance edges: stances with a holder, in articles of the period, matching `stance`;
/// with `entity`, only edges that have it at either end.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EdgeFilter {
    /// Articles at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Articles before this time.
    pub to: Option<DateTime<Utc>>,
    /// Holder, target, polarity of the stances counted.
    pub stance: StanceMatch,
    /// Only edges from or to this entity (`Entity.key`).
    pub entity: Option<String>,
    /// Count stances in near-copies of stored articles too (by default a wire story run by
    /// forty outlets counts once).
    pub include_copies: bool,
    /// Most edges, 1 to [`MAX_EDGES`] (+ 1, to tell whether more matched); 0 means 100. The
    /// edges with the most stances first.
    pub limit: u32,
}

/// An entity (its identity) as stored across articles.
#[derive(Clone, Debug, PartialEq)]
pub struct EntityFacts {
    /// The identity's key.
    pub key: String,
    /// The identity's display name.
    pub canonical_name: String,
    /// Every name it was seen under, first seen first.
    pub aliases: Vec<String>,
    /// Why storage made this identity rather than take it for a known one it might be.
    pub ambiguity: Option<String>,
    /// Its type.
    pub entity_type: EntityType,
    /// Stored articles mentioning it.
    pub articles: u32,
    /// Mentions in them.
    pub mentions: u32,
    /// Statements it is the speaker of.
    pub statements: u32,
    /// The first and the last time (published, else ingested) of those articles.
    pub first: DateTime<Utc>,
    /// See `first`.
    pub last: DateTime<Utc>,
}

impl Store {
    /// `stance` with its holder and target keys resolved to identities.
    async fn identities_of(&self, stance: &StanceMatch) -> Result<StanceMatch, StoreError> {
        Ok(StanceMatch {
            holder: self.identity_key_of(&stance.holder).await?,
            target: self.identity_key_of(&stance.target).await?,
            polarity: stance.polarity,
        })
    }

    /// One page of the articles matching `filter`, newest first by published time (ingested
    /// time for articles without one), ties broken by id. `page_size` 0 means 50; more than
    /// 500 is cut to 500. `page_token` is the previous page's `next_page_token`, or empty.
    pub async fn find_articles(
        &self,
        filter: &ArticleFilter,
        page_size: u32,
        page_token: &str,
    ) -> Result<ListArticlesResponse, StoreError> {
        let page_size = effective_page_size(page_size);
        let cursor = (!page_token.is_empty())
            .then(|| Cursor::decode(page_token))
            .transpose()?;
        let filter = &ArticleFilter {
            entity_key: self.identity_key_of(&filter.entity_key).await?,
            stance: self.identities_of(&filter.stance).await?,
            ..filter.clone()
        };
        let mut q = QueryBuilder::<Postgres>::new(
            "SELECT a.id, a.sort_time, a.document, a.entity_count, a.statement_count, \
             a.stance_count, a.story_id FROM articles a WHERE TRUE",
        );
        // One row more than the page tells whether another page follows.
        filter.push_page(&mut q, cursor.as_ref(), i64::from(page_size) + 1)?;
        let mut rows: Vec<ListRow> = q.build_query_as().fetch_all(&self.pool).await?;
        let next_page_token = next_token(&mut rows, page_size, |(id, time, ..)| {
            Cursor {
                micros: time.timestamp_micros(),
                id: id.clone(),
            }
            .encode()
        });
        let articles = rows
            .into_iter()
            .map(|(id, _, document, entities, statements, stances, story)| {
                let article = ArticleOnly::decode(document.as_slice())
                    .map_err(|source| StoreError::Corrupt {
                        id: id.clone(),
                        source,
                    })?
                    .article;
                Ok(ArticleSummary {
                    article,
                    entity_count: unsigned(entities),
                    statement_count: unsigned(statements),
                    stance_count: unsigned(stances),
                    story_id: story.and_then(|s| u64::try_from(s).ok()).unwrap_or(0),
                })
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(ListArticlesResponse {
            articles,
            next_page_token,
        })
    }

    /// One page of the statements matching `filter`: newest article first, in text order
    /// within an article. Page sizes as [`Store::find_articles`].
    pub async fn statements(
        &self,
        filter: &StatementFilter,
        page_size: u32,
        page_token: &str,
    ) -> Result<StatementPage, StoreError> {
        let page_size = effective_page_size(page_size);
        let cursor = (!page_token.is_empty())
            .then(|| RowCursor::decode(page_token))
            .transpose()?;
        let filter = &StatementFilter {
            speaker: self.identity_key_of(&filter.speaker).await?,
            about: self.identity_key_of(&filter.about).await?,
            ..filter.clone()
        };
        let mut q = QueryBuilder::<Postgres>::new(
            "SELECT a.id AS article_id, a.title, a.source, a.sort_time, st.ordinal, \
             st.statement_id, st.speaker_key, sp.canonical_name AS speaker_name, \
             st.speaker_text, st.cue, st.content, st.content_start, st.content_end, st.kind, \
             st.confidence, ",
        );
        match &filter.about {
            Some(about) => {
                no_nul("about", about)?;
                q.push(
                    "toward.polarity AS stance_polarity, toward.score AS stance_score \
                     FROM statements st JOIN articles a ON a.id = st.article_id \
                     LEFT JOIN LATERAL (SELECT s.polarity, s.score FROM stances s \
                       WHERE s.article_id = st.article_id AND s.statement_id = st.statement_id \
                       AND s.target_key = ",
                )
                .push_bind(about.clone())
                .push(" ORDER BY abs(s.score) DESC LIMIT 1) toward ON TRUE ");
            }
            None => {
                q.push(
                    "NULL::int2 AS stance_polarity, NULL::float4 AS stance_score \
                     FROM statements st JOIN articles a ON a.id = st.article_id ",
                );
            }
        }
        q.push(
            "LEFT JOIN article_entities sp ON sp.article_id = st.article_id \
             AND sp.entity_id = st.speaker_entity_id WHERE TRUE",
        );
        if let Some(speaker) = &filter.speaker {
            no_nul("speaker", speaker)?;
            q.push(" AND st.speaker_key = ").push_bind(speaker.clone());
        }
        if let Some(about) = &filter.about {
            // Articles mentioning the entity first (an index), then a mention inside the
            // content, or a stance toward it from the statement.
            q.push(
                " AND EXISTS (SELECT 1 FROM article_entities ae \
                 WHERE ae.article_id = st.article_id AND ae.entity_key = ",
            )
            .push_bind(about.clone())
            .push(
                ") AND (toward.polarity IS NOT NULL OR EXISTS (SELECT 1 FROM article_entities ae \
                 JOIN mentions m ON m.article_id = ae.article_id AND m.entity_id = ae.entity_id \
                 WHERE ae.article_id = st.article_id AND ae.entity_key = ",
            )
            .push_bind(about.clone())
            .push(" AND m.span_start >= st.content_start AND m.span_end <= st.content_end))");
        }
        push_period(&mut q, filter.from, filter.to);
        if let Some(cursor) = &cursor {
            let time = cursor.at.time()?;
            q.push(" AND ((a.sort_time, a.id) < (")
                .push_bind(time)
                .push(", ")
                .push_bind(cursor.at.id.clone())
                .push(") OR (a.sort_time = ")
                .push_bind(time)
                .push(" AND a.id = ")
                .push_bind(cursor.at.id.clone())
                .push(" AND st.ordinal > ")
                .push_bind(cursor.ordinal)
                .push("))");
        }
        q.push(" ORDER BY a.sort_time DESC, a.id DESC, st.ordinal LIMIT ")
            .push_bind(i64::from(page_size) + 1);
        let mut rows: Vec<StatementRow> = q.build_query_as().fetch_all(&self.pool).await?;
        let next_page_token = next_token(&mut rows, page_size, |row| {
            RowCursor {
                at: Cursor {
                    micros: row.sort_time.timestamp_micros(),
                    id: row.article_id.clone(),
                },
                ordinal: row.ordinal,
            }
            .encode()
        });
        let statements = rows
            .into_iter()
            .map(|row| FoundStatement {
                content_span: span(row.content_start, row.content_end),
                kind: StatementKind::try_from(i32::from(row.kind)).unwrap_or_default(),
                stance: row.stance_polarity.map(|polarity| {
                    (
                        Polarity::try_from(i32::from(polarity)).unwrap_or_default(),
                        row.stance_score.unwrap_or_default(),
                    )
                }),
                article_id: row.article_id,
                article_title: row.title,
                source: row.source,
                time: row.sort_time,
                statement_id: row.statement_id,
                speaker_key: row.speaker_key,
                speaker_name: row.speaker_name,
                speaker_text: row.speaker_text,
                cue: row.cue,
                content: row.content,
                confidence: row.confidence,
            })
            .collect();
        Ok(StatementPage {
            statements,
            next_page_token,
        })
    }

    /// Who holds what toward whom: stances with a holder entity, grouped by holder and target,
    /// counted by class, the edges with the most stances first (ties by holder and target).
    pub async fn stance_edges(&self, filter: &EdgeFilter) -> Result<Vec<StanceEdge>, StoreError> {
        // One more than the largest list is allowed, so a caller can tell a list was cut.
        let limit = match filter.limit {
            0 => 100,
            n => n.min(MAX_EDGES + 1),
        };
        let filter = &EdgeFilter {
            entity: self.identity_key_of(&filter.entity).await?,
            stance: self.identities_of(&filter.stance).await?,
            ..filter.clone()
        };
        let mut q = QueryBuilder::<Postgres>::new(format!(
            "SELECT s.holder_key, coalesce(min(h.canonical_name), \
                 mode() WITHIN GROUP (ORDER BY s.holder_name)) AS holder_name, \
               s.target_key, s.target_topic, coalesce(min(e.canonical_name), s.target_topic, '') \
               AS target_name, \
               count(*) FILTER (WHERE s.polarity = {neg}) AS negative, \
               count(*) FILTER (WHERE s.polarity = {neu}) AS neutral, \
               count(*) FILTER (WHERE s.polarity = {pos}) AS positive, \
               avg(s.score)::float4 AS mean_score, count(DISTINCT s.article_id) AS articles \
             FROM stances s JOIN articles a ON a.id = s.article_id \
             LEFT JOIN identities h ON h.key = s.holder_key \
             LEFT JOIN identities e ON e.key = s.target_key \
             WHERE s.holder_key IS NOT NULL \
               AND (s.target_key IS NOT NULL OR s.target_topic IS NOT NULL)",
            neg = Polarity::Negative as i32,
            neu = Polarity::Neutral as i32,
            pos = Polarity::Positive as i32,
        ));
        filter.stance.push_where(&mut q)?;
        if let Some(entity) = &filter.entity {
            no_nul("entity", entity)?;
            q.push(" AND (s.holder_key = ")
                .push_bind(entity.clone())
                .push(" OR s.target_key = ")
                .push_bind(entity.clone())
                .push(")");
        }
        push_period(&mut q, filter.from, filter.to);
        if !filter.include_copies {
            q.push(" AND a.duplicate_of IS NULL");
        }
        q.push(
            " GROUP BY s.holder_key, s.target_key, s.target_topic \
             ORDER BY count(*) DESC, s.holder_key, s.target_key, s.target_topic LIMIT ",
        )
        .push_bind(i64::from(limit));
        type EdgeRow = (
            String,
            String,
            Option<String>,
            Option<String>,
            String,
            i64,
            i64,
            i64,
            f32,
            i64,
        );
        let rows: Vec<EdgeRow> = q.build_query_as().fetch_all(&self.pool).await?;
        Ok(rows
            .into_iter()
            .map(
                |(holder_key, holder_name, key, topic, target_name, neg, neu, pos, mean, arts)| {
                    StanceEdge {
                        holder_key,
                        holder_name,
                        target: match key {
                            Some(key) => EdgeTarget::Entity(key),
                            None => EdgeTarget::Topic(topic.unwrap_or_default()),
                        },
                        target_name,
                        negative: unsigned64(neg),
                        neutral: unsigned64(neu),
                        positive: unsigned64(pos),
                        mean_score: mean,
                        articles: unsigned64(arts),
                    }
                },
            )
            .collect())
    }

    /// What is stored about entity `key` (resolved to its identity: [`Store::identity_key`]),
    /// or `None` when no stored article mentions it.
    pub async fn entity(&self, key: &str) -> Result<Option<EntityFacts>, StoreError> {
        let Some(names) = self.identity_names(key).await? else {
            return Ok(None);
        };
        let key = names.key.as_str();
        let row: Option<FactsRow> = sqlx::query_as(
            "SELECT min(ae.type), \
                   count(DISTINCT ae.article_id), sum(ae.mention_count)::int8, \
                   min(a.sort_time), max(a.sort_time), \
                   (SELECT count(*) FROM statements st WHERE st.speaker_key = $1) \
                 FROM article_entities ae JOIN articles a ON a.id = ae.article_id \
                 WHERE ae.entity_key = $1 HAVING count(*) > 0",
        )
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(
            |(ty, articles, mentions, first, last, statements)| EntityFacts {
                key: key.to_owned(),
                canonical_name: names.canonical_name,
                aliases: names.aliases,
                ambiguity: names.ambiguity,
                entity_type: EntityType::try_from(i32::from(ty)).unwrap_or_default(),
                articles: unsigned64(articles),
                mentions: unsigned64(mentions),
                statements: unsigned64(statements),
                first,
                last,
            },
        ))
    }
}

/// Cuts `rows` (fetched one longer than the page) to the page and returns the token of the
/// next page, or an empty one when this is the last.
fn next_token<T>(rows: &mut Vec<T>, page_size: u32, token: impl Fn(&T) -> String) -> String {
    if rows.len() > page_size as usize {
        rows.truncate(page_size as usize);
        rows.last().map(token).unwrap_or_default()
    } else {
        String::new()
    }
}

fn span(start: Option<i64>, end: Option<i64>) -> Option<(u32, u32)> {
    Some((u32::try_from(start?).ok()?, u32::try_from(end?).ok()?))
}
