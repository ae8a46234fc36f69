//! W3C Trace Context (`traceparent`) carried in AMQP headers, so that one trace id follows an
//! article from ingest through every stage.
//!
//! Each consumer span records `trace_id` and its own `span_id`; a handler that publishes the next
//! stage's message passes the message's [`crate::Incoming::trace`] along, so the log lines of
//! every hop of one article share a trace id that can be searched for.
//!
//! When the service exports spans (an OpenTelemetry layer in its `tracing` subscriber, which
//! `newsflow_runtime` installs only when `OTEL_EXPORTER_OTLP_ENDPOINT` is set), the ids are the
//! exported spans' own: [`TraceContext::start`] makes a span the child of the remote span named by
//! the incoming `traceparent` and returns the span's context, and each publish sends the id of
//! the span that published (see [`crate::Publisher::publish`]). So one article's hops show as one
//! trace, each hop under the one before. Without the layer the ids are drawn here, as before.

use std::fmt;

use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use rand::Rng;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The AMQP header that carries the context.
pub const TRACEPARENT_HEADER: &str = "traceparent";

/// A trace id and the id of the span that published (the parent of the consumer's span).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct TraceContext {
    trace_id: [u8; 16],
    span_id: [u8; 8],
    sampled: bool,
}

impl TraceContext {
    /// A new trace, for work that starts here (an article arriving at ingest).
    pub fn new_root() -> Self {
        let mut rng = rand::rng();
        Self {
            trace_id: nonzero(|| rng.random()),
            span_id: nonzero(|| rng.random()),
            sampled: true,
        }
    }

    /// The same trace with a new span id: the context of a span started under this one.
    pub fn child(&self) -> Self {
        let mut rng = rand::rng();
        Self {
            span_id: nonzero(|| rng.random()),
            ..*self
        }
    }

    /// Parses a `traceparent` value (`00-<32 hex>-<16 hex>-<2 hex>`). Returns `None` for a
    /// malformed value or the all-zero ids the specification forbids.
    pub fn parse(value: &str) -> Option<Self> {
        let mut parts = value.trim().split('-');
        let version = parts.next()?;
        let trace = parts.next()?;
        let span = parts.next()?;
        let flags = parts.next()?;
        // Version 00 has exactly four fields; later versions may append more.
        if version.len() != 2 || version == "ff" || (version == "00" && parts.next().is_some()) {
            return None;
        }
        let trace_id: [u8; 16] = decode_hex(trace)?;
        let span_id: [u8; 8] = decode_hex(span)?;
        let [flags]: [u8; 1] = decode_hex(flags)?;
        if trace_id == [0; 16] || span_id == [0; 8] {
            return None;
        }
        Some(Self {
            trace_id,
            span_id,
            sampled: flags & 1 == 1,
        })
    }

    /// The trace id as 32 lowercase hex digits.
    pub fn trace_id(&self) -> String {
        encode_hex(&self.trace_id)
    }

    /// The span id as 16 lowercase hex digits.
    pub fn span_id(&self) -> String {
        encode_hex(&self.span_id)
    }

    /// Starts `span` as this hop's span and returns the context to pass on (to log and to
    /// publish with). `parent` is the span this work continues, in another process: the one
    /// that published the message being handled, or a caller's `traceparent`; `None` starts a
    /// trace.
    ///
    /// When spans are exported, `span` becomes the child of `parent` and the context returned
    /// is the exported span's, so whatever carries it links to that span. Otherwise the context
    /// is drawn here: a [`child`](Self::child) of `parent`, or a [`new_root`](Self::new_root).
    /// Call it before anything else reads `span`'s OpenTelemetry context: a span's parent is
    /// fixed once it has been read.
    pub fn start(span: &tracing::Span, parent: Option<TraceContext>) -> Self {
        if let Some(parent) = parent {
            parent.adopt(span);
        }
        Self::of_span(span)
            .unwrap_or_else(|| parent.map_or_else(Self::new_root, |parent| parent.child()))
    }

    /// The context of `span` as exported over OpenTelemetry, or `None` when it is not exported
    /// (no OpenTelemetry layer, or the span filtered out of it). Reading it fixes the span's
    /// parent.
    pub fn of_span(span: &tracing::Span) -> Option<Self> {
        let context = span.context();
        let exported = context.span();
        let ids = exported.span_context();
        ids.is_valid().then(|| Self {
            trace_id: ids.trace_id().to_bytes(),
            span_id: ids.span_id().to_bytes(),
            sampled: ids.is_sampled(),
        })
    }

    /// Makes `span` a child of the (remote) span this context names, when spans are exported;
    /// does nothing otherwise, or once `span`'s context has been read.
    pub(crate) fn adopt(&self, span: &tracing::Span) {
        let parent = opentelemetry::Context::new().with_remote_span_context(self.span_context());
        // Without an OpenTelemetry layer there is no span to link: the ids still travel.
        let _ = span.set_parent(parent);
    }

    /// This context as OpenTelemetry's (remote) span context.
    fn span_context(&self) -> SpanContext {
        let flags = if self.sampled {
            TraceFlags::SAMPLED
        } else {
            TraceFlags::default()
        };
        SpanContext::new(
            TraceId::from_bytes(self.trace_id),
            SpanId::from_bytes(self.span_id),
            flags,
            true,
            TraceState::default(),
        )
    }
}

impl fmt::Display for TraceContext {
    /// Formats as a `traceparent` header value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "00-{}-{}-{:02x}",
            self.trace_id(),
            self.span_id(),
            u8::from(self.sampled)
        )
    }
}

