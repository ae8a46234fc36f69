-- Near-duplicates (newsflow-knowledge's `near_duplicate`): each article's MinHash signature,
-- and the article it is a near-copy of (a wire story run by another outlet, a lightly edited
-- version), which timelines and stance edges leave out by default.
-- The signature is SIGNATURE_VERSION 1; a new version means recomputing them all. Articles
-- stored before this migration have none until they are saved again (a replay signs them).
ALTER TABLE articles
    ADD COLUMN near_duplicate_signature bytea,
    ADD COLUMN duplicate_of text REFERENCES articles (id) ON DELETE SET NULL;

CREATE INDEX articles_duplicate_of_idx ON articles (duplicate_of) WHERE duplicate_of IS NOT NULL;

-- Each article's LSH band keys: articles that share a key are the candidates a new article is
-- compared with, found by this index however many articles are stored.
CREATE TABLE article_bands (
    band_key   bigint NOT NULL,
    article_id text NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    PRIMARY KEY (band_key, article_id)
);

CREATE INDEX article_bands_article_idx ON article_bands (article_id);
