//! Stories: articles about one event, grouped as they arrive. The rules a store applies when
//! it saves an article, and the state it keeps per story, as pure functions over plain vectors
//! and strings (the caller computes the embedding and the entities).
//!
//! An article comes as an [`Article`]: its sentence embedding (all-MiniLM-L6-v2 over its title
//! and lead, `newsflow_nlp::embedding`), its entities as (key, salience) pairs, its time and its
//! title. A story is a [`Story`]: the running sum of its members' unit embeddings (its centroid
//! is that sum, normalised), the accumulated salience of its most salient entities, its time
//! span, its size and its representative title. Saving an article means: take its
//! [`Article::lookup_keys`], fetch the stories that hold any of them among their
//! [`Story::index_keys`] and whose time span is within the window (one indexed equality lookup
//! per key; the most recent [`MAX_CANDIDATES`] suffice), and call [`Rules::decide`]: on
//! [`Decision::Join`] the story [`Story::absorb`]s the article, on [`Decision::New`] the article
//! starts a story ([`Story::new`]). `decide` over the stories the keys find is `decide` over
//! every stored story, because joining needs a shared key (a unit test holds the two to this).
//!
//! The rule: an article joins the candidate story it is most similar to (cosine to the
//! centroid) among those where all of these hold, else it starts a story:
//!
//! - Time: the article is at most [`WINDOW_SECONDS`] (3 days) after the story's last article
//!   and at most as long before its first (a late-arriving older report). A news event is
//!   reported within a day or two; a longer window chains follow-ups of follow-ups.
//! - Entities: the article shares at least one salient entity key with the story, and the
//!   weighted Jaccard similarity of the two entity-weight maps (the article's saliences, the
//!   story's accumulated saliences divided by its size) is at least
//!   [`Rules::min_entity_overlap`]. Two reports of one event name the same actors; two
//!   articles on one subject (two different football matches, two budget debates) share words
//!   and so embeddings, but less often their people and organisations.
//! - Embedding: the cosine of the article's embedding to the story's centroid is at least
//!   [`Rules::min_similarity`].
//!
//! The thresholds were chosen with `newsflow eval stories` (see [`MIN_SIMILARITY`] and
//! [`MIN_ENTITY_OVERLAP`] for the figures).
//!
//! Entity keys are whatever the caller uses to say "the same entity": the extractor's key
//! ("PERSON:vladimir putin") or, better, the identity a store resolved the entity to
//! ([`crate::identity`]), so that "Putin" and "Vladimir Putin" count as one. Dates should be
//! left out by the caller: they name times, not what an event is about.
//!
//! The label of a story ([`Story::label`]) is its [`LABEL_ENTITIES`] entities of most
//! accumulated salience and its representative title: the title of the member closest to the
//! centroid among the current representative and each newcomer, checked again on every join
//! (when a newcomer is closer to the updated centroid than the representative, its title takes
//! over). The exact rule, the member closest to the centroid of all, would need every member's
//! embedding on every join; this keeps one extra vector and is O(1), and it differs only where
//! an early member, passed over once, would become the closest again as the centroid moves.
//!
//! Costs are bounded whatever the input: an article's [`MAX_ARTICLE_ENTITIES`] most salient
//! entities are read (keys of at most [`MAX_KEY_CHARS`] characters), an embedding's first
//! [`MAX_DIMENSION`] values, a title's first [`MAX_TITLE_CHARS`] characters; a story keeps
//! its [`MAX_STORY_ENTITIES`] entities of most weight (the rest are dropped from its weights
//! and its index keys); `decide` reads [`MAX_CANDIDATES`] candidates. Updating a story is
//! O(dimension + entities kept), whatever its size: its centroid is a running sum.
//!
//! Stories are not split or merged after the fact: two stories that grow together stay two,
//! and an article, once in a story, stays there. Not handled, and why: entities are weighted
//! by salience only, not by how common they are across articles (a store-wide document
//! frequency would weigh "UK" below "Ainum Mohd-Saaid", but it is state this module does not
//! have); an article with no entities never joins a story (the candidate lookup needs a key).

use std::cmp::Ordering;

/// The longest gap, in seconds, between an article and a story's time span for it to join:
/// 3 days.
pub const WINDOW_SECONDS: i64 = 3 * 24 * 60 * 60;

/// An article's entities read: the most salient ones, after dropping repeats and zeros.
pub const MAX_ARTICLE_ENTITIES: usize = 8;

