//! Presence as Twilio's reachability: a user `is_online` while they hold a
//! `/v1/Stream` open on any instance, and `userUpdated` tells who shares a conversation with them.
//!
//! Design. Each instance counts its own open streams per identity in memory
//! ([`Presence::connect`] hands out a guard that counts one down when the
//! stream ends, however it ends). One task per instance ([`spawn`]) brings the
//! store in line with those counts: the store holds a row (identity, instance)
//! for each identity this instance has a stream of, and a lease per instance
//! (`presence_instances.lease_until`) that the task renews every third of the
//! lease. Each pass is one write transaction ([`reconcile`]) that renews the
//! lease, sweeps the rows of every instance whose lease lapsed (killed with
//! `kill -9`, or cut off from the database), and adds and deletes this
//! instance's rows; the rows it found are this instance's truth, so a failed
//! pass is simply redone by the next one.
//!
//! Who is told: a row's existence is what the streams were told. A pass
//! compares, for every identity it touches, "has any row" before and after
//! its changes (the sweep's included) and sends `userUpdated` (`updated`:
//! `reachabilityOnline`) for each that flipped. On PostgreSQL every write
//! transaction of the cluster holds the event log's head (see `store::eventlog`),
//! so passes of different instances never interleave: the first stream of a
//! user anywhere says online once, the last one closing says offline once, and
//! a dead instance's users go offline once, when some other instance sweeps it,
//! within a lease and a third of it. Events travel the event log like any other.
//!
//! Reads (`GET /v1/Users/{id}`) count only rows of instances whose lease runs.
//! A user never online reads `false` (Twilio says null; no history is kept here).
//! With the service's `reachability_enabled` off, rows are still kept (turning
//! it on is right at once) but nothing is told and both fields are null.
//! `is_notifiable` is about push registrations, which this server has none of:
//! per Twilio it is null for a user who never had one, so it is always null here.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, watch};

use crate::api::User;
use crate::api::stream::{EventName, user_updated};
use crate::api::time::now_unix;
use crate::server::AppState;
use crate::server::error::ApiResult;
use crate::server::hub::{Audience, Effect};
use crate::server::render::{Urls, to_value};
use crate::server::store::rows::UserRow;
use crate::server::store::{Connection, configuration, presence as rows, users};

/// How long an instance's streams count after its last renewal (by default).
pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);

/// This instance's open streams per identity, and the bell of its task.
pub struct Presence {
    instance: String,
    lease_secs: i64,
    counts: Mutex<HashMap<String, usize>>,
    changed: Notify,
}

/// One open stream of `identity`: counted while it lives.
pub struct Online {
    presence: Arc<Presence>,
    identity: String,
}

impl Drop for Online {
    fn drop(&mut self) {
        let mut counts = self.presence.lock();
        let last = match counts.get_mut(&self.identity) {
            Some(n) if *n > 1 => {
                *n -= 1;
                false
            }
            _ => true,
        };
        if last {
            counts.remove(&self.identity);
            drop(counts);
            self.presence.changed.notify_one();
        }
    }
}

impl Presence {
    /// Presence for `instance` (the store's name for this server) with leases
    /// of `lease` (whole seconds, at least one).
    pub fn new(instance: String, lease: Duration) -> Arc<Self> {
        let lease_secs = i64::try_from(lease.as_secs()).unwrap_or(i64::MAX).max(1);
        Arc::new(Self { instance, lease_secs, counts: Mutex::new(HashMap::new()), changed: Notify::new() })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, usize>> {
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A stream of `identity` opened; it counts until the guard drops.
    pub fn connect(self: &Arc<Self>, identity: &str) -> Online {
        let first = {
            let mut counts = self.lock();
            let n = counts.entry(identity.to_owned()).or_insert(0);
            *n += 1;
            *n == 1
        };
        if first {
            self.changed.notify_one();
        }
        Online { presence: self.clone(), identity: identity.to_owned() }
    }

    /// The identities with a stream open here now.
    fn wanted(&self) -> BTreeSet<String> {
        self.lock().keys().cloned().collect()
    }

    /// How often the lease is renewed (and lapsed ones swept).
    fn renew_every(&self) -> Duration {
        Duration::from_millis(u64::try_from(self.lease_secs).unwrap_or(1).saturating_mul(1000) / 3)
    }
}

/// Runs this instance's presence task until `stop`; then it takes its rows
/// away (its users go offline unless online elsewhere) and ends.
pub fn spawn(state: Arc<AppState>, mut stop: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let presence = state.presence.clone();
        let mut tick = tokio::time::interval(presence.renew_every());
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = presence.changed.notified() => {}
                _ = tick.tick() => {}
                _ = stop.changed() => break,
            }
            pass(&state, Some(presence.wanted())).await;
        }
        pass(&state, None).await;
    })
}

