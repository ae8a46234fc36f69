//! A pipeline stage on the bus, written once: decode the `AnalyzedArticle` the stage before
//! published, do this stage's work, publish the result, and answer the consumer with the
//! outcome (see `newsflow_bus::consumer` for what each outcome does to the message).
//!
//! | what happened | outcome |
//! |---|---|
//! | the body is not an `AnalyzedArticle` | reject: parked in the dead-letter queue at once |
//! | the stage's work fails permanently ([`StageError::Permanent`]) | reject |
//! | the stage's work fails for now ([`StageError::Transient`]) | retry after a delay |
//! | the broker does not take the output for now (down, or blocked by a memory or disk alarm) | the same output is published again, with backoff, for up to [`PUBLISH_PATIENCE`]; the work is not redone |
//! | the output is still not confirmed after that, or is refused | retry |
//! | the output is confirmed | done: the input is acked |
//!
//! An analysis stage is an [`AnalysisStage`]: a function on documents, run on a CPU slot over
//! the articles waiting for one (a batch under a backlog), followed by the stage's [`record`].

use std::{
    collections::VecDeque,
    fmt::Display,
    future::Future,
    panic::AssertUnwindSafe,
    sync::{Arc, Mutex},
    time::{Duration, Instant, SystemTime},
};

use newsflow_bus::{
    BusConfig, BusError, Consumer, Handler, Incoming, Outcome, Outgoing, Publisher, Topology,
    TraceContext,
};
use newsflow_proto::v1::{AnalyzedArticle, StageRecord};
use tokio::sync::oneshot;
use tracing::{info, warn};

use crate::cpu::CpuSlots;

/// Why a stage could not process an article.
#[derive(Debug, thiserror::Error)]
pub enum StageError {
    /// The same article would fail the same way again: park it.
    #[error("{0}")]
    Permanent(String),
    /// A dependency is down or a task died: try again later.
    #[error("{0}")]
    Transient(String),
}

/// What a pipeline stage does with one article.
pub trait Stage: Send + Sync + 'static {
    /// The stage's name: its work queue (`<prefix>.<name>`), its record, its logs.
    fn name(&self) -> &'static str;

    /// How many articles the stage works on at once, when it knows better than the bus
    /// settings' default (an analysis stage: one per CPU slot).
    fn concurrency(&self) -> Option<u16> {
        None
    }

    /// Whether an article the stage was working on when its process died is retried alone
    /// (`BusConfig::isolate_redeliveries`): for stages that can kill their process.
    fn isolates_crashes(&self) -> bool {
        false
    }

    /// Processes one article and returns the message to publish (in `trace`: the context of
    /// the consumer span the stage runs in, so the next hop links to this one).
    fn process(
        &self,
        article: AnalyzedArticle,
        trace: TraceContext,
    ) -> impl Future<Output = Result<Outgoing, StageError>> + Send;
}

/// The consumer's handler for a [`Stage`]: decode, process, publish, answer.
pub struct StageHandler<S> {
    stage: S,
    publisher: Publisher,
}

impl<S: Stage> StageHandler<S> {
    /// A handler publishing the stage's output through `publisher`.
    pub fn new(stage: S, publisher: Publisher) -> Self {
        Self { stage, publisher }
    }
}

impl<S: Stage> Handler for StageHandler<S> {
    async fn handle(&self, message: &Incoming) -> Outcome {
        let article: AnalyzedArticle = match message.decode() {
            Ok(article) => article,
            Err(error) => return Outcome::Reject(format!("undecodable AnalyzedArticle: {error}")),
        };
        let id = article_id(&article);
        let output = match self.stage.process(article, message.trace).await {
            Ok(output) => output,
            Err(StageError::Permanent(why)) => return Outcome::Reject(why),
            Err(StageError::Transient(why)) => return Outcome::Retry(why),
        };
        match publish_patiently(&self.publisher, &output).await {
            Ok(()) => {
                info!(article_id = %id, stage = self.stage.name(), "done");
                Outcome::Done
            }
            Err(error) => Outcome::Retry(format!("publishing {}: {error}", output.routing_key)),
        }
    }
}

