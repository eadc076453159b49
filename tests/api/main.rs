//! Integration tests: Obole started on port 0 with a fresh database per test, spoken to over
//! real HTTP. Every test listed in `dual_backend_tests!` runs on SQLite, and on PostgreSQL
//! when `TEST_POSTGRES_URL` is set.

#[macro_use]
mod helpers;

mod api;
mod back_office;
mod back_office_content;
mod backup;
mod binary;
mod checkout_secrets;
mod counters;
mod currency;
mod demo_restart;
mod disputes;
mod donation_input;
mod donations;
mod donor_pages;
mod email_journeys;
mod emails;
mod event_order;
mod faults;
mod housekeeping;
mod http_limits;
mod ledger_rows;
mod legal_pages;
mod nul_bytes;
mod operations;
mod outage;
mod page_cache;
mod pages;
mod platform;
mod public_supporters;
mod receipts;
mod reconcile;
mod replays;
mod schema;
mod smtp_sink;
mod startup;
mod supporter_privacy;
mod supporter_space;
