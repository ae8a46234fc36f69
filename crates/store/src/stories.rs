//! Stories in storage: each article saved with an embedding joins the story of its event or
//! starts one ([`newsflow_knowledge::story`] holds the rules; this module keeps their state in
//! the `stories` and `story_keys` tables and answers `ListStories` and `GetStory`).
//!
//! An article is placed once, when it is first saved with an embedding, inside its save's
//! transaction: its entities are read by identity key (so "Putin" and "Vladimir Putin" count
//! as one; dates left out), the stories indexed under those keys whose latest article is within
//! the window are its candidates (at most [`story::MAX_CANDIDATES`] per key by index, then the
//! [`story::MAX_CANDIDATES`] most recent), and the rules decide. Saving it again keeps its
//! story. A near-copy of a stored original joins the original's story without counting in its
//! centroid or weights, so forty outlets running one wire story make one story of one article
//! and 39 copies.
//!
//! Concurrency: a save takes transaction-scoped advisory locks on its lookup keys (in one
//! order, in a key space of their own) before reading candidates, so two reports of a new event
//! saved at once cannot both start a story; the story it joins is then locked as a row and
//! read again, so two articles joining one story through different keys both count.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use newsflow_knowledge::story::{self, Decision, Rules};
use newsflow_proto::v1::{GetStoryRequest, ListStoriesRequest, ListStoriesResponse, StoryEntity};
use sqlx::types::Json;
use sqlx::{Postgres, QueryBuilder};

use crate::token::Cursor;
use crate::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Store, StoreError, time};

/// The advisory-lock class of story lookup keys (`pg_advisory_xact_lock(class, hash)`): the
/// two-key lock space does not meet the one-key space of article ids and band keys.
const STORY_LOCK_CLASS: i32 = 0x5354; // "ST"

/// What a save knows of an article for its story: the stored article's parts the rules read.
#[derive(Clone, Debug, Default)]
pub(crate) struct StoryInput {
    /// The embedding model and vector; `None` when the document holds none.
    pub embedding: Option<(String, Vec<f32>)>,
    /// Its entities as (identity key, salience), dates left out.
    pub entities: Vec<(String, f32)>,
    pub title: String,
}

/// A `stories` row.
type StoryRow = (
    i64,
    Vec<f32>,
    Json<Vec<(String, f32)>>,
    i64,
    DateTime<Utc>,
    DateTime<Utc>,
    String,
    Vec<f32>,
);

/// The columns of a [`StoryRow`], as a literal for `concat!` (the queries stay static text).
macro_rules! story_columns {
    () => {
        "s.id, s.embedding_sum, s.entity_weights, s.size, s.first_time, s.last_time, s.title, \
         s.title_embedding"
    };
}

fn from_row(row: StoryRow) -> (i64, story::Story) {
    let (id, embedding_sum, Json(entity_weights), size, first, last, title, title_embedding) = row;
    (
        id,
        story::Story {
            embedding_sum,
            entity_weights,
            size: u64::try_from(size).unwrap_or(0),
            first_time: first.timestamp(),
            last_time: last.timestamp(),
            title,
            title_embedding,
        },
    )
}

/// Characters of a body's lead that stand for the title of an article without one.
const LEAD_CHARS: usize = 80;

/// What a story shows as an article's title: its title, or for one without (a text file
/// submitted as it is), the start of its body cut at a word, with an ellipsis.
pub(crate) fn title_or_lead(title: &str, body: &str) -> String {
    let title = title.trim();
    if !title.is_empty() {
        return title.to_owned();
    }
    let body = body.trim();
    match body.char_indices().nth(LEAD_CHARS) {
        None => body.to_owned(),
        Some((cut, _)) => {
            let head = &body[..cut];
            let head = head
                .rfind(char::is_whitespace)
                .map_or(head, |space| &head[..space]);
            format!("{}…", head.trim_end())
        }
    }
}

fn timestamp(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds, 0).unwrap_or_default()
}

