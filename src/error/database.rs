//! Database failures, classified by SQLSTATE: the one place where a SQL error decides what the service does.
//!
//! Never by message text: PostgreSQL localises its messages (`lc_messages`), and a text match breaks silently.
//! The SQLSTATE comes from the vendored diesel/diesel-async patch (vendor/README.md). docs/errors.md lists the
//! codes with their statuses; the unit tests below pin every row of that list.

use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::{ApiError, MessageParams};

/// What a database failure means for the request and for the connection it happened on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// No row where one was required.
    NotFound,
    /// 23505: the thing exists already.
    Duplicate,
    /// 23503: a delete meets rows that still refer to it (writes check their references first).
    InUse,
    /// 23001: a trigger refused to delete what must be kept (an attachment within its retention period).
    Retained,
    /// 23514: a check constraint, named, refused the write.
    Check(Option<String>),
    /// 40001, 40P01: the transaction lost a race; running it again will most likely succeed.
    Retry,
    /// Transient: the request may be repeated after a pause (503 with Retry-After). `discard`: the connection cannot
    /// be used again (the server ended the session or the socket is gone), so the pool must drop it.
    Unavailable { discard: bool },
    /// Anything else is a defect of the service: 500, logged, the cause never shown.
    Internal,
}

impl Failure {
    /// Whether the connection that produced this failure must be dropped instead of returned to the pool.
    pub fn discards_connection(&self) -> bool {
        matches!(self, Self::Unavailable { discard: true })
    }
}

/// Classifies a diesel error. The SQLSTATE decides; diesel's kind only where the server sent no code (the socket
/// closed, or the command could not be sent).
pub fn classify(err: &DieselError) -> Failure {
    match err {
        DieselError::NotFound => Failure::NotFound,
        DieselError::DatabaseError(kind, info) => match info.sql_state() {
            Some(code) => by_sql_state(code, info.constraint_name()),
            None => match kind {
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand => {
                    Failure::Unavailable { discard: true }
                }
                _ => Failure::Internal,
            },
        },
        // A commit that failed and whose rollback failed too: the commit's error is the cause.
        DieselError::RollbackErrorOnCommit { commit_error, .. } => classify(commit_error),
        // The connection's transaction state is unknown (a BEGIN/COMMIT/ROLLBACK failed midway): never reuse it.
        DieselError::BrokenTransactionManager => Failure::Unavailable { discard: true },
        _ => Failure::Internal,
    }
}

/// The table of SQLSTATEs (PostgreSQL, Appendix A). Classes are matched by their first two characters.
fn by_sql_state(code: &str, constraint: Option<&str>) -> Failure {
    match code {
        "23505" => Failure::Duplicate,
        "23503" => Failure::InUse,
        "23514" => Failure::Check(constraint.map(str::to_owned)),
        "23001" => Failure::Retained,
        // serialization_failure, deadlock_detected
        "40001" | "40P01" => Failure::Retry,
        // admin_shutdown, crash_shutdown, cannot_connect_now: the server ends or refuses the session.
        "57P01" | "57P02" | "57P03" => Failure::Unavailable { discard: true },
        // query_canceled (statement_timeout, or a cancel request): the session itself is fine.
        "57014" => Failure::Unavailable { discard: false },
        // read_only_sql_transaction: connected to a standby (a failover in progress); a new connection may reach
        // the new primary.
        "25006" => Failure::Unavailable { discard: true },
        // lock_not_available (lock_timeout)
        "55P03" => Failure::Unavailable { discard: false },
        // class 08: connection exception
        c if c.starts_with("08") => Failure::Unavailable { discard: true },
        // class 53: insufficient resources (disk full, out of memory, too many connections)
        c if c.starts_with("53") => Failure::Unavailable { discard: false },
        _ => Failure::Internal,
    }
}

