//! Messages in German and English. Problem `title`s are stable English strings (clients may match on them);
//! `detail` and field messages follow `Accept-Language`.

use actix_web::HttpRequest;
use actix_web::http::header;

use crate::error::{ApiError, AuthFailure, Format, MessageParams};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Lang {
    De,
    #[default]
    En,
}

impl Lang {
    /// The language tag of `Content-Language`.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::De => "de",
            Lang::En => "en",
        }
    }

    /// Picks `de` or `en` from `Accept-Language` by the client's preference order (quality values honoured);
    /// English when neither is named.
    pub fn from_request(req: &HttpRequest) -> Self {
        let Some(value) = req.headers().get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()) else {
            return Lang::En;
        };
        Self::from_accept_language(value)
    }

    pub fn from_accept_language(value: &str) -> Self {
        let mut best: Option<(f32, Lang)> = None;
        for part in value.split(',') {
            let mut pieces = part.trim().split(';');
            let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            let lang = if tag == "de" || tag.starts_with("de-") {
                Lang::De
            } else if tag == "en" || tag.starts_with("en-") {
                Lang::En
            } else {
                continue;
            };
            if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, lang));
            }
        }
        best.map_or(Lang::En, |(_, l)| l)
    }
}

pub fn problem_title(slug: &str) -> &'static str {
    match slug {
        "unauthorized" => "Unauthorized",
        "forbidden" => "Forbidden",
        "not-found" => "Not found",
        "method-not-allowed" => "Method not allowed",
        "conflict" => "Conflict",
        "precondition-required" => "Precondition required",
        "precondition-failed" => "Precondition failed",
        "payload-too-large" => "Payload too large",
        "unsupported-media-type" => "Unsupported media type",
        "malformed-json" => "Malformed JSON",
        "bad-request" => "Bad request",
        "validation" => "Validation failed",
        "too-many-requests" => "Too many requests",
        "service-unavailable" => "Service unavailable",
        _ => "Internal server error",
    }
}

