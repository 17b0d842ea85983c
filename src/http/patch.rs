//! The one PATCH flow: JSON Merge Patch (RFC 7396) on a resource's editable state, `If-Match`, a row lock, the
//! merged result validated as a whole, and the changed fields (JSON pointers) for the history entry.

use actix_web::{HttpRequest, HttpResponse};
use diesel_async::AsyncPgConnection;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::validation::{Checked, escape_pointer};
use crate::error::{ApiError, ApiResult, FieldError, MessageParams};
use crate::http::extract::{Expected, JsonBody, Versioned, ok_with_etag, parse_value, required_if_match};
use crate::state::AppState;

/// Applies a JSON Merge Patch (RFC 7396) to `target`.
pub fn merge_patch(target: &mut serde_json::Value, patch: &serde_json::Value) {
    use serde_json::Value;
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Default::default());
    }
    if let Value::Object(map) = target {
        for (key, value) in patch {
            if value.is_null() {
                map.remove(key);
            } else {
                merge_patch(map.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
    }
}

/// JSON pointers of the leaves where two documents differ (for history entries).
pub fn changed_pointers(before: &serde_json::Value, after: &serde_json::Value) -> Vec<String> {
    fn walk(a: &serde_json::Value, b: &serde_json::Value, prefix: &str, out: &mut Vec<String>) {
        use serde_json::Value;
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
                keys.sort();
                keys.dedup();
                for k in keys {
                    let null = Value::Null;
                    walk(
                        x.get(k).unwrap_or(&null),
                        y.get(k).unwrap_or(&null),
                        &format!("{prefix}/{}", escape_pointer(k)),
                        out,
                    );
                }
            }
            (x, y) if x != y => out.push(prefix.to_owned()),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(before, after, "", &mut out);
    out
}

/// The one PATCH flow's content step, shared by every resource that can be changed: applies the merge patch to the
/// resource's current editable state, validates the merged result as a whole (every wrong field at once, with the
/// same rules as a create), and names the fields that changed for the history. `None`: the patch changes nothing.
///
/// `fixed` names fields that cannot change (refused like an unknown field). A `null` for a field that cannot be
/// cleared — required, or one that would silently fall back to its default — is 422 `not_null`.
pub fn merged<I>(current: &I, patch: &Value, fixed: &[&str]) -> ApiResult<Option<(I, Vec<String>)>>
where
    I: Serialize + DeserializeOwned + Checked,
{
    let fixed_given: Vec<FieldError> = fixed
        .iter()
        .filter(|f| patch.get(**f).is_some())
        .map(|f| FieldError::new(format!("/{f}"), "unknown_field", MessageParams::default()))
        .collect();
    if !fixed_given.is_empty() {
        return Err(ApiError::BadRequest(fixed_given));
    }
    let before = serde_json::to_value(current).map_err(ApiError::internal)?;
    let mut next = before.clone();
    merge_patch(&mut next, patch);
    let nulls: Vec<&String> = patch
        .as_object()
        .map(|m| m.iter().filter(|(_, v)| v.is_null()).map(|(k, _)| k).collect())
        .unwrap_or_default();
    let null_given = |pointer: &str| nulls.iter().any(|k| format!("/{}", escape_pointer(k)) == pointer);
    // A null that deserialisation fills with a default (an empty text, a default rate) would not clear the field
    // but silently change it: refused, like a null for a required field.
    // Only a patch with nulls needs the second, lenient reading.
    let lenient = if nulls.is_empty() {
        None
    } else {
        serde_json::from_value::<I>(next.clone()).ok()
    };
    let mut errors: Vec<FieldError> = match lenient {
        Some(lenient) => {
            let lenient = serde_json::to_value(&lenient).map_err(ApiError::internal)?;
            nulls
                .iter()
                .filter(|k| lenient.get(k.as_str()).is_some_and(|v| !v.is_null()))
                .map(|k| FieldError::new(format!("/{}", escape_pointer(k)), "not_null", MessageParams::default()))
                .collect()
        }
        None => Vec::new(),
    };
    let input: Option<I> = match parse_value(next) {
        Ok(input) => Some(input),
        Err(ApiError::Validation(invalid)) => {
            errors.extend(invalid.into_iter().map(|e| {
                if e.code == "required" && null_given(&e.pointer) {
                    FieldError::new(e.pointer, "not_null", MessageParams::default())
                } else {
                    e
                }
            }));
            None
        }
        Err(e) => return Err(e),
    };
    let input = match input {
        Some(input) if errors.is_empty() => input,
        _ => return Err(ApiError::Validation(errors)),
    };
    let after = serde_json::to_value(&input).map_err(ApiError::internal)?;
    let changed = changed_pointers(&before, &after);
    Ok((!changed.is_empty()).then_some((input, changed)))
}

/// The one PATCH flow's HTTP part: `If-Match` is required (428 without), the body is a JSON object (the merge
/// patch), and `step` — the resource's store: row lock, version check, [`merged`], write, audit — runs in one
/// transaction. The answer carries the resource and its ETag. A `PUT` that replaces a sub-resource's state as a
/// whole (an organisation's bank details) takes the same path, its step reading the object as the complete state.
pub async fn respond<B, T>(
    state: &AppState,
    req: &HttpRequest,
    body: &JsonBody<B>,
    step: impl AsyncFn(&mut AsyncPgConnection, Expected, Value) -> ApiResult<T>,
) -> ApiResult<HttpResponse>
where
    T: Serialize + Versioned,
{
    let expected = required_if_match(req)?;
    let patch = body.object()?;
    let mut conn = crate::db::conn(&state.pool).await?;
    let changed = crate::db::transaction(&mut conn, async |conn| {
        step(conn, expected.clone(), patch.clone()).await
    })
    .await?;
    Ok(ok_with_etag(changed.version(), &changed))
}
