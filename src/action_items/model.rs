//! Action items (Arbeitsaufträge aus Sitzungen): states, lifecycle (as data), assignees and request types.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::core::identity::Role;
use crate::core::lifecycle::{Lifecycle, Target, Transition};
use crate::error::validation::Checked;
use crate::error::{FieldError, MessageParams};
use crate::text_enum;

/// The resource kind of action items in the history and the feed.
pub const KIND: &str = "action_item";

text_enum! {
    /// Who has to act.
    pub enum AssigneeKind {
        /// A municipality or district (`organisationId`).
        Organisation = "organisation",
        /// A committee (`committeeId`).
        Committee = "committee",
        /// The service unit itself.
        ServiceUnit = "service_unit",
    }
}

text_enum! {
    /// State of an action item.
    pub enum ItemStatus {
        Open = "open",
        InProgress = "in_progress",
        Done = "done",
        Cancelled = "cancelled",
    }
}

text_enum! {
    /// A lifecycle action, called as `POST /action-items/{id}/{action}`.
    pub enum ItemAction {
        Start = "start",
        Complete = "complete",
        Cancel = "cancel",
    }
}

/// The lifecycle, written once: handlers, the 409 answers, history, events and docs/coordination.md use it. A
/// municipality acts only on items assigned to its own organisation.
pub const LIFECYCLE: Lifecycle<ItemStatus, ItemAction> = Lifecycle::new(&[
    Transition {
        action: ItemAction::Start,
        from: &[ItemStatus::Open],
        to: Target::To(ItemStatus::InProgress),
        roles: &[Role::ServiceUnit, Role::Municipality],
        reason_required: false,
        event: "action_item.started",
    },
    Transition {
        action: ItemAction::Complete,
        from: &[ItemStatus::Open, ItemStatus::InProgress],
        to: Target::To(ItemStatus::Done),
        roles: &[Role::ServiceUnit, Role::Municipality],
        reason_required: false,
        event: "action_item.completed",
    },
    Transition {
        action: ItemAction::Cancel,
        from: &[ItemStatus::Open, ItemStatus::InProgress],
        to: Target::To(ItemStatus::Cancelled),
        roles: &[Role::ServiceUnit],
        reason_required: true,
        event: "action_item.cancelled",
    },
]);

/// A follow-up assigned by a meeting.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"id": "0193a6a4-8d2e-7c41-9a57-52f3e2d0b8f1",
    "meetingId": "0193a6a4-8d2e-7c41-9a57-52f3e2d0b8d1", "committeeId": "0193a6a4-8d2e-7c41-9a57-52f3e2d0b8a4",
    "agendaIndex": 0, "title": "Pilotregionen für Fallkonferenzen benennen", "description": "",
    "assignee": "organisation", "organisationId": "0193a6a4-0000-7000-8000-000000000001", "assigneeCommitteeId": null,
    "district": "06535", "dueOn": "2027-04-30", "status": "open", "note": null, "allowedActions": ["start", "complete"],
    "version": 1, "createdAt": "2027-03-10T15:00:00Z", "updatedAt": "2027-03-10T15:00:00Z"}))]
pub struct ActionItem {
    pub id: Uuid,
    pub meeting_id: Uuid,
    /// The committee whose meeting assigned it.
    pub committee_id: Uuid,
    /// The agenda item (position in the meeting's agenda, from 0) it follows from.
    #[schema(minimum = 0, maximum = 49)]
    pub agenda_index: Option<i32>,
    #[schema(max_length = 300)]
    pub title: String,
    #[schema(max_length = 5000)]
    pub description: String,
    pub assignee: AssigneeKind,
    /// With assignee `organisation`.
    pub organisation_id: Option<Uuid>,
    /// With assignee `committee`: the committee that has to act.
    pub assignee_committee_id: Option<Uuid>,
    /// The assignee organisation's district.
    #[schema(pattern = "^06[0-9]{3}$")]
    pub district: Option<String>,
    pub due_on: NaiveDate,
    pub status: ItemStatus,
    /// What was done, or why it was cancelled.
    #[schema(max_length = 2000)]
    pub note: Option<String>,
    /// The actions the caller could take now.
    #[schema(max_items = 3)]
    pub allowed_actions: Vec<ItemAction>,
    #[schema(minimum = 1, maximum = 9223372036854775807i64)]
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

crate::versioned!(ActionItem);

/// A new action item, and the state a merge patch produces.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"title": "Pilotregionen für Fallkonferenzen benennen", "agendaIndex": 0,
    "assignee": "organisation", "organisationId": "0193a6a4-0000-7000-8000-000000000001", "dueOn": "2027-04-30"}))]
