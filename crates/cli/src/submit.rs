//! `newsflow submit`: sends articles to ingest over gRPC (`SubmitStream`) or HTTP (JSON
//! arrays), shows progress, retries what ingest could not take for now (broker unavailable),
//! and ends with a summary of accepted, duplicate and refused articles.

use std::{path::PathBuf, time::Duration};

use anyhow::{Context, bail};
use clap::Args;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::{
    client::legacy::{Client, connect::HttpConnector},
    rt::TokioExecutor,
};
use newsflow_proto::v1::{
    SubmitRequest, SubmitResponse, ingest_service_client::IngestServiceClient,
};
use serde_json::{Value, json};
use tonic::{metadata::MetadataValue, transport::Channel};

use crate::{
    articles::{self, CsvColumns, Format, Item},
    progress::Progress,
};

/// Arguments of `newsflow submit`.
#[derive(Args)]
pub struct SubmitArgs {
    /// A file, a folder of files, or `-` for standard input.
    input: PathBuf,
    /// How to read the input.
    #[arg(long, value_enum, default_value_t = Format::Auto)]
    format: Format,
    #[command(flatten)]
    columns: CsvColumns,
    #[command(flatten)]
    target: IngestTarget,
    /// Source name stamped on articles that carry none (`bbc`, `reuters`).
    #[arg(long)]
    source: Option<String>,
    /// Print each article's outcome as a JSON line on standard output.
    #[arg(long)]
    json: bool,
}

/// Where ingest is and how to reach it.
#[derive(Args, Clone, Debug)]
pub struct IngestTarget {
    /// Ingest's gRPC address.
    #[arg(
        long,
        env = "NEWSFLOW_INGEST_GRPC",
        default_value = "http://127.0.0.1:50051"
    )]
    pub grpc: String,
    /// Submit over HTTP to this address instead (`http://127.0.0.1:8080`).
    #[arg(long, env = "NEWSFLOW_INGEST_HTTP")]
    pub http: Option<String>,
    /// API key, when ingest requires one.
    #[arg(long, env = "NEWSFLOW_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// Articles per request (an HTTP array, or one gRPC stream).
    #[arg(long, default_value_t = 100)]
    pub batch: usize,
    /// Rounds of resubmitting articles ingest could not take for now (503 / UNAVAILABLE), with
    /// a doubling pause from one second between rounds.
    #[arg(long, default_value_t = 6)]
    pub retries: u32,
}

/// What became of one article.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Accepted {
        id: String,
    },
    Duplicate {
        id: String,
    },
    Refused {
        code: String,
        field: String,
        message: String,
    },
    /// Ingest could not take it for now (broker down); worth resubmitting.
    Unavailable {
        message: String,
    },
}

impl Outcome {
    fn from_response(response: SubmitResponse) -> Self {
        match response.error {
            Some(error) if error.code == "UNAVAILABLE" => Outcome::Unavailable {
                message: error.message,
            },
            Some(error) => Outcome::Refused {
                code: error.code,
                field: error.field,
                message: error.message,
            },
            None if response.duplicate => Outcome::Duplicate { id: response.id },
            None => Outcome::Accepted { id: response.id },
        }
    }

    fn to_json(&self) -> Value {
        match self {
            Outcome::Accepted { id } => json!({"outcome": "accepted", "id": id}),
            Outcome::Duplicate { id } => json!({"outcome": "duplicate", "id": id}),
            Outcome::Refused {
                code,
                field,
                message,
            } => json!({"outcome": "refused", "code": code, "field": field, "message": message}),
            Outcome::Unavailable { message } => {
                json!({"outcome": "unavailable", "message": message})
            }
        }
    }
}

/// A connection to ingest.
pub enum Submitter {
    Grpc {
        client: IngestServiceClient<Channel>,
        api_key: Option<String>,
    },
    Http {
        client: Client<HttpConnector, Full<Bytes>>,
        url: String,
        api_key: Option<String>,
    },
}

impl Submitter {
    pub async fn connect(target: &IngestTarget) -> anyhow::Result<Self> {
        if let Some(http) = &target.http {
            let client = Client::builder(TokioExecutor::new()).build_http();
            return Ok(Submitter::Http {
                client,
                url: format!("{}/v1/articles", http.trim_end_matches('/')),
                api_key: target.api_key.clone(),
            });
        }
        let channel = tonic::transport::Endpoint::from_shared(target.grpc.clone())
            .with_context(|| format!("{:?} is not a gRPC address", target.grpc))?
            .connect_timeout(Duration::from_secs(5))
            .connect()
            .await
            .with_context(|| format!("connecting to ingest at {}", target.grpc))?;
        Ok(Submitter::Grpc {
            client: IngestServiceClient::new(channel).max_encoding_message_size(usize::MAX),
            api_key: target.api_key.clone(),
        })
    }

