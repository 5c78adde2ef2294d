//! The delivery task: takes due deliveries from the outbox (the head of each
//! lane only, so each conversation's events reach a receiver in order), sends
//! them a few at a time off the write path, then deletes them or schedules a
//! retry with back-off. Bounded in every direction: attempts, age, outbox rows
//! and requests in flight; a hung receiver holds one slot until the timeout.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;

use super::send::{Answer, send};
use crate::api::time::now_unix;
use crate::server::AppState;
use crate::server::store::Kind;
use crate::server::store::outbox::{self, Delivery, now_ms};

/// How deliveries are retried and bounded. The defaults are documented in the README.
#[derive(Debug, Clone)]
pub struct DeliveryPolicy {
    /// A receiver that has not answered by then has failed this attempt (Twilio's 5 s).
    pub timeout: Duration,
    /// The wait after the first failure; it doubles with each failure after.
    pub first_retry: Duration,
    /// The longest wait between two attempts.
    pub max_retry: Duration,
    /// Attempts in all (the first one included) before a delivery is given up.
    pub max_attempts: i64,
    /// A delivery older than this is given up (not sent again).
    pub max_age: Duration,
    /// Most deliveries kept; past it the oldest are dropped (a dead receiver
    /// cannot grow the store without limit).
    pub max_outbox: i64,
    /// Requests in flight at once (each lane has at most one).
    pub concurrency: usize,
}

impl Default for DeliveryPolicy {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(5),
            first_retry: Duration::from_secs(1),
            max_retry: Duration::from_secs(300),
            max_attempts: 15,
            max_age: Duration::from_secs(3600),
            max_outbox: 100_000,
            concurrency: 16,
        }
    }
}

impl DeliveryPolicy {
    /// The wait after `failures` failed attempts (1, 2, 4, … capped).
    pub fn backoff(&self, failures: i64) -> Duration {
        let doublings = u32::try_from(failures.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
        self.first_retry.saturating_mul(2u32.saturating_pow(doublings)).min(self.max_retry)
    }
}

/// How one attempt ended.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Delivered,
    /// 5xx, 429, refused, reset or timed out: worth another try.
    Retry(String),
    /// Any other answer (a 4xx): the receiver does not want it; retrying would not help.
    Rejected(u16),
}

fn outcome(answer: Answer) -> Outcome {
    match answer {
        Answer::Status(s, _) if (200..300).contains(&s) => Outcome::Delivered,
        Answer::Status(s, _) if s >= 500 || s == 429 => Outcome::Retry(format!("HTTP {s}")),
        Answer::Status(s, _) => Outcome::Rejected(s),
        Answer::Failed(e) => Outcome::Retry(e),
    }
}

/// Lanes looked at per pass (each is one index probe).
const MAX_LANES: usize = 10_000;
/// Idle poll, in case a wake-up was missed.
const POLL: Duration = Duration::from_secs(1);
/// How often the outbox bound is checked, and the most rows dropped per write.
const TRIM_EVERY: Duration = Duration::from_secs(2);
const TRIM_BATCH: i64 = 2_000;

/// Starts the delivery task; it stops when `stop` turns true.
pub fn spawn(state: Arc<AppState>, policy: DeliveryPolicy, mut stop: watch::Receiver<bool>) {
    tokio::spawn(async move {
        let tap = state.store.webhooks.clone();
        // One process owns a SQLite store: claims left by a killed one are void.
        // On PostgreSQL other instances hold live claims; a dead one's lapse.
        if state.store.kind() == Kind::Sqlite
            && let Err(e) = state.store.write(|conn| Ok((outbox::release_all(conn)?, Vec::new()))).await
        {
            tracing::warn!("webhook outbox: releasing old claims failed: {}", e.0);
        }
        let mut in_flight: JoinSet<i64> = JoinSet::new();
        let mut busy: HashSet<i64> = HashSet::new();
        let mut last_trim = tokio::time::Instant::now();
        loop {
            let wake = match start_due(&state, &policy, &mut in_flight, &mut busy).await {
                Ok(w) => w,
                Err(e) => {
                    tracing::warn!("webhook outbox: {e}");
                    POLL
                }
            };
            if last_trim.elapsed() >= TRIM_EVERY {
                last_trim = tokio::time::Instant::now();
                trim(&state, &policy).await;
            }
            tokio::select! {
                Some(done) = in_flight.join_next(), if !in_flight.is_empty() => {
                    if let Ok(id) = done {
                        busy.remove(&id);
                    }
                }
                _ = tap.due() => {}
                _ = tokio::time::sleep(wake) => {}
                _ = stop.changed() => break,
            }
        }
        in_flight.abort_all();
    });
}

