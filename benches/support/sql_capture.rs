//! Which SQL statements a stretch of work ran, and how long each took as sqlx measured it: a
//! tracing layer on sqlx's own statement events (target `sqlx::query`), switched off outside
//! a capture so that it costs nothing while a bench measures (shared through `#[path]`).

use std::fmt::Debug;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use tracing::field::{Field, Visit};
use tracing::subscriber::Interest;
use tracing::{Event, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

const TARGET: &str = "sqlx::query";

static CAPTURING: AtomicBool = AtomicBool::new(false);
static STATEMENTS: Mutex<Vec<Statement>> = Mutex::new(Vec::new());

/// One statement run: its text on one line, and its time from start to last row.
pub struct Statement {
    pub sql: String,
    pub seconds: f64,
}

/// Installs the layer as the process's only subscriber (nothing else is logged).
pub fn install() {
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(Capture))
        .expect("no other subscriber");
}

pub fn start() {
    STATEMENTS.lock().expect("statements").clear();
    CAPTURING.store(true, Ordering::Release);
}

/// The statements run since `start`, in order.
pub fn stop() -> Vec<Statement> {
    CAPTURING.store(false, Ordering::Release);
    std::mem::take(&mut *STATEMENTS.lock().expect("statements"))
}

struct Capture;

impl<S: Subscriber> Layer<S> for Capture {
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        // Asked again at each event: the capture is switched on and off.
        if metadata.target() == TARGET {
            Interest::sometimes()
        } else {
            Interest::never()
        }
    }

    fn enabled(&self, metadata: &Metadata<'_>, _: Context<'_, S>) -> bool {
        metadata.target() == TARGET && CAPTURING.load(Ordering::Acquire)
    }

    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        // sqlx sends the whole text only when it is longer than its four-word summary.
        let sql = if fields.statement.trim().is_empty() {
            fields.summary
        } else {
            fields.statement
        };
        STATEMENTS.lock().expect("statements").push(Statement {
            sql: sql.split_whitespace().collect::<Vec<_>>().join(" "),
            seconds: fields.seconds,
        });
    }
}

#[derive(Default)]
struct Fields {
    summary: String,
    statement: String,
    seconds: f64,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "summary" => self.summary = value.to_owned(),
            "db.statement" => self.statement = value.to_owned(),
            _ => {}
        }
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        if field.name() == "elapsed_secs" {
            self.seconds = value;
        }
    }

    fn record_debug(&mut self, _: &Field, _: &dyn Debug) {}
}
