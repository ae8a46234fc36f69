//! Configuration every service shares, from flags or environment variables (flags win).
//!
//! Each service's own configuration struct flattens these with `#[command(flatten)]`, so the
//! names below mean the same thing in every service. The README lists them all.

use std::{net::SocketAddr, time::Duration};

use newsflow_bus::{BusConfig, Topology};

/// What every service takes: how it reaches the broker, how it logs and exposes metrics.
#[derive(clap::Args, Clone, Debug)]
pub struct ServiceArgs {
    #[command(flatten)]
    pub bus: BusArgs,
    #[command(flatten)]
    pub telemetry: TelemetryArgs,
    #[command(flatten)]
    pub grpc: crate::grpc::GrpcArgs,
}

/// Messages a consumer holds at once when neither the setting nor the stage says otherwise.
pub const DEFAULT_PREFETCH: u16 = 32;

/// How a service reaches RabbitMQ and handles messages.
#[derive(clap::Args, Clone, Debug)]
pub struct BusArgs {
    /// AMQP URI of the broker.
    #[arg(
        long,
        env = "NEWSFLOW_AMQP_URL",
        default_value = "amqp://guest:guest@127.0.0.1:5672/%2f"
    )]
    pub amqp_url: String,
    /// Name of the exchange and prefix of every queue.
    #[arg(long, env = "NEWSFLOW_BUS_PREFIX", default_value = "newsflow")]
    pub bus_prefix: String,
    /// Most messages a consumer holds unacknowledged, and so handles at once (default for the
    /// analysis stages: a batch per core and one batch waiting, see
    /// `newsflow_runtime::AnalysisStage`; 32 for the others).
    #[arg(long, env = "NEWSFLOW_PREFETCH")]
    pub prefetch: Option<u16>,
    /// Attempts at a message before it is dead-lettered.
    #[arg(long, env = "NEWSFLOW_MAX_ATTEMPTS", default_value_t = 5)]
    pub max_attempts: u32,
    /// Delays before the first, second, ... retry; the last repeats.
    #[arg(
        long,
        env = "NEWSFLOW_RETRY_DELAYS",
        default_value = "1s,5s,30s,2m",
        value_delimiter = ',',
        value_parser = parse_duration
    )]
    pub retry_delays: Vec<Duration>,
    /// How long a publish waits for the broker's confirm.
    #[arg(long, env = "NEWSFLOW_CONFIRM_TIMEOUT", default_value = "15s", value_parser = parse_duration)]
    pub confirm_timeout: Duration,
    /// How long shutdown waits for messages in flight before closing anyway.
    #[arg(long, env = "NEWSFLOW_SHUTDOWN_GRACE", default_value = "30s", value_parser = parse_duration)]
    pub shutdown_grace: Duration,
}

impl BusArgs {
    /// The bus connection settings, naming connections after `service`.
    pub fn config(&self, service: &str) -> BusConfig {
        let mut config = BusConfig::new(self.amqp_url.clone(), format!("newsflow-{service}"));
        config.prefetch = self.prefetch.unwrap_or(DEFAULT_PREFETCH).max(1);
        config.max_attempts = self.max_attempts.max(1);
        config.confirm_timeout = self.confirm_timeout;
        config.shutdown_grace = self.shutdown_grace;
        config
    }

    /// The pipeline topology under the configured prefix.
    pub fn topology(&self) -> Topology {
        Topology::pipeline(self.bus_prefix.clone(), self.retry_delays.clone())
    }

    /// A downstream subscriber's topology: one stage queue `<prefix>.<name>` bound to
    /// `article.processed`, and the stage name to consume it under. With `idle_expiry` the
    /// broker deletes the queue once it has gone unused that long (a subscriber that is not
    /// meant to outlive its process); without it the queue keeps events while nobody reads.
    pub fn subscription(&self, name: &str, idle_expiry: Option<Duration>) -> (Topology, String) {
        let stage = name.to_owned();
        let topology = Topology::new(
            self.bus_prefix.clone(),
            self.retry_delays.clone(),
            [(stage.as_str(), newsflow_bus::topology::ARTICLE_PROCESSED)],
        );
        let topology = match idle_expiry {
            Some(idle) => topology.expire_when_idle(idle),
            None => topology,
        };
        (topology, stage)
    }
}

