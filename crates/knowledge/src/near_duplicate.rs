//! Near-duplicate signatures of article texts: MinHash over word shingles, with LSH band keys
//! for finding candidates by a database index.
//!
//! An article is a near-duplicate of a stored one (a wire copy with a new headline, a trimmed
//! ending, another byline) when the estimated Jaccard similarity of their word-shingle sets is
//! at least [`THRESHOLD`]. Storing an article means: compute its [`signature`], look up stored
//! articles that share any of its [`band_keys`] (one indexed equality lookup per key), and keep
//! those whose [`similarity`] is at least [`THRESHOLD`]; [`is_near_duplicate`] is that rule for
//! two signatures in hand.
//!
//! - Words: maximal runs of Unicode alphanumeric characters, lowercased; everything else
//!   (punctuation, quotes, whitespace) separates words and is dropped. "Blair's" is two words.
//! - Shingles: every run of [`SHINGLE_WORDS`] consecutive words. One edited word changes at
//!   most five shingles, so a new headline or a few typos in a 300-word article leave the
//!   similarity near 0.9, while the stock three- and four-word phrases of news prose ("the
//!   prime minister said") do not count as shared text. On the BBC pairs of
//!   `tests/near-duplicates` any length from 3 to 6 separates the classes about as well (exact
//!   Jaccard of the closest different articles, a follow-up story: 0.24 at 3, 0.22 at 5; of
//!   the least similar natural copy: 0.63 and 0.62); 5 is the common choice for news text.
//! - A text of fewer than [`SHINGLE_WORDS`] words is one shingle of all its words: two short
//!   texts then match only when their words are identical, never on a shared word or two. A
//!   text without any word has the empty signature, which matches nothing (not even another
//!   empty text) and has no band keys.
//! - Only the first [`MAX_WORDS`] words are shingled, which bounds the work on a hostile input;
//!   everything is linear in the input up to that bound (a signature costs one hash per word
//!   and [`NUM_HASHES`] hashes per shingle).
//! - MinHash: [`NUM_HASHES`] hash functions, each the minimum over the shingles of a seeded
//!   64-bit mix of the shingle's hash. The estimate of a Jaccard similarity `J` has a standard
//!   deviation of `sqrt(J(1-J)/126)`: 0.045 at 0.5.
//!
//! The hashes are written out here (FNV-1a over the UTF-8 bytes of each lowercased word, then
//! the SplitMix64 finalizer; fixed seeds) rather than taken from `std` (whose `DefaultHasher`
//! may change between Rust releases) or a hashing crate, because signatures and band keys are
//! stored in the database and must be the same in every process and every later version. The
//! MinHash crates on crates.io were not a fit: `datasketch-minhash-lsh` (0.0.1) calls itself a
//! partial port "at your own risk" and pulls `rand` 0.7, `lshdedup-core` (0.1) keeps its own
//! in-memory index; neither gives a stable byte form or keys for a database index, and the code
//! below is short. Changing any constant here changes every signature: bump
//! [`SIGNATURE_VERSION`] and recompute the stored ones.

/// Words per shingle (see the module documentation for why five).
pub const SHINGLE_WORDS: usize = 5;

/// Words read from a text; the rest of a longer text is not shingled.
pub const MAX_WORDS: usize = 20_000;

/// LSH bands, each of [`ROWS_PER_BAND`] consecutive MinHash values.
pub const BANDS: usize = 42;

/// MinHash values per LSH band.
pub const ROWS_PER_BAND: usize = 3;

/// MinHash values in a signature: every value belongs to exactly one band.
pub const NUM_HASHES: usize = BANDS * ROWS_PER_BAND;

/// Bytes of [`Signature::to_bytes`]: each value as 8 little-endian bytes.
pub const SIGNATURE_BYTES: usize = NUM_HASHES * 8;

/// The version of the hashing scheme; stored signatures of another version are not comparable.
pub const SIGNATURE_VERSION: u16 = 1;

