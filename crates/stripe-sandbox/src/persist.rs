//! The sandbox's state kept across restarts: one JSON file, rewritten whole after each change
//! that changed something (written to a temporary file of its own in the same folder, synced,
//! then renamed over the old one, so a crash never leaves half a file). The state is small, and
//! a demo makes a few changes a second at most.
//!
//! [`Shared::lock`] hands out a guard that saves on drop once it has been used mutably, so no
//! code path that changes the state can forget to save it; it compares the new JSON with the
//! last saved one, so a mutable borrow that changed nothing writes nothing, and it never saves
//! while unwinding from a panic (the state may be half-changed; the file keeps the last whole
//! one). The save happens under the lock, which keeps snapshots in order; the lock is never
//! held across an `.await`.
//!
//! The file names its owner (an opaque string from the caller, e.g. the id of its database):
//! a file saved for another owner is set aside and the sandbox starts afresh, so subscriptions
//! made against one ledger never renew into another. One state file serves one sandbox: two
//! processes sharing it (one `DATA_DIR` for two Obole instances in demo mode) would each
//! overwrite the other's saves.

use std::io::Write;
use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::state::State;

/// The state and where it is kept.
#[derive(Debug)]
pub struct Shared {
    held: Mutex<Held>,
    file: Option<PathBuf>,
}

#[derive(Debug)]
struct Held {
    state: State,
    /// The JSON last saved (or loaded, or of the fresh state): what the file holds.
    saved: Vec<u8>,
}

impl Shared {
    pub fn new(state: State, file: Option<PathBuf>) -> Shared {
        let saved = match file {
            Some(_) => serde_json::to_vec(&state).unwrap_or_default(),
            None => Vec::new(),
        };
        Shared {
            held: Mutex::new(Held { state, saved }),
            file,
        }
    }

    /// The state; a panic while it was held leaves it usable (it is only a simulation).
    pub fn lock(&self) -> Guard<'_> {
        Guard {
            held: self.held.lock().unwrap_or_else(PoisonError::into_inner),
            file: self.file.as_deref(),
            changed: false,
        }
    }
}

/// Access to the state; saves it when dropped if it was borrowed mutably and changed.
pub struct Guard<'a> {
    held: MutexGuard<'a, Held>,
    file: Option<&'a Path>,
    changed: bool,
}

impl Deref for Guard<'_> {
    type Target = State;

    fn deref(&self) -> &State {
        &self.held.state
    }
}

impl DerefMut for Guard<'_> {
    fn deref_mut(&mut self) -> &mut State {
        self.changed = true;
        &mut self.held.state
    }
}

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        let Some(file) = self.file else { return };
        if !self.changed || std::thread::panicking() {
            return;
        }
        let json = match serde_json::to_vec(&self.held.state) {
            Ok(json) => json,
            Err(error) => {
                tracing::warn!(%error, "sandbox state not encoded");
                return;
            }
        };
        if json == self.held.saved {
            return;
        }
        // Blocking file I/O on whatever thread drops the guard (often an async runtime
        // worker) and under the lock: acceptable here, as the sandbox runs only in demo mode
        // and tests, its state is a few kilobytes, and writing under the lock is what keeps
        // snapshots in order. A writer thread would avoid it, but a restart could then read
        // a file older than the last change.
        match write_atomically(file, &json) {
            Ok(()) => self.held.saved = json,
            // The simulation goes on in memory; only a restart would forget this change.
            Err(error) => {
                tracing::warn!(%error, file = %file.display(), "sandbox state not saved");
            }
        }
    }
}