impl fmt::Debug for TraceContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TraceContext({self})")
    }
}

fn nonzero<const N: usize>(mut draw: impl FnMut() -> [u8; N]) -> [u8; N] {
    loop {
        let bytes = draw();
        if bytes != [0; N] {
            return bytes;
        }
    }
}

fn encode_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn decode_hex<const N: usize>(text: &str) -> Option<[u8; N]> {
    if text.len() != 2 * N || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut out = [0u8; N];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_the_header_format() {
        let context = TraceContext::new_root();
        let parsed = TraceContext::parse(&context.to_string()).expect("own output parses");
        assert_eq!(parsed, context);
    }

    #[test]
    fn parses_the_specification_example() {
        let value = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let context = TraceContext::parse(value).expect("valid traceparent");
        assert_eq!(context.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(context.span_id(), "00f067aa0ba902b7");
        assert_eq!(context.to_string(), value);
    }

    #[test]
    fn a_child_keeps_the_trace_and_changes_the_span() {
        let parent = TraceContext::new_root();
        let child = parent.child();
        assert_eq!(child.trace_id(), parent.trace_id());
        assert_ne!(child.span_id(), parent.span_id());
    }

    #[test]
    fn without_exported_spans_a_hop_draws_its_own_span_id() {
        // No OpenTelemetry layer in this thread's subscriber: the ids are drawn here.
        let span = tracing::info_span!("handle");
        assert_eq!(TraceContext::of_span(&span), None);
        let parent = TraceContext::new_root();
        let own = TraceContext::start(&span, Some(parent));
        assert_eq!(own.trace_id(), parent.trace_id());
        assert_ne!(own.span_id(), parent.span_id());
        let root = TraceContext::start(&span, None);
        assert_ne!(root.trace_id(), parent.trace_id());
    }

    #[test]
    fn rejects_malformed_values() {
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-4bf92f3577b34da6a3ce929d0e0e47zz-00f067aa0ba902b7-01",
        ] {
            assert!(TraceContext::parse(bad).is_none(), "accepted {bad:?}");
        }
    }

    /// With spans exported: what `start` returns is the exported span's own context, under the
    /// remote parent.
    mod exported {
        use std::sync::{Arc, Mutex};

        use opentelemetry::trace::TracerProvider as _;
        use opentelemetry_sdk::{
            error::OTelSdkResult,
            trace::{SdkTracerProvider, SpanData, SpanProcessor},
        };
        use tracing_subscriber::prelude::*;

        use super::*;

        /// Keeps the spans that end.
        #[derive(Debug, Default, Clone)]
        struct Ended(Arc<Mutex<Vec<SpanData>>>);

        impl SpanProcessor for Ended {
            fn on_start(&self, _: &mut opentelemetry_sdk::trace::Span, _: &opentelemetry::Context) {
            }
            fn on_end(&self, span: SpanData) {
                self.0.lock().unwrap().push(span);
            }
            fn force_flush(&self) -> OTelSdkResult {
                Ok(())
            }
            fn shutdown_with_timeout(&self, _: std::time::Duration) -> OTelSdkResult {
                Ok(())
            }
        }

        /// Runs `work` with spans exported, and returns what it returned and the spans.
        fn exporting<R>(work: impl FnOnce() -> R) -> (R, Vec<SpanData>) {
            let ended = Ended::default();
            let provider = SdkTracerProvider::builder()
                .with_span_processor(ended.clone())
                .build();
            let subscriber = tracing_subscriber::registry()
                .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
            let result = tracing::subscriber::with_default(subscriber, work);
            let spans = ended.0.lock().unwrap().clone();
            (result, spans)
        }

        fn named<'a>(spans: &'a [SpanData], name: &str) -> &'a SpanData {
            spans
                .iter()
                .find(|span| span.name == name)
                .unwrap_or_else(|| panic!("no span {name} exported"))
        }

        #[test]
        fn a_hop_is_the_exported_child_of_the_remote_parent() {
            let parent = TraceContext::new_root();
            let (own, spans) = exporting(|| {
                let span = tracing::info_span!("handle");
                TraceContext::start(&span, Some(parent))
            });
            let handle = named(&spans, "handle");
            assert_eq!(own.trace_id, handle.span_context.trace_id().to_bytes());
            assert_eq!(own.span_id, handle.span_context.span_id().to_bytes());
            assert_eq!(own.trace_id(), parent.trace_id(), "the trace continues");
            assert_eq!(handle.parent_span_id.to_bytes(), parent.span_id);
            assert!(handle.parent_span_is_remote);
        }

        #[test]
        fn without_a_parent_the_exported_span_starts_the_trace() {
            let (own, spans) = exporting(|| {
                let span = tracing::info_span!("submit");
                TraceContext::start(&span, None)
            });
            let submit = named(&spans, "submit");
            assert_eq!(own.trace_id, submit.span_context.trace_id().to_bytes());
            assert_eq!(own.span_id, submit.span_context.span_id().to_bytes());
            assert_eq!(submit.parent_span_id, SpanId::INVALID);
            assert!(own.sampled);
        }

        #[test]
        fn an_unsampled_parent_keeps_the_hop_unexported() {
            let mut parent = TraceContext::new_root();
            parent.sampled = false;
            let (own, spans) = exporting(|| {
                let span = tracing::info_span!("handle");
                TraceContext::start(&span, Some(parent))
            });
            assert!(spans.is_empty());
            assert_eq!(own.trace_id(), parent.trace_id());
            assert!(!own.sampled, "the decision travels on");
        }
    }
}
