//! The grant notice as a letter: a German administrative letter (letterhead, address field, file number and date,
//! I. Bewilligung, II. Nebenbestimmungen, III. Rechtsbehelfsbelehrung) written as PDF/A-2b with Liberation Sans
//! embedded (assets/fonts, SIL OFL). Pure: the same letter gives the same bytes, so the letter kept at `issue` can be
//! rendered again and compared.
//!
//! Layout is done here (greedy line breaking on the font's advance widths, page breaks, page numbers in a second
//! pass); krilla shapes the glyphs, subsets and embeds the font and writes the PDF/A metadata, and refuses to write a
//! file that would break PDF/A.

use chrono::{Datelike, NaiveDate};
use krilla::configure::{Archival, ConfigurationBuilder, Validator};
use krilla::geom::{PathBuilder, Point};
use krilla::metadata::{DateTime as PdfDate, Metadata};
use krilla::page::PageSettings;
use krilla::paint::Stroke;
use krilla::text::{Font, TextDirection};
use krilla::{Document, SerializeSettings};
use skrifa::instance::{LocationRef, Size};
use skrifa::{FontRef, MetadataProvider};

static REGULAR: &[u8] = include_bytes!("../../assets/fonts/LiberationSans-Regular.ttf");
static BOLD: &[u8] = include_bytes!("../../assets/fonts/LiberationSans-Bold.ttf");

/// The ministry, as its letterhead and the return line name it.
pub const MINISTRY: &str = "Hessisches Ministerium für Familie, Senioren, Sport, Gesundheit und Pflege";
const MINISTRY_ADDRESS: &str = "Sonnenberger Straße 2/2a · 65193 Wiesbaden";
const PROGRAMME: &str = "Richtlinie zur Förderung der gesundheitlichen Versorgung insbesondere in ländlichen Räumen";

// A4 in points, margins after DIN 5008 (25 mm left, 20 mm right).
const WIDTH: f32 = 595.28;
const HEIGHT: f32 = 841.89;
const LEFT: f32 = 70.87;
const RIGHT: f32 = WIDTH - 56.69;
const BOTTOM: f32 = HEIGHT - 70.0;
const BODY: f32 = 10.5;
const LEADING: f32 = 1.35;

/// Everything the letter says; gathered by `document.rs` from the notice, its recipient and its funding line.
#[derive(Debug, Clone)]
pub struct Letter {
    pub file_number: String,
    /// The letter's date: the day of delivery for an issued notice, today for a draft's preview.
    pub date: NaiveDate,
    /// A draft's preview carries ENTWURF on every page.
    pub draft: bool,
    /// 1 for the notice, 2 and up for an amending notice.
    pub number: i32,
    pub amendment_reason: Option<String>,
    pub recipient_lines: Vec<String>,
    pub funding_line: String,
    pub funding_line_name: String,
    pub purpose: String,
    pub period: (NaiveDate, NaiveDate),
    pub amount_cents: i64,
    pub years: Vec<(i32, i64)>,
    /// How the amount is computed, a sentence (Anteilsfinanzierung with its share, Festbetrag, Fehlbedarf).
    pub financing: String,
    pub lock_in_until: Option<NaiveDate>,
    /// The clause set's full German title with its abbreviation.
    pub clause_set: String,
    pub excluded_clauses: Vec<String>,
    pub conditions: Vec<String>,
    pub legal_remedy: String,
    /// Identifies the document in its XMP metadata (the notice's id and version).
    pub document_id: String,
}

/// Why a letter could not be written (a bug or a broken font, never the caller's input).
#[derive(Debug, thiserror::Error)]
#[error("letter: {0}")]
pub struct LetterError(String);

/// `12.345,67 €`: cents as a German amount.
pub fn euro(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    let whole = (abs / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push('.');
        }
        grouped.push(c);
    }
    format!("{sign}{grouped},{:02} €", abs % 100)
}

/// `01.12.2026`.
pub fn date(d: NaiveDate) -> String {
    d.format("%d.%m.%Y").to_string()
}

#[derive(Clone, Copy, PartialEq)]
enum Face {
    Regular,
    Bold,
}

/// What is drawn on a page, placed by the layout.
enum Op {
    Text {
        x: f32,
        y: f32,
        size: f32,
        face: Face,
        text: String,
    },
    Rule {
        x1: f32,
        x2: f32,
        y: f32,
    },
}

/// Advance widths of the two faces, for line breaking.
struct Metrics {
    regular: FontRef<'static>,
    bold: FontRef<'static>,
}

