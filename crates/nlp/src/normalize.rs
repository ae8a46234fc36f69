//! Text normalization: the one place that decides what "the normalized text" is, since every
//! offset the pipeline hands out points into it.
//!
//! Three steps, in order: repair of UTF-8 that was mis-decoded as Windows-1252 / Latin-1
//! (`Â£` -> `£`, `â€™` -> `’`), Unicode NFC, and whitespace collapsing (runs of spaces become
//! one space, a run holding a line break becomes `\n`, two or more become `\n\n`, so paragraphs
//! survive). Control characters other than line breaks are dropped.

use unicode_normalization::UnicodeNormalization;

/// Normalizes `raw` as described in the module docs.
pub fn normalize(raw: &str) -> String {
    let repaired = repair_mojibake(raw);
    let nfc: String = repaired.nfc().collect();
    collapse_whitespace(&nfc)
}

/// The Windows-1252 byte a character stands for when UTF-8 bytes were decoded as
/// Windows-1252 (or Latin-1, whose C1 controls fill the holes of 1252).
fn cp1252_byte(c: char) -> Option<u8> {
    let b = match c {
        '\u{80}'..='\u{FF}' => c as u32 as u8,
        '€' => 0x80,
        '‚' => 0x82,
        'ƒ' => 0x83,
        '„' => 0x84,
        '…' => 0x85,
        '†' => 0x86,
        '‡' => 0x87,
        'ˆ' => 0x88,
        '‰' => 0x89,
        'Š' => 0x8A,
        '‹' => 0x8B,
        'Œ' => 0x8C,
        'Ž' => 0x8E,
        '‘' => 0x91,
        '’' => 0x92,
        '“' => 0x93,
        '”' => 0x94,
        '•' => 0x95,
        '–' => 0x96,
        '—' => 0x97,
        '˜' => 0x98,
        '™' => 0x99,
        'š' => 0x9A,
        '›' => 0x9B,
        'œ' => 0x9C,
        'ž' => 0x9E,
        'Ÿ' => 0x9F,
        _ => return None,
    };
    Some(b)
}

/// Length of the UTF-8 sequence a lead byte opens, for the lead bytes of characters at or
/// above U+0080 (ASCII never needs repair).
fn utf8_len(lead: u8) -> Option<usize> {
    match lead {
        0xC2..=0xDF => Some(2),
        0xE0..=0xEF => Some(3),
        0xF0..=0xF4 => Some(4),
        _ => None,
    }
}

