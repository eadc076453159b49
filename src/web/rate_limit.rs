//! Rate limits per client IP address: starting checkouts is where card testers knock.

use std::sync::Arc;
use std::time::Duration;

use axum::http::Method;
use governor::middleware::NoOpMiddleware;
use tower_governor::GovernorLayer;
use tower_governor::governor::GovernorConfigBuilder;
use tower_governor::key_extractor::PeerIpKeyExtractor;

pub type IpRateLimit = GovernorLayer<PeerIpKeyExtractor, NoOpMiddleware, axum::body::Body>;

/// `per_minute` checkout attempts (POST) per IP address, refilled evenly over the minute;
/// form views (GET) are not counted. Beyond that: 429 and our "Trop de tentatives" page.
pub fn checkouts(per_minute: u32) -> IpRateLimit {
    let per_minute = per_minute.max(1);
    let config = GovernorConfigBuilder::default()
        .period(Duration::from_secs(60) / per_minute)
        .burst_size(per_minute)
        .methods(vec![Method::POST])
        .finish()
        .expect("a rate limit with a non-zero period and burst");
    let config = Arc::new(config);
    let limiter = config.limiter().clone();
    // Forget idle addresses now and then, so the table does not grow without end.
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(60));
        loop {
            every.tick().await;
            limiter.retain_recent();
        }
    });
    GovernorLayer::new(config)
}
