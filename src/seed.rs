//! `versorgung seed --demo`: a living system for a newcomer's Swagger UI. Adds Gemeinden and Träger and a dozen
//! applications in every state. It goes through the same query functions as the API, so the demo data has real
//! history entries and budget commitments. Running it twice adds nothing the second time.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::applications::model::{Action, ApplicationInput, Contact, FinancingPlan, PlanYear, TransitionInput};
use crate::core::identity::{Caller, OrgScope, Role};
use crate::db::schema::{applications, organisations};
use crate::error::{ApiError, ApiResult};

/// Gemeinden and Träger of the demo (eight-digit AGS for Gemeinden, none for Träger).
const ORGANISATIONS: &[(Option<&str>, &str, &str, &str)] = &[
    (Some("06636003"), "Kreisstadt Eschwege", "gemeinde", "06636"),
    (Some("06535012"), "Stadt Lauterbach (Hessen)", "gemeinde", "06535"),
    (None, "Gesundheitszentrum Nordhessen gGmbH", "traeger", "06633"),
    (None, "Ärztenetz Vogelsberg e. V.", "traeger", "06535"),
    (None, "MVZ Odenwald GmbH", "traeger", "06437"),
];

struct Demo {
    /// AGS of a district/Gemeinde, or the name of a Träger.
    applicant: &'static str,
    line: &'static str,
    title: &'static str,
    description: &'static str,
    start: (i32, u32),
    months: u32,
    total: i64,
    own: i64,
    requested: i64,
    steps: &'static [Action],
}

const TITLE_MARKER: &str = "Gesundheitskoordination im Werra-Meißner-Kreis";

const APPLICATIONS: &[Demo] = &[
    Demo {
        applicant: "06636",
        line: "GK",
        title: TITLE_MARKER,
        description: "Personalstelle für Gesundheitskoordination zum Aufbau einer kommunalen Gesundheitsstrategie, Geschäftsstelle der Gesundheits- und Präventionskonferenz.",
        start: (2027, 1),
        months: 60,
        total: 25_000_000,
        own: 2_500_000,
        requested: 22_500_000,
        steps: &[Action::Submit, Action::StartReview, Action::Approve],
    },
    Demo {
        applicant: "06535",
        line: "GK",
        title: "Gesundheitskoordination Vogelsbergkreis",
        description: "Koordination der Präventionsangebote und der Sicherung der hausärztlichen Versorgung im ländlichen Vogelsberg.",
        start: (2027, 4),
        months: 48,
        total: 20_000_000,
        own: 2_000_000,
        requested: 18_000_000,
        steps: &[Action::Submit, Action::StartReview],
    },
    Demo {
        applicant: "06611",
        line: "GK",
        title: "Gesundheitskoordination Stadt Kassel",
        description: "Stelle zur Vernetzung der Akteure im Gesundheitswesen der Stadt Kassel und zur Steuerung der Präventionskette.",
        start: (2027, 1),
        months: 36,
        total: 15_000_000,
        own: 1_500_000,
        requested: 13_500_000,
        steps: &[Action::Submit],
    },
    Demo {
        applicant: "06636003",
        line: "VA",
        title: "Versorgungsanalyse hausärztliche Versorgung Eschwege",
        description: "Analyse der hausärztlichen Versorgung bis 2035 mit Altersstruktur der Praxen und Empfehlungen für Nachbesetzungen.",
        start: (2027, 3),
        months: 12,
        total: 6_000_000,
        own: 1_800_000,
        requested: 4_200_000,
        steps: &[],
    },
    Demo {
        applicant: "Gesundheitszentrum Nordhessen gGmbH",
        line: "GZ",
        title: "Sektorenübergreifendes Gesundheitszentrum Hofgeismar",
        description: "Planung eines Gesundheitszentrums mit hausärztlicher Praxis, Physiotherapie, Pflegeberatung und Kurzzeitpflege.",
        start: (2027, 6),
        months: 30,
        total: 18_000_000,
        own: 3_600_000,
        requested: 14_400_000,
        steps: &[Action::Submit, Action::StartReview, Action::RequestChanges],
    },
    Demo {
        applicant: "Ärztenetz Vogelsberg e. V.",
        line: "MV",
        title: "Telemedizinische Fallkonferenzen im Vogelsberg",
        description: "Modellvorhaben: regelmäßige telemedizinische Fallkonferenzen zwischen Hausarztpraxen, Klinik und Pflegediensten.",
        start: (2027, 1),
        months: 24,
        total: 8_000_000,
        own: 1_600_000,
        requested: 6_400_000,
        steps: &[Action::Submit, Action::StartReview, Action::Approve],
    },
    Demo {
        applicant: "MVZ Odenwald GmbH",
        line: "PX",
        title: "Übernahme einer Hausarztpraxis in Michelstadt",
        description: "Übernahme und Modernisierung einer Einzelpraxis, deren Inhaber in den Ruhestand geht.",
        start: (2027, 2),
        months: 18,
        total: 9_000_000,
        own: 5_000_000,
        requested: 4_000_000,
        steps: &[Action::Submit, Action::StartReview, Action::Reject],
    },
    Demo {
        applicant: "06631",
        line: "GK",
        title: "Gesundheitskoordination Landkreis Fulda",
        description: "Personalstelle zur Koordination der regionalen Gesundheitskonferenz und der Präventionsangebote.",
        start: (2027, 1),
        months: 60,
        total: 24_000_000,
        own: 2_400_000,
        requested: 21_600_000,
        steps: &[Action::Submit, Action::Withdraw],
    },
    Demo {
        applicant: "06535012",
        line: "PX",
        title: "Zweigpraxis in Lauterbach-Maar",
        description: "Gründung einer allgemeinmedizinischen Zweigpraxis mit zwei Sprechtagen pro Woche.",
        start: (2027, 5),
        months: 24,
        total: 5_000_000,
        own: 2_500_000,
        requested: 2_500_000,
        steps: &[Action::Submit],
    },
    Demo {
        applicant: "06534",
        line: "VA",
        title: "Versorgungskonzept Pflege und Medizin Marburg-Biedenkopf",
        description: "Kleinräumige Versorgungsanalyse und Konzept für die Zusammenarbeit von Pflege und ärztlicher Versorgung.",
        start: (2027, 1),
        months: 18,
        total: 7_000_000,
        own: 2_100_000,
        requested: 4_900_000,
        steps: &[Action::Submit, Action::StartReview],
    },
    Demo {
        applicant: "06632",
        line: "GZ",
        title: "Gesundheitszentrum Rotenburg an der Fulda",
        description: "Vorplanung eines lokalen Gesundheitszentrums am Standort des ehemaligen Kreiskrankenhauses.",
        start: (2027, 9),
        months: 24,
        total: 12_000_000,
        own: 3_000_000,
        requested: 9_000_000,
        steps: &[],
    },
    Demo {
        applicant: "06440",
        line: "MV",
        title: "Gemeindenotfallsanitäter im Wetteraukreis",
        description: "Modellhafte Erprobung von Gemeindenotfallsanitätern zur Entlastung von Notaufnahmen und Rettungsdienst.",
        start: (2027, 1),
        months: 36,
        total: 15_000_000,
        own: 4_500_000,
        requested: 10_500_000,
        steps: &[Action::Submit, Action::StartReview, Action::Approve],
    },
];