pub fn problem_detail(lang: Lang, err: &ApiError) -> String {
    use Lang::{De, En};
    match (err, lang) {
        (ApiError::Unauthorized(AuthFailure::Missing), En) => {
            "This operation needs a bearer token in the Authorization header.".into()
        }
        (ApiError::Unauthorized(AuthFailure::Missing), De) => {
            "Diese Operation erfordert ein Bearer-Token im Authorization-Header.".into()
        }
        (ApiError::Unauthorized(AuthFailure::Expired), En) => "The bearer token has expired.".into(),
        (ApiError::Unauthorized(AuthFailure::Expired), De) => "Das Bearer-Token ist abgelaufen.".into(),
        (ApiError::Unauthorized(_), En) => "The bearer token is not valid for this service.".into(),
        (ApiError::Unauthorized(_), De) => "Das Bearer-Token ist für diesen Dienst nicht gültig.".into(),
        (ApiError::Forbidden, En) => "Your role may not perform this operation.".into(),
        (ApiError::Forbidden, De) => "Ihre Rolle darf diese Operation nicht ausführen.".into(),
        (ApiError::NotFound, En) => "No resource exists at this address, or it is not visible to you.".into(),
        (ApiError::NotFound, De) => {
            "Unter dieser Adresse gibt es keine Ressource, oder sie ist für Sie nicht sichtbar.".into()
        }
        (ApiError::MethodNotAllowed { allow }, En) => {
            format!("This resource allows only: {}.", allow.join(", "))
        }
        (ApiError::MethodNotAllowed { allow }, De) => {
            format!("Diese Ressource erlaubt nur: {}.", allow.join(", "))
        }
        (ApiError::Conflict(info), lang) => conflict_detail(lang, info.code, &info.params),
        (ApiError::PreconditionRequired, En) => {
            "Send If-Match with the ETag you last read, so that concurrent changes are not lost.".into()
        }
        (ApiError::PreconditionRequired, De) => {
            "Senden Sie If-Match mit dem zuletzt gelesenen ETag, damit gleichzeitige Änderungen nicht verloren gehen."
                .into()
        }
        (ApiError::PreconditionFailed { current_version }, En) => format!(
            "The resource was changed since you read it; it is now at version {current_version}. Read it again and retry."
        ),
        (ApiError::PreconditionFailed { current_version }, De) => format!(
            "Die Ressource wurde inzwischen geändert und hat jetzt Version {current_version}. Lesen Sie sie erneut und wiederholen Sie die Änderung."
        ),
        (ApiError::PayloadTooLarge { limit }, En) => format!("The request body exceeds {limit} bytes."),
        (ApiError::PayloadTooLarge { limit }, De) => {
            format!("Der Request-Body überschreitet {limit} Bytes.")
        }
        (ApiError::UnsupportedMediaType { expected }, En) => {
            format!("The request body must be sent as {expected}.")
        }
        (ApiError::UnsupportedMediaType { expected }, De) => {
            format!("Der Request-Body muss als {expected} gesendet werden.")
        }
        (ApiError::MalformedJson { line, column, .. }, En) => {
            format!("The request body is not valid JSON (line {line}, column {column}).")
        }
        (ApiError::MalformedJson { line, column, .. }, De) => {
            format!("Der Request-Body ist kein gültiges JSON (Zeile {line}, Spalte {column}).")
        }
        (ApiError::BadRequest(errs), En) => {
            format!("The request is malformed in {} place(s); see errors.", errs.len())
        }
        (ApiError::BadRequest(errs), De) => {
            format!("Die Anfrage ist an {} Stelle(n) fehlerhaft; siehe errors.", errs.len())
        }
        (ApiError::Validation(errs), En) => {
            format!("The request contains {} invalid field(s); see errors.", errs.len())
        }
        (ApiError::Validation(errs), De) => {
            format!("Die Anfrage enthält {} ungültige(s) Feld(er); siehe errors.", errs.len())
        }
        (ApiError::TooManyRequests { retry_after }, En) => {
            format!("Too many requests from this client. Retry after {retry_after} second(s).")
        }
        (ApiError::TooManyRequests { retry_after }, De) => {
            format!("Zu viele Anfragen von diesem Client. Wiederholen Sie die Anfrage nach {retry_after} Sekunde(n).")
        }
        (ApiError::Unavailable(_) | ApiError::Contended(_), En) => {
            "The service is temporarily unavailable. Retry after the time given in Retry-After.".into()
        }
        (ApiError::Unavailable(_) | ApiError::Contended(_), De) => {
            "Der Dienst ist vorübergehend nicht verfügbar. Wiederholen Sie die Anfrage nach der in Retry-After genannten Zeit."
                .into()
        }
        (ApiError::Internal(_), En) => {
            "An unexpected error occurred. It has been logged with the request id.".into()
        }
        (ApiError::Internal(_), De) => {
            "Ein unerwarteter Fehler ist aufgetreten. Er wurde mit der Request-ID protokolliert.".into()
        }
    }
}