/// How long a stage keeps offering its output to a broker that does not take it (down, or
/// blocked by a resource alarm) before it gives the input back for a retry: redoing an
/// analysis for every failed confirm would loop on the same message for the whole alarm.
pub const PUBLISH_PATIENCE: Duration = Duration::from_secs(300);

/// Publishes `output`, trying again with backoff while the broker is unavailable, for up to
/// [`PUBLISH_PATIENCE`].
async fn publish_patiently(publisher: &Publisher, output: &Outgoing) -> Result<(), BusError> {
    let given_up_at = Instant::now() + PUBLISH_PATIENCE;
    let mut pause = Duration::from_millis(500);
    loop {
        match publisher.publish(output).await {
            Err(error) if error.is_unavailable() && Instant::now() < given_up_at => {
                warn!(%error, routing_key = %output.routing_key, ?pause, "the broker does not take the output; offering it again");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(30));
            }
            result => return result,
        }
    }
}

/// The consumer of a stage's work queue, publishing (output, retries, dead letters) over one
/// connection of its own, with crash isolation when the stage asks for it.
pub fn consumer<S: Stage>(
    mut config: BusConfig,
    topology: Topology,
    stage: S,
) -> Consumer<StageHandler<S>> {
    let name = stage.name();
    config.isolate_redeliveries |= stage.isolates_crashes();
    let publisher = Publisher::new(config.clone(), topology.clone());
    let handler = StageHandler::new(stage, publisher.clone());
    Consumer::new(config, topology, name, handler, publisher)
}

/// An analysis stage: `analyse` adds this stage's part to several documents at once on a CPU
/// slot, the stage's [`record`] is appended to each, and each is published under `output`.
///
/// **Batches under a backlog.** Each message's handler puts its article in the stage's waiting
/// line and asks for a CPU slot; whichever handler gets a slot takes everything waiting then,
/// up to the batch size, and runs `analyse` over it once, so the models read several articles'
/// sentences in shared batches (an article longer than [`MAX_BATCHED_BODY_BYTES`] goes alone).
/// With no backlog a batch is the one article (no added latency); under a backlog the batches
/// fill, because the consumer holds one batch more than the slots run
/// ([`Stage::concurrency`]). Each handler still publishes and acks its own message.
///
/// `analyse` returns one result per article: the analysis is deterministic, so an error is
/// permanent. A batch that panics is run again one article at a time, so only the article that
/// panics is retried (a panic is transient: another replica may be fine).
pub struct AnalysisStage<F> {
    name: &'static str,
    output: &'static str,
    version: String,
    analyse: Arc<F>,
    cpu: CpuSlots,
    batch: usize,
    waiting: Arc<Mutex<VecDeque<Waiting>>>,
}

/// An article in the waiting line, and where its handler waits for it.
struct Waiting {
    article: AnalyzedArticle,
    done: oneshot::Sender<Result<AnalyzedArticle, StageError>>,
}

impl<F, E> AnalysisStage<F>
where
    F: Fn(&mut [AnalyzedArticle]) -> Vec<Result<(), E>> + Send + Sync + 'static,
    E: Display + Send + 'static,
{
    /// The stage `name`, publishing under the routing key `output`, its models at `version`,
    /// analysing one article at a time until [`AnalysisStage::batches_of`] says otherwise.
    pub fn new(
        name: &'static str,
        output: &'static str,
        version: impl Into<String>,
        cpu: CpuSlots,
        analyse: F,
    ) -> Self {
        Self {
            name,
            output,
            version: version.into(),
            analyse: Arc::new(analyse),
            cpu,
            batch: 1,
            waiting: Arc::default(),
        }
    }

    /// Analyses up to `articles` waiting articles in one call (at least one).
    pub fn batches_of(mut self, articles: usize) -> Self {
        self.batch = articles.max(1);
        self
    }
}

