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

mod coordination;
mod grants;
mod settled;

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
    Demo {
        applicant: "06634",
        line: "VA",
        title: "Versorgungsanalyse Schwalm-Eder-Kreis",
        description: "Analyse der hausärztlichen und pflegerischen Versorgung mit einem Konzept für die Mittelzentren.",
        start: (2027, 1),
        months: 12,
        total: 6_000_000,
        own: 1_800_000,
        requested: 4_200_000,
        steps: &[Action::Submit, Action::StartReview, Action::Approve],
    },
];

/// The applicant's scope: by AGS, or (Träger have none) by name.
pub(super) async fn org_scope(conn: &mut AsyncPgConnection, applicant: &str) -> ApiResult<OrgScope> {
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

/// The demo's dates are written for projects beginning in 2027. Seeded in a later year, every year moves by as many
/// years: projects still begin after the day they are approved (an earlier start would need an early-start consent,
/// which is never retroactive) and the deadlines still lie ahead.
pub(super) fn demo_year(year: i32) -> i32 {
    use chrono::Datelike;
    year + (crate::core::time::today_in_hessen().year() - 2026).max(0)
}

pub(super) fn demo_date(year: i32, month: u32, day: u32) -> ApiResult<NaiveDate> {
    NaiveDate::from_ymd_opt(demo_year(year), month, day).ok_or_else(|| ApiError::internal("bad demo date"))
}

/// The fiscal years the demo's projects run in (the migrations opened 2026–2032), each with its line's budget.
async fn open_demo_years(conn: &mut AsyncPgConnection) -> ApiResult<()> {
    use crate::db::schema::{funding_line_years, funding_lines};
    let lines: Vec<(String, i64)> = funding_lines::table
        .select((funding_lines::code, funding_lines::budget_cents))
        .load(conn)
        .await?;
    for year in 2026..=demo_year(2031) {
        for (code, budget) in &lines {
            diesel::insert_into(funding_line_years::table)
                .values((
                    funding_line_years::funding_line_code.eq(code),
                    funding_line_years::year.eq(year),
                    funding_line_years::budget_cents.eq(budget),
                ))
                .on_conflict_do_nothing()
                .execute(conn)
                .await?;
        }
    }
    Ok(())
}

pub(super) fn staff(role: Role, sub: &str) -> Caller {
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

/// What a demo application is about, by its funding line (topic codes of migration 000025).
fn demo_topics(line: &str) -> Vec<String> {
    let codes: &[&str] = match line {
        "GK" => &["gesundheitskoordination"],
        "VA" => &["versorgungsanalyse"],
        "GZ" => &["gesundheitszentren", "sektorenuebergreifende-versorgung"],
        "MV" => &["modellprojekte", "telemedizin"],
        "PX" => &["praxisuebernahme", "laendliche-versorgung"],
        _ => &[],
    };
    codes.iter().map(|c| (*c).to_owned()).collect()
}

/// Adds the demo data; returns how many applications were added (0 when it is there already).
pub async fn demo(
    conn: &mut AsyncPgConnection,
    storage: &std::sync::Arc<dyn object_store::ObjectStore>,
    retention_years: u32,
) -> ApiResult<usize> {
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
        open_demo_years(conn).await?;
        let ministry = staff(Role::Ministry, "demo-pruefer");
        let mut approved = Vec::new();
        let mut in_review = Vec::new();
        let service_unit = staff(Role::ServiceUnit, "demo-serviceeinheit");
        // The district administrations' postal addresses, for the address field of the demo notices' letters.
        for (district, street, code, city) in [
            ("06636", "Schloßplatz 1", "37269", "Eschwege"),
            ("06535", "Goldhelg 20", "36341", "Lauterbach (Hessen)"),
            ("06631", "Wörthstraße 15", "36037", "Fulda"),
        ] {
            let patch = serde_json::json!({"postalAddress": {"street": street, "postalCode": code, "city": city}});
            crate::organisations::apply_patch(conn, &service_unit, district, crate::http::extract::Expected::Any, patch)
                .await?;
        }
        for demo in APPLICATIONS {
            let applicant = Caller {
                sub: "demo-antragsteller".into(),
                role: Role::Municipality,
                org: Some(org_scope(conn, demo.applicant).await?),
            };
            let start = demo_date(demo.start.0, demo.start.1, 1)?;
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
                topics: demo_topics(demo.line),
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
            } else if demo.steps.last() == Some(&Action::StartReview) {
                in_review.push((app.id, applicant.clone()));
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
        grants::early_starts(conn, &ministry, &in_review).await?;
        grants::grants(conn, &ministry, &approved, storage, retention_years).await?;
        coordination::coordination(conn, &service_unit).await?;
        coordination::service_unit_work(conn, &service_unit).await?;
        Ok(APPLICATIONS.len())
    })
    .await
}
