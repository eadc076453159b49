//! `text_enum!`: a closed set of states or kinds spelled as text in SQL and forms. The spelling
//! given in the invocation is the only place each one maps to its text.

/// Why a text is none of an enum's spellings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("« {text} » n'est pas un(e) {what} connu(e)")]
pub struct UnknownText {
    pub what: &'static str,
    pub text: String,
}

/// Declares the enum with `ALL`, `as_str()` (its SQL spelling), `FromStr`, `TryFrom<String>`
/// (what rows decode through, `#[sqlx(try_from = "String")]`) and `Display`.
macro_rules! text_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident ($what:literal) {
            $($(#[$vmeta:meta])* $variant:ident => $text:literal,)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            pub const ALL: &[$name] = &[$($name::$variant,)+];

            /// As stored in SQL (and sent in forms).
            pub fn as_str(&self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::domain::text_enum::UnknownText;

            fn from_str(text: &str) -> Result<$name, Self::Err> {
                match text {
                    $($text => Ok($name::$variant),)+
                    _ => Err($crate::domain::text_enum::UnknownText {
                        what: $what,
                        text: text.to_owned(),
                    }),
                }
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::domain::text_enum::UnknownText;

            fn try_from(text: String) -> Result<$name, Self::Error> {
                text.parse()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub(crate) use text_enum;

#[cfg(test)]
mod tests {
    text_enum! {
        enum Colour ("couleur") {
            Red => "red",
            Blue => "blue",
        }
    }

    #[test]
    fn every_spelling_reads_back_and_nothing_else_does() {
        for colour in Colour::ALL {
            assert_eq!(colour.as_str().parse::<Colour>(), Ok(*colour));
            assert_eq!(Colour::try_from(colour.to_string()), Ok(*colour));
        }
        let unknown = "Red".parse::<Colour>().unwrap_err();
        assert_eq!(unknown.what, "couleur");
    }
}
