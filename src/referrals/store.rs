//! Every SQL statement on the referral tables, behind the visibility filter [`visible`]: a municipality's reads and
//! writes are always restricted to what it may see, so a handler cannot forget it.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::dsl::{exists, sql};
use diesel::prelude::*;
use diesel::sql_types::Bool;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::model::*;
use crate::audit::history::{self, HistoryEntry};
use crate::audit::{self, Audience, Change};
use crate::core::identity::{Caller, Role};
use crate::core::types::is_district_ags;
use crate::db::schema::{applications, committees, districts, organisations, referral_targets, referrals};
use crate::error::Format;
use crate::error::{ApiError, ApiResult, FieldError, MessageParams};
use crate::http::extract::Expected;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = referrals)]
struct Row {
    id: Uuid,
    direction: String,
    origin_organisation_id: Option<Uuid>,
    origin_district_ags: Option<String>,
    origin_committee_id: Option<Uuid>,
    subject: String,
    description: String,
    topics: Vec<String>,
    due_date: Option<NaiveDate>,
    status: String,
    outcome: Option<String>,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

// ---- queries ----

type Boxed = referrals::BoxedQuery<'static, diesel::pg::Pg>;

/// Every referral the caller may see: a municipality those from its organisation or district and those forwarded
/// to its district.
fn visible(caller: &Caller) -> ApiResult<Boxed> {
    let query = referrals::table.into_boxed();
    match caller.role {
        Role::ServiceUnit | Role::Ministry => Ok(query),
        Role::Municipality => {
            let org = caller
                .org
                .as_ref()
                .ok_or_else(|| ApiError::internal("municipality without organisation"))?;
            let forwarded_here = exists(
                referral_targets::table
                    .filter(referral_targets::referral_id.eq(referrals::id))
                    .filter(referral_targets::district_ags.eq(org.district_ags.clone())),
            );
            Ok(query.filter(
                referrals::origin_organisation_id
                    .eq(org.id)
                    .or(referrals::origin_district_ags.eq(org.district_ags.clone()))
                    .or(forwarded_here),
            ))
        }
    }
}

async fn find_row(conn: &mut AsyncPgConnection, caller: &Caller, id: Uuid) -> ApiResult<Row> {
    Ok(visible(caller)?
        .filter(referrals::id.eq(id))
        .select(Row::as_select())
        .first(conn)
        .await?)
}

type TargetRow = (
    Uuid,
    Uuid,
    Option<Uuid>,
    Option<String>,
    String,
    Option<String>,
    Option<DateTime<Utc>>,
);

/// Builds the representations of `rows` with their targets, origins and applications (three queries in all).
async fn expand(conn: &mut AsyncPgConnection, caller: &Caller, rows: Vec<Row>) -> ApiResult<Vec<Referral>> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let targets: Vec<TargetRow> = referral_targets::table
        .filter(referral_targets::referral_id.eq_any(&ids))
        .order(referral_targets::id.asc())
        .select((
            referral_targets::id,
            referral_targets::referral_id,
            referral_targets::committee_id,
            referral_targets::district_ags,
            referral_targets::state,
            referral_targets::answer,
            referral_targets::answered_at,
        ))
        .load(conn)
        .await?;
    let mut committee_ids: Vec<Uuid> = targets.iter().filter_map(|t| t.2).collect();
    committee_ids.extend(rows.iter().filter_map(|r| r.origin_committee_id));
    let committee_names: std::collections::HashMap<Uuid, String> = committees::table
        .filter(committees::id.eq_any(&committee_ids))
        .select((committees::id, committees::name))
        .load::<(Uuid, String)>(conn)
        .await?
        .into_iter()
        .collect();
    let org_ids: Vec<Uuid> = rows.iter().filter_map(|r| r.origin_organisation_id).collect();
    let org_names: std::collections::HashMap<Uuid, String> = organisations::table
        .filter(organisations::id.eq_any(&org_ids))
        .select((organisations::id, organisations::name))
        .load::<(Uuid, String)>(conn)
        .await?
        .into_iter()
        .collect();
    let mut linked = applications::table
        .filter(applications::referral_id.eq_any(ids.iter().map(|i| Some(*i)).collect::<Vec<_>>()))
        .select((applications::referral_id, applications::id))
        .into_boxed();
    if let (Role::Municipality, Some(org)) = (caller.role, &caller.org) {
        linked = linked.filter(applications::organisation_id.eq(org.id));
    }
    let linked: Vec<(Option<Uuid>, Uuid)> = linked.order(applications::id.asc()).load(conn).await?;
    let named = |id: Uuid, names: &std::collections::HashMap<Uuid, String>| NamedRef {
        id,
        name: names.get(&id).cloned().unwrap_or_default(),
    };
    let today = crate::core::time::today_in_hessen();
    rows.into_iter()
        .map(|r| {
            let status: ReferralStatus = r.status.parse().map_err(ApiError::internal)?;
            // A municipality that is only a target sees its own district's part, not others' answers.
            let own_part_only = match (caller.role, &caller.org) {
                (Role::Municipality, Some(org)) => {
                    r.origin_organisation_id != Some(org.id)
                        && r.origin_district_ags.as_deref() != Some(org.district_ags.as_str())
                }
                _ => false,
            };
            let my_district = caller.org.as_ref().map(|o| o.district_ags.clone());
            let targets = targets
                .iter()
                .filter(|t| t.1 == r.id)
                .filter(|t| !own_part_only || t.3 == my_district)
                .map(|t| {
                    Ok(Target {
                        id: t.0,
                        committee: t.2.map(|c| named(c, &committee_names)),
                        district: t.3.clone(),
                        state: t.4.parse().map_err(ApiError::internal)?,
                        answer: t.5.clone(),
                        answered_at: t.6,
                    })
                })
                .collect::<ApiResult<Vec<_>>>()?;
            Ok(Referral {
                id: r.id,
                direction: r.direction.parse().map_err(ApiError::internal)?,
                origin: Origin {
                    organisation: r.origin_organisation_id.map(|o| named(o, &org_names)),
                    district: r.origin_district_ags,
                    committee: r.origin_committee_id.map(|c| named(c, &committee_names)),
                },
                subject: r.subject,
                description: r.description,
                topics: r.topics,
                overdue: r.due_date.is_some_and(|d| d < today)
                    && !matches!(status, ReferralStatus::Closed | ReferralStatus::Declined),
                due_date: r.due_date,
                status,
                outcome: r.outcome,
                targets,
                application_ids: linked
                    .iter()
                    .filter(|l| l.0 == Some(r.id))
                    .map(|l| l.1)
                    .take(crate::http::pagination::MAX_UNPAGED as usize)
                    .collect(),
                version: r.version,
                created_at: r.created_at,
                updated_at: r.updated_at,
            })
        })
        .collect()
}

