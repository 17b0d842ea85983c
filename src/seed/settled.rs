//! The demo's settled grant: a care analysis (VA) approved, its notice issued, one instalment paid, the final proof
//! of use accepted with part of the spending admitted, the settlement confirmed under four eyes (the notice closed,
//! the unused commitment released) and the overpayment reclaimed: a recovery claim in its hearing.

use uuid::Uuid;

use super::demo_date;
use crate::core::identity::Caller;
use crate::error::{ApiError, ApiResult};

pub(super) async fn settled_grant(
    conn: &mut diesel_async::AsyncPgConnection,
    ministry: &Caller,
    second: &Caller,
    (app, recipient): (Uuid, &Caller),
    storage: &std::sync::Arc<dyn object_store::ObjectStore>,
    retention_years: u32,
) -> ApiResult<()> {
    use crate::grant_notices::{TransitionInput as NoticeInput, model::NoticeAction};
    use crate::payment_requests::{DueExpense, PaymentAction as P, PaymentInput, TransitionInput};
    use crate::proofs_of_use::{ProofAction as A, ProofKind, TransitionInput as Input, model::Admission};
    let today = crate::core::time::today_in_hessen();
    let any = || crate::http::extract::Expected::Any;
    let notice = crate::grant_notices::notice_id(app, 1);
    let issue = NoticeInput {
        delivered_on: Some(today),
        storage: Some(storage.clone()),
        ..NoticeInput::default()
    };
    let notice = crate::grant_notices::transition(conn, second, notice, NoticeAction::Issue, None, issue).await?;
    let org = recipient
        .org
        .as_ref()
        .ok_or_else(|| ApiError::internal("demo applicant without organisation"))?;
    let account = serde_json::json!({"iban": "DE02120300000000202051", "accountHolder": notice.recipient.name});
    crate::organisations::set_bank_account(conn, recipient, &org.id.to_string(), any(), account).await?;

    // One instalment: the grant's 70 % share of 2,000,000 of expenses due within the payout window.
    let year = notice
        .years
        .first()
        .map(|y| y.year)
        .ok_or_else(|| ApiError::internal("a demo grant without years"))?;
    let input = PaymentInput {
        amount_cents: Some(1_400_000),
        fiscal_year: Some(year),
        expenses: Some(vec![DueExpense {
            description: "Auftrag Versorgungsanalyse, erste Rate".into(),
            amount_cents: 2_000_000,
            due_on: today + chrono::Days::new(30),
        }]),
    };
    let request = crate::payment_requests::create(conn, recipient, notice.id, input).await?;
    let paid = TransitionInput {
        paid_on: Some(today),
        cash_reference: Some("HKR-DEMO-000002".into()),
        ..TransitionInput::default()
    };
    for (action, who, input) in [
        (P::Submit, recipient, TransitionInput::default()),
        (P::Check, ministry, TransitionInput::default()),
        (P::Approve, second, TransitionInput::default()),
        (P::Pay, ministry, paid),
    ] {
        crate::payment_requests::transition(conn, who, request.id, action, None, input).await?;
    }

    // The final proof of use: 1,200,000 spent, 1,000,000 of it admitted.
    let content = serde_json::json!({
        "report": {"activities": "Kleinräumige Versorgungsanalyse erstellt, Workshops mit Pflege und Praxen.",
                   "results": "Versorgungskonzept vom Kreistag beschlossen.",
                   "deviations": "Die Befragung der Pflegedienste entfiel; das Konzept kam mit weniger Mitteln aus."},
        "income": {"ownFundsCents": 300_000, "thirdPartyFundsCents": 0, "grantCents": 1_400_000},
        "receipts": [
            {"paidOn": demo_date(2027, 3, 31)?, "payee": "Institut für Versorgungsforschung", "reason": "Analyse",
             "amountCents": 1_000_000},
            {"paidOn": demo_date(2027, 6, 30)?, "payee": "Tagungshaus", "reason": "Bewirtung der Workshops",
             "amountCents": 200_000}
        ]
    });
    let proof = crate::proofs_of_use::proof_id(app, ProofKind::Final, None);
    crate::proofs_of_use::update(conn, recipient, proof, any(), content).await?;
    let admissions = vec![
        Admission {
            index: 0,
            admitted_cents: 1_000_000,
            note: None,
        },
        Admission {
            index: 1,
            admitted_cents: 0,
            note: Some("Bewirtung ist nicht zuwendungsfähig.".into()),
        },
    ];
    for (action, who, input) in [
        (A::Submit, recipient, Input::default()),
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
        crate::proofs_of_use::transition(conn, who, proof, action, None, input).await?;
    }

    // Settled: 70 % of 1,000,000 is due, 1,400,000 was paid; 700,000 are reclaimed after a hearing.
    let settlement = crate::settlements::propose(conn, ministry, notice.id).await?;
    crate::settlements::confirm(conn, second, settlement.id, None, retention_years).await?;
    crate::recovery_claims::create(conn, ministry, settlement.id, None).await?;
    Ok(())
}
