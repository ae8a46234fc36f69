//! One identity per entity across articles, applied when an article is saved: each entity of
//! the article is resolved to a stored identity by newsflow-knowledge's rules
//! ([`newsflow_knowledge::identity`]), or becomes a new one, and the projection's key columns
//! get the identity's key.
//!
//! A save reads only the identities that share an alias key with the article's entities (at
//! most [`MAX_CANDIDATES`] per key, by an index) and those its entities had before, so its cost
//! grows with the article, not with what is stored. Decisions stick: an entity of an article
//! saved again keeps the identity it had (following an operator's merge), unless its article
//! was resolved with other keys (`KEYS_VERSION`) and no operator pinned it.
//!
//! Concurrency: saves take a shared advisory lock that the operator's merge and split take
//! exclusively, so an operation never misses rows a save is writing. Two saves that make the
//! same new identity at once meet on its key (a unique index): the second waits for the first
//! and then decides again with it. Names, titles and keys are only ever inserted (`ON CONFLICT
//! DO NOTHING`), in one sorted order, so concurrent saves neither lose each other's aliases
//! nor deadlock on them. Not prevented: two saves that name a new person differently ("Vladimir
//! Putin", "Vladimir V. Putin") at the same instant make two identities; an operator merges
//! them.

use std::collections::{BTreeMap, HashMap, HashSet};

use newsflow_knowledge::identity::{
    self, Decision, EntityKind, KEYS_VERSION, Known, MAX_ALIASES, MAX_CANDIDATES, MAX_TITLES,
    Mentioned, Resolver,
};
use newsflow_proto::v1::EntityType;
use serde::Serialize;

use crate::StoreError;
use crate::save::json;

type Tx = sqlx::PgConnection;

/// The advisory lock saves hold shared and merge and split hold exclusive.
pub(crate) const IDENTITY_LOCK: &str =
    "SELECT pg_advisory_xact_lock_shared(hashtextextended('newsflow.identities', 0))";
pub(crate) const IDENTITY_LOCK_EXCLUSIVE: &str =
    "SELECT pg_advisory_xact_lock(hashtextextended('newsflow.identities', 0))";

/// Articles of an identity counted, to order candidates: past this many, more articles say
/// nothing new about which identity a name means, and counting stays bounded.
const ARTICLE_COUNT_CAP: i64 = 1_000;

/// Kept-apart identities read per candidate.
const MAX_KEPT_APART: i64 = 64;

/// Characters before a person's mention read for the title written there.
const TITLE_WINDOW_CHARS: usize = 80;

/// One entity of the article, as identity resolution sees it.
#[derive(Clone, Debug)]
pub(crate) struct EntityIn {
    /// `Entity.id` within the article.
    pub entity_id: String,
    /// The extractor's key (`Entity.key`).
    pub extracted_key: String,
    pub entity_type: i32,
    pub canonical_name: String,
    /// The distinct mention texts.
    pub names: Vec<String>,
    /// Titles written before its mentions (people only).
    pub titles: Vec<String>,
}

impl EntityIn {
    /// The entity's names, and with `body` (the article's text, whose code-point offsets the
    /// mention spans give) a person's titles.
    pub(crate) fn of(
        entity: &newsflow_proto::v1::Entity,
        body: Option<&BodyIndex<'_>>,
    ) -> EntityIn {
        let mut names: Vec<String> = Vec::new();
        let mut titles: Vec<String> = Vec::new();
        let person = entity.r#type == EntityType::Person as i32;
        for mention in &entity.mentions {
            let text = mention.text.trim();
            if names.len() < identity::MAX_NAMES
                && !text.is_empty()
                && !names.iter().any(|n| n == text)
            {
                names.push(text.to_owned());
            }
            if person
                && titles.len() < MAX_TITLES
                && let Some(body) = body
                && let Some(span) = &mention.span
                && let Some(title) = identity::title_before(body.before(span.start as usize))
                && !titles.contains(&title)
            {
                titles.push(title);
            }
        }
        EntityIn {
            entity_id: entity.id.clone(),
            extracted_key: entity.key.clone(),
            entity_type: entity.r#type,
            canonical_name: entity.canonical_name.clone(),
            names,
            titles,
        }
    }

    /// What the identity rules resolve; `None` for dates and untyped entities, which are their
    /// own key.
    fn kind(&self) -> Option<EntityKind> {
        kind_of(self.entity_type)
    }

