//! What an attachment belongs to, as the caller may see it: the owner's own `find` decides visibility (a
//! municipality sees only its organisation's resources, and no draft notice), so attachments can never be seen where
//! their owner cannot.

use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::applications::model::Status as ApplicationStatus;
use crate::core::identity::Caller;
use crate::error::ApiResult;
pub use crate::files::Owner;
use crate::files::model::OwnerKind;
use crate::grant_notices::NoticeStatus;
use crate::payment_requests::PaymentStatus;
use crate::proofs_of_use::ProofStatus;
use crate::recovery_claims::ClaimStatus;

/// The owner as the caller may see it (404 otherwise), locked when `lock` (an upload or a deletion serialises with
/// the owner's own transitions, so a file is never added to a resource that was submitted meanwhile).
pub async fn resolve(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    kind: OwnerKind,
    id: Uuid,
    lock: bool,
) -> ApiResult<Owner> {
    let (organisation_id, editable) = match kind {
        OwnerKind::Application => {
            let a = crate::applications::find(conn, caller, id, lock).await?;
            let editable = matches!(a.status, ApplicationStatus::Draft | ApplicationStatus::ChangesRequested);
            (a.organisation.id, editable)
        }
        OwnerKind::GrantNotice => {
            let n = crate::grant_notices::find(conn, caller, id, lock).await?;
            (n.recipient.id, n.status == NoticeStatus::Draft)
        }
        OwnerKind::PaymentRequest => {
            let r = crate::payment_requests::find(conn, caller, id, lock).await?;
            let editable = matches!(r.status, PaymentStatus::Draft | PaymentStatus::Returned);
            (r.recipient.id, editable)
        }
        OwnerKind::ProofOfUse => {
            let p = crate::proofs_of_use::find(conn, caller, id, lock).await?;
            let editable = matches!(
                p.status,
                ProofStatus::Open | ProofStatus::Draft | ProofStatus::ChangesRequested
            );
            (p.recipient.id, editable)
        }
        OwnerKind::RecoveryClaim => {
            let c = crate::recovery_claims::find(conn, caller, id, lock).await?;
            (c.recipient.id, c.status == ClaimStatus::Hearing)
        }
    };
    Ok(Owner {
        kind,
        id,
        organisation_id,
        editable,
    })
}