/// Writes `json` to `file`: to a temporary file of its own beside it (two writers never
/// share one), synced, then renamed over `file`, so `file` is always a whole state.
fn write_atomically(file: &Path, json: &[u8]) -> std::io::Result<()> {
    let dir = file
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let temporary = with_suffix(file, &format!("{}.tmp", uuid::Uuid::new_v4().simple()));
    let written = std::fs::File::create_new(&temporary)
        .and_then(|mut out| {
            out.write_all(json)?;
            out.sync_all()
        })
        .and_then(|()| std::fs::rename(&temporary, file));
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written?;
    // The rename is on disk once the folder is; the file is whole either way, so a failure
    // here (some file systems refuse to sync a folder) only risks the last change.
    #[cfg(unix)]
    if let Err(error) = std::fs::File::open(dir).and_then(|d| d.sync_all()) {
        tracing::debug!(%error, "sandbox state folder not synced");
    }
    Ok(())
}

/// The state file exists but could not be read (permissions, a disk error).
#[derive(Debug)]
pub struct StateFileError {
    pub file: PathBuf,
    pub source: std::io::Error,
}

impl std::fmt::Display for StateFileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "cannot read the sandbox state file {}: {}",
            self.file.display(),
            self.source
        )
    }
}

impl std::error::Error for StateFileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// The state saved in `file` for `owner`; `None` when there is none yet. A file that cannot
/// be decoded is set aside (renamed `….corrupt`), one saved for another owner (or before
/// files named their owner) is set aside as `….other-owner`, each with a warning, and the
/// sandbox starts afresh: a demo must start even when its simulation's memory is lost or is
/// not its own.
///
/// A file that exists but cannot be read is an error, not corruption: it may be whole and
/// readable again once the operator fixes permissions or the disk. Starting afresh would let
/// the first save overwrite it, and setting it aside may fail for the same reason, so the
/// sandbox refuses to start and the operator is told why.
pub fn load(file: &Path, owner: Option<&str>) -> Result<Option<State>, StateFileError> {
    let bytes = match std::fs::read(file) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(StateFileError {
                file: file.to_owned(),
                source,
            });
        }
    };
    let state: State = match serde_json::from_slice(&bytes) {
        Ok(state) => state,
        Err(error) => {
            let aside = set_aside(file, "corrupt");
            tracing::warn!(
                %error,
                file = %file.display(),
                set_aside_as = %aside.display(),
                "sandbox state unreadable: starting afresh"
            );
            return Ok(None);
        }
    };
    if state.owner.as_deref() != owner {
        let aside = set_aside(file, "other-owner");
        tracing::warn!(
            file = %file.display(),
            saved_for = state.owner.as_deref().unwrap_or("(none)"),
            owner = owner.unwrap_or("(none)"),
            set_aside_as = %aside.display(),
            "sandbox state saved for another owner: starting afresh"
        );
        return Ok(None);
    }
    Ok(Some(state))
}

