//! Query parameters: read from the query string into a struct that names every parameter a
//! route takes (and documents it in the OpenAPI document), then checked one by one, so every
//! refusal is a 400 that names the parameter at fault. Unknown and repeated parameters are
//! refused too: a typo should not silently widen a query.

use axum::{extract::FromRequestParts, http::request::Parts};
use chrono::{DateTime, NaiveDate, Utc};
use newsflow_proto::v1::{EntityType, Polarity};
use serde::de::DeserializeOwned;

use super::ApiError;

/// Longest free-text parameter (a search), in characters.
pub const MAX_TEXT_CHARS: usize = 500;

/// The query string read into `T` (a struct of `Option<String>`s).
pub struct Params<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or("");
        serde_urlencoded::from_str(query)
            .map(Params)
            .map_err(|error| query_error(&error.to_string()))
    }
}

/// serde's complaint about a query string, as a 400 naming the parameter.
fn query_error(message: &str) -> ApiError {
    // "unknown field `frm`, expected one of `from`, `to`" / "duplicate field `from`"
    let named = message.split('`').nth(1).unwrap_or("").to_owned();
    if let Some(rest) = message.strip_prefix("unknown field ") {
        let expected = rest.split_once(", expected ").map(|(_, e)| e).unwrap_or("");
        return ApiError::invalid(
            &named,
            format!("unknown parameter `{named}`; this route takes {expected}"),
        );
    }
    if message.starts_with("duplicate field") {
        return ApiError::invalid(&named, format!("parameter `{named}` is given twice"));
    }
    ApiError::invalid(&named, format!("bad query string: {message}"))
}

/// A time: RFC 3339 (`2025-09-04T10:00:00Z`) or a day (`2025-09-04`, midnight UTC).
pub fn time(name: &str, value: Option<&str>) -> Result<Option<DateTime<Utc>>, ApiError> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if let Ok(time) = DateTime::parse_from_rfc3339(value) {
        return Ok(Some(time.with_timezone(&Utc)));
    }
    if let Ok(day) = NaiveDate::parse_from_str(value, "%Y-%m-%d")
        && let Some(midnight) = day.and_hms_opt(0, 0, 0)
    {
        return Ok(Some(midnight.and_utc()));
    }
    Err(ApiError::invalid(
        name,
        format!(
            "{value:?} is not a time: use RFC 3339 (2025-09-04T10:00:00Z) or a day (2025-09-04)"
        ),
    ))
}

/// A period's start and end, each optional.
pub type Period = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// `from` and `to`, checked to make a period.
pub fn period(from: Option<&str>, to: Option<&str>) -> Result<Period, ApiError> {
    let (from, to) = (time("from", from)?, time("to", to)?);
    if let (Some(from), Some(to)) = (from, to)
        && to <= from
    {
        return Err(ApiError::invalid("to", "`to` must be after `from`"));
    }
    Ok((from, to))
}

/// A polarity: `negative` (or `against`), `neutral`, `positive` (or `for`).
pub fn polarity(name: &str, value: Option<&str>) -> Result<Option<Polarity>, ApiError> {
    let Some(value) = non_blank(value) else {
        return Ok(None);
    };
    match value.to_ascii_lowercase().as_str() {
        "negative" | "against" => Ok(Some(Polarity::Negative)),
        "neutral" => Ok(Some(Polarity::Neutral)),
        "positive" | "for" => Ok(Some(Polarity::Positive)),
        _ => Err(ApiError::invalid(
            name,
            format!(
                "{value:?} is not a polarity: use negative (against), neutral or positive (for)"
            ),
        )),
    }
}

/// An entity type: person, org, gpe, loc, norp, event, date, misc.
pub fn entity_type(name: &str, value: Option<&str>) -> Result<Option<EntityType>, ApiError> {
    let Some(value) = non_blank(value) else {
        return Ok(None);
    };
    let wanted = format!("ENTITY_TYPE_{}", value.to_ascii_uppercase());
    match EntityType::from_str_name(&wanted) {
        Some(ty) if ty != EntityType::Unspecified => Ok(Some(ty)),
        _ => Err(ApiError::invalid(
            name,
            format!(
                "{value:?} is not an entity type: use person, org, gpe, loc, norp, event, date or misc"
            ),
        )),
    }
}

/// A GeoNames id (a positive whole number); `None` when absent.
pub fn geonames_id(name: &str, value: Option<&str>) -> Result<Option<u32>, ApiError> {
    let Some(value) = non_blank(value) else {
        return Ok(None);
    };
    match value.parse::<u32>() {
        Ok(id) if id > 0 => Ok(Some(id)),
        _ => Err(ApiError::invalid(
            name,
            format!("{value:?} is not a GeoNames id (a positive whole number, 2988507 for Paris)"),
        )),
    }
}

