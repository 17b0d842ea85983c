//! Database access for applications. Visibility is applied here, in [`visible`], for every read and write: a
//! municipality's queries are always restricted to its own organisation, so a handler cannot forget it.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::model::*;
use super::rules::submission_errors;
use crate::audit::{self, Audience, Change, history};
use crate::core::identity::{Caller, Role};
use crate::db::cached::CachedDsl;
use crate::db::schema::{application_comments, applications, organisations};
use crate::error::{ApiError, ApiResult, FieldError, MessageParams};
use crate::http::extract::Expected;

pub use super::lists::{Filter, Key, SortField, count, page};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = applications)]
pub struct AppRow {
    pub(super) id: Uuid,
    organisation_id: Uuid,
    district_ags: String,
    funding_line_code: String,
    status: String,
    title: String,
    description: String,
    start_date: Option<NaiveDate>,
    end_date: Option<NaiveDate>,
    total_costs_cents: Option<i64>,
    own_funds_cents: Option<i64>,
    third_party_funds_cents: Option<i64>,
    requested_cents: Option<i64>,
    plan_years: serde_json::Value,
    contact_name: Option<String>,
    contact_email: Option<String>,
    contact_phone: Option<String>,
    referral_id: Option<Uuid>,
    granted_cents: Option<i64>,
    decision_reason: Option<String>,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    submitted_at: Option<DateTime<Utc>>,
    decided_at: Option<DateTime<Utc>>,
    topics: Vec<String>,
}

pub(super) type OrgCols = (organisations::ags, organisations::name);
pub(super) const ORG_COLS: OrgCols = (organisations::ags, organisations::name);

pub type Joined = (AppRow, (Option<String>, String));

pub fn to_api((r, (ags, name)): Joined) -> ApiResult<Application> {
    let years: Vec<PlanYear> = serde_json::from_value(r.plan_years).map_err(ApiError::internal)?;
    Ok(Application {
        id: r.id,
        organisation: OrganisationRef {
            id: r.organisation_id,
            ags,
            name,
        },
        district: r.district_ags,
        funding_line: r.funding_line_code,
        status: r.status.parse().map_err(ApiError::internal)?,
        title: r.title,
        description: r.description,
        start_date: r.start_date,
        end_date: r.end_date,
        financing_plan: FinancingPlan {
            total_costs_cents: r.total_costs_cents,
            own_funds_cents: r.own_funds_cents,
            third_party_funds_cents: r.third_party_funds_cents,
            requested_cents: r.requested_cents,
            years: (!years.is_empty()).then_some(years),
        },
        contact: Contact {
            name: r.contact_name,
            email: r.contact_email,
            phone: r.contact_phone,
        },
        referral_id: r.referral_id,
        granted_cents: r.granted_cents,
        decision_reason: r.decision_reason,
        version: r.version,
        created_at: r.created_at,
        updated_at: r.updated_at,
        submitted_at: r.submitted_at,
        decided_at: r.decided_at,
        topics: r.topics,
    })
}

pub(super) type Boxed =
    diesel::dsl::IntoBoxed<'static, diesel::dsl::InnerJoin<applications::table, organisations::table>, Pg>;

/// Every application the caller may see: a municipality only its own organisation's.
pub fn visible(caller: &Caller) -> ApiResult<Boxed> {
    let query = applications::table.inner_join(organisations::table).into_boxed();
    Ok(match caller.confined_to()? {
        Some(org) => query.filter(applications::organisation_id.eq(org)),
        None => query,
    })
}

