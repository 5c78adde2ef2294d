//! What the write path and the delivery task share: whether any webhook may be
//! configured (so writes skip all webhook work until one is), and the bell the
//! writer rings after committing deliveries.

use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::Notify;

/// Shared by the writer thread, the webhook routes and the delivery task.
pub struct Tap {
    /// Set (never cleared while running) once any webhook is configured.
    configured: AtomicBool,
    /// Deliveries were enqueued in the transaction being committed.
    pending: AtomicBool,
    due: Notify,
    pub account_sid: String,
    pub service_sid: String,
}

impl Tap {
    pub fn new(account_sid: String, service_sid: String, configured: bool) -> Self {
        Self {
            configured: AtomicBool::new(configured),
            pending: AtomicBool::new(false),
            due: Notify::new(),
            account_sid,
            service_sid,
        }
    }

    /// False only while no webhook has ever been configured in this store.
    pub fn maybe_configured(&self) -> bool {
        self.configured.load(Ordering::Acquire)
    }

    /// Called by a configuration write, inside its transaction.
    pub fn mark_configured(&self) {
        self.configured.store(true, Ordering::Release);
    }

    /// Called inside a transaction that enqueued deliveries.
    pub fn enqueued(&self) {
        self.pending.store(true, Ordering::Release);
    }

    /// Called by the writer after COMMIT: wakes the delivery task if the batch
    /// enqueued anything (after, so its reads see the new rows).
    pub fn committed(&self) {
        if self.pending.swap(false, Ordering::AcqRel) {
            self.due.notify_one();
        }
    }

    /// Wakes the delivery task (also used when a delivery finished).
    pub fn wake(&self) {
        self.due.notify_one();
    }

    /// Resolves at the next wake-up (at once if one came since the last call).
    pub async fn due(&self) {
        self.due.notified().await;
    }
}
