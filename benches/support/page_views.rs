//! Pages viewed over real HTTP on loopback from bare keep-alive connections, and their
//! latencies (shared by the benches through `#[path]`).

use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Empty};
use hyper::body::{Bytes, Incoming};
use hyper::client::conn::http1::{SendRequest, handshake};
use hyper::{Request, Response, StatusCode, header};
use hyper_util::rt::TokioIo;

/// A keep-alive HTTP/1.1 connection with the browser's headers: a bare client, so that the
/// load costs the two shared cores as little as possible.
pub struct Client {
    requests: SendRequest<Empty<Bytes>>,
    host: String,
    cookie: String,
}

impl Client {
    pub async fn open(address: &str, cookie: &str) -> Client {
        let stream = tokio::net::TcpStream::connect(address)
            .await
            .expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        let (requests, connection) = handshake(TokioIo::new(stream)).await.expect("handshake");
        tokio::spawn(connection);
        Client {
            requests,
            host: address.to_owned(),
            cookie: cookie.to_owned(),
        }
    }

    /// The response to `GET path` with its headers only read, and when it was sent;
    /// `encodings`: what `Accept-Encoding` offers.
    pub async fn start(&mut self, path: &str, encodings: &str) -> (Response<Incoming>, Instant) {
        let request = Request::get(path)
            .header(header::HOST, &self.host)
            .header(header::COOKIE, &self.cookie)
            .header(header::ACCEPT_ENCODING, encodings)
            .body(Empty::<Bytes>::new())
            .expect("request");
        // The connection takes the next request once it has read the last response.
        self.requests.ready().await.expect("connection");
        let sent = Instant::now();
        let response = self.requests.send_request(request).await.expect("response");
        (response, sent)
    }

    /// One view, read to its last byte (uncompressed, to be read): its status, its body
    /// and its latency.
    pub async fn get(&mut self, path: &str) -> (StatusCode, Bytes, Duration) {
        let (response, sent) = self.start(path, "identity").await;
        let status = response.status();
        let body = response.into_body().collect().await.expect("body");
        (status, body.to_bytes(), sent.elapsed())
    }

    /// One view as a browser asks for it (compressed), read to its last byte; its latency.
    pub async fn view(&mut self, path: &str) -> Duration {
        let (response, sent) = self.start(path, "gzip, br").await;
        let status = response.status();
        response.into_body().collect().await.expect("body");
        let latency = sent.elapsed();
        assert_eq!(status, 200, "{path}");
        latency
    }
}

/// Latencies of views, in milliseconds, and their rate.
pub struct Load {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
    pub per_second: f64,
    pub requests: usize,
}

impl Load {
    pub fn of(mut latencies: Vec<f64>, elapsed: Duration) -> Load {
        latencies.sort_by(f64::total_cmp);
        let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize];
        Load {
            p50: at(0.50),
            p90: at(0.90),
            p99: at(0.99),
            max: at(1.0),
            per_second: latencies.len() as f64 / elapsed.as_secs_f64(),
            requests: latencies.len(),
        }
    }

    pub fn describe(&self) -> String {
        format!(
            "{} views, {:.0}/s, p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            self.requests, self.per_second, self.p50, self.p90, self.p99, self.max
        )
    }
}

/// `clients` clients, each on its own connection, viewing `path` one view after another
/// for `duration`, and each at least `at_least` times (a slow page is still seen enough).
pub async fn views(
    address: &str,
    cookie: &str,
    path: &str,
    clients: usize,
    duration: Duration,
    at_least: usize,
) -> Load {
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (address, cookie, path) = (address.to_owned(), cookie.to_owned(), path.to_owned());
            tokio::spawn(async move {
                let mut client = Client::open(&address, &cookie).await;
                let mut latencies = Vec::new();
                while started.elapsed() < duration || latencies.len() < at_least {
                    latencies.push(client.view(&path).await.as_secs_f64() * 1000.0);
                }
                latencies
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.expect("client"));
    }
    Load::of(all, started.elapsed())
}