/// One pass (`wanted` None: this instance stops and drops its lease).
async fn pass(state: &Arc<AppState>, wanted: Option<BTreeSet<String>>) {
    let (instance, lease) = (state.presence.instance.clone(), state.presence.lease_secs);
    let urls = state.default_urls();
    let done =
        state.store.write(move |conn| Ok(((), reconcile(conn, &instance, lease, wanted.as_ref(), &urls)?))).await;
    if let Err(e) = done {
        tracing::warn!("presence: a pass failed (the next one redoes it): {}", e.0.message);
    }
}

/// The transaction of a pass: renews `instance`'s lease, sweeps lapsed ones,
/// makes this instance's rows `wanted` (None: removes them and the lease), and
/// returns the `userUpdated` events owed.
fn reconcile(
    conn: &Connection,
    instance: &str,
    lease_secs: i64,
    wanted: Option<&BTreeSet<String>>,
    urls: &Urls,
) -> ApiResult<Vec<Effect>> {
    let now = now_unix();
    let stopping = wanted.is_none();
    if !stopping {
        rows::renew_lease(conn, instance, now.saturating_add(lease_secs))?;
    }
    let held: BTreeSet<String> = rows::of_instance(conn, instance)?.into_iter().collect();
    let empty = BTreeSet::new();
    let wanted = wanted.unwrap_or(&empty);
    let mut touched: BTreeSet<String> = held.symmetric_difference(wanted).cloned().collect();
    touched.extend(rows::lapsed(conn, now)?);
    let before: Vec<bool> = touched.iter().map(|i| rows::any_row(conn, i)).collect::<Result<_, _>>()?;
    rows::sweep(conn, now)?;
    for identity in wanted.difference(&held) {
        rows::insert(conn, instance, identity)?;
    }
    for identity in held.difference(wanted) {
        rows::delete(conn, instance, identity)?;
    }
    if stopping {
        rows::drop_instance(conn, instance)?;
    }
    if touched.is_empty() {
        return Ok(Vec::new());
    }
    if !reachability_enabled(conn, &urls.service_sid)? {
        return Ok(Vec::new());
    }
    let mut effects = Vec::new();
    for (identity, was) in touched.iter().zip(before) {
        let now_online = rows::any_row(conn, identity)?;
        if was != now_online
            && let Some(u) = users::get(conn, identity)?
        {
            effects.push(user_updated(conn, urls, &u, vec![user_updated::REACHABILITY_ONLINE.to_owned()])?);
        }
    }
    Ok(effects)
}

fn reachability_enabled(conn: &Connection, service_sid: &str) -> ApiResult<bool> {
    Ok(configuration::service(conn, service_sid)?.is_some_and(|c| c.reachability_enabled))
}

/// `u`'s resource as a fetch shows it: with `is_online` and `is_notifiable`
/// (null while the service's reachability is off; `is_notifiable` always, see the module doc).
pub fn user_json(conn: &Connection, urls: &Urls, u: &UserRow) -> ApiResult<User> {
    let mut json = urls.user_json(u);
    if reachability_enabled(conn, &urls.service_sid)? {
        json.is_online = Some(rows::is_online(conn, &u.identity, now_unix())?);
    }
    Ok(json)
}

/// A `userUpdated` event about `u` naming `reasons`, to `u` and everyone who
/// shares a conversation with them.
pub fn user_updated(conn: &Connection, urls: &Urls, u: &UserRow, reasons: Vec<String>) -> ApiResult<Effect> {
    let mut audience = users::co_participants(conn, &u.identity)?;
    if !audience.contains(&u.identity) {
        audience.push(u.identity.clone());
    }
    let json = to_value(&user_json(conn, urls, u)?);
    Ok(Effect::send_updated(Audience::Users(audience), EventName::UserUpdated, json, reasons))
}