/// Places article `id` (stored, with its entities' identity keys in `input`) in a story, unless
/// it has one already; returns its story. A near-copy (`duplicate_of`) takes its original's.
pub(crate) async fn place(
    tx: &mut sqlx::PgConnection,
    id: &str,
    input: &StoryInput,
    duplicate_of: Option<&str>,
) -> Result<Option<u64>, StoreError> {
    let (current, time): (Option<i64>, DateTime<Utc>) = sqlx::query_as(
        "SELECT story_id, coalesce(sort_time, stored_at) FROM articles WHERE id = $1",
    )
    .bind(id)
    .fetch_one(&mut *tx)
    .await?;
    if current.is_some() {
        return Ok(current.and_then(|s| u64::try_from(s).ok()));
    }
    let story_id = match (duplicate_of, &input.embedding) {
        (Some(original), _) => {
            sqlx::query_scalar::<_, Option<i64>>("SELECT story_id FROM articles WHERE id = $1")
                .bind(original)
                .fetch_optional(&mut *tx)
                .await?
                .flatten()
        }
        (None, Some((model, values))) => {
            let article = story::Article {
                embedding: values.clone(),
                entities: input.entities.clone(),
                time: time.timestamp(),
                title: input.title.clone(),
            };
            Some(join_or_start(tx, model, &article).await?)
        }
        (None, None) => None,
    };
    if story_id.is_some() {
        sqlx::query("UPDATE articles SET story_id = $2 WHERE id = $1")
            .bind(id)
            .bind(story_id)
            .execute(&mut *tx)
            .await?;
    }
    Ok(story_id.and_then(|s| u64::try_from(s).ok()))
}

/// The story `article` joins (updated) or starts (inserted).
async fn join_or_start(
    tx: &mut sqlx::PgConnection,
    model: &str,
    article: &story::Article,
) -> Result<i64, StoreError> {
    let rules = Rules::default();
    let keys = article.lookup_keys();
    sqlx::query(
        "SELECT pg_advisory_xact_lock($2, h) FROM \
         (SELECT DISTINCT hashtext(k) AS h FROM unnest($1::text[]) AS k) l ORDER BY h",
    )
    .bind(&keys)
    .bind(STORY_LOCK_CLASS)
    .execute(&mut *tx)
    .await?;

    let window = rules.window_seconds;
    let rows: Vec<StoryRow> = sqlx::query_as(concat!(
        "SELECT ",
        story_columns!(),
        " FROM stories s WHERE s.id IN ( \
           SELECT c.story_id FROM unnest($1::text[]) AS q(key) CROSS JOIN LATERAL ( \
             SELECT k.story_id FROM story_keys k WHERE k.key = q.key AND k.last_time >= $2 \
             ORDER BY k.last_time DESC LIMIT $4) c) \
         AND s.first_time <= $3 AND s.model = $5 \
         ORDER BY s.last_time DESC, s.id DESC LIMIT $4"
    ))
    .bind(&keys)
    .bind(timestamp(article.time.saturating_sub(window)))
    .bind(timestamp(article.time.saturating_add(window)))
    .bind(story::MAX_CANDIDATES as i64)
    .bind(model)
    .fetch_all(&mut *tx)
    .await?;
    let (ids, mut candidates): (Vec<i64>, Vec<story::Story>) =
        rows.into_iter().map(from_row).unzip();
    follow_merges(tx, &mut candidates).await?;

    match rules.decide(article, &candidates) {
        Decision::Join { index, .. } => {
            let id = ids[index];
            // Locked and read again: another save may have grown it since the read above.
            let row: StoryRow = sqlx::query_as(concat!(
                "SELECT ",
                story_columns!(),
                " FROM stories s WHERE s.id = $1 FOR UPDATE"
            ))
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
            let (_, mut story) = from_row(row);
            follow_merges(tx, std::slice::from_mut(&mut story)).await?;
            story.absorb(article);
            write(tx, Some(id), model, &story).await
        }
        Decision::New => write(tx, None, model, &story::Story::new(article)).await,
    }
}

/// Renames the entity keys of `stories` that name identities an operator merged into another
/// to that identity's key (weights of one identity summed), so they compare with articles
/// saved since.
async fn follow_merges(
    tx: &mut sqlx::PgConnection,
    stories: &mut [story::Story],
) -> Result<(), StoreError> {
    let mut keys: Vec<&str> = stories
        .iter()
        .flat_map(|s| s.entity_weights.iter().map(|(k, _)| k.as_str()))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    let renamed: HashMap<String, String> = sqlx::query_as(
        "SELECT i.key, m.key FROM identities i JOIN identities m ON m.id = i.merged_into \
         WHERE i.key = ANY($1)",
    )
    .bind(&keys)
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .collect();
    if renamed.is_empty() {
        return Ok(());
    }
    for story in stories {
        let mut weights: Vec<(String, f32)> = Vec::with_capacity(story.entity_weights.len());
        for (key, weight) in story.entity_weights.drain(..) {
            let key = renamed.get(&key).cloned().unwrap_or(key);
            match weights.iter_mut().find(|(k, _)| *k == key) {
                Some((_, w)) => *w += weight,
                None => weights.push((key, weight)),
            }
        }
        weights.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        story.entity_weights = weights;
    }
    Ok(())
}

