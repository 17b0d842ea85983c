//! Anlagen: documents attached to a resource (cost plan, concept, receipts, the notice's letter, minutes). The content
//! lives in the object store; PostgreSQL keeps only what describes it.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::core::identity::Role;
use crate::text_enum;

const APPLICATION_CATEGORIES: [&str; 5] = {
    use crate::core::documents::ApplicationDocument as D;
    [
        D::Kostenplan.as_str(),
        D::Konzept.as_str(),
        D::Satzung.as_str(),
        D::Stellenbeschreibung.as_str(),
        D::Sonstiges.as_str(),
    ]
};

/// The resource kind of attachments in the history and the feed.
pub const KIND: &str = "attachment";

text_enum! {
    /// What an attachment belongs to.
    pub enum OwnerKind {
        Application = "application",
        GrantNotice = "grant_notice",
        PaymentRequest = "payment_request",
        ProofOfUse = "proof_of_use",
        RecoveryClaim = "recovery_claim",
        CommitteeMeeting = "committee_meeting",
        Referral = "referral",
        Coordinator = "coordinator",
        KnowledgeEntry = "knowledge_entry",
    }
}

impl OwnerKind {
    /// The categories an attachment of this owner may have (codes; the German terms in the docs).
    pub fn categories(self) -> &'static [&'static str] {
        match self {
            // Kostenplan, Konzept, Satzung/Gesellschaftsvertrag, Stellenbeschreibung, Sonstiges (one vocabulary with
            // what a funding line may require: core::documents)
            Self::Application => &APPLICATION_CATEGORIES,
            // Bescheid (the letter), Anlage zum Bescheid, Sonstiges
            Self::GrantNotice => &["bescheid", "anlage", "sonstiges"],
            // Beleg (invoice, contract), Sonstiges
            Self::PaymentRequest => &["beleg", "sonstiges"],
            // Sachbericht, Beleg, Sonstiges
            Self::ProofOfUse => &["sachbericht", "beleg", "sonstiges"],
            // Stellungnahme (the hearing), Zahlungsnachweis, Bescheid, Sonstiges
            Self::RecoveryClaim => &["stellungnahme", "zahlungsnachweis", "bescheid", "sonstiges"],
            // Protokoll (minutes), Tagesordnung, Vorlage (a paper for an agenda item), Sonstiges
            Self::CommitteeMeeting => &["protokoll", "tagesordnung", "vorlage", "sonstiges"],
            // Anlage (what the idea or request comes with), Stellungnahme (an answer), Sonstiges
            Self::Referral => &["anlage", "stellungnahme", "sonstiges"],
            // Stellenbeschreibung, Qualifikationsnachweis, Arbeitsvertrag, Sonstiges: personal documents
            Self::Coordinator => &["stellenbeschreibung", "qualifikation", "vertrag", "sonstiges"],
            // Handreichung (guidance), Projektbericht (a funded project's report), Vorlage (a template), Sonstiges
            Self::KnowledgeEntry => &["handreichung", "projektbericht", "vorlage", "sonstiges"],
        }
    }

    /// Who adds files: the recipient and the ministry on a grant's resources, staff on committee meetings and
    /// coordinators, everyone who may see it on a referral.
    pub fn uploaders(self) -> &'static [Role] {
        match self {
            Self::Application | Self::GrantNotice | Self::PaymentRequest | Self::ProofOfUse | Self::RecoveryClaim => {
                &[Role::Municipality, Role::Ministry]
            }
            Self::CommitteeMeeting | Self::Coordinator => &[Role::ServiceUnit, Role::Ministry],
            Self::Referral => &[Role::Municipality, Role::ServiceUnit, Role::Ministry],
            Self::KnowledgeEntry => &[Role::ServiceUnit],
        }
    }

    /// Whether staff, too, add no files once the owner is closed (an erased coordinator has no documents any more);
    /// elsewhere the ministry adds files at any time.
    pub fn closes_for_staff(self) -> bool {
        // A knowledge entry's files are reviewed with its text: none are added once it is in review.
        matches!(self, Self::Coordinator | Self::KnowledgeEntry)
    }

    /// A coordinator's files are personal data: always internal (staff only).
    pub fn always_internal(self) -> bool {
        self == Self::Coordinator
    }
}

text_enum! {
    /// Where the virus scan stands.
    pub enum ScanState {
        /// No scanner is configured (`VERSORGUNG_CLAMAV`); `VERSORGUNG_ATTACHMENT_UNSCANNED` decides whether it
        /// may be downloaded and counts for submission.
        NotScanned = "not_scanned",
        /// Waiting for the scanner.
        Pending = "pending",
        /// Scanned, nothing found.
        Clean = "clean",
        /// The scanner found malware: the content is deleted, this record kept.
        Infected = "infected",
    }
}