/// The applicant's scope: by AGS, or (Träger have none) by name.
async fn org_scope(conn: &mut AsyncPgConnection, applicant: &str) -> ApiResult<OrgScope> {
    let key = if applicant.bytes().all(|b| b.is_ascii_digit()) {
        applicant.to_owned()
    } else {
        let id: Uuid = organisations::table
            .filter(organisations::name.eq(applicant))
            .select(organisations::id)
            .first(conn)
            .await?;
        id.to_string()
    };
    crate::auth::org_scope(conn, &key)
        .await?
        .ok_or_else(|| ApiError::internal(format!("demo organisation {applicant} missing")))
}

fn staff(role: Role, sub: &str) -> Caller {
    Caller {
        sub: sub.to_owned(),
        role,
        org: None,
    }
}

fn reason(action: Action) -> Option<String> {
    match action {
        Action::RequestChanges => Some("Bitte den Finanzierungsplan nach Jahren aufschlüsseln.".into()),
        Action::Reject => Some("Der Erwerb eines Vertragsarztsitzes ist nicht förderfähig.".into()),
        Action::Withdraw => Some("Die Stelle wird aus Eigenmitteln finanziert.".into()),
        Action::Approve => Some("Bewilligt gemäß der Richtlinie.".into()),
        _ => None,
    }
}

