-- Stories (newsflow-knowledge's `story`): articles about one event, grouped as they are saved.
-- A story keeps what the rules read: the sum of its members' unit embeddings (its centroid,
-- normalised), its entities' accumulated saliences, its time span, size and representative
-- title. An article's story is decided once, when it is first saved with an embedding; a
-- near-copy joins its original's story without counting in it. Articles saved before this
-- migration have none until a replay re-analyses them (their documents hold no embedding).
CREATE TABLE stories (
    id              bigserial PRIMARY KEY,
    -- The embedding model the sums are of: another model's embeddings are not comparable.
    model           text NOT NULL,
    embedding_sum   real[] NOT NULL,
    -- [[identity key, accumulated salience], ...], most first, at most 32.
    entity_weights  jsonb NOT NULL,
    size            bigint NOT NULL,
    first_time      timestamptz NOT NULL,
    last_time       timestamptz NOT NULL,
    title           text NOT NULL,
    title_embedding real[] NOT NULL
);

CREATE INDEX stories_last_time_idx ON stories (last_time DESC, id DESC);

-- The identity keys a story is found by (its kept entities), with its latest time so the
-- lookup of an article's candidates reads only stories within the window, by index.
CREATE TABLE story_keys (
    key       text NOT NULL,
    story_id  bigint NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    last_time timestamptz NOT NULL,
    PRIMARY KEY (key, story_id)
);

CREATE INDEX story_keys_lookup_idx ON story_keys (key, last_time DESC);
CREATE INDEX story_keys_story_idx ON story_keys (story_id);

ALTER TABLE articles ADD COLUMN story_id bigint REFERENCES stories (id) ON DELETE SET NULL;

CREATE INDEX articles_story_idx ON articles (story_id, sort_time DESC, id DESC)
    WHERE story_id IS NOT NULL;
