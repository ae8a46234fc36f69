//! `StanceService` for direct calls.

use newsflow_extractor::extract::Extractor;
use newsflow_nlp::normalize::normalize;
use newsflow_proto::v1::{
    ClassifyRequest, ClassifyResponse,
    stance_service_server::{StanceService, StanceServiceServer},
};
use tonic::{Request, Response, Status};

use crate::stage::{Classifier, StanceError};

/// Largest text accepted, in bytes.
pub const MAX_TEXT_BYTES: usize = 1 << 20;

/// The gRPC face of the [`Classifier`]; extracts entities itself when a request has none.
pub struct StanceGrpc {
    classifier: Classifier,
    extractor: Extractor,
}

impl StanceGrpc {
    /// The service, ready for the server.
    pub fn server(classifier: Classifier, extractor: Extractor) -> StanceServiceServer<Self> {
        StanceServiceServer::new(Self {
            classifier,
            extractor,
        })
        .max_decoding_message_size(2 * MAX_TEXT_BYTES)
    }
}

#[tonic::async_trait]
impl StanceService for StanceGrpc {
    async fn classify(
        &self,
        request: Request<ClassifyRequest>,
    ) -> Result<Response<ClassifyResponse>, Status> {
        let request = request.into_inner();
        if request.text.len() > MAX_TEXT_BYTES {
            return Err(Status::invalid_argument(format!(
                "text: is {} bytes; the limit is {MAX_TEXT_BYTES}",
                request.text.len()
            )));
        }
        // Given entities index into the text as sent, so it must already be normalized;
        // without entities the text is normalized here and the entities found in it.
        let (text, entities) = if request.entities.is_empty() {
            let text = normalize(&request.text);
            if text.is_empty() {
                return Err(Status::invalid_argument("text: is missing or empty"));
            }
            let entities = self
                .extractor
                .entities(text.clone())
                .await
                .map_err(|e| Status::internal(e.to_string()))?;
            (text, entities)
        } else {
            if request.text.trim().is_empty() {
                return Err(Status::invalid_argument("text: is missing or empty"));
            }
            (request.text, request.entities)
        };
        let classified = self
            .classifier
            .classify(text, entities.clone(), request.topics)
            .await
            .map_err(|error| match error {
                StanceError::Task(_) => Status::internal(error.to_string()),
                _ => Status::invalid_argument(error.to_string()),
            })?;
        Ok(Response::new(ClassifyResponse {
            entities,
            statements: classified.statements,
            stances: classified.stances,
            summaries: classified.summaries,
        }))
    }
}
