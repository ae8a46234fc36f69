//! `ExtractionService` for direct calls.

use std::sync::Arc;

use newsflow_analysis::{AnalysisError, EntityAnalysis, normalize};
use newsflow_proto::v1::{
    ExtractRequest, ExtractResponse,
    extraction_service_server::{ExtractionService, ExtractionServiceServer},
};
use newsflow_runtime::{CpuSlots, grpc::check_size};
use tonic::{Request, Response, Status};

/// Largest text accepted, in bytes.
pub const MAX_TEXT_BYTES: usize = 1 << 20;

/// The gRPC face of the entity analysis.
pub struct ExtractionGrpc {
    analysis: Arc<EntityAnalysis>,
    cpu: CpuSlots,
}

impl ExtractionGrpc {
    /// The service, ready for the server; it shares the stage's models and CPU slots.
    pub fn server(analysis: Arc<EntityAnalysis>, cpu: CpuSlots) -> ExtractionServiceServer<Self> {
        ExtractionServiceServer::new(Self { analysis, cpu })
            .max_decoding_message_size(MAX_TEXT_BYTES + 1024)
    }
}

#[tonic::async_trait]
impl ExtractionService for ExtractionGrpc {
    async fn extract(
        &self,
        request: Request<ExtractRequest>,
    ) -> Result<Response<ExtractResponse>, Status> {
        let request = request.into_inner();
        if !matches!(request.language.as_str(), "" | "en") {
            return Err(Status::invalid_argument(format!(
                "language: {:?} is not served (served: en)",
                request.language
            )));
        }
        check_size("text", &request.text, MAX_TEXT_BYTES)?;
        let text = normalize(&request.text);
        if text.is_empty() {
            return Err(Status::invalid_argument("text: is missing or empty"));
        }
        let analysis = Arc::clone(&self.analysis);
        let input = text.clone();
        let entities = self
            .cpu
            .serve(move || analysis.entities(input), refused)
            .await?;
        Ok(Response::new(ExtractResponse { text, entities }))
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
