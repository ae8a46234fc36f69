//! Reading articles to submit: plain text files, JSON (one object or an array), NDJSON, and CSV
//! with a text column, from a file, every file of a folder, or standard input.
//!
//! A JSON article has the fields of the HTTP API (`external_id`, `url`, `source`, `title`,
//! `body`, `language`, `published_at` in RFC 3339) and is read by ingest's own parser. An item that cannot be read becomes an
//! [`Item::Unreadable`] that is reported beside the refused articles, not a reason to stop.

use std::{
    io::Read,
    path::{Path, PathBuf},
};

use anyhow::{Context, bail};
use newsflow_proto::v1::SubmitRequest;

/// How to read an input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// By file extension (`.json`, `.ndjson`/`.jsonl`, `.csv`, anything else is text); standard
    /// input by its first character (`{` or `[`: JSON or NDJSON, else text).
    Auto,
    /// The whole file is one article's body; the file name is its external id.
    Text,
    /// One JSON article or an array of them.
    Json,
    /// One JSON article per line.
    Ndjson,
    /// CSV with a header row.
    Csv,
}

/// Which CSV columns hold what.
#[derive(clap::Args, Clone, Debug)]
pub struct CsvColumns {
    /// CSV column of the article text (default: the first of `body`, `text`, `content`).
    #[arg(long)]
    pub text_column: Option<String>,
    /// CSV column of the title, if any.
    #[arg(long, default_value = "title")]
    pub title_column: String,
    /// CSV column of the external id, if any (default: `<file>:<row>`).
    #[arg(long, default_value = "id")]
    pub id_column: String,
}

/// One article read from the input, or why it could not be.
#[derive(Debug)]
pub enum Item {
    Article(SubmitRequest),
    Unreadable { at: String, message: String },
}

/// Reads every article of `input`: a file, a folder (its files in name order, recursively) or
/// `-` for standard input.
pub fn read(input: &Path, format: Format, columns: &CsvColumns) -> anyhow::Result<Vec<Item>> {
    if input == Path::new("-") {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .context("reading standard input")?;
        let format = match format {
            Format::Auto => sniff(&bytes),
            other => other,
        };
        return Ok(parse(&bytes, format, "stdin", columns));
    }
    let mut files = Vec::new();
    collect_files(input, &mut files)?;
    let mut items = Vec::new();
    for file in files {
        let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
        let format = match format {
            Format::Auto => by_extension(&file),
            other => other,
        };
        items.extend(parse(&bytes, format, &file.display().to_string(), columns));
    }
    Ok(items)
}

fn collect_files(path: &Path, files: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let metadata =
        std::fs::metadata(path).with_context(|| format!("no such file: {}", path.display()))?;
    if metadata.is_file() {
        files.push(path.to_owned());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .with_context(|| format!("reading folder {}", path.display()))?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| {
            !path
                .file_name()
                .is_some_and(|name| name.to_string_lossy().starts_with('.'))
        })
        .collect();
    entries.sort();
    for entry in entries {
        collect_files(&entry, files)?;
    }
    Ok(())
}

fn by_extension(file: &Path) -> Format {
    match file
        .extension()
        .map(|ext| ext.to_string_lossy().to_lowercase())
        .as_deref()
    {
        Some("json") => Format::Json,
        Some("ndjson" | "jsonl") => Format::Ndjson,
        Some("csv") => Format::Csv,
        _ => Format::Text,
    }
}

fn sniff(bytes: &[u8]) -> Format {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]);
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') {
        Format::Json
    } else if trimmed.starts_with('{') {
        // One object may span lines; NDJSON has one per line.
        let first_line = trimmed.lines().next().unwrap_or("");
        if serde_json::from_str::<serde_json::Value>(first_line).is_ok() {
            Format::Ndjson
        } else {
            Format::Json
        }
    } else {
        Format::Text
    }
}

fn parse(bytes: &[u8], format: Format, name: &str, columns: &CsvColumns) -> Vec<Item> {
    let unreadable = |at: String, message: String| vec![Item::Unreadable { at, message }];
    match format {
        Format::Text | Format::Auto => match std::str::from_utf8(bytes) {
            // Ingest checks the body itself (empty, too large); the file name identifies it.
            Ok(text) => vec![Item::Article(SubmitRequest {
                external_id: Path::new(name)
                    .file_name()
                    .map_or_else(|| name.to_owned(), |n| n.to_string_lossy().into_owned()),
                body: text.to_owned(),
                ..Default::default()
            })],
            Err(error) => unreadable(name.to_owned(), format!("not UTF-8: {error}")),
        },
        Format::Json => match serde_json::from_slice::<serde_json::Value>(bytes) {
            Ok(serde_json::Value::Array(values)) => values
                .into_iter()
                .enumerate()
                .map(|(index, value)| json_item(value, format!("{name}[{index}]")))
                .collect(),
            Ok(value) => vec![json_item(value, name.to_owned())],
            Err(error) => unreadable(name.to_owned(), format!("not JSON: {error}")),
        },
        Format::Ndjson => String::from_utf8_lossy(bytes)
            .lines()
            .enumerate()
            .filter(|(_, line)| !line.trim().is_empty())
            .map(|(index, line)| {
                let at = format!("{name}:{}", index + 1);
                match serde_json::from_str(line) {
                    Ok(value) => json_item(value, at),
                    Err(error) => Item::Unreadable {
                        at,
                        message: format!("not JSON: {error}"),
                    },
                }
            })
            .collect(),
        Format::Csv => match csv_items(bytes, name, columns) {
            Ok(items) => items,
            Err(error) => unreadable(name.to_owned(), format!("{error:#}")),
        },
    }
}