/// Adds the demo data; returns how many applications were added (0 when it is there already).
pub async fn demo(conn: &mut AsyncPgConnection) -> ApiResult<usize> {
    crate::db::transaction(conn, async |conn| {
        let present: i64 = applications::table
            .filter(applications::title.eq(TITLE_MARKER))
            .count()
            .get_result(conn)
            .await?;
        if present > 0 {
            return Ok(0);
        }
        for (ags, name, kind, district) in ORGANISATIONS {
            diesel::insert_into(organisations::table)
                .values((
                    organisations::ags.eq(*ags),
                    organisations::name.eq(*name),
                    organisations::kind.eq(*kind),
                    organisations::district_ags.eq(*district),
                ))
                .on_conflict_do_nothing()
                .execute(conn)
                .await?;
        }
        let ministry = staff(Role::Ministry, "demo-pruefer");
        let mut approved = Vec::new();
        let service_unit = staff(Role::ServiceUnit, "demo-serviceeinheit");
        for demo in APPLICATIONS {
            let applicant = Caller {
                sub: "demo-antragsteller".into(),
                role: Role::Municipality,
                org: Some(org_scope(conn, demo.applicant).await?),
            };
            let start = NaiveDate::from_ymd_opt(demo.start.0, demo.start.1, 1)
                .ok_or_else(|| ApiError::internal("bad demo date"))?;
            let end = start
                .checked_add_months(chrono::Months::new(demo.months))
                .and_then(|d| d.pred_opt())
                .ok_or_else(|| ApiError::internal("bad demo date"))?;
            let input = ApplicationInput {
                funding_line: Some(demo.line.into()),
                title: Some(demo.title.into()),
                description: demo.description.into(),
                start_date: Some(start),
                end_date: Some(end),
                financing_plan: FinancingPlan {
                    total_costs_cents: Some(demo.total),
                    own_funds_cents: Some(demo.own),
                    third_party_funds_cents: Some(demo.total - demo.own - demo.requested),
                    requested_cents: Some(demo.requested),
                    years: Some(
                        crate::applications::rules::split_by_months(start, end, demo.requested)
                            .into_iter()
                            .map(|(year, requested_cents)| PlanYear { year, requested_cents })
                            .collect(),
                    ),
                },
                contact: Contact {
                    name: Some("Dr. Maria Becker".into()),
                    email: Some("foerderung@example.org".into()),
                    phone: Some("+49 611 3219-0".into()),
                },
                referral_id: None,
            };
            let app = crate::applications::insert(conn, &applicant, input).await?;
            for step in demo.steps {
                let actor = match step {
                    Action::Submit | Action::Withdraw => &applicant,
                    _ => &ministry,
                };
                let input = TransitionInput {
                    reason: reason(*step),
                    granted_cents: (*step == Action::Approve).then_some(demo.requested),
                    years: None,
                };
                crate::applications::transition(conn, actor, app.id, *step, None, input).await?;
            }
            if demo.steps.contains(&Action::Approve) {
                approved.push((app.id, applicant.clone()));
            }
            if demo.steps.contains(&Action::StartReview) {
                crate::applications::add_comment(
                    conn,
                    &service_unit,
                    app.id,
                    "Die Serviceeinheit hat die Antragstellenden zur Kooperation mit der regionalen Gesundheitskonferenz beraten.".into(),
                    true,
                )
                .await?;
            }
        }
        grants(conn, &ministry, &approved).await?;
        coordination(conn, &service_unit).await?;
        Ok(APPLICATIONS.len())
    })
    .await
}

