//! Themen: the topic register's types and rules.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::error::validation::Checked;
use crate::error::{FieldError, MessageParams};
use crate::text_enum;

/// The resource kind of topics in the history and the feed.
pub const KIND: &str = "topic";

/// The deepest a topic may sit below a top-level topic (a top-level topic is depth 0).
pub const MAX_DEPTH: usize = 4;

text_enum! {
    /// Whether a topic may be used.
    pub enum TopicStatus {
        /// In use: records may carry it.
        Active = "active",
        /// Kept for what carried it, no longer given to new records (a merged topic names its successor).
        Archived = "archived",
    }
}

/// A topic of the register.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"code": "telemedizinische-fallkonferenzen", "title": "Telemedizinische Fallkonferenzen",
    "parent": "telemedizin", "path": ["telemedizin"], "status": "active", "mergedInto": null, "version": 1,
    "createdAt": "2026-11-28T09:00:00Z", "updatedAt": "2026-11-28T09:00:00Z"}))]
pub struct Topic {
    /// Lower-case letters, digits and single hyphens; never changes.
    #[schema(max_length = 60, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$")]
    pub code: String,
    #[schema(max_length = 200)]
    pub title: String,
    /// The broader topic; `null` for a top-level topic.
    #[schema(max_length = 60)]
    pub parent: Option<String>,
    /// The codes from the top-level topic down to the parent.
    #[schema(max_items = 4)]
    pub path: Vec<String>,
    pub status: TopicStatus,
    /// The topic this one was merged into (it is archived).
    #[schema(max_length = 60)]
    pub merged_into: Option<String>,
    #[schema(minimum = 1, maximum = 9223372036854775807i64)]
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

crate::versioned!(Topic);

fn validate_code(code: &str) -> Result<(), validator::ValidationError> {
    if crate::core::types::is_topic_code(code) {
        Ok(())
    } else {
        Err(crate::error::validation::rule_error(
            "invalid_format",
            &[("format", crate::error::Format::TopicCode.key().into())],
        ))
    }
}

/// A new topic.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"code": "telemedizinische-fallkonferenzen", "title": "Telemedizinische Fallkonferenzen",
    "parent": "telemedizin"}))]
pub struct NewTopic {
    #[validate(required, custom(function = "validate_code"))]
    #[schema(value_type = String, required = true, max_length = 60, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$")]
    pub code: Option<String>,
    #[validate(required, length(min = 2, max = 200))]
    #[schema(value_type = String, required = true, min_length = 2, max_length = 200)]
    pub title: Option<String>,
    /// An active topic's code; none for a top-level topic.
    #[validate(custom(function = "validate_code"))]
    #[schema(max_length = 60, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$")]
    pub parent: Option<String>,
}

impl Checked for NewTopic {}

/// Changes to a topic (JSON Merge Patch): its title, its place in the tree, its status. The code never changes;
/// a topic is retired by archiving it or by merging it into another.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"title": "Telemedizin und digitale Versorgung"}))]
pub struct PatchTopic {
    #[validate(required, length(min = 2, max = 200))]
    #[schema(value_type = String, required = false, min_length = 2, max_length = 200)]
    pub title: Option<String>,
    /// `null` makes it a top-level topic.
    #[validate(custom(function = "validate_code"))]
    #[schema(max_length = 60, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$")]
    pub parent: Option<String>,
    #[validate(required)]
    #[schema(value_type = TopicStatus, required = false)]
    pub status: Option<TopicStatus>,
}

impl Checked for PatchTopic {}

/// Body of `merge`: the topic that takes this one's place.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"into": "telemedizin"}))]
pub struct Merge {
    #[validate(required, custom(function = "validate_code"))]
    #[schema(value_type = String, required = true, max_length = 60, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$")]
    pub into: Option<String>,
}

impl Checked for Merge {}

/// Filters of `GET /topics`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListTopics {
    /// Only the direct sub-topics of this topic (`parent=` with no value is not allowed; omit it for all).
    pub parent: Option<String>,
    /// Only topics in this state (default: every state).
    pub status: Option<TopicStatus>,
    /// Only topics whose title contains this text (case-insensitive).
    pub q: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// Opaque cursor from `nextCursor` of the previous page.
    pub cursor: Option<String>,
    /// Also return the number of all matching items.
    pub include_total: Option<bool>,
}

/// A parent that would put the topic below itself, or too deep.
pub fn parent_error(reason: &str) -> FieldError {
    FieldError::new("/parent", "invalid_value", MessageParams::detail(reason))
}
