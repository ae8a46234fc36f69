-- newsflow storage: analyzed articles and the relational projection of their analyses.
--
-- `articles.document` keeps the whole `newsflow.v1.AnalyzedArticle` exactly as it was saved;
-- GetArticle and replay return it from there. The other tables project the analysis into rows
-- for the StorageService queries (ListArticles, EntityTimeline, SearchEntities) and are
-- rewritten in full each time an article is saved again.

-- Fuzzy entity search (similarity) and index-backed substring/prefix matching on names.
-- pg_trgm is a trusted contrib extension since PostgreSQL 13: a database owner may create it.
-- It goes into `public` so every schema on the search path (tests use one schema each) shares
-- one copy; `public` must therefore stay on the search path.
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;

CREATE TABLE articles (
    id              text PRIMARY KEY,
    external_id     text NOT NULL,
    url             text NOT NULL,
    source          text NOT NULL,
    title           text NOT NULL,
    body            text NOT NULL,
    language        text NOT NULL,
    published_at    timestamptz,
    ingested_at     timestamptz NOT NULL,
    -- The time listings sort and filter on: published, or ingested when the publisher gave none.
    sort_time       timestamptz GENERATED ALWAYS AS (coalesce(published_at, ingested_at)) STORED,
    entity_count    integer NOT NULL,
    statement_count integer NOT NULL,
    stance_count    integer NOT NULL,
    -- The encoded AnalyzedArticle, returned byte for byte by get and replay.
    document        bytea NOT NULL,
    first_stored_at timestamptz NOT NULL,
    stored_at       timestamptz NOT NULL,
    -- 1 on first save, +1 on every save that changed the document.
    revision        integer NOT NULL
);

-- Keyset pagination, newest first, over (sort_time, id); also serves the time-range filters.
CREATE INDEX articles_sort_time_idx ON articles (sort_time DESC, id DESC);
CREATE INDEX articles_source_sort_time_idx ON articles (source, sort_time DESC, id DESC);
-- Replay by ingestion time.
CREATE INDEX articles_ingested_at_idx ON articles (ingested_at, id);

-- Entities across articles, one row per `Entity.key`. Rows are only ever inserted (never
-- updated) so concurrent saves mentioning the same entity do not contend on a hot row; counts
-- and the most frequent name are computed from `article_entities` when asked.
CREATE TABLE entities (
    key            text PRIMARY KEY,
    type           smallint NOT NULL,
    -- The canonical name of the first article that mentioned the entity.
    canonical_name text NOT NULL,
    -- lower(canonical_name): what name search matches against.
    search_name    text NOT NULL,
    first_seen_at  timestamptz NOT NULL
);

CREATE INDEX entities_search_name_prefix_idx ON entities (search_name text_pattern_ops);
CREATE INDEX entities_search_name_trgm_idx ON entities USING gin (search_name gin_trgm_ops);
CREATE INDEX entities_type_idx ON entities (type);

-- One row per entity of an article, with that article's summary of it (summary columns are
-- NULL when the stance stage produced no summary for the entity).
CREATE TABLE article_entities (
    article_id               text NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    entity_id                text NOT NULL,
    ordinal                  integer NOT NULL,
    entity_key               text NOT NULL REFERENCES entities (key),
    type                     smallint NOT NULL,
    canonical_name           text NOT NULL,
    salience                 real NOT NULL,
    mention_count            integer NOT NULL,
    summary_mention_count    integer,
    summary_mean_polarity    real,
    summary_negative         integer,
    summary_neutral          integer,
    summary_positive         integer,
    summary_strongest_start  bigint,
    summary_strongest_end    bigint,
    summary_strongest_score  real,
    summary_statement_count  integer,
    PRIMARY KEY (article_id, entity_id)
);

-- ListArticles by entity key / type, timeline and search counts.
CREATE INDEX article_entities_key_idx ON article_entities (entity_key, article_id);
CREATE INDEX article_entities_type_idx ON article_entities (type, article_id);

CREATE TABLE mentions (
    article_id text NOT NULL,
    entity_id  text NOT NULL,
    ordinal    integer NOT NULL,
    span_start bigint,
    span_end   bigint,
    text       text NOT NULL,
    kind       smallint NOT NULL,
    confidence real NOT NULL,
    PRIMARY KEY (article_id, entity_id, ordinal),
    FOREIGN KEY (article_id, entity_id)
        REFERENCES article_entities (article_id, entity_id) ON DELETE CASCADE
);

CREATE TABLE statements (
    article_id        text NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    statement_id      text NOT NULL,
    ordinal           integer NOT NULL,
    -- NULL when the speaker names no entity of the article ("officials said").
    speaker_entity_id text,
    speaker_key       text,
    speaker_start     bigint,
    speaker_end       bigint,
    speaker_text      text NOT NULL,
    cue_start         bigint,
    cue_end           bigint,
    cue               text NOT NULL,
    content_start     bigint,
    content_end       bigint,
    content           text NOT NULL,
    kind              smallint NOT NULL,
    confidence        real NOT NULL,
    PRIMARY KEY (article_id, statement_id)
);

CREATE INDEX statements_speaker_key_idx ON statements (speaker_key) WHERE speaker_key IS NOT NULL;

-- Stances, with holder and target resolved to cross-article keys so queries need no join back
-- to `article_entities`.
CREATE TABLE stances (
    article_id       text NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    ordinal          integer NOT NULL,
    holder_entity_id text,
    holder_key       text,
    holder_name      text,
    statement_id     text,
    target_entity_id text,
    target_key       text,
    target_topic     text,
    target_start     bigint,
    target_end       bigint,
    polarity         smallint NOT NULL,
    score            real NOT NULL,
    confidence       real NOT NULL,
    evidence_start   bigint,
    evidence_end     bigint,
    PRIMARY KEY (article_id, ordinal)
);

-- ListArticles' stance filter and the timeline's stance statistics.
CREATE INDEX stances_target_key_idx ON stances (target_key, polarity, article_id)
    WHERE target_key IS NOT NULL;
CREATE INDEX stances_holder_key_idx ON stances (holder_key) WHERE holder_key IS NOT NULL;
CREATE INDEX stances_target_topic_idx ON stances (target_topic) WHERE target_topic IS NOT NULL;