/// The approved applications' grant notices in every state the API reaches so far (a draft, an issued one, one final
/// since its delivery five weeks ago, amended by a second number, final as well) and, on the issued one, payment requests in every state, under four eyes.
async fn grants(conn: &mut AsyncPgConnection, ministry: &Caller, approved: &[(Uuid, Caller)]) -> ApiResult<()> {
    use crate::grant_notices::{TransitionInput as NoticeInput, model::NoticeAction};
    use crate::payment_requests::{DueExpense, PaymentAction as P, PaymentInput, TransitionInput};
    let second = staff(Role::Ministry, "demo-zweitpruefer");
    let today = crate::core::time::today_in_hessen();
    let [_, (issued_app, recipient), (final_app, final_recipient)] = approved else {
        return Err(ApiError::internal("the demo data has three approved applications"));
    };
    for (app, delivered) in [(issued_app, today), (final_app, today - chrono::Days::new(35))] {
        let id = crate::grant_notices::notice_id(*app, 1);
        let input = NoticeInput {
            delivered_on: Some(delivered),
            ..NoticeInput::default()
        };
        crate::grant_notices::transition(conn, &second, id, NoticeAction::Issue, None, input).await?;
    }
    // The final notice was amended since (the period extended by a year), delivered as long ago: number 1 is
    // `amended`, number 2 final.
    let first =
        crate::grant_notices::find(conn, ministry, crate::grant_notices::notice_id(*final_app, 1), false).await?;
    let amendment = crate::grant_notices::AmendInput {
        errors: Vec::new(),
        reason: "Verlängerung des Bewilligungszeitraums um ein Jahr (verzögerte Stellenbesetzung).".into(),
        years: None,
        period_end: first.period_end.checked_add_months(chrono::Months::new(12)),
    };
    let second_notice = crate::grant_notices::amend(conn, ministry, first.id, None, amendment).await?;
    let input = NoticeInput {
        delivered_on: first.delivered_on,
        ..NoticeInput::default()
    };
    crate::grant_notices::transition(conn, &second, second_notice.id, NoticeAction::Issue, None, input).await?;
    let notice =
        crate::grant_notices::find(conn, ministry, crate::grant_notices::notice_id(*issued_app, 1), false).await?;
    let org = recipient
        .org
        .as_ref()
        .ok_or_else(|| ApiError::internal("demo applicant without organisation"))?;
    let account = serde_json::json!({"iban": "DE89370400440532013000", "accountHolder": notice.recipient.name});
    let any = crate::http::extract::Expected::Any;
    crate::organisations::set_bank_account(conn, recipient, &org.id.to_string(), any, account).await?;
    // Expenses due in a month, and the grant's share of them, in the fiscal year that carries most of the grant.
    let year = notice
        .years
        .iter()
        .max_by_key(|y| y.amount_cents)
        .map(|y| y.year)
        .ok_or_else(|| ApiError::internal("a demo grant without years"))?;
    let due = 200_000;
    let amount = i64::try_from(
        i128::from(notice.amount_cents) * i128::from(due) / i128::from(notice.eligible_costs_cents.max(1)),
    )
    .map_err(ApiError::internal)?;
    let reason = |text: &str| TransitionInput {
        reason: Some(text.to_owned()),
        ..TransitionInput::default()
    };
    let paid = TransitionInput {
        paid_on: Some(today),
        cash_reference: Some("HKR-DEMO-000001".into()),
        ..TransitionInput::default()
    };
    let submitted = [(P::Submit, recipient, TransitionInput::default())];
    let plans: [Vec<(P, &Caller, TransitionInput)>; 8] = [
        vec![],
        submitted.to_vec(),
        [
            submitted.to_vec(),
            vec![(P::Check, ministry, TransitionInput::default())],
        ]
        .concat(),
        [
            submitted.to_vec(),
            vec![
                (P::Check, ministry, TransitionInput::default()),
                (P::Approve, &second, TransitionInput::default()),
            ],
        ]
        .concat(),
        [
            submitted.to_vec(),
            vec![
                (P::Check, ministry, TransitionInput::default()),
                (P::Approve, &second, TransitionInput::default()),
                (P::Pay, ministry, paid.clone()),
            ],
        ]
        .concat(),
        [
            submitted.to_vec(),
            vec![(P::Return, ministry, reason("Bitte die Fälligkeiten belegen."))],
        ]
        .concat(),
        [
            submitted.to_vec(),
            vec![(P::Reject, ministry, reason("Die Ausgaben sind nicht zuwendungsfähig."))],
        ]
        .concat(),
        vec![(P::Cancel, recipient, TransitionInput::default())],
    ];
    for plan in plans {
        let input = PaymentInput {
            amount_cents: Some(amount.max(1)),
            fiscal_year: Some(year),
            expenses: Some(vec![DueExpense {
                description: "Personalkosten der Gesundheitskoordination".into(),
                amount_cents: due,
                due_on: today + chrono::Days::new(30),
            }]),
        };
        let request = crate::payment_requests::create(conn, recipient, notice.id, input).await?;
        for (action, who, input) in plan {
            crate::payment_requests::transition(conn, who, request.id, action, None, input).await?;
        }
    }
    proofs_and_changes(
        conn,
        ministry,
        &second,
        (*issued_app, recipient),
        (*final_app, final_recipient),
    )
    .await
}

