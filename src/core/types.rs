//! Small shared domain types and checks of validated values (AGS, funding line codes, event types).

/// Declares an enum stored as text in PostgreSQL and sent as a snake_case string in JSON, with `as_str`, `FromStr`
/// and the list of all values (for problem messages and the OpenAPI document).
#[macro_export]
macro_rules! text_enum {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        $vis enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        // Written by hand: utoipa's derive does not see a `rename` passed in through a macro and would document
        // the Rust variant names instead of the wire values.
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$($text),+]))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed(stringify!($name))
            }
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(format!("unknown {} `{other}`", stringify!($name))),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// The most items of a list that has no paging (a resource's history, comments, members, meetings, a caller's
/// webhooks): the latest ones for histories and comments, the first ones otherwise. The OpenAPI document gives every
/// such list this `maxItems`.
pub const MAX_UNPAGED: i64 = 1000;

/// A resource with a version (optimistic concurrency: its ETag is the version, `If-Match` names it).
pub trait Versioned {
    fn version(&self) -> i64;
}

/// Implements [`Versioned`] for types with a `version: i64` field.
#[macro_export]
macro_rules! versioned {
    ($($t:ty),+ $(,)?) => {
        $(impl $crate::core::types::Versioned for $t {
            fn version(&self) -> i64 {
                self.version
            }
        })+
    };
}

/// Whether `s` is a five-digit district AGS of Hessen (`06` + three digits).
pub fn is_district_ags(s: &str) -> bool {
    s.len() == 5 && s.starts_with("06") && s.bytes().all(|b| b.is_ascii_digit())
}

/// Whether `s` is an eight-digit Gemeinde AGS of Hessen.
pub fn is_gemeinde_ags(s: &str) -> bool {
    s.len() == 8 && s.starts_with("06") && s.bytes().all(|b| b.is_ascii_digit())
}

/// Whether `s` is a topic code: lower-case letters and digits in parts joined by single hyphens, at most 60.
pub fn is_topic_code(s: &str) -> bool {
    s.len() <= 60
        && !s.is_empty()
        && s.split('-')
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
}

/// Whether `s` is a funding line code: an upper-case letter, then 1–9 upper-case letters or digits.
pub fn is_funding_line_code(s: &str) -> bool {
    let mut chars = s.chars();
    (2..=10).contains(&s.len())
        && chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// Whether `s` is an event type: `<resource>.<what>` in lower case with underscores, at most 32 and 31 characters
/// (64 in all; limits that a pattern can state, see `http::openapi::patterns::EVENT_TYPES`).
pub fn is_event_type(s: &str) -> bool {
    let part =
        |p: &str, max: usize| (1..=max).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
    s.split_once('.').is_some_and(|(a, b)| part(a, 32) && part(b, 31))
}

/// `s` cut to at most `max` characters (on a character boundary), with `…` as the last one when it was cut.
pub fn truncate_chars(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// A LIKE pattern matching `text` anywhere, with LIKE's wildcards in `text` taken literally.
pub fn like_pattern(text: &str) -> String {
    format!(
        "%{}%",
        text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
    )
}

#[cfg(test)]
mod tests {
    use super::truncate_chars;

    #[test]
    fn truncation_counts_characters() {
        assert_eq!(truncate_chars("abc", 3), "abc");
        assert_eq!(truncate_chars("äöüß", 3), "äö…");
        assert_eq!(truncate_chars(&"x".repeat(100_000), 1000).chars().count(), 1000);
    }
}