    /// Submits one batch; the outcomes are in the batch's order.
    pub async fn submit(&mut self, batch: &[SubmitRequest]) -> anyhow::Result<Vec<Outcome>> {
        match self {
            Submitter::Grpc { client, api_key } => {
                let mut request = tonic::Request::new(tokio_stream::iter(batch.to_vec()));
                if let Some(key) = api_key {
                    let value = MetadataValue::try_from(format!("Bearer {key}"))
                        .context("the API key is not a valid header value")?;
                    request.metadata_mut().insert("authorization", value);
                }
                let mut responses = match client.submit_stream(request).await {
                    Ok(response) => response.into_inner(),
                    Err(status) if status.code() == tonic::Code::Unavailable => {
                        return Ok(unavailable(batch.len(), status.message()));
                    }
                    Err(status) => bail!("ingest refused the stream: {status}"),
                };
                let mut outcomes = vec![None; batch.len()];
                loop {
                    match responses.message().await {
                        Ok(Some(response)) => {
                            let index = response.index as usize;
                            if let Some(slot) = outcomes.get_mut(index) {
                                *slot = Some(Outcome::from_response(response));
                            }
                        }
                        Ok(None) => break,
                        // The stream broke (ingest restarting): what has no answer is unknown,
                        // so it is resubmitted; ingest's ids make that safe.
                        Err(status) => {
                            eprintln!("the submit stream ended early: {status}");
                            break;
                        }
                    }
                }
                Ok(outcomes
                    .into_iter()
                    .map(|outcome| {
                        outcome.unwrap_or(Outcome::Unavailable {
                            message: "no answer before the stream ended".into(),
                        })
                    })
                    .collect())
            }
            Submitter::Http {
                client,
                url,
                api_key,
            } => {
                let body: Vec<Value> = batch.iter().map(as_json).collect();
                let mut request =
                    hyper::Request::post(url.as_str()).header("content-type", "application/json");
                if let Some(key) = api_key {
                    request = request.header("authorization", format!("Bearer {key}"));
                }
                let request = request.body(Full::new(Bytes::from(
                    serde_json::to_vec(&body).expect("JSON values serialize"),
                )))?;
                let response = match client.request(request).await {
                    Ok(response) => response,
                    Err(error) => {
                        return Ok(unavailable(
                            batch.len(),
                            &format!("cannot reach ingest at {url}: {error}"),
                        ));
                    }
                };
                let status = response.status();
                let bytes = response.into_body().collect().await?.to_bytes();
                let answer: Value = serde_json::from_slice(&bytes).with_context(|| {
                    format!(
                        "ingest answered {status} with {}",
                        String::from_utf8_lossy(&bytes)
                    )
                })?;
                let Some(results) = answer["results"].as_array() else {
                    // The whole request was refused (too large, unauthenticated).
                    let error = &answer["error"];
                    if status.as_u16() == 503 {
                        return Ok(unavailable(batch.len(), &error["message"].to_string()));
                    }
                    bail!("ingest answered {status}: {answer}");
                };
                let mut outcomes = vec![
                    Outcome::Unavailable {
                        message: "no answer".into()
                    };
                    batch.len()
                ];
                for result in results {
                    let index = result["index"].as_u64().unwrap_or(u64::MAX) as usize;
                    let Some(slot) = outcomes.get_mut(index) else {
                        continue;
                    };
                    let text = |v: &Value| v.as_str().unwrap_or("").to_owned();
                    *slot = match result.get("error") {
                        Some(error) if error["code"] == "UNAVAILABLE" => Outcome::Unavailable {
                            message: text(&error["message"]),
                        },
                        Some(error) => Outcome::Refused {
                            code: text(&error["code"]),
                            field: text(&error["field"]),
                            message: text(&error["message"]),
                        },
                        None if result["duplicate"] == true => Outcome::Duplicate {
                            id: text(&result["id"]),
                        },
                        None => Outcome::Accepted {
                            id: text(&result["id"]),
                        },
                    };
                }
                Ok(outcomes)
            }
        }
    }
}

fn unavailable(count: usize, message: &str) -> Vec<Outcome> {
    vec![
        Outcome::Unavailable {
            message: message.to_owned()
        };
        count
    ]
}