impl<F, E> Stage for AnalysisStage<F>
where
    F: Fn(&mut [AnalyzedArticle]) -> Vec<Result<(), E>> + Send + Sync + 'static,
    E: Display + Send + 'static,
{
    fn name(&self) -> &'static str {
        self.name
    }

    /// A batch per CPU slot, and one more batch waiting so that a slot that frees up finds a
    /// full one (one article per slot when batches are off).
    fn concurrency(&self) -> Option<u16> {
        let slots = self.cpu.slots();
        let held = if self.batch > 1 {
            (slots + 1) * self.batch
        } else {
            slots
        };
        Some(u16::try_from(held).unwrap_or(u16::MAX))
    }

    fn isolates_crashes(&self) -> bool {
        true
    }

    async fn process(
        &self,
        article: AnalyzedArticle,
        trace: TraceContext,
    ) -> Result<Outgoing, StageError> {
        let (done, analysed) = oneshot::channel();
        lock(&self.waiting).push_back(Waiting { article, done });
        let (analyse, waiting, batch) = (
            Arc::clone(&self.analyse),
            Arc::clone(&self.waiting),
            self.batch,
        );
        // This handler's slot analyses whatever waits once it is free: its own article, or
        // others' while its own went into an earlier batch. Every article put in line is
        // followed by one such turn, so none is left waiting.
        let turn = self
            .cpu
            .run(move || {
                let taken = next_batch(&mut lock(&waiting), batch);
                analyse_batch(analyse.as_ref(), taken);
            })
            .await;
        let mut article = analysed.await.map_err(|_| {
            StageError::Transient(match turn {
                Err(error) => error.to_string(),
                Ok(()) => "the analysis ended without an answer".into(),
            })
        })??;
        article.stages.push(record(self.name, &self.version));
        let id = article_id(&article);
        Ok(Outgoing::protobuf(self.output, &id, &article, trace))
    }
}

/// The longest body an article may have to share a batch: a batch shares one deadline (the
/// earliest of its articles'), so a long article goes alone and meets its deadline alone,
/// rather than failing a batch that is then analysed again one by one. 32 KiB is well above
/// news articles (BBC's median is 2 KB, its longest 19 KB); it also bounds a batch's text to
/// `batch` x 32 KiB.
pub const MAX_BATCHED_BODY_BYTES: usize = 32 * 1024;

/// Takes the next batch from the front of the waiting line: up to `batch` articles in order,
/// stopping before an article longer than [`MAX_BATCHED_BODY_BYTES`], which is taken alone when
/// it comes first.
fn next_batch(waiting: &mut VecDeque<Waiting>, batch: usize) -> Vec<Waiting> {
    let mut taken = Vec::new();
    while let Some(front) = waiting.front() {
        let long = body_bytes(&front.article) > MAX_BATCHED_BODY_BYTES;
        if long && !taken.is_empty() {
            break;
        }
        taken.extend(waiting.pop_front());
        if long || taken.len() >= batch {
            break;
        }
    }
    taken
}

fn body_bytes(document: &AnalyzedArticle) -> usize {
    document
        .article
        .as_ref()
        .map_or(0, |article| article.body.len())
}