/// Estimated Jaccard similarity at or above which two texts are near-duplicates.
///
/// Measured with `newsflow eval duplicates` on 261 team-made pairs of BBC articles: edited
/// copies (a new headline, the last sentences trimmed, a sentence dropped, a byline, dateline
/// and wire boilerplate added, typos) score 0.45 to 1.0 (median 0.89), copies already in the
/// BBC set (one cut to its first 60%) 0.66 to 1.0; different articles on the same subject
/// score at most 0.03, with the same wire boilerplate added to both at most 0.09, and
/// follow-up stories at most 0.24. 0.5 means a copy keeps about half of the text, and sits
/// more than six standard deviations of estimate noise above the closest different articles.
/// A copy that keeps less than about half of its shingles is not linked: two short copies of
/// the set (142 and 195 words, each with a new headline, two or three sentences cut, one with
/// five typos and a byline) score 0.45 and 0.48.
///
/// A pair becomes an LSH candidate (shares at least one of the 42 bands of 3 rows) with
/// probability `1 - (1 - J^3)^42`, the S-curve: J 0.05: 0.005, 0.1: 0.041, 0.2: 0.29,
/// 0.3: 0.68, 0.4: 0.938, 0.45: 0.982, **0.5: 0.9963**, 0.6: 0.99996. So a pair at the
/// threshold is found with probability above 0.99, while a typical same-subject pair (J under
/// 0.05) costs a candidate lookup in fewer than 1 of 190 cases.
pub const THRESHOLD: f64 = 0.5;

/// A wrong-length byte form of a signature.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a near-duplicate signature is {expected} bytes, got {found}")]
pub struct SignatureLengthError {
    /// [`SIGNATURE_BYTES`].
    pub expected: usize,
    /// The length given.
    pub found: usize,
}

/// The MinHash signature of a text: [`NUM_HASHES`] minima, one per seeded hash function.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Signature {
    minima: [u64; NUM_HASHES],
}

impl Signature {
    /// The signature of a text without words: every minimum still at its start value.
    const EMPTY: Signature = Signature {
        minima: [u64::MAX; NUM_HASHES],
    };

    /// Whether the text had no word; such a signature matches nothing.
    pub fn is_empty(&self) -> bool {
        self == &Self::EMPTY
    }

    /// The MinHash values, in order.
    pub fn values(&self) -> &[u64; NUM_HASHES] {
        &self.minima
    }

    /// The [`SIGNATURE_BYTES`] bytes stored in the database: the values as little-endian u64.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.minima.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    /// A signature back from [`Signature::to_bytes`]; an error, never a panic, on any other
    /// length.
    pub fn from_bytes(bytes: &[u8]) -> Result<Signature, SignatureLengthError> {
        if bytes.len() != SIGNATURE_BYTES {
            return Err(SignatureLengthError {
                expected: SIGNATURE_BYTES,
                found: bytes.len(),
            });
        }
        let mut minima = [0u64; NUM_HASHES];
        for (value, chunk) in minima.iter_mut().zip(bytes.chunks_exact(8)) {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            *value = u64::from_le_bytes(word);
        }
        Ok(Signature { minima })
    }
}

/// The near-duplicate signature of a text (an article's body, headline included).
pub fn signature(text: &str) -> Signature {
    let words = word_hashes(text);
    let mut minima = [u64::MAX; NUM_HASHES];
    let mut add_shingle = |shingle: &[u64]| {
        let shingle_hash = shingle
            .iter()
            .fold(SHINGLE_SEED, |hash, &word| mix(hash ^ word));
        for (minimum, seed) in minima.iter_mut().zip(&PERMUTATION_SEEDS) {
            *minimum = (*minimum).min(mix(shingle_hash ^ seed));
        }
    };
    if words.is_empty() {
        return Signature::EMPTY;
    } else if words.len() < SHINGLE_WORDS {
        add_shingle(&words);
    } else {
        words.windows(SHINGLE_WORDS).for_each(add_shingle);
    }
    Signature { minima }
}

/// The estimated Jaccard similarity of the two texts' shingle sets: the share of equal MinHash
/// values, in [0, 1]. 0 when either text had no word.
pub fn similarity(a: &Signature, b: &Signature) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let equal = a
        .minima
        .iter()
        .zip(&b.minima)
        .filter(|(x, y)| x == y)
        .count();
    equal as f64 / NUM_HASHES as f64
}

