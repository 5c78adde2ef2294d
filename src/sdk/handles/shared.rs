//! What every handle of one `Client` holds: the REST wire, the engine's model
//! and link, the way to the engine task (typing), and the sink that turns the
//! changes a handle's REST reply made into events. Also the field parsers the
//! handles share.

use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::Value;
use time::OffsetDateTime;
use tokio::sync::mpsc;

use crate::api;
use crate::sdk::engine::{Link, Sink};
use crate::sdk::state::change::Change;
use crate::sdk::state::model::Model;
use crate::sdk::wire::transport::Rest;

/// What the `Client` asks of its engine task.
#[derive(Debug)]
pub(crate) enum Control {
    Typing(String),
    UpdateToken(String),
    Shutdown,
}

pub(crate) struct Shared {
    pub rest: Rest,
    pub identity: String,
    pub model: Arc<Mutex<Model>>,
    pub link: Arc<Link>,
    /// Weak, so that handles do not keep the engine task running.
    pub control: mpsc::WeakUnboundedSender<Control>,
    pub sink: Arc<dyn Sink>,
}

impl Shared {
    /// The model, locked (never held across an await).
    pub fn model(&self) -> MutexGuard<'_, Model> {
        self.model.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Applies a REST reply to the model and fires the events of what it changed.
    pub async fn apply(&self, f: impl FnOnce(&mut Model) -> Vec<Change>) {
        let changes = f(&mut self.model());
        if !changes.is_empty() {
            self.sink.deliver(changes).await;
        }
    }

    /// Sends a control to the engine task; `false` when it is gone.
    pub fn control(&self, c: Control) -> bool {
        self.control.upgrade().is_some_and(|tx| tx.send(c).is_ok())
    }
}

pub(crate) fn parse_date(s: &str) -> Option<OffsetDateTime> {
    api::time::parse_unix(s).and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok())
}

pub(crate) fn parse_attributes(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or(Value::Object(Default::default()))
}