/// The media types an attachment may have; each is checked against the content's magic bytes.
pub const ALLOWED_MEDIA_TYPES: &[&str] = &[
    "application/pdf",
    "image/png",
    "image/jpeg",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "text/csv",
    "text/plain",
];

/// A document attached to a resource.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"id": "0193a6a4-8d2e-7c41-9a57-52f3e2d0b8f1", "ownerKind": "application",
    "ownerId": "0193a6a4-8d2e-7c41-9a57-52f3e2d0b8a1", "category": "kostenplan", "receiptIndex": null,
    "fileName": "Kostenplan 2027.pdf", "mediaType": "application/pdf", "sizeBytes": 48213,
    "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "scanState": "clean",
    "internal": false, "uploadedBy": "gemeinde-eschwege", "retainUntil": null,
    "href": "/api/v1/attachments/0193a6a4-8d2e-7c41-9a57-52f3e2d0b8f1/content", "version": 1,
    "createdAt": "2026-11-27T10:00:00Z"}))]
pub struct Attachment {
    pub id: Uuid,
    pub owner_kind: OwnerKind,
    pub owner_id: Uuid,
    #[schema(max_length = 40)]
    pub category: String,
    /// The receipt line of a proof of use this document proves (its index in `receipts`).
    #[schema(minimum = 0, maximum = 9999)]
    pub receipt_index: Option<i32>,
    /// The file name as sent, without any path, control characters or direction overrides.
    #[schema(max_length = 255)]
    pub file_name: String,
    #[schema(max_length = 100)]
    pub media_type: String,
    #[schema(minimum = 1, maximum = 9223372036854775807i64)]
    pub size_bytes: i64,
    /// SHA-256 of the content, computed while it was received (hex).
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub sha256: String,
    pub scan_state: ScanState,
    /// Only the service unit and the ministry see it.
    pub internal: bool,
    #[schema(max_length = 200)]
    pub uploaded_by: String,
    /// Kept at least until this day (Aufbewahrungsfrist), once the grant is settled.
    pub retain_until: Option<NaiveDate>,
    /// Where the content is downloaded (absent once the content was deleted as infected).
    #[schema(max_length = 100)]
    pub href: Option<String>,
    #[schema(minimum = 1, maximum = 9223372036854775807i64)]
    pub version: i64,
    pub created_at: DateTime<Utc>,
}

crate::versioned!(Attachment);

/// The attachments of one resource, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct Attachments {
    #[schema(max_items = 1000)]
    pub items: Vec<Attachment>,
}

/// The description of an upload: query parameters of a raw upload, form fields of a multipart one.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct UploadParams {
    /// One of the owner's categories (see the operation's description).
    #[param(max_length = 40, pattern = "^[a-z_]{3,40}$")]
    pub category: Option<String>,
    /// The file's name (a raw upload; multipart takes it from the file part).
    #[param(max_length = 255)]
    pub file_name: Option<String>,
    /// A document for the service unit and the ministry only (staff only).
    pub internal: Option<bool>,
    /// The receipt line of a proof of use the document proves.
    #[param(minimum = 0, maximum = 9999)]
    pub receipt_index: Option<i32>,
}

/// A file sent as the raw body of an upload, or served by a download. Its largest size is a setting
/// (`VERSORGUNG_ATTACHMENT_MAX_BYTES`, default 100 MiB; 413 beyond); the bound here is that default.
pub struct FileBody;

impl utoipa::PartialSchema for FileBody {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .max_length(Some(104_857_600))
            .into()
    }
}

impl ToSchema for FileBody {}

/// The multipart form of an upload (`multipart/form-data`): the file and its description; no other fields (400
/// `unknown_field`). Deserialize only states the form's shape for the document; the handler reads the parts.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[allow(dead_code)]
pub struct UploadForm {
    /// The file (its name and Content-Type are taken from the part).
    #[schema(value_type = String, format = Binary, max_length = 104857600)]
    pub file: Vec<u8>,
    /// One of the owner's categories.
    #[schema(max_length = 40, pattern = "^[a-z_]{3,40}$", example = "kostenplan")]
    pub category: String,
    /// A document for the service unit and the ministry only (staff only).
    #[schema(example = false)]
    pub internal: Option<bool>,
    /// The receipt line of a proof of use the document proves (only there).
    #[schema(minimum = 0, maximum = 9999)]
    pub receipt_index: Option<i32>,
}