/// Entities a story keeps weights for (those of most accumulated salience); its index keys.
pub const MAX_STORY_ENTITIES: usize = 32;

/// Candidate stories [`Rules::decide`] reads; the rest are not looked at. A store that caps
/// its lookup should keep the most recent.
pub const MAX_CANDIDATES: usize = 64;

/// Values of an embedding read (all-MiniLM-L6-v2 has 384).
pub const MAX_DIMENSION: usize = 4_096;

/// Characters of a title kept.
pub const MAX_TITLE_CHARS: usize = 300;

/// Characters of an entity key read; a longer key is cut.
pub const MAX_KEY_CHARS: usize = 200;

/// Entities in a story's label.
pub const LABEL_ENTITIES: usize = 3;

/// Default [`Rules::min_similarity`]: the least cosine of an article's embedding to a story's
/// centroid for it to join.
///
/// Chosen with `newsflow eval stories --sweep` (accurate NER, embeddings of the first 128
/// pieces). On the team-written set of `tests/stories/`, every report of an event had a cosine
/// of 0.83 to 0.94 to its story's centroid when it arrived, and the closest different event
/// 0.61 (a club's league match three days after the cup final it lost: same club, same
/// striker); the next closest 0.39. 0.7 is the middle of that gap, rounded. On BBC val (334
/// articles, all in one window) pairs of articles of different categories that share a salient
/// entity reach a cosine of 0.48 at most (median 0.07, 3,234 pairs). Lower thresholds make
/// larger stories of one subject over months (at 0.5: eight Labour election-campaign articles
/// in one story; at 0.3 without the overlap test, a story of 37 articles and 65 pairs of
/// unrelated articles in one story); from 0.6 down, the hard case of the team set joins the
/// cup final's story.
pub const MIN_SIMILARITY: f32 = 0.7;

/// Default [`Rules::min_entity_overlap`]: the least weighted Jaccard similarity of the
/// article's and the story's entity weights for it to join.
///
/// A safety net under the cosine rather than the deciding test: on the team set, overlap alone
/// does not separate the classes (the reports of an event overlap their story by 0.30 to 0.98,
/// a carmaker's recall overlaps the story of its takeover by 0.28). 0.15 is half the least
/// overlap of a same-event report, so it costs no recall there, and above the 90th percentile
/// (0.10) of BBC val pairs of different categories that share an entity. With the cosine at
/// 0.7, any value from 0 to 0.2 gives the same team-set stories and 319 to 321 BBC stories.
pub const MIN_ENTITY_OVERLAP: f32 = 0.15;

/// One article, as the story rules read it.
#[derive(Clone, Debug, PartialEq)]
pub struct Article {
    /// Its sentence embedding (any scale; it is normalised here).
    pub embedding: Vec<f32>,
    /// Its entities as (key, salience in [0, 1]) pairs, in any order.
    pub entities: Vec<(String, f32)>,
    /// When it was published, in seconds (Unix time).
    pub time: i64,
    /// Its title.
    pub title: String,
}

impl Article {
    /// The article's entities as the rules read them: keys cut to [`MAX_KEY_CHARS`], one
    /// weight per key (its highest salience), no empty key and no weight that is not a
    /// positive number (saliences above 1 count as 1), the [`MAX_ARTICLE_ENTITIES`] most
    /// salient, most salient first (ties by key, so the order never depends on the input's).
    pub fn salient_entities(&self) -> Vec<(String, f32)> {
        let mut entities: Vec<(String, f32)> = self
            .entities
            .iter()
            .filter(|(key, salience)| !key.trim().is_empty() && *salience > 0.0)
            .map(|(key, salience)| (cut(key.trim(), MAX_KEY_CHARS), salience.min(1.0)))
            .collect();
        // Highest salience first per key, so dedup keeps it.
        entities.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)));
        entities.dedup_by(|later, kept| later.0 == kept.0);
        entities.sort_by(by_weight);
        entities.truncate(MAX_ARTICLE_ENTITIES);
        entities
    }

    /// The keys to look candidate stories up by: its salient entity keys.
    pub fn lookup_keys(&self) -> Vec<String> {
        self.salient_entities()
            .into_iter()
            .map(|(key, _)| key)
            .collect()
    }
}