impl Metrics {
    fn new() -> Result<Self, LetterError> {
        let font = |bytes| FontRef::new(bytes).map_err(|e| LetterError(format!("font: {e}")));
        Ok(Self {
            regular: font(REGULAR)?,
            bold: font(BOLD)?,
        })
    }

    /// The text as the faces can draw it: control characters (a tab in an address) become spaces, characters
    /// neither face has a glyph for (an emoji, CJK in a project title) become `?`. PDF/A forbids a glyph the embedded
    /// font lacks, and a letter must never fail because of what an applicant typed.
    fn drawable(&self, text: &str) -> String {
        let (regular, bold) = (self.regular.charmap(), self.bold.charmap());
        text.chars()
            .map(|c| match c {
                '\n' => '\n',
                c if c.is_control() => ' ',
                c if regular.map(c).is_none() || bold.map(c).is_none() => '?',
                c => c,
            })
            .collect()
    }

    fn width(&self, text: &str, size: f32, face: Face) -> f32 {
        let font = match face {
            Face::Regular => &self.regular,
            Face::Bold => &self.bold,
        };
        let charmap = font.charmap();
        let metrics = font.glyph_metrics(Size::new(size), LocationRef::default());
        text.chars()
            .filter_map(|c| charmap.map(c).and_then(|g| metrics.advance_width(g)))
            .sum()
    }
}

/// Pages of ops, with a cursor: the running text flows down and onto new pages.
struct Layout {
    metrics: Metrics,
    pages: Vec<Vec<Op>>,
    y: f32,
}

impl Layout {
    fn new() -> Result<Self, LetterError> {
        Ok(Self {
            metrics: Metrics::new()?,
            pages: vec![Vec::new()],
            y: 0.0,
        })
    }

    fn put(&mut self, x: f32, y: f32, size: f32, face: Face, text: impl Into<String>) {
        let text = self.metrics.drawable(&text.into());
        if let Some(page) = self.pages.last_mut() {
            page.push(Op::Text { x, y, size, face, text });
        }
    }

    fn rule(&mut self, x1: f32, x2: f32, y: f32) {
        if let Some(page) = self.pages.last_mut() {
            page.push(Op::Rule { x1, x2, y });
        }
    }

    /// Room for `height` more points on this page, else a new page (its text starts below a short header).
    fn need(&mut self, height: f32) {
        if self.y + height > BOTTOM {
            self.pages.push(Vec::new());
            self.y = 80.0;
        }
    }

    /// Lines of at most `width` points, broken at spaces (a word longer than a line stands alone on it).
    fn wrap(&self, text: &str, size: f32, face: Face, width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        for paragraph in text.split('\n') {
            let mut line = String::new();
            for word in paragraph.split_whitespace() {
                let candidate = if line.is_empty() {
                    word.to_owned()
                } else {
                    format!("{line} {word}")
                };
                if !line.is_empty() && self.metrics.width(&candidate, size, face) > width {
                    lines.push(std::mem::replace(&mut line, word.to_owned()));
                } else {
                    line = candidate;
                }
            }
            lines.push(line);
        }
        lines
    }

    /// A paragraph of running text at `indent` from the left margin, with a hanging `label` (such as `1.`) before it.
    fn paragraph(&mut self, label: Option<&str>, indent: f32, text: &str, size: f32, face: Face) {
        let x = LEFT + indent;
        let text = self.metrics.drawable(text);
        let lines = self.wrap(&text, size, face, RIGHT - x);
        for (i, line) in lines.into_iter().enumerate() {
            self.need(size * LEADING);
            self.y += size * LEADING;
            if i == 0
                && let Some(label) = label
            {
                // A sub-item's label (`3.10`) stands where its parent's text begins.
                let label_x = if indent > 18.0 { LEFT + 18.0 } else { LEFT };
                self.put(label_x, self.y, size, face, label);
            }
            self.put(x, self.y, size, face, line);
        }
        self.y += size * 0.5;
    }

    fn heading(&mut self, text: &str) {
        self.need(BODY * 4.0);
        self.y += BODY * 0.8;
        self.paragraph(None, 0.0, text, BODY + 1.0, Face::Bold);
    }
}

/// Writes the letter as PDF/A-2b.
pub fn render(letter: &Letter) -> Result<Vec<u8>, LetterError> {
    let mut l = Layout::new()?;
    letterhead(&mut l, letter);
    body(&mut l, letter);
    write(letter, l.pages)
}