/// Repairs UTF-8 that was decoded as Windows-1252: a lead character followed by the right
/// number of continuation characters is replaced by the character their bytes encode.
///
/// Only where it is safe: the bytes must form one valid UTF-8 character that is not a control,
/// and re-encoding the repaired character must give back exactly the original characters, so
/// text that merely contains `Â` or `â` next to other accented letters is left alone.
pub fn repair_mojibake(text: &str) -> String {
    // Fast path: every mis-decoded sequence starts with a character in U+00C2..U+00F4.
    if !text.chars().any(|c| ('\u{C2}'..='\u{F4}').contains(&c)) {
        return text.to_string();
    }
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if let Some(repaired) = repair_at(&chars, i) {
            out.push(repaired.0);
            i += repaired.1;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// Tries to repair the sequence starting at `i`; returns the character and how many input
/// characters it replaces.
fn repair_at(chars: &[char], i: usize) -> Option<(char, usize)> {
    let lead = cp1252_byte(chars[i])?;
    let len = utf8_len(lead)?;
    if i + len > chars.len() {
        return None;
    }
    let mut bytes = [0u8; 4];
    bytes[0] = lead;
    for k in 1..len {
        let b = cp1252_byte(chars[i + k])?;
        if !(0x80..=0xBF).contains(&b) {
            return None;
        }
        bytes[k] = b;
    }
    let decoded = std::str::from_utf8(&bytes[..len]).ok()?;
    let c = decoded.chars().next()?;
    if c.is_control() {
        return None;
    }
    // Round trip: the repaired character, encoded and read back as 1252, is the input.
    let mut buf = [0u8; 4];
    let round_trip_ok = c
        .encode_utf8(&mut buf)
        .bytes()
        .zip(&chars[i..i + len])
        .all(|(b, &orig)| cp1252_byte(orig) == Some(b));
    round_trip_ok.then_some((c, len))
}

/// Collapses whitespace: horizontal runs become one space, runs with one line break become
/// `\n`, runs with more become `\n\n`; leading and trailing whitespace goes. Other control
/// characters and zero-width marks are dropped.
pub fn collapse_whitespace(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    let mut pending_breaks = 0usize;
    for c in text.chars() {
        if c == '\n' || c == '\u{2028}' || c == '\u{2029}' {
            pending_breaks += 1;
        } else if c == '\r' {
            // A CRLF counts once, through its '\n'; a lone CR is rare enough to treat as space.
            pending_space = true;
        } else if c.is_whitespace() {
            pending_space = true;
        } else if c.is_control() || is_invisible(c) {
            continue;
        } else {
            if !out.is_empty() {
                if pending_breaks >= 2 {
                    out.push_str("\n\n");
                } else if pending_breaks == 1 {
                    out.push('\n');
                } else if pending_space {
                    out.push(' ');
                }
            }
            pending_space = false;
            pending_breaks = 0;
            out.push(c);
        }
    }
    out
}

/// Characters that take no space and carry no letter: zero-width spaces and joiners, the soft
/// hyphen, the byte-order mark, and the bidirectional controls that can make text read
/// differently from what it holds ("Trojan Source"). Normalization drops them.
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

/// `text` without its invisible characters ([`is_invisible`]), for short fields that are not
/// otherwise normalized (an article's source).
pub fn strip_invisible(text: &str) -> String {
    text.chars().filter(|&c| !is_invisible(c)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_width_and_bidi_controls_are_dropped() {
        assert_eq!(
            normalize("Pu\u{200B}tin \u{202E}said\u{202C}"),
            "Putin said"
        );
        assert_eq!(normalize("\u{2066}Kyiv\u{2069}\u{FEFF}"), "Kyiv");
        assert_eq!(strip_invisible("Reu\u{200D}ters\u{200F}"), "Reuters");
    }

    #[test]
    fn repairs_common_mojibake() {
        assert_eq!(repair_mojibake("from Â£1m to Â£1.2m"), "from £1m to £1.2m");
        assert_eq!(repair_mojibake("Kyivâ€™s"), "Kyiv’s");
        assert_eq!(repair_mojibake("â€œYesâ€"), "“Yesâ€");
        assert_eq!(repair_mojibake("cafÃ©"), "café");
    }

    #[test]
    fn leaves_legitimate_accents_alone() {
        // 'Â' then a space, and 'â' followed by letters, are not UTF-8 read as 1252.
        assert_eq!(repair_mojibake("Â la carte"), "Â la carte");
        assert_eq!(repair_mojibake("pâté"), "pâté");
        assert_eq!(repair_mojibake("Ângela"), "Ângela");
        assert_eq!(repair_mojibake("£5 and ’quotes’"), "£5 and ’quotes’");
    }

    #[test]
    fn applies_nfc() {
        // 'e' + combining acute becomes one code point.
        assert_eq!(normalize("Cafe\u{301}"), "Café");
        assert_eq!(normalize("Cafe\u{301}").chars().count(), 4);
    }

    #[test]
    fn collapses_whitespace_keeping_paragraphs() {
        assert_eq!(
            normalize("  a \t b\r\nc\n\n\n d  "),
            "a b\nc\n\nd".to_string()
        );
        assert_eq!(normalize("x\u{A0}\u{A0}y"), "x y");
        assert_eq!(normalize("soft\u{AD}hyphen"), "softhyphen");
        assert_eq!(normalize(""), "");
    }

    #[test]
    fn repairs_mis_decoded_nbsp() {
        // U+00A0 encoded as C2 A0 and read as 1252 is "Â" + NBSP.
        assert_eq!(repair_mojibake("10Â\u{A0}km"), "10\u{A0}km");
        assert_eq!(normalize("10Â\u{A0}km"), "10 km");
    }
}