/// Runs `analyse` over the taken articles and answers each one's handler; a batch that panics
/// is run again one article at a time.
fn analyse_batch<F, E>(analyse: &F, taken: Vec<Waiting>)
where
    F: Fn(&mut [AnalyzedArticle]) -> Vec<Result<(), E>>,
    E: Display,
{
    if taken.is_empty() {
        return;
    }
    let (mut articles, answers): (Vec<AnalyzedArticle>, Vec<_>) = taken
        .into_iter()
        .map(|waiting| (waiting.article, waiting.done))
        .unzip();
    // The analysis writes into the articles: a batch run again needs them as they came.
    let originals = (articles.len() > 1).then(|| articles.clone());
    match std::panic::catch_unwind(AssertUnwindSafe(|| analyse(&mut articles))) {
        Ok(results) => {
            // A missing result drops its answer: the handler retries that article.
            for ((article, result), done) in articles.into_iter().zip(results).zip(answers) {
                let answer = result
                    .map(|()| article)
                    .map_err(|error| StageError::Permanent(error.to_string()));
                let _ = done.send(answer);
            }
        }
        Err(panic) => match originals {
            Some(originals) => {
                warn!(
                    "a batch of {} articles panicked; analysing each alone",
                    answers.len()
                );
                for (article, done) in originals.into_iter().zip(answers) {
                    analyse_batch(analyse, vec![Waiting { article, done }]);
                }
            }
            None => {
                let why = format!("the analysis panicked: {}", panic_message(panic.as_ref()));
                for done in answers {
                    let _ = done.send(Err(StageError::Transient(why.clone())));
                }
            }
        },
    }
}

/// The message a panic was raised with.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}

/// The waiting line, even after a panic elsewhere while it was held (it holds no invariant a
/// panic could break).
fn lock(waiting: &Mutex<VecDeque<Waiting>>) -> std::sync::MutexGuard<'_, VecDeque<Waiting>> {
    waiting
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The record a stage appends to each document it processes: which stage, which models, which
/// instance (the container's host name), and when.
pub fn record(stage: &str, version: &str) -> StageRecord {
    StageRecord {
        stage: stage.into(),
        version: version.into(),
        instance: std::env::var("HOSTNAME").unwrap_or_else(|_| stage.into()),
        finished_at: Some(SystemTime::now().into()),
    }
}