/// The LSH band keys of a signature, one per band, for an indexed lookup of candidates: two
/// signatures share the key of band `i` exactly when their values in band `i` are all equal
/// (up to 64-bit collisions). Each key hashes the band's index with its values, so equal values
/// in different bands give different keys and one index column serves all bands. Empty for the
/// empty signature, which is nobody's candidate.
pub fn band_keys(sig: &Signature) -> Vec<i64> {
    if sig.is_empty() {
        return Vec::new();
    }
    sig.minima
        .chunks_exact(ROWS_PER_BAND)
        .enumerate()
        .map(|(band, rows)| {
            let start = mix(BAND_SEED ^ band as u64);
            // The key is a bit pattern; `as` keeps all 64 bits for a BIGINT column.
            rows.iter().fold(start, |hash, &value| mix(hash ^ value)) as i64
        })
        .collect()
}

/// The database's rule for two signatures: they share a band key (the lookup finds the pair)
/// and their similarity is at least [`THRESHOLD`].
pub fn is_near_duplicate(a: &Signature, b: &Signature) -> bool {
    let keys = band_keys(a);
    let shares_band = band_keys(b).iter().zip(&keys).any(|(x, y)| x == y);
    shares_band && similarity(a, b) >= THRESHOLD
}

/// Start of a shingle's hash chain.
const SHINGLE_SEED: u64 = 0x6e65_7773_666c_6f77; // "newsflow"
/// Start of the seed sequence of the hash functions.
const PERMUTATION_SEED: u64 = 0x6d69_6e68_6173_6831; // "minhash1"
/// Start of a band key's hash chain.
const BAND_SEED: u64 = 0x6c73_6862_616e_6473; // "lshbands"

/// One seed per MinHash function: the SplitMix64 sequence from [`PERMUTATION_SEED`].
const PERMUTATION_SEEDS: [u64; NUM_HASHES] = {
    let mut seeds = [0u64; NUM_HASHES];
    let mut i = 0;
    while i < NUM_HASHES {
        seeds[i] = mix(PERMUTATION_SEED.wrapping_add((i as u64 + 1).wrapping_mul(GOLDEN_GAMMA)));
        i += 1;
    }
    seeds
};

/// SplitMix64's increment (2^64 / golden ratio, odd).
const GOLDEN_GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