fn conflict_detail(lang: Lang, code: &str, p: &MessageParams) -> String {
    let detail = p.detail.clone().unwrap_or_default();
    match (code, lang) {
        ("already_exists", Lang::En) => "A resource with this key already exists.".into(),
        ("already_exists", Lang::De) => "Eine Ressource mit diesem Schlüssel existiert bereits.".into(),
        ("budget_below_committed", Lang::En) => {
            "The budget cannot be lowered below the amount already committed.".into()
        }
        ("budget_below_committed", Lang::De) => {
            "Das Budget kann nicht unter den bereits gebundenen Betrag gesenkt werden.".into()
        }
        ("exceeds_commitment", Lang::En) => format!(
            "The grant's commitment in fiscal year {detail} has {} cents left; approved requests may not exceed it.",
            p.max.clone().unwrap_or_default()
        ),
        ("exceeds_commitment", Lang::De) => format!(
            "Von der Bindung der Zuwendung im Haushaltsjahr {detail} sind noch {} Cent frei; bewilligte Abrufe dürfen \
             sie nicht übersteigen.",
            p.max.clone().unwrap_or_default()
        ),
        ("attachments_closed", Lang::En) => {
            format!("The {detail} takes no more files from its recipient in its current state.")
        }
        ("attachments_closed", Lang::De) => {
            format!("In ihrem jetzigen Zustand nimmt die Ressource ({detail}) keine Dateien der Empfängerseite mehr an.")
        }
        ("topic_merged", Lang::En) => {
            format!("The topic was merged into {detail}: it stays archived; use {detail}.")
        }
        ("topic_merged", Lang::De) => {
            format!("Das Thema wurde in {detail} zusammengeführt und bleibt archiviert; bitte {detail} verwenden.")
        }
        ("mail_disabled", Lang::En) => format!("This service sends no e-mail ({detail})."),
        ("mail_disabled", Lang::De) => format!("Dieser Dienst versendet keine E-Mails ({detail})."),
        ("retained", Lang::En) => format!(
            "The file belongs to the record of the {detail}: only its uploader removes it, and only while the {detail} \
             is still being written."
        ),
        ("retained", Lang::De) => format!(
            "Die Datei gehört zur Akte ({detail}): nur wer sie hochgeladen hat, entfernt sie, und nur solange die \
             Ressource noch bearbeitet wird."
        ),
        ("content_unavailable", Lang::En) => {
            format!("The file's content cannot be served (scan state {detail}).")
        }
        ("content_unavailable", Lang::De) => {
            format!("Der Inhalt der Datei kann nicht ausgeliefert werden (Prüfstatus {detail}).")
        }
        ("early_start_without_consent", Lang::En) => format!(
            "The project starts on {detail}, before the day of its approval, and no early-start consent covers that \
             start; only projects not yet begun are funded."
        ),
        ("early_start_without_consent", Lang::De) => format!(
            "Das Vorhaben beginnt am {detail}, vor dem Tag der Bewilligung, und keine Zustimmung zum vorzeitigen \
             Maßnahmebeginn deckt diesen Beginn; gefördert werden nur Vorhaben, die noch nicht begonnen haben."
        ),
        ("early_start_exists", Lang::En) => {
            format!("An early-start request or consent for this application exists already ({detail}).")
        }
        ("early_start_exists", Lang::De) => format!(
            "Für diesen Antrag besteht bereits ein Antrag auf oder eine Zustimmung zum vorzeitigen Maßnahmebeginn \
             ({detail})."
        ),
        ("application_decided", Lang::En) => {
            format!("The application is decided already ({detail}); an early start concerns undecided applications.")
        }
        ("application_decided", Lang::De) => format!(
            "Über den Antrag ist bereits entschieden ({detail}); ein vorzeitiger Maßnahmebeginn betrifft nur offene \
             Anträge."
        ),
        ("amendment_pending", Lang::En) => {
            format!("An amending notice (number {detail}) is already in draft; complete, issue or delete it first.")
        }
        ("amendment_pending", Lang::De) => format!(
            "Ein Änderungsbescheid (Nummer {detail}) ist bereits im Entwurf; er ist erst abzuschließen, zu erlassen \
             oder zu löschen."
        ),
        ("below_approved", Lang::En) => format!(
            "Payment requests already took {} cents of fiscal year {detail}; the amended grant cannot commit less in it.",
            p.min.clone().unwrap_or_default()
        ),
        ("below_approved", Lang::De) => format!(
            "Im Haushaltsjahr {detail} sind bereits {} Cent abgerufen und bewilligt; der geänderte Bescheid kann \
             dort nicht weniger binden.",
            p.min.clone().unwrap_or_default()
        ),
        ("notice_amended", Lang::En) => format!(
            "Notice number {detail} was replaced by an amending notice; payments are requested under the notice \
             in force."
        ),
        ("notice_amended", Lang::De) => format!(
            "Bescheid Nummer {detail} wurde durch einen Änderungsbescheid ersetzt; Mittel werden unter dem \
             geltenden Bescheid abgerufen."
        ),
        ("not_deletable", Lang::En) => {
            format!("Only the draft of an amending notice can be deleted; this notice is {detail}.")
        }
        ("not_deletable", Lang::De) => {
            format!("Nur der Entwurf eines Änderungsbescheids kann gelöscht werden; dieser Bescheid ist {detail}.")
        }
        ("final_proof_not_accepted", Lang::En) => {
            "A grant is settled once its final proof of use (Verwendungsnachweis) is accepted.".into()
        }
        ("final_proof_not_accepted", Lang::De) => {
            "Eine Zuwendung wird abgerechnet, sobald ihr Verwendungsnachweis anerkannt ist.".into()
        }
        ("hearing_closed", Lang::En) => format!("The hearing ended on {detail}; the answer comes too late."),
        ("hearing_closed", Lang::De) => format!("Die Anhörungsfrist endete am {detail}; die Stellungnahme ist verspätet."),
        ("hearing_open", Lang::En) => {
            format!("The hearing runs until {detail}; the claim is decided once the recipient answered or it ended.")
        }
        ("hearing_open", Lang::De) => format!(
            "Die Anhörung läuft bis {detail}; entschieden wird nach der Stellungnahme oder nach Fristablauf."
        ),
        ("nothing_overpaid", Lang::En) => {
            "Only a confirmed settlement that found an overpayment is reclaimed.".into()
        }
        ("nothing_overpaid", Lang::De) => {
            "Zurückgefordert wird nur nach einer bestätigten Schlussabrechnung mit Überzahlung.".into()
        }
        ("four_eyes", Lang::En) => format!("Four eyes: {detail} signed off an earlier step and cannot sign off this one."),
        ("four_eyes", Lang::De) => {
            format!("Vier-Augen-Prinzip: {detail} hat einen früheren Schritt gezeichnet und kann diesen nicht zeichnen.")
        }
        ("notice_not_issued", Lang::En) => format!("The grant notice is {detail}; payments can be requested once it is issued (or final, where the funding line says so)."),
        ("notice_not_issued", Lang::De) => format!("Der Zuwendungsbescheid ist {detail}; Mittel können erst abgerufen werden, wenn er erlassen (oder, wo die Förderlinie es verlangt, bestandskräftig) ist."),
        ("no_bank_account", Lang::En) => "The recipient has no bank account on record; a payment cannot be ordered.".into(),
        ("no_bank_account", Lang::De) => "Für den Zuwendungsempfänger ist keine Bankverbindung hinterlegt; eine Auszahlung kann nicht angeordnet werden.".into(),
        ("year_budget_exceeded", Lang::En) => format!(
            "The remaining budget of fiscal year {detail} ({} cents) does not cover this year's share of the grant.",
            p.max.clone().unwrap_or_default()
        ),
        ("year_budget_exceeded", Lang::De) => format!(
            "Das verbleibende Budget des Haushaltsjahres {detail} ({} Cent) deckt den Anteil der Zuwendung in diesem \
             Jahr nicht.",
            p.max.clone().unwrap_or_default()
        ),
        ("budget_exceeded", Lang::En) => {
            format!("The funding line's remaining budget ({detail} cents) does not cover this grant.")
        }
        ("budget_exceeded", Lang::De) => {
            format!("Das verbleibende Budget der Förderlinie ({detail} Cent) deckt diese Zuwendung nicht.")
        }
        ("invalid_transition", Lang::En) => format!(
            "This action is not allowed in state {detail}; allowed now: {}.",
            p.allowed.as_deref().unwrap_or("none")
        ),
        ("invalid_transition", Lang::De) => format!(
            "Diese Aktion ist im Zustand {detail} nicht erlaubt; jetzt erlaubt: {}.",
            p.allowed.as_deref().unwrap_or("keine")
        ),
        ("not_editable", Lang::En) => {
            format!("The application can only be changed as draft or changes_requested; it is {detail}.")
        }
        ("not_editable", Lang::De) => {
            format!("Der Antrag kann nur als draft oder changes_requested geändert werden; er ist {detail}.")
        }
        ("already_answered", Lang::En) => "This target has answered already.".into(),
        ("already_answered", Lang::De) => "Dieses Ziel hat bereits geantwortet.".into(),
        ("in_use", Lang::En) => "Other records still refer to this resource.".into(),
        ("in_use", Lang::De) => "Andere Datensätze verweisen noch auf diese Ressource.".into(),
        ("erased", Lang::En) => "This record was erased; it cannot be changed.".into(),
        ("erased", Lang::De) => "Dieser Datensatz wurde gelöscht (anonymisiert) und kann nicht geändert werden.".into(),
        (_, Lang::En) => format!("The request conflicts with the current state. {detail}")
            .trim()
            .to_owned(),
        (_, Lang::De) => format!("Die Anfrage steht im Widerspruch zum aktuellen Zustand. {detail}")
            .trim()
            .to_owned(),
    }
}