/// The article id of a document ("" when it has no article).
pub fn article_id(document: &AnalyzedArticle) -> String {
    document
        .article
        .as_ref()
        .map(|article| article.id.clone())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use std::sync::{
        Mutex,
        atomic::{AtomicBool, Ordering},
    };

    use newsflow_proto::v1::Article;
    use prost::Message;
    use tokio::task::JoinSet;

    use super::*;

    fn article(id: &str, body: &str) -> AnalyzedArticle {
        AnalyzedArticle {
            article: Some(Article {
                id: id.into(),
                body: body.into(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn body(article: &AnalyzedArticle) -> &str {
        article.article.as_ref().map_or("", |a| a.body.as_str())
    }

    /// A stage on one CPU slot whose analysis records each call's size, sets each article's
    /// title to "<body> analysed", fails an article whose body is "bad" and panics on one whose
    /// body is "panic". The first call waits for `go`, so the others pile up behind it.
    fn stage(batch: usize, calls: Arc<Mutex<Vec<usize>>>, go: Arc<AtomicBool>) -> Arc<impl Stage> {
        let analyse = move |articles: &mut [AnalyzedArticle]| -> Vec<Result<(), String>> {
            while !go.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(5));
            }
            calls.lock().unwrap().push(articles.len());
            assert!(
                articles.iter().all(|a| body(a) != "panic"),
                "a panicking article"
            );
            articles
                .iter_mut()
                .map(|a| match a.article.as_mut() {
                    Some(inner) if inner.body != "bad" => {
                        inner.title = format!("{} analysed", inner.body);
                        Ok(())
                    }
                    _ => Err("a bad article".to_string()),
                })
                .collect()
        };
        Arc::new(
            AnalysisStage::new("test", "out", "v", CpuSlots::new(1), analyse).batches_of(batch),
        )
    }

    /// Each article's outcome, by id: its title, or the error's kind and message.
    async fn run_all(stage: Arc<impl Stage>, bodies: &[&str], go: &AtomicBool) -> Vec<String> {
        let mut running = JoinSet::new();
        for (i, body) in bodies.iter().enumerate() {
            let (stage, article) = (Arc::clone(&stage), article(&format!("a{i}"), body));
            running.spawn(async move {
                let outcome = stage.process(article, TraceContext::new_root()).await;
                (i, outcome)
            });
        }
        // Let every handler put its article in line before the first analysis ends.
        tokio::time::sleep(Duration::from_millis(200)).await;
        go.store(true, Ordering::SeqCst);
        let mut outcomes = vec![String::new(); bodies.len()];
        while let Some(joined) = running.join_next().await {
            let (i, outcome) = joined.unwrap();
            outcomes[i] = match outcome {
                Ok(out) => {
                    let article = AnalyzedArticle::decode(out.body.as_slice()).unwrap();
                    assert_eq!(out.message_id, format!("a{i}"));
                    assert_eq!(article.stages.len(), 1);
                    article.article.unwrap().title
                }
                Err(StageError::Permanent(why)) => format!("permanent: {why}"),
                Err(StageError::Transient(why)) => format!("transient: {why}"),
            };
        }
        outcomes
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn articles_waiting_for_the_slot_are_analysed_together_and_each_handler_gets_its_own() {
        let (calls, go) = (Arc::default(), Arc::new(AtomicBool::new(false)));
        let stage = stage(4, Arc::clone(&calls), Arc::clone(&go));
        let bodies = ["b0", "b1", "b2", "b3", "b4", "b5", "b6", "b7", "b8"];
        let outcomes = run_all(stage, &bodies, &go).await;
        let expected: Vec<String> = bodies.iter().map(|b| format!("{b} analysed")).collect();
        assert_eq!(outcomes, expected);
        let calls = calls.lock().unwrap().clone();
        assert_eq!(calls.iter().sum::<usize>(), bodies.len(), "{calls:?}");
        assert!(calls.iter().all(|&n| (1..=4).contains(&n)), "{calls:?}");
        // Nine articles in batches of at most four, one slot: three calls, not nine.
        assert_eq!(calls.len(), 3, "{calls:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_article_fails_alone_and_a_panicking_batch_is_run_again_one_by_one() {
        let (calls, go) = (Arc::default(), Arc::new(AtomicBool::new(false)));
        let stage = stage(8, Arc::clone(&calls), Arc::clone(&go));
        let outcomes = run_all(stage, &["b0", "bad", "panic", "b3"], &go).await;
        assert_eq!(outcomes[0], "b0 analysed");
        assert_eq!(outcomes[1], "permanent: a bad article");
        assert!(
            outcomes[2].starts_with("transient: the analysis panicked: a panicking article"),
            "{outcomes:?}"
        );
        assert_eq!(outcomes[3], "b3 analysed");
    }

    #[test]
    fn a_long_article_is_taken_alone_and_ends_the_batch_before_it() {
        let long = "x".repeat(MAX_BATCHED_BODY_BYTES + 1);
        let mut waiting: VecDeque<Waiting> = ["a", "b", long.as_str(), "c", "d", "e"]
            .into_iter()
            .map(|body| Waiting {
                article: article(body, body),
                done: oneshot::channel().0,
            })
            .collect();
        let mut batches = Vec::new();
        while !waiting.is_empty() {
            let taken = next_batch(&mut waiting, 2);
            batches.push(
                taken
                    .iter()
                    .map(|w| body(&w.article).len())
                    .collect::<Vec<_>>(),
            );
        }
        assert_eq!(batches, [vec![1, 1], vec![long.len()], vec![1, 1], vec![1]]);
    }

    #[test]
    fn an_analysis_stage_holds_a_batch_per_slot_and_one_waiting() {
        let analyse = |_: &mut [AnalyzedArticle]| -> Vec<Result<(), String>> { Vec::new() };
        let one_by_one = AnalysisStage::new("test", "out", "v", CpuSlots::new(2), analyse);
        assert_eq!(one_by_one.concurrency(), Some(2));
        assert_eq!(one_by_one.batches_of(8).concurrency(), Some(24));
    }
}
