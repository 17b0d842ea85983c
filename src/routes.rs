//! The route table and the OpenAPI document: every endpoint of the service, one line per resource folder.

use actix_web::App;
use utoipa_actix_web::{AppExt, scope};

use crate::http::openapi;
use crate::{
    action_items, applications, attachments, base_rates, change_requests, committees, consultations, coordinators,
    digests, districts, early_start_consents, events, funding_lines, grant_notices, health, knowledge, meetings,
    metrics, obligations, oparl, organisations, payment_requests, proofs_of_use, recovery_claims, referrals,
    settlements, statistics, topics, webhooks,
};

/// The route table: every endpoint of the service, one line per resource module.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(
        scope::scope("/api/v1")
            .configure(districts::routes)
            .configure(organisations::routes)
            .configure(funding_lines::routes)
            .configure(applications::routes)
            .configure(attachments::routes)
            .configure(early_start_consents::routes)
            .configure(grant_notices::routes)
            .configure(payment_requests::routes)
            .configure(proofs_of_use::routes)
            .configure(settlements::routes)
            .configure(recovery_claims::routes)
            .configure(base_rates::routes)
            .configure(change_requests::routes)
            .configure(obligations::routes)
            .configure(coordinators::routes)
            .configure(committees::routes)
            .configure(meetings::routes)
            .configure(action_items::routes)
            .configure(referrals::routes)
            .configure(topics::routes)
            .configure(knowledge::routes)
            .configure(consultations::routes)
            .configure(events::routes)
            .configure(statistics::routes)
            .configure(webhooks::routes)
            .configure(digests::routes),
    )
    .configure(oparl::routes)
    .configure(health::routes)
    .configure(metrics::routes);
}

/// The OpenAPI document, exactly as served at `/api-docs/openapi.json`.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    let (_, doc) = App::new()
        .into_utoipa_app()
        .openapi(openapi::base())
        .configure(routes)
        .split_for_parts();
    let mut doc = openapi::finish(doc, &list_parameters());
    describe_lifecycles(&mut doc);
    doc
}

/// The query parameters that take a comma-separated list of fixed values, for the document's patterns.
fn list_parameters() -> Vec<openapi::ListParameter> {
    use crate::applications::model::Status;
    use crate::referrals::model::ReferralStatus;
    use crate::statistics::model::Dimension;
    let statuses = || Status::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>();
    let list = |path, name, values| openapi::ListParameter { path, name, values };
    vec![
        list("/api/v1/applications", "status", statuses()),
        list("/api/v1/statistics/funding", "status", statuses()),
        list(
            "/api/v1/referrals",
            "status",
            ReferralStatus::ALL.iter().map(|s| s.as_str()).collect(),
        ),
        list(
            "/api/v1/statistics/funding",
            "groupBy",
            Dimension::ALL.iter().map(|d| d.as_str()).collect(),
        ),
    ]
}

/// The lifecycle tables in the tags' descriptions, generated from the transition tables.
fn describe_lifecycles(doc: &mut utoipa::openapi::OpenApi) {
    // The application lifecycle, generated from the transition table.
    if let Some(tag) = doc
        .tags
        .as_mut()
        .and_then(|tags| tags.iter_mut().find(|t| t.name == "Applications"))
    {
        tag.description = Some(format!(
            "Förderanträge from draft to decision. Lifecycle (`POST /applications/{{id}}/{{action}}`):\n\n{}",
            applications::model::LIFECYCLE.markdown()
        ));
    }
    if let Some(tag) = doc
        .tags
        .as_mut()
        .and_then(|tags| tags.iter_mut().find(|t| t.name == "Grant notices"))
    {
        tag.description = Some(format!(
            "Zuwendungsbescheide: drafted by an approval, completed and issued by the ministry under four eyes, final \
             one month after delivery or on a waiver. Lifecycle (`POST /grant-notices/{{id}}/{{action}}`):\n\n{}",
            grant_notices::LIFECYCLE.markdown()
        ));
    }
    if let Some(tag) = doc
        .tags
        .as_mut()
        .and_then(|tags| tags.iter_mut().find(|t| t.name == "Referrals"))
    {
        tag.description = Some(format!(
            "Vermittlungen: ideas from the regions into committees, requests from committees into the regions. \
                 Lifecycle (`POST /referrals/{{id}}/{{action}}`):\n\n{}",
            referrals::LIFECYCLE.markdown()
        ));
    }
}
