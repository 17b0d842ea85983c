//! The demo's coordination: coordinators, a working group with members and a meeting, referrals in every state.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::{demo_date, demo_year, org_scope};
use crate::core::identity::Caller;
use crate::error::ApiResult;

/// Coordinators, a working group with members and a meeting, and referrals in every state.
pub(super) async fn coordination(conn: &mut AsyncPgConnection, service_unit: &Caller) -> ApiResult<()> {
    use crate::db::schema::{
        committee_meetings, committee_members, committees, coordinators, referral_targets, referrals,
    };
    let people = [
        ("Jana Hoffmann", "06535", "active"),
        ("Kai Wagner", "06636", "active"),
        ("Dr. Lena Schäfer", "06631", "on_leave"),
        ("Tobias Becker", "06611", "active"),
    ];
    let mut coordinator_ids = Vec::new();
    for (name, district, status) in people {
        let employer = org_scope(conn, district).await?.id;
        let id: Uuid = diesel::insert_into(coordinators::table)
            .values((
                coordinators::name.eq(name),
                coordinators::email.eq(format!("gesundheitskoordination.{district}@example.org")),
                coordinators::phone.eq("+49 611 000000"),
                coordinators::district_ags.eq(district),
                coordinators::employer_id.eq(employer),
                coordinators::fte_bp.eq(10_000),
                coordinators::start_date.eq(NaiveDate::from_ymd_opt(2025, 1, 1).unwrap_or_default()),
                coordinators::status.eq(status),
            ))
            .returning(coordinators::id)
            .get_result(conn)
            .await?;
        crate::audit::seeded(conn, service_unit, crate::coordinators::KIND, id, None).await?;
        coordinator_ids.push(id);
    }
    let ag: Uuid = committees::table
        .filter(committees::name.eq("AG Gesundheitszentren"))
        .select(committees::id)
        .first(conn)
        .await?;
    for id in &coordinator_ids[..2] {
        diesel::insert_into(committee_members::table)
            .values((
                committee_members::committee_id.eq(ag),
                committee_members::coordinator_id.eq(id),
            ))
            .execute(conn)
            .await?;
    }
    diesel::insert_into(committee_members::table)
        .values((
            committee_members::committee_id.eq(ag),
            committee_members::external_name.eq("Dr. Paul Klein"),
            committee_members::external_organisation.eq("Kassenärztliche Vereinigung Hessen"),
            committee_members::external_email.eq("paul.klein@example.org"),
            committee_members::role.eq("Gast"),
        ))
        .execute(conn)
        .await?;
    let rgk: Uuid = committees::table
        .filter(committees::name.eq("Regionale Gesundheitskonferenz Fulda-Bad Hersfeld"))
        .select(committees::id)
        .first(conn)
        .await?;
    // (subject, origin district or committee, final status, targets answered)
    let cases: [(&str, Option<&str>, &str); 6] = [
        ("Gemeinsame Notdienstzentrale im Vogelsberg", Some("06535"), "received"),
        ("Mobile Arztpraxis für Dörfer ohne Hausarzt", Some("06636"), "in_triage"),
        ("Telemedizinische Fallkonferenzen", Some("06535"), "forwarded"),
        (
            "Pflegestützpunkt mit Sprechstunde im Gesundheitszentrum",
            Some("06631"),
            "answered",
        ),
        ("Standorte für Gesundheitszentren gesucht", None, "closed"),
        ("Gesundheitskiosk nach Hamburger Vorbild", Some("06611"), "declined"),
    ];
    for (subject, district, status) in cases {
        let origin = match district {
            Some(d) => Some(org_scope(conn, d).await?),
            None => None,
        };
        let direction = if origin.is_some() {
            "region_to_committee"
        } else {
            "committee_to_region"
        };
        let forwarded = matches!(status, "forwarded" | "answered" | "closed");
        let id: Uuid = diesel::insert_into(referrals::table)
            .values((
                referrals::direction.eq(direction),
                referrals::origin_organisation_id.eq(origin.as_ref().map(|o| o.id)),
                referrals::origin_district_ags.eq(origin.as_ref().map(|o| o.district_ags.clone())),
                referrals::origin_committee_id.eq(origin.is_none().then_some(rgk)),
                referrals::subject.eq(subject),
                referrals::description.eq("Vorschlag aus der Region, aufgenommen von der Serviceeinheit."),
                referrals::topics.eq(vec!["laendliche-versorgung".to_owned()]),
                referrals::due_date.eq(Some(demo_date(2027, 6, 30)?)),
                referrals::status.eq(status),
                referrals::outcome.eq(match status {
                    "closed" => Some("Zwei Landkreise haben Standorte benannt."),
                    "declined" => Some("Wird bereits im Pakt für Gesundheit behandelt."),
                    _ => None,
                }),
            ))
            .returning(referrals::id)
            .get_result(conn)
            .await?;
        if forwarded {
            let answered = status != "forwarded";
            let target_district = if origin.is_some() { "06631" } else { "06632" };
            diesel::insert_into(referral_targets::table)
                .values((
                    referral_targets::referral_id.eq(id),
                    referral_targets::district_ags.eq(target_district),
                    referral_targets::state.eq(if answered { "answered" } else { "pending" }),
                    referral_targets::answer.eq(answered.then_some("Der Kreis unterstützt das Vorhaben.")),
                ))
                .execute(conn)
                .await?;
        }
        crate::audit::seeded(conn, service_unit, crate::referrals::KIND, id, Some(status)).await?;
        if status == "forwarded" {
            diesel::insert_into(committee_meetings::table)
                .values((
                    committee_meetings::committee_id.eq(rgk),
                    committee_meetings::date.eq(demo_date(2027, 3, 10)?),
                    committee_meetings::title.eq(format!("Sitzung 1/{}", demo_year(2027))),
                    committee_meetings::place.eq("Fulda, Kreishaus"),
                    committee_meetings::agenda.eq(serde_json::json!([
                        {"title": "Begrüßung und Protokoll"},
                        {"title": subject, "referralId": id}
                    ])),
                ))
                .execute(conn)
                .await?;
        }
    }
    Ok(())
}

