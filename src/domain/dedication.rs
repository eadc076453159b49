//! A gift given in someone's memory or honour, as the campaign page shows it.

use sqlx::any::{Any, AnyTypeInfo, AnyValueRef};
use sqlx::error::BoxDynError;

use super::text_enum::text_enum;

text_enum! {
    pub enum DedicationKind ("dédicace") {
        Memory => "memory",
        Honour => "honour",
    }
}

impl DedicationKind {
    /// As the donation form offers it.
    pub fn choice(&self) -> &'static str {
        match self {
            DedicationKind::Memory => "En mémoire de…",
            DedicationKind::Honour => "En l’honneur de…",
        }
    }

    /// "en mémoire de Mamie Suzanne": the words before the name.
    pub fn words(&self) -> &'static str {
        match self {
            DedicationKind::Memory => "en mémoire de",
            DedicationKind::Honour => "en l'honneur de",
        }
    }
}

// The column is optional, and `#[sqlx(try_from = "String")]` cannot decode an `Option`: the
// kind decodes itself from the text, so `Option<DedicationKind>` does too.
impl sqlx::Type<Any> for DedicationKind {
    fn type_info() -> AnyTypeInfo {
        <String as sqlx::Type<Any>>::type_info()
    }

    fn compatible(ty: &AnyTypeInfo) -> bool {
        <String as sqlx::Type<Any>>::compatible(ty)
    }
}

impl<'r> sqlx::Decode<'r, Any> for DedicationKind {
    fn decode(value: AnyValueRef<'r>) -> Result<DedicationKind, BoxDynError> {
        let text = <&str as sqlx::Decode<'r, Any>>::decode(value)?;
        Ok(text.parse()?)
    }
}
