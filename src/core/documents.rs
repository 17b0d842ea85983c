//! The categories of an application's documents: what a funding line may require before submitting, and what an
//! attachment of an application may be. Codes in the API; the German terms in docs/attachments.md.

use crate::text_enum;

text_enum! {
    /// A category of an application's documents.
    pub enum ApplicationDocument {
        /// Kostenplan
        Kostenplan = "kostenplan",
        /// Konzept
        Konzept = "konzept",
        /// Satzung or Gesellschaftsvertrag (of a Träger)
        Satzung = "satzung",
        /// Stellenbeschreibung (of a funded post)
        Stellenbeschreibung = "stellenbeschreibung",
        /// Sonstiges
        Sonstiges = "sonstiges",
    }
}
