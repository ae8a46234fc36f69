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
//! An analysis stage is an [`AnalysisStage`]: a function on the document, run on a CPU slot,
//! followed by the stage's [`record`].

use std::{
    fmt::Display,
    future::Future,
    sync::Arc,
    time::{Duration, Instant, SystemTime},
};

use newsflow_bus::{
    BusConfig, BusError, Consumer, Handler, Incoming, Outcome, Outgoing, Publisher, Topology,
    TraceContext,
};
use newsflow_proto::v1::{AnalyzedArticle, StageRecord};
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

/// An analysis stage: `analyse` adds this stage's part to the document on a CPU slot, the
/// stage's [`record`] is appended, and the document is published under `output`.
///
/// The analysis is deterministic, so its errors are permanent; a task that dies (a panic) is
/// transient, since another replica may be fine.
pub struct AnalysisStage<F> {
    name: &'static str,
    output: &'static str,
    version: String,
    analyse: Arc<F>,
    cpu: CpuSlots,
}

impl<F, E> AnalysisStage<F>
where
    F: Fn(&mut AnalyzedArticle) -> Result<(), E> + Send + Sync + 'static,
    E: Display + Send + 'static,
{
    /// The stage `name`, publishing under the routing key `output`, its models at `version`.
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
        }
    }
}

impl<F, E> Stage for AnalysisStage<F>
where
    F: Fn(&mut AnalyzedArticle) -> Result<(), E> + Send + Sync + 'static,
    E: Display + Send + 'static,
{
    fn name(&self) -> &'static str {
        self.name
    }

    fn concurrency(&self) -> Option<u16> {
        Some(u16::try_from(self.cpu.slots()).unwrap_or(u16::MAX))
    }

    fn isolates_crashes(&self) -> bool {
        true
    }

    async fn process(
        &self,
        mut article: AnalyzedArticle,
        trace: TraceContext,
    ) -> Result<Outgoing, StageError> {
        let analyse = Arc::clone(&self.analyse);
        let analysed = self
            .cpu
            .run(move || analyse(&mut article).map(|()| article))
            .await
            .map_err(|error| StageError::Transient(error.to_string()))?;
        let mut article = analysed.map_err(|error| StageError::Permanent(error.to_string()))?;
        article.stages.push(record(self.name, &self.version));
        let id = article_id(&article);
        Ok(Outgoing::protobuf(self.output, &id, &article, trace))
    }
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