/// One visible application (404 otherwise), optionally locked for the rest of the transaction.
pub async fn find(conn: &AsyncPgConnection, caller: &Caller, id: Uuid, lock: bool) -> ApiResult<Application> {
    let read = visible(caller)?
        .filter(applications::id.eq(id))
        .select((AppRow::as_select(), ORG_COLS));
    let row: Joined = if lock {
        // Boxed joins cannot carry FOR UPDATE; lock the row by key first. Holding the lock, the read sees the latest
        // committed state and nobody can change it until this transaction ends. The two statements are pipelined
        // (one round trip); PostgreSQL runs them in order.
        let lock = applications::table
            .find(id)
            .select(applications::id)
            .for_update()
            .first::<Uuid>(&mut &*conn);
        let (_, row) = futures_util::try_join!(lock, read.first(&mut &*conn))?;
        row
    } else {
        read.first(&mut &*conn).await?
    };
    to_api(row)
}

/// The application as a write of the locked row returned it: its organisation is the one read with the lock (no
/// write changes it), so nothing is read again.
fn same_organisation(row: AppRow, current: &Application) -> ApiResult<Application> {
    let org = &current.organisation;
    to_api((row, (org.ags.clone(), org.name.clone())))
}

fn check_version(app: &Application, expected: Option<Expected>) -> ApiResult<()> {
    expected.map_or(Ok(()), |e| e.check(app.version))
}

/// Refuses a funding line that does not exist, a referral the caller cannot see, and a topic that is not active
/// (unless the application carried it already: `kept`).
async fn check_references(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    input: &ApplicationInput,
    kept: &[String],
) -> ApiResult<()> {
    let mut errors = Vec::new();
    match crate::vocabulary::check(conn, &input.topics, "/topics", kept).await {
        Err(ApiError::Validation(unknown)) => errors.extend(unknown),
        other => other?,
    }
    if let Some(code) = &input.funding_line
        && crate::funding_lines::load_rules(conn, code).await?.is_none()
    {
        errors.push(FieldError::new(
            "/fundingLine",
            "unknown_reference",
            MessageParams::detail(format!("no funding line {code}")),
        ));
    }
    if let Some(referral) = input.referral_id
        && !crate::referrals::is_visible(conn, caller, referral).await?
    {
        errors.push(FieldError::new(
            "/referralId",
            "unknown_reference",
            MessageParams::detail(format!("no referral {referral}")),
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// The applicant-editable columns, written the same way by create and by patch. An absent value is written as NULL,
/// never as `DEFAULT` (none of these columns has another default): one statement text for every draft, so the
/// insert stays prepared (src/db/cached.rs).
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = applications, treat_none_as_null = true, treat_none_as_default_value = false)]
struct Content<'a> {
    funding_line_code: &'a str,
    title: &'a str,
    description: &'a str,
    start_date: Option<NaiveDate>,
    end_date: Option<NaiveDate>,
    total_costs_cents: Option<i64>,
    own_funds_cents: Option<i64>,
    third_party_funds_cents: Option<i64>,
    requested_cents: Option<i64>,
    plan_years: serde_json::Value,
    contact_name: Option<&'a str>,
    contact_email: Option<&'a str>,
    contact_phone: Option<&'a str>,
    referral_id: Option<Uuid>,
    topics: &'a [String],
}

fn content(input: &ApplicationInput) -> ApiResult<Content<'_>> {
    let plan = &input.financing_plan;
    Ok(Content {
        funding_line_code: input.funding_line.as_deref().unwrap_or_default(),
        title: input.title.as_deref().unwrap_or_default(),
        description: &input.description,
        start_date: input.start_date,
        end_date: input.end_date,
        total_costs_cents: plan.total_costs_cents,
        own_funds_cents: plan.own_funds_cents,
        third_party_funds_cents: plan.third_party_funds_cents,
        requested_cents: plan.requested_cents,
        plan_years: serde_json::to_value(plan.years.clone().unwrap_or_default()).map_err(ApiError::internal)?,
        contact_name: input.contact.name.as_deref(),
        contact_email: input.contact.email.as_deref(),
        contact_phone: input.contact.phone.as_deref(),
        referral_id: input.referral_id,
        topics: &input.topics,
    })
}