    fn mentioned(&self, kind: EntityKind, resolved_in_article: Vec<i64>) -> Mentioned {
        let names: Vec<&str> = self.names.iter().map(String::as_str).collect();
        let mut m = Mentioned::new(kind, &self.canonical_name, &names);
        m.titles = self.titles.clone();
        m.resolved_in_article = resolved_in_article;
        m
    }
}

/// Byte offsets of a text's code points, so a mention's code-point span finds the text
/// before it in constant time.
pub(crate) struct BodyIndex<'a> {
    body: &'a str,
    /// Byte offset of every code point, and the text's length last.
    offsets: Vec<usize>,
}

impl<'a> BodyIndex<'a> {
    pub(crate) fn new(body: &'a str) -> Self {
        let mut offsets: Vec<usize> = body.char_indices().map(|(i, _)| i).collect();
        offsets.push(body.len());
        BodyIndex { body, offsets }
    }

    /// Up to [`TITLE_WINDOW_CHARS`] characters before code point `at` (none past the end).
    fn before(&self, at: usize) -> &'a str {
        let Some(&end) = self.offsets.get(at) else {
            return "";
        };
        let start = self.offsets[at.saturating_sub(TITLE_WINDOW_CHARS)];
        &self.body[start..end]
    }
}

/// The identity an entity of the article had when it was last saved.
#[derive(Clone, Debug)]
pub(crate) struct Previous {
    pub identity_key: String,
    /// Set by an operator's merge or split: kept whatever the rules or their version say.
    pub pinned: bool,
}

/// Where an entity went: its identity's key, and whether its row stays pinned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Assigned {
    pub key: String,
    pub pinned: bool,
}

/// A stored identity as read for a save.
struct Loaded {
    known: Known,
    key: String,
}

/// The identities a save works with: those read, and those it makes.
#[derive(Default)]
struct Registry {
    by_id: HashMap<i64, Loaded>,
    /// Alias key -> identities with it.
    by_key: HashMap<String, Vec<i64>>,
    /// Ids not yet stored (negative, in order of creation), with the entity that made each and
    /// why it was not taken for a known one.
    pending: Vec<(i64, usize, Option<String>)>,
    /// Names and titles added to stored identities, by id.
    added: BTreeMap<i64, Added>,
}

#[derive(Default)]
struct Added {
    names: Vec<String>,
    titles: Vec<String>,
    /// The canonical name or type changed.
    renamed: bool,
    retyped: bool,
}