/// How an analysis stage (extractor, stance) takes its articles.
#[derive(clap::Args, Clone, Debug)]
pub struct AnalysisStageArgs {
    /// Most articles analysed in one call when several wait for a CPU slot (a backlog), their
    /// sentences sharing the models' batches; with no backlog each article goes alone. 1 turns
    /// batches off.
    #[arg(long, env = "NEWSFLOW_BATCH_ARTICLES", default_value_t = DEFAULT_BATCH_ARTICLES)]
    pub batch_articles: usize,
}

/// Articles per analysis call under a backlog, unless configured.
pub const DEFAULT_BATCH_ARTICLES: usize = 8;

/// How a service logs and exposes metrics.
#[derive(clap::Args, Clone, Debug)]
pub struct TelemetryArgs {
    /// Log line format: readable `text`, or `json` for log collectors.
    #[arg(long, env = "NEWSFLOW_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Log filter in `tracing` syntax (`info`, `newsflow_bus=debug,info`).
    #[arg(long, env = "NEWSFLOW_LOG", default_value = "info")]
    pub log: String,
    /// Address of the Prometheus `/metrics` endpoint; `off` to disable it.
    #[arg(long, env = "NEWSFLOW_METRICS_ADDR", default_value = "0.0.0.0:9090", value_parser = parse_optional_addr)]
    pub metrics_addr: OptionalAddr,
    /// OTLP collector to export traces to (`http://jaeger:4318`, or `http://jaeger:4317` with
    /// `grpc`); unset or empty: no spans are exported and no exporter runs.
    #[arg(long, env = "OTEL_EXPORTER_OTLP_ENDPOINT")]
    pub otlp_endpoint: Option<String>,
    /// OTLP transport: `http/protobuf` (the collector's port 4318; `/v1/traces` is appended to
    /// the endpoint) or `grpc` (port 4317).
    #[arg(long, env = "OTEL_EXPORTER_OTLP_PROTOCOL", default_value = "http/protobuf", value_parser = parse_otlp_protocol)]
    pub otlp_protocol: OtlpProtocol,
    /// The `service.name` of the exported spans (default: the service's own, `newsflow-ingest`).
    #[arg(long, env = "OTEL_SERVICE_NAME")]
    pub service_name: Option<String>,
}

impl TelemetryArgs {
    /// The OTLP endpoint, when traces are to be exported (set and not blank).
    pub fn otlp_endpoint(&self) -> Option<&str> {
        self.otlp_endpoint
            .as_deref()
            .map(str::trim)
            .filter(|endpoint| !endpoint.is_empty())
    }

    /// The `service.name` of the exported spans: the configured one, else `default`.
    pub fn service_name<'a>(&'a self, default: &'a str) -> &'a str {
        self.service_name
            .as_deref()
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .unwrap_or(default)
    }
}

/// How spans travel to the OTLP collector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OtlpProtocol {
    /// Protobuf over HTTP (`http/protobuf`), the OpenTelemetry default.
    HttpProtobuf,
    /// gRPC (`grpc`).
    Grpc,
}

fn parse_otlp_protocol(value: &str) -> Result<OtlpProtocol, String> {
    match value.trim() {
        // Empty is unset: a compose file passes variables through as empty strings.
        "" | "http/protobuf" => Ok(OtlpProtocol::HttpProtobuf),
        "grpc" => Ok(OtlpProtocol::Grpc),
        other => Err(format!(
            "{other:?} is not a supported OTLP protocol: use http/protobuf or grpc"
        )),
    }
}

/// Log line format.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// A listen address, or none (`off`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OptionalAddr(pub Option<SocketAddr>);