fn letterhead(l: &mut Layout, letter: &Letter) {
    l.put(LEFT, 50.0, 12.0, Face::Bold, MINISTRY);
    l.put(LEFT, 64.0, 9.0, Face::Regular, MINISTRY_ADDRESS);
    l.rule(LEFT, RIGHT, 72.0);
    // The address field (DIN 5008, form B): the return line, then the recipient.
    l.put(LEFT, 136.0, 7.0, Face::Regular, format!("HMFG · {MINISTRY_ADDRESS}"));
    let mut y = 152.0;
    for line in &letter.recipient_lines {
        l.put(LEFT, y, BODY, Face::Regular, line.clone());
        y += BODY * LEADING;
    }
    // The information block beside it.
    let x = 370.0;
    let rows = [
        ("Aktenzeichen", letter.file_number.clone()),
        ("Förderlinie", letter.funding_line.clone()),
        ("Bescheid Nr.", letter.number.to_string()),
        ("Datum", date(letter.date)),
    ];
    for (i, (label, value)) in rows.into_iter().enumerate() {
        let y = 136.0 + 14.0 * i as f32;
        l.put(x, y, 8.0, Face::Regular, label);
        l.put(x + 62.0, y, 9.0, Face::Regular, value);
    }
    l.y = 250.0;
}

fn body(l: &mut Layout, letter: &Letter) {
    let subject = if letter.number > 1 {
        format!("Änderungsbescheid (Bescheid Nr. {})", letter.number)
    } else {
        "Zuwendungsbescheid".to_owned()
    };
    l.paragraph(None, 0.0, &subject, 13.0, Face::Bold);
    l.paragraph(
        None,
        0.0,
        &format!(
            "Förderung nach der {PROGRAMME}, Förderlinie {} ({})",
            letter.funding_line, letter.funding_line_name
        ),
        BODY,
        Face::Bold,
    );
    l.y += BODY;
    l.paragraph(None, 0.0, "Sehr geehrte Damen und Herren,", BODY, Face::Regular);
    let opening = match (&letter.amendment_reason, letter.number) {
        (Some(reason), n) if n > 1 => format!(
            "der Zuwendungsbescheid (Bescheid Nr. {}) wird wie folgt geändert und neu gefasst. Grund der Änderung: {reason}",
            n - 1
        ),
        _ => "auf Ihren Antrag ergeht folgender Bescheid:".to_owned(),
    };
    l.paragraph(None, 0.0, &opening, BODY, Face::Regular);

    l.heading("I. Bewilligung");
    l.paragraph(
        Some("1."),
        18.0,
        &format!(
            "Für das Vorhaben „{}“ wird Ihnen für den Bewilligungszeitraum vom {} bis {} eine Zuwendung in Höhe von \
             {} bewilligt.",
            letter.purpose,
            date(letter.period.0),
            date(letter.period.1),
            euro(letter.amount_cents)
        ),
        BODY,
        Face::Regular,
    );
    l.paragraph(Some("2."), 18.0, &letter.financing, BODY, Face::Regular);
    l.paragraph(
        Some("3."),
        18.0,
        "Die Zuwendung verteilt sich auf die Haushaltsjahre wie folgt:",
        BODY,
        Face::Regular,
    );
    years_table(l, letter);
    let mut n = 4;
    if let Some(lock_in) = letter.lock_in_until {
        l.paragraph(
            Some(&format!("{n}.")),
            18.0,
            &format!(
                "Die mit der Zuwendung erworbenen oder hergestellten Gegenstände sind bis zum {} für den \
                 Zuwendungszweck zu verwenden (Zweckbindungsfrist).",
                date(lock_in)
            ),
            BODY,
            Face::Regular,
        );
        n += 1;
    }
    l.paragraph(
        Some(&format!("{n}.")),
        18.0,
        "Die Mittel werden auf Anforderung ausgezahlt, soweit sie innerhalb von zwei Monaten nach der Auszahlung \
         für fällige Zahlungen benötigt werden.",
        BODY,
        Face::Regular,
    );

    l.heading("II. Nebenbestimmungen");
    l.paragraph(
        Some("1."),
        18.0,
        &format!("Die {} sind Bestandteil dieses Bescheides.", letter.clause_set),
        BODY,
        Face::Regular,
    );
    let mut n = 2;
    if !letter.excluded_clauses.is_empty() {
        l.paragraph(
            Some(&format!("{n}.")),
            18.0,
            &format!(
                "Abweichend davon finden keine Anwendung: {}.",
                letter.excluded_clauses.join(", ")
            ),
            BODY,
            Face::Regular,
        );
        n += 1;
    }
    if !letter.conditions.is_empty() {
        l.paragraph(
            Some(&format!("{n}.")),
            18.0,
            "Darüber hinaus gelten folgende besondere Nebenbestimmungen:",
            BODY,
            Face::Regular,
        );
        for (i, condition) in letter.conditions.iter().enumerate() {
            l.paragraph(Some(&format!("{}.{}", n, i + 1)), 46.0, condition, BODY, Face::Regular);
        }
    }

    l.heading("III. Rechtsbehelfsbelehrung");
    l.paragraph(None, 0.0, &letter.legal_remedy, BODY, Face::Regular);

    l.y += BODY;
    l.need(BODY * 6.0);
    l.paragraph(None, 0.0, "Mit freundlichen Grüßen", BODY, Face::Regular);
    l.paragraph(None, 0.0, "Im Auftrag", BODY, Face::Regular);
    l.paragraph(
        None,
        0.0,
        "Dieser Bescheid wurde elektronisch erstellt und ist ohne Unterschrift gültig.",
        8.5,
        Face::Regular,
    );
}