impl Registry {
    fn index(&mut self, resolver: &Resolver, id: i64) {
        let Some(loaded) = self.by_id.get(&id) else {
            return;
        };
        for key in resolver.alias_keys(&loaded.known) {
            let ids = self.by_key.entry(key).or_default();
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
    }

    /// The identities sharing a key with an entity. Stored identities no article has any more
    /// (left by articles saved again, or by the migration) are not candidates: nothing
    /// says who they are now.
    fn candidates(&self, keys: &[String]) -> Vec<Known> {
        let mut seen = HashSet::new();
        keys.iter()
            .filter_map(|k| self.by_key.get(k))
            .flatten()
            .filter(|id| seen.insert(**id))
            .filter_map(|id| self.by_id.get(id))
            .filter(|l| l.known.id < 0 || l.known.articles > 0)
            .map(|l| l.known.clone())
            .collect()
    }

    /// Adds the entity's names and titles to identity `id`, noting what a stored one gains.
    fn absorb(&mut self, resolver: &Resolver, id: i64, m: &Mentioned) {
        let Some(loaded) = self.by_id.get_mut(&id) else {
            return;
        };
        let (name, kind) = (
            loaded.known.canonical_name.clone(),
            loaded.known.entity_type,
        );
        let titles_before = loaded.known.titles.len();
        let names = loaded.known.absorb(m);
        let titles: Vec<String> = loaded.known.titles[titles_before..].to_vec();
        let renamed = loaded.known.canonical_name != name;
        let retyped = loaded.known.entity_type != kind;
        if id > 0 && (!names.is_empty() || !titles.is_empty() || renamed || retyped) {
            let added = self.added.entry(id).or_default();
            added.names.extend(names);
            added.titles.extend(titles);
            added.renamed |= renamed;
            added.retyped |= retyped;
        }
        self.index(resolver, id);
    }
}

/// Resolves the article's entities to identities, making and extending identities as needed,
/// and returns each entity's (by `Entity.id`). `previous` holds what the entities had, by
/// extracted key; `sticky` says whether those identities hold (the article was resolved with
/// this `KEYS_VERSION`); pinned ones always do.
pub(crate) async fn identify(
    tx: &mut Tx,
    resolver: &Resolver,
    entities: &[EntityIn],
    previous: &HashMap<String, Previous>,
    sticky: bool,
) -> Result<HashMap<String, Assigned>, StoreError> {
    sqlx::query(IDENTITY_LOCK).execute(&mut *tx).await?;

    // The identities kept from the last save, merges followed.
    let kept: Vec<String> = previous
        .values()
        .filter(|p| sticky || p.pinned)
        .map(|p| p.identity_key.clone())
        .collect();
    let kept_ids: HashMap<String, i64> = sqlx::query_as::<_, (String, i64)>(
        "SELECT i.key, coalesce(i.merged_into, i.id) FROM identities i WHERE i.key = ANY($1)",
    )
    .bind(&kept)
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .collect();

    let mut lookup: Vec<String> = Vec::new();
    for entity in entities {
        if let Some(kind) = entity.kind() {
            lookup.extend(resolver.lookup_keys(&entity.mentioned(kind, Vec::new())));
        }
    }
    lookup.sort_unstable();
    lookup.dedup();
    let mut registry = Registry::default();
    let found: Vec<i64> = sqlx::query_scalar(
        "SELECT DISTINCT c.identity_id FROM unnest($1::text[]) AS q(key) \
         CROSS JOIN LATERAL (SELECT k.identity_id FROM identity_keys k WHERE k.key = q.key \
                             ORDER BY k.identity_id LIMIT $2) c",
    )
    .bind(&lookup)
    .bind(MAX_CANDIDATES as i64)
    .fetch_all(&mut *tx)
    .await?;
    let mut ids: Vec<i64> = found;
    ids.extend(kept_ids.values().copied());
    for loaded in load(&mut *tx, &ids).await? {
        let id = loaded.known.id;
        registry.by_id.insert(id, loaded);
        registry.index(resolver, id);
    }

    // Decide in article order: a later entity may join an identity an earlier one made.
    let mut assigned: Vec<Option<i64>> = vec![None; entities.len()];
    let mut own_key: Vec<Option<Assigned>> = vec![None; entities.len()];
    let mut next_pending = -1_i64;
    for (index, entity) in entities.iter().enumerate() {
        let Some(kind) = entity.kind() else {
            own_key[index] = Some(Assigned {
                key: entity.extracted_key.clone(),
                pinned: false,
            });
            continue;
        };
        let in_article: Vec<i64> = assigned.iter().flatten().copied().collect();
        let m = entity.mentioned(kind, in_article);
        let before = previous.get(&entity.extracted_key);
        let kept = before
            .filter(|p| sticky || p.pinned)
            .and_then(|p| kept_ids.get(&p.identity_key))
            .filter(|id| registry.by_id.contains_key(id));
        let id = match kept {
            Some(&id) => id,
            None => match resolver.decide(&m, &registry.candidates(&resolver.lookup_keys(&m))) {
                Decision::Same { id, .. } => id,
                decision => {
                    let id = next_pending;
                    next_pending -= 1;
                    let why = match decision {
                        Decision::Ambiguous { why, .. } => Some(why),
                        _ => None,
                    };
                    registry.pending.push((id, index, why));
                    registry.by_id.insert(
                        id,
                        Loaded {
                            known: Known::new(id, &m),
                            key: String::new(),
                        },
                    );
                    registry.index(resolver, id);
                    assigned[index] = Some(id);
                    continue;
                }
            },
        };
        registry.absorb(resolver, id, &m);
        assigned[index] = Some(id);
    }

    // Store the new identities in key order (saves that make the same ones wait for each
    // other on the unique key in one order, so cannot deadlock), then what the stored ones
    // gained.
    let mut real: HashMap<i64, i64> = HashMap::new();
    let mut pending = std::mem::take(&mut registry.pending);
    pending.sort_by(|a, b| {
        entities[a.1]
            .extracted_key
            .cmp(&entities[b.1].extracted_key)
    });
    for (pending, index, why) in pending {
        let entity = &entities[index];
        let kind = entity.kind().unwrap_or(EntityKind::Other);
        let m = entity.mentioned(kind, Vec::new());
        let known = registry.by_id.remove(&pending).map(|l| l.known);
        let known = known.unwrap_or_else(|| Known::new(pending, &m));
        let (id, key) = create(
            &mut *tx,
            resolver,
            entity,
            &known,
            why.as_deref(),
            &mut registry,
            &m,
        )
        .await?;
        real.insert(pending, id);
        registry.by_id.entry(id).or_insert(Loaded { known, key });
    }
    write_added(&mut *tx, resolver, &registry).await?;

    // Entities of the same article that name no identity type keep their own key; their
    // identity row is made if missing.
    let own: Vec<&EntityIn> = entities
        .iter()
        .zip(&own_key)
        .filter_map(|(e, k)| k.as_ref().map(|_| e))
        .collect();
    ensure_own_identities(&mut *tx, &own).await?;

    let mut out = HashMap::new();
    for (index, entity) in entities.iter().enumerate() {
        let assigned = match (&own_key[index], assigned[index]) {
            (Some(own), _) => own.clone(),
            (None, Some(id)) => {
                let id = real.get(&id).copied().unwrap_or(id);
                let key = registry
                    .by_id
                    .get(&id)
                    .map(|l| l.key.clone())
                    .unwrap_or_else(|| entity.extracted_key.clone());
                let pinned = previous
                    .get(&entity.extracted_key)
                    .is_some_and(|p| p.pinned && kept_ids.get(&p.identity_key) == Some(&id));
                Assigned { key, pinned }
            }
            (None, None) => Assigned {
                key: entity.extracted_key.clone(),
                pinned: false,
            },
        };
        out.insert(entity.entity_id.clone(), assigned);
    }
    Ok(out)
}

/// id, key, type, canonical name, aliases, titles, kept apart, articles (capped).
type IdentityRow = (
    i64,
    String,
    i16,
    String,
    Vec<String>,
    Vec<String>,
    Vec<i64>,
    i64,
);

/// The live (not merged) identities among `ids`, with what the rules read of them.
async fn load(tx: &mut Tx, ids: &[i64]) -> Result<Vec<Loaded>, StoreError> {
    let rows: Vec<IdentityRow> = sqlx::query_as(
        "SELECT i.id, i.key, i.type, i.canonical_name, \
           ARRAY(SELECT a.name FROM identity_aliases a WHERE a.identity_id = i.id \
                 ORDER BY a.added_at, a.name LIMIT $2), \
           ARRAY(SELECT t.title FROM identity_titles t WHERE t.identity_id = i.id \
                 ORDER BY t.title LIMIT $3), \
           ARRAY(SELECT CASE WHEN p.a = i.id THEN p.b ELSE p.a END FROM identity_kept_apart p \
                 WHERE p.a = i.id OR p.b = i.id ORDER BY 1 LIMIT $4), \
           (SELECT count(*) FROM (SELECT 1 FROM article_entities ae \
                 WHERE ae.entity_key = i.key LIMIT $5) c) \
         FROM identities i WHERE i.id = ANY($1) AND i.merged_into IS NULL ORDER BY i.id",
    )
    .bind(ids)
    .bind(MAX_ALIASES as i64)
    .bind(MAX_TITLES as i64)
    .bind(MAX_KEPT_APART)
    .bind(ARTICLE_COUNT_CAP)
    .fetch_all(&mut *tx)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(
            |(id, key, ty, canonical_name, aliases, titles, kept_apart, articles)| {
                Some(Loaded {
                    known: Known {
                        id,
                        entity_type: kind_of(i32::from(ty))?,
                        canonical_name,
                        aliases,
                        articles: u64::try_from(articles).unwrap_or(0),
                        titles,
                        kept_apart,
                    },
                    key,
                })
            },
        )
        .collect())
}