/// A story as a store keeps it: every field is stored, and a story read back from its fields
/// behaves as the one saved. Made by [`Story::new`] and grown by [`Story::absorb`]; the rules
/// read fields a store may have altered defensively (at most [`MAX_STORY_ENTITIES`] weights
/// and [`MAX_DIMENSION`] values are read, in any order).
#[derive(Clone, Debug, PartialEq)]
pub struct Story {
    /// Sum of the members' unit embeddings (empty while no member had a usable one).
    pub embedding_sum: Vec<f32>,
    /// Accumulated salience per entity key, most first, at most [`MAX_STORY_ENTITIES`].
    pub entity_weights: Vec<(String, f32)>,
    /// Its number of articles.
    pub size: u64,
    /// The time of its earliest article.
    pub first_time: i64,
    /// The time of its latest article.
    pub last_time: i64,
    /// Its representative title.
    pub title: String,
    /// The unit embedding of the member whose title is the story's.
    pub title_embedding: Vec<f32>,
}

/// A story's label: what it is about, for a reader.
#[derive(Clone, Debug, PartialEq)]
pub struct Label {
    /// The keys of its [`LABEL_ENTITIES`] entities of most accumulated salience, most first.
    pub entities: Vec<String>,
    /// Its representative title.
    pub title: String,
}

impl Story {
    /// A story of one article.
    pub fn new(article: &Article) -> Story {
        let unit = unit_embedding(&article.embedding);
        let mut entity_weights = article.salient_entities();
        entity_weights.truncate(MAX_STORY_ENTITIES);
        Story {
            embedding_sum: unit.clone(),
            entity_weights,
            size: 1,
            first_time: article.time,
            last_time: article.time,
            title: cut(article.title.trim(), MAX_TITLE_CHARS),
            title_embedding: unit,
        }
    }

    /// Adds an article to the story: its embedding to the running sum, its saliences to the
    /// entity weights, its time to the span; its title becomes the story's when it is closer
    /// to the new centroid than the current one's (or the story had no title). O(dimension +
    /// entities), whatever the story's size. Returns whether the index keys changed (a store
    /// then rewrites them).
    pub fn absorb(&mut self, article: &Article) -> bool {
        // What the rules read of fields a store may have altered; a no-op on a story made here.
        self.embedding_sum.truncate(MAX_DIMENSION);
        self.entity_weights.truncate(MAX_STORY_ENTITIES);
        let unit = unit_embedding(&article.embedding);
        if self.embedding_sum.is_empty() {
            self.embedding_sum = unit.clone();
        } else if unit.len() == self.embedding_sum.len() {
            for (sum, value) in self.embedding_sum.iter_mut().zip(&unit) {
                *sum += value;
            }
        }
        let keys_before = self.index_keys();
        for (key, salience) in article.salient_entities() {
            match self.entity_weights.iter_mut().find(|(k, _)| *k == key) {
                Some((_, weight)) => *weight += salience,
                None => self.entity_weights.push((key, salience)),
            }
        }
        self.entity_weights.sort_by(by_weight);
        self.entity_weights.truncate(MAX_STORY_ENTITIES);
        self.size = self.size.saturating_add(1);
        self.first_time = self.first_time.min(article.time);
        self.last_time = self.last_time.max(article.time);

        let title = cut(article.title.trim(), MAX_TITLE_CHARS);
        let centroid = self.centroid();
        let closer = dot(&unit, &centroid) > dot(&self.title_embedding, &centroid);
        if !title.is_empty() && (self.title.is_empty() || closer) {
            self.title = title;
            self.title_embedding = unit;
        }
        keys_before != self.index_keys()
    }

    /// The unit-length mean of the members' embeddings (empty when none had a usable one).
    pub fn centroid(&self) -> Vec<f32> {
        unit_embedding(&self.embedding_sum)
    }

    /// The keys a store indexes the story under: the keys of its kept entities.
    pub fn index_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self.kept_weights().iter().map(|(k, _)| k.clone()).collect();
        keys.sort_unstable();
        keys
    }

    /// Its most salient entities and its representative title.
    pub fn label(&self) -> Label {
        let mut weights = self.kept_weights().to_vec();
        weights.sort_by(by_weight);
        Label {
            entities: weights
                .into_iter()
                .take(LABEL_ENTITIES)
                .map(|(key, _)| key)
                .collect(),
            title: self.title.clone(),
        }
    }

    /// The entity weights the rules read: the first [`MAX_STORY_ENTITIES`].
    fn kept_weights(&self) -> &[(String, f32)] {
        &self.entity_weights[..self.entity_weights.len().min(MAX_STORY_ENTITIES)]
    }

    /// Whether an article at `time` is within the window of the story's span.
    pub fn within_window(&self, time: i64, window_seconds: i64) -> bool {
        time <= self.last_time.saturating_add(window_seconds)
            && time >= self.first_time.saturating_sub(window_seconds)
    }
}

