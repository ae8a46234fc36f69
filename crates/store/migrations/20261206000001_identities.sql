-- One identity per entity across articles (newsflow-knowledge's `identity`): "Putin",
-- "Vladimir Putin" and "President Putin" are one person, "NATO" and "North Atlantic Treaty
-- Organization" one alliance, while two people named Johnson stay two.
--
-- An identity replaces the `entities` row of an extractor key. The key columns of the
-- projection (`article_entities.entity_key`, `stances.holder_key` and `target_key`,
-- `statements.speaker_key`) now hold the key of the entity's identity, so every query that
-- groups or filters by key groups and filters by identity; `article_entities.extracted_key`
-- keeps the key the extractor gave (`Entity.key` in the stored document).
--
-- Existing entities become identities under their own keys, named by the names their
-- articles gave them: nothing is merged by this migration. The store writes their alias keys
-- when it starts (Rust computes them), and saving an article again (a replay through the
-- pipeline) resolves its entities by the rules.

CREATE TABLE identities (
    id             bigserial PRIMARY KEY,
    -- The key the projection's rows hold: the extractor key of the entity that made the
    -- identity, or that key with "#id" when a namesake already had it.
    key            text NOT NULL UNIQUE,
    type           smallint NOT NULL,
    -- The display name: the first one seen, or a person's full name over a surname alone.
    canonical_name text NOT NULL,
    search_name    text NOT NULL,
    first_seen_at  timestamptz NOT NULL,
    -- Why the entity that made it was not taken for a known identity, when one might have
    -- been it ("2 known people named Johnson: ..."); NULL when none fit.
    ambiguity      text,
    -- Set when an operator merged this identity into another; its rows then hold that one's
    -- key, and a query for this key answers for that one.
    merged_into    bigint REFERENCES identities (id),
    -- `KEYS_VERSION` of the rows in `identity_keys`; NULL: not written yet.
    keys_version   smallint
);

CREATE INDEX identities_search_name_prefix_idx ON identities (search_name text_pattern_ops);
CREATE INDEX identities_type_idx ON identities (type);

-- Every name an identity was seen under: what entity search matches against.
CREATE TABLE identity_aliases (
    identity_id bigint NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
    name        text NOT NULL,
    search_name text NOT NULL,
    added_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (identity_id, name)
);

CREATE INDEX identity_aliases_search_name_prefix_idx
    ON identity_aliases (search_name text_pattern_ops);
CREATE INDEX identity_aliases_search_name_trgm_idx
    ON identity_aliases USING gin (search_name gin_trgm_ops);

-- Titles written before a person's name ("Kremlin spokesman"): evidence for a surname alone.
CREATE TABLE identity_titles (
    identity_id bigint NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
    title       text NOT NULL,
    PRIMARY KEY (identity_id, title)
);

-- The alias keys of each identity (`Resolver::alias_keys`): an article's entity is compared
-- with the identities that share a key with it, found by this index.
CREATE TABLE identity_keys (
    key         text NOT NULL,
    identity_id bigint NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
    PRIMARY KEY (key, identity_id)
);

CREATE INDEX identity_keys_identity_idx ON identity_keys (identity_id);

-- Identities an operator split apart: never taken for one another. Stored once, a < b.
CREATE TABLE identity_kept_apart (
    a bigint NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
    b bigint NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
    PRIMARY KEY (a, b),
    CHECK (a < b)
);

CREATE INDEX identity_kept_apart_b_idx ON identity_kept_apart (b);

INSERT INTO identities (key, type, canonical_name, search_name, first_seen_at)
SELECT key, type, canonical_name, search_name, first_seen_at FROM entities ORDER BY first_seen_at, key;

INSERT INTO identity_aliases (identity_id, name, search_name)
SELECT DISTINCT i.id, ae.canonical_name, lower(ae.canonical_name)
FROM article_entities ae JOIN identities i ON i.key = ae.entity_key
UNION
SELECT i.id, i.canonical_name, i.search_name FROM identities i;

ALTER TABLE article_entities ADD COLUMN extracted_key text;
UPDATE article_entities SET extracted_key = entity_key;
ALTER TABLE article_entities ALTER COLUMN extracted_key SET NOT NULL;
-- Set by an operator's split or merge: a replay keeps the row's identity whatever the rules say.
ALTER TABLE article_entities ADD COLUMN pinned boolean NOT NULL DEFAULT false;

ALTER TABLE article_entities DROP CONSTRAINT article_entities_entity_key_fkey;
ALTER TABLE article_entities
    ADD CONSTRAINT article_entities_identity_fkey FOREIGN KEY (entity_key) REFERENCES identities (key);
-- A save re-reads the identities its article's entities had.
CREATE INDEX article_entities_extracted_key_idx ON article_entities (extracted_key);

DROP TABLE entities;

-- `KEYS_VERSION` the article's entities were resolved with; NULL: before identities, so saving
-- the article again resolves them.
ALTER TABLE articles ADD COLUMN identity_version smallint;
