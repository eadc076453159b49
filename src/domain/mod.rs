//! Pure types and rules of the domain: no I/O here, unit tests beside the code.

pub mod amount;
pub mod campaign;
pub mod campaign_form;
pub mod cancellation;
pub mod consent;
pub mod dates;
pub mod dedication;
pub mod dispute;
pub mod donation;
pub mod email;
pub mod frequency;
pub mod gift;
pub mod giving;
pub mod identity;
pub mod impact;
pub mod money;
pub mod password;
pub mod pledge;
pub mod profile;
pub mod progress;
pub mod recurring_gift;
pub mod sign_in;
pub mod slug;
pub mod staff;
pub mod tax;
pub mod text_enum;
