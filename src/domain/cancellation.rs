//! Why a supporter stops a recurring gift: optional, asked once, never argued with.

use super::text_enum::text_enum;

text_enum! {
    /// The reasons offered, each one of Stripe's `cancellation_details.feedback` values.
    pub enum CancelReason ("raison d'arrêt") {
        TooExpensive => "too_expensive",
        SwitchedService => "switched_service",
        CustomerService => "customer_service",
        Other => "other",
    }
}

impl CancelReason {
    /// As the cancellation form offers it.
    pub fn label(self) -> &'static str {
        match self {
            CancelReason::TooExpensive => "Mon budget ne me le permet plus",
            CancelReason::SwitchedService => "Je soutiens une autre cause",
            CancelReason::CustomerService => "Je ne suis pas satisfait(e) de l’association",
            CancelReason::Other => "Une autre raison",
        }
    }

    /// The value Stripe records.
    pub fn stripe_feedback(self) -> &'static str {
        self.as_str()
    }
}