/// Renames `file` to `file.{suffix}`, replacing an older one; returns the new name. When the
/// rename fails, the first save overwrites `file`, which is what starting afresh means anyway.
fn set_aside(file: &Path, suffix: &str) -> PathBuf {
    let aside = with_suffix(file, suffix);
    if let Err(error) = std::fs::rename(file, &aside) {
        tracing::warn!(%error, file = %file.display(), "sandbox state not set aside");
    }
    aside
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
    use crate::delivery::Queue;
    use crate::state::IdempotentResponse;
    use crate::testing::scenario;

    fn fresh(owner: Option<&str>) -> State {
        State::new(
            "http://127.0.0.1:9/sandbox".to_owned(),
            Queue::default(),
            owner.map(str::to_owned),
        )
    }

    /// The names in `dir`, sorted.
    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

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
        write_atomically(&file, &serde_json::to_vec(&*state).unwrap()).unwrap();
        let loaded = load(&file, None).unwrap().expect("a saved state");
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
        assert_eq!(
            names(&dir.path().join("nested")),
            ["sandbox.json"],
            "the temporary file was renamed"
        );
    }

    /// Subscriptions saved before the pause's resume time and the cancellation details were
    /// kept still load, without them.
    #[tokio::test]
    async fn a_state_saved_before_the_newer_subscription_fields_still_loads() {
        let sandbox = scenario().await;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("sandbox.json");
        let mut json = serde_json::to_value(&*sandbox.lock()).unwrap();
        for sub in json["subscriptions"].as_array_mut().unwrap() {
            let fields = sub.as_object_mut().unwrap();
            for newer in [
                "pause_resumes_at",
                "cancellation_comment",
                "cancellation_feedback",
            ] {
                assert!(fields.remove(newer).is_some(), "{newer} is saved");
            }
        }
        write_atomically(&file, &serde_json::to_vec(&json).unwrap()).unwrap();
        let loaded = load(&file, None).unwrap().expect("loaded, not set aside");
        assert_eq!(
            loaded.subscriptions.len(),
            sandbox.lock().subscriptions.len()
        );
        assert!(
            loaded
                .subscriptions
                .iter()
                .all(|s| s.pause_resumes_at.is_none()
                    && s.cancellation_comment.is_none()
                    && s.cancellation_feedback.is_none())
        );
    }

    #[test]
    fn no_file_is_a_fresh_start_and_a_corrupt_one_is_set_aside() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("sandbox.json");
        assert!(load(&file, None).unwrap().is_none());
        std::fs::write(&file, "{\"clock_offset\": tru").unwrap();
        assert!(load(&file, None).unwrap().is_none());
        assert!(!file.exists());
        assert_eq!(
            std::fs::read_to_string(with_suffix(&file, "corrupt")).unwrap(),
            "{\"clock_offset\": tru"
        );
    }

    #[test]
    fn a_state_saved_for_another_owner_is_set_aside_and_the_sandbox_starts_afresh() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("sandbox.json");
        let mut state = fresh(Some("ledger-a"));
        state.clock_offset = 86_400;
        let json = serde_json::to_vec(&state).unwrap();
        write_atomically(&file, &json).unwrap();
        let loaded = load(&file, Some("ledger-a")).unwrap().expect("its own");
        assert_eq!(loaded.clock_offset, 86_400);

        assert!(load(&file, Some("ledger-b")).unwrap().is_none());
        assert!(!file.exists(), "set aside, so the next save starts anew");
        assert_eq!(
            std::fs::read(with_suffix(&file, "other-owner")).unwrap(),
            json,
            "kept whole beside it"
        );

        // A file saved before files named their owner cannot say whose it is.
        write_atomically(&file, &serde_json::to_vec(&fresh(None)).unwrap()).unwrap();
        assert!(load(&file, Some("ledger-b")).unwrap().is_none());
        assert!(!file.exists());
    }

    #[test]
    fn a_file_that_cannot_be_read_is_an_error_and_is_left_in_place() {
        let dir = tempfile::tempdir().unwrap();
        // A folder where the file should be: reading it fails, but it is not corrupt.
        let file = dir.path().join("sandbox.json");
        std::fs::create_dir(&file).unwrap();
        let error = load(&file, None).expect_err("refused");
        assert_eq!(error.file, file);
        assert!(file.is_dir(), "left where it was");
        assert_eq!(names(dir.path()), ["sandbox.json"]);
    }

    #[test]
    fn the_file_is_written_only_when_the_state_changed_and_never_while_panicking() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("sandbox.json");
        let shared = Shared::new(fresh(Some("ledger-a")), Some(file.clone()));
        {
            let mut state = shared.lock();
            state.clock_offset += 0;
        }
        assert!(!file.exists(), "a mutable borrow that changed nothing");

        shared.lock().clock_offset = 60;
        let saved = load(&file, Some("ledger-a")).unwrap().expect("saved");
        assert_eq!(saved.clock_offset, 60);

        std::fs::remove_file(&file).unwrap();
        shared.lock().clock_offset = 60;
        assert!(!file.exists(), "the same state is not written again");

        let panicked = std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    let mut state = shared.lock();
                    state.clock_offset = 120;
                    panic!("while the state is half changed");
                })
                .join()
        });
        assert!(panicked.is_err());
        assert!(!file.exists(), "nothing saved while unwinding");
        assert_eq!(names(dir.path()), Vec::<String>::new());
    }
}
