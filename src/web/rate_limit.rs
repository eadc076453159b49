//! Rate limits per client IP address: starting checkouts is where card testers knock. Only
//! checkouts actually started count, so a donor correcting a typo is never held back.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::http::HeaderMap;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// The donor's IP address. Without proxies (`trusted_proxies = 0`) it is the peer's. Behind
/// `n` reverse proxies or load balancers of our own, each appends the address it saw to
/// `X-Forwarded-For`: the `n`-th entry from the right is the one our outermost proxy saw.
/// Entries further left come from the client and could be forged, so they are never used.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp {
    pub trusted_proxies: usize,
}

impl ClientIp {
    pub fn address(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
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
            .and_then(|i| parse_forwarded(forwarded[i]))
            // A request that did not come through the proxies: its own address.
            .unwrap_or(peer)
    }
}

/// An `X-Forwarded-For` entry: an address, or an address with its port (`203.0.113.9:4711`,
/// `[2001:db8::1]:4711`), as some proxies write it.
fn parse_forwarded(entry: &str) -> Option<IpAddr> {
    entry
        .parse()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

/// Who is counted: an IPv4 address, or an IPv6 /64 (one home or phone gets a whole /64 and
/// could otherwise take a new address for each attempt).
fn counted_as(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => {
            let network = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(network))
        }
        v4 => v4,
    }
}

/// `per_minute` checkouts per IP address, refilled evenly over the minute. Counted in this
/// process: several instances behind a load balancer each allow that many.
pub struct ClientLimiter {
    limiter: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    client_ip: ClientIp,
}

impl ClientLimiter {
    /// Needs a tokio runtime ([`forgetful`]).
    pub fn new(per_minute: u32, client_ip: ClientIp) -> Arc<ClientLimiter> {
        let per_minute = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
        Arc::new(ClientLimiter {
            limiter: forgetful(Quota::per_minute(per_minute)),
            client_ip,
        })
    }

    /// Counts one checkout for the client; `Err(wait)` when it started too many lately.
    pub fn check(&self, peer: IpAddr, headers: &HeaderMap) -> Result<(), Duration> {
        let client = counted_as(self.client_ip.address(peer, headers));
        check(&self.limiter, &client)
    }
}

/// Sign-in links asked for: per client address (one machine trying many emails) and per
/// email (one inbox flooded), whether the email is a supporter's or not, so that the limit
/// tells nothing about who gives.
pub struct SignInLimiter {
    by_client: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    by_email: Arc<DefaultKeyedRateLimiter<String>>,
    client_ip: ClientIp,
}

impl SignInLimiter {
    /// 10 links an hour per address, 3 every 15 minutes per email. Needs a tokio runtime.
    pub fn new(client_ip: ClientIp) -> Arc<SignInLimiter> {
        let quota = |every: Duration, burst: u32| {
            Quota::with_period(every)
                .unwrap_or_else(|| unreachable!("a period longer than zero"))
                .allow_burst(NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN))
        };
        Arc::new(SignInLimiter {
            by_client: forgetful(quota(Duration::from_secs(6 * 60), 10)),
            by_email: forgetful(quota(Duration::from_secs(5 * 60), 3)),
            client_ip,
        })
    }

    /// Counts one link asked for `email` by the client; `Err(wait)` when either asked too many.
    pub fn check(&self, peer: IpAddr, headers: &HeaderMap, email: &str) -> Result<(), Duration> {
        let client = counted_as(self.client_ip.address(peer, headers));
        check(&self.by_client, &client)?;
        check(&self.by_email, &email.to_owned())
    }
}

/// A keyed limiter whose idle keys a task forgets now and then, so its table does not grow
/// without end (the task ends with the limiter). Needs a tokio runtime.
fn forgetful<K>(quota: Quota) -> Arc<DefaultKeyedRateLimiter<K>>
where
    K: std::hash::Hash + Eq + Clone + Send + Sync + 'static,
{
    let limiter = Arc::new(RateLimiter::keyed(quota));
    let weak = Arc::downgrade(&limiter);
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(60));
        loop {
            every.tick().await;
            let Some(limiter) = weak.upgrade() else {
                return;
            };
            limiter.retain_recent();
        }
    });
    limiter
}

fn check<K>(limiter: &DefaultKeyedRateLimiter<K>, key: &K) -> Result<(), Duration>
where
    K: std::hash::Hash + Eq + Clone,
{
    limiter
        .check_key(key)
        .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
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
        let peer: IpAddr = "10.0.0.2".parse().unwrap();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
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
        assert_eq!(
            one.address(peer, &headers(&["203.0.113.9:4711"])),
            ip("203.0.113.9"),
            "with its port"
        );
        assert_eq!(
            one.address(peer, &headers(&["[2001:db8::1]:4711"])),
            ip("2001:db8::1")
        );
    }

    #[test]
    fn ipv6_clients_are_counted_per_slash_64() {
        let a = counted_as("2001:db8:1:2:aaaa::1".parse().unwrap());
        let b = counted_as("2001:db8:1:2:bbbb::9".parse().unwrap());
        let other = counted_as("2001:db8:1:3::1".parse().unwrap());
        assert_eq!(a, b);
        assert_ne!(a, other);
        let v4: IpAddr = "203.0.113.9".parse().unwrap();
        assert_eq!(counted_as(v4), v4);
    }

    #[tokio::test]
    async fn counts_per_client() {
        let limiter = ClientLimiter::new(2, ClientIp { trusted_proxies: 0 });
        let (a, b) = (
            "203.0.113.1".parse().unwrap(),
            "203.0.113.2".parse().unwrap(),
        );
        let none = HeaderMap::new();
        assert!(limiter.check(a, &none).is_ok());
        assert!(limiter.check(a, &none).is_ok());
        let wait = limiter.check(a, &none).unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(30),
            "{wait:?}"
        );
        assert!(
            limiter.check(b, &none).is_ok(),
            "another donor is not held back"
        );
    }
}
