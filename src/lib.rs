//! Obole: donation and supporter-engagement platform (campaign pages, Stripe donations,
//! supporter space, back-office). `main.rs` only boots; the application lives here.

pub mod accounts;
pub mod backup;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod jobs;
pub mod links;
pub mod markdown;
pub mod media;
pub mod seed;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod web;

pub use startup::Application;
/// The Stripe sandbox (its own crate) that demonstration mode runs on.
#[cfg(feature = "sandbox")]
pub use stripe_sandbox as sandbox;
pub mod payments;
pub mod receipts;
