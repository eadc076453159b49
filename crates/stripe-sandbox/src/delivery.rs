//! Webhook delivery: one task POSTs events to Obole in the order they were generated, one at
//! a time, signed like Stripe, retrying failures with a short backoff before giving up.

use std::sync::{Arc, Weak};
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use super::persist::Shared;
use super::state::Delivery;

/// Waits between attempts; after the last one the event is given up (and recorded so).
const BACKOFF: [Duration; 5] = [
    Duration::from_millis(50),
    Duration::from_millis(250),
    Duration::from_secs(1),
    Duration::from_secs(3),
    Duration::from_secs(8),
];

struct Job {
    index: usize,
    payload: String,
}

/// The sending side, kept in `State`; dropping it stops the task.
#[derive(Debug)]
pub struct Queue {
    jobs: mpsc::UnboundedSender<Job>,
    pending: Arc<watch::Sender<usize>>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job").field("index", &self.index).finish()
    }
}

/// A queue nobody listens to (a state just loaded, before `Sandbox::new` gives it the real
/// one): pushing to it counts nothing as pending.
impl Default for Queue {
    fn default() -> Queue {
        channel().0
    }
}

impl Queue {
    /// Queues the event at `index` of the event log.
    pub fn push(&self, index: usize, payload: String) {
        self.pending.send_modify(|n| *n += 1);
        if self.jobs.send(Job { index, payload }).is_err() {
            self.pending.send_modify(|n| *n = n.saturating_sub(1));
        }
    }
}

/// Where and how to deliver.
pub struct Target {
    pub url: String,
    pub secret: String,
}

/// Resolves once nothing is queued or being delivered.
pub async fn idle(pending: &watch::Sender<usize>) {
    let mut receiver = pending.subscribe();
    // The sender lives as long as the sandbox, so this only fails if it is gone: idle too.
    let _ = receiver.wait_for(|n| *n == 0).await;
}

/// Creates the queue; `start` must then be given the receiving half.
pub fn channel() -> (Queue, Receiver, Arc<watch::Sender<usize>>) {
    let (jobs, receiver) = mpsc::unbounded_channel();
    let pending = Arc::new(watch::Sender::new(0));
    (
        Queue {
            jobs,
            pending: pending.clone(),
        },
        Receiver(receiver),
        pending,
    )
}

/// The receiving half of the queue, consumed by `start`.
pub struct Receiver(mpsc::UnboundedReceiver<Job>);

/// Spawns the delivery task. It holds the state weakly, so dropping the sandbox ends it.
pub fn start(
    target: Target,
    receiver: Receiver,
    state: Weak<Shared>,
    pending: Arc<watch::Sender<usize>>,
) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap_or_default();
    let mut jobs = receiver.0;
    tokio::spawn(async move {
        while let Some(job) = jobs.recv().await {
            let outcome = deliver(&client, &target, &job.payload).await;
            // Recorded (and saved) so that a restart does not deliver it again.
            if let Some(state) = state.upgrade()
                && let Some(event) = state.lock().events.get_mut(job.index)
            {
                event.delivery = outcome;
            }
            pending.send_modify(|n| *n = n.saturating_sub(1));
        }
    });
}

async fn deliver(client: &reqwest::Client, target: &Target, payload: &str) -> Delivery {
    let mut attempts = 0;
    let mut error = String::new();
    for wait in std::iter::once(Duration::ZERO).chain(BACKOFF) {
        tokio::time::sleep(wait).await;
        attempts += 1;
        // Stripe signs each attempt with the current (real) time; Obole checks it against
        // its own clock with a 300 s tolerance.
        let signature = stripe_webhook::Webhook::generate_test_header(
            payload,
            &target.secret,
            Some(crate::clock::now()),
        );
        let sent = client
            .post(&target.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("Stripe-Signature", signature)
            .body(payload.to_owned())
            .send()
            .await;
        match sent {
            Ok(response) if response.status().is_success() => {
                return Delivery::Delivered { attempts };
            }
            Ok(response) => error = format!("HTTP {}", response.status().as_u16()),
            Err(e) => error = e.without_url().to_string(),
        }
    }
    tracing::warn!(attempts, %error, "sandbox gave up delivering a webhook event");
    Delivery::Failed { attempts, error }
}