/// How an article compares with a story.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Comparison {
    /// Cosine of the article's embedding to the story's centroid (0 when either is unusable
    /// or their dimensions differ).
    pub similarity: f32,
    /// Weighted Jaccard similarity of the entity weights, in [0, 1].
    pub entity_overlap: f32,
    /// How many of the article's salient keys the story holds.
    pub shared_keys: usize,
    /// Whether the article is within the story's time window.
    pub in_window: bool,
}

/// What to do with an article.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Decision {
    /// Join the candidate at this index.
    Join {
        /// Index into the candidates given.
        index: usize,
        /// How the article compares with it.
        comparison: Comparison,
    },
    /// Start a new story.
    New,
}

/// The thresholds of the rule (module documentation); [`Rules::default`] is the one the
/// project uses.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rules {
    /// Least cosine of the article to the story's centroid.
    pub min_similarity: f32,
    /// Least weighted Jaccard similarity of the entity weights.
    pub min_entity_overlap: f32,
    /// Longest gap between the article and the story's span, in seconds.
    pub window_seconds: i64,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            min_similarity: MIN_SIMILARITY,
            min_entity_overlap: MIN_ENTITY_OVERLAP,
            window_seconds: WINDOW_SECONDS,
        }
    }
}

impl Rules {
    /// Whether a comparison passes the rule.
    pub fn joins(&self, c: &Comparison) -> bool {
        c.in_window
            && c.shared_keys > 0
            && c.entity_overlap >= self.min_entity_overlap
            && c.similarity >= self.min_similarity
    }

    /// How the article compares with the story.
    pub fn compare(&self, article: &Article, story: &Story) -> Comparison {
        let entities = article.salient_entities();
        let size = story.size.max(1) as f32;
        let shared_keys = entities
            .iter()
            .filter(|(key, _)| story.kept_weights().iter().any(|(k, _)| k == key))
            .count();
        Comparison {
            similarity: dot(&unit_embedding(&article.embedding), &story.centroid()),
            entity_overlap: weighted_jaccard(&entities, story.kept_weights(), size),
            shared_keys,
            in_window: story.within_window(article.time, self.window_seconds),
        }
    }

    /// Whether the article joins one of the candidate stories (the first [`MAX_CANDIDATES`]
    /// are read), and which: of those that pass the rule, the one of highest similarity (then
    /// of highest entity overlap, then the first given).
    pub fn decide(&self, article: &Article, candidates: &[Story]) -> Decision {
        let mut best: Option<(usize, Comparison)> = None;
        for (index, story) in candidates.iter().take(MAX_CANDIDATES).enumerate() {
            let comparison = self.compare(article, story);
            if !self.joins(&comparison) {
                continue;
            }
            let better = best.is_none_or(|(_, b)| {
                comparison
                    .similarity
                    .total_cmp(&b.similarity)
                    .then(comparison.entity_overlap.total_cmp(&b.entity_overlap))
                    == Ordering::Greater
            });
            if better {
                best = Some((index, comparison));
            }
        }
        match best {
            Some((index, comparison)) => Decision::Join { index, comparison },
            None => Decision::New,
        }
    }
}

/// `sum min / sum max` over the union of keys, the story's weights divided by `story_size`
/// (its mean salience per member) so both sides are on the article's scale. 0 when both are
/// empty.
fn weighted_jaccard(article: &[(String, f32)], story: &[(String, f32)], story_size: f32) -> f32 {
    let story_weight = |key: &str| {
        story
            .iter()
            .find(|(k, _)| k == key)
            .map_or(0.0, |(_, w)| (w / story_size).min(1.0))
    };
    let (mut min_sum, mut max_sum) = (0f32, 0f32);
    for (key, weight) in article {
        let other = story_weight(key);
        min_sum += weight.min(other);
        max_sum += weight.max(other);
    }
    for (key, weight) in story {
        if !article.iter().any(|(k, _)| k == key) {
            max_sum += (weight / story_size).min(1.0);
        }
    }
    if max_sum > 0.0 && min_sum.is_finite() && max_sum.is_finite() {
        min_sum / max_sum
    } else {
        0.0
    }
}

