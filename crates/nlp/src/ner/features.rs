//! Feature extraction for the NER tagger: every feature is a 64-bit hash of a template id and
//! the strings it combines, so extraction allocates nothing per feature and the model stores
//! hashes instead of feature strings.
//!
//! Templates: word, lowercased word (digits as `0`), word shape and its short form, prefixes
//! and suffixes of 1-4 characters, the words and shapes in a window of two on each side,
//! word bigrams, a shape trigram, flags (digits, hyphen, period, capitals, sentence-initial
//! capital) and an all-capital-sentence (headline) flag, alone and crossed with the word and
//! shape, because in headlines capitalization says nothing about names.
//!
//! Document context ([`DocContext`]): how the same word is written elsewhere in the document,
//! away from sentence starts and headlines (capitalized, lowercase, all capitals), which tells
//! a name at the start of a sentence or in a headline from an ordinary word; and, for a
//! capitalized word, the words around its other occurrences ("context aggregation", Ratinov
//! and Roth 2009), since "Peskov said" elsewhere in the article helps tag "Peskov" here.

/// Bumped whenever templates change, so an old model file is rejected instead of silently
/// scoring the wrong features.
pub const FEATURE_VERSION: u32 = 3;

const SEED: u64 = 0xcbf2_9ce4_8422_2325;
const PRIME: u64 = 0x0000_0100_0000_01b3;

use std::collections::HashMap;

/// FNV-1a over the parts with a separator between them, finished with a SplitMix64 mix so the
/// low bits (used by the hash map) are well spread.
fn hash_parts(template: u64, parts: &[&str]) -> u64 {
    let mut h = SEED ^ template.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    for p in parts {
        for b in p.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(PRIME);
        }
        h ^= 0xFF;
        h = h.wrapping_mul(PRIME);
    }
    mix(h)
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Per-token strings computed once per sentence.
struct TokenInfo {
    form: String,
    lower: String,
    shape: String,
    short_shape: String,
    has_digit: bool,
    has_hyphen: bool,
    has_period: bool,
    has_alpha: bool,
    init_cap: bool,
    all_caps: bool,
    all_digits: bool,
}

/// Maps typographic quotes and dashes to the ASCII forms of the training data.
fn ascii_form(token: &str) -> String {
    token
        .chars()
        .map(|c| match c {
            '’' | '‘' | '‚' | '′' => '\'',
            '“' | '”' | '„' | '«' | '»' => '"',
            '–' | '—' => '-',
            _ => c,
        })
        .collect()
}

fn shape_of(form: &str) -> String {
    form.chars()
        .map(|c| {
            if c.is_uppercase() {
                'X'
            } else if c.is_lowercase() {
                'x'
            } else if c.is_numeric() {
                'd'
            } else {
                c
            }
        })
        .collect()
}

fn short_shape_of(shape: &str) -> String {
    let mut out = String::with_capacity(shape.len());
    let mut last = None;
    for c in shape.chars() {
        if Some(c) != last {
            out.push(c);
        }
        last = Some(c);
    }
    out
}

impl TokenInfo {
    fn new(token: &str) -> Self {
        let form = ascii_form(token);
        let lower: String = form
            .chars()
            .flat_map(char::to_lowercase)
            .map(|c| if c.is_ascii_digit() { '0' } else { c })
            .collect();
        let shape = shape_of(&form);
        let short_shape = short_shape_of(&shape);
        let has_alpha = form.chars().any(char::is_alphabetic);
        Self {
            has_digit: form.chars().any(|c| c.is_ascii_digit()),
            has_hyphen: form.contains('-'),
            has_period: form.contains('.'),
            init_cap: form.chars().next().is_some_and(char::is_uppercase),
            all_caps: has_alpha && !form.chars().any(char::is_lowercase),
            all_digits: form.chars().all(|c| c.is_ascii_digit()),
            has_alpha,
            form,
            lower,
            shape,
            short_shape,
        }
    }
}

/// Whether a sentence is set in capitals (a headline): no lowercase letter and some words of
/// more than one letter.
fn is_headline(infos: &[TokenInfo]) -> bool {
    let long_words = infos
        .iter()
        .filter(|t| t.has_alpha && t.form.chars().count() > 1)
        .count();
    long_words >= 2 && infos.iter().all(|t| !t.has_alpha || t.all_caps)
}

const SEEN_CAPITALIZED: u8 = 1;
const SEEN_LOWERCASE: u8 = 2;
const SEEN_ALL_CAPS: u8 = 4;