/// The service unit's own work on the demo: published knowledge entries, a consultation, the outcomes of the
/// regional conference's meeting and the action items it assigned (through the stores, with history and events).
pub(super) async fn service_unit_work(conn: &mut AsyncPgConnection, service_unit: &Caller) -> ApiResult<()> {
    use crate::db::schema::{committee_meetings, committees};
    use crate::knowledge::model::{EntryAction, EntryInput, EntryKind, Visibility};
    let entries = [
        (
            EntryKind::GoodPractice,
            "Telemedizinische Fallkonferenzen im Vogelsbergkreis",
            "Hausarztpraxen und die Klinik in Lauterbach besprechen einmal im Monat schwierige Fälle per Video. Die Praxen \
          sparen Fahrten, die Klinik erfährt früher von Patientinnen und Patienten, die sie aufnehmen wird.",
            "telemedizinische-fallkonferenzen",
            Visibility::Public,
        ),
        (
            EntryKind::Faq,
            "Wer berät Kommunen zu Gesundheitszentren?",
            "Die Serviceeinheit Gesundheitsversorgung berät Kommunen zur Gründung von Gesundheitszentren und zur \
          Praxisnachfolge, auch vor Ort.",
            "gesundheitszentren",
            Visibility::Network,
        ),
    ];
    for (kind, title, body, topic, visibility) in entries {
        let input = EntryInput {
            kind: Some(kind),
            title: Some(title.into()),
            body: body.into(),
            topics: vec![topic.into()],
            visibility: Some(visibility),
            application_ids: Vec::new(),
            proof_ids: Vec::new(),
            review_due_on: Some(demo_date(2027, 11, 30)?),
        };
        let e = crate::knowledge::create(conn, service_unit, input).await?;
        for action in [EntryAction::Submit, EntryAction::Publish] {
            let input = crate::knowledge::TransitionInput::default();
            crate::knowledge::transition(conn, service_unit, e.id, action, None, input).await?;
        }
    }
    let vogelsberg = org_scope(conn, "06535").await?.id;
    let consultation = crate::consultations::model::ConsultationInput {
        organisation_id: Some(vogelsberg),
        held_on: Some(demo_date(2026, 11, 20)?),
        channel: Some(crate::consultations::model::Channel::Video),
        topics: vec!["telemedizin".into()],
        summary: Some(
            "Beratung zu telemedizinischen Fallkonferenzen; Fördermöglichkeiten als Modellprojekt erläutert.".into(),
        ),
        internal_notes: "Der Kreis will zuerst mit zwei Praxen beginnen; im Frühjahr nachfassen.".into(),
        follow_ups: vec![crate::consultations::model::FollowUp {
            text: "Gute-Praxis-Eintrag zu Fallkonferenzen schicken".into(),
            due_on: Some(demo_date(2026, 12, 4)?),
            done: false,
        }],
        referral_ids: Vec::new(),
        application_ids: Vec::new(),
    };
    crate::consultations::create(conn, service_unit, consultation).await?;
    let rgk: Uuid = committees::table
        .filter(committees::name.eq("Regionale Gesundheitskonferenz Fulda-Bad Hersfeld"))
        .select(committees::id)
        .first(conn)
        .await?;
    let meetings: Vec<Uuid> = committee_meetings::table
        .filter(committee_meetings::committee_id.eq(rgk))
        .select(committee_meetings::id)
        .load(conn)
        .await?;
    for meeting in meetings {
        diesel::update(committee_meetings::table.find(meeting))
            .set(committee_meetings::attendance.eq(serde_json::json!(
                {"memberIds": [], "serviceUnit": "organised", "guests": ["Kassenärztliche Vereinigung Hessen"]})))
            .execute(conn)
            .await?;
        use crate::action_items::model::{AssigneeKind, NewActionItem};
        let fulda = org_scope(conn, "06631").await?.id;
        for (title, assignee, organisation, due) in [
            (
                "Zwei Pilotpraxen für Fallkonferenzen benennen",
                AssigneeKind::Organisation,
                Some(fulda),
                (2027, 4, 30),
            ),
            (
                "Bericht an das Landesgremium vorbereiten",
                AssigneeKind::ServiceUnit,
                None,
                (2027, 6, 30),
            ),
        ] {
            let item = NewActionItem {
                title: Some(title.into()),
                description: String::new(),
                agenda_index: Some(1),
                assignee: Some(assignee),
                organisation_id: organisation,
                assignee_committee_id: None,
                due_on: Some(demo_date(due.0, due.1, due.2)?),
            };
            crate::action_items::create(conn, service_unit, meeting, item).await?;
        }
    }
    Ok(())
}
