//! `/api/v1/organisations/{id}/bank-account`: the account to which an organisation's grants are paid, with the
//! handlers that read and set it (its SQL is in the store). Unlike the organisation, which every role reads, bank
//! details are the organisation's own and the ministry's business: a sub-resource with its own visibility, version
//! (ETag) and history, and an event that names no bank field (docs/decisions.md, "Bank details").

use actix_web::{HttpRequest, HttpResponse, get, put, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use super::store;
use crate::audit::history::HistoryEntry;
use crate::core::iban::{Iban, MAX_INPUT_CHARS};
use crate::core::identity::{Caller, Role};
use crate::error::validation::Checked;
use crate::error::{ApiError, ApiResult, FieldError, Format, MessageParams, Problem};
use crate::http::extract::{JsonBody, ok_with_etag};
use crate::http::openapi::{BadRequest, Forbidden};
use crate::state::AppState;

/// The resource kind of bank details in the history and the feed; they are named by their organisation's id.
pub const KIND: &str = "bank_account";

/// The roles that may see and set bank details at all (a municipality only its own organisation's).
const ROLES: &[Role] = &[Role::Municipality, Role::Ministry];

/// Bankverbindung: the account to which an organisation's grants are paid. `iban` and `accountHolder` are `null`
/// until first set (version 0), and then always set together.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"organisationId": "0193a6a4-8d2e-7c41-9a57-52f3e2d0b8a1", "iban": "DE89370400440532013000",
    "accountHolder": "Kreisausschuss des Werra-Meißner-Kreises", "version": 1, "updatedAt": "2026-11-27T09:00:00Z"}))]
pub struct BankAccount {
    pub organisation_id: Uuid,
    /// IBAN in electronic format: upper case, no spaces, with valid check digits and its country's length.
    #[schema(
        max_length = 34,
        pattern = "^[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}$",
        example = "DE89370400440532013000"
    )]
    pub iban: Option<String>,
    /// Kontoinhaber: the name the account is held in.
    #[schema(min_length = 1, max_length = 200)]
    pub account_holder: Option<String>,
    /// The bank details' own version (their ETag), 0 until first set; independent of the organisation's.
    #[schema(minimum = 0, maximum = 9223372036854775807i64)]
    pub version: i64,
    /// When the bank details were last changed; `null` until first set.
    pub updated_at: Option<DateTime<Utc>>,
}

crate::versioned!(BankAccount);

/// New bank details, replacing the current ones (both fields required).
#[derive(Clone, Debug, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"iban": "DE89 3704 0044 0532 0130 00", "accountHolder": "Kreisausschuss des Werra-Meißner-Kreises"}))]
pub struct BankAccountInput {
    /// The IBAN in electronic (`DE89370400440532013000`) or print format (`DE89 3704 0044 0532 0130 00`), in any
    /// case; spaces are removed and letters upper-cased. Its check digits and its country's length and format are
    /// checked (422 `invalid_iban`).
    #[validate(required, length(max = 50))]
    #[schema(value_type = String, required = true, max_length = 50,
        pattern = "^ *[A-Za-z] *[A-Za-z] *[0-9] *[0-9]( *[A-Za-z0-9]){1,30} *$", example = "DE89 3704 0044 0532 0130 00")]
    pub iban: Option<String>,
    /// Kontoinhaber: 1–200 characters, no control characters (no line breaks or tabs either).
    #[validate(required, length(min = 1, max = 200))]
    #[schema(value_type = String, required = true, min_length = 1, max_length = 200)]
    pub account_holder: Option<String>,
}

