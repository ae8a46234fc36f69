//! Text shaped to make an analysis slow: the shapes that once made a stage quadratic in an
//! article's length, generated at any size, for the hostile-input tests and
//! `newsflow bench scaling`.

/// One hostile shape: its name and how to generate about `bytes` of it.
#[derive(Clone, Copy)]
pub struct Shape {
    /// A short name for tables ("he-said").
    pub name: &'static str,
    /// Generates text of about the given number of bytes.
    pub generate: fn(usize) -> String,
}

/// Every shape.
pub const SHAPES: &[Shape] = &[
    Shape {
        name: "repeated-word",
        generate: |bytes| "a ".repeat(bytes / 2),
    },
    Shape {
        name: "he-said",
        generate: |bytes| "he said ".repeat(bytes / 8),
    },
    Shape {
        name: "quoted-statements",
        generate: |bytes| "\u{201c}We will not allow it,\u{201d} he said. ".repeat(bytes / 40),
    },
    Shape {
        name: "one-word-sentences",
        generate: |bytes| "Yes. ".repeat(bytes / 5),
    },
    Shape {
        name: "newlines",
        generate: |bytes| format!("x{}y", "\n".repeat(bytes)),
    },
    Shape {
        name: "long-word",
        generate: |bytes| "a".repeat(bytes),
    },
    Shape {
        name: "dot-paren-word",
        generate: |bytes| format!("x{}y", ".)".repeat(bytes / 2)),
    },
    Shape {
        name: "distinct-names",
        generate: distinct_names,
    },
    Shape {
        name: "deep-html",
        generate: |bytes| {
            let depth = bytes / 9;
            format!(
                "<dl>{}text{}</dl>",
                "<dd>".repeat(depth),
                "</dd>".repeat(depth)
            )
        },
    },
    Shape {
        name: "nested-divs",
        generate: |bytes| {
            let depth = bytes / 11;
            format!(
                "<html><body>{}Putin warned.{}</body></html>",
                "<div>".repeat(depth),
                "</div>".repeat(depth)
            )
        },
    },
];

/// Capitalized names that all differ ("Bakedo Cufigo ..."), so that each is an entity. The
/// letters are drawn from a scrambled counter, so every stretch of the text looks alike and
/// the share of words the tagger takes for names does not drift with the size.
fn distinct_names(bytes: usize) -> String {
    const CONSONANTS: &[u8] = b"bcdfghklmnprstvz";
    const VOWELS: &[u8] = b"aeiou";
    let mut out = String::with_capacity(bytes + 16);
    let mut n: usize = 0;
    while out.len() < bytes {
        // Six letters from the digits, in mixed base, of n scrambled by a multiplier prime to
        // 16^3 * 5^3 = 512,000: distinct for every n below that.
        let mut rest = n * 386_161 % 512_000;
        let mut name = String::with_capacity(7);
        for position in 0..6 {
            let letter = if position % 2 == 0 {
                let c = CONSONANTS[rest % CONSONANTS.len()];
                rest /= CONSONANTS.len();
                c
            } else {
                let v = VOWELS[rest % VOWELS.len()];
                rest /= VOWELS.len();
                v
            };
            name.push(if position == 0 {
                letter.to_ascii_uppercase() as char
            } else {
                letter as char
            });
        }
        out.push_str(&name);
        out.push(' ');
        n += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_have_about_the_size_asked() {
        for shape in SHAPES {
            let text = (shape.generate)(10_000);
            assert!(
                (9_000..=11_000).contains(&text.len()),
                "{}: {} bytes",
                shape.name,
                text.len()
            );
        }
        let names = distinct_names(10_000);
        let distinct: std::collections::HashSet<&str> = names.split_whitespace().collect();
        assert_eq!(distinct.len(), names.split_whitespace().count());
    }
}
