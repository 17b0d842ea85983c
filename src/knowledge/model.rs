//! Wissensfundament: the knowledge entries' kinds, states, lifecycle (as data), visibility and request types.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::core::identity::Role;
use crate::core::lifecycle::{Lifecycle, Target, Transition};
use crate::error::FieldError;
use crate::error::validation::Checked;
use crate::text_enum;

/// The resource kind of knowledge entries in the history and the feed.
pub const KIND: &str = "knowledge_entry";

text_enum! {
    /// What an entry is.
    pub enum EntryKind {
        /// Gute Praxis: what a funded project did and how it went.
        GoodPractice = "good_practice",
        /// A question municipalities ask, with its answer.
        Faq = "faq",
        /// Guidance (Handreichung).
        Guidance = "guidance",
        /// Who in Hessen knows about something.
        ContactPointer = "contact_pointer",
        /// What a project or the service unit learned.
        LessonLearned = "lesson_learned",
    }
}

text_enum! {
    /// Who reads a published entry.
    pub enum Visibility {
        /// The service unit and the ministry.
        Internal = "internal",
        /// Every signed-in role: municipalities and the coordinators' organisations too.
        Network = "network",
        /// Anyone, without a token.
        Public = "public",
    }
}

text_enum! {
    /// State of an entry.
    pub enum EntryStatus {
        /// Being written by the service unit.
        Draft = "draft",
        /// Waiting for its review.
        InReview = "in_review",
        /// Readable as its visibility says.
        Published = "published",
        /// Out of date: kept, read by staff only.
        Archived = "archived",
    }
}

text_enum! {
    /// A lifecycle action, called as `POST /knowledge-entries/{id}/{action}`.
    pub enum EntryAction {
        Submit = "submit",
        Return = "return",
        Publish = "publish",
        Archive = "archive",
    }
}

/// The lifecycle, written once: handlers, the 409 answers, history, events and docs/coordination.md use it.
pub const LIFECYCLE: Lifecycle<EntryStatus, EntryAction> = Lifecycle::new(&[
    Transition {
        action: EntryAction::Submit,
        from: &[EntryStatus::Draft],
        to: Target::To(EntryStatus::InReview),
        roles: &[Role::ServiceUnit],
        reason_required: false,
        event: "knowledge_entry.submitted",
    },
    Transition {
        action: EntryAction::Return,
        from: &[EntryStatus::InReview],
        to: Target::To(EntryStatus::Draft),
        roles: &[Role::ServiceUnit, Role::Ministry],
        reason_required: true,
        event: "knowledge_entry.returned",
    },
    Transition {
        action: EntryAction::Publish,
        from: &[EntryStatus::InReview],
        to: Target::To(EntryStatus::Published),
        roles: &[Role::ServiceUnit, Role::Ministry],
        reason_required: false,
        event: "knowledge_entry.published",
    },
    Transition {
        action: EntryAction::Archive,
        from: &[EntryStatus::Published],
        to: Target::To(EntryStatus::Archived),
        roles: &[Role::ServiceUnit],
        reason_required: false,
        event: "knowledge_entry.archived",
    },
]);

/// A knowledge entry.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"id": "0193a6a4-8d2e-7c41-9a57-52f3e2d0b8e1", "kind": "good_practice",
    "title": "Telemedizinische Fallkonferenzen im Vogelsbergkreis",
    "body": "Hausarztpraxen und die Klinik besprechen einmal im Monat schwierige Fälle per Video.",
    "topics": ["telemedizinische-fallkonferenzen"], "visibility": "public", "status": "published",
    "applicationIds": [], "proofIds": [], "reviewDueOn": "2027-11-30", "author": "serviceeinheit-1",
    "publishedAt": "2026-11-28T10:00:00Z", "snippet": null, "allowedActions": ["archive"], "version": 3,
    "createdAt": "2026-11-27T10:00:00Z", "updatedAt": "2026-11-28T10:00:00Z"}))]
