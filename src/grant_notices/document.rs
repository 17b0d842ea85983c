//! The notice's letter as a document: the facts [`letter::render`] needs, gathered from the notice, its recipient and
//! its funding line; the letter kept as the notice's attachment when it is issued (its SHA-256 in the `issue` history
//! entry); the letter served for `Accept: application/pdf`.

use std::sync::Arc;

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use object_store::ObjectStore;
use uuid::Uuid;

use super::letter::{self, Letter, euro};
use super::model::{ClauseSet, FinancingType, GrantNotice};
use crate::audit::history::DocumentRef;
use crate::core::identity::Caller;
use crate::db::schema::{districts, funding_lines, grant_notices, organisations};
use crate::error::{ApiError, ApiResult};
use crate::files::generated::{self, Generated};
use crate::files::model::OwnerKind;

/// The id of a notice's kept letter: derived from the notice, so a retried `issue` stores the same object and the
/// letter is found without a lookup.
pub fn letter_id(notice: Uuid) -> Uuid {
    Uuid::new_v5(&notice, b"letter")
}

/// The share as German text: `80 %`, `62,5 %`.
fn percent(basis_points: i32) -> String {
    let whole = basis_points / 100;
    match basis_points % 100 {
        0 => format!("{whole} %"),
        r if r % 10 == 0 => format!("{whole},{} %", r / 10),
        r => format!("{whole},{r:02} %"),
    }
}

/// Everything the letter says about `notice`, dated `date`.
pub async fn facts(conn: &mut AsyncPgConnection, notice: &GrantNotice, date: NaiveDate) -> ApiResult<Letter> {
    let (name, ags, district_name, street, postal_code, city): (
        String,
        Option<String>,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
    ) = organisations::table
        .inner_join(districts::table)
        .filter(organisations::id.eq(notice.recipient.id))
        .select((
            organisations::name,
            organisations::ags,
            districts::name,
            organisations::street,
            organisations::postal_code,
            organisations::city,
        ))
        .first(conn)
        .await?;
    let line_title: String = funding_lines::table
        .find(&notice.funding_line)
        .select(funding_lines::title)
        .first(conn)
        .await?;
    // The address field: the postal address where the organisation has one, else its name and district.
    let mut recipient_lines = vec![name.clone()];
    match (street, postal_code, city) {
        (Some(street), Some(code), Some(city)) => {
            recipient_lines.push(street);
            recipient_lines.push(format!("{code} {city}"));
        }
        _ => {
            if ags.as_deref() != Some(notice.district.as_str()) {
                recipient_lines.push(district_name);
            }
        }
    }
    let costs = euro(notice.eligible_costs_cents);
    let financing = match notice.financing_type {
        FinancingType::Anteilsfinanzierung => format!(
            "Die Zuwendung wird als Anteilsfinanzierung in Höhe von {} der zuwendungsfähigen Ausgaben von {costs} \
             gewährt.",
            percent(notice.rate_basis_points)
        ),
        FinancingType::Festbetrag => format!(
            "Die Zuwendung wird als Festbetragsfinanzierung gewährt; die zuwendungsfähigen Ausgaben betragen {costs}."
        ),
        FinancingType::Fehlbedarf => format!(
            "Die Zuwendung wird als Fehlbedarfsfinanzierung gewährt; die zuwendungsfähigen Ausgaben betragen {costs}."
        ),
    };
    let clause_set = match notice.clause_set {
        ClauseSet::AnbestGk => {
            "Allgemeinen Nebenbestimmungen für Zuwendungen zur Projektförderung an Gebietskörperschaften und \
             Zusammenschlüsse von Gebietskörperschaften (ANBest-GK)"
        }
        ClauseSet::AnbestP => "Allgemeinen Nebenbestimmungen für Zuwendungen zur Projektförderung (ANBest-P)",
    };
    Ok(Letter {
        file_number: notice.file_number.clone(),
        date,
        draft: notice.status == super::NoticeStatus::Draft,
        number: notice.number,
        amendment_reason: notice.amendment_reason.clone(),
        recipient_lines,
        funding_line: notice.funding_line.clone(),
        funding_line_name: line_title,
        purpose: notice.purpose.clone(),
        period: (notice.period_start, notice.period_end),
        amount_cents: notice.amount_cents,
        years: notice.years.iter().map(|y| (y.year, y.amount_cents)).collect(),
        financing,
        lock_in_until: notice.lock_in_until,
        clause_set: clause_set.to_owned(),
        excluded_clauses: notice.excluded_clauses.clone(),
        conditions: notice.conditions.clone(),
        legal_remedy: notice.legal_remedy.clone(),
        document_id: format!("{}/{}", notice.id, notice.number),
    })
}

