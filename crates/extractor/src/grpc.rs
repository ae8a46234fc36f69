//! `ExtractionService` for direct calls.

use newsflow_nlp::normalize::normalize;
use newsflow_proto::v1::{
    ExtractRequest, ExtractResponse,
    extraction_service_server::{ExtractionService, ExtractionServiceServer},
};
use tonic::{Request, Response, Status};

use crate::extract::{ExtractError, Extractor};

/// Largest text accepted, in bytes.
pub const MAX_TEXT_BYTES: usize = 1 << 20;

/// The gRPC face of the [`Extractor`].
pub struct ExtractionGrpc {
    extractor: Extractor,
}

impl ExtractionGrpc {
    /// The service, ready for the server.
    pub fn server(extractor: Extractor) -> ExtractionServiceServer<Self> {
        ExtractionServiceServer::new(Self { extractor })
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
        if request.text.len() > MAX_TEXT_BYTES {
            return Err(Status::invalid_argument(format!(
                "text: is {} bytes; the limit is {MAX_TEXT_BYTES}",
                request.text.len()
            )));
        }
        let text = normalize(&request.text);
        if text.is_empty() {
            return Err(Status::invalid_argument("text: is missing or empty"));
        }
        let entities =
            self.extractor
                .entities(text.clone())
                .await
                .map_err(|error| match error {
                    ExtractError::Task(_) => Status::internal(error.to_string()),
                    _ => Status::invalid_argument(error.to_string()),
                })?;
        Ok(Response::new(ExtractResponse { text, entities }))
    }
}