/// Claims the due heads (up to the free slots) and starts sending them.
/// Returns how long until the next head falls due.
async fn start_due(
    state: &Arc<AppState>,
    policy: &DeliveryPolicy,
    in_flight: &mut JoinSet<i64>,
    busy: &mut HashSet<i64>,
) -> Result<Duration, String> {
    let free = policy.concurrency.saturating_sub(in_flight.len());
    if free == 0 {
        return Ok(POLL);
    }
    let heads = state.store.read(|conn| Ok(outbox::heads(conn, MAX_LANES)?)).await.map_err(|e| e.0.message)?;
    let now = now_ms();
    let mut wake = POLL;
    let (mut due, mut expired) = (Vec::new(), Vec::new());
    for h in heads {
        if busy.contains(&h.id) || h.claimed_until.is_some_and(|c| c > now) {
            continue;
        }
        if h.next_attempt_at > now {
            wake = wake.min(Duration::from_millis((h.next_attempt_at - now) as u64));
            continue;
        }
        if now_unix() - h.created > policy.max_age.as_secs() as i64 {
            expired.push(h);
        } else if due.len() < free {
            due.push(h);
        }
    }
    let claim_until = now + (policy.timeout.as_millis() as i64) * 2 + 1000;
    let ids: Vec<i64> = due.iter().map(|d| d.id).collect();
    let gone: Vec<i64> = expired.iter().map(|d| d.id).collect();
    let claimed = state
        .store
        .write(move |conn| {
            for id in &gone {
                outbox::remove(conn, *id)?;
            }
            let mut claimed = Vec::new();
            for id in ids {
                if outbox::claim(conn, id, now, claim_until)? {
                    claimed.push(id);
                }
            }
            Ok((claimed, Vec::new()))
        })
        .await
        .map_err(|e| e.0.message)?;
    for d in &expired {
        tracing::warn!(
            "webhook to {} given up: older than {:?} (after {} attempts)",
            d.url,
            policy.max_age,
            d.attempts
        );
    }
    if !expired.is_empty() {
        // Their lanes have new heads.
        state.store.webhooks.wake();
    }
    for d in due.into_iter().filter(|d| claimed.contains(&d.id)) {
        busy.insert(d.id);
        in_flight.spawn(attempt(state.clone(), policy.clone(), d));
    }
    Ok(wake)
}

/// One attempt at one delivery, and its record.
async fn attempt(state: Arc<AppState>, policy: DeliveryPolicy, d: Delivery) -> i64 {
    let mut params = d.params.clone();
    params.push(("RetryCount".into(), d.attempts.to_string()));
    let answer = send(&state.credentials.auth_token, &d.url, &d.method, &params, &d.token, policy.timeout).await;
    let result = outcome(answer);
    let failures = d.attempts + 1;
    let (id, url) = (d.id, d.url.clone());
    let give_up = match &result {
        Outcome::Delivered => None,
        Outcome::Rejected(status) => Some(format!("the receiver answered {status}")),
        Outcome::Retry(why) if failures >= policy.max_attempts => Some(format!("{why}, after {failures} attempts")),
        Outcome::Retry(_) => None,
    };
    let retry_at = now_ms() + policy.backoff(failures).as_millis() as i64;
    let delivered_or_gone = result == Outcome::Delivered || give_up.is_some();
    let recorded = state
        .store
        .write(move |conn| {
            if delivered_or_gone {
                outbox::remove(conn, id)?;
            } else {
                outbox::retry_at(conn, id, failures, retry_at)?;
            }
            Ok(((), Vec::new()))
        })
        .await;
    if let Err(e) = recorded {
        tracing::warn!("webhook outbox: recording a delivery failed: {}", e.0);
    }
    match (&result, &give_up) {
        (_, Some(why)) => tracing::warn!("webhook to {url} given up: {why}"),
        (Outcome::Retry(why), None) => tracing::info!("webhook to {url} failed ({why}); retrying"),
        _ => {}
    }
    // The lane's next delivery (or this one's retry) may now be due.
    state.store.webhooks.wake();
    id
}

/// Drops the oldest deliveries while the outbox is over its bound.
async fn trim(state: &Arc<AppState>, policy: &DeliveryPolicy) {
    let max = policy.max_outbox;
    let dropped = state
        .store
        .write(move |conn| {
            let over = outbox::count(conn)? - max;
            Ok((if over > 0 { outbox::drop_oldest(conn, over.min(TRIM_BATCH))? } else { 0 }, Vec::new()))
        })
        .await;
    match dropped {
        Ok(0) => {}
        Ok(n) => tracing::warn!("webhook outbox over its bound of {max}: dropped the {n} oldest deliveries"),
        Err(e) => tracing::warn!("webhook outbox: trimming failed: {}", e.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_doubles_up_to_its_cap() {
        let p = DeliveryPolicy::default();
        let waits: Vec<u64> = (1..=12).map(|n| p.backoff(n).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]);
        assert_eq!(p.backoff(1_000), p.max_retry);
    }

    #[test]
    fn only_failures_worth_repeating_are_retried() {
        assert_eq!(outcome(Answer::Status(204, String::new())), Outcome::Delivered);
        assert!(matches!(outcome(Answer::Status(503, String::new())), Outcome::Retry(_)));
        assert!(matches!(outcome(Answer::Status(429, String::new())), Outcome::Retry(_)));
        assert!(matches!(outcome(Answer::Failed("refused".into())), Outcome::Retry(_)));
        assert_eq!(outcome(Answer::Status(404, String::new())), Outcome::Rejected(404));
    }
}
