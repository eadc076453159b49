//! A small SMTP server for the tests: it speaks enough of RFC 5321 over real TCP for lettre
//! (EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT), keeps what it received, and can refuse
//! recipients or stop listening, to play a server that rejects or an outage.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// One message as the server received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub mail_from: String,
    pub recipients: Vec<String>,
    /// The message: headers and body, dot-stuffing undone, CRLF line ends.
    pub data: String,
}

impl Received {
    /// An unfolded header's value (the first of that name).
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next().unwrap_or_default();
        let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
        unfolded.split("\r\n").find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name)
                .then(|| value.trim().to_owned())
        })
    }
}

#[derive(Default)]
struct State {
    received: Vec<Received>,
    /// Recipients answered `550` (a permanent refusal).
    refused: Vec<String>,
}

pub struct SmtpSink {
    pub port: u16,
    state: Arc<Mutex<State>>,
    task: Option<JoinHandle<()>>,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        Self::start_on(0).await
    }

    /// Listens on `port` (0: any free one).
    pub async fn start_on(port: u16) -> SmtpSink {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("SMTP sink binds");
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State::default()));
        let shared = Arc::clone(&state);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                // Replies go out at once, as a mail server's do (no Nagle delay to measure).
                let _ = stream.set_nodelay(true);
                tokio::spawn(serve(stream, Arc::clone(&shared)));
            }
        });
        SmtpSink {
            port,
            state,
            task: Some(task),
        }
    }

    /// `smtp://127.0.0.1:{port}` (plain SMTP, no authentication), for `SMTP_URL`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn refuse(&self, recipient: &str) {
        self.state
            .lock()
            .unwrap()
            .refused
            .push(recipient.to_owned());
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }

    /// Stops listening: connections are refused from now on, as in an outage.
    pub fn stop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }

    /// Waits (up to 20 s) until `count` messages arrived, and returns them.
    pub async fn wait_for(&self, count: usize) -> Vec<Received> {
        for _ in 0..400 {
            let received = self.received();
            if received.len() >= count {
                return received;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!(
            "expected {count} messages, the SMTP sink received {}",
            self.received().len()
        );
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn serve(stream: TcpStream, state: Arc<Mutex<State>>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    let _ = write.write_all(&reply("220 sink ESMTP")).await;
    let (mut from, mut recipients) = (String::new(), Vec::new());
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
            return;
        }
        let command = line.trim_end().to_owned();
        let upper = command.to_ascii_uppercase();
        let answer = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            "250-sink\r\n250 8BITMIME".to_owned()
        } else if upper.starts_with("MAIL FROM:") {
            from = command[10..].trim().to_owned();
            recipients.clear();
            "250 OK".to_owned()
        } else if upper.starts_with("RCPT TO:") {
            let recipient = command[8..].trim().trim_matches(['<', '>']).to_owned();
            if state.lock().unwrap().refused.contains(&recipient) {
                "550 5.1.1 mailbox unavailable".to_owned()
            } else {
                recipients.push(recipient);
                "250 OK".to_owned()
            }
        } else if upper == "DATA" {
            let _ = write.write_all(&reply("354 go ahead")).await;
            let mut data = String::new();
            loop {
                line.clear();
                if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                    return;
                }
                if line == ".\r\n" {
                    break;
                }
                let unstuffed = line.strip_prefix('.').unwrap_or(&line);
                data.push_str(unstuffed);
            }
            state.lock().unwrap().received.push(Received {
                mail_from: from.clone(),
                recipients: std::mem::take(&mut recipients),
                data,
            });
            "250 OK queued".to_owned()
        } else if upper == "QUIT" {
            let _ = write.write_all(&reply("221 bye")).await;
            return;
        } else if upper == "RSET" || upper == "NOOP" {
            "250 OK".to_owned()
        } else {
            "502 command not implemented".to_owned()
        };
        if write.write_all(&reply(&answer)).await.is_err() {
            return;
        }
    }
}

/// A reply line, CRLF-terminated.
fn reply(text: &str) -> Vec<u8> {
    format!("{text}\r\n").into_bytes()
}