/// Stores a new identity for `entity` under its extracted key, or, when that key is taken,
/// joins the identity holding it if the rules say it is the same (one made by a concurrent
/// save) or no article has it any more, and otherwise stores it under the key with "#id".
/// Returns the identity's id and key.
#[allow(clippy::too_many_arguments)]
async fn create(
    tx: &mut Tx,
    resolver: &Resolver,
    entity: &EntityIn,
    known: &Known,
    why: Option<&str>,
    registry: &mut Registry,
    m: &Mentioned,
) -> Result<(i64, String), StoreError> {
    let ty = kind_type(known.entity_type, entity.entity_type);
    let inserted: Option<i64> = sqlx::query_scalar(
        "INSERT INTO identities (key, type, canonical_name, search_name, first_seen_at, \
             ambiguity, keys_version) \
         VALUES ($1, $2, $3, lower($3), now(), $4, $5) ON CONFLICT (key) DO NOTHING RETURNING id",
    )
    .bind(&entity.extracted_key)
    .bind(ty)
    .bind(&known.canonical_name)
    .bind(why)
    .bind(KEYS_VERSION as i16)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(id) = inserted {
        write_identity(&mut *tx, resolver, id, known, &known.aliases, &known.titles).await?;
        return Ok((id, entity.extracted_key.clone()));
    }

    // The key is taken: by whom?
    let holder: Option<i64> =
        sqlx::query_scalar("SELECT coalesce(merged_into, id) FROM identities WHERE key = $1")
            .bind(&entity.extracted_key)
            .fetch_optional(&mut *tx)
            .await?;
    if let Some(holder) = holder {
        let stored = match registry.by_id.remove(&holder) {
            Some(read) => Some(read),
            None => load(&mut *tx, &[holder]).await?.pop(),
        };
        if let Some(stored) = stored {
            // Made since the candidates were read, or an identity no article has any more
            // (this article's own, before it was saved again): the entity takes it.
            let same = matches!(
                resolver.decide(m, std::slice::from_ref(&stored.known)),
                Decision::Same { .. }
            );
            let orphan =
                stored.known.articles == 0 && stored.known.entity_type == known.entity_type;
            let key = stored.key.clone();
            registry.by_id.insert(holder, stored);
            if same || orphan {
                // What it gains is written with the other stored identities' gains.
                registry.absorb(resolver, holder, m);
                return Ok((holder, key));
            }
        }
    }
    let (id, key): (i64, String) = sqlx::query_as(
        "WITH n AS (SELECT nextval(pg_get_serial_sequence('identities', 'id')) AS id) \
         INSERT INTO identities (id, key, type, canonical_name, search_name, first_seen_at, \
             ambiguity, keys_version) \
         SELECT n.id, $1 || '#' || n.id, $2, $3, lower($3), now(), $4, $5 FROM n \
         RETURNING id, key",
    )
    .bind(&entity.extracted_key)
    .bind(ty)
    .bind(&known.canonical_name)
    .bind(why)
    .bind(KEYS_VERSION as i16)
    .fetch_one(&mut *tx)
    .await?;
    write_identity(&mut *tx, resolver, id, known, &known.aliases, &known.titles).await?;
    Ok((id, key))
}