/// The breakdown by fiscal year, right-aligned amounts, with the total.
fn years_table(l: &mut Layout, letter: &Letter) {
    let x_year = LEFT + 40.0;
    let x_amount_right = LEFT + 260.0;
    let rows: Vec<(String, i64, Face)> = letter
        .years
        .iter()
        .map(|(y, c)| (format!("Haushaltsjahr {y}"), *c, Face::Regular))
        .chain(std::iter::once(("Summe".to_owned(), letter.amount_cents, Face::Bold)))
        .collect();
    for (i, (label, cents, face)) in rows.into_iter().enumerate() {
        l.need(BODY * LEADING * 2.0);
        if i == letter.years.len() {
            l.rule(x_year, x_amount_right, l.y + 3.0);
        }
        l.y += BODY * LEADING;
        l.put(x_year, l.y, BODY, face, label);
        let amount = euro(cents);
        let w = l.metrics.width(&amount, BODY, face);
        l.put(x_amount_right - w, l.y, BODY, face, amount);
    }
    l.y += BODY;
}

/// The second pass: every page drawn with ENTWURF (a draft) and `Seite n von m`, then the PDF/A file.
fn write(letter: &Letter, pages: Vec<Vec<Op>>) -> Result<Vec<u8>, LetterError> {
    let configuration = ConfigurationBuilder::new()
        .set_validator(Validator::A(Archival::A2_B))
        .finish()
        .map_err(|e| LetterError(format!("{e:?}")))?;
    let mut document = Document::new_with(SerializeSettings {
        configuration,
        ..SerializeSettings::default()
    });
    let regular = Font::new(REGULAR.into(), 0).ok_or_else(|| LetterError("regular face".into()))?;
    let bold = Font::new(BOLD.into(), 0).ok_or_else(|| LetterError("bold face".into()))?;
    let total = pages.len();
    let metrics = Metrics::new()?;
    for (index, ops) in pages.into_iter().enumerate() {
        let settings = PageSettings::from_wh(WIDTH, HEIGHT).ok_or_else(|| LetterError("page size".into()))?;
        let mut page = document.start_page_with(settings);
        let mut surface = page.surface();
        let text = |surface: &mut krilla::surface::Surface, x: f32, y: f32, size: f32, face: Face, s: &str| {
            let font = match face {
                Face::Regular => regular.clone(),
                Face::Bold => bold.clone(),
            };
            surface.draw_text(Point::from_xy(x, y), font, size, s, false, TextDirection::Auto);
        };
        for op in &ops {
            match op {
                Op::Text {
                    x,
                    y,
                    size,
                    face,
                    text: s,
                } => text(&mut surface, *x, *y, *size, *face, s),
                Op::Rule { x1, x2, y } => {
                    let mut pb = PathBuilder::new();
                    pb.move_to(*x1, *y);
                    pb.line_to(*x2, *y);
                    if let Some(path) = pb.finish() {
                        surface.set_fill(None);
                        surface.set_stroke(Some(Stroke {
                            width: 0.6,
                            ..Stroke::default()
                        }));
                        surface.draw_path(&path);
                        surface.set_stroke(None);
                        surface.set_fill(Some(krilla::paint::Fill::default()));
                    }
                }
            }
        }
        if index > 0 {
            let head = format!(
                "Aktenzeichen {} · Bescheid vom {}",
                letter.file_number,
                date(letter.date)
            );
            text(&mut surface, LEFT, 50.0, 8.0, Face::Regular, &head);
        }
        if letter.draft {
            text(&mut surface, RIGHT - 80.0, 30.0, 14.0, Face::Bold, "ENTWURF");
        }
        let footer = format!("Seite {} von {}", index + 1, total);
        let w = metrics.width(&footer, 8.0, Face::Regular);
        text(&mut surface, RIGHT - w, HEIGHT - 40.0, 8.0, Face::Regular, &footer);
        surface.finish();
        page.finish();
    }
    let title = if letter.number > 1 {
        format!("Änderungsbescheid {} ({})", letter.file_number, letter.number)
    } else {
        format!("Zuwendungsbescheid {}", letter.file_number)
    };
    let created = PdfDate::new(u16::try_from(letter.date.year()).unwrap_or(2000))
        .month(u8::try_from(letter.date.month()).unwrap_or(1))
        .day(u8::try_from(letter.date.day()).unwrap_or(1));
    document.set_metadata(
        Metadata::new()
            .title(title)
            .description(letter.purpose.clone())
            .authors(vec![MINISTRY.to_owned()])
            .creator("Versorgung API".to_owned())
            .producer("Versorgung API (krilla)".to_owned())
            .language("de-DE".to_owned())
            .creation_date(created)
            .document_id(letter.document_id.clone()),
    );
    document.finish().map_err(|e| LetterError(format!("{e:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Letter {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).expect("date");
        Letter {
            file_number: "VG-2026-00001".into(),
            date: d(2026, 12, 1),
            draft: false,
            number: 1,
            amendment_reason: None,
            recipient_lines: vec![
                "Werra-Meißner-Kreis".into(),
                "Schloßplatz 1".into(),
                "37269 Eschwege".into(),
            ],
            funding_line: "GK".into(),
            funding_line_name: "Gesundheitskoordination".into(),
            purpose: "Gesundheitskoordination im Werra-Meißner-Kreis ".repeat(8),
            period: (d(2027, 1, 1), d(2031, 12, 31)),
            amount_cents: 20_000_000,
            years: (2027..=2031).map(|y| (y, 4_000_000)).collect(),
            financing: "Anteilsfinanzierung: 80 % der zuwendungsfähigen Ausgaben von 250.000,00 €.".into(),
            lock_in_until: Some(d(2036, 12, 31)),
            clause_set: "Allgemeinen Nebenbestimmungen (ANBest-GK)".into(),
            excluded_clauses: vec!["Nr. 1.4".into()],
            conditions: (1..=30)
                .map(|i| format!("Bedingung {i}: die Stelle ist zu besetzen."))
                .collect(),
            legal_remedy: super::super::model::LEGAL_REMEDY.into(),
            document_id: "test".into(),
        }
    }

    #[test]
    fn german_amounts_and_dates() {
        assert_eq!(euro(20_000_000), "200.000,00 €");
        assert_eq!(euro(123_456_789), "1.234.567,89 €");
        assert_eq!(euro(5), "0,05 €");
        assert_eq!(euro(-100_050), "-1.000,50 €");
        assert_eq!(date(NaiveDate::from_ymd_opt(2026, 3, 7).expect("date")), "07.03.2026");
    }

    #[test]
    fn lines_fit_the_text_width_and_long_letters_break_onto_pages() {
        let l = Layout::new().expect("fonts");
        let text = "Zuwendungsfähige Ausgaben ".repeat(40);
        let lines = l.wrap(&text, BODY, Face::Regular, RIGHT - LEFT);
        assert!(lines.len() > 3);
        for line in &lines {
            assert!(l.metrics.width(line, BODY, Face::Regular) <= RIGHT - LEFT);
        }
        let mut layout = Layout::new().expect("fonts");
        letterhead(&mut layout, &sample());
        body(&mut layout, &sample());
        assert!(layout.pages.len() >= 2, "thirty conditions need a second page");
    }

    #[test]
    fn what_the_font_cannot_draw_does_not_stop_the_letter() {
        let mut letter = sample();
        letter.purpose = "Telemedizin 🚑 für 日本 und\tmehr".into();
        letter.recipient_lines = vec!["Gemeinde\tMusterstadt".into(), "Straße 1\r".into()];
        let pdf = render(&letter).expect("a letter despite the emoji, CJK and tabs");
        assert!(pdf.starts_with(b"%PDF-"));
        let m = Metrics::new().expect("fonts");
        assert_eq!(m.drawable("a🚑b\tc日"), "a?b c?");
    }

    #[test]
    fn renders_the_same_bytes_twice() {
        let a = render(&sample()).expect("pdf");
        let b = render(&sample()).expect("pdf");
        assert!(a.starts_with(b"%PDF-1.7"));
        assert_eq!(a, b);
        if let Ok(path) = std::env::var("LETTER_SAMPLE") {
            std::fs::write(path, &a).expect("write sample");
        }
    }
}
