//! User operations: create, update, delete. Users are also made implicitly
//! when an identity first appears (`AppState::ensure_user`, membership).

use crate::server::store::Connection;

use crate::api::User;
use crate::api::error::ErrorCode;
use crate::api::params::UserParams;
use crate::api::sid::{new_sid, prefix};
use crate::api::stream::user_updated;
use crate::api::time::now_unix;
use crate::server::error::{ApiError, ApiResult};
use crate::server::extract::Ctx;
use crate::server::lookup;
use crate::server::presence;
use crate::server::render::to_value;
use crate::server::rules;
use crate::server::rules::permissions::RoleType;
use crate::server::store::rows::UserRow;
use crate::server::store::{configuration, users};
use crate::server::validate;
use crate::server::webhooks::{self, origin::Origin};

/// The validated fields of a user create or update; `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct UserChange {
    pub friendly_name: Option<String>,
    pub attributes: Option<String>,
    /// `Some(None)`: `RoleSid=` sent empty, clearing it.
    pub role_sid: Option<Option<String>>,
}

impl UserChange {
    pub fn from_params(p: &UserParams) -> ApiResult<Self> {
        let mut change = Self::default();
        if let Some(n) = &p.friendly_name {
            change.friendly_name = Some(validate::name("FriendlyName", n)?);
        }
        if let Some(a) = &p.attributes {
            change.attributes = Some(validate::attributes("Attributes", a, validate::USER_ATTRIBUTES_BYTES)?);
        }
        if let Some(r) = &p.role_sid {
            if !r.is_empty() && !crate::api::sid::is_sid("RL", r) {
                return Err(ApiError::invalid("RoleSid", "must be an RL SID"));
            }
            change.role_sid = Some(Some(r.clone()).filter(|r| !r.is_empty()));
        }
        Ok(change)
    }

    fn apply(&self, u: &mut UserRow) {
        if let Some(n) = &self.friendly_name {
            u.friendly_name = Some(n.clone());
        }
        if let Some(a) = &self.attributes {
            u.attributes = a.clone();
        }
        if let Some(r) = &self.role_sid {
            u.role_sid = r.clone();
        }
    }
}

/// The service role `RoleSid` names (it must be one), else the service's default.
fn service_role(conn: &Connection, service_sid: &str, role_sid: Option<String>) -> ApiResult<Option<String>> {
    match role_sid {
        Some(r) => Ok(Some(lookup::role_param(conn, "RoleSid", &r, RoleType::Service)?.sid)),
        None => Ok(configuration::service(conn, service_sid)?.unwrap_or_default().default_chat_service_role_sid),
    }
}

/// Operation: `ctx.caller` creates a user as `p` says (checked only once the
/// caller may create users, so a person learns nothing from the validation).
pub async fn create(ctx: &Ctx, p: &UserParams) -> ApiResult<UserRow> {
    rules::may_create_user(&ctx.caller)?;
    let identity = validate::identity(p.identity.as_deref().ok_or_else(|| ApiError::missing("Identity"))?)?;
    let change = UserChange::from_params(p)?;
    let now = now_unix();
    let mut u = UserRow {
        id: 0,
        sid: new_sid(prefix::USER),
        identity,
        friendly_name: None,
        attributes: "{}".into(),
        role_sid: None,
        date_created: now,
        date_updated: now,
    };
    change.apply(&mut u);
    let (tap, origin) = (ctx.state.store.webhooks.clone(), Origin::current());
    ctx.write(move |conn, _, urls| {
        u.role_sid = service_role(conn, &urls.service_sid, u.role_sid.take())?;
        if users::get(conn, &u.identity)?.is_some() {
            return Err(ApiError::new(ErrorCode::UserExists, format!("User {} already exists", u.identity)));
        }
        users::insert(conn, &u)?;
        // No stream event tells of a new user, so its webhook is enqueued here.
        webhooks::capture::user_added(conn, &tap, origin.as_ref(), &to_value(&urls.user_json(&u)))?;
        Ok((u, Vec::new()))
    })
    .await
}

/// Operation: `ctx.caller` changes user `user` as `change` says; the user as
/// a fetch shows it (reachability filled, like the event's data).
pub async fn update(ctx: &Ctx, user: String, change: UserChange) -> ApiResult<User> {
    ctx.write(move |conn, caller, urls| {
        let mut u = lookup::user(conn, &user)?;
        rules::may_update_user(conn, caller, &u, change.role_sid.is_some())?;
        let old = u.clone();
        change.apply(&mut u);
        u.role_sid = service_role(conn, &urls.service_sid, u.role_sid.take())?;
        u.date_updated = now_unix();
        users::update(conn, &u)?;
        let mut reasons = Vec::new();
        if old.friendly_name != u.friendly_name {
            reasons.push(user_updated::FRIENDLY_NAME.to_owned());
        }
        if old.attributes != u.attributes {
            reasons.push(user_updated::ATTRIBUTES.to_owned());
        }
        // Everyone who shares a conversation with the user sees the change.
        let effect = presence::user_updated(conn, urls, &u, reasons)?;
        Ok((presence::user_json(conn, urls, &u)?, vec![effect]))
    })
    .await
}

/// Operation: `ctx.caller` deletes user `user`.
pub async fn delete(ctx: &Ctx, user: String) -> ApiResult<()> {
    rules::may_delete_user(&ctx.caller)?;
    let identity = ctx
        .write(move |conn, _, _| {
            let u = lookup::user(conn, &user)?;
            users::delete(conn, &u.sid)?;
            Ok((u.identity, Vec::new()))
        })
        .await?;
    ctx.state.forget_user(&identity);
    Ok(())
}
