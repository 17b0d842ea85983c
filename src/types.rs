//! Small shared domain types.

use crate::error::FieldError;
use crate::extract::field_errors;
use validator::Validate;

/// Declares an enum stored as text in PostgreSQL and sent as a snake_case string in JSON, with `as_str`, `FromStr`
/// and the list of all values (for problem messages and the OpenAPI document).
#[macro_export]
macro_rules! text_enum {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        $vis enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
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

/// A request body's complete check: the field rules of `validator` plus the rules that relate fields to each other.
/// Every failed field is reported at once.
pub trait Checked: Validate {
    fn cross_field_errors(&self) -> Vec<FieldError> {
        Vec::new()
    }

    fn check(&self) -> Vec<FieldError> {
        let mut errors = match self.validate() {
            Ok(()) => Vec::new(),
            Err(e) => field_errors(&e),
        };
        errors.extend(self.cross_field_errors());
        errors
    }
}

/// Whether `s` is a five-digit district AGS of Hessen (`06` + three digits).
pub fn is_district_ags(s: &str) -> bool {
    s.len() == 5 && s.starts_with("06") && s.bytes().all(|b| b.is_ascii_digit())
}

/// Whether `s` is an eight-digit Gemeinde AGS of Hessen.
pub fn is_gemeinde_ags(s: &str) -> bool {
    s.len() == 8 && s.starts_with("06") && s.bytes().all(|b| b.is_ascii_digit())
}

/// A LIKE pattern matching `text` anywhere, with LIKE's wildcards in `text` taken literally.
pub fn like_pattern(text: &str) -> String {
    format!(
        "%{}%",
        text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
    )
}
