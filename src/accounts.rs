//! Staff accounts as the command line (`obole create-staff`) and the back-office's team page
//! create them: the password checked and hashed (off the async threads), the account and its
//! line in the journal written together.

use crate::db::Db;
use crate::domain::email::Email;
use crate::domain::password;
use crate::domain::staff::{Role, password_problem};
use crate::store::{audit, staff};

#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error("{0}")]
    Password(String),
    #[error("un compte existe déjà pour {0}")]
    Taken(String),
    #[error("base de données : {0}")]
    Database(#[from] sqlx::Error),
    #[error("hachage du mot de passe : {0}")]
    Hashing(String),
}

/// Creates the account; `by` is the admin who did it (`None`: the command line).
pub async fn create_staff(
    db: &Db,
    email: &Email,
    role: Role,
    password: String,
    by: Option<i64>,
    now: i64,
) -> Result<i64, CreateError> {
    if let Some(problem) = password_problem(&password) {
        return Err(CreateError::Password(problem));
    }
    let hashed = tokio::task::spawn_blocking(move || password::hash(&password))
        .await
        .map_err(|e| CreateError::Hashing(e.to_string()))?
        .map_err(|e| CreateError::Hashing(e.to_string()))?;
    let mut tx = db.begin_write().await?;
    let Some(id) = staff::create(&mut tx, email, role, &hashed, now).await? else {
        return Err(CreateError::Taken(email.as_str().to_owned()));
    };
    let entry = audit::Entry {
        staff_id: by,
        action: "staff.create",
        subject: format!("staff:{id}"),
        before: None,
        after: Some(serde_json::json!({ "email": email.as_str(), "role": role.as_str() })),
    };
    audit::record(&mut tx, &entry, now).await?;
    tx.commit().await?;
    Ok(id)
}