/// Creates a draft for the caller's organisation.
pub async fn insert(conn: &mut AsyncPgConnection, caller: &Caller, input: ApplicationInput) -> ApiResult<Application> {
    let org = caller
        .org
        .as_ref()
        .ok_or_else(|| ApiError::internal("municipality without organisation"))?;
    check_references(conn, caller, &input, &[]).await?;
    // The new row as the insert returns it and its organisation's name, pipelined (one round trip).
    let shared: &AsyncPgConnection = conn;
    let insert = diesel::insert_into(applications::table)
        .values((
            content(&input)?,
            applications::organisation_id.eq(org.id),
            applications::district_ags.eq(&org.district_ags),
        ))
        .returning(AppRow::as_returning())
        .cached()
        .get_result::<AppRow>(&mut &*shared);
    let organisation = organisations::table
        .find(org.id)
        .select(ORG_COLS)
        .first::<(Option<String>, String)>(&mut &*shared);
    let app = to_api(futures_util::try_join!(insert, organisation)?)?;
    let id = app.id;
    let change =
        Change::new(KIND, id, "create", "application.created", audience(&app)).states(None::<Status>, Status::Draft);
    audit::record(conn, caller, change, &app).await?;
    Ok(app)
}

/// Who sees an application's events besides staff: the applicant's organisation.
fn audience(app: &Application) -> Audience {
    Audience::organisation(app.organisation.id)
}

/// The one PATCH flow's step for an application: the row under a lock, the expected version, the state (only a
/// draft or an application sent back may change), the merged and validated content, its references, the write and
/// the audit.
pub async fn update(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    id: Uuid,
    expected: Expected,
    patch: &serde_json::Value,
) -> ApiResult<Application> {
    let current = find(conn, caller, id, true).await?;
    check_version(&current, Some(expected))?;
    if !current.status.editable() {
        return Err(ApiError::conflict(
            "not_editable",
            MessageParams::detail(current.status.as_str()),
        ));
    }
    let Some((input, changed)) = crate::http::patch::merged(&current.input(), patch, &[])? else {
        return Ok(current);
    };
    check_references(conn, caller, &input, &current.topics).await?;
    let row: AppRow = diesel::update(applications::table.find(id))
        .set((
            content(&input)?,
            applications::version.eq(current.version + 1),
            applications::updated_at.eq(diesel::dsl::now),
        ))
        .returning(AppRow::as_returning())
        .cached()
        .get_result(conn)
        .await?;
    let app = same_organisation(row, &current)?;
    let change = Change::new(KIND, id, "update", "application.changed", audience(&app))
        .states(Some(current.status), current.status)
        .changed(changed);
    audit::record(conn, caller, change, &app).await?;
    Ok(app)
}

/// What a transition writes besides the state and the version (`None`: the column stays).
#[derive(AsChangeset, Default)]
#[diesel(table_name = applications)]
struct Effect {
    submitted_at: Option<DateTime<Utc>>,
    decided_at: Option<DateTime<Utc>>,
    granted_cents: Option<i64>,
    /// `Some(None)` clears the reason.
    decision_reason: Option<Option<String>>,
}

/// The documents the funding line requires that the application lacks: one `required` error per category at
/// `/attachments/{category}`. A file counts unless it is infected or still waiting for the scanner (it may turn out
/// infected). Read from the attachments table directly: the attachments module takes its owners' visibility from
/// this one, so it cannot be imported here.
async fn missing_documents(
    conn: &mut AsyncPgConnection,
    application: Uuid,
    required: &[crate::core::documents::ApplicationDocument],
) -> ApiResult<Vec<FieldError>> {
    use crate::db::schema::attachments;
    if required.is_empty() {
        return Ok(Vec::new());
    }
    let present: Vec<String> = attachments::table
        .filter(attachments::owner_kind.eq("application"))
        .filter(attachments::owner_id.eq(application))
        .filter(attachments::scan_state.ne_all(["infected", "pending"]))
        .select(attachments::category)
        .distinct()
        .load(conn)
        .await?;
    Ok(required
        .iter()
        .filter(|d| !present.iter().any(|p| p == d.as_str()))
        .map(|d| FieldError::new(format!("/attachments/{d}"), "required", MessageParams::default()))
        .collect())
}

