//! The sandbox's state kept across restarts: one JSON file, rewritten whole after each change
//! (write a temporary file, then rename it over the old one, so a crash never leaves half a
//! file). The state is small, and a demo makes a few changes a second at most.
//!
//! [`Shared::lock`] hands out a guard that saves on drop once it has been used mutably, so no
//! code path that changes the state can forget to save it. The save happens under the lock,
//! which keeps snapshots in order; the lock is never held across an `.await`.

use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::state::State;

/// The state and where it is kept.
#[derive(Debug)]
pub struct Shared {
    state: Mutex<State>,
    file: Option<PathBuf>,
}

impl Shared {
    pub fn new(state: State, file: Option<PathBuf>) -> Shared {
        Shared {
            state: Mutex::new(state),
            file,
        }
    }

    /// The state; a panic while it was held leaves it usable (it is only a simulation).
    pub fn lock(&self) -> Guard<'_> {
        Guard {
            state: self.state.lock().unwrap_or_else(PoisonError::into_inner),
            file: self.file.as_deref(),
            changed: false,
        }
    }
}

/// Access to the state; saves it when dropped if it was borrowed mutably.
pub struct Guard<'a> {
    state: MutexGuard<'a, State>,
    file: Option<&'a Path>,
    changed: bool,
}

impl Deref for Guard<'_> {
    type Target = State;

    fn deref(&self) -> &State {
        &self.state
    }
}

impl DerefMut for Guard<'_> {
    fn deref_mut(&mut self) -> &mut State {
        self.changed = true;
        &mut self.state
    }
}

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        if let (true, Some(file)) = (self.changed, self.file)
            && let Err(error) = save(&self.state, file)
        {
            // The simulation goes on in memory; only a restart would forget this change.
            tracing::warn!(%error, file = %file.display(), "sandbox state not saved");
        }
    }
}

/// Writes the state to `file` atomically.
pub fn save(state: &State, file: &Path) -> std::io::Result<()> {
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let json = serde_json::to_vec(state).map_err(std::io::Error::other)?;
    let temporary = with_suffix(file, "tmp");
    std::fs::write(&temporary, json)?;
    std::fs::rename(&temporary, file)
}

/// The state saved in `file`; `None` when there is none yet. A file that cannot be read or
/// decoded is set aside (renamed `….corrupt`) with a warning, and the sandbox starts afresh:
/// a demo must start even when its simulation's memory is lost.
pub fn load(file: &Path) -> Option<State> {
    let bytes = match std::fs::read(file) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return None,
        Err(error) => {
            set_aside(file, &error.to_string());
            return None;
        }
    };
    match serde_json::from_slice(&bytes) {
        Ok(state) => Some(state),
        Err(error) => {
            set_aside(file, &error.to_string());
            None
        }
    }
}

fn set_aside(file: &Path, error: &str) {
    let aside = with_suffix(file, "corrupt");
    let renamed = std::fs::rename(file, &aside);
    tracing::warn!(
        %error,
        file = %file.display(),
        set_aside_as = %aside.display(),
        renamed = renamed.is_ok(),
        "sandbox state unreadable: starting afresh"
    );
}

/// `state.json` → `state.json.{suffix}`.
fn with_suffix(file: &Path, suffix: &str) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".");
    name.push(suffix);
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::IdempotentResponse;
    use crate::testing::scenario;

    #[tokio::test]
    async fn a_saved_state_loads_back_equal() {
        let sandbox = scenario().await;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("nested").join("sandbox.json");
        let mut state = sandbox.lock();
        state.idempotency.insert(
            "key".to_owned(),
            IdempotentResponse {
                request: "POST /v1/refunds amount=100".to_owned(),
                status: 200,
                body: "{}".to_owned(),
            },
        );
        save(&state, &file).unwrap();
        let loaded = load(&file).expect("a saved state");
        assert!(!state.subscriptions.is_empty() && state.clock_offset > 0);
        assert_eq!(loaded.clock_offset, state.clock_offset);
        assert_eq!(loaded.auto_deliver, state.auto_deliver);
        assert_eq!(loaded.sessions, state.sessions);
        assert_eq!(loaded.customers, state.customers);
        assert_eq!(loaded.subscriptions, state.subscriptions);
        assert_eq!(loaded.invoices, state.invoices);
        assert_eq!(loaded.payment_intents, state.payment_intents);
        assert_eq!(loaded.charges, state.charges);
        assert_eq!(loaded.refunds, state.refunds);
        assert_eq!(loaded.portal_sessions, state.portal_sessions);
        assert_eq!(loaded.settlements, state.settlements);
        assert_eq!(loaded.events, state.events);
        assert_eq!(loaded.idempotency, state.idempotency);
        assert!(
            !with_suffix(&file, "tmp").exists(),
            "the temporary file was renamed"
        );
    }

    #[test]
    fn no_file_is_a_fresh_start_and_a_corrupt_one_is_set_aside() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("sandbox.json");
        assert!(load(&file).is_none());
        std::fs::write(&file, "{\"clock_offset\": tru").unwrap();
        assert!(load(&file).is_none());
        assert!(!file.exists());
        assert_eq!(
            std::fs::read_to_string(with_suffix(&file, "corrupt")).unwrap(),
            "{\"clock_offset\": tru"
        );
    }
}