/// The embedding (its first [`MAX_DIMENSION`] values) scaled to unit length; empty when it is
/// empty, all zeros or holds a value that is not finite, so it matches nothing.
fn unit_embedding(values: &[f32]) -> Vec<f32> {
    let values = &values[..values.len().min(MAX_DIMENSION)];
    let norm = values
        .iter()
        .map(|&v| f64::from(v) * f64::from(v))
        .sum::<f64>()
        .sqrt();
    if !norm.is_finite() || norm == 0.0 {
        return Vec::new();
    }
    values
        .iter()
        .map(|&v| (f64::from(v) / norm) as f32)
        .collect()
}

/// The dot product of two vectors of one length; 0 when the lengths differ or one is empty.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    if a.len() != b.len() {
        return 0.0;
    }
    let d: f64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| f64::from(x) * f64::from(y))
        .sum();
    if d.is_finite() { d as f32 } else { 0.0 }
}

/// Most weight first, then by key.
fn by_weight(a: &(String, f32), b: &(String, f32)) -> Ordering {
    b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0))
}

/// The first `max` characters of `text`.
fn cut(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 24 * 60 * 60;

    /// A unit vector along `axis` tilted by `tilt` toward axis 0 (dimension 8).
    fn embedding(axis: usize, tilt: f32) -> Vec<f32> {
        let mut v = vec![0.0; 8];
        v[axis] = 1.0;
        v[0] += tilt;
        v
    }

    fn article(embedding: Vec<f32>, entities: &[(&str, f32)], time: i64, title: &str) -> Article {
        Article {
            embedding,
            entities: entities.iter().map(|(k, s)| (k.to_string(), *s)).collect(),
            time,
            title: title.to_owned(),
        }
    }

    fn summit(time: i64, title: &str) -> Article {
        article(
            embedding(1, 0.1),
            &[("PERSON:vladimir putin", 0.9), ("ORG:nato", 0.6)],
            time,
            title,
        )
    }

    #[test]
    fn reports_of_one_event_join_and_an_unrelated_article_does_not() {
        let rules = Rules::default();
        let story = Story::new(&summit(0, "Putin warns NATO"));
        let second = summit(DAY, "Kremlin rejects NATO troops");
        assert!(matches!(
            rules.decide(&second, std::slice::from_ref(&story)),
            Decision::Join { index: 0, .. }
        ));
        let football = article(
            embedding(2, 0.0),
            &[("ORG:chelsea", 0.9), ("PERSON:jose mourinho", 0.7)],
            DAY,
            "Chelsea win",
        );
        assert_eq!(rules.decide(&football, &[story]), Decision::New);
    }

    #[test]
    fn similar_text_without_shared_entities_starts_a_new_story() {
        let rules = Rules::default();
        let story = Story::new(&summit(0, "Putin warns NATO"));
        let same_words_other_actors = article(
            embedding(1, 0.1),
            &[("PERSON:xi jinping", 0.9), ("ORG:asean", 0.6)],
            0,
            "Xi warns ASEAN",
        );
        let c = rules.compare(&same_words_other_actors, &story);
        assert!(c.similarity > 0.99 && c.shared_keys == 0, "{c:?}");
        assert_eq!(
            rules.decide(&same_words_other_actors, &[story]),
            Decision::New
        );
    }

    #[test]
    fn shared_entities_with_a_different_text_start_a_new_story() {
        let rules = Rules::default();
        let story = Story::new(&summit(0, "Putin warns NATO"));
        let other_event = article(
            embedding(3, 0.0),
            &[("PERSON:vladimir putin", 0.9), ("ORG:nato", 0.6)],
            0,
            "Putin opens a bridge",
        );
        let c = rules.compare(&other_event, &story);
        assert!(c.entity_overlap > 0.9 && c.similarity < 0.1, "{c:?}");
        assert_eq!(rules.decide(&other_event, &[story]), Decision::New);
    }

    #[test]
    fn the_window_holds_on_both_sides_of_the_span() {
        let rules = Rules::default();
        let mut story = Story::new(&summit(10 * DAY, "a"));
        story.absorb(&summit(11 * DAY, "b"));
        let at = |t: i64| rules.compare(&summit(t, "c"), &story).in_window;
        assert!(at(11 * DAY + WINDOW_SECONDS));
        assert!(!at(11 * DAY + WINDOW_SECONDS + 1));
        assert!(at(10 * DAY - WINDOW_SECONDS));
        assert!(!at(10 * DAY - WINDOW_SECONDS - 1));
        assert_eq!(
            rules.decide(&summit(20 * DAY, "late"), &[story]),
            Decision::New
        );
        // Times at the ends of the range do not overflow.
        let edge = Story::new(&summit(i64::MAX, "edge"));
        assert!(edge.within_window(i64::MAX, WINDOW_SECONDS));
        assert!(!edge.within_window(i64::MIN, WINDOW_SECONDS));
    }

    #[test]
    fn the_best_passing_candidate_is_joined() {
        let rules = Rules::default();
        let near = Story::new(&summit(0, "near"));
        let nearer = Story::new(&article(
            embedding(1, 0.3),
            &[("PERSON:vladimir putin", 0.9), ("ORG:nato", 0.6)],
            0,
            "nearer",
        ));
        let probe = article(
            embedding(1, 0.3),
            &[("PERSON:vladimir putin", 0.9), ("ORG:nato", 0.6)],
            0,
            "probe",
        );
        match rules.decide(&probe, &[near, nearer]) {
            Decision::Join { index, comparison } => {
                assert_eq!(index, 1);
                assert!(comparison.similarity > 0.999, "{comparison:?}");
            }
            Decision::New => panic!("should join"),
        }
    }

    #[test]
    fn the_centroid_is_a_running_mean_and_the_label_follows_the_weights() {
        let mut story = Story::new(&article(
            vec![1.0, 0.0],
            &[("A", 0.2), ("B", 0.9)],
            5,
            "first",
        ));
        story.absorb(&article(
            vec![0.0, 3.0],
            &[("A", 0.8), ("C", 0.1)],
            2,
            "second",
        ));
        let c = story.centroid();
        assert!(
            (c[0] - c[1]).abs() < 1e-6 && (c[0] - 0.70710677).abs() < 1e-5,
            "{c:?}"
        );
        assert_eq!(story.size, 2);
        assert_eq!((story.first_time, story.last_time), (2, 5));
        assert_eq!(
            story.label().entities,
            ["A".to_string(), "B".to_string(), "C".to_string()]
        );
        assert_eq!(story.entity_weights[0], ("A".to_string(), 1.0));
    }

    #[test]
    fn the_title_is_the_member_closest_to_the_centroid() {
        let entities = [("K", 0.5)];
        // An outlier first, then two members alike: the centroid moves to them.
        let mut story = Story::new(&article(vec![1.0, 0.0, 0.0], &entities, 0, "outlier"));
        story.absorb(&article(vec![0.0, 1.0, 0.1], &entities, 0, "typical one"));
        story.absorb(&article(vec![0.0, 1.0, 0.0], &entities, 0, "typical two"));
        assert!(
            story.label().title.starts_with("typical"),
            "{:?}",
            story.label()
        );
        // An empty title never replaces one, and a story without one takes the next.
        let mut untitled = Story::new(&article(vec![1.0, 0.0], &entities, 0, " "));
        untitled.absorb(&article(vec![0.0, 1.0], &entities, 0, "named"));
        untitled.absorb(&article(vec![0.5, 0.5], &entities, 0, ""));
        assert_eq!(untitled.label().title, "named");
    }

    #[test]
    fn odd_input_is_bounded_and_never_matches_by_accident() {
        let rules = Rules::default();
        let many: Vec<(String, f32)> = (0..1_000)
            .map(|i| (format!("K{i}"), (i % 97) as f32 / 96.0))
            .chain([
                (String::new(), 1.0),
                ("NAN".into(), f32::NAN),
                ("NEG".into(), -1.0),
                ("INF".into(), f32::INFINITY),
                ("x".repeat(10_000), 0.5),
            ])
            .collect();
        let hostile = Article {
            embedding: vec![f32::NAN; 100_000],
            entities: many.clone(),
            time: i64::MIN,
            title: "t".repeat(100_000),
        };
        let salient = hostile.salient_entities();
        assert_eq!(salient.len(), MAX_ARTICLE_ENTITIES);
        assert!(salient.iter().all(|(k, w)| !k.is_empty()
            && k.chars().count() <= MAX_KEY_CHARS
            && *w > 0.0
            && *w <= 1.0));
        assert!(!salient.iter().any(|(k, _)| k == "NAN" || k == "NEG"));
        let mut story = Story::new(&hostile);
        assert!(story.centroid().is_empty());
        assert_eq!(story.label().title.chars().count(), MAX_TITLE_CHARS);
        // Absorbing many articles with many entities keeps the weights capped.
        for i in 0..200 {
            let mut a = hostile.clone();
            a.embedding = embedding(1 + i % 7, 0.0);
            a.entities = many
                .iter()
                .skip(i * 5)
                .take(50)
                .map(|(k, _)| (k.clone(), 1.0))
                .collect();
            story.absorb(&a);
        }
        assert!(story.entity_weights.len() <= MAX_STORY_ENTITIES);
        assert_eq!(story.size, 201);
        assert_eq!(story.centroid().len(), 8);
        // A wrong dimension compares as 0 and joins nothing.
        let short = article(vec![1.0; 3], &[("K1", 1.0)], i64::MIN, "");
        assert_eq!(rules.compare(&short, &story).similarity, 0.0);
        assert_eq!(rules.decide(&short, &[story]), Decision::New);
        // No entities: never a candidate and never joins.
        let bare = article(embedding(1, 0.1), &[], 0, "bare");
        assert!(bare.lookup_keys().is_empty());
        assert_eq!(
            rules.decide(&bare, &[Story::new(&summit(0, "s"))]),
            Decision::New
        );
    }

    #[test]
    fn a_story_read_back_from_its_fields_behaves_as_saved_and_odd_fields_are_bounded() {
        let rules = Rules::default();
        let mut story = Story::new(&summit(0, "Putin warns NATO"));
        story.absorb(&summit(60, "Kremlin rejects NATO troops"));
        // What a store writes and reads back, field by field.
        let stored = Story {
            embedding_sum: story.embedding_sum.clone(),
            entity_weights: story.entity_weights.clone(),
            size: story.size,
            first_time: story.first_time,
            last_time: story.last_time,
            title: story.title.clone(),
            title_embedding: story.title_embedding.clone(),
        };
        let probe = summit(120, "Putin repeats NATO warning");
        assert_eq!(
            rules.compare(&probe, &stored),
            rules.compare(&probe, &story)
        );
        // Fields no story made here has: too many weights, unsorted, a size of 0.
        let mut odd = stored.clone();
        odd.size = 0;
        odd.entity_weights = (0..10_000).map(|i| (format!("K{i}"), i as f32)).collect();
        assert_eq!(odd.index_keys().len(), MAX_STORY_ENTITIES);
        assert_eq!(odd.label().entities, ["K31", "K30", "K29"]);
        assert_eq!(rules.compare(&probe, &odd).shared_keys, 0);
        odd.absorb(&probe);
        assert!(odd.entity_weights.len() <= MAX_STORY_ENTITIES);
        assert_eq!(odd.size, 1);
    }

    #[test]
    fn decide_over_the_stories_the_keys_find_is_decide_over_all() {
        // A small world of stories; an in-memory index from key to stories stands for the
        // database's.
        let rules = Rules::default();
        let keys = ["A", "B", "C", "D", "E", "F"];
        let mut stories: Vec<Story> = Vec::new();
        for i in 0..60usize {
            let entities: Vec<(&str, f32)> = (0..3)
                .map(|j| (keys[(i * 7 + j * 3) % keys.len()], 0.2 + 0.1 * j as f32))
                .collect();
            let a = article(
                embedding(1 + i % 3, 0.2),
                &entities,
                (i as i64) * 3_600,
                "t",
            );
            let lookup = a.lookup_keys();
            let found: Vec<usize> = (0..stories.len())
                .filter(|&s| stories[s].index_keys().iter().any(|k| lookup.contains(k)))
                .collect();
            let found_stories: Vec<Story> = found.iter().map(|&s| stories[s].clone()).collect();
            let by_index = match rules.decide(&a, &found_stories) {
                Decision::Join { index, .. } => Some(found[index]),
                Decision::New => None,
            };
            let by_scan = match rules.decide(&a, &stories) {
                Decision::Join { index, .. } => Some(index),
                Decision::New => None,
            };
            assert_eq!(by_index, by_scan, "article {i}");
            match by_scan {
                Some(s) => {
                    stories[s].absorb(&a);
                }
                None => stories.push(Story::new(&a)),
            }
        }
        assert!(stories.len() < 60, "some articles joined");
    }
}