/// Proofs of use in several states (a draft on the issued grant; on the amended one an accepted interim proof under
/// two sign-offs and a submitted final proof) and change requests (an acknowledged report, an extension waiting).
async fn proofs_and_changes(
    conn: &mut AsyncPgConnection,
    ministry: &Caller,
    second: &Caller,
    (issued_app, recipient): (Uuid, &Caller),
    (final_app, final_recipient): (Uuid, &Caller),
) -> ApiResult<()> {
    use crate::proofs_of_use::{ProofAction as A, ProofKind, TransitionInput as Input, model::Admission};
    let content = serde_json::json!({
        "report": {"activities": "Stelle der Gesundheitskoordination besetzt, Gesundheitskonferenz eingerichtet.",
                   "results": "Versorgungsanalyse für den Landkreis liegt vor.",
                   "deviations": "Besetzung drei Monate später als geplant."},
        "income": {"ownFundsCents": 250_000, "thirdPartyFundsCents": 0, "grantCents": 1_000_000},
        "receipts": [
            {"paidOn": "2027-01-31", "payee": "Personal", "reason": "Personalkosten Januar", "amountCents": 600_000},
            {"paidOn": "2027-03-15", "payee": "Tagungshaus", "reason": "Gesundheitskonferenz", "amountCents": 150_000}
        ]
    });
    let any = || crate::http::extract::Expected::Any;
    // The issued grant: its first interim proof in draft.
    if let Some(id) = first_interim(conn, issued_app).await? {
        crate::proofs_of_use::update(conn, recipient, id, any(), content.clone()).await?;
    }
    // The amended grant: its first interim proof accepted under two sign-offs, the final proof submitted.
    if let Some(id) = first_interim(conn, final_app).await? {
        crate::proofs_of_use::update(conn, final_recipient, id, any(), content.clone()).await?;
        let admissions = vec![
            Admission {
                index: 0,
                admitted_cents: 600_000,
                note: None,
            },
            Admission {
                index: 1,
                admitted_cents: 100_000,
                note: Some("Nur die Raummiete ist zuwendungsfähig.".into()),
            },
        ];
        for (action, who, input) in [
            (A::Submit, final_recipient, Input::default()),
            (A::StartReview, ministry, Input::default()),
            (A::SignContent, ministry, Input::default()),
            (
                A::SignFinancial,
                second,
                Input {
                    admissions,
                    ..Input::default()
                },
            ),
        ] {
            crate::proofs_of_use::transition(conn, who, id, action, None, input).await?;
        }
    }
    let final_proof = crate::proofs_of_use::proof_id(final_app, ProofKind::Final, None);
    crate::proofs_of_use::update(conn, final_recipient, final_proof, any(), content.clone()).await?;
    crate::proofs_of_use::transition(conn, final_recipient, final_proof, A::Submit, None, Input::default()).await?;

    // Change requests on the amended grant's notice in force.
    use crate::change_requests::{ChangeAction, ChangeKind, NewChangeRequest};
    let in_force = crate::grant_notices::in_force(conn, final_app).await?;
    let report = NewChangeRequest {
        kind: Some(ChangeKind::FurtherFunding),
        description: Some("Die Kreissparkasse fördert die Gesundheitskonferenz mit 5.000 €.".into()),
        proposed_period_end: None,
        proposed_years: None,
    };
    let report = crate::change_requests::create(conn, final_recipient, in_force.id, report).await?;
    crate::change_requests::transition(conn, ministry, report.id, ChangeAction::Acknowledge, None, None).await?;
    let extension = NewChangeRequest {
        kind: Some(ChangeKind::Extension),
        description: Some("Die Stelle konnte erst verspätet besetzt werden; wir beantragen sechs Monate mehr.".into()),
        proposed_period_end: in_force.period_end.checked_add_months(chrono::Months::new(6)),
        proposed_years: None,
    };
    crate::change_requests::create(conn, final_recipient, in_force.id, extension).await?;
    Ok(())
}

/// The earliest interim proof of a grant, if its period spans a year's end.
async fn first_interim(conn: &mut AsyncPgConnection, application: Uuid) -> ApiResult<Option<Uuid>> {
    use crate::db::schema::proofs_of_use;
    Ok(proofs_of_use::table
        .filter(proofs_of_use::application_id.eq(application))
        .filter(proofs_of_use::kind.eq(crate::proofs_of_use::ProofKind::Interim.as_str()))
        .order(proofs_of_use::due_on)
        .select(proofs_of_use::id)
        .first(conn)
        .await
        .optional()?)
}

/// Coordinators, a working group with members and a meeting, and referrals in every state.
async fn coordination(conn: &mut AsyncPgConnection, service_unit: &Caller) -> ApiResult<()> {
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
                referrals::topics.eq(vec!["ländliche Versorgung".to_owned()]),
                referrals::due_date.eq(NaiveDate::from_ymd_opt(2027, 6, 30)),
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
                    committee_meetings::date.eq(NaiveDate::from_ymd_opt(2027, 3, 10).unwrap_or_default()),
                    committee_meetings::title.eq("Sitzung 1/2027"),
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
