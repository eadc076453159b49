//! Command line: `obole [serve]`, `worker`, `jobs`, `migrate`, `seed`, `recount`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use obole::config::Config;
use obole::domain::dates;
use obole::startup::{Application, open_database, run_worker, shutdown_signal};
use obole::store::{counters, jobs};
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
    /// Run background jobs (emails) without serving pages, beside `serve` instances started
    /// with JOBS_WORKER=0; on PostgreSQL, as many as you like.
    Worker,
    /// List the jobs that failed: waiting for a retry, and dead (with their error).
    Jobs,
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
        Command::Worker => {
            tracing::info!("Obole job worker started");
            run_worker(config, shutdown_signal())
                .await
                .map_err(|e| e.to_string())
        }
        Command::Jobs => {
            let db = open_database(&config.database_url)
                .await
                .map_err(|e| e.to_string())?;
            print_jobs(&db).await.map_err(|e| e.to_string())
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

/// `obole jobs`: what is pending, and the failures someone should look at.
async fn print_jobs(db: &obole::db::Db) -> sqlx::Result<()> {
    const SHOWN: i64 = 50;
    let (pending, done, dead) = jobs::counts(db.pool()).await?;
    println!("tâches : {pending} en attente, {done} faites, {dead} abandonnées");
    let retrying = jobs::retrying(db.pool(), SHOWN).await?;
    if !retrying.is_empty() {
        println!("\nen échec, à retenter :");
        for job in &retrying {
            println!(
                "  #{} {} — tentative {}/{}, prochaine le {} — {}",
                job.id,
                job.kind,
                job.attempts,
                job.max_attempts,
                dates::french_datetime(job.run_at),
                job.last_error.as_deref().unwrap_or("")
            );
        }
    }
    let dead_jobs = jobs::dead(db.pool(), SHOWN).await?;
    if !dead_jobs.is_empty() {
        println!("\nabandonnées :");
        for job in &dead_jobs {
            println!(
                "  #{} {} — {} tentative(s), abandonnée le {} — {}",
                job.id,
                job.kind,
                job.attempts,
                job.dead_at.map(dates::french_datetime).unwrap_or_default(),
                job.last_error.as_deref().unwrap_or("")
            );
        }
    }
    Ok(())
}
