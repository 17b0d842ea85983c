//! The demo's grants after approval: early starts, notices, payment requests, proofs of use and change requests.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::{demo_date, staff};
use crate::core::identity::{Caller, Role};
use crate::error::{ApiError, ApiResult};

/// Early-start requests on the applications in review: the first consented, the second waiting for the ministry.
pub(super) async fn early_starts(
    conn: &mut AsyncPgConnection,
    ministry: &Caller,
    in_review: &[(Uuid, Caller)],
) -> ApiResult<()> {
    use crate::early_start_consents::{ConsentAction, NewEarlyStartConsent, TransitionInput};
    let today = crate::core::time::today_in_hessen();
    for (i, (app, applicant)) in in_review.iter().take(2).enumerate() {
        let input = NewEarlyStartConsent {
            start_on: Some(today + chrono::Days::new(14)),
            reason: Some(
                "Die Koordinatorin steht nur zum kommenden Monat zur Verfügung; der Arbeitsvertrag muss vorher \
                 unterschrieben werden."
                    .into(),
            ),
            not_yet_begun: Some(true),
        };
        let consent = crate::early_start_consents::create(conn, applicant, *app, input).await?;
        if i == 0 {
            let note = TransitionInput {
                reason: Some("Die Zustimmung begründet keinen Anspruch auf eine Zuwendung.".into()),
            };
            crate::early_start_consents::transition(conn, ministry, consent.id, ConsentAction::Grant, None, note)
                .await?;
        }
    }
    Ok(())
}

/// The approved applications' grant notices in every state the API reaches so far (a draft, an issued one, one final
/// since its delivery five weeks ago, amended by a second number, final as well) and, on the issued one, payment requests in every state, under four eyes.
pub(super) async fn grants(
    conn: &mut AsyncPgConnection,
    ministry: &Caller,
    approved: &[(Uuid, Caller)],
    storage: &std::sync::Arc<dyn object_store::ObjectStore>,
    retention_years: u32,
) -> ApiResult<()> {
    use crate::grant_notices::{TransitionInput as NoticeInput, model::NoticeAction};
    use crate::payment_requests::{DueExpense, PaymentAction as P, PaymentInput, TransitionInput};
    let second = staff(Role::Ministry, "demo-zweitpruefer");
    let today = crate::core::time::today_in_hessen();
    let [
        _,
        (issued_app, recipient),
        (final_app, final_recipient),
        (settled_app, settled_recipient),
    ] = approved
    else {
        return Err(ApiError::internal("the demo data has four approved applications"));
    };
    super::settled::settled_grant(
        conn,
        ministry,
        &second,
        (*settled_app, settled_recipient),
        storage,
        retention_years,
    )
    .await?;
    for (app, delivered) in [(issued_app, today), (final_app, today - chrono::Days::new(35))] {
        let id = crate::grant_notices::notice_id(*app, 1);
        let input = NoticeInput {
            delivered_on: Some(delivered),
            storage: Some(storage.clone()),
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
        storage: Some(storage.clone()),
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
            {"paidOn": demo_date(2027, 1, 31)?, "payee": "Personal", "reason": "Personalkosten Januar", "amountCents": 600_000},
            {"paidOn": demo_date(2027, 3, 15)?, "payee": "Tagungshaus", "reason": "Gesundheitskonferenz", "amountCents": 150_000}
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
