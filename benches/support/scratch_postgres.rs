//! A PostgreSQL database of its own for one bench run, dropped afterwards (shared by the
//! benches through `#[path]`).

use sqlx::Connection;
use sqlx::postgres::PgConnection;

pub struct ScratchPostgres {
    admin: PgConnection,
    name: String,
    /// The new database's URL.
    pub url: String,
}

impl ScratchPostgres {
    /// A fresh database on the server of `admin_url`.
    pub async fn create(admin_url: &str) -> ScratchPostgres {
        let name = format!("obole_bench_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(admin_url).await.expect("PostgreSQL");
        sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut admin)
            .await
            .expect("create");
        let mut url = url::Url::parse(admin_url).expect("URL");
        url.set_path(&name);
        ScratchPostgres {
            admin,
            name,
            url: url.into(),
        }
    }

    pub async fn drop(mut self) {
        sqlx::query(&format!("DROP DATABASE \"{}\" WITH (FORCE)", self.name))
            .execute(&mut self.admin)
            .await
            .expect("drop");
    }
}
