//! `newsflow export`: one record per article, mention, statement or stance of an article query,
//! as CSV or NDJSON, from the web service's `GET /api/v1/export`, written as it streams (to a
//! file or standard output), so an export of any size takes little memory here too.

use std::{
    io::Write,
    path::PathBuf,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::{
    client::legacy::{Client, connect::HttpConnector},
    rt::TokioExecutor,
};

/// What one record is.
#[derive(ValueEnum, Clone, Copy, Debug)]
enum Rows {
    Articles,
    Mentions,
    Statements,
    Stances,
}

/// How records are written.
#[derive(ValueEnum, Clone, Copy, Debug)]
enum Encoding {
    Csv,
    Ndjson,
}

/// Arguments of `newsflow export`.
#[derive(Args)]
pub struct ExportArgs {
    /// The web service.
    #[arg(
        long,
        env = "NEWSFLOW_WEB_URL",
        default_value = "http://127.0.0.1:8090"
    )]
    web: String,
    /// API key, when the web service requires one.
    #[arg(long, env = "NEWSFLOW_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
    /// One record per article (with its body), mention, statement or stance.
    #[arg(long, value_enum, default_value_t = Rows::Articles)]
    rows: Rows,
    /// CSV (with a header line) or NDJSON (one JSON object per line).
    #[arg(long, value_enum, default_value_t = Encoding::Csv)]
    format: Encoding,
    /// Write to this file instead of standard output.
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Only articles at or after this time (RFC 3339, or a day: 2025-09-04).
    #[arg(long)]
    from: Option<String>,
    /// Only articles before this time.
    #[arg(long)]
    to: Option<String>,
    /// Only articles from this source.
    #[arg(long)]
    source: Option<String>,
    /// Only articles mentioning this entity (key: "PERSON:vladimir putin").
    #[arg(long)]
    entity: Option<String>,
    /// Only articles mentioning an entity of this type (person, org, gpe, ...).
    #[arg(long = "type")]
    entity_type: Option<String>,
    /// Only articles naming this place, by GeoNames id (2988507: Paris, France).
    #[arg(long)]
    place: Option<String>,
    /// Only articles with a stance held by this entity (key).
    #[arg(long)]
    holder: Option<String>,
    /// Only articles with a stance toward this entity (key) or topic.
    #[arg(long)]
    target: Option<String>,
    /// Only articles with a stance of this polarity (negative/against, neutral, positive/for).
    #[arg(long)]
    polarity: Option<String>,
    /// Only articles matching this full-text search.
    #[arg(long = "query", short = 'q')]
    text: Option<String>,
}

impl ExportArgs {
    /// The export's URL, with every filter given.
    fn url(&self) -> anyhow::Result<String> {
        let rows = format!("{:?}", self.rows).to_lowercase();
        let format = format!("{:?}", self.format).to_lowercase();
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        query
            .append_pair("rows", &rows)
            .append_pair("format", &format);
        for (name, value) in [
            ("from", &self.from),
            ("to", &self.to),
            ("source", &self.source),
            ("entity", &self.entity),
            ("type", &self.entity_type),
            ("place", &self.place),
            ("holder", &self.holder),
            ("target", &self.target),
            ("polarity", &self.polarity),
            ("q", &self.text),
        ] {
            if let Some(value) = value {
                query.append_pair(name, value);
            }
        }
        let base = self.web.trim_end_matches('/');
        if !base.starts_with("http://") {
            bail!("{base:?} is not an http:// address of the web service");
        }
        Ok(format!("{base}/api/v1/export?{}", query.finish()))
    }
}

pub fn run(args: &ExportArgs) -> anyhow::Result<()> {
    let url = args.url()?;
    tokio::runtime::Runtime::new()?.block_on(async {
        let client: Client<HttpConnector, Empty<Bytes>> =
            Client::builder(TokioExecutor::new()).build_http();
        let mut request = hyper::Request::get(url.as_str());
        if let Some(key) = &args.api_key {
            request = request.header("authorization", format!("Bearer {key}"));
        }
        let response = tokio::time::timeout(
            Duration::from_secs(60),
            client.request(request.body(Empty::new())?),
        )
        .await
        .with_context(|| format!("{} did not answer within a minute", args.web))?
        .with_context(|| format!("connecting to the web service at {}", args.web))?;
        let status = response.status();
        let mut body = response.into_body();
        if !status.is_success() {
            let bytes = body.collect().await?.to_bytes();
            let answer: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
            let message = answer["error"]["message"]
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned());
            bail!("the web service refused the export ({status}): {message}");
        }
        let mut out: Box<dyn Write> = match &args.output {
            Some(path) => Box::new(std::io::BufWriter::new(
                std::fs::File::create(path)
                    .with_context(|| format!("creating {}", path.display()))?,
            )),
            None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
        };
        let started = Instant::now();
        let (mut bytes, mut lines) = (0usize, 0usize);
        while let Some(frame) = body.frame().await {
            let frame = frame.context("the export broke off before its end")?;
            if let Ok(data) = frame.into_data() {
                bytes += data.len();
                lines += data.iter().filter(|b| **b == b'\n').count();
                out.write_all(&data)?;
            }
        }
        out.flush()?;
        if let Some(path) = &args.output {
            eprintln!(
                "{} bytes, {lines} lines, to {} in {:.1} s",
                bytes,
                path.display(),
                started.elapsed().as_secs_f64()
            );
        }
        Ok(())
    })
}