/// Inserts (`id` none) or updates the story and rewrites its index keys; returns its id.
async fn write(
    tx: &mut sqlx::PgConnection,
    id: Option<i64>,
    model: &str,
    story: &story::Story,
) -> Result<i64, StoreError> {
    let size = i64::try_from(story.size).unwrap_or(i64::MAX);
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO stories (id, model, embedding_sum, entity_weights, size, first_time, \
             last_time, title, title_embedding) \
         VALUES (coalesce($1, nextval('stories_id_seq')), $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (id) DO UPDATE SET embedding_sum = EXCLUDED.embedding_sum, \
             entity_weights = EXCLUDED.entity_weights, size = EXCLUDED.size, \
             first_time = EXCLUDED.first_time, last_time = EXCLUDED.last_time, \
             title = EXCLUDED.title, title_embedding = EXCLUDED.title_embedding \
         RETURNING id",
    )
    .bind(id)
    .bind(model)
    .bind(&story.embedding_sum)
    .bind(Json(&story.entity_weights))
    .bind(size)
    .bind(timestamp(story.first_time))
    .bind(timestamp(story.last_time))
    .bind(&story.title)
    .bind(&story.title_embedding)
    .fetch_one(&mut *tx)
    .await?;
    // At most MAX_STORY_ENTITIES rows: rewritten whole on every change.
    sqlx::query("DELETE FROM story_keys WHERE story_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO story_keys (key, story_id, last_time) \
         SELECT DISTINCT k, $2, $3 FROM unnest($1::text[]) AS k",
    )
    .bind(story.index_keys())
    .bind(id)
    .bind(timestamp(story.last_time))
    .execute(&mut *tx)
    .await?;
    Ok(id)
}

/// id, title, label entity keys, articles, copies, first and last time.
type SummaryRow = (
    i64,
    String,
    Json<Vec<(String, f32)>>,
    i64,
    i64,
    DateTime<Utc>,
    DateTime<Utc>,
);

/// The columns of a [`SummaryRow`], as a literal for `concat!`: the article counts of story
/// `s`, originals and copies, by the `articles_story_idx` index.
macro_rules! summary_columns {
    () => {
        "s.id, s.title, s.entity_weights, \
         (SELECT count(*) FROM articles a WHERE a.story_id = s.id AND a.duplicate_of IS NULL), \
         (SELECT count(*) FROM articles a WHERE a.story_id = s.id \
            AND a.duplicate_of IS NOT NULL), \
         s.first_time, s.last_time"
    };
}

impl Store {
    /// One page of stories, latest first (by their latest article's time, then id): those
    /// with an article mentioning `req.entity_key`'s identity, whose span meets the period.
    pub async fn list_stories(
        &self,
        req: &ListStoriesRequest,
    ) -> Result<ListStoriesResponse, StoreError> {
        let page_size = match req.page_size {
            0 => DEFAULT_PAGE_SIZE,
            n => n.min(MAX_PAGE_SIZE),
        };
        let cursor = (!req.page_token.is_empty())
            .then(|| Cursor::decode(&req.page_token))
            .transpose()?;
        let mut q = QueryBuilder::<Postgres>::new(concat!(
            "SELECT ",
            summary_columns!(),
            " FROM stories s WHERE TRUE"
        ));
        if !req.entity_key.is_empty() {
            let key = self.identity_key(&req.entity_key).await?;
            q.push(
                " AND s.id IN (SELECT a.story_id FROM article_entities ae \
                 JOIN articles a ON a.id = ae.article_id WHERE ae.entity_key = ",
            )
            .push_bind(key)
            .push(" AND a.story_id IS NOT NULL)");
        }
        if let Some(from) = req.from.as_ref() {
            q.push(" AND s.last_time >= ")
                .push_bind(time_arg("from", from)?);
        }
        if let Some(to) = req.to.as_ref() {
            q.push(" AND s.first_time < ")
                .push_bind(time_arg("to", to)?);
        }
        if let Some(cursor) = &cursor {
            let id: i64 = cursor
                .id
                .parse()
                .map_err(|_| StoreError::InvalidArgument("page_token: not a story's".into()))?;
            q.push(" AND (s.last_time, s.id) < (")
                .push_bind(cursor.time()?)
                .push(", ")
                .push_bind(id)
                .push(")");
        }
        q.push(" ORDER BY s.last_time DESC, s.id DESC LIMIT ")
            .push_bind(i64::from(page_size) + 1);
        let mut rows: Vec<SummaryRow> = q.build_query_as().fetch_all(&self.pool).await?;
        let next_page_token = if rows.len() > page_size as usize {
            rows.truncate(page_size as usize);
            rows.last()
                .map(|(id, _, _, _, _, _, last)| {
                    Cursor {
                        micros: last.timestamp_micros(),
                        id: id.to_string(),
                    }
                    .encode()
                })
                .unwrap_or_default()
        } else {
            String::new()
        };
        let mut stories = Vec::with_capacity(rows.len());
        for row in rows {
            stories.push(self.story_message(row).await?);
        }
        Ok(ListStoriesResponse {
            stories,
            next_page_token,
        })
    }