/// The SplitMix64 finalizer: a bijection of u64 whose every output bit depends on every input
/// bit, so `mix(x ^ seed)` for different seeds behave as independent hash functions.
const fn mix(x: u64) -> u64 {
    let mut z = x;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The hash of each word of the text (up to [`MAX_WORDS`]), in order, without allocating the
/// words themselves: FNV-1a over the UTF-8 bytes of the lowercased word, then [`mix`].
fn word_hashes(text: &str) -> Vec<u64> {
    const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hashes = Vec::new();
    let mut current: Option<u64> = None;
    let mut utf8 = [0u8; 4];
    for c in text.chars() {
        if c.is_alphanumeric() {
            let mut hash = current.unwrap_or(FNV_OFFSET);
            for lower in c.to_lowercase() {
                for &byte in lower.encode_utf8(&mut utf8).as_bytes() {
                    hash = (hash ^ u64::from(byte)).wrapping_mul(FNV_PRIME);
                }
            }
            current = Some(hash);
        } else if let Some(hash) = current.take() {
            hashes.push(mix(hash));
            if hashes.len() == MAX_WORDS {
                return hashes;
            }
        }
    }
    if let Some(hash) = current {
        hashes.push(mix(hash));
    }
    hashes
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARTICLE: &str = "Laura Ashley chief stepping down Laura Ashley is parting company \
        with its chief executive Ainum Mohd-Saaid. The clothing and home furnishing retailer \
        said Ms Mohd-Saaid had resigned for personal reasons. Her departure will come into \
        effect on 1 February and follows the departure of co-chief executive Rebecca \
        Navarednam on 1 January. Ms Mohd-Saaid is to be replaced by Lillian Tan, presently a \
        non-executive director of the company and head of a Malaysian retailer. In a statement \
        issued on Thursday, Laura Ashley thanked Ms Mohd-Saaid for her services to the company. \
        The retailer has struggled to win back shoppers after a run of weak Christmas trading, \
        and analysts said the board would now look for a steady hand. Its shares were down \
        8.51% to 21.5 pence in afternoon trading in London.";

    const UNRELATED: &str = "Roger Federer added the Dubai Championship trophy to his long \
        list of successes, but not before he was given a test by Ivan Ljubicic. Top seed \
        Federer looked to be on course for an easy victory when he thumped the eighth seed 6-1 \
        in the first set. But Ljubicic, who beat Tim Henman in the last eight, dug deep to \
        secure the second set after a tense tiebreak.";

    #[test]
    fn identical_texts_have_similarity_one() {
        let a = signature(ARTICLE);
        assert_eq!(similarity(&a, &signature(ARTICLE)), 1.0);
        assert!(is_near_duplicate(&a, &signature(ARTICLE)));
        // Case, punctuation and spacing are not words.
        let shouted = ARTICLE.to_uppercase().replace(['.', ','], " ; ");
        assert_eq!(similarity(&a, &signature(&shouted)), 1.0);
    }

    #[test]
    fn a_copy_with_a_new_headline_and_without_its_last_sentence_is_a_near_duplicate() {
        let body = ARTICLE
            .strip_prefix("Laura Ashley chief stepping down")
            .expect("the headline");
        let trimmed = &body[..body.rfind(" Its shares").expect("the last sentence")];
        let copy =
            format!("By Jane Smith, Reuters LONDON (Reuters) - Laura Ashley CEO quits{trimmed}");
        let (a, b) = (signature(ARTICLE), signature(&copy));
        let score = similarity(&a, &b);
        assert!(score >= THRESHOLD, "{score}");
        assert!(is_near_duplicate(&a, &b));
    }

    #[test]
    fn unrelated_texts_score_near_zero() {
        let score = similarity(&signature(ARTICLE), &signature(UNRELATED));
        assert!(score < 0.05, "{score}");
        assert!(!is_near_duplicate(
            &signature(ARTICLE),
            &signature(UNRELATED)
        ));
    }

    #[test]
    fn bytes_round_trip_and_a_wrong_length_is_an_error() {
        let sig = signature(ARTICLE);
        let bytes = sig.to_bytes();
        assert_eq!(bytes.len(), SIGNATURE_BYTES);
        assert_eq!(Signature::from_bytes(&bytes), Ok(sig));
        for wrong in [0, 1, SIGNATURE_BYTES - 1, SIGNATURE_BYTES + 8] {
            assert_eq!(
                Signature::from_bytes(&vec![0u8; wrong]),
                Err(SignatureLengthError {
                    expected: SIGNATURE_BYTES,
                    found: wrong
                })
            );
        }
    }

    #[test]
    fn band_keys_of_identical_signatures_are_identical_and_include_the_band() {
        let keys = band_keys(&signature(ARTICLE));
        assert_eq!(keys.len(), BANDS);
        assert_eq!(keys, band_keys(&signature(ARTICLE)));
        // A signature whose bands all hold the same values still has a key per band.
        let flat = Signature {
            minima: [7; NUM_HASHES],
        };
        let flat_keys: std::collections::HashSet<i64> = band_keys(&flat).into_iter().collect();
        assert_eq!(flat_keys.len(), BANDS);
    }

    #[test]
    fn the_hashes_are_the_same_in_every_process_and_version() {
        // Stored signatures and keys depend on these exact values: a change here needs a new
        // SIGNATURE_VERSION and recomputed signatures.
        let sig = signature("the quick brown fox jumps over the lazy dog");
        assert_eq!(
            sig.values()[0],
            0x062d_766e_42a2_0315,
            "{:#x}",
            sig.values()[0]
        );
        assert_eq!(
            band_keys(&sig)[0],
            3_826_007_951_792_971_613,
            "{}",
            band_keys(&sig)[0]
        );
    }

    #[test]
    fn short_and_empty_texts_do_not_link_different_texts() {
        // Fewer words than a shingle: one shingle of the whole text.
        let short = signature("Markets fall");
        assert_eq!(similarity(&short, &signature("markets, fall!")), 1.0);
        assert_eq!(similarity(&short, &signature("Markets rise")), 0.0);
        // No words: matches nothing, not even itself, and is nobody's candidate.
        let empty = signature(" -- ... ");
        assert!(empty.is_empty());
        assert_eq!(similarity(&empty, &signature("")), 0.0);
        assert!(band_keys(&empty).is_empty());
        assert!(!is_near_duplicate(&empty, &empty));
    }

    #[test]
    fn long_texts_are_shingled_up_to_the_word_cap() {
        let words: String = (0..MAX_WORDS + 500).map(|i| format!("w{i} ")).collect();
        let capped: String = (0..MAX_WORDS).map(|i| format!("w{i} ")).collect();
        assert_eq!(signature(&words), signature(&capped));
    }
}
