//! `IngestService` over gRPC: `Submit` for one article, `SubmitStream` for many.

use std::{pin::Pin, sync::Arc};

use futures::{Stream, StreamExt};
use newsflow_proto::v1::{
    SubmitError, SubmitRequest, SubmitResponse,
    ingest_service_server::{IngestService, IngestServiceServer},
};
use tonic::{Request, Response, Status, Streaming, service::interceptor::InterceptedService};

use newsflow_bus::{TraceContext, trace::TRACEPARENT_HEADER};
use newsflow_runtime::{ApiKeyCheck, ApiKeys};

use crate::{
    error::{IngestError, code_name},
    stage::Ingestor,
};

/// Articles of one stream validated and published at once; answers still come back in order.
const STREAM_CONCURRENCY: usize = 64;

/// The gRPC face of the [`Ingestor`].
pub struct IngestGrpc {
    ingestor: Arc<Ingestor>,
}

/// The service with its API-key check and message size limit, ready for the server.
pub type IngestServer = InterceptedService<IngestServiceServer<IngestGrpc>, ApiKeyCheck>;

impl IngestGrpc {
    /// The service; requests larger than `max_message_bytes` are refused by the codec.
    pub fn server(
        ingestor: Arc<Ingestor>,
        keys: ApiKeys,
        max_message_bytes: usize,
    ) -> IngestServer {
        let service = IngestServiceServer::new(IngestGrpc { ingestor })
            .max_decoding_message_size(max_message_bytes);
        InterceptedService::new(service, ApiKeyCheck::new(keys))
    }
}

type ResponseStream = Pin<Box<dyn Stream<Item = Result<SubmitResponse, Status>> + Send>>;

#[tonic::async_trait]
impl IngestService for IngestGrpc {
    async fn submit(
        &self,
        request: Request<SubmitRequest>,
    ) -> Result<Response<SubmitResponse>, Status> {
        let parent = traceparent(request.metadata());
        let accepted = self.ingestor.submit(request.into_inner(), parent).await?;
        Ok(Response::new(SubmitResponse {
            id: accepted.id,
            duplicate: accepted.duplicate,
            error: None,
            index: 0,
        }))
    }

    type SubmitStreamStream = ResponseStream;

    async fn submit_stream(
        &self,
        request: Request<Streaming<SubmitRequest>>,
    ) -> Result<Response<Self::SubmitStreamStream>, Status> {
        let ingestor = Arc::clone(&self.ingestor);
        // Each article of the stream is a trace of its own, under the caller's span if any.
        let parent = traceparent(request.metadata());
        let responses = request
            .into_inner()
            .enumerate()
            .map(move |(index, item)| {
                let ingestor = Arc::clone(&ingestor);
                async move {
                    let index = index as u32;
                    match item {
                        Ok(article) => Ok(answer(index, ingestor.submit(article, parent).await)),
                        // A request that does not decode is that item's error; the stream goes on.
                        Err(status) if status.code() == tonic::Code::InvalidArgument => {
                            Ok(SubmitResponse {
                                index,
                                error: Some(SubmitError {
                                    code: code_name(status.code()).into(),
                                    field: String::new(),
                                    message: status.message().into(),
                                }),
                                ..Default::default()
                            })
                        }
                        // The transport broke: end the stream with that status.
                        Err(status) => Err(status),
                    }
                }
            })
            .buffered(STREAM_CONCURRENCY);
        Ok(Response::new(Box::pin(responses)))
    }
}

fn answer(index: u32, result: Result<crate::stage::Accepted, IngestError>) -> SubmitResponse {
    match result {
        Ok(accepted) => SubmitResponse {
            id: accepted.id,
            duplicate: accepted.duplicate,
            error: None,
            index,
        },
        Err(error) => SubmitResponse {
            index,
            error: Some(SubmitError {
                code: code_name(error.code()).into(),
                field: error.field().into(),
                message: error.to_string(),
            }),
            ..Default::default()
        },
    }
}

/// The caller's trace context, from a W3C `traceparent` metadata entry (ignored when malformed).
fn traceparent(metadata: &tonic::metadata::MetadataMap) -> Option<TraceContext> {
    let value = metadata.get(TRACEPARENT_HEADER)?.to_str().ok()?;
    TraceContext::parse(value)
}