pub struct KnowledgeEntry {
    pub id: Uuid,
    pub kind: EntryKind,
    #[schema(max_length = 200)]
    pub title: String,
    #[schema(max_length = 20000)]
    pub body: String,
    /// Topic codes.
    #[schema(max_items = 20, max_length = 60)]
    pub topics: Vec<String>,
    pub visibility: Visibility,
    pub status: EntryStatus,
    /// The funded projects the entry draws on (staff only; empty for everyone else).
    #[schema(max_items = 20)]
    pub application_ids: Vec<Uuid>,
    /// Accepted proofs of use of the funded projects it draws on (staff only; empty for everyone else).
    #[schema(max_items = 20)]
    pub proof_ids: Vec<Uuid>,
    /// When the entry is to be checked again.
    pub review_due_on: Option<NaiveDate>,
    /// Who wrote it (staff only; `null` for everyone else).
    #[schema(max_length = 200)]
    pub author: Option<String>,
    pub published_at: Option<DateTime<Utc>>,
    /// With `q`: the best passages of the body, matches between `<mark>` and `</mark>` (the rest of the text is
    /// escaped for HTML).
    #[schema(max_length = 2000)]
    pub snippet: Option<String>,
    /// The actions the caller's role could take now.
    #[schema(max_items = 10)]
    pub allowed_actions: Vec<EntryAction>,
    #[schema(minimum = 1, maximum = 9223372036854775807i64)]
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

crate::versioned!(KnowledgeEntry);

/// A new entry, and the state a merge patch produces.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"kind": "good_practice", "title": "Telemedizinische Fallkonferenzen im Vogelsbergkreis",
    "body": "Hausarztpraxen und die Klinik besprechen einmal im Monat schwierige Fälle per Video.",
    "topics": ["telemedizinische-fallkonferenzen"], "visibility": "public", "reviewDueOn": "2027-11-30"}))]
pub struct EntryInput {
    #[validate(required)]
    #[schema(value_type = EntryKind, required = true)]
    pub kind: Option<EntryKind>,
    #[validate(required, length(min = 3, max = 200))]
    #[schema(value_type = String, required = true, min_length = 3, max_length = 200)]
    pub title: Option<String>,
    #[serde(default)]
    #[validate(length(max = 20000))]
    #[schema(max_length = 20000)]
    pub body: String,
    /// Codes of active topics (`GET /topics`).
    #[serde(default)]
    #[validate(length(max = 20))]
    #[schema(max_items = 20, max_length = 60, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$")]
    pub topics: Vec<String>,
    #[validate(required)]
    #[schema(value_type = Visibility, required = true)]
    pub visibility: Option<Visibility>,
    /// Applications the entry draws on.
    #[serde(default)]
    #[validate(length(max = 20))]
    #[schema(max_items = 20)]
    pub application_ids: Vec<Uuid>,
    /// Accepted proofs of use (Verwendungsnachweise) the entry draws on.
    #[serde(default)]
    #[validate(length(max = 20))]
    #[schema(max_items = 20)]
    pub proof_ids: Vec<Uuid>,
    pub review_due_on: Option<NaiveDate>,
}

impl Checked for EntryInput {
    fn cross_field_errors(&self) -> Vec<FieldError> {
        let mut errors = crate::vocabulary::shape_errors(&self.topics, "/topics");
        for (field, ids) in [("applicationIds", &self.application_ids), ("proofIds", &self.proof_ids)] {
            for (i, id) in ids.iter().enumerate() {
                if ids[..i].contains(id) {
                    errors.push(FieldError::new(
                        format!("/{field}/{i}"),
                        "duplicate",
                        crate::error::MessageParams::default(),
                    ));
                }
            }
        }
        errors
    }
}

/// Body of `return`: why the entry goes back to its author.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"reason": "Bitte die Ansprechperson ergänzen."}))]
pub struct EntryReturn {
    #[validate(required, length(min = 3, max = 2000))]
    #[schema(value_type = String, required = true, min_length = 3, max_length = 2000)]
    pub reason: Option<String>,
}

impl Checked for EntryReturn {}

/// Filters of `GET /knowledge-entries`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListEntries {
    /// German full text over title and body (`"…"` for phrases, `-word` to exclude); results by relevance, each
    /// with a `snippet`.
    pub q: Option<String>,
    /// Entries about this topic or one of its sub-topics (a topic code).
    pub topic: Option<String>,
    pub kind: Option<EntryKind>,
    /// Staff only (everyone else reads published entries).
    pub status: Option<EntryStatus>,
    pub visibility: Option<Visibility>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// Opaque cursor from `nextCursor` of the previous page.
    pub cursor: Option<String>,
    /// Also return the number of all matching items.
    pub include_total: Option<bool>,
}