/// `submit`: the application must satisfy its funding line's rules for the applicant, today in Hessen.
async fn submit(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    current: &Application,
    now: DateTime<Utc>,
) -> ApiResult<Effect> {
    let line = crate::funding_lines::load_rules(conn, &current.funding_line)
        .await?
        .ok_or_else(|| ApiError::internal("application refers to a missing funding line"))?;
    let applicant = caller
        .org
        .as_ref()
        .map(|o| o.kind)
        .ok_or_else(|| ApiError::internal("municipality without organisation"))?;
    // Submitted before: `submitted_at` is set by a successful submit only (which passed the window then) and never
    // cleared, so it says exactly whether this is a resubmission, whichever state the lifecycle allows it from.
    let resubmission = current.submitted_at.is_some();
    let mut errors = submission_errors(
        &current.input(),
        &line,
        applicant,
        crate::core::time::today_in_hessen(),
        resubmission,
    );
    errors.extend(missing_documents(conn, current.id, &line.required_attachments).await?);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    Ok(Effect {
        submitted_at: Some(now),
        decision_reason: Some(None),
        ..Effect::default()
    })
}

/// `approve`: at most what was requested, split by fiscal year (the grant and its shares returned). The shares are
/// committed against the funding line's budgets (which refuse to overcommit) by
/// [`crate::funding_lines::commit_grant`], in the approval's transaction.
async fn approve(
    conn: &mut AsyncPgConnection,
    current: &Application,
    input: &TransitionInput,
    now: DateTime<Utc>,
) -> ApiResult<(Effect, (i64, Vec<(i32, i64)>))> {
    let granted = input
        .granted_cents
        .ok_or_else(|| ApiError::internal("approval without amount"))?;
    let requested = current.financing_plan.requested_cents.unwrap_or(0);
    if granted > requested {
        return Err(ApiError::Validation(vec![FieldError::new(
            "/grantedCents",
            "exceeds_requested",
            MessageParams::max(requested),
        )]));
    }
    // Only projects not yet begun are funded: one that starts before the day of its approval needs the ministry's
    // consent to the early start, covering that start (docs/grants.md, vorzeitiger Maßnahmebeginn).
    if let Some(start) = current.start_date
        && start < crate::core::time::today_in_hessen()
        && !crate::early_start_consents::covers(conn, current.id, start).await?
    {
        return Err(ApiError::conflict(
            "early_start_without_consent",
            MessageParams::detail(start),
        ));
    }
    let plan: Option<Vec<(i32, i64)>> = current
        .financing_plan
        .years
        .as_ref()
        .map(|ys| ys.iter().map(|y| (y.year, y.requested_cents)).collect());
    let shares = super::rules::grant_by_year(
        input.years.as_deref(),
        plan.as_deref(),
        (current.start_date, current.end_date),
        granted,
    )
    .map_err(ApiError::Validation)?;
    let effect = Effect {
        granted_cents: Some(granted),
        decided_at: Some(now),
        decision_reason: Some(input.reason.clone()),
        ..Effect::default()
    };
    Ok((effect, (granted, shares)))
}

