//! What Obole counts and measures, for Prometheus (`/metrics`, [`crate::web::prometheus`]):
//! one recorder per process (the `metrics` crate's global one), and here every name, so that
//! a newcomer finds them all in one place. Labels are bounded sets (route templates, event
//! types, outcomes), never a value a visitor typed.

use std::sync::OnceLock;
use std::time::Duration;

use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Upper bounds of the latency histograms, in seconds: pages take milliseconds, a checkout
/// calls Stripe (hundreds), the slowest are cut at 30 s.
const LATENCY_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's recorder, installed at the first call.
pub fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
            .expect("latency buckets are not empty")
            .build_recorder();
        let handle = recorder.handle();
        // Only a test harness could have installed another one first; its metrics are its own.
        let _ = metrics::set_global_recorder(recorder);
        describe();
        handle
    })
}

fn describe() {
    describe_counter!(
        "obole_http_requests_total",
        "Requests answered, by route and status."
    );
    describe_histogram!(
        "obole_http_request_duration_seconds",
        "Time to answer a request, by route."
    );
    describe_counter!(
        "obole_webhook_events_total",
        "Stripe events received, by type and outcome (applied, duplicate, not_yet, refused, failed)."
    );
    describe_counter!(
        "obole_emails_sent_total",
        "Emails handed to the mail server (or the outbox)."
    );
    describe_counter!(
        "obole_jobs_failed_total",
        "Job attempts that failed, by kind."
    );
    describe_gauge!(
        "obole_jobs",
        "Jobs in the database, by state (queued, failing, dead)."
    );
    describe_gauge!("obole_donations", "Donations in the ledger.");
    describe_gauge!(
        "obole_donations_amount_cents",
        "Amount of the donations in the ledger, refunds deducted, in cents."
    );
    describe_gauge!("obole_donors", "Distinct donors in the ledger.");
    describe_gauge!(
        "obole_db_pool_connections",
        "Database connections of this process, by state (in_use, idle)."
    );
    describe_gauge!(
        "obole_database_up",
        "1 when the database answered the last scrape, 0 when not."
    );
}

/// A request answered on `route` (its template, e.g. `/campagnes/{slug}`).
pub fn request(route: &str, method: &str, status: u16, took: Duration) {
    let labels = [
        ("route", route.to_owned()),
        ("method", method.to_owned()),
        ("status", status.to_string()),
    ];
    counter!("obole_http_requests_total", &labels).increment(1);
    histogram!(
        "obole_http_request_duration_seconds",
        "route" => route.to_owned(),
        "method" => method.to_owned()
    )
    .record(took.as_secs_f64());
}

/// What became of a Stripe event (`event_type` is `-` when the delivery was refused before
/// it could be read).
pub fn webhook(event_type: &str, outcome: &'static str) {
    counter!(
        "obole_webhook_events_total",
        "type" => event_type.to_owned(),
        "outcome" => outcome
    )
    .increment(1);
}

pub fn emails_sent(count: usize) {
    counter!("obole_emails_sent_total").increment(count as u64);
}

pub fn job_failed(kind: &str) {
    counter!("obole_jobs_failed_total", "kind" => kind.to_owned()).increment(1);
}

/// What is read from the database at each scrape: the same for every instance.
#[derive(Debug, Clone, Copy)]
pub struct Readings {
    pub jobs_queued: i64,
    pub jobs_failing: i64,
    pub jobs_dead: i64,
    pub donations: i64,
    pub amount_cents: i64,
    pub donors: i64,
}

/// Sets the gauges of a scrape: what the database says (`None`: it did not answer) and
/// this process's connections.
pub fn set_readings(readings: Option<Readings>, in_use: u32, idle: u32) {
    gauge!("obole_db_pool_connections", "state" => "in_use").set(in_use);
    gauge!("obole_db_pool_connections", "state" => "idle").set(idle);
    gauge!("obole_database_up").set(if readings.is_some() { 1 } else { 0 });
    let Some(r) = readings else {
        return;
    };
    gauge!("obole_jobs", "state" => "queued").set(r.jobs_queued as f64);
    gauge!("obole_jobs", "state" => "failing").set(r.jobs_failing as f64);
    gauge!("obole_jobs", "state" => "dead").set(r.jobs_dead as f64);
    gauge!("obole_donations").set(r.donations as f64);
    gauge!("obole_donations_amount_cents").set(r.amount_cents as f64);
    gauge!("obole_donors").set(r.donors as f64);
}
