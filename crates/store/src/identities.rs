//! Identities as the queries and the operator see them: the key a query names resolved to its
//! identity, an identity's names, and the operator's merge and split, which a later save of
//! the same articles keeps (their rows are pinned, see [`crate::identify`]).

use newsflow_knowledge::identity::{EntityKind, better_canonical};
use newsflow_proto::v1::EntityType;

use crate::identify::{IDENTITY_LOCK_EXCLUSIVE, kind_of};
use crate::query::no_nul;
use crate::{Store, StoreError};

/// Most aliases [`Store::identity_names`] returns.
pub const MAX_LISTED_ALIASES: i64 = 64;

/// An identity's names as stored.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IdentityNames {
    /// Its key.
    pub key: String,
    /// Its display name.
    pub canonical_name: String,
    /// Every name it was seen under, in the order first seen (at most
    /// [`MAX_LISTED_ALIASES`]).
    pub aliases: Vec<String>,
    /// Why the entity that made it was not taken for a known identity, when one might have
    /// been it.
    pub ambiguity: Option<String>,
}

/// What a merge or split did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentityChange {
    /// The identity that holds the moved rows: the one merged into, or the one split off.
    pub key: String,
    /// Its display name.
    pub canonical_name: String,
    /// Article entities moved to it.
    pub moved: u64,
}

impl Store {
    /// The key of the identity that `key` names: an identity's key (an identity merged into
    /// another names that one), else the key an extractor gave (`Entity.key`, as in a stored
    /// document) resolved to the identity most of its entities went to; a key storage does not
    /// know is returned as it is, so it matches nothing (or a topic, for a stance target).
    pub async fn identity_key(&self, key: &str) -> Result<String, StoreError> {
        no_nul("key", key)?;
        let own: Option<String> = sqlx::query_scalar(
            "SELECT coalesce(m.key, i.key) FROM identities i \
             LEFT JOIN identities m ON m.id = i.merged_into WHERE i.key = $1",
        )
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        if let Some(own) = own {
            return Ok(own);
        }
        let extracted: Option<String> = sqlx::query_scalar(
            "SELECT entity_key FROM article_entities WHERE extracted_key = $1 \
             GROUP BY entity_key ORDER BY count(*) DESC, entity_key LIMIT 1",
        )
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        Ok(extracted.unwrap_or_else(|| key.to_owned()))
    }

    /// [`Store::identity_key`] of an optional key.
    pub(crate) async fn identity_key_of(
        &self,
        key: &Option<String>,
    ) -> Result<Option<String>, StoreError> {
        match key {
            Some(key) => Ok(Some(self.identity_key(key).await?)),
            None => Ok(None),
        }
    }

    /// The names of the identity `key` resolves to, or `None` when there is none.
    pub async fn identity_names(&self, key: &str) -> Result<Option<IdentityNames>, StoreError> {
        let key = self.identity_key(key).await?;
        let row: Option<(String, String, Option<String>, Vec<String>)> = sqlx::query_as(
            "SELECT i.key, i.canonical_name, i.ambiguity, \
               ARRAY(SELECT a.name FROM identity_aliases a WHERE a.identity_id = i.id \
                     ORDER BY a.added_at, a.name LIMIT $2) \
             FROM identities i WHERE i.key = $1",
        )
        .bind(&key)
        .bind(MAX_LISTED_ALIASES)
        .fetch_optional(&self.pool)
        .await?;
        Ok(
            row.map(|(key, canonical_name, ambiguity, aliases)| IdentityNames {
                key,
                canonical_name,
                aliases,
                ambiguity,
            }),
        )
    }

    /// An operator's merge: identity `from` is identity `into` from now on. Its article
    /// entities, statements and stances move to `into` (pinned there, so saving those articles
    /// again keeps them), its names and keys become `into`'s, and a query for `from` answers
    /// for `into`. Refused for an unknown key, one identity merged with itself, identities of
    /// different types (but a nationality into its country), and identities an operator split
    /// apart.
    pub async fn merge_identities(
        &self,
        into: &str,
        from: &str,
    ) -> Result<IdentityChange, StoreError> {
        let mut tx = self.pool.begin().await?;
        let result = self.merge_in(&mut tx, into, from).await;
        finish(tx, result).await
    }