/// Moves an application through its lifecycle: state check, rules, budget and history in the caller's transaction.
pub async fn transition(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    id: Uuid,
    action: Action,
    expected: Option<Expected>,
    input: TransitionInput,
) -> ApiResult<Application> {
    // Row lock first: concurrent actions on one application serialise here. An approval reads the applicant's kind
    // (the notice's clause set) in the same round trip.
    let (current, kind) = if matches!(action, Action::Approve) {
        let kind = applications::table
            .inner_join(organisations::table)
            .filter(applications::id.eq(id))
            .select(organisations::kind)
            .first::<String>(&mut &*conn);
        let (current, kind) = futures_util::try_join!(find(conn, caller, id, true), async { Ok(kind.await?) })?;
        (current, Some(kind))
    } else {
        (find(conn, caller, id, true).await?, None)
    };
    check_version(&current, expected)?;
    let rule = LIFECYCLE.check(current.status, action)?;
    let to = rule.target(current.status);
    let now = Utc::now();
    let mut grant = None;
    let effect = match action {
        Action::Submit => submit(conn, caller, &current, now).await?,
        Action::Approve => {
            let (effect, granted) = approve(conn, &current, &input, now).await?;
            grant = Some(granted);
            effect
        }
        Action::Reject => Effect {
            decided_at: Some(now),
            decision_reason: Some(input.reason.clone()),
            ..Effect::default()
        },
        // A reason given replaces the last one; without one, the last stays.
        Action::Withdraw | Action::RequestChanges | Action::StartReview => Effect {
            decision_reason: input.reason.clone().map(Some),
            ..Effect::default()
        },
    };
    let shared: &AsyncPgConnection = conn;
    // A handful of texts (one per combination of the effect's columns): kept prepared.
    let write = async {
        let row: AppRow = diesel::update(applications::table.find(id))
            .set((
                applications::status.eq(to.as_str()),
                applications::version.eq(current.version + 1),
                applications::updated_at.eq(now),
                effect,
            ))
            .returning(AppRow::as_returning())
            .cached()
            .get_result(&mut &*shared)
            .await?;
        same_organisation(row, &current)
    };
    let change = |app: &Application| {
        Change::transition(KIND, id, rule, current.status, to, audience(app)).reason(input.reason.as_deref())
    };
    let Some((granted, shares)) = grant else {
        let app = write.await?;
        audit::record(shared, caller, change(&app), &app).await?;
        return Ok(app);
    };
    // An approval's writes go out as one flight of statements on the one connection: the application, the grant's
    // years, the notice drafted from them, and the commitment against the line's budget in the application's escrow
    // shard (PostgreSQL runs them in the order they arrive; the shard is taken last). Then the three records, again
    // in one flight. Two round trips instead of one per statement (docs/performance.md S9); the records wait for
    // every write, so the first error is the failing write's own (not the "transaction aborted" of a record queued
    // behind it), and the first failure rolls all of it back.
    let kind = kind.ok_or_else(|| ApiError::internal("approval without the applicant's kind"))?;
    let years = crate::funding_lines::record_grant_years(shared, &current.funding_line, id, &shares);
    let notice = draft_notice(shared, caller, &current, granted, kind, &shares);
    let budget = crate::funding_lines::commit_grant(shared, &current.funding_line, id, granted, &shares);
    let (app, (), drafted, committed) = futures_util::try_join!(write, years, notice, budget)?;
    futures_util::try_join!(
        audit::record(shared, caller, change(&app), &app),
        crate::grant_notices::record_draft(shared, caller, drafted),
        crate::funding_lines::record_committed(shared, caller, committed),
    )?;
    Ok(app)
}

/// Drafts the grant notice of an approved application, in the approval's transaction.
async fn draft_notice(
    conn: &AsyncPgConnection,
    caller: &Caller,
    app: &Application,
    granted: i64,
    kind: String,
    shares: &[(i32, i64)],
) -> ApiResult<crate::grant_notices::Drafted> {
    let (Some(start), Some(end)) = (app.start_date, app.end_date) else {
        return Err(ApiError::internal("approved application without a period"));
    };
    let draft = crate::grant_notices::Draft {
        application_id: app.id,
        organisation_id: app.organisation.id,
        organisation_name: app.organisation.name.clone(),
        organisation_kind: kind.parse().map_err(ApiError::internal)?,
        district: app.district.clone(),
        funding_line: app.funding_line.clone(),
        amount_cents: granted,
        eligible_costs_cents: app.financing_plan.total_costs_cents.unwrap_or(0),
        purpose: format!("{}\n\n{}", app.title, app.description).trim().to_owned(),
        period: (start, end),
        years: shares.to_vec(),
    };
    crate::grant_notices::draft(conn, caller, draft).await
}

