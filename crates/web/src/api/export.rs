//! `GET /api/v1/export`: one record per article, mention, statement or stance of any article
//! query, as CSV or NDJSON, streamed batch by batch from the store so memory stays bounded
//! however many rows there are (measured in `tests/export.rs`).

use axum::{
    body::{Body, Bytes},
    extract::State,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use futures::{StreamExt, stream};
use newsflow_store::{ExportBatch, ExportRows, StoreError};
use serde::Serialize;

use super::{ApiError, CommonErrors, article_query, params::Params};
use crate::AppState;

article_query! {
    /// The parameters of `GET /api/v1/export`.
    pub struct ExportQuery {
        /// What one record is: articles (with the body; the default), mentions, statements
        /// or stances.
        pub rows: Option<String>,
        /// csv (the default; a header line first) or ndjson (one JSON object per line).
        pub format: Option<String>,
    }
}

/// An export's encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated, RFC 4180 quoting, a header line first.
    Csv,
    /// One JSON object per line.
    Ndjson,
}

impl ExportQuery {
    /// The kind of record asked for.
    pub fn rows(&self) -> Result<ExportRows, ApiError> {
        match self.rows.as_deref().map(str::trim).unwrap_or("articles") {
            "articles" => Ok(ExportRows::Articles),
            "mentions" => Ok(ExportRows::Mentions),
            "statements" => Ok(ExportRows::Statements),
            "stances" => Ok(ExportRows::Stances),
            other => Err(ApiError::invalid(
                "rows",
                format!(
                    "{other:?} is not a kind of row: use articles, mentions, statements or stances"
                ),
            )),
        }
    }

    /// The encoding asked for.
    pub fn format(&self) -> Result<Format, ApiError> {
        match self.format.as_deref().map(str::trim).unwrap_or("csv") {
            "csv" => Ok(Format::Csv),
            "ndjson" | "jsonl" => Ok(Format::Ndjson),
            other => Err(ApiError::invalid(
                "format",
                format!("{other:?} is not a format: use csv or ndjson"),
            )),
        }
    }
}

/// Every record of the matching articles, newest article first, streamed. A failure after the
/// first bytes ends the response early (the client sees an incomplete transfer).
#[utoipa::path(
    get,
    path = "/api/v1/export",
    operation_id = "export",
    tag = "export",
    params(ExportQuery),
    responses(
        (status = 200, description = "The records, streamed", content(
            (String = "text/csv"),
            (String = "application/x-ndjson"),
        )),
        CommonErrors,
    )
)]
pub async fn export(
    State(state): State<AppState>,
    Params(query): Params<ExportQuery>,
) -> Result<Response, ApiError> {
    let filter = query.filter()?;
    let rows = query.rows()?;
    let format = query.format()?;
    let mut batches = state.store.export(filter, rows);
    // The first batch is read before answering, so a bad filter or a database that is down
    // is still an error status, not a broken download.
    let first = match batches.next().await {
        Some(Err(error)) => return Err(error.into()),
        Some(Ok(batch)) => Some(batch),
        None => None,
    };
    let header = match format {
        Format::Csv => Bytes::from(csv_line(rows.fields())),
        Format::Ndjson => Bytes::new(),
    };
    let body = stream::once(async move { Ok::<_, StoreError>(header) })
        .chain(
            stream::iter(first.map(Ok))
                .chain(batches)
                .map(move |batch| {
                    batch.and_then(|batch| {
                        encode(&batch, format).map_err(|error| {
                            StoreError::InvalidArgument(format!("encoding the export: {error}"))
                        })
                    })
                }),
        )
        .inspect(|item| {
            if let Err(error) = item {
                tracing::warn!(%error, "export ended early");
            }
        });
    let (content_type, extension) = match format {
        Format::Csv => ("text/csv; charset=utf-8", "csv"),
        Format::Ndjson => ("application/x-ndjson", "ndjson"),
    };
    let name = format!(
        "attachment; filename=\"newsflow-{}.{extension}\"",
        rows_name(rows)
    );
    let mut response = Body::from_stream(body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&name) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

fn rows_name(rows: ExportRows) -> &'static str {
    match rows {
        ExportRows::Articles => "articles",
        ExportRows::Mentions => "mentions",
        ExportRows::Statements => "statements",
        ExportRows::Stances => "stances",
    }
}

