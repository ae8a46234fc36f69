//! Language identification (whatlang) and the policy on languages the models do not serve.

/// Which languages the analysis serves, and whether others are refused or only tagged.
#[derive(Clone, Debug)]
pub struct LanguagePolicy {
    /// ISO 639-1 codes the models serve.
    pub supported: Vec<String>,
    /// Refuse articles detected (or declared) in another language; otherwise they are tagged and
    /// passed on.
    pub refuse_unsupported: bool,
}

/// The tag for a language that could not be told reliably (ISO 639-2 "undetermined").
pub const UNDETERMINED: &str = "und";

/// The ISO 639-1 code of the body's language, or [`UNDETERMINED`] when the detector is not
/// confident (short texts, mixed languages).
pub fn detect(body: &str) -> String {
    match whatlang::detect(body) {
        Some(info) if info.is_reliable() => iso639_1(info.lang().code()).to_owned(),
        _ => UNDETERMINED.to_owned(),
    }
}

/// Maps whatlang's ISO 639-3 codes to ISO 639-1 where one exists.
fn iso639_1(code: &'static str) -> &'static str {
    match code {
        "eng" => "en",
        "deu" => "de",
        "fra" => "fr",
        "spa" => "es",
        "ita" => "it",
        "por" => "pt",
        "rus" => "ru",
        "ukr" => "uk",
        "nld" => "nl",
        "pol" => "pl",
        "tur" => "tr",
        "ara" => "ar",
        "cmn" => "zh",
        "jpn" => "ja",
        "kor" => "ko",
        "hin" => "hi",
        "swe" => "sv",
        "dan" => "da",
        "nob" => "nb",
        "fin" => "fi",
        "ces" => "cs",
        "ell" => "el",
        "heb" => "he",
        "hun" => "hu",
        "ron" => "ro",
        "bul" => "bg",
        "hrv" => "hr",
        "srp" => "sr",
        "slk" => "sk",
        "slv" => "sl",
        "lit" => "lt",
        "lav" => "lv",
        "est" => "et",
        "pes" => "fa",
        "ind" => "id",
        "vie" => "vi",
        "tha" => "th",
        other => other,
    }
}

impl LanguagePolicy {
    /// Whether an article in `language` is refused.
    pub fn refuses(&self, language: &str) -> bool {
        self.refuse_unsupported
            && language != UNDETERMINED
            && !self.supported.iter().any(|served| served == language)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_english_and_german_news() {
        let english = "Russian President Vladimir Putin warned that any Western troops deployed \
                       to Ukraine would be legitimate targets for the Russian armed forces.";
        let german = "Der russische Präsident Wladimir Putin warnte, dass westliche Truppen in \
                      der Ukraine legitime Ziele für die russischen Streitkräfte wären.";
        assert_eq!(detect(english), "en");
        assert_eq!(detect(german), "de");
    }

    #[test]
    fn too_little_text_is_undetermined() {
        assert_eq!(detect("OK"), UNDETERMINED);
    }

    #[test]
    fn refuses_only_known_other_languages_when_asked() {
        let mut policy = LanguagePolicy {
            supported: vec!["en".into()],
            refuse_unsupported: false,
        };
        assert!(!policy.refuses("de"));
        policy.refuse_unsupported = true;
        assert!(policy.refuses("de"));
        assert!(!policy.refuses("en"));
        assert!(!policy.refuses(UNDETERMINED));
    }
}