fn parse_optional_addr(value: &str) -> Result<OptionalAddr, String> {
    if value.eq_ignore_ascii_case("off") {
        return Ok(OptionalAddr(None));
    }
    value
        .parse()
        .map(|addr| OptionalAddr(Some(addr)))
        .map_err(|e| format!("{value:?} is not an address such as 0.0.0.0:9090 or `off`: {e}"))
}

/// Parses `250ms`, `5s`, `2m` or `1h` (a bare number is seconds).
pub fn parse_duration(value: &str) -> Result<Duration, String> {
    let value = value.trim();
    let split = value
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(value.len());
    let (number, unit) = value.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("{value:?} is not a duration such as 250ms, 5s or 2m"))?;
    let seconds = match unit {
        "ms" => number / 1000.0,
        "" | "s" => number,
        "m" => number * 60.0,
        "h" => number * 3600.0,
        _ => {
            return Err(format!(
                "{value:?}: unknown unit {unit:?} (use ms, s, m or h)"
            ));
        }
    };
    Duration::try_from_secs_f64(seconds).map_err(|e| format!("{value:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser, Debug)]
    struct Service {
        #[command(flatten)]
        service: ServiceArgs,
    }

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5 parsecs").is_err());
        assert!(parse_duration("-1s").is_err());
    }

    #[test]
    fn flags_set_the_bus_and_telemetry() {
        let service = Service::parse_from([
            "svc",
            "--amqp-url",
            "amqp://broker:5672/%2f",
            "--retry-delays",
            "100ms,2s",
            "--prefetch",
            "8",
            "--log-format",
            "json",
            "--metrics-addr",
            "off",
        ]);
        let config = service.service.bus.config("extractor");
        assert_eq!(config.url, "amqp://broker:5672/%2f");
        assert_eq!(config.connection_name, "newsflow-extractor");
        assert_eq!(config.prefetch, 8);
        let topology = service.service.bus.topology();
        assert_eq!(topology.retry_delay(1), Duration::from_millis(100));
        assert_eq!(topology.retry_delay(5), Duration::from_secs(2));
        assert_eq!(service.service.telemetry.log_format, LogFormat::Json);
        assert_eq!(service.service.telemetry.metrics_addr, OptionalAddr(None));
    }

    #[test]
    fn defaults_run_against_the_local_broker() {
        let service = Service::parse_from(["svc"]);
        assert_eq!(service.service.bus.bus_prefix, "newsflow");
        assert_eq!(
            service.service.bus.topology().retry_delay(1),
            Duration::from_secs(1)
        );
        assert_eq!(service.service.telemetry.log_format, LogFormat::Text);
        assert_eq!(
            service.service.telemetry.metrics_addr,
            OptionalAddr(Some("0.0.0.0:9090".parse().unwrap()))
        );
        assert_eq!(
            service.service.telemetry.otlp_protocol,
            OtlpProtocol::HttpProtobuf
        );
    }

    #[test]
    fn traces_are_exported_only_to_a_given_endpoint() {
        let parse = |args: &[&str]| Service::parse_from(args).service.telemetry;
        let given = parse(&["svc", "--otlp-endpoint", "http://jaeger:4317"]);
        assert_eq!(given.otlp_endpoint(), Some("http://jaeger:4317"));
        for blank in ["", "  "] {
            assert_eq!(
                parse(&["svc", "--otlp-endpoint", blank]).otlp_endpoint(),
                None
            );
        }
        let grpc = parse(&["svc", "--otlp-protocol", "grpc"]);
        assert_eq!(grpc.otlp_protocol, OtlpProtocol::Grpc);
        assert_eq!(
            parse(&["svc", "--otlp-protocol", ""]).otlp_protocol,
            OtlpProtocol::HttpProtobuf
        );
        assert!(Service::try_parse_from(["svc", "--otlp-protocol", "http/json"]).is_err());
        let named = parse(&["svc", "--service-name", "ingest-eu"]);
        assert_eq!(named.service_name("newsflow-ingest"), "ingest-eu");
        assert_eq!(
            parse(&["svc", "--service-name", ""]).service_name("newsflow-ingest"),
            "newsflow-ingest"
        );
    }
}