pub async fn history(conn: &mut AsyncPgConnection, caller: &Caller, id: Uuid) -> ApiResult<Vec<HistoryEntry>> {
    find(conn, caller, id, false).await?;
    history::list(conn, KIND, id).await
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = application_comments)]
struct CommentRow {
    id: Uuid,
    author_sub: String,
    author_role: String,
    author_org_id: Option<Uuid>,
    body: String,
    internal: bool,
    created_at: DateTime<Utc>,
}

fn comment(r: CommentRow) -> ApiResult<Comment> {
    Ok(Comment {
        id: r.id,
        author: Actor::parse(r.author_sub, &r.author_role, r.author_org_id)?,
        body: r.body,
        internal: r.internal,
        created_at: r.created_at,
    })
}

/// Comments the caller may see, oldest first: the latest [`MAX_UNPAGED`](crate::http::pagination::MAX_UNPAGED). Internal ones never reach a municipality.
pub async fn comments(conn: &mut AsyncPgConnection, caller: &Caller, id: Uuid) -> ApiResult<Vec<Comment>> {
    find(conn, caller, id, false).await?;
    let mut query = application_comments::table
        .filter(application_comments::application_id.eq(id))
        .into_boxed();
    if caller.role == Role::Municipality {
        query = query.filter(application_comments::internal.eq(false));
    }
    let mut rows: Vec<CommentRow> = query
        .order(application_comments::id.desc())
        .limit(crate::http::pagination::MAX_UNPAGED)
        .select(CommentRow::as_select())
        .load(conn)
        .await?;
    rows.reverse();
    rows.into_iter().map(comment).collect()
}

pub async fn add_comment(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    id: Uuid,
    body: String,
    internal: bool,
) -> ApiResult<Comment> {
    find(conn, caller, id, false).await?;
    let row: CommentRow = diesel::insert_into(application_comments::table)
        .values((
            application_comments::application_id.eq(id),
            application_comments::author_sub.eq(&caller.sub),
            application_comments::author_role.eq(caller.role.as_str()),
            application_comments::author_org_id.eq(caller.org.as_ref().map(|o| o.id)),
            application_comments::body.eq(body),
            application_comments::internal.eq(internal),
        ))
        .returning(CommentRow::as_returning())
        .get_result(conn)
        .await?;
    let created = comment(row)?;
    let app = find(conn, caller, id, false).await?;
    let audience = if internal { Audience::staff() } else { audience(&app) };
    let data = serde_json::json!({"applicationId": id, "comment": created});
    let change = Change::new(KIND, id, "comment", "application.commented", audience).without_history();
    audit::record(conn, caller, change, &data).await?;
    Ok(created)
}

/// Every application that carries topic `from` carries `into` instead (a merge of topics), each with its history
/// entry and `application.changed`, in the caller's transaction. Any state: the topics describe the record, they are
/// not the applicant's content.
pub async fn replace_topic(conn: &mut AsyncPgConnection, caller: &Caller, from: &str, into: &str) -> ApiResult<()> {
    for id in crate::vocabulary::replace_in(conn, "applications", from, into).await? {
        let app = find(conn, &Caller::system(), id, false).await?;
        let change = Change::new(KIND, id, "update", "application.changed", audience(&app))
            .states(Some(app.status), app.status)
            .changed(vec!["/topics".into()]);
        audit::record(conn, caller, change, &app).await?;
    }
    Ok(())
}
