//! The feed's types and what a municipality may see of an event.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::audit::history::Actor;
use crate::core::identity::{Caller, OrgScope, Role};

/// One event of the feed.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"position": 42, "type": "application.submitted", "resourceKind": "application",
    "resourceId": "0193a6a4-8d2e-7c41-9a57-52f3e2d0b8a1", "occurredAt": "2026-11-22T10:00:00Z",
    "actor": {"sub": "dev-werra-meissner", "role": "municipality", "organisationId": "0193a6a4-0000-7000-8000-000000000001"},
    "data": {"id": "0193a6a4-8d2e-7c41-9a57-52f3e2d0b8a1", "status": "submitted"}}))]
pub struct Event {
    /// The cursor: strictly increasing, without gaps; pass the last one seen as `after`.
    #[schema(minimum = 0, maximum = 9223372036854775807i64)]
    pub position: i64,
    #[serde(rename = "type")]
    #[schema(max_length = 64)]
    pub event_type: String,
    #[schema(max_length = 64)]
    pub resource_kind: String,
    pub resource_id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub actor: Actor,
    /// The resource's representation after the change, as the caller may see it.
    #[schema(value_type = Object)]
    pub data: EventData,
}

/// An event's `data`: the stored JSON text passed through as PostgreSQL sent it, or, where [`redact`] trims it for
/// the reader, the trimmed tree. Parsing every event into a tree only to write it out again was a third of the
/// service's CPU for a feed page (docs/performance.md S9); only the few kinds a municipality sees trimmed need it.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum EventData {
    Stored(Box<serde_json::value::RawValue>),
    Trimmed(serde_json::Value),
}

/// A page of the feed.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventPage {
    #[schema(max_items = 1000)]
    pub items: Vec<Event>,
    /// Pass as `after` for the next call (the last position returned, or `after` itself when nothing new).
    #[schema(minimum = 0, maximum = 9223372036854775807i64)]
    pub next_cursor: i64,
}

/// How a municipality's view of an event of a kind is trimmed; `None`: the event is shown as stored.
pub type Trim = fn(&mut serde_json::Map<String, serde_json::Value>, &OrgScope, &[String]);

/// The trimming of an event of this kind for this reader, if any: the representation a municipality may see, as the
/// resource endpoints give it — coordinators' contact data only within their district; of a consultation neither
/// the internal notes nor who wrote them; of a referral it is only a target of, its own target, and links to
/// applications never (they may be other organisations'; the referral endpoint lists the caller's own). The one
/// place that decides both whether an event is trimmed and how: the feed passes every other event through unparsed.
pub fn trim(caller: &Caller, resource_kind: &str) -> Option<Trim> {
    if caller.role != Role::Municipality || caller.org.is_none() {
        return None;
    }
    match resource_kind {
        crate::coordinators::KIND => Some(|map, org, districts| {
            if !districts.contains(&org.district_ags) {
                map.remove("contact");
            }
        }),
        crate::consultations::KIND => Some(|map, _, _| {
            map.insert("internalNotes".into(), serde_json::Value::Null);
            map.insert("author".into(), serde_json::Value::Null);
        }),
        crate::referrals::KIND => Some(|map, org, _| {
            map.remove("applicationIds");
            // Indexing a `Value` gives null for what is missing; a referral without an origin is not from here.
            let origin = map.get("origin").cloned().unwrap_or_default();
            let from_here = origin["organisation"]["id"] == serde_json::json!(org.id)
                || origin["district"] == serde_json::json!(org.district_ags);
            if !from_here && let Some(serde_json::Value::Array(targets)) = map.get_mut("targets") {
                targets.retain(|t| t["district"] == serde_json::json!(org.district_ags));
            }
        }),
        _ => None,
    }
}

/// `data` as `caller` may see it (see [`trim`]).
pub fn redact(
    caller: &Caller,
    resource_kind: &str,
    districts: &[String],
    mut data: serde_json::Value,
) -> serde_json::Value {
    if let (Some(trim), Some(org), Some(map)) = (trim(caller, resource_kind), caller.org.as_ref(), data.as_object_mut())
    {
        trim(map, org, districts);
    }
    data
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// The last position seen (0 to start from the beginning).
    #[param(minimum = 0, maximum = 9223372036854775807i64)]
    pub after: Option<i64>,
    /// Only these event types, comma-separated (e.g. `application.submitted,referral.forwarded`).
    pub types: Option<String>,
    /// At most this many events, 1–1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
    /// Only events about this topic or one of its sub-topics (a topic code), as the topic tree was when the event
    /// happened.
    pub topic: Option<String>,
    /// Only events concerning this district (AGS): of its organisations, addressed to it, or of a committee covering
    /// it by name (Hessen-wide resources name no district).
    #[param(pattern = "^06[0-9]{3}$")]
    pub district: Option<String>,
    /// Only events of this committee, its meetings and action items, and referrals from or to it.
    pub committee: Option<Uuid>,
}

/// What the events are about: each non-empty list must match one of its values (topics, districts and committees
/// together narrow; an empty list does not filter).
#[derive(Debug, Default, Clone)]
pub struct SubjectQuery {
    pub topics: Vec<String>,
    pub districts: Vec<String>,
    pub committees: Vec<Uuid>,
}

impl SubjectQuery {
    /// Whether no subject filter was asked for.
    pub fn is_empty(&self) -> bool {
        self.topics.is_empty() && self.districts.is_empty() && self.committees.is_empty()
    }
}
