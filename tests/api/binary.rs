//! The real `obole` binary, run as a process of its own on a test's database and `DATA_DIR`:
//! for what only a process shows (kill -9, signals, instances started together, commands).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The webhook endpoint's secret of every instance these tests start, and of their senders.
pub const SECRET: &str = "whsec_fault_tests";

/// `obole serve` in demonstration mode, killed when dropped.
pub struct Binary {
    child: Child,
    pub address: String,
    log: std::path::PathBuf,
}

impl Binary {
    /// Starts `obole serve` on `port` and waits until it answers.
    pub async fn start(database_url: &str, data_dir: &Path, port: u16, run: usize) -> Binary {
        let mut server = Binary::spawn(serve(database_url, data_dir), data_dir, port, run);
        server.ready().await;
        server
    }

    /// Starts `command` (see [`serve`]) on `port`, its standard error into
    /// `DATA_DIR/obole-{run}.log`, without waiting.
    pub fn spawn(mut command: Command, data_dir: &Path, port: u16, run: usize) -> Binary {
        let log = data_dir.join(format!("obole-{run}.log"));
        let child = command
            .env("PORT", port.to_string())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log"))
            .spawn()
            .expect("obole starts");
        Binary {
            child,
            address: format!("http://127.0.0.1:{port}"),
            log,
        }
    }

    /// Waits for `/healthz` to answer; fails the test with the log if the process exits or
    /// does not answer within 60 s.
    pub async fn ready(&mut self) {
        let client = reqwest::Client::new();
        let until = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(response) = client.get(format!("{}/healthz", self.address)).send().await
                && response.status().is_success()
            {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("obole exited ({status}) before answering: {}", self.log());
            }
            assert!(
                Instant::now() < until,
                "obole did not answer within 60 s: {}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// What it wrote on its standard error so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends SIGTERM, as systemd or an orchestrator stopping it.
    pub fn terminate(&self) {
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success(), "SIGTERM sent");
    }

    /// Waits for the process to end by itself; its exit status.
    pub fn wait(mut self) -> std::process::ExitStatus {
        self.child.wait().expect("reaped")
    }

    /// SIGKILL: no shutdown, no flush, nothing finished.
    pub fn kill(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `obole serve` with the job worker, in demonstration mode with [`SECRET`]; more variables
/// may be added before [`Binary::spawn`].
pub fn serve(database_url: &str, data_dir: &Path) -> Command {
    let mut command = obole(database_url, data_dir);
    command
        .arg("serve")
        .env("JOBS_WORKER", "1")
        // The nightly reconciliation and the hourly housekeeping would wait among the jobs.
        .env("RECONCILE_EVERY_HOURS", "0")
        .env("HOUSEKEEPING", "0");
    command
}

/// The binary with the test's database and files, demonstration mode with [`SECRET`],
/// nothing inherited that could change that.
pub fn obole(database_url: &str, data_dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_obole"));
    command
        .current_dir(data_dir)
        .env("DATABASE_URL", database_url)
        .env("DATA_DIR", data_dir)
        .env("HOST", "127.0.0.1")
        .env("STRIPE_WEBHOOK_SECRET", SECRET)
        .env("STRIPE_SECRET_KEY", "")
        .env("SMTP_URL", "")
        .env("BASE_URL", "")
        .env("RUST_LOG", "info,sqlx=warn,tower_http=warn");
    command
}

/// Runs an `obole` command to its end; its standard output.
pub fn run_obole(database_url: &str, data_dir: &Path, args: &[&str]) -> String {
    let output = obole(database_url, data_dir)
        .args(args)
        .output()
        .expect("obole runs");
    assert!(
        output.status.success(),
        "obole {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A port nothing listens on, for a server that restarts on the same one.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}
