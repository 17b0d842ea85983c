//! A digest as a German plain-text mail: what happened since the last one, one line per event, newest last.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::model::Frequency;
use crate::events::Event;

/// How many events a mail lists; the rest are counted and left to the feed.
const LISTED: usize = 100;

/// The German name of a resource kind (the kind itself for one not named here).
fn noun(kind: &str) -> &str {
    match kind {
        "application" => "Antrag",
        "grant_notice" => "Zuwendungsbescheid",
        "payment_request" => "Mittelabruf",
        "proof_of_use" => "Verwendungsnachweis",
        "settlement" => "Schlussabrechnung",
        "recovery_claim" => "Rückforderung",
        "change_request" => "Änderungsantrag",
        "early_start_consent" => "Vorzeitiger Maßnahmebeginn",
        "attachment" => "Anlage",
        "organisation" => "Organisation",
        "coordinator" => "Gesundheitskoordination",
        "committee" => "Gremium",
        "committee_meeting" => "Sitzung",
        "action_item" => "Arbeitsauftrag",
        "referral" => "Vermittlung",
        "consultation" => "Beratung",
        "knowledge_entry" => "Wissenseintrag",
        "topic" => "Thema",
        "obligation" => "Frist",
        "funding_line" => "Förderlinie",
        other => other,
    }
}

/// The German word for what happened (the event's own word for one not named here).
fn verb(what: &str) -> &str {
    match what {
        "created" => "angelegt",
        "changed" => "geändert",
        "deleted" => "gelöscht",
        "submitted" => "eingereicht",
        "approved" => "bewilligt",
        "rejected" => "abgelehnt",
        "published" => "veröffentlicht",
        "archived" => "archiviert",
        "forwarded" => "weitergeleitet",
        "answered" => "beantwortet",
        "closed" => "abgeschlossen",
        "completed" => "erledigt",
        "cancelled" => "abgebrochen",
        "started" => "begonnen",
        "meeting_recorded" => "Sitzung eingetragen",
        "due_soon" => "bald fällig",
        "overdue" => "überfällig",
        other => other,
    }
}

/// Where a resource is read (`/api/v1/<segment>/<id>`): its URL segment is its kind in kebab case and plural.
fn href(e: &Event) -> String {
    let segment = match e.resource_kind.as_str() {
        "committee_meeting" => "meetings".to_owned(),
        "proof_of_use" => "proofs-of-use".to_owned(),
        "knowledge_entry" => "knowledge-entries".to_owned(),
        "obligation" => return "/api/v1/obligations".to_owned(),
        kind => format!("{}s", kind.replace('_', "-")),
    };
    format!("/api/v1/{segment}/{}", e.resource_id)
}

fn local(t: DateTime<Utc>) -> String {
    crate::core::time::hessen_local(t).format("%d.%m.%Y %H:%M").to_string()
}

/// The subject and the body of one digest.
pub fn digest(id: &Uuid, frequency: Frequency, events: &[Event], since: Option<DateTime<Utc>>) -> (String, String) {
    let kind = match frequency {
        Frequency::Daily => "Täglicher",
        Frequency::Weekly => "Wöchentlicher",
    };
    let n = events.len();
    let subject = format!(
        "{kind} Überblick Versorgung: {n} {}",
        if n == 1 { "neues Ereignis" } else { "neue Ereignisse" }
    );
    let mut body = String::from("Guten Tag,\n\n");
    body.push_str(&match since {
        Some(t) => format!(
            "seit dem letzten Überblick ({}) gab es {n} Ereignis(se) zu dem, was Sie verfolgen:\n\n",
            local(t)
        ),
        None => {
            format!("seit Sie den Überblick eingerichtet haben, gab es {n} Ereignis(se) zu dem, was Sie verfolgen:\n\n")
        }
    });
    for e in events.iter().take(LISTED) {
        let (kind, what) = e
            .event_type
            .split_once('.')
            .unwrap_or((&e.resource_kind, &e.event_type));
        body.push_str(&format!(
            "- {} · {} {} · {}\n  ({}, Position {})\n",
            local(e.occurred_at),
            noun(kind),
            verb(what),
            href(e),
            e.event_type,
            e.position
        ));
    }
    if n > LISTED {
        body.push_str(&format!("\n… und {} weitere.\n", n - LISTED));
    }
    let first = events.first().map_or(0, |e| e.position.saturating_sub(1));
    body.push_str(&format!(
        "\nAlle Ereignisse mit ihren Daten liefert der Ereignis-Feed: GET /api/v1/events?after={first}\n\n\
         Sie erhalten diese Nachricht, weil für diese Adresse ein Überblick eingerichtet ist ({id}).\n\
         Abbestellen: DELETE /api/v1/digests/{id}\n\n\
         Serviceeinheit Gesundheitsversorgung – Versorgung Hessen\n"
    ));
    (subject, body)
}
