//! Reading CoNLL-2003 style files: one `TOKEN TAG` line per token (extra middle columns are
//! ignored, the tag is the last column), a blank line ends a sentence, `-DOCSTART-` lines
//! separate documents.

use crate::error::NlpError;
use std::path::Path;

/// One sentence: tokens and their gold BIO tags, the same length.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaggedSentence {
    /// Token texts.
    pub tokens: Vec<String>,
    /// BIO tags ("O", "B-PER", "I-PER", ...).
    pub tags: Vec<String>,
}

/// One document: its sentences in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaggedDocument {
    /// Sentences in order.
    pub sentences: Vec<TaggedSentence>,
}

/// Reads a CoNLL file into documents.
pub fn read_file(path: &Path) -> Result<Vec<TaggedDocument>, NlpError> {
    let text = std::fs::read_to_string(path).map_err(|e| NlpError::io(path, e))?;
    parse(&text).map_err(|(line, message)| NlpError::Conll {
        path: path.to_path_buf(),
        line,
        message,
    })
}

/// Parses CoNLL text; errors carry the 1-based line number and a message.
pub fn parse(text: &str) -> Result<Vec<TaggedDocument>, (usize, String)> {
    let mut docs: Vec<TaggedDocument> = Vec::new();
    let mut current = TaggedDocument::default();
    let mut sentence = TaggedSentence::default();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            if !sentence.tokens.is_empty() {
                current.sentences.push(std::mem::take(&mut sentence));
            }
            continue;
        }
        let mut cols = line.split_whitespace();
        let token = cols.next().unwrap_or_default();
        if token == "-DOCSTART-" {
            if !sentence.tokens.is_empty() {
                current.sentences.push(std::mem::take(&mut sentence));
            }
            if !current.sentences.is_empty() {
                docs.push(std::mem::take(&mut current));
            }
            continue;
        }
        let Some(tag) = cols.next_back() else {
            return Err((n + 1, format!("expected `TOKEN TAG`, found {line:?}")));
        };
        if tag != "O" && !(tag.starts_with("B-") || tag.starts_with("I-")) || tag.len() == 2 {
            return Err((n + 1, format!("not a BIO tag: {tag:?}")));
        }
        sentence.tokens.push(token.to_string());
        sentence.tags.push(tag.to_string());
    }
    if !sentence.tokens.is_empty() {
        current.sentences.push(sentence);
    }
    if !current.sentences.is_empty() {
        docs.push(current);
    }
    Ok(docs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_documents_and_sentences() {
        let text = "-DOCSTART- O\n\nEU B-ORG\nrejects O\n\nPeter B-PER\nBlackburn I-PER\n\n\
                    -DOCSTART- O\n\nBRUSSELS B-LOC\n";
        let docs = parse(text).expect("parse");
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].sentences.len(), 2);
        assert_eq!(docs[0].sentences[1].tags, vec!["B-PER", "I-PER"]);
        assert_eq!(docs[1].sentences[0].tokens, vec!["BRUSSELS"]);
    }

    #[test]
    fn rejects_malformed_lines() {
        assert_eq!(parse("EU\n").map_err(|e| e.0), Err(1));
        assert_eq!(parse("EU X-ORG\n").map_err(|e| e.0), Err(1));
    }
}
