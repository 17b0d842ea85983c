//! The topic vocabulary as the resources that carry topic codes use it: checking the codes a request names,
//! widening a topic filter by its sub-topics, and rewriting the codes of a merge (the resource records each change). Below the resources (it reads the `topics` table only), so that the
//! `topics` resource, which rewrites their codes when it merges topics, can import them without a cycle.

use diesel::prelude::*;
use diesel::sql_types::Text;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::db::schema::topics;
use crate::error::{ApiError, ApiResult, FieldError, MessageParams};

/// The largest number of topics one record carries.
pub const MAX_TOPICS: usize = 20;

/// Every code must name an active topic: 422 `unknown_reference` at `{pointer}/{i}` for one that does not (or that
/// was archived: it was merged into another, whose code the message names). Codes in `kept` (what a record carried
/// before a change) pass even if archived since, so that an unrelated change of the record is not refused.
pub async fn check(conn: &mut AsyncPgConnection, codes: &[String], pointer: &str, kept: &[String]) -> ApiResult<()> {
    if codes.iter().all(|c| kept.contains(c)) {
        return Ok(());
    }
    let known: Vec<(String, String, Option<String>)> = topics::table
        .filter(topics::code.eq_any(codes))
        .select((topics::code, topics::status, topics::merged_into))
        .load(conn)
        .await?;
    let errors: Vec<FieldError> = codes
        .iter()
        .enumerate()
        .filter_map(|(i, code)| {
            let detail = match known.iter().find(|(c, _, _)| c == code) {
                Some((_, status, _)) if status == "active" || kept.contains(code) => return None,
                Some((_, _, Some(into))) => format!("topic {code} was merged into {into}"),
                Some(_) => format!("topic {code} is archived"),
                None => format!("no topic {code} (see GET /topics)"),
            };
            Some(FieldError::new(
                format!("{pointer}/{i}"),
                "unknown_reference",
                MessageParams::detail(detail),
            ))
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

#[derive(QueryableByName)]
struct Code {
    #[diesel(sql_type = Text)]
    code: String,
}

/// The topic and all its sub-topics, at any depth (a filter by a topic finds what carries a sub-topic too); empty
/// for an unknown code.
pub async fn with_descendants(conn: &mut AsyncPgConnection, code: &str) -> ApiResult<Vec<String>> {
    let rows: Vec<Code> = diesel::sql_query(
        "WITH RECURSIVE below(code) AS (SELECT code FROM topics WHERE code = $1 \
         UNION SELECT t.code FROM topics t JOIN below b ON t.parent = b.code) SELECT code FROM below",
    )
    .bind::<Text, _>(code)
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|r| r.code).collect())
}

/// What a request's topic list must look like before the register is asked: codes (422 `invalid_format`), each
/// once (422 `duplicate`), at pointers `{pointer}/{i}`.
pub fn shape_errors(codes: &[String], pointer: &str) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (i, code) in codes.iter().enumerate() {
        if !crate::core::types::is_topic_code(code) {
            errors.push(FieldError::new(
                format!("{pointer}/{i}"),
                "invalid_format",
                MessageParams::format(crate::error::Format::TopicCode),
            ));
        } else if codes[..i].contains(code) {
            errors.push(FieldError::new(
                format!("{pointer}/{i}"),
                "duplicate",
                MessageParams::default(),
            ));
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_checked_for_their_shape_and_repetition() {
        let codes: Vec<String> = ["telemedizin", "Telemedizin", "telemedizin", "a--b"]
            .map(String::from)
            .to_vec();
        let pointers: Vec<(String, String)> = shape_errors(&codes, "/topics")
            .into_iter()
            .map(|e| (e.pointer, e.code))
            .collect();
        assert_eq!(
            pointers,
            [
                ("/topics/1".into(), "invalid_format".into()),
                ("/topics/2".into(), "duplicate".into()),
                ("/topics/3".into(), "invalid_format".into())
            ]
        );
    }
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    id: uuid::Uuid,
}

/// A merge of topics in the rows of `table` (a constant table name of a resource that carries `topics`): every
/// row that carries `from` carries `into` instead (order kept, each code once), its version moved. Returns the ids
/// of the rows changed, for the resource to record each change (history and event) in the same transaction.
pub async fn replace_in(
    conn: &mut AsyncPgConnection,
    table: &'static str,
    from: &str,
    into: &str,
) -> ApiResult<Vec<uuid::Uuid>> {
    let rows: Vec<Id> = diesel::sql_query(format!(
        "UPDATE {table} SET topics = ARRAY(\
             SELECT code FROM (\
                 SELECT CASE WHEN u.code = $1 THEN $2 ELSE u.code END AS code, min(u.n) AS n \
                 FROM unnest(topics) WITH ORDINALITY AS u(code, n) GROUP BY 1) merged ORDER BY n), \
         version = version + 1, updated_at = now() \
         WHERE topics @> ARRAY[$1] RETURNING id"
    ))
    .bind::<Text, _>(from)
    .bind::<Text, _>(into)
    .load(conn)
    .await?;
    let mut ids: Vec<uuid::Uuid> = rows.into_iter().map(|r| r.id).collect();
    ids.sort();
    Ok(ids)
}

/// A merge of topics in the subscriptions (webhooks' and digests' `topics`): a subscription to `from` follows
/// `into` from now on, so that it keeps receiving what it followed (new events carry `into`).
pub async fn replace_in_subscriptions(conn: &mut AsyncPgConnection, from: &str, into: &str) -> ApiResult<()> {
    for table in ["webhooks", "digests"] {
        diesel::sql_query(format!(
            "UPDATE {table} SET topics = ARRAY(\
                 SELECT code FROM (\
                     SELECT CASE WHEN u.code = $1 THEN $2 ELSE u.code END AS code, min(u.n) AS n \
                     FROM unnest(topics) WITH ORDINALITY AS u(code, n) GROUP BY 1) merged ORDER BY n) \
             WHERE topics @> ARRAY[$1]"
        ))
        .bind::<Text, _>(from)
        .bind::<Text, _>(into)
        .execute(conn)
        .await?;
    }
    Ok(())
}
