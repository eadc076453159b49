//! Command line: `obole [serve]`, `worker`, `jobs`, `migrate`, `seed`, `recount`,
//! `reconcile`, `receipts`, `create-staff`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use obole::accounts;
use obole::config::Config;
use obole::domain::dates;
use obole::domain::email::Email;
use obole::domain::money::{Currency, format_money};
use obole::domain::staff::Role;
use obole::payments::reconcile;
use obole::startup::{
    Application, open_database, payments_beside_serve, run_worker, shutdown_signal,
};
use obole::store::reconcile_runs::StartedBy;
use obole::store::{counters, jobs};
use obole::{backup, receipts, seed, telemetry};

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
    /// Compare the ledger with what Stripe holds (Checkout Sessions, invoices, subscriptions,
    /// refunds, disputes) and repair what missed webhooks left out, printing each change.
    /// Running it again changes nothing. In demonstration mode, `obole serve` must be running
    /// (the sandbox lives in it).
    Reconcile {
        /// The first day to read, e.g. 2026-11-01 (by default, the last 35 days).
        #[arg(long)]
        since: Option<String>,
    },
    /// Issue the annual tax receipts of a year (the gifts no receipt covers yet): running it
    /// again issues nothing new.
    Receipts {
        /// The year of the gifts, e.g. 2026.
        #[arg(long)]
        year: i32,
    },
    /// Copy the SQLite database (consistent, while Obole serves) and the files under
    /// DATA_DIR into PATH, a new folder. On PostgreSQL, save the database with pg_dump and
    /// copy the files with --files-only.
    Backup {
        path: std::path::PathBuf,
        #[arg(long)]
        files_only: bool,
    },
    /// Bring a backup made by `obole backup` back into DATABASE_URL (a SQLite file that must
    /// not exist yet) and DATA_DIR, Obole stopped.
    Restore { path: std::path::PathBuf },
    /// Create a back-office account. The password is asked on the terminal (or read from the
    /// first line of standard input), never given on the command line.
    CreateStaff {
        #[arg(long)]
        email: String,
        /// admin, editor or viewer.
        #[arg(long)]
        role: String,
    },
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
            let lock = db.lock_setup().await.map_err(|e| e.to_string())?;
            let seeded = async {
                let report = seed::seed_demo(&db).await?;
                seed::seed_demo_organisation(&db, &config.data_dir).await?;
                Ok::<_, anyhow::Error>(report)
            }
            .await;
            lock.release().await;
            let report = seeded.map_err(|e| e.to_string())?;
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
        Command::Backup { path, files_only } => {
            let db = open_database(&config.database_url)
                .await
                .map_err(|e| e.to_string())?;
            let copied = backup::backup(&db, &config.data_dir, &path, files_only)
                .await
                .map_err(|e| e.to_string())?;
            db.close().await;
            println!(
                "sauvegarde faite dans {} : {}{} fichier(s), {} octets",
                path.display(),
                if copied.database { "la base, " } else { "" },
                copied.files,
                copied.bytes
            );
            Ok(())
        }
        Command::Restore { path } => {
            let copied = backup::restore(&config.database_url, &config.data_dir, &path)
                .await
                .map_err(|e| e.to_string())?;
            println!(
                "sauvegarde {} restaurée : la base et {} fichier(s), {} octets",
                path.display(),
                copied.files,
                copied.bytes
            );
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
        Command::CreateStaff { email, role } => {
            let email = Email::parse(email.trim())
                .ok_or_else(|| format!("« {email} » n'est pas une adresse e-mail valide"))?;
            let role: Role = role
                .parse()
                .map_err(|_| format!("rôle inconnu « {role} » : admin, editor ou viewer"))?;
            let password = read_password().map_err(|e| format!("mot de passe illisible : {e}"))?;
            let db = open_database(&config.database_url)
                .await
                .map_err(|e| e.to_string())?;
            let id = accounts::create_staff(&db, &email, role, password, None, dates::now())
                .await
                .map_err(|e| e.to_string())?;
            println!(
                "compte n° {id} créé pour {} ({})",
                email.as_str(),
                role.label()
            );
            Ok(())
        }
        Command::Receipts { year } => {
            let db = open_database(&config.database_url)
                .await
                .map_err(|e| e.to_string())?;
            print_receipts_run(&db, year).await
        }
        Command::Reconcile { since } => {
            let since = match since {
                Some(day) => obole::domain::campaign_form::day(&day)
                    .ok_or_else(|| format!("« {day} » n'est pas une date AAAA-MM-JJ"))?,
                None => dates::now() - reconcile::DEFAULT_LOOKBACK_DAYS * dates::DAY,
            };
            let db = open_database(&config.database_url)
                .await
                .map_err(|e| e.to_string())?;
            let payments = payments_beside_serve(&config, &db)
                .await
                .map_err(|e| e.to_string())?;
            let report = reconcile::run_recorded(&payments, &db, StartedBy::Command, since)
                .await
                .map_err(|e| e.to_string())?;
            for change in &report.changes {
                println!("réparé : {change}");
            }
            for (object, why) in &report.waiting {
                println!("pas encore applicable : {object} ({why})");
            }
            println!(
                "{} objet(s) de Stripe lu(s) depuis le {}, {} réparé(s), {} en attente",
                report.checked,
                dates::french_date(since),
                report.changes.len(),
                report.waiting.len()
            );
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
            if report.summaries_repaired.days {
                println!("montants par jour reconstruits");
            }
            if report.summaries_repaired.supporter_years {
                println!("montants par donateur et par année reconstruits");
            }
            if report.all_exact() {
                println!("tous les compteurs sont justes");
            }
            Ok(())
        }
    }
}

/// The new account's password: asked twice on a terminal, without echo; else the first line
/// of standard input (for scripts: `printf '%s\n' "$PASSWORD" | obole create-staff …`).
fn read_password() -> std::io::Result<String> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Mot de passe (12 caractères au moins) : ")?;
        let again = rpassword::prompt_password("Le même, encore une fois : ")?;
        if first != again {
            return Err(std::io::Error::other("les deux saisies diffèrent"));
        }
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    }
}

/// `obole receipts --year Y`: the year's annual receipts, and what still waits.
async fn print_receipts_run(db: &obole::db::Db, year: i32) -> Result<(), String> {
    let this_year = dates::paris_year(dates::now());
    if !(2000..=this_year).contains(&year) {
        return Err(format!(
            "année {year} impossible : une année passée ou l'année en cours"
        ));
    }
    let summary = receipts::run_year(db, year, None, dates::now())
        .await
        .map_err(|e| e.to_string())?
        .map_err(|missing| {
            format!(
                "aucun reçu ne peut être établi : il manque dans les réglages de l'organisation {}",
                missing.join(", ")
            )
        })?;
    println!(
        "reçus annuels {year} : {} émis, pour {}",
        summary.issued,
        format_money(summary.amount_cents, Currency::EUR)
    );
    if !summary.waiting_for_address.is_empty() {
        println!(
            "{} donateur(s) sans adresse postale : leur reçu attend qu'ils la donnent",
            summary.waiting_for_address.len()
        );
    }
    Ok(())
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
