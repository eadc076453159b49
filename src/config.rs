//! Typed configuration, read once from the environment at start-up.

use std::net::IpAddr;
use std::path::PathBuf;

use secrecy::SecretString;

/// Everything Obole needs to run. Built from the environment by [`Config::from_env`], or by
/// hand in tests.
#[derive(Clone, Debug)]
pub struct Config {
    /// `sqlite://…` or `postgres://…`.
    pub database_url: String,
    pub host: IpAddr,
    /// 0 asks the system for a free port (tests).
    pub port: u16,
    /// Public URL used in links and redirects; `None` means `http://localhost:{port}`.
    pub base_url: Option<String>,
    pub data_dir: PathBuf,
    /// Without a key Obole runs in demonstration mode: no real payment is possible.
    pub stripe_secret_key: Option<SecretString>,
    /// Name of the organisation shown in the header and titles.
    pub organisation_name: String,
    /// Seed the demo content into an empty database (demo mode only).
    pub seed_demo_content: bool,
}

#[derive(Debug, thiserror::Error)]
#[error("la variable d'environnement {name} est invalide : {reason}")]
pub struct ConfigError {
    name: &'static str,
    reason: String,
}

impl Config {
    /// Reads `DATABASE_URL`, `HOST`, `PORT`, `BASE_URL`, `DATA_DIR`, `STRIPE_SECRET_KEY` and
    /// `ORGANISATION_NAME`; every one has a default fit for a first run on a laptop.
    pub fn from_env() -> Result<Config, ConfigError> {
        let data_dir = PathBuf::from(var("DATA_DIR").unwrap_or_else(|| "./data".to_owned()));
        let database_url = var("DATABASE_URL")
            .unwrap_or_else(|| format!("sqlite://{}/obole.db", data_dir.display()));
        let port = match var("PORT") {
            Some(raw) => raw.parse().map_err(|_| ConfigError {
                name: "PORT",
                reason: format!("« {raw} » n'est pas un numéro de port"),
            })?,
            None => 3000,
        };
        let host = match var("HOST") {
            Some(raw) => raw.parse().map_err(|_| ConfigError {
                name: "HOST",
                reason: format!("« {raw} » n'est pas une adresse IP"),
            })?,
            None => IpAddr::from([127, 0, 0, 1]),
        };
        let base_url = match var("BASE_URL") {
            Some(raw) => Some(parse_base_url(&raw)?),
            None => None,
        };
        Ok(Config {
            database_url,
            host,
            port,
            base_url,
            data_dir,
            stripe_secret_key: var("STRIPE_SECRET_KEY").map(SecretString::from),
            organisation_name: var("ORGANISATION_NAME")
                .unwrap_or_else(|| "Villages d'Enfants".to_owned()),
            seed_demo_content: var("SEED_DEMO_CONTENT").is_none_or(|v| v != "0" && v != "false"),
        })
    }

    /// Demonstration mode: no Stripe key, so no real payment can happen.
    pub fn demo_mode(&self) -> bool {
        self.stripe_secret_key.is_none()
    }
}

/// An unset or blank variable is absent.
fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn parse_base_url(raw: &str) -> Result<String, ConfigError> {
    let url = url::Url::parse(raw).map_err(|e| ConfigError {
        name: "BASE_URL",
        reason: e.to_string(),
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(ConfigError {
            name: "BASE_URL",
            reason: "attendu : une adresse http(s)://…".to_owned(),
        });
    }
    Ok(raw.trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_loses_its_trailing_slash() {
        assert_eq!(
            parse_base_url("https://dons.example.org/").unwrap(),
            "https://dons.example.org"
        );
        assert!(parse_base_url("ftp://x").is_err());
        assert!(parse_base_url("pas une url").is_err());
    }
}