/// The status a failure becomes. `Retry` reaches here only when the retries of [`crate::db::transaction`] are
/// spent, or outside a transaction: the request itself was fine, so it is a 503 the client may repeat.
impl From<DieselError> for ApiError {
    fn from(err: DieselError) -> Self {
        match classify(&err) {
            Failure::NotFound => Self::NotFound,
            Failure::Duplicate => Self::conflict("already_exists", MessageParams::default()),
            Failure::InUse => Self::conflict("in_use", MessageParams::default()),
            Failure::Retained => Self::conflict("retained", MessageParams::detail("attachment")),
            Failure::Check(Some(c))
                if c == "funding_lines_committed_within_budget"
                    || c == "funding_line_years_committed_within_budget" =>
            {
                Self::conflict("budget_below_committed", MessageParams::default())
            }
            Failure::Check(_) | Failure::Internal => Self::Internal(err.to_string()),
            Failure::Retry => Self::Contended(err.to_string()),
            Failure::Unavailable { .. } => Self::Unavailable(err.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::result::DatabaseErrorInformation;

    /// A database error as the PostgreSQL driver reports it: a code, a message, maybe a constraint.
    struct Pg {
        code: &'static str,
        constraint: Option<&'static str>,
    }

    impl DatabaseErrorInformation for Pg {
        fn message(&self) -> &str {
            // Deliberately misleading text: the classification must not read it.
            "canceling statement due to statement timeout"
        }
        fn details(&self) -> Option<&str> {
            None
        }
        fn hint(&self) -> Option<&str> {
            None
        }
        fn table_name(&self) -> Option<&str> {
            None
        }
        fn column_name(&self) -> Option<&str> {
            None
        }
        fn constraint_name(&self) -> Option<&str> {
            self.constraint
        }
        fn statement_position(&self) -> Option<i32> {
            None
        }
        fn sql_state(&self) -> Option<&str> {
            Some(self.code)
        }
    }

    fn pg(code: &'static str) -> DieselError {
        // The kind diesel-async would give; Unknown for every code it does not know.
        DieselError::DatabaseError(DatabaseErrorKind::Unknown, Box::new(Pg { code, constraint: None }))
    }

    fn status(err: DieselError) -> u16 {
        ApiError::from(err).status_code().as_u16()
    }

    use actix_web::ResponseError;

    #[test]
    fn connection_exceptions_are_503_and_drop_the_connection() {
        for code in [
            "08000", "08003", "08006", "08001", "08004", "08P01", "57P01", "57P02", "57P03", "25006",
        ] {
            assert_eq!(classify(&pg(code)), Failure::Unavailable { discard: true }, "{code}");
            assert_eq!(status(pg(code)), 503, "{code}");
        }
    }

    #[test]
    fn timeouts_and_exhausted_resources_are_503_and_keep_the_connection() {
        for code in ["57014", "53000", "53100", "53200", "53300", "53400", "55P03"] {
            assert_eq!(classify(&pg(code)), Failure::Unavailable { discard: false }, "{code}");
            assert_eq!(status(pg(code)), 503, "{code}");
        }
    }

    #[test]
    fn serialization_failures_and_deadlocks_are_retried_then_503() {
        for code in ["40001", "40P01"] {
            assert_eq!(classify(&pg(code)), Failure::Retry, "{code}");
            assert_eq!(status(pg(code)), 503, "{code}");
        }
    }

    #[test]
    fn constraint_violations_are_409_or_500_by_constraint() {
        assert_eq!(status(pg("23505")), 409);
        assert_eq!(status(pg("23503")), 409);
        assert_eq!(status(pg("23001")), 409);
        let budget = DieselError::DatabaseError(
            DatabaseErrorKind::CheckViolation,
            Box::new(Pg {
                code: "23514",
                constraint: Some("funding_lines_committed_within_budget"),
            }),
        );
        assert_eq!(status(budget), 409);
        // A check the service should have made before writing is a defect, not the client's fault.
        assert_eq!(status(pg("23514")), 500);
    }

    #[test]
    fn other_codes_and_errors_are_500_whatever_their_message_says() {
        for code in ["XX000", "42P01", "22003", "42501"] {
            assert_eq!(classify(&pg(code)), Failure::Internal, "{code}");
            assert_eq!(status(pg(code)), 500, "{code}");
        }
        assert_eq!(status(DieselError::RollbackTransaction), 500);
        assert_eq!(status(DieselError::NotFound), 404);
    }

    #[test]
    fn errors_without_a_code_are_classified_by_kind() {
        let closed = DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, Box::new(String::from("x")));
        let unsent = DieselError::DatabaseError(DatabaseErrorKind::UnableToSendCommand, Box::new(String::from("x")));
        assert!(classify(&closed).discards_connection());
        assert!(classify(&unsent).discards_connection());
        assert!(classify(&DieselError::BrokenTransactionManager).discards_connection());
        let commit = DieselError::RollbackErrorOnCommit {
            rollback_error: Box::new(DieselError::BrokenTransactionManager),
            commit_error: Box::new(pg("40001")),
        };
        assert_eq!(classify(&commit), Failure::Retry);
    }
}
