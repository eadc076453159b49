//! Rate limits per client IP address: starting checkouts is where card testers knock.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Method, Request};
use governor::middleware::NoOpMiddleware;
use tower_governor::GovernorError;
use tower_governor::GovernorLayer;
use tower_governor::governor::GovernorConfigBuilder;
use tower_governor::key_extractor::KeyExtractor;

pub type IpRateLimit = GovernorLayer<ClientIp, NoOpMiddleware, axum::body::Body>;

/// The donor's IP address. Without proxies (`trusted_proxies = 0`) it is the peer's. Behind
/// `n` reverse proxies or load balancers of our own, each appends the address it saw to
/// `X-Forwarded-For`: the `n`-th entry from the right is the one our outermost proxy saw.
/// Entries further left come from the client and could be forged, so they are never used.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp {
    pub trusted_proxies: usize,
}

impl ClientIp {
    fn address(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        if self.trusted_proxies == 0 {
            return peer;
        }
        let forwarded: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .collect();
        forwarded
            .len()
            .checked_sub(self.trusted_proxies)
            .and_then(|i| forwarded[i].parse().ok())
            // A request that did not come through the proxies: its own address.
            .or(peer)
    }
}

impl KeyExtractor for ClientIp {
    type Key = IpAddr;

    fn extract<T>(&self, request: &Request<T>) -> Result<IpAddr, GovernorError> {
        let peer = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(address)| address.ip());
        self.address(peer, request.headers())
            .ok_or(GovernorError::UnableToExtractKey)
    }
}

/// `per_minute` checkout attempts (POST) per IP address, refilled evenly over the minute;
/// form views (GET) are not counted. Beyond that: 429 and our "Trop de tentatives" page.
pub fn checkouts(per_minute: u32, client_ip: ClientIp) -> IpRateLimit {
    let per_minute = per_minute.max(1);
    let config = GovernorConfigBuilder::default()
        .key_extractor(client_ip)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(forwarded: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in forwarded {
            headers.append("x-forwarded-for", value.parse().unwrap());
        }
        headers
    }

    #[test]
    fn trusts_only_the_entries_our_proxies_added() {
        let peer: Option<IpAddr> = Some("10.0.0.2".parse().unwrap());
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        let direct = ClientIp { trusted_proxies: 0 };
        assert_eq!(direct.address(peer, &headers(&["203.0.113.9"])), peer);

        let one = ClientIp { trusted_proxies: 1 };
        assert_eq!(
            one.address(peer, &headers(&["203.0.113.9"])),
            ip("203.0.113.9")
        );
        assert_eq!(
            one.address(peer, &headers(&["1.2.3.4, 203.0.113.9"])),
            ip("203.0.113.9"),
            "a forged entry on the left is ignored"
        );
        assert_eq!(one.address(peer, &headers(&[])), peer);

        let two = ClientIp { trusted_proxies: 2 };
        assert_eq!(
            two.address(peer, &headers(&["1.2.3.4", "203.0.113.9, 10.0.0.1"])),
            ip("203.0.113.9")
        );
        assert_eq!(two.address(peer, &headers(&["garbage, 10.0.0.1"])), peer);
    }
}