/// The message of one field error, by its code.
pub fn field_message(lang: Lang, code: &str, p: &MessageParams) -> String {
    let min = p.min.as_deref().unwrap_or("");
    let max = p.max.as_deref().unwrap_or("");
    let allowed = p.allowed.as_deref().unwrap_or("");
    let detail = p.detail.as_deref().unwrap_or("");
    match (code, lang) {
        ("required", Lang::En) => "is required".into(),
        ("required", Lang::De) => "ist erforderlich".into(),
        ("not_allowed", Lang::En) => format!("is not allowed for {detail}"),
        ("not_allowed", Lang::De) => format!("ist bei {detail} nicht zulässig"),
        ("media_type_mismatch", Lang::En) => format!("does not match the content, which is {detail}"),
        ("media_type_mismatch", Lang::De) => format!("passt nicht zum Inhalt, der {detail} ist"),
        ("in_past", Lang::En) => format!("must not lie before today ({min})"),
        ("in_past", Lang::De) => format!("darf nicht vor dem heutigen Tag ({min}) liegen"),
        ("must_be_true", Lang::En) => "must be true".into(),
        ("must_be_true", Lang::De) => "muss true sein".into(),
        ("undecided_receipts", Lang::En) => format!("must decide every receipt; undecided: {detail}"),
        ("undecided_receipts", Lang::De) => format!("muss über jeden Beleg entscheiden; offen: {detail}"),
        ("too_short", Lang::En) => format!("must be at least {min} characters long"),
        ("too_short", Lang::De) => format!("muss mindestens {min} Zeichen lang sein"),
        ("too_long", Lang::En) => format!("must be at most {max} characters long"),
        ("too_long", Lang::De) => format!("darf höchstens {max} Zeichen lang sein"),
        ("length", Lang::En) => format!("must be between {min} and {max} characters long"),
        ("length", Lang::De) => format!("muss zwischen {min} und {max} Zeichen lang sein"),
        ("out_of_range", Lang::En) => match (p.min.is_some(), p.max.is_some()) {
            (true, true) => format!("must be between {min} and {max}"),
            (true, false) => format!("must be at least {min}"),
            _ => format!("must be at most {max}"),
        },
        ("out_of_range", Lang::De) => match (p.min.is_some(), p.max.is_some()) {
            (true, true) => format!("muss zwischen {min} und {max} liegen"),
            (true, false) => format!("muss mindestens {min} sein"),
            _ => format!("darf höchstens {max} sein"),
        },
        ("invalid_value", Lang::En) => format!("must be one of: {allowed}"),
        ("invalid_value", Lang::De) => format!("muss einer dieser Werte sein: {allowed}"),
        ("invalid_format", _) => match (p.format, lang) {
            (Some(f), Lang::En) => format!("has an invalid format: expected {}", format_en(f)),
            (Some(f), Lang::De) => format!("hat ein ungültiges Format: erwartet {}", format_de(f)),
            (None, Lang::En) if detail.is_empty() => "has an invalid format".into(),
            (None, Lang::De) if detail.is_empty() => "hat ein ungültiges Format".into(),
            (None, Lang::En) => format!("has an invalid format: {detail}"),
            (None, Lang::De) => format!("hat ein ungültiges Format: {detail}"),
        },
        ("control_character", Lang::En) => "contains a control character (only tab and line breaks are allowed)".into(),
        ("control_character", Lang::De) => {
            "enthält ein Steuerzeichen (erlaubt sind nur Tabulator und Zeilenumbrüche)".into()
        }
        ("invalid_type", Lang::En) => format!("has the wrong type: {detail}"),
        ("invalid_type", Lang::De) => format!("hat den falschen Typ: {detail}"),
        ("unknown_field", Lang::En) => "is not a field of this resource".into(),
        ("unknown_field", Lang::De) => "ist kein Feld dieser Ressource".into(),
        ("not_null", Lang::En) => "must not be null".into(),
        ("not_null", Lang::De) => "darf nicht null sein".into(),
        ("min_exceeds_max", Lang::En) => format!("must not be greater than {max}"),
        ("min_exceeds_max", Lang::De) => format!("darf nicht größer als {max} sein"),
        ("dates_out_of_order", Lang::En) => format!("must not be before {min}"),
        ("dates_out_of_order", Lang::De) => format!("darf nicht vor {min} liegen"),
        ("unknown_reference", Lang::En) => format!("refers to nothing that exists: {detail}"),
        ("unknown_reference", Lang::De) => format!("verweist auf nichts Existierendes: {detail}"),
        ("invalid_cursor", Lang::En) => "is not a cursor issued for this list and sort order".into(),
        ("invalid_cursor", Lang::De) => "ist kein Cursor, der für diese Liste und Sortierung ausgegeben wurde".into(),
        ("plan_sum_mismatch", Lang::En) => {
            format!("must equal own funds + third-party funds + requested grant ({detail})")
        }
        ("plan_sum_mismatch", Lang::De) => {
            format!("muss Eigenmittel + Drittmittel + beantragte Zuwendung ({detail}) entsprechen")
        }
        ("exceeds_max_amount", Lang::En) => format!("exceeds the funding line's maximum of {max} cents"),
        ("exceeds_max_amount", Lang::De) => format!("überschreitet den Höchstbetrag der Förderlinie von {max} Cent"),
        ("exceeds_max_rate", Lang::En) => {
            format!("exceeds the maximum funding rate of {max} basis points of the total costs")
        }
        ("exceeds_max_rate", Lang::De) => {
            format!("überschreitet die maximale Förderquote von {max} Basispunkten der Gesamtausgaben")
        }
        ("below_min_rate", Lang::En) => {
            format!("is below the minimum funding rate of {min} basis points of the total costs")
        }
        ("below_min_rate", Lang::De) => {
            format!("unterschreitet die minimale Förderquote von {min} Basispunkten der Gesamtausgaben")
        }
        ("exceeds_max_duration", Lang::En) => format!("makes the project longer than the funding line's {max} months"),
        ("exceeds_max_duration", Lang::De) => format!("macht das Vorhaben länger als die {max} Monate der Förderlinie"),
        ("exceeds_yearly_cap", Lang::En) => format!("exceeds the yearly cap ({max} cents for this period)"),
        ("exceeds_yearly_cap", Lang::De) => {
            format!("überschreitet die jährliche Obergrenze ({max} Cent für diesen Zeitraum)")
        }
        ("year_outside_period", Lang::En) => format!("must lie within the project period ({min}–{max})"),
        ("year_outside_period", Lang::De) => format!("muss im Durchführungszeitraum liegen ({min}–{max})"),
        ("years_sum_mismatch", Lang::En) => format!("must add up to the requested grant (they add up to {detail})"),
        ("years_sum_mismatch", Lang::De) => format!("muss sich zur beantragten Zuwendung summieren (Summe: {detail})"),
        ("ineligible_applicant", Lang::En) => {
            format!("is not open to applicants of kind {detail}; eligible: {allowed}")
        }
        ("ineligible_applicant", Lang::De) => {
            format!("steht Antragstellern der Art {detail} nicht offen; berechtigt: {allowed}")
        }
        ("funding_line_closed", Lang::En) => format!("accepts no submissions today (window {min} to {max})"),
        ("funding_line_closed", Lang::De) => format!("nimmt heute keine Anträge an (Zeitraum {min} bis {max})"),
        ("exceeds_requested", Lang::En) => format!("must not exceed the requested grant of {max} cents"),
        ("exceeds_requested", Lang::De) => format!("darf die beantragte Zuwendung von {max} Cent nicht überschreiten"),
        ("idempotency_key_reused", Lang::En) => "was already used with a different request body".into(),
        ("idempotency_key_reused", Lang::De) => "wurde bereits mit einem anderen Request-Body verwendet".into(),
        ("invalid_funding_application", Lang::En) => {
            format!("must be an approved GK application of district {detail}")
        }
        ("invalid_funding_application", Lang::De) => {
            format!("muss ein bewilligter GK-Antrag des Kreises {detail} sein")
        }
        ("invalid_iban", _) => {
            let expected = p.format.map_or("", |f| match lang {
                Lang::En => format_en(f),
                Lang::De => format_de(f),
            });
            match lang {
                Lang::En => format!("is not a valid IBAN: {}; expected {expected}", iban_reason_en(detail)),
                Lang::De => format!(
                    "ist keine gültige IBAN: {}; erwartet {expected}",
                    iban_reason_de(detail)
                ),
            }
        }
        ("empty", Lang::En) => "must not be empty".into(),
        ("empty", Lang::De) => "darf nicht leer sein".into(),
        ("duplicate", Lang::En) => "must not contain duplicates".into(),
        ("duplicate", Lang::De) => "darf keine Duplikate enthalten".into(),
        (_, Lang::En) => format!("is invalid ({code})"),
        (_, Lang::De) => format!("ist ungültig ({code})"),
    }
}