/// Inserts names, titles and the alias keys of an identity (rows already there stay).
async fn write_identity(
    tx: &mut Tx,
    resolver: &Resolver,
    id: i64,
    known: &Known,
    names: &[String],
    titles: &[String],
) -> Result<(), StoreError> {
    let mut aliases: Vec<AliasRow> = names
        .iter()
        .map(|name| AliasRow {
            identity_id: id,
            name: crate::save::pg_text(name),
        })
        .collect();
    aliases.sort_by(|a, b| a.name.cmp(&b.name));
    let mut titles: Vec<TitleRow> = titles
        .iter()
        .map(|title| TitleRow {
            identity_id: id,
            title: crate::save::pg_text(title),
        })
        .collect();
    titles.sort_by(|a, b| a.title.cmp(&b.title));
    let mut keys: Vec<KeyRow> = resolver
        .alias_keys(known)
        .into_iter()
        .map(|key| KeyRow {
            key: crate::save::pg_text(&key),
            identity_id: id,
        })
        .collect();
    keys.sort_by(|a, b| a.key.cmp(&b.key));
    insert_names(tx, &aliases, &titles, &keys).await
}

#[derive(Serialize)]
struct AliasRow {
    identity_id: i64,
    name: String,
}

#[derive(Serialize)]
struct TitleRow {
    identity_id: i64,
    title: String,
}

#[derive(Serialize)]
struct KeyRow {
    key: String,
    identity_id: i64,
}