/// A story id (`Story.id`): a positive whole number.
pub fn story_id(name: &str, value: Option<&str>) -> Result<Option<u64>, ApiError> {
    let Some(value) = non_blank(value) else {
        return Ok(None);
    };
    match value.parse::<u64>() {
        Ok(id) if id > 0 && i64::try_from(id).is_ok() => Ok(Some(id)),
        _ => Err(ApiError::invalid(
            name,
            format!("{value:?} is not a story id (a positive whole number)"),
        )),
    }
}

/// A free-text or key parameter: trimmed, not empty, at most [`MAX_TEXT_CHARS`] characters,
/// no NUL (PostgreSQL text cannot hold one).
pub fn text(name: &str, value: Option<&str>) -> Result<Option<String>, ApiError> {
    let Some(value) = value else {
        return Ok(None);
    };
    let value = value.trim();
    if value.is_empty() {
        return Err(ApiError::invalid(name, format!("`{name}` is empty")));
    }
    if value.chars().count() > MAX_TEXT_CHARS {
        return Err(ApiError::invalid(
            name,
            format!("`{name}` is longer than {MAX_TEXT_CHARS} characters"),
        ));
    }
    if value.contains('\0') {
        return Err(ApiError::invalid(
            name,
            format!("`{name}` contains a NUL character"),
        ));
    }
    Ok(Some(value.to_owned()))
}

/// A count between 1 and `max`; `default` when absent.
pub fn limit(name: &str, value: Option<&str>, default: u32, max: u32) -> Result<u32, ApiError> {
    let Some(value) = non_blank(value) else {
        return Ok(default);
    };
    match value.parse::<u32>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(ApiError::invalid(
            name,
            format!("{value:?} is not a whole number from 1 to {max}"),
        )),
    }
}

/// `true`/`false` (or `1`/`0`); `false` when absent.
pub fn flag(name: &str, value: Option<&str>) -> Result<bool, ApiError> {
    match non_blank(value) {
        None => Ok(false),
        Some("true" | "1" | "yes") => Ok(true),
        Some("false" | "0" | "no") => Ok(false),
        Some(other) => Err(ApiError::invalid(
            name,
            format!("{other:?} is not true or false"),
        )),
    }
}

/// A page cursor as the previous page gave it; the store checks it.
pub fn cursor(value: Option<&str>) -> Result<String, ApiError> {
    let value = value.unwrap_or("").trim();
    if !value.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::invalid(
            "cursor",
            "not a cursor this service issued: pass `next_cursor` of the previous page",
        ));
    }
    Ok(value.to_owned())
}

fn non_blank(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_take_rfc3339_or_a_day() {
        let day = time("from", Some("2025-09-04")).unwrap().unwrap();
        assert_eq!(day.to_rfc3339(), "2025-09-04T00:00:00+00:00");
        let exact = time("from", Some("2025-09-04T10:30:00+02:00"))
            .unwrap()
            .unwrap();
        assert_eq!(exact.to_rfc3339(), "2025-09-04T08:30:00+00:00");
        let error = time("from", Some("yesterday")).unwrap_err();
        assert_eq!(error.parameter.as_deref(), Some("from"));
        assert!(period(Some("2025-09-05"), Some("2025-09-04")).is_err());
    }

    #[test]
    fn enums_limits_and_text_are_checked() {
        assert_eq!(
            polarity("p", Some("against")).unwrap(),
            Some(Polarity::Negative)
        );
        assert!(polarity("p", Some("angry")).is_err());
        assert_eq!(
            entity_type("type", Some("person")).unwrap(),
            Some(EntityType::Person)
        );
        assert!(entity_type("type", Some("unspecified")).is_err());
        assert_eq!(limit("limit", None, 50, 500).unwrap(), 50);
        assert!(limit("limit", Some("0"), 50, 500).is_err());
        assert!(limit("limit", Some("501"), 50, 500).is_err());
        assert!(text("q", Some("  ")).is_err());
        assert!(text("q", Some("a\0b")).is_err());
        assert!(cursor(Some("xyz")).is_err());
    }

    #[test]
    fn unknown_and_repeated_parameters_are_named() {
        let unknown = query_error("unknown field `frm`, expected one of `from`, `to`");
        assert_eq!(unknown.parameter.as_deref(), Some("frm"));
        assert!(unknown.message.contains("`from`"));
        let twice = query_error("duplicate field `from`");
        assert_eq!(twice.parameter.as_deref(), Some("from"));
    }
}