/// One CSV line of `fields`.
fn csv_line(fields: &[&str]) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    // Writing to memory cannot fail.
    let _ = writer.write_record(fields);
    writer.into_inner().unwrap_or_default()
}

/// A batch's records in `format`.
pub fn encode(batch: &ExportBatch, format: Format) -> Result<Bytes, String> {
    match batch {
        ExportBatch::Articles(records) => encode_all(records, format),
        ExportBatch::Mentions(records) => encode_all(records, format),
        ExportBatch::Statements(records) => encode_all(records, format),
        ExportBatch::Stances(records) => encode_all(records, format),
    }
}

fn encode_all<R: Serialize>(records: &[R], format: Format) -> Result<Bytes, String> {
    let mut out = Vec::new();
    match format {
        Format::Csv => {
            let mut writer = csv::WriterBuilder::new()
                .has_headers(false)
                .from_writer(&mut out);
            for record in records {
                writer.serialize(record).map_err(|e| e.to_string())?;
            }
            writer.flush().map_err(|e| e.to_string())?;
        }
        Format::Ndjson => {
            for record in records {
                serde_json::to_writer(&mut out, record).map_err(|e| e.to_string())?;
                out.push(b'\n');
            }
        }
    }
    Ok(Bytes::from(out))
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use newsflow_store::{ArticleRecord, MentionRecord, StanceRecord, StatementRecord};

    use super::*;

    /// The CSV header the store declares is the one the records serialize to.
    fn header_of<R: Serialize>(record: R) -> String {
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer.serialize(record).unwrap();
        let text = String::from_utf8(writer.into_inner().unwrap()).unwrap();
        text.lines().next().unwrap().to_owned()
    }

    fn line(fields: &[&str]) -> String {
        String::from_utf8(csv_line(fields))
            .unwrap()
            .trim_end()
            .to_owned()
    }

    #[test]
    fn declared_fields_match_the_records() {
        let time = Utc.with_ymd_and_hms(2025, 9, 4, 10, 0, 0).unwrap();
        let article = ArticleRecord {
            id: "a".into(),
            time,
            published_at: None,
            ingested_at: time,
            source: String::new(),
            url: String::new(),
            external_id: String::new(),
            language: "en".into(),
            title: "T, \"quoted\"".into(),
            entity_count: 0,
            statement_count: 0,
            stance_count: 0,
            body: "line\nbreak".into(),
        };
        assert_eq!(
            header_of(article.clone()),
            line(ExportRows::Articles.fields())
        );
        let mention = MentionRecord {
            article_id: "a".into(),
            entity_key: "k".into(),
            entity_type: 1,
            canonical_name: "n".into(),
            start: Some(0),
            end: Some(1),
            text: "n".into(),
            kind: 1,
            confidence: 1.0,
        };
        assert_eq!(header_of(mention), line(ExportRows::Mentions.fields()));
        let statement = StatementRecord {
            article_id: "a".into(),
            statement_id: "s1".into(),
            speaker_key: None,
            speaker_name: None,
            speaker_text: String::new(),
            cue: String::new(),
            content: String::new(),
            kind: 1,
            confidence: 1.0,
            speaker_start: None,
            speaker_end: None,
            cue_start: None,
            cue_end: None,
            content_start: None,
            content_end: None,
        };
        assert_eq!(header_of(statement), line(ExportRows::Statements.fields()));
        let stance = StanceRecord {
            article_id: "a".into(),
            holder_key: None,
            holder_name: None,
            target_key: None,
            target_name: None,
            target_topic: Some("t".into()),
            polarity: 1,
            score: -0.5,
            confidence: 0.9,
            method: 1,
            statement_id: None,
            evidence: None,
            evidence_start: None,
            evidence_end: None,
        };
        assert_eq!(header_of(stance), line(ExportRows::Stances.fields()));

        // Quotes, commas and line breaks survive a round trip; types and times are words.
        let bytes = encode(&ExportBatch::Articles(vec![article]), Format::Csv).unwrap();
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(bytes.as_ref());
        let record = reader.records().next().unwrap().unwrap();
        assert_eq!(&record[1], "2025-09-04T10:00:00Z");
        assert_eq!(&record[8], "T, \"quoted\"");
        assert_eq!(&record[12], "line\nbreak");
    }
}