    /// Story `req.id`, or `None` when there is none.
    pub async fn story(
        &self,
        req: &GetStoryRequest,
    ) -> Result<Option<newsflow_proto::v1::Story>, StoreError> {
        let Ok(id) = i64::try_from(req.id) else {
            return Ok(None);
        };
        let row: Option<SummaryRow> = sqlx::query_as(concat!(
            "SELECT ",
            summary_columns!(),
            " FROM stories s WHERE s.id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(row) => Ok(Some(self.story_message(row).await?)),
            None => Ok(None),
        }
    }

    /// The message of a story row: its label's entities named by their identities.
    async fn story_message(
        &self,
        (id, title, Json(weights), articles, copies, first, last): SummaryRow,
    ) -> Result<newsflow_proto::v1::Story, StoreError> {
        let label = story::Story {
            entity_weights: weights,
            ..empty_story()
        }
        .label();
        let names: HashMap<String, String> = sqlx::query_as(
            "SELECT i.key, coalesce(m.canonical_name, i.canonical_name) \
             FROM identities i LEFT JOIN identities m ON m.id = i.merged_into \
             WHERE i.key = ANY($1)",
        )
        .bind(&label.entities)
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .collect();
        let mut entities: Vec<StoryEntity> = Vec::with_capacity(label.entities.len());
        for key in label.entities {
            let name = names.get(&key).cloned().unwrap_or_else(|| key.clone());
            entities.push(StoryEntity { key, name });
        }
        Ok(newsflow_proto::v1::Story {
            id: u64::try_from(id).unwrap_or(0),
            title,
            entities,
            article_count: u32::try_from(articles).unwrap_or(u32::MAX),
            copy_count: u32::try_from(copies).unwrap_or(u32::MAX),
            first_at: Some(time::to_proto(first)),
            last_at: Some(time::to_proto(last)),
        })
    }
}

fn empty_story() -> story::Story {
    story::Story {
        embedding_sum: Vec::new(),
        entity_weights: Vec::new(),
        size: 0,
        first_time: 0,
        last_time: 0,
        title: String::new(),
        title_embedding: Vec::new(),
    }
}

fn time_arg(what: &str, ts: &prost_types::Timestamp) -> Result<DateTime<Utc>, StoreError> {
    time::from_proto(ts).map_err(|why| StoreError::InvalidArgument(format!("{what}: {why}")))
}

#[cfg(test)]
mod tests {
    use super::title_or_lead;

    #[test]
    fn an_untitled_article_is_shown_by_the_start_of_its_body() {
        assert_eq!(
            title_or_lead(" Markets fall ", "Shares fell."),
            "Markets fall"
        );
        assert_eq!(title_or_lead("", " Shares fell. "), "Shares fell.");
        let body = "Foreign ministers from twelve European countries met in Brussels on Tuesday to \
                    discuss security guarantees";
        assert_eq!(
            title_or_lead("", body),
            "Foreign ministers from twelve European countries met in Brussels on Tuesday to…"
        );
        // No space in the first 80 characters: cut there.
        let word = "x".repeat(100);
        assert_eq!(title_or_lead("", &word), format!("{}…", "x".repeat(80)));
    }
}