/// Why an IBAN was refused ([`crate::core::iban::IbanError::key`]), in English.
fn iban_reason_en(key: &str) -> &'static str {
    match key {
        "checksum" => "its check digits do not match",
        "country" => "its country code is not one that uses IBANs",
        "country_format" => "its length or format is not the one of its country",
        _ => "it is not two letters, two digits and up to 30 letters or digits",
    }
}

/// Why an IBAN was refused, in German.
fn iban_reason_de(key: &str) -> &'static str {
    match key {
        "checksum" => "die Prüfziffern stimmen nicht",
        "country" => "der Ländercode gehört zu keinem Land mit IBAN",
        "country_format" => "Länge oder Aufbau passen nicht zu ihrem Land",
        _ => "sie besteht nicht aus zwei Buchstaben, zwei Ziffern und bis zu 30 Buchstaben oder Ziffern",
    }
}

/// A format, described in English.
fn format_en(f: Format) -> &'static str {
    match f {
        Format::Email => "an e-mail address such as name@example.org",
        Format::Url => "an absolute URL such as https://example.org/hook",
        Format::DistrictAgs => "a five-digit district AGS such as 06636",
        Format::GemeindeAgs => "an eight-digit Gemeinde AGS beginning with 06, such as 06636001",
        Format::FundingLineCode => "a funding line code: 2–10 capital letters or digits, starting with a letter (GK)",
        Format::EventType => "an event type such as application.submitted, or *",
        Format::EventTypes => "comma-separated event types such as application.submitted",
        Format::ETag => "an entity tag such as \"3\", a list of them, or *",
        Format::IdempotencyKey => "1–255 visible ASCII characters, such as a UUID",
        Format::OrganisationKey => "an organisation id (UUID) or an AGS",
        Format::Iban => "an IBAN such as DE89 3704 0044 0532 0130 00 (spaces and lower case allowed)",
        Format::FileNumber => "a file number: 3–60 letters, digits, spaces or ./_()-, starting with a letter or digit",
        Format::PostalCode => "a five-digit German postal code such as 37269",
        Format::TopicCode => {
            "a topic code: lower-case letters and digits in parts joined by single hyphens, such as telemedizin"
        }
    }
}