fn json_item(value: serde_json::Value, at: String) -> Item {
    match newsflow_article::json::parse(value) {
        Ok(request) => Item::Article(request),
        Err(error) => Item::Unreadable {
            at,
            message: error.to_string(),
        },
    }
}

fn csv_items(bytes: &[u8], name: &str, columns: &CsvColumns) -> anyhow::Result<Vec<Item>> {
    let mut reader = csv::Reader::from_reader(bytes);
    let headers = reader.headers().context("reading the CSV header")?.clone();
    let find = |column: &str| headers.iter().position(|h| h.trim() == column);
    let text = match &columns.text_column {
        Some(column) => find(column).with_context(|| {
            format!(
                "no column {column:?} in {:?}",
                headers.iter().collect::<Vec<_>>()
            )
        })?,
        None => ["body", "text", "content"]
            .iter()
            .find_map(|column| find(column))
            .with_context(|| {
                format!(
                    "no text column (body, text or content) in {:?}; name one with --text-column",
                    headers.iter().collect::<Vec<_>>()
                )
            })?,
    };
    let title = find(&columns.title_column);
    let id = find(&columns.id_column);
    let file = Path::new(name)
        .file_name()
        .map_or_else(|| name.to_owned(), |n| n.to_string_lossy().into_owned());
    let mut items = Vec::new();
    for (row, record) in reader.records().enumerate() {
        let at = format!("{name}:{}", row + 2);
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                items.push(Item::Unreadable {
                    at,
                    message: error.to_string(),
                });
                continue;
            }
        };
        let field =
            |index: Option<usize>| index.and_then(|i| record.get(i)).unwrap_or("").to_owned();
        let external_id = match id {
            Some(_) => field(id),
            None => format!("{file}:{}", row + 2),
        };
        items.push(Item::Article(SubmitRequest {
            external_id,
            title: field(title),
            body: field(Some(text)),
            ..Default::default()
        }));
    }
    if items.is_empty() {
        bail!("no rows");
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns() -> CsvColumns {
        CsvColumns {
            text_column: None,
            title_column: "title".into(),
            id_column: "id".into(),
        }
    }

    fn articles(items: &[Item]) -> Vec<&SubmitRequest> {
        items
            .iter()
            .filter_map(|item| match item {
                Item::Article(request) => Some(request),
                Item::Unreadable { .. } => None,
            })
            .collect()
    }

    #[test]
    fn json_object_array_and_ndjson() {
        let one = parse(
            br#"{"title": "T", "body": "B"}"#,
            Format::Json,
            "a.json",
            &columns(),
        );
        assert_eq!(articles(&one)[0].title, "T");
        let many = parse(
            br#"[{"body": "x"}, {"bdy": "typo"}, {"body": "y"}]"#,
            Format::Json,
            "a.json",
            &columns(),
        );
        assert_eq!(articles(&many).len(), 2);
        assert!(
            matches!(&many[1], Item::Unreadable { at, message } if at == "a.json[1]" && message.contains("bdy"))
        );
        let lines = parse(b"{\"body\": \"x\"}\n\nnot json\n{\"body\": \"z\", \"published_at\": \"2025-09-04T10:00:00Z\"}\n", Format::Ndjson, "a.ndjson", &columns());
        assert_eq!(lines.len(), 3);
        assert!(matches!(&lines[1], Item::Unreadable { at, .. } if at == "a.ndjson:3"));
        assert_eq!(
            articles(&lines)[1].published_at.unwrap().seconds,
            1_756_980_000
        );
    }

    #[test]
    fn csv_finds_its_text_column_or_says_which_are_there() {
        let items = parse(
            b"text,category\n\"A, b.\",business\nC.,tech\n",
            Format::Csv,
            "d/val.csv",
            &columns(),
        );
        let found = articles(&items);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].body, "A, b.");
        assert_eq!(found[1].external_id, "val.csv:3");
        let missing = parse(
            b"headline,category\nx,y\n",
            Format::Csv,
            "x.csv",
            &columns(),
        );
        assert!(
            matches!(&missing[0], Item::Unreadable { message, .. } if message.contains("headline"))
        );
    }

    #[test]
    fn text_files_and_sniffing() {
        let items = parse(
            "Putin spoke.".as_bytes(),
            Format::Text,
            "dir/a.txt",
            &columns(),
        );
        assert_eq!(articles(&items)[0].external_id, "a.txt");
        assert!(matches!(
            parse(&[0xff, 0xfe], Format::Text, "b.txt", &columns())[0],
            Item::Unreadable { .. }
        ));
        assert_eq!(sniff(b"  [{\"body\": 1}]"), Format::Json);
        assert_eq!(
            sniff(b"{\"body\": \"a\"}\n{\"body\": \"b\"}"),
            Format::Ndjson
        );
        assert_eq!(sniff(b"{\n \"body\": \"a\"\n}"), Format::Json);
        assert_eq!(sniff(b"Plain words."), Format::Text);
    }
}