/// Aliases, then titles, then keys, each sorted: the one order every save inserts in.
async fn insert_names(
    tx: &mut Tx,
    aliases: &[AliasRow],
    titles: &[TitleRow],
    keys: &[KeyRow],
) -> Result<(), StoreError> {
    insert_ignoring(
        tx,
        "INSERT INTO identity_aliases (identity_id, name, search_name) \
         SELECT identity_id, name, lower(name) \
         FROM jsonb_to_recordset($1::jsonb) AS r(identity_id int8, name text) \
         ON CONFLICT DO NOTHING",
        aliases,
    )
    .await?;
    insert_ignoring(
        tx,
        "INSERT INTO identity_titles (identity_id, title) \
         SELECT identity_id, title FROM jsonb_to_recordset($1::jsonb) \
             AS r(identity_id int8, title text) \
         ON CONFLICT DO NOTHING",
        titles,
    )
    .await?;
    insert_ignoring(
        tx,
        "INSERT INTO identity_keys (key, identity_id) \
         SELECT key, identity_id FROM jsonb_to_recordset($1::jsonb) \
             AS r(key text, identity_id int8) \
         ON CONFLICT DO NOTHING",
        keys,
    )
    .await
}

/// Runs `sql` (an insert of `$1`'s JSON rows) unless there are none.
async fn insert_ignoring<T: Serialize>(
    tx: &mut Tx,
    sql: &'static str,
    rows: &[T],
) -> Result<(), StoreError> {
    if !rows.is_empty() {
        sqlx::query(sql).bind(json(rows)?).execute(&mut *tx).await?;
    }
    Ok(())
}

