//! Field rules: the `validator` crate's errors flattened into [`FieldError`]s with JSON pointers, and the
//! [`Checked`] trait that adds the rules relating fields to each other.

use std::borrow::Cow;
use validator::{Validate, ValidationErrors, ValidationErrorsKind};

use crate::error::{FieldError, Format, MessageParams};

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

/// A breakdown by fiscal year (`/years/{i}/year`): each year once (`duplicate`), within the period's years where
/// known (`year_outside_period`). Approvals and amending notices use it.
pub fn fiscal_years(given: &[(i32, i64)], (first, last): (Option<i32>, Option<i32>)) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, (year, _)) in given.iter().enumerate() {
        if !seen.insert(year) {
            errors.push(FieldError::new(
                format!("/years/{i}/year"),
                "duplicate",
                MessageParams::default(),
            ));
        } else if first.is_some_and(|f| *year < f) || last.is_some_and(|l| *year > l) {
            errors.push(FieldError::new(
                format!("/years/{i}/year"),
                "year_outside_period",
                MessageParams::range(first.unwrap_or(*year), last.unwrap_or(*year)),
            ));
        }
    }
    errors
}

/// RFC 6901 escaping of one reference token.
pub fn escape_pointer(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// snake_case (Rust field) to camelCase (JSON field); the validator crate reports Rust names.
pub fn camel_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// Flattens the validator crate's nested errors into field errors with JSON pointers (ordered when rendered).
pub fn field_errors(errors: &ValidationErrors) -> Vec<FieldError> {
    let mut out = Vec::new();
    collect(errors, "", &mut out);
    out
}

fn collect(errors: &ValidationErrors, prefix: &str, out: &mut Vec<FieldError>) {
    for (field, kind) in errors.errors() {
        let pointer = if field == "__all__" {
            prefix.to_owned()
        } else {
            format!("{prefix}/{}", camel_case(field))
        };
        match kind {
            ValidationErrorsKind::Field(list) => {
                for e in list {
                    out.push(convert(&pointer, e));
                }
            }
            ValidationErrorsKind::Struct(inner) => collect(inner, &pointer, out),
            ValidationErrorsKind::List(items) => {
                for (index, inner) in items {
                    collect(inner, &format!("{pointer}/{index}"), out);
                }
            }
        }
    }
}

fn param(e: &validator::ValidationError, name: &str) -> Option<String> {
    e.params.get(name).map(|v| match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

fn convert(pointer: &str, e: &validator::ValidationError) -> FieldError {
    // The validator's own formats (`email`, `url`) and custom rules' `format` parameter name a described format.
    let format = param(e, "format")
        .as_deref()
        .and_then(Format::from_key)
        .or_else(|| Format::from_key(e.code.as_ref()));
    let params = MessageParams {
        min: param(e, "min"),
        max: param(e, "max"),
        allowed: param(e, "allowed"),
        detail: param(e, "detail"),
        format,
    };
    let code: Cow<'_, str> = match e.code.as_ref() {
        "length" => match (&params.min, &params.max) {
            (Some(_), Some(_)) => "length".into(),
            (Some(_), None) => "too_short".into(),
            _ => "too_long".into(),
        },
        "range" => "out_of_range".into(),
        "email" | "url" | "regex" => "invalid_format".into(),
        other => other.to_owned().into(),
    };
    FieldError::new(pointer, &code, params)
}

/// Builds a `validator` error with parameters, for custom rules.
pub fn rule_error(code: &'static str, params: &[(&'static str, serde_json::Value)]) -> validator::ValidationError {
    let mut e = validator::ValidationError::new(code);
    for (name, value) in params {
        e.add_param(Cow::Borrowed(name), value);
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_pointers() {
        assert_eq!(camel_case("max_rate_bp"), "maxRateBp");
        assert_eq!(escape_pointer("a/b~c"), "a~1b~0c");
    }
}