impl Checked for BankAccountInput {
    fn cross_field_errors(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if let Some(input) = &self.iban
            && input.chars().count() <= MAX_INPUT_CHARS
            && let Err(reason) = Iban::parse(input)
        {
            errors.push(FieldError::new(
                "/iban",
                "invalid_iban",
                MessageParams {
                    detail: Some(reason.key().to_owned()),
                    format: Some(Format::Iban),
                    ..MessageParams::default()
                },
            ));
        }
        // The request check lets tabs and line breaks through (descriptions have them); a name has none.
        if let Some(holder) = &self.account_holder
            && holder.chars().any(char::is_control)
        {
            errors.push(FieldError::new(
                "/accountHolder",
                "control_character",
                MessageParams::default(),
            ));
        }
        errors
    }
}

/// Checked bank details, as they are stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankDetails {
    pub iban: Iban,
    pub account_holder: String,
}

impl BankAccountInput {
    /// The checked input as bank details (the IBAN normalised).
    pub fn details(self) -> ApiResult<BankDetails> {
        let (Some(iban), Some(account_holder)) = (self.iban, self.account_holder) else {
            return Err(ApiError::internal("checked bank details lack a field"));
        };
        let iban = Iban::parse(&iban).map_err(|e| ApiError::internal(format!("checked IBAN refused: {e:?}")))?;
        Ok(BankDetails { iban, account_holder })
    }
}

/// The data of a `bank_account.changed` event: which organisation, the new version and when — never the IBAN or
/// the holder. The feed and webhooks leave the service and keep what they carried; the bank details themselves are
/// read from the sub-resource, by those who may.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BankAccountChanged {
    pub organisation_id: Uuid,
    pub version: i64,
    pub updated_at: Option<DateTime<Utc>>,
}

impl From<&BankAccount> for BankAccountChanged {
    fn from(account: &BankAccount) -> Self {
        Self {
            organisation_id: account.organisation_id,
            version: account.version,
            updated_at: account.updated_at,
        }
    }
}

/// Get an organisation's bank details
///
/// The account to which the organisation's grants are paid: IBAN (electronic format) and account holder, both
/// `null` until first set. Only the organisation itself and the ministry see them: for another municipality they
/// do not exist (404, as for any record outside its scope); the service unit's role never sees bank details (403).
///
/// **Roles:** `municipality` (own organisation only), `ministry`.
#[utoipa::path(
    tag = "Organisations",
    params(("id" = String, Path, description = "Organisation id (UUID) or AGS", example = "06636")),
    responses(
        (status = 200, description = "The bank details", body = BankAccount,
            headers(("ETag" = String, description = "Current version of the bank details"))),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
    ),
    security(("bearerAuth" = []))
)]
#[get("/organisations/{id}/bank-account")]
pub(super) async fn get_bank_account(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    caller.require(ROLES)?;
    let mut conn = crate::db::conn(&state.pool).await?;
    let account = store::bank_account(&mut conn, &caller, &id).await?;
    Ok(ok_with_etag(account.version, &account))
}

/// Set an organisation's bank details
///
/// Replaces the IBAN and the account holder (both required). The IBAN may be sent in print format
/// (`DE89 3704 0044 0532 0130 00`) or in lower case; it is stored and returned in electronic format. Its check digits
/// and its country's length and format (SWIFT IBAN registry) are checked: otherwise 422 `invalid_iban` at `/iban`.
/// Requires `If-Match` with the ETag last read (`"0"` before the first setting). A change is recorded in the bank
/// details' history (fields, never values) and announced by a `bank_account.changed` event to the organisation and
/// staff, which carries no bank field; setting the same details again records nothing.
///
/// **Roles:** `municipality` (own organisation only), `ministry`.
#[utoipa::path(
    tag = "Organisations",
    params(
        ("id" = String, Path, description = "Organisation id (UUID) or AGS", example = "06636"),
        ("If-Match" = String, Header, description = "ETag of the version the change is based on", example = "\"0\""),
    ),
    request_body = BankAccountInput,
    responses(
        (status = 200, description = "The bank details as stored", body = BankAccount, headers(("ETag" = String))),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 422, description = "The values break the rules, e.g. an IBAN whose check digits do not match; \
            `errors` lists every failed field by JSON pointer.", body = Problem, content_type = "application/problem+json",
            example = json!({
                "type": "https://versorgung.hessen.de/problems/validation",
                "title": "Validation failed",
                "status": 422,
                "detail": "The request contains 1 invalid field(s); see errors.",
                "instance": "/api/v1/organisations/06636/bank-account",
                "requestId": "0193a6a4-8d2e-7c41-9a57-52f3e2d0b8a1",
                "errors": [{"pointer": "/iban", "code": "invalid_iban",
                    "message": "is not a valid IBAN: its check digits do not match; expected an IBAN such as DE89 3704 0044 0532 0130 00 (spaces and lower case allowed)"}]
            })),
    ),
    security(("bearerAuth" = []))
)]
#[put("/organisations/{id}/bank-account")]
pub(super) async fn set_bank_account(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<String>,
    body: JsonBody<BankAccountInput>,
) -> ApiResult<HttpResponse> {
    caller.require(ROLES)?;
    crate::http::patch::respond(&state, &req, &body, async |conn, expected, input| {
        store::set_bank_account(conn, &caller, &id, expected, input).await
    })
    .await
}