/// What stored identities gained from the article: new names, titles and keys in one sorted
/// batch each, then renames (a full name over a surname alone, a nationality become its
/// country) in id order.
async fn write_added(
    tx: &mut Tx,
    resolver: &Resolver,
    registry: &Registry,
) -> Result<(), StoreError> {
    let mut aliases = Vec::new();
    let mut titles = Vec::new();
    let mut keys = Vec::new();
    for (&id, added) in &registry.added {
        let Some(loaded) = registry.by_id.get(&id) else {
            continue;
        };
        aliases.extend(added.names.iter().map(|name| AliasRow {
            identity_id: id,
            name: crate::save::pg_text(name),
        }));
        titles.extend(added.titles.iter().map(|title| TitleRow {
            identity_id: id,
            title: crate::save::pg_text(title),
        }));
        if added.retyped {
            // A nationality become its country: its keys are the country's now.
            sqlx::query("DELETE FROM identity_keys WHERE identity_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        if !added.names.is_empty() || added.renamed || added.retyped {
            keys.extend(
                resolver
                    .alias_keys(&loaded.known)
                    .into_iter()
                    .map(|key| KeyRow {
                        key: crate::save::pg_text(&key),
                        identity_id: id,
                    }),
            );
        }
    }
    aliases.sort_by(|a, b| (a.identity_id, &a.name).cmp(&(b.identity_id, &b.name)));
    titles.sort_by(|a, b| (a.identity_id, &a.title).cmp(&(b.identity_id, &b.title)));
    keys.sort_by(|a, b| (&a.key, a.identity_id).cmp(&(&b.key, b.identity_id)));
    insert_names(tx, &aliases, &titles, &keys).await?;
    for (&id, added) in &registry.added {
        if (added.renamed || added.retyped)
            && let Some(loaded) = registry.by_id.get(&id)
        {
            rename(&mut *tx, id, &loaded.known).await?;
        }
    }
    Ok(())
}

/// Writes an identity's canonical name and type.
async fn rename(tx: &mut Tx, id: i64, known: &Known) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE identities SET canonical_name = $2, search_name = lower($2), type = $3 \
         WHERE id = $1",
    )
    .bind(id)
    .bind(crate::save::pg_text(&known.canonical_name))
    .bind(kind_type(known.entity_type, 0))
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// The identity rows of entities that are their own key (dates), made when missing.
async fn ensure_own_identities(tx: &mut Tx, own: &[&EntityIn]) -> Result<(), StoreError> {
    if own.is_empty() {
        return Ok(());
    }
    #[derive(Serialize)]
    struct OwnRow {
        key: String,
        r#type: i16,
        canonical_name: String,
    }
    let mut rows: Vec<OwnRow> = own
        .iter()
        .map(|e| OwnRow {
            key: crate::save::pg_text(&e.extracted_key),
            r#type: crate::save::small(e.entity_type),
            canonical_name: crate::save::pg_text(&e.canonical_name),
        })
        .collect();
    rows.sort_by(|a, b| a.key.cmp(&b.key));
    rows.dedup_by(|a, b| a.key == b.key);
    sqlx::query(
        "WITH made AS ( \
           INSERT INTO identities (key, type, canonical_name, search_name, first_seen_at, \
               keys_version) \
           SELECT key, type, canonical_name, lower(canonical_name), now(), $2 \
           FROM jsonb_to_recordset($1::jsonb) AS r(key text, type int2, canonical_name text) \
           ORDER BY key ON CONFLICT (key) DO NOTHING RETURNING id, canonical_name) \
         INSERT INTO identity_aliases (identity_id, name, search_name) \
         SELECT id, canonical_name, lower(canonical_name) FROM made ON CONFLICT DO NOTHING",
    )
    .bind(json(&rows)?)
    .bind(KEYS_VERSION as i16)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// The contract's type of an identity kind; `fallback` (the entity's own type) for kinds that
/// several types share.
fn kind_type(kind: EntityKind, fallback: i32) -> i16 {
    let ty = match kind {
        EntityKind::Person => EntityType::Person,
        EntityKind::Org => EntityType::Org,
        EntityKind::Gpe => EntityType::Gpe,
        EntityKind::Loc => EntityType::Loc,
        EntityKind::Norp => EntityType::Norp,
        EntityKind::Event => EntityType::Event,
        EntityKind::Other => {
            return crate::save::small(if fallback == 0 {
                EntityType::Misc as i32
            } else {
                fallback
            });
        }
    };
    ty as i16
}

/// What the identity rules resolve of an entity type; `None` for dates and untyped entities.
pub(crate) fn kind_of(entity_type: i32) -> Option<EntityKind> {
    let ty = EntityType::try_from(entity_type).ok()?;
    EntityKind::from_label(ty.as_str_name())
}

/// Writes the alias keys of identities whose keys are missing or of another `KEYS_VERSION`
/// (those the identities migration made, or all after a version change), a batch at a time;
/// returns how many identities it wrote. Run when the store starts.
pub(crate) async fn write_stale_keys(
    pool: &sqlx::PgPool,
    resolver: &Resolver,
) -> Result<u64, StoreError> {
    const BATCH: i64 = 500;
    let mut written = 0;
    loop {
        let mut tx = pool.begin().await?;
        sqlx::query(IDENTITY_LOCK_EXCLUSIVE)
            .execute(&mut *tx)
            .await?;
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM identities WHERE keys_version IS DISTINCT FROM $1 \
             ORDER BY id LIMIT $2",
        )
        .bind(KEYS_VERSION as i16)
        .bind(BATCH)
        .fetch_all(&mut *tx)
        .await?;
        if ids.is_empty() {
            tx.commit().await?;
            return Ok(written);
        }
        rewrite_keys(&mut tx, resolver, &ids).await?;
        tx.commit().await?;
        written += ids.len() as u64;
    }
}

/// Replaces the alias keys of identities `ids` with those of their current names, and marks
/// them written with this `KEYS_VERSION`.
pub(crate) async fn rewrite_keys(
    tx: &mut Tx,
    resolver: &Resolver,
    ids: &[i64],
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM identity_keys WHERE identity_id = ANY($1)")
        .bind(ids)
        .execute(&mut *tx)
        .await?;
    let mut keys = Vec::new();
    for loaded in load(&mut *tx, ids).await? {
        keys.extend(
            resolver
                .alias_keys(&loaded.known)
                .into_iter()
                .map(|key| KeyRow {
                    key: crate::save::pg_text(&key),
                    identity_id: loaded.known.id,
                }),
        );
    }
    keys.sort_by(|a, b| (&a.key, a.identity_id).cmp(&(&b.key, b.identity_id)));
    insert_names(&mut *tx, &[], &[], &keys).await?;
    sqlx::query("UPDATE identities SET keys_version = $2 WHERE id = ANY($1)")
        .bind(ids)
        .bind(KEYS_VERSION as i16)
        .execute(&mut *tx)
        .await?;
    Ok(())
}
