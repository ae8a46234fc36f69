//! The feed follower's state against the real PostgreSQL: claims that replicas can share (a
//! claimed feed or item is not handed out again until its lease ends), new items counted once,
//! validators kept, outcomes counted by reason, and removal forgetting the items.

mod common;

use std::time::Duration;

use common::TestDb;
use newsflow_store::{FeedItem, ItemOutcome};

const FEED: &str = "http://news.test/rss.xml";
const LEASE: Duration = Duration::from_secs(300);

fn item(n: u32) -> FeedItem {
    FeedItem {
        key: format!("http://news.test/{n}.html"),
        link: format!("http://news.test/{n}.html"),
        title: format!("Story {n}"),
        published_at: None,
    }
}

#[tokio::test]
async fn a_feed_is_claimed_once_per_lease_and_keeps_its_validators() {
    let db = TestDb::new().await;
    let store = &db.store;
    let added = store.add_feed(FEED, "Test Times").await.unwrap();
    // Adding again changes nothing.
    assert_eq!(store.add_feed(FEED, "Other").await.unwrap(), added);

    let claimed = store
        .claim_due_feed(LEASE)
        .await
        .unwrap()
        .expect("due at once");
    assert_eq!(claimed.url, FEED);
    assert!(
        store.claim_due_feed(LEASE).await.unwrap().is_none(),
        "leased"
    );

    let new = store
        .record_poll(
            FEED,
            Some("World"),
            Some((Some("\"v1\""), None)),
            &[item(1), item(2)],
            Duration::ZERO,
        )
        .await
        .unwrap();
    assert_eq!(new, 2);
    let polled = store
        .claim_due_feed(LEASE)
        .await
        .unwrap()
        .expect("due again");
    assert_eq!(polled.title, "World");
    assert_eq!(polled.etag.as_deref(), Some("\"v1\""));
    assert_eq!(polled.items_seen, 2);

    // A 304: the same items listed again are not new, and the validators stay.
    let new = store
        .record_poll(FEED, None, None, &[item(1), item(2), item(3)], LEASE)
        .await
        .unwrap();
    assert_eq!(new, 1);
    let feed = store.feed(FEED).await.unwrap().unwrap();
    assert_eq!((feed.items_seen, feed.etag.as_deref()), (3, Some("\"v1\"")));

    // A failure backs the feed off and is reported; a success clears it.
    store
        .record_poll_failure(FEED, "HTTP status 500", LEASE)
        .await
        .unwrap();
    let feed = store.feed(FEED).await.unwrap().unwrap();
    assert_eq!(
        (feed.consecutive_failures, feed.last_error.as_str()),
        (1, "HTTP status 500")
    );
    store
        .record_poll(FEED, None, None, &[], LEASE)
        .await
        .unwrap();
    let feed = store.feed(FEED).await.unwrap().unwrap();
    assert_eq!(
        (feed.consecutive_failures, feed.last_error.as_str()),
        (0, "")
    );
}

#[tokio::test]
async fn items_are_claimed_once_worked_to_an_end_and_counted_by_reason() {
    let db = TestDb::new().await;
    let store = &db.store;
    store.add_feed(FEED, "").await.unwrap();
    store
        .record_poll(
            FEED,
            Some("World"),
            None,
            &[item(1), item(2), item(3), item(4)],
            LEASE,
        )
        .await
        .unwrap();

    let first = store.claim_pending_items(3, LEASE).await.unwrap();
    assert_eq!(first.len(), 3);
    assert_eq!(
        first[0].source, "World",
        "the feed's title when no outlet was given"
    );
    assert!(first.iter().all(|i| i.attempts == 1));
    // Another replica gets only what is not leased.
    let second = store.claim_pending_items(3, LEASE).await.unwrap();
    assert_eq!(second.len(), 1);
    assert!(first.iter().all(|i| i.item_key != second[0].item_key));

    let key = |n: usize| first[n].item_key.as_str();
    store
        .record_item(
            FEED,
            key(0),
            &ItemOutcome::Submitted {
                article_id: "a1".into(),
            },
            true,
        )
        .await
        .unwrap();
    store
        .record_item(
            FEED,
            key(1),
            &ItemOutcome::Refused {
                reason: "not_html".into(),
            },
            true,
        )
        .await
        .unwrap();
    store
        .record_item(
            FEED,
            key(2),
            &ItemOutcome::Retry {
                reason: "timeout".into(),
                after: Duration::ZERO,
            },
            false,
        )
        .await
        .unwrap();
    // A finished item is not worked on again, whatever is recorded later.
    store
        .record_item(
            FEED,
            key(0),
            &ItemOutcome::Refused {
                reason: "late".into(),
            },
            true,
        )
        .await
        .unwrap();
    // Given back without spending an attempt (its host was busy).
    store
        .release_item(FEED, &second[0].item_key, Duration::ZERO)
        .await
        .unwrap();

    let again = store.claim_pending_items(10, LEASE).await.unwrap();
    let mut attempts: Vec<(String, i32)> = again
        .iter()
        .map(|i| (i.item_key.clone(), i.attempts))
        .collect();
    attempts.sort();
    let mut expected = vec![(key(2).to_owned(), 2), (second[0].item_key.clone(), 1)];
    expected.sort();
    assert_eq!(attempts, expected);

    let feed = store.feed(FEED).await.unwrap().unwrap();
    assert_eq!((feed.pages_fetched, feed.articles_submitted), (2, 1));
    assert_eq!(feed.refused.0.get("not_html"), Some(&1));
    assert_eq!(feed.refused.0.get("late"), None);
    let states: Vec<(String, String)> = store
        .feed_items(FEED)
        .await
        .unwrap()
        .into_iter()
        .map(|i| (i.item_key, i.state))
        .collect();
    assert!(states.contains(&(key(0).to_owned(), "submitted".to_owned())));
    assert!(states.contains(&(key(1).to_owned(), "refused".to_owned())));

    // Removing the feed forgets its items.
    assert!(store.remove_feed(FEED).await.unwrap());
    assert!(!store.remove_feed(FEED).await.unwrap());
    assert!(store.feed_items(FEED).await.unwrap().is_empty());
    assert!(
        store
            .claim_pending_items(10, Duration::ZERO)
            .await
            .unwrap()
            .is_empty()
    );
}
