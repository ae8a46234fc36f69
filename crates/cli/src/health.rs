//! `newsflow health ADDR`: asks a service's `grpc.health.v1.Health` whether it serves.
//!
//! Meant for container health checks and scripts: one line out, exit 0 when the answer is
//! SERVING, 1 for anything else (another status, an unknown service, a refused connection, no
//! answer within the timeout). Every newsflow service serves health on its gRPC port.

use std::time::Duration;

use tonic::transport::Endpoint;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

/// Arguments of `newsflow health`.
#[derive(clap::Args, Debug)]
pub struct HealthArgs {
    /// The service's gRPC address, `HOST:PORT` (plaintext, as `http://HOST:PORT`).
    pub addr: String,
    /// Service name to ask about; empty (the default) means the whole server.
    #[arg(long, default_value = "")]
    pub service: String,
    /// How long to wait for the connection and the answer together (`500ms`, `3s`).
    #[arg(long, default_value = "3s", value_parser = parse_timeout)]
    pub timeout: Duration,
}

/// Checks once and prints one line: on stdout when serving; else on stderr, and exits 1.
pub fn run(args: &HealthArgs) -> anyhow::Result<()> {
    let uri = endpoint_uri(&args.addr);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let outcome = runtime.block_on(async {
        tokio::time::timeout(args.timeout, check(&uri, &args.service, args.timeout)).await
    });
    let what = if args.service.is_empty() {
        uri.clone()
    } else {
        format!("{uri} ({})", args.service)
    };
    let failure = match outcome {
        Ok(Ok(ServingStatus::Serving)) => {
            println!("{what}: SERVING");
            return Ok(());
        }
        Ok(Ok(status)) => status.as_str_name().to_owned(),
        Ok(Err(reason)) => reason,
        Err(_) => format!("no answer within {:?}", args.timeout),
    };
    // Printed here rather than returned: an error from `main` may carry a backtrace, and a
    // health check's contract is one line and the exit status.
    eprintln!("{what}: {failure}");
    std::process::exit(1);
}

/// `http://` + `addr`, unless `addr` names its scheme already.
fn endpoint_uri(addr: &str) -> String {
    if addr.contains("://") {
        addr.to_owned()
    } else {
        format!("http://{addr}")
    }
}

/// One `Check` call; the error is one line, its causes joined with `: `.
async fn check(uri: &str, service: &str, timeout: Duration) -> Result<ServingStatus, String> {
    let endpoint = Endpoint::from_shared(uri.to_owned())
        .map_err(|e| format!("not an address: {}", chain(&e)))?
        .connect_timeout(timeout)
        .timeout(timeout);
    let channel = endpoint
        .connect()
        .await
        .map_err(|e| format!("cannot connect: {}", chain(&e)))?;
    let response = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: service.to_owned(),
        })
        .await
        .map_err(|status| match status.code() {
            tonic::Code::NotFound => "SERVICE_UNKNOWN (no such service on this server)".to_owned(),
            code => format!("health check failed: {code:?}: {}", status.message()),
        })?;
    Ok(ServingStatus::try_from(response.into_inner().status).unwrap_or(ServingStatus::Unknown))
}

/// An error and its sources on one line, each cause once.
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut line = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        source = cause.source();
    }
    line
}

/// `250ms`, `3s`, or a bare number of seconds.
fn parse_timeout(value: &str) -> Result<Duration, String> {
    let value = value.trim();
    let (number, scale) = if let Some(ms) = value.strip_suffix("ms") {
        (ms, 0.001)
    } else if let Some(s) = value.strip_suffix('s') {
        (s, 1.0)
    } else {
        (value, 1.0)
    };
    number
        .parse::<f64>()
        .ok()
        .and_then(|n| Duration::try_from_secs_f64(n * scale).ok())
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("{value:?} is not a timeout such as 500ms or 3s"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_parse_with_units() {
        assert_eq!(parse_timeout("3s"), Ok(Duration::from_secs(3)));
        assert_eq!(parse_timeout("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_timeout("2"), Ok(Duration::from_secs(2)));
        assert!(parse_timeout("0s").is_err());
        assert!(parse_timeout("-1s").is_err());
        assert!(parse_timeout("soon").is_err());
    }

    #[test]
    fn bare_addresses_are_plaintext_http() {
        assert_eq!(endpoint_uri("storage:50054"), "http://storage:50054");
        assert_eq!(endpoint_uri("http://[::1]:50051"), "http://[::1]:50051");
    }
}