/// How each word (lowercased) is written in a document where its case is informative: not
/// sentence-initial, not in a headline.
#[derive(Debug, Clone, Default)]
pub struct DocContext {
    casing: HashMap<String, u8>,
    /// For capitalized words: the lowercased words before and after their occurrences.
    neighbours: HashMap<String, Vec<(String, String)>>,
}

/// At most this many occurrences of a word feed its aggregated context.
const MAX_OCCURRENCES: usize = 8;

impl DocContext {
    /// The context of a document given as its sentences' tokens.
    pub fn new<T: AsRef<[S]>, S: AsRef<str>>(sentences: &[T]) -> Self {
        let mut casing: HashMap<String, u8> = HashMap::new();
        let mut neighbours: HashMap<String, Vec<(String, String)>> = HashMap::new();
        for sentence in sentences {
            let infos: Vec<TokenInfo> = sentence
                .as_ref()
                .iter()
                .map(|t| TokenInfo::new(t.as_ref()))
                .collect();
            for (i, t) in infos.iter().enumerate() {
                if !(t.has_alpha && t.init_cap) {
                    continue;
                }
                let occ = neighbours.entry(t.lower.clone()).or_default();
                if occ.len() < MAX_OCCURRENCES {
                    let prev = i.checked_sub(1).map_or(BOS, |j| infos[j].lower.as_str());
                    let next = infos.get(i + 1).map_or(EOS, |n| n.lower.as_str());
                    occ.push((prev.to_string(), next.to_string()));
                }
            }
            if is_headline(&infos) {
                continue;
            }
            for t in infos.into_iter().skip(1) {
                if !t.has_alpha {
                    continue;
                }
                let flag = if t.all_caps && t.form.chars().count() > 1 {
                    SEEN_ALL_CAPS
                } else if t.init_cap {
                    SEEN_CAPITALIZED
                } else if !t.form.chars().any(char::is_uppercase) {
                    SEEN_LOWERCASE
                } else {
                    continue;
                };
                *casing.entry(t.lower).or_default() |= flag;
            }
        }
        Self { casing, neighbours }
    }

    fn flags(&self, lower: &str) -> u8 {
        self.casing.get(lower).copied().unwrap_or(0)
    }
}

/// The features of every token of a sentence.
pub struct SentenceFeatures {
    /// Feature hashes of token `i` are `hashes[offsets[i]..offsets[i + 1]]`.
    pub hashes: Vec<u64>,
    /// Start of each token's features in `hashes`, plus the end.
    pub offsets: Vec<usize>,
}

impl SentenceFeatures {
    /// Number of tokens.
    pub fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// Whether the sentence has no tokens.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The features of token `i`.
    pub fn token(&self, i: usize) -> &[u64] {
        &self.hashes[self.offsets[i]..self.offsets[i + 1]]
    }
}

const BOS: &str = "<s>";
const EOS: &str = "</s>";

