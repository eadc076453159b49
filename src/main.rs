//! Command line: `obole [serve]`, `migrate`, `seed`, `recount`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use obole::config::Config;
use obole::startup::{Application, open_database, shutdown_signal};
use obole::store::counters;
use obole::{seed, telemetry};

#[derive(Parser)]
#[command(
    name = "obole",
    version,
    about = "Obole : plateforme de dons et d'engagement des donateurs"
)]
struct Cli {
    /// Port to listen on (default 3000).
    #[arg(long, env = "PORT", global = true)]
    port: Option<u16>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the site (the default).
    Serve,
    /// Run the database migrations, then exit.
    Migrate,
    /// Add the demonstration content (idempotent).
    Seed,
    /// Recount campaign and organisation totals from the donations, repairing any drift.
    Recount,
}

#[tokio::main]
async fn main() -> ExitCode {
    // `.env` is a development convenience; real environment variables take precedence.
    let _ = dotenvy::dotenv();
    telemetry::init();
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("erreur : {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    let mut config = Config::from_env().map_err(|e| e.to_string())?;
    if let Some(port) = cli.port {
        config.port = port;
    }
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let app = Application::build(config)
                .await
                .map_err(|e| e.to_string())?;
            tracing::info!("Obole is listening on {}", app.base_url());
            app.run_until(shutdown_signal())
                .await
                .map_err(|e| e.to_string())
        }
        Command::Migrate => {
            open_database(&config.database_url)
                .await
                .map_err(|e| e.to_string())?;
            println!("migrations appliquées");
            Ok(())
        }
        Command::Seed => {
            let db = open_database(&config.database_url)
                .await
                .map_err(|e| e.to_string())?;
            let report = seed::seed_demo(&db).await.map_err(|e| e.to_string())?;
            if report.projects_created.is_empty() {
                println!("contenu de démonstration déjà présent : rien à ajouter");
            } else {
                println!(
                    "contenu de démonstration ajouté : {} projet(s), {} don(s)",
                    report.projects_created.len(),
                    report.donations_created
                );
            }
            Ok(())
        }
        Command::Recount => {
            let db = open_database(&config.database_url)
                .await
                .map_err(|e| e.to_string())?;
            let report = counters::recount(&db).await.map_err(|e| e.to_string())?;
            println!("{} campagne(s) vérifiée(s)", report.campaigns_checked);
            for slug in &report.campaigns_repaired {
                println!("compteurs réparés : {slug}");
            }
            if report.organisation_repaired {
                println!("compteurs de l'organisation réparés");
            }
            if report.campaigns_repaired.is_empty() && !report.organisation_repaired {
                println!("tous les compteurs sont justes");
            }
            Ok(())
        }
    }
}