/// The letter as PDF bytes: the day of delivery for an issued notice, `today` for a draft's preview.
pub async fn render(conn: &mut AsyncPgConnection, notice: &GrantNotice, today: NaiveDate) -> ApiResult<Vec<u8>> {
    let date = notice.delivered_on.unwrap_or(today);
    let facts = facts(conn, notice, date).await?;
    letter::render(&facts).map_err(ApiError::internal)
}

/// Keeps the issued notice's letter as its attachment (category `bescheid`), in the transaction.
pub async fn keep(
    conn: &mut AsyncPgConnection,
    storage: &Arc<dyn ObjectStore>,
    caller: &Caller,
    notice: &GrantNotice,
) -> ApiResult<DocumentRef> {
    let bytes = render(conn, notice, crate::core::time::today_in_hessen()).await?;
    let title = if notice.number > 1 {
        "Änderungsbescheid"
    } else {
        "Zuwendungsbescheid"
    };
    let doc = Generated {
        id: letter_id(notice.id),
        owner_kind: OwnerKind::GrantNotice,
        owner_id: notice.id,
        organisation_id: notice.recipient.id,
        grant_id: notice.application_id,
        category: "bescheid",
        file_name: format!("{title} {} Nr. {}.pdf", notice.file_number, notice.number),
        media_type: "application/pdf",
        bytes,
    };
    let kept = generated::keep(conn, storage, caller, doc).await?;
    Ok(DocumentRef {
        attachment_id: kept.id,
        sha256: kept.sha256,
    })
}

/// After a failed `issue`: removes a letter stored before its transaction failed, unless a record names it. The
/// notice's row lock first, so an `issue` still in flight (holding it) commits before this looks.
pub async fn discard_unsent(
    conn: &mut AsyncPgConnection,
    storage: &Arc<dyn ObjectStore>,
    notice: Uuid,
) -> ApiResult<()> {
    crate::db::transaction(conn, async |conn| {
        grant_notices::table
            .find(notice)
            .select(grant_notices::id)
            .for_update()
            .first::<Uuid>(conn)
            .await
            .optional()?;
        generated::discard_unrecorded(conn, storage, letter_id(notice)).await
    })
    .await
}

/// The letter as a response: the kept one for an issued notice, a preview for a draft. A notice issued before letters
/// were kept (migration 000023) gets a new rendering from today's data (the recipient's name and address, the funding
/// line's title as they are now).
pub async fn serve(
    conn: &mut AsyncPgConnection,
    storage: &Arc<dyn ObjectStore>,
    notice: &GrantNotice,
) -> ApiResult<actix_web::HttpResponse> {
    use actix_web::http::header;
    let kept = if notice.status == super::NoticeStatus::Draft {
        None
    } else {
        generated::read(conn, storage, letter_id(notice.id)).await?
    };
    let (name, bytes) = match kept {
        Some((attachment, bytes)) => (attachment.file_name, bytes),
        None => {
            let bytes = render(conn, notice, crate::core::time::today_in_hessen()).await?;
            let name = format!("Bescheid {} Nr. {}.pdf", notice.file_number, notice.number);
            (name, bytes.into())
        }
    };
    Ok(actix_web::HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/pdf"))
        .insert_header((header::CONTENT_DISPOSITION, crate::files::content::disposition(&name)))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(bytes))
}
