//! `/oparl/v1/`: the ministry's committees as an OParl 1.1 system (System, Body, Organization, Person, Membership,
//! Meeting, AgendaItem, Paper, File), read-only, so that the tools that read German council information systems
//! read them too. Anyone may read; persons' names and files only with a token (any role), contact data never.
//! docs/coordination.md has the mapping; tests/api/oparl.rs validates every object against OParl's JSON schemas.

mod handlers;
mod objects;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::system)
        .service(handlers::bodies)
        .service(handlers::body)
        .service(handlers::organizations)
        .service(handlers::organization)
        .service(handlers::organization_meetings)
        .service(handlers::people)
        .service(handlers::person)
        .service(handlers::membership)
        .service(handlers::meetings)
        .service(handlers::meeting)
        .service(handlers::agenda_item)
        .service(handlers::papers)
        .service(handlers::paper)
        .service(handlers::file);
}