fn as_json(request: &SubmitRequest) -> Value {
    let mut article = json!({
        "external_id": request.external_id, "url": request.url, "source": request.source,
        "title": request.title, "body": request.body, "language": request.language,
    });
    if let Some(at) = &request.published_at {
        article["published_at"] = json!(at.to_string());
    }
    article
}

/// Counts of what happened.
#[derive(Debug, Default)]
pub struct Summary {
    pub accepted: usize,
    pub duplicates: usize,
    pub refused: usize,
    pub unavailable: usize,
    pub unreadable: usize,
}

/// Submits every article, resubmitting those ingest could not take for now, and returns each
/// article's final outcome in input order. `on_outcome` sees each final outcome as it comes.
pub async fn submit_all(
    submitter: &mut Submitter,
    requests: &[SubmitRequest],
    target: &IngestTarget,
    mut on_outcome: impl FnMut(usize, &Outcome),
) -> anyhow::Result<Vec<Outcome>> {
    let mut outcomes: Vec<Option<Outcome>> = vec![None; requests.len()];
    let mut pending: Vec<usize> = (0..requests.len()).collect();
    let mut pause = Duration::from_secs(1);
    for round in 0..=target.retries {
        let mut still_unavailable = Vec::new();
        for chunk in pending.chunks(target.batch.max(1)) {
            let batch: Vec<SubmitRequest> = chunk.iter().map(|&i| requests[i].clone()).collect();
            let answers = submitter.submit(&batch).await?;
            for (&index, outcome) in chunk.iter().zip(answers) {
                if matches!(outcome, Outcome::Unavailable { .. }) && round < target.retries {
                    still_unavailable.push(index);
                } else {
                    on_outcome(index, &outcome);
                }
                outcomes[index] = Some(outcome);
            }
        }
        if still_unavailable.is_empty() {
            break;
        }
        eprintln!(
            "ingest could not take {} articles for now; resubmitting in {pause:?}",
            still_unavailable.len()
        );
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(30));
        pending = still_unavailable;
    }
    Ok(outcomes
        .into_iter()
        .map(|outcome| outcome.expect("every article was submitted"))
        .collect())
}

pub fn run(args: &SubmitArgs) -> anyhow::Result<std::process::ExitCode> {
    let items = articles::read(&args.input, args.format, &args.columns)?;
    let mut requests = Vec::new();
    let mut summary = Summary::default();
    for item in items {
        match item {
            Item::Article(mut request) => {
                if request.source.is_empty()
                    && let Some(source) = &args.source
                {
                    request.source = source.clone();
                }
                requests.push(request);
            }
            Item::Unreadable { at, message } => {
                summary.unreadable += 1;
                eprintln!("unreadable: {at}: {message}");
            }
        }
    }
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let mut submitter = Submitter::connect(&args.target).await?;
        let mut progress = Progress::new(requests.len());
        let mut refused = Vec::new();
        let outcomes = submit_all(&mut submitter, &requests, &args.target, |index, outcome| {
            match outcome {
                Outcome::Accepted { .. } => summary.accepted += 1,
                Outcome::Duplicate { .. } => summary.duplicates += 1,
                Outcome::Refused { .. } => {
                    summary.refused += 1;
                    refused.push(index);
                }
                Outcome::Unavailable { .. } => summary.unavailable += 1,
            }
            progress.advance(&format!(
                "accepted {} duplicate {} refused {}",
                summary.accepted, summary.duplicates, summary.refused
            ));
        })
        .await?;
        progress.finish();
        if args.json {
            for (request, outcome) in requests.iter().zip(&outcomes) {
                let mut line = outcome.to_json();
                line["external_id"] = json!(request.external_id);
                println!("{line}");
            }
        }
        for index in refused {
            if let Outcome::Refused {
                code,
                field,
                message,
            } = &outcomes[index]
            {
                eprintln!(
                    "refused: {} ({code}{}): {message}",
                    requests[index].external_id,
                    if field.is_empty() {
                        String::new()
                    } else {
                        format!(", field {field}")
                    }
                );
            }
        }
        eprintln!(
            "{} accepted, {} duplicate, {} refused, {} unavailable, {} unreadable",
            summary.accepted,
            summary.duplicates,
            summary.refused,
            summary.unavailable,
            summary.unreadable
        );
        let clean = summary.refused + summary.unavailable + summary.unreadable == 0;
        Ok(if clean {
            std::process::ExitCode::SUCCESS
        } else {
            std::process::ExitCode::FAILURE
        })
    })
}
