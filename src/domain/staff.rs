//! The fundraising team: roles, what each may do, and the rules of their sign-in.

use super::dates::MINUTE;
use super::text_enum::text_enum;

text_enum! {
    /// What a staff member may do; each role can do everything the ones below it can.
    pub enum Role ("rôle") {
        /// Read-only: dashboards, lists, exports.
        Viewer => "viewer",
        /// Projects, campaigns, news, offline gifts, refunds.
        Editor => "editor",
        /// Everything, including staff accounts and the organisation's settings.
        Admin => "admin",
    }
}

impl Role {
    fn rank(self) -> u8 {
        match self {
            Role::Viewer => 0,
            Role::Editor => 1,
            Role::Admin => 2,
        }
    }

    /// Whether this role may do what `needed` may.
    pub fn allows(self, needed: Role) -> bool {
        self.rank() >= needed.rank()
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Viewer => "Lecture seule",
            Role::Editor => "Édition",
            Role::Admin => "Administration",
        }
    }
}

/// Failed sign-ins in a row that lock an account…
pub const LOCK_AFTER: i64 = 5;
/// …for this long.
pub const LOCKED_FOR: i64 = 15 * MINUTE;
/// Signed out after this long without a request.
pub const INACTIVITY: i64 = 60 * MINUTE;

/// Shortest password accepted: length is what makes a password strong.
pub const MIN_PASSWORD: usize = 12;
const MAX_PASSWORD: usize = 256;

/// Why a new password is refused, in French; `None` if it will do.
pub fn password_problem(password: &str) -> Option<String> {
    let length = password.chars().count();
    if length < MIN_PASSWORD {
        Some(format!(
            "Le mot de passe doit compter au moins {MIN_PASSWORD} caractères (une phrase fait très bien l’affaire)."
        ))
    } else if length > MAX_PASSWORD {
        Some(format!(
            "Le mot de passe ne peut dépasser {MAX_PASSWORD} caractères."
        ))
    } else if password.chars().any(char::is_control) {
        Some("Le mot de passe ne peut contenir de caractères de contrôle.".to_owned())
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_can_do_what_those_below_it_can() {
        assert!(Role::Admin.allows(Role::Editor));
        assert!(Role::Editor.allows(Role::Viewer));
        assert!(Role::Editor.allows(Role::Editor));
        assert!(!Role::Editor.allows(Role::Admin));
        assert!(!Role::Viewer.allows(Role::Editor));
    }

    #[test]
    fn short_passwords_are_refused_long_phrases_accepted() {
        assert!(password_problem("court").is_some());
        assert!(password_problem("onze-lettre").is_some());
        assert!(password_problem("une phrase assez longue").is_none());
        assert!(password_problem("avec\u{0}un nul dedans").is_some());
    }
}
