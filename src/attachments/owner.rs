//! What an attachment belongs to, as the caller may see it: the owner's own `find` decides visibility (a
//! municipality sees only its organisation's resources, and no draft notice), so attachments can never be seen where
//! their owner cannot.

use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::applications::model::Status as ApplicationStatus;
use crate::audit::Audience;
use crate::core::identity::{Caller, Role};
use crate::error::ApiResult;
pub use crate::files::Owner;
use crate::files::model::OwnerKind;
use crate::grant_notices::NoticeStatus;
use crate::payment_requests::PaymentStatus;
use crate::proofs_of_use::ProofStatus;
use crate::recovery_claims::ClaimStatus;
use crate::referrals::model::ReferralStatus;

/// The owner as the caller may see it (404 otherwise), locked when `lock` (an upload or a deletion serialises with
/// the owner's own transitions, so a file is never added to a resource that was submitted meanwhile).
pub async fn resolve(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    kind: OwnerKind,
    id: Uuid,
    lock: bool,
) -> ApiResult<Owner> {
    // The owners without a lifecycle lock of their own are locked here, so an upload serialises with erasing a
    // coordinator, closing a referral or deleting a committee.
    if lock {
        let table = match kind {
            OwnerKind::CommitteeMeeting => Some("committee_meetings"),
            OwnerKind::Referral => Some("referrals"),
            OwnerKind::Coordinator => Some("coordinators"),
            _ => None,
        };
        if let Some(table) = table {
            crate::db::lock_row(conn, table, id).await?;
        }
    }
    let (organisation_id, grant_id, editable, audience) = match kind {
        OwnerKind::Application => {
            let a = crate::applications::find(conn, caller, id, lock).await?;
            let editable = matches!(a.status, ApplicationStatus::Draft | ApplicationStatus::ChangesRequested);
            (
                Some(a.organisation.id),
                Some(a.id),
                editable,
                Audience::organisation(a.organisation.id),
            )
        }
        OwnerKind::GrantNotice => {
            let n = crate::grant_notices::find(conn, caller, id, lock).await?;
            let editable = n.status == NoticeStatus::Draft;
            (
                Some(n.recipient.id),
                Some(n.application_id),
                editable,
                Audience::organisation(n.recipient.id),
            )
        }
        OwnerKind::PaymentRequest => {
            let r = crate::payment_requests::find(conn, caller, id, lock).await?;
            let editable = matches!(r.status, PaymentStatus::Draft | PaymentStatus::Returned);
            (
                Some(r.recipient.id),
                Some(r.application_id),
                editable,
                Audience::organisation(r.recipient.id),
            )
        }
        OwnerKind::ProofOfUse => {
            let p = crate::proofs_of_use::find(conn, caller, id, lock).await?;
            let editable = matches!(
                p.status,
                ProofStatus::Open | ProofStatus::Draft | ProofStatus::ChangesRequested
            );
            (
                Some(p.recipient.id),
                Some(p.application_id),
                editable,
                Audience::organisation(p.recipient.id),
            )
        }
        OwnerKind::RecoveryClaim => {
            let c = crate::recovery_claims::find(conn, caller, id, lock).await?;
            let editable = c.status == ClaimStatus::Hearing;
            (
                Some(c.recipient.id),
                Some(c.application_id),
                editable,
                Audience::organisation(c.recipient.id),
            )
        }
        // Meetings are read by every role; their files are the committee's record, kept by staff.
        OwnerKind::CommitteeMeeting => {
            crate::committees::meeting_exists(conn, id).await?;
            (None, None, true, Audience::everyone())
        }
        // A referral's files go with it while it is open; its origin organisation adds its own.
        OwnerKind::Referral => {
            let r = crate::referrals::find(conn, caller, id).await?;
            let open = !matches!(r.status, ReferralStatus::Closed | ReferralStatus::Declined);
            let readers = crate::referrals::audience_of(conn, id).await?;
            (r.origin.organisation.map(|o| o.id), None, open, readers)
        }
        // A knowledge entry's files are read as the entry is (signed-in readers of a published one; staff of the
        // others), and added by the service unit while the entry is a draft.
        OwnerKind::KnowledgeEntry => {
            let e = crate::knowledge::find(conn, Some(caller), id, lock).await?;
            let wide = e.status == crate::knowledge::model::EntryStatus::Published
                && e.visibility != crate::knowledge::model::Visibility::Internal;
            let audience = if wide { Audience::everyone() } else { Audience::staff() };
            (
                None,
                None,
                e.status == crate::knowledge::model::EntryStatus::Draft,
                audience,
            )
        }
        // A coordinator's documents are personal data: staff only (403 for a municipality, which sees the record's
        // public part); none are added once the person's data is erased.
        OwnerKind::Coordinator => {
            caller.require(&[Role::ServiceUnit, Role::Ministry])?;
            let c = crate::coordinators::get(conn, caller, id).await?;
            (Some(c.employer.id), None, !c.erased, Audience::staff())
        }
    };
    Ok(Owner {
        kind,
        id,
        organisation_id,
        grant_id,
        audience,
        editable,
    })
}