    async fn merge_in(
        &self,
        tx: &mut sqlx::PgConnection,
        into: &str,
        from: &str,
    ) -> Result<IdentityChange, StoreError> {
        sqlx::query(IDENTITY_LOCK_EXCLUSIVE)
            .execute(&mut *tx)
            .await?;
        let target = live(&mut *tx, into).await?;
        let source = live(&mut *tx, from).await?;
        if target.id == source.id {
            return Err(StoreError::InvalidArgument(format!(
                "{into:?} and {from:?} are one identity already ({:?})",
                target.key
            )));
        }
        let compatible = target.ty == source.ty
            || (target.ty == EntityType::Gpe as i16 && source.ty == EntityType::Norp as i16);
        if !compatible {
            return Err(StoreError::InvalidArgument(format!(
                "{:?} and {:?} are of different types",
                target.key, source.key
            )));
        }
        let apart: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM identity_kept_apart WHERE a = least($1::int8, $2) \
             AND b = greatest($1::int8, $2))",
        )
        .bind(target.id)
        .bind(source.id)
        .fetch_one(&mut *tx)
        .await?;
        if apart {
            return Err(StoreError::InvalidArgument(format!(
                "{:?} and {:?} were split apart by an operator",
                target.key, source.key
            )));
        }

        let moved = sqlx::query(
            "UPDATE article_entities SET entity_key = $1, pinned = true WHERE entity_key = $2",
        )
        .bind(&target.key)
        .bind(&source.key)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        for sql in [
            "UPDATE statements SET speaker_key = $1 WHERE speaker_key = $2",
            "UPDATE stances SET holder_key = $1 WHERE holder_key = $2",
            "UPDATE stances SET target_key = $1 WHERE target_key = $2",
            // Stories indexed under `from` are found by `into` (their weights are renamed
            // when an article next compares with them).
            "INSERT INTO story_keys (key, story_id, last_time) \
             SELECT $1, story_id, last_time FROM story_keys WHERE key = $2 ON CONFLICT DO NOTHING",
            "DELETE FROM story_keys WHERE key = $2",
        ] {
            sqlx::query(sql)
                .bind(&target.key)
                .bind(&source.key)
                .execute(&mut *tx)
                .await?;
        }
        for sql in [
            "INSERT INTO identity_aliases (identity_id, name, search_name, added_at) \
             SELECT $1, name, search_name, added_at FROM identity_aliases WHERE identity_id = $2 \
             ON CONFLICT DO NOTHING",
            "INSERT INTO identity_titles (identity_id, title) \
             SELECT $1, title FROM identity_titles WHERE identity_id = $2 ON CONFLICT DO NOTHING",
            "INSERT INTO identity_keys (key, identity_id) \
             SELECT key, $1 FROM identity_keys WHERE identity_id = $2 ON CONFLICT DO NOTHING",
            "INSERT INTO identity_kept_apart (a, b) \
             SELECT least($1::int8, o), greatest($1::int8, o) FROM ( \
               SELECT CASE WHEN a = $2 THEN b ELSE a END AS o FROM identity_kept_apart \
               WHERE a = $2 OR b = $2) k WHERE o <> $1 ON CONFLICT DO NOTHING",
            "UPDATE identities SET merged_into = $1 WHERE id = $2 OR merged_into = $2",
        ] {
            sqlx::query(sql)
                .bind(target.id)
                .bind(source.id)
                .execute(&mut *tx)
                .await?;
        }
        // Found by `into`'s keys from now on.
        sqlx::query("DELETE FROM identity_keys WHERE identity_id = $1")
            .bind(source.id)
            .execute(&mut *tx)
            .await?;
        let kind = kind_of(i32::from(target.ty)).unwrap_or(EntityKind::Other);
        let canonical_name = if better_canonical(kind, &target.name, &source.name) {
            source.name.clone()
        } else {
            target.name.clone()
        };
        sqlx::query(
            "UPDATE identities SET canonical_name = $2, search_name = lower($2) WHERE id = $1",
        )
        .bind(target.id)
        .bind(&canonical_name)
        .execute(&mut *tx)
        .await?;
        Ok(IdentityChange {
            key: target.key,
            canonical_name,
            moved,
        })
    }

    /// An operator's split: the article entities of identity `key` that their articles call
    /// `name` (their canonical name, compared without case) become a new identity, kept apart
    /// from `key`'s from now on. `name` stops being an alias of `key`'s identity. Refused when
    /// no entity of the identity is called `name`, or every one is (nothing would be left).
    pub async fn split_identity(
        &self,
        key: &str,
        name: &str,
    ) -> Result<IdentityChange, StoreError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(StoreError::InvalidArgument("name is required".into()));
        }
        no_nul("name", name)?;
        let mut tx = self.pool.begin().await?;
        let result = self.split_in(&mut tx, key, name).await;
        finish(tx, result).await
    }

    async fn split_in(
        &self,
        tx: &mut sqlx::PgConnection,
        key: &str,
        name: &str,
    ) -> Result<IdentityChange, StoreError> {
        sqlx::query(IDENTITY_LOCK_EXCLUSIVE)
            .execute(&mut *tx)
            .await?;
        let source = live(&mut *tx, key).await?;
        let (called, total, extracted, written): (i64, i64, Option<String>, Option<String>) =
            sqlx::query_as(
                "SELECT count(*) FILTER (WHERE lower(canonical_name) = lower($2)), count(*), \
                   min(extracted_key) FILTER (WHERE lower(canonical_name) = lower($2)), \
                   min(canonical_name) FILTER (WHERE lower(canonical_name) = lower($2)) \
                 FROM article_entities WHERE entity_key = $1",
            )
            .bind(&source.key)
            .bind(name)
            .fetch_one(&mut *tx)
            .await?;
        if called == 0 {
            return Err(StoreError::InvalidArgument(format!(
                "no article calls {:?} {name:?}",
                source.key
            )));
        }
        if called == total {
            return Err(StoreError::InvalidArgument(format!(
                "every article calls {:?} {name:?}: nothing would be left to split from",
                source.key
            )));
        }
        let extracted = extracted.unwrap_or_else(|| source.key.clone());
        let written = written.unwrap_or_else(|| name.to_owned());

        // The new identity: under the extractor's key when it is free, else with "#id".
        let (id, new_key): (i64, String) = sqlx::query_as(
            "WITH n AS (SELECT nextval(pg_get_serial_sequence('identities', 'id')) AS id) \
             INSERT INTO identities (id, key, type, canonical_name, search_name, first_seen_at, \
                 keys_version) \
             SELECT n.id, CASE WHEN EXISTS (SELECT 1 FROM identities WHERE key = $1) \
                 THEN $1 || '#' || n.id ELSE $1 END, $2, $3, lower($3), now(), NULL FROM n \
             RETURNING id, key",
        )
        .bind(&extracted)
        .bind(source.ty)
        .bind(&written)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO identity_kept_apart (a, b) VALUES (least($1::int8, $2), greatest($1::int8, $2))",
        )
        .bind(source.id)
        .bind(id)
        .execute(&mut *tx)
        .await?;

        let moved = sqlx::query(
            "WITH moved AS ( \
               UPDATE article_entities SET entity_key = $2, pinned = true \
               WHERE entity_key = $1 AND lower(canonical_name) = lower($3) \
               RETURNING article_id, entity_id), \
             speakers AS (UPDATE statements st SET speaker_key = $2 FROM moved m \
               WHERE st.article_id = m.article_id AND st.speaker_entity_id = m.entity_id), \
             holders AS (UPDATE stances s SET holder_key = $2 FROM moved m \
               WHERE s.article_id = m.article_id AND s.holder_entity_id = m.entity_id), \
             targets AS (UPDATE stances s SET target_key = $2 FROM moved m \
               WHERE s.article_id = m.article_id AND s.target_entity_id = m.entity_id) \
             SELECT count(*) FROM moved",
        )
        .bind(&source.key)
        .bind(&new_key)
        .bind(&written)
        .fetch_one(&mut *tx)
        .await;
        let moved: i64 = sqlx::Row::try_get(&moved?, 0)?;

        // Names: the split one goes to the new identity; the source keeps the others (and
        // takes the name most of its articles use when the split one was its display name).
        sqlx::query(
            "INSERT INTO identity_aliases (identity_id, name, search_name) \
             SELECT $1, name, search_name FROM identity_aliases \
             WHERE identity_id = $2 AND search_name = lower($3) \
             UNION SELECT $1, $3, lower($3) ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(source.id)
        .bind(&written)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "DELETE FROM identity_aliases WHERE identity_id = $1 AND search_name = lower($2)",
        )
        .bind(source.id)
        .bind(&written)
        .execute(&mut *tx)
        .await?;
        if source.name.to_lowercase() == written.to_lowercase() {
            sqlx::query(
                "UPDATE identities SET canonical_name = c.name, search_name = lower(c.name) \
                 FROM (SELECT canonical_name AS name FROM article_entities WHERE entity_key = $2 \
                       GROUP BY canonical_name ORDER BY count(*) DESC, canonical_name LIMIT 1) c \
                 WHERE id = $1",
            )
            .bind(source.id)
            .bind(&source.key)
            .execute(&mut *tx)
            .await?;
        }
        // Both identities' keys are written again from their names.
        crate::identify::rewrite_keys(&mut *tx, &self.resolver, &[source.id, id]).await?;
        Ok(IdentityChange {
            key: new_key,
            canonical_name: written,
            moved: u64::try_from(moved).unwrap_or(0),
        })
    }
}

