//! What a supporter may agree to receive beyond the emails their gifts call for.

use super::text_enum::text_enum;

text_enum! {
    /// A kind of email that is not strictly transactional: sent only with consent, and each
    /// one carries a one-click unsubscribe for its topic.
    pub enum Topic ("sujet d'emails") {
        /// News of the projects (asked on the donation form).
        News => "news",
        /// An email at each instalment of a recurring gift (by default none).
        Instalments => "instalments",
    }
}

impl Topic {
    /// The supporters' column that holds the consent.
    pub fn column(self) -> &'static str {
        match self {
            Topic::News => "news_consent",
            Topic::Instalments => "instalment_emails",
        }
    }

    /// What the supporter stops receiving, as the unsubscribe page says it.
    pub fn described(self) -> &'static str {
        match self {
            Topic::News => "les nouvelles des projets",
            Topic::Instalments => "l’email envoyé à chaque prélèvement de votre don régulier",
        }
    }
}