/// History of an organisation's bank details
///
/// Every change of the bank details, oldest first, with the fields a change touched (never their values) and who
/// changed them. Visible like the bank details.
///
/// **Roles:** `municipality` (own organisation only), `ministry`.
#[utoipa::path(
    tag = "Organisations",
    params(("id" = String, Path, description = "Organisation id (UUID) or AGS", example = "06636")),
    responses(
        (status = 200, description = "The history", body = Vec<HistoryEntry>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
    ),
    security(("bearerAuth" = []))
)]
#[get("/organisations/{id}/bank-account/history")]
pub(super) async fn bank_account_history(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    caller.require(ROLES)?;
    let mut conn = crate::db::conn(&state.pool).await?;
    Ok(HttpResponse::Ok().json(store::bank_account_history(&mut conn, &caller, &id).await?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::extract::parse_json;

    fn codes(body: &str) -> Vec<(String, String)> {
        match parse_json::<BankAccountInput>(body.as_bytes()) {
            Ok(_) => vec![],
            Err(ApiError::Validation(errors)) => {
                let mut codes: Vec<_> = errors.into_iter().map(|e| (e.pointer, e.code)).collect();
                codes.sort();
                codes
            }
            Err(other) => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_input_is_checked_as_a_whole() {
        let pair = |p: &str, c: &str| (p.to_owned(), c.to_owned());
        assert_eq!(
            codes(r#"{"iban": "DE89 3704 0044 0532 0130 00", "accountHolder": "Kreis"}"#),
            vec![]
        );
        assert_eq!(
            codes(r#"{"iban": "DE88370400440532013000", "accountHolder": "Kreis\tA"}"#),
            vec![
                pair("/accountHolder", "control_character"),
                pair("/iban", "invalid_iban")
            ]
        );
        assert_eq!(
            codes("{}"),
            vec![pair("/accountHolder", "required"), pair("/iban", "required")]
        );
        let long = format!(
            r#"{{"iban": "{}", "accountHolder": "{}"}}"#,
            " ".repeat(51),
            "x".repeat(201)
        );
        assert_eq!(
            codes(&long),
            vec![pair("/accountHolder", "length"), pair("/iban", "too_long")]
        );
    }

    #[test]
    fn the_stated_patterns_are_the_checks() {
        use utoipa::PartialSchema;
        let schema = |s: utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>| serde_json::to_value(s).unwrap();
        let out = schema(BankAccount::schema());
        assert_eq!(out["properties"]["iban"]["pattern"], crate::core::iban::PATTERN);
        let input = schema(BankAccountInput::schema());
        assert_eq!(input["properties"]["iban"]["pattern"], crate::core::iban::INPUT_PATTERN);
        assert_eq!(input["properties"]["iban"]["maxLength"], MAX_INPUT_CHARS);
    }
}
