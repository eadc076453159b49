//! Pure types and rules of the domain: no I/O here, unit tests beside the code.

pub mod amount;
pub mod dates;
pub mod email;
pub mod frequency;
pub mod gift;
pub mod identity;
pub mod impact;
pub mod money;
pub mod progress;
pub mod slug;
pub mod tax;
