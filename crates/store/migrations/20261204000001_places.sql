-- Where each place entity of an article is (`Entity.geo`): its GeoNames place, or "unresolved".
-- geo_status: 0 not a place (or stored before places were resolved), 1 resolved, 2 unresolved.
-- The other columns are NULL unless resolved. Existing rows keep their data; replaying their
-- articles through the pipeline fills the columns.
ALTER TABLE article_entities
    ADD COLUMN geo_status    smallint NOT NULL DEFAULT 0,
    ADD COLUMN geonames_id   bigint,
    ADD COLUMN latitude      double precision,
    ADD COLUMN longitude     double precision,
    ADD COLUMN country_code  text,
    ADD COLUMN feature_class text,
    ADD COLUMN feature_code  text;

-- Articles naming a place (ListArticles / GET /v1/articles?place=ID).
CREATE INDEX article_entities_geonames_idx ON article_entities (geonames_id, article_id)
    WHERE geonames_id IS NOT NULL;
