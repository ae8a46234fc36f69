-- The feeds the feed follower polls, and every item it has seen of them. A feed row is claimed
-- by moving its next_poll_at forward in the same statement that reads it, so replicas never
-- poll one feed at once. An item is `pending` until its page was submitted or refused for
-- good; a restart picks pending items up again and never repeats a finished one.
CREATE TABLE feeds (
    url text PRIMARY KEY,
    source text NOT NULL DEFAULT '',
    title text NOT NULL DEFAULT '',
    added_at timestamptz NOT NULL DEFAULT now(),
    -- conditional GET validators of the last 200
    etag text,
    last_modified text,
    last_polled_at timestamptz,
    last_success_at timestamptz,
    next_poll_at timestamptz NOT NULL DEFAULT now(),
    consecutive_failures integer NOT NULL DEFAULT 0,
    last_error text NOT NULL DEFAULT '',
    items_seen bigint NOT NULL DEFAULT 0,
    pages_fetched bigint NOT NULL DEFAULT 0,
    articles_submitted bigint NOT NULL DEFAULT 0,
    -- {"reason": count}
    refused jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX feeds_due ON feeds (next_poll_at);

CREATE TABLE feed_items (
    feed_url text NOT NULL REFERENCES feeds (url) ON DELETE CASCADE,
    -- the item's link, or its id when it has no link
    item_key text NOT NULL,
    link text NOT NULL,
    title text NOT NULL DEFAULT '',
    published_at timestamptz,
    first_seen_at timestamptz NOT NULL DEFAULT now(),
    -- pending, submitted or refused
    state text NOT NULL DEFAULT 'pending',
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    reason text NOT NULL DEFAULT '',
    article_id text NOT NULL DEFAULT '',
    PRIMARY KEY (feed_url, item_key)
);
CREATE INDEX feed_items_pending ON feed_items (next_attempt_at) WHERE state = 'pending';
