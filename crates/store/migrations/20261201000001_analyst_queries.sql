-- The analyst's queries (newsflow-web): full-text search over title and body, and statements
-- by speaker in article order.

-- `ArticleFilter::text`: to_tsvector('english', a.title || ' ' || a.body) @@ websearch_to_tsquery(...).
-- The expression must stay exactly the one the query uses, or the planner cannot use the index.
CREATE INDEX articles_text_idx ON articles USING gin (to_tsvector('english', title || ' ' || body));

-- Stance edges and stance filters by holder and polarity over a period.
CREATE INDEX stances_holder_target_idx ON stances (holder_key, target_key, polarity)
    WHERE holder_key IS NOT NULL;
