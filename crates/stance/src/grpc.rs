//! `StanceService` for direct calls.

use std::sync::Arc;

use newsflow_analysis::{
    AnalysisError, Budget, EntityAnalysis, ModelArgs, StanceAnalysis, normalize,
};
use newsflow_proto::v1::{
    ClassifyRequest, ClassifyResponse, Entity,
    stance_service_server::{StanceService, StanceServiceServer},
};
use newsflow_runtime::{CpuSlots, grpc::check_size};
use tokio::sync::OnceCell;
use tonic::{Request, Response, Status};

/// Largest text accepted, in bytes.
pub const MAX_TEXT_BYTES: usize = 1 << 20;

/// The gRPC face of the stance analysis. A request without entities has them found here, by
/// NER models loaded on the first such request: the pipeline never needs them in this
/// service, so replicas do not hold them in memory unless someone calls `Classify` that way.
pub struct StanceGrpc {
    analysis: Arc<StanceAnalysis>,
    /// What the NER models are loaded from, and the budget they keep to, when first needed.
    entity_models: (ModelArgs, Budget),
    entities: OnceCell<Arc<EntityAnalysis>>,
    cpu: CpuSlots,
}

impl StanceGrpc {
    /// The service, ready for the server; it shares the stage's models and CPU slots.
    pub fn server(
        analysis: Arc<StanceAnalysis>,
        entity_models: (ModelArgs, Budget),
        cpu: CpuSlots,
    ) -> StanceServiceServer<Self> {
        StanceServiceServer::new(Self {
            analysis,
            entity_models,
            entities: OnceCell::new(),
            cpu,
        })
        .max_decoding_message_size(2 * MAX_TEXT_BYTES)
    }

    /// The entities of a normalized text, loading the NER models first if need be.
    async fn entities(&self, text: String) -> Result<Vec<Entity>, Status> {
        let entities = self
            .entities
            .get_or_try_init(|| async {
                let (models, budget) = self.entity_models.clone();
                self.cpu
                    .run(move || EntityAnalysis::load(&models, budget).map(Arc::new))
                    .await
                    .map_err(|error| Status::internal(error.to_string()))?
                    .map_err(|error| {
                        Status::failed_precondition(format!(
                            "this service cannot find entities itself ({error}); \
                             send the text's entities with the request"
                        ))
                    })
            })
            .await?;
        let analysis = Arc::clone(entities);
        self.cpu
            .serve(move || analysis.entities(text), refused)
            .await
    }
}

#[tonic::async_trait]
impl StanceService for StanceGrpc {
    async fn classify(
        &self,
        request: Request<ClassifyRequest>,
    ) -> Result<Response<ClassifyResponse>, Status> {
        let request = request.into_inner();
        check_size("text", &request.text, MAX_TEXT_BYTES)?;
        // Given entities index into the text as sent, so it must already be normalized;
        // without entities the text is normalized here and the entities found in it.
        let (text, entities) = if request.entities.is_empty() {
            let text = normalize(&request.text);
            if text.is_empty() {
                return Err(Status::invalid_argument("text: is missing or empty"));
            }
            let entities = self.entities(text.clone()).await?;
            (text, entities)
        } else {
            if request.text.trim().is_empty() {
                return Err(Status::invalid_argument("text: is missing or empty"));
            }
            (request.text, request.entities)
        };
        let analysis = Arc::clone(&self.analysis);
        let (topics, given) = (request.topics, entities.clone());
        let classified = self
            .cpu
            .serve(move || analysis.classify(text, &given, &topics), refused)
            .await?;
        Ok(Response::new(ClassifyResponse {
            entities,
            statements: classified.statements,
            stances: classified.stances,
            summaries: classified.summaries,
            affiliations: classified.affiliations,
        }))
    }
}

/// An analysis error as the caller's status: out of time, or an input it cannot take.
fn refused(error: AnalysisError) -> Status {
    if error.is_deadline() {
        Status::deadline_exceeded(error.to_string())
    } else {
        Status::invalid_argument(error.to_string())
    }
}