pub struct NewActionItem {
    #[validate(required, length(min = 3, max = 300))]
    #[schema(value_type = String, required = true, min_length = 3, max_length = 300)]
    pub title: Option<String>,
    #[serde(default)]
    #[validate(length(max = 5000))]
    #[schema(max_length = 5000)]
    pub description: String,
    /// Position of the agenda item (from 0) it follows from.
    #[validate(range(min = 0, max = 49))]
    #[schema(minimum = 0, maximum = 49)]
    pub agenda_index: Option<i32>,
    #[validate(required)]
    #[schema(value_type = AssigneeKind, required = true)]
    pub assignee: Option<AssigneeKind>,
    /// Required with assignee `organisation`, absent otherwise.
    pub organisation_id: Option<Uuid>,
    /// Required with assignee `committee`, absent otherwise.
    pub assignee_committee_id: Option<Uuid>,
    #[validate(required)]
    #[schema(value_type = NaiveDate, required = true)]
    pub due_on: Option<NaiveDate>,
}

impl Checked for NewActionItem {
    /// The assignee's id goes with its kind, and only with it.
    fn cross_field_errors(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let (org, committee) = (self.organisation_id.is_some(), self.assignee_committee_id.is_some());
        let (want_org, want_committee) = match self.assignee {
            Some(AssigneeKind::Organisation) => (true, false),
            Some(AssigneeKind::Committee) => (false, true),
            Some(AssigneeKind::ServiceUnit) => (false, false),
            None => return errors,
        };
        for (field, has, wanted) in [
            ("/organisationId", org, want_org),
            ("/assigneeCommitteeId", committee, want_committee),
        ] {
            if wanted && !has {
                errors.push(FieldError::new(field, "required", MessageParams::default()));
            } else if has && !wanted {
                errors.push(FieldError::new(
                    field,
                    "not_allowed",
                    MessageParams::detail("only with the matching assignee"),
                ));
            }
        }
        errors
    }
}

/// Body of `complete` (optional): what was done.
#[derive(Debug, Clone, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"reason": "Die Pilotregionen sind benannt: Fulda und Vogelsberg."}))]
pub struct ItemDone {
    #[validate(length(min = 3, max = 2000))]
    #[schema(min_length = 3, max_length = 2000)]
    pub reason: Option<String>,
}

impl Checked for ItemDone {}

/// Body of `cancel`: why not.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"reason": "Die Pilotregionen sind benannt: Fulda und Vogelsberg."}))]
pub struct ItemNote {
    #[validate(required, length(min = 3, max = 2000))]
    #[schema(value_type = String, required = true, min_length = 3, max_length = 2000)]
    pub reason: Option<String>,
}

impl Checked for ItemNote {}

/// Filters of `GET /action-items`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListActionItems {
    pub status: Option<ItemStatus>,
    pub assignee: Option<AssigneeKind>,
    /// Items of this committee's meetings.
    pub committee: Option<Uuid>,
    /// Items of this meeting.
    pub meeting: Option<Uuid>,
    /// Items assigned to this organisation.
    pub organisation: Option<Uuid>,
    /// Only items due on or before this day.
    pub due_before: Option<NaiveDate>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// Opaque cursor from `nextCursor` of the previous page.
    pub cursor: Option<String>,
    /// Also return the number of all matching items.
    pub include_total: Option<bool>,
}
