//! `obole backup PATH` and `obole restore PATH`, for a SQLite deployment: a consistent copy of
//! the database taken while Obole serves, with the files stored under `DATA_DIR` (pictures,
//! receipts, the outbox, the sandbox's state), and their way back into a fresh `DATA_DIR`.
//!
//! The database is copied first, by SQLite itself (`VACUUM INTO`: one read transaction, so
//! the copy is the database as of one instant, whatever is written meanwhile); the files
//! after it, so that every file the copied database names is there (a file written after the
//! instant comes along too, unused). On PostgreSQL the database is saved with its own tools
//! (README, « Backups »); `--files-only` then copies the files.

use std::io;
use std::path::{Path, PathBuf};

use crate::db::{Backend, Db, DbError};

/// Inside a backup: the database, and `DATA_DIR`'s files under `files/`.
const DATABASE_FILE: &str = "obole.db";
const FILES_DIR: &str = "files";

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(
        "« {0} » existe déjà et n'est pas vide : donnez un dossier nouveau (une sauvegarde n'en écrase jamais une autre)"
    )]
    DestinationNotEmpty(PathBuf),
    #[error(
        "la base est sur PostgreSQL : sauvegardez-la avec pg_dump (voir README, « Backups »), puis copiez les fichiers de DATA_DIR avec `obole backup --files-only CHEMIN`"
    )]
    Postgres,
    #[error(
        "la restauration ne concerne qu'une base SQLite : pour PostgreSQL, voir README, « Backups »"
    )]
    RestoreOnPostgres,
    #[error("« {0} » n'est pas une sauvegarde d'Obole : {DATABASE_FILE} y manque")]
    NotABackup(PathBuf),
    #[error(
        "la base « {0} » existe déjà : arrêtez Obole et déplacez-la (la restauration n'écrase jamais une base)"
    )]
    DatabaseExists(PathBuf),
    #[error("la base restaurée est endommagée : {0}")]
    Corrupt(String),
    #[error("{context} : {source}")]
    Io { context: String, source: io::Error },
    #[error("base de données : {0}")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Open(#[from] DbError),
}

/// What a backup or a restore copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Copied {
    /// Whether the database was (not with `--files-only`).
    pub database: bool,
    /// Files of `DATA_DIR`.
    pub files: u64,
    /// Their bytes, the database's included.
    pub bytes: u64,
}

/// Copies the database (SQLite) and `data_dir`'s files into `destination`, a new or empty
/// folder.
pub async fn backup(
    db: &Db,
    data_dir: &Path,
    destination: &Path,
    files_only: bool,
) -> Result<Copied, BackupError> {
    let database = match db.backend() {
        Backend::Postgres if !files_only => return Err(BackupError::Postgres),
        Backend::Postgres => None,
        Backend::Sqlite => db.sqlite_file(),
    };
    prepare_destination(destination)?;
    let mut copied = Copied {
        database: false,
        files: 0,
        bytes: 0,
    };
    if let (Some(_), false) = (&database, files_only) {
        let target = destination.join(DATABASE_FILE);
        sqlx::query("VACUUM INTO $1")
            .bind(target.display().to_string())
            .execute(db.pool())
            .await?;
        copied.database = true;
        copied.bytes += size(&target)?;
    }
    // Never the live database (its copy is above), nor the backup itself if it is inside.
    let skipped: Vec<PathBuf> = database
        .iter()
        .flat_map(|file| {
            ["", "-wal", "-shm", "-journal", ".setup-lock"].map(|suffix| {
                let mut name = file.clone().into_os_string();
                name.push(suffix);
                absolute(Path::new(&name))
            })
        })
        .chain([absolute(destination)])
        .collect();
    copy_tree(
        data_dir,
        &destination.join(FILES_DIR),
        &skipped,
        &mut copied,
    )?;
    Ok(copied)
}

/// Brings a backup back: its database to `database_url` (a file that must not exist yet),
/// its files into `data_dir`; then checks the database and applies the migrations this
/// version carries. Obole must not be running on `database_url`.
pub async fn restore(
    database_url: &str,
    data_dir: &Path,
    source: &Path,
) -> Result<Copied, BackupError> {
    if Backend::from_url(database_url) != Some(Backend::Sqlite) {
        return Err(BackupError::RestoreOnPostgres);
    }
    let saved = source.join(DATABASE_FILE);
    if !saved.is_file() {
        return Err(BackupError::NotABackup(source.to_owned()));
    }
    let target =
        crate::db::sqlite_file(database_url).ok_or_else(|| BackupError::RestoreOnPostgres)?;
    if target.exists() && size(&target)? > 0 {
        return Err(BackupError::DatabaseExists(target));
    }
    if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(io_error(parent))?;
    }
    let mut copied = Copied {
        database: true,
        files: 0,
        bytes: std::fs::copy(&saved, &target).map_err(io_error(&target))?,
    };
    let files = source.join(FILES_DIR);
    if files.is_dir() {
        copy_tree(&files, data_dir, &[], &mut copied)?;
    }
    let db = crate::startup::open_database(database_url).await?;
    let check: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(db.pool())
        .await?;
    db.close().await;
    if check != "ok" {
        return Err(BackupError::Corrupt(check));
    }
    Ok(copied)
}

fn prepare_destination(destination: &Path) -> Result<(), BackupError> {
    if destination.exists() {
        let mut entries = std::fs::read_dir(destination).map_err(io_error(destination))?;
        if entries.next().is_some() {
            return Err(BackupError::DestinationNotEmpty(destination.to_owned()));
        }
    }
    std::fs::create_dir_all(destination).map_err(io_error(destination))
}

/// Copies the regular files under `from` into `to`, folders included, leaving out `skipped`.
fn copy_tree(
    from: &Path,
    to: &Path,
    skipped: &[PathBuf],
    copied: &mut Copied,
) -> Result<(), BackupError> {
    let entries = match std::fs::read_dir(from) {
        Ok(entries) => entries,
        // No DATA_DIR yet: nothing stored in it.
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(error) => return Err(io_error(from)(error)),
    };
    for entry in entries {
        let entry = entry.map_err(io_error(from))?;
        let path = entry.path();
        if skipped.contains(&absolute(&path)) {
            continue;
        }
        let kind = entry.file_type().map_err(io_error(&path))?;
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            copy_tree(&path, &target, skipped, copied)?;
        } else if kind.is_file() {
            std::fs::create_dir_all(to).map_err(io_error(to))?;
            copied.bytes += std::fs::copy(&path, &target).map_err(io_error(&path))?;
            copied.files += 1;
        }
    }
    Ok(())
}

fn size(file: &Path) -> Result<u64, BackupError> {
    Ok(std::fs::metadata(file).map_err(io_error(file))?.len())
}

/// `path` made absolute (not resolved), to compare paths given relative or not.
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

fn io_error(path: &Path) -> impl Fn(io::Error) -> BackupError + '_ {
    move |source| BackupError::Io {
        context: path.display().to_string(),
        source,
    }
}