pub async fn find(conn: &mut AsyncPgConnection, caller: &Caller, id: Uuid) -> ApiResult<Referral> {
    let row = find_row(conn, caller, id).await?;
    expand(conn, caller, vec![row]).await?.pop().ok_or(ApiError::NotFound)
}

/// Whether the caller may see the referral (used by applications that name one).
pub async fn is_visible(conn: &mut AsyncPgConnection, caller: &Caller, id: Uuid) -> ApiResult<bool> {
    Ok(diesel::select(exists(visible(caller)?.filter(referrals::id.eq(id))))
        .get_result(conn)
        .await?)
}

/// The referral's timeline, oldest first (404 unless the caller may see the referral).
pub(super) async fn timeline(conn: &mut AsyncPgConnection, caller: &Caller, id: Uuid) -> ApiResult<Vec<HistoryEntry>> {
    find_row(conn, caller, id).await?;
    history::list(conn, KIND, id).await
}

pub(super) async fn insert(conn: &mut AsyncPgConnection, caller: &Caller, r: NewReferral) -> ApiResult<Referral> {
    let direction = r.direction.unwrap_or(Direction::RegionToCommittee);
    let mut errors = Vec::new();
    let (org, committee) = match (caller.role, direction) {
        (Role::Municipality, Direction::RegionToCommittee) => {
            if r.origin_organisation.is_some() || r.origin_committee_id.is_some() {
                errors.push(FieldError::new(
                    "/originOrganisation",
                    "invalid_value",
                    MessageParams::allowed("nothing: a municipality sends from its own organisation"),
                ));
            }
            (caller.org.clone(), None)
        }
        (Role::Municipality, Direction::CommitteeToRegion) => return Err(ApiError::Forbidden),
        (_, Direction::RegionToCommittee) => {
            let org = match &r.origin_organisation {
                Some(key) => crate::auth::org_scope(conn, key).await?,
                None => None,
            };
            if org.is_none() {
                errors.push(FieldError::new(
                    "/originOrganisation",
                    if r.origin_organisation.is_some() {
                        "unknown_reference"
                    } else {
                        "required"
                    },
                    MessageParams::default(),
                ));
            }
            (org, None)
        }
        (_, Direction::CommitteeToRegion) => {
            let known = match r.origin_committee_id {
                Some(c) => {
                    diesel::select(exists(committees::table.find(c)))
                        .get_result(conn)
                        .await?
                }
                None => false,
            };
            if !known {
                errors.push(FieldError::new(
                    "/originCommitteeId",
                    if r.origin_committee_id.is_some() {
                        "unknown_reference"
                    } else {
                        "required"
                    },
                    MessageParams::default(),
                ));
            }
            (None, r.origin_committee_id)
        }
    };
    match crate::vocabulary::check(conn, &r.topics, "/topics", &[]).await {
        Err(ApiError::Validation(unknown)) => errors.extend(unknown),
        other => other?,
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let id: Uuid = diesel::insert_into(referrals::table)
        .values((
            referrals::direction.eq(direction.as_str()),
            referrals::origin_organisation_id.eq(org.as_ref().map(|o| o.id)),
            referrals::origin_district_ags.eq(org.as_ref().map(|o| o.district_ags.clone())),
            referrals::origin_committee_id.eq(committee),
            referrals::subject.eq(r.subject.unwrap_or_default()),
            referrals::description.eq(r.description),
            referrals::topics.eq(r.topics),
            referrals::due_date.eq(r.due_date),
        ))
        .returning(referrals::id)
        .get_result(conn)
        .await?;
    let change = Change::new(KIND, id, "create", "referral.created", Audience::default())
        .states(None::<ReferralStatus>, ReferralStatus::Received);
    record(conn, caller, change).await?;
    find(conn, caller, id).await
}

/// Emits `referral.created` with the referral as it is now (the feed's backfill of seeded rows).
pub async fn snapshot(conn: &mut AsyncPgConnection, id: Uuid) -> ApiResult<()> {
    let (full, audience) = full_view(conn, id).await?;
    audit::backfill(conn, KIND, id, "referral.created", audience, &full).await
}

/// The full representation (the feed trims it per reader, [`crate::events::redact`]) and who may see it: the origin
/// organisation and district, and every target district.
async fn full_view(conn: &mut AsyncPgConnection, id: Uuid) -> ApiResult<(Referral, Audience)> {
    let full = find(conn, &Caller::system(), id).await?;
    let mut districts: Vec<String> = full.targets.iter().filter_map(|t| t.district.clone()).collect();
    districts.extend(full.origin.district.clone());
    let audience = Audience {
        org_ids: full.origin.organisation.iter().map(|o| o.id).collect(),
        districts,
        ..Default::default()
    };
    Ok((full, audience))
}

/// Who reads the referral besides staff: its origin organisation and district and every target district (the events
/// of its files go to them).
pub async fn audience_of(conn: &mut AsyncPgConnection, id: Uuid) -> ApiResult<Audience> {
    Ok(full_view(conn, id).await?.1)
}

/// Records a change with the referral as it is after the change (the audience follows from it).
async fn record(conn: &mut AsyncPgConnection, caller: &Caller, mut change: Change<'_>) -> ApiResult<()> {
    let (full, audience) = full_view(conn, change.id).await?;
    change.audience = audience;
    audit::record(conn, caller, change, &full).await
}

async fn add_targets(conn: &mut AsyncPgConnection, id: Uuid, targets: &[NewTarget]) -> ApiResult<()> {
    let existing: i64 = referral_targets::table
        .filter(referral_targets::referral_id.eq(id))
        .count()
        .get_result(conn)
        .await?;
    if existing + targets.len() as i64 > MAX_TARGETS {
        return Err(ApiError::Validation(vec![FieldError::new(
            "/targets",
            "too_long",
            MessageParams::max((MAX_TARGETS - existing).max(0)),
        )]));
    }
    let mut errors = Vec::new();
    for (i, t) in targets.iter().enumerate() {
        let known: bool = match (&t.committee_id, &t.district) {
            (Some(c), _) => {
                diesel::select(exists(committees::table.find(*c)))
                    .get_result(conn)
                    .await?
            }
            (_, Some(d)) => {
                diesel::select(exists(districts::table.find(d)))
                    .get_result(conn)
                    .await?
            }
            _ => false,
        };
        if !known {
            errors.push(FieldError::new(
                format!("/targets/{i}"),
                "unknown_reference",
                MessageParams::default(),
            ));
            continue;
        }
        let inserted = diesel::insert_into(referral_targets::table)
            .values((
                referral_targets::referral_id.eq(id),
                referral_targets::committee_id.eq(t.committee_id),
                referral_targets::district_ags.eq(&t.district),
            ))
            .on_conflict_do_nothing()
            .execute(conn)
            .await?;
        if inserted == 0 {
            errors.push(FieldError::new(
                format!("/targets/{i}"),
                "duplicate",
                MessageParams::default(),
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// Moves a referral: lock, state check, the action's own work, version and timeline, in the caller's transaction.
pub(super) async fn act(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    id: Uuid,
    action: ReferralAction,
    expected: Option<Expected>,
    input: ActionInput,
) -> ApiResult<Referral> {
    referrals::table
        .find(id)
        .select(referrals::id)
        .for_update()
        .first::<Uuid>(conn)
        .await
        .optional()?;
    let current = find_row(conn, caller, id).await?;
    if let Some(expected) = expected {
        expected.check(current.version)?;
    }
    let status: ReferralStatus = current.status.parse().map_err(ApiError::internal)?;
    let rule = LIFECYCLE.check(status, action)?;
    let mut to = rule.target(status);
    let mut outcome = current.outcome.clone();
    let note: Option<String>;
    let mut changed = vec![];
    match input {
        ActionInput::Note(n) => note = n,
        ActionInput::Forward(f) => {
            add_targets(conn, id, &f.targets).await?;
            note = f.note;
            changed.push("/targets".to_owned());
        }
        ActionInput::Decline(reason) => {
            outcome = Some(reason.clone());
            note = Some(reason);
        }
        ActionInput::Close(text) => {
            outcome = Some(text.clone());
            note = Some(text);
        }
        ActionInput::Respond(target, answer) => {
            if answer_target(conn, caller, id, target, &answer).await? {
                to = ReferralStatus::Answered;
            }
            note = Some(answer);
            changed.push(format!("/targets/{target}"));
        }
    }
    diesel::update(referrals::table.find(id))
        .set((
            referrals::status.eq(to.as_str()),
            referrals::outcome.eq(&outcome),
            referrals::version.eq(current.version + 1),
            referrals::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    let change = Change::transition(KIND, id, rule, status, to, Audience::default())
        .reason(note.as_deref())
        .changed(changed);
    record(conn, caller, change).await?;
    find(conn, caller, id).await
}

/// The effect of `respond`: records the answer of one target. A municipality answers for its own district, the
/// service unit on a committee's behalf. Returns whether every target has answered now (the referral becomes
/// `answered`).
async fn answer_target(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    id: Uuid,
    target: Uuid,
    answer: &str,
) -> ApiResult<bool> {
    let t: Option<(Option<Uuid>, Option<String>, String)> = referral_targets::table
        .filter(referral_targets::id.eq(target))
        .filter(referral_targets::referral_id.eq(id))
        .select((
            referral_targets::committee_id,
            referral_targets::district_ags,
            referral_targets::state,
        ))
        .first(conn)
        .await
        .optional()?;
    let Some((committee, district, state)) = t else {
        return Err(ApiError::Validation(vec![FieldError::new(
            "/targetId",
            "unknown_reference",
            MessageParams::detail("not a target of this referral"),
        )]));
    };
    let may = match caller.role {
        Role::Municipality => district.is_some() && district == caller.org.as_ref().map(|o| o.district_ags.clone()),
        Role::ServiceUnit => committee.is_some(),
        Role::Ministry => false,
    };
    if !may {
        return Err(ApiError::Forbidden);
    }
    if state == TargetState::Answered.as_str() {
        return Err(ApiError::conflict("already_answered", MessageParams::default()));
    }
    diesel::update(referral_targets::table.find(target))
        .set((
            referral_targets::state.eq(TargetState::Answered.as_str()),
            referral_targets::answer.eq(answer),
            referral_targets::answered_at.eq(diesel::dsl::now),
            referral_targets::answered_by.eq(&caller.sub),
        ))
        .execute(conn)
        .await?;
    let pending: i64 = referral_targets::table
        .filter(referral_targets::referral_id.eq(id))
        .filter(referral_targets::state.eq(TargetState::Pending.as_str()))
        .count()
        .get_result(conn)
        .await?;
    Ok(pending == 0)
}

// ---- lists ----

const OPEN: &str = "referrals.status NOT IN ('closed', 'declined') AND referrals.due_date IS NOT NULL";

/// The topic filter with its sub-topics.
async fn topic_codes(conn: &mut AsyncPgConnection, q: &ListReferrals) -> ApiResult<Option<Vec<String>>> {
    Ok(match &q.topic {
        Some(t) => Some(crate::vocabulary::with_descendants(conn, t).await?),
        None => None,
    })
}

fn filtered(caller: &Caller, q: &ListReferrals, topics: Option<Vec<String>>) -> ApiResult<Boxed> {
    let mut query = visible(caller)?;
    if let Some(wanted) = &q.status {
        let mut statuses = Vec::new();
        for part in wanted.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let status: ReferralStatus = part.parse().map_err(|_| {
                let allowed: Vec<&str> = ReferralStatus::ALL.iter().map(|s| s.as_str()).collect();
                ApiError::BadRequest(vec![FieldError::new(
                    "/query/status",
                    "invalid_value",
                    MessageParams::allowed(allowed.join(", ")),
                )])
            })?;
            statuses.push(status.as_str());
        }
        query = query.filter(referrals::status.eq_any(statuses));
    }
    if let Some(d) = q.direction {
        query = query.filter(referrals::direction.eq(d.as_str()));
    }
    if let Some(codes) = topics {
        query = query.filter(referrals::topics.overlaps_with(codes));
    }
    if let Some(overdue) = q.overdue {
        let today = crate::core::time::today_in_hessen();
        let condition = sql::<Bool>(&format!("({OPEN} AND referrals.due_date < "))
            .bind::<diesel::sql_types::Date, _>(today)
            .sql(")");
        query = if overdue {
            query.filter(condition)
        } else {
            query.filter(diesel::dsl::not(condition))
        };
    }
    if let Some(d) = &q.district {
        if !is_district_ags(d) {
            return Err(ApiError::BadRequest(vec![FieldError::new(
                "/query/district",
                "invalid_format",
                MessageParams::format(Format::DistrictAgs),
            )]));
        }
        query = query.filter(
            referrals::origin_district_ags.eq(d.clone()).or(exists(
                referral_targets::table
                    .filter(referral_targets::referral_id.eq(referrals::id))
                    .filter(referral_targets::district_ags.eq(d.clone())),
            )),
        );
    }
    if let Some(c) = q.committee {
        query = query.filter(
            referrals::origin_committee_id.eq(c).or(exists(
                referral_targets::table
                    .filter(referral_targets::referral_id.eq(referrals::id))
                    .filter(referral_targets::committee_id.eq(c)),
            )),
        );
    }
    if let Some(text) = &q.q {
        query = query.filter(referrals::subject.ilike(crate::core::types::like_pattern(text)));
    }
    Ok(query)
}

/// Checks the list's filters (400 for an unknown state or a malformed district) before anything else is parsed.
pub(super) fn check_filters(caller: &Caller, q: &ListReferrals) -> ApiResult<()> {
    filtered(caller, q, None).map(drop)
}

/// How many referrals match the list's filters.
pub(super) async fn count(conn: &mut AsyncPgConnection, caller: &Caller, q: &ListReferrals) -> ApiResult<i64> {
    let topics = topic_codes(conn, q).await?;
    Ok(filtered(caller, q, topics)?.count().get_result(conn).await?)
}

pub(super) async fn page(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    q: &ListReferrals,
    after: Option<Uuid>,
    limit: i64,
) -> ApiResult<Vec<(Referral, Uuid)>> {
    let topics = topic_codes(conn, q).await?;
    let mut query = filtered(caller, q, topics)?
        .select(Row::as_select())
        .order(referrals::id.asc());
    if let Some(after) = after {
        query = query.filter(referrals::id.gt(after));
    }
    let rows: Vec<Row> = query.limit(limit).load(conn).await?;
    Ok(expand(conn, caller, rows)
        .await?
        .into_iter()
        .map(|r| {
            let id = r.id;
            (r, id)
        })
        .collect())
}

/// Every referral that carries topic `from` carries `into` instead (a merge of topics), each with its history entry
/// and `referral.changed` to its readers, in the caller's transaction.
pub async fn replace_topic(conn: &mut AsyncPgConnection, caller: &Caller, from: &str, into: &str) -> ApiResult<()> {
    for id in crate::vocabulary::replace_in(conn, "referrals", from, into).await? {
        let change =
            Change::new(KIND, id, "update", "referral.changed", Audience::default()).changed(vec!["/topics".into()]);
        record(conn, caller, change).await?;
    }
    Ok(())
}