/// Commits the operation's transaction when it succeeded, and rolls it back at once when it
/// failed, so its locks do not outlive the call.
async fn finish<T>(
    tx: sqlx::Transaction<'_, sqlx::Postgres>,
    result: Result<T, StoreError>,
) -> Result<T, StoreError> {
    match result {
        Ok(value) => {
            tx.commit().await?;
            Ok(value)
        }
        Err(e) => {
            tx.rollback().await?;
            Err(e)
        }
    }
}

/// An identity the operator named, followed through merges.
struct Live {
    id: i64,
    key: String,
    ty: i16,
    name: String,
}

async fn live(tx: &mut sqlx::PgConnection, key: &str) -> Result<Live, StoreError> {
    no_nul("key", key)?;
    let row: Option<(i64, String, i16, String)> = sqlx::query_as(
        "SELECT coalesce(m.id, i.id), coalesce(m.key, i.key), coalesce(m.type, i.type), \
           coalesce(m.canonical_name, i.canonical_name) \
         FROM identities i LEFT JOIN identities m ON m.id = i.merged_into WHERE i.key = $1",
    )
    .bind(key)
    .fetch_optional(&mut *tx)
    .await?;
    let (id, key, ty, name) =
        row.ok_or_else(|| StoreError::NotFound(format!("no identity has the key {key:?}")))?;
    Ok(Live { id, key, ty, name })
}
