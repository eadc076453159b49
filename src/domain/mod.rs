//! Pure types and rules of the domain: no I/O here, unit tests beside the code.

pub mod dates;
pub mod impact;
pub mod money;
pub mod progress;
pub mod slug;