/// A format, described in German.
fn format_de(f: Format) -> &'static str {
    match f {
        Format::Email => "eine E-Mail-Adresse wie name@example.org",
        Format::Url => "eine absolute URL wie https://example.org/hook",
        Format::DistrictAgs => "einen fünfstelligen Kreis-AGS wie 06636",
        Format::GemeindeAgs => "einen achtstelligen Gemeinde-AGS, der mit 06 beginnt, wie 06636001",
        Format::FundingLineCode => {
            "einen Förderlinien-Code: 2–10 Großbuchstaben oder Ziffern, beginnend mit einem Buchstaben (GK)"
        }
        Format::EventType => "einen Ereignistyp wie application.submitted, oder *",
        Format::EventTypes => "kommagetrennte Ereignistypen wie application.submitted",
        Format::ETag => "ein Entity-Tag wie \"3\", eine Liste davon, oder *",
        Format::IdempotencyKey => "1–255 sichtbare ASCII-Zeichen, etwa eine UUID",
        Format::OrganisationKey => "eine Organisations-ID (UUID) oder einen AGS",
        Format::Iban => "eine IBAN wie DE89 3704 0044 0532 0130 00 (Leerzeichen und Kleinbuchstaben erlaubt)",
        Format::FileNumber => {
            "ein Aktenzeichen: 3–60 Buchstaben, Ziffern, Leerzeichen oder ./_()-, beginnend mit Buchstabe oder Ziffer"
        }
        Format::PostalCode => "eine fünfstellige Postleitzahl wie 37269",
        Format::TopicCode => {
            "einen Themen-Code: Kleinbuchstaben und Ziffern, Teile mit einfachem Bindestrich verbunden, wie telemedizin"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_by_quality() {
        assert_eq!(Lang::from_accept_language("de-DE,de;q=0.9,en;q=0.8"), Lang::De);
        assert_eq!(Lang::from_accept_language("en-US,de;q=0.5"), Lang::En);
        assert_eq!(Lang::from_accept_language("fr, de;q=0.3"), Lang::De);
        assert_eq!(Lang::from_accept_language("fr"), Lang::En);
        assert_eq!(Lang::from_accept_language("de;q=0, en;q=0.1"), Lang::En);
    }
}