/// Extracts the features of every token of `tokens`, a sentence of the document `ctx`
/// describes.
pub fn extract<S: AsRef<str>>(tokens: &[S], ctx: &DocContext) -> SentenceFeatures {
    let infos: Vec<TokenInfo> = tokens.iter().map(|t| TokenInfo::new(t.as_ref())).collect();
    let headline = is_headline(&infos);
    let n = infos.len();
    let mut hashes = Vec::with_capacity(n * 48);
    let mut offsets = Vec::with_capacity(n + 1);
    // A field of the token at `j`, or the sentence boundary before or after the sentence.
    let field_at = |j: isize, field: fn(&TokenInfo) -> &str| -> &str {
        if j < 0 {
            BOS
        } else if j as usize >= n {
            EOS
        } else {
            field(&infos[j as usize])
        }
    };
    let lower_at = |j: isize| field_at(j, |info| &info.lower);
    let shape_at = |j: isize| field_at(j, |info| &info.short_shape);
    for (i, t) in infos.iter().enumerate() {
        offsets.push(hashes.len());
        let ii = i as isize;
        let mut f = |template: u64, parts: &[&str]| hashes.push(hash_parts(template, parts));
        f(0, &[]);
        f(1, &[&t.form]);
        f(2, &[&t.lower]);
        f(3, &[&t.shape]);
        f(4, &[&t.short_shape]);
        let bounds: Vec<usize> = t
            .form
            .char_indices()
            .map(|(b, _)| b)
            .chain(std::iter::once(t.form.len()))
            .collect();
        let chars = bounds.len() - 1;
        for k in 1..=4usize.min(chars) {
            f(4 + k as u64, &[&t.form[..bounds[k]]]);
            f(8 + k as u64, &[&t.form[bounds[chars - k]..]]);
        }
        f(13, &[lower_at(ii - 1)]);
        f(14, &[lower_at(ii - 2)]);
        f(15, &[lower_at(ii + 1)]);
        f(16, &[lower_at(ii + 2)]);
        f(17, &[shape_at(ii - 1)]);
        f(18, &[shape_at(ii - 2)]);
        f(19, &[shape_at(ii + 1)]);
        f(20, &[shape_at(ii + 2)]);
        f(21, &[lower_at(ii - 1), &t.lower]);
        f(22, &[&t.lower, lower_at(ii + 1)]);
        f(23, &[shape_at(ii - 1), &t.short_shape, shape_at(ii + 1)]);
        f(24, &[&t.short_shape, lower_at(ii - 1)]);
        f(25, &[&t.short_shape, lower_at(ii + 1)]);
        f(26, &[lower_at(ii - 2), lower_at(ii - 1)]);
        f(27, &[lower_at(ii + 1), lower_at(ii + 2)]);
        if headline {
            f(30, &[]);
            f(31, &[&t.lower]);
            f(32, &[&t.short_shape]);
        }
        if i == 0 {
            f(33, &[&t.lower]);
            if t.init_cap {
                f(34, &[]);
            }
        }
        if t.has_digit {
            f(35, &[]);
        }
        if t.all_digits {
            f(36, &[&t.form.len().min(6).to_string()]);
        }
        if t.has_hyphen {
            f(37, &[]);
        }
        if t.has_period {
            f(38, &[]);
        }
        if t.init_cap {
            f(39, &[]);
        }
        if t.all_caps {
            f(40, &[]);
        }
        f(41, &[&chars.min(10).to_string()]);
        if t.has_alpha {
            let flags = ctx.flags(&t.lower).to_string();
            f(42, &[&flags]);
            f(43, &[&flags, &t.short_shape]);
            if i == 0 || headline {
                f(44, &[&flags, if headline { "h" } else { "s" }]);
            }
        }
        if t.init_cap
            && let Some(occ) = ctx.neighbours.get(&t.lower)
        {
            for (prev, next) in occ {
                f(45, &[prev]);
                f(46, &[next]);
            }
        }
    }
    offsets.push(hashes.len());
    SentenceFeatures { hashes, offsets }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_input_same_features_and_templates_differ() {
        let ctx = DocContext::default();
        let a = extract(&["Vladimir", "Putin", "said"], &ctx);
        let b = extract(&["Vladimir", "Putin", "said"], &ctx);
        assert_eq!(a.hashes, b.hashes);
        assert_eq!(a.len(), 3);
        // The same string under two templates hashes differently.
        assert_ne!(hash_parts(1, &["x"]), hash_parts(2, &["x"]));
        assert_ne!(hash_parts(21, &["ab", "c"]), hash_parts(21, &["a", "bc"]));
    }

    #[test]
    fn document_context_records_informative_casing() {
        let ctx = DocContext::new(&[
            vec!["TRUMP", "WINS", "VOTE"],
            vec!["Trump", "said", "Trump", "would", "trump", "it"],
        ]);
        assert_eq!(ctx.flags("trump"), SEEN_CAPITALIZED | SEEN_LOWERCASE);
        assert_eq!(ctx.flags("wins"), 0);
        assert_eq!(ctx.flags("said"), SEEN_LOWERCASE);
        assert_eq!(
            ctx.neighbours["trump"],
            vec![
                ("<s>".to_string(), "wins".to_string()),
                ("<s>".to_string(), "said".to_string()),
                ("said".to_string(), "would".to_string())
            ]
        );
    }

    #[test]
    fn headline_flag_and_typographic_forms() {
        assert!(is_headline(&[
            TokenInfo::new("JAPAN"),
            TokenInfo::new("WIN")
        ]));
        assert!(!is_headline(&[
            TokenInfo::new("Japan"),
            TokenInfo::new("WIN")
        ]));
        assert_eq!(TokenInfo::new("’s").form, "'s");
        assert_eq!(TokenInfo::new("Sept.4").shape, "Xxxx.d");
        assert_eq!(TokenInfo::new("1996").lower, "0000");
        let empty: [&str; 0] = [];
        assert!(extract(&empty, &DocContext::default()).is_empty());
    }
}
