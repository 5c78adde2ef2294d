//! `/Users[/{Sid}]`, addressed by SID or identity. The account manages users;
//! a person may see themselves and those they share a conversation with, and
//! change only themselves.

use std::sync::Arc;

use crate::server::store::Connection;
use axum::Router;
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

use super::{created, no_content, ok};
use crate::api::error::ErrorCode;
use crate::api::params::{ListQuery, UserParams};
use crate::api::sid::{new_sid, prefix};
use crate::api::stream::EventName;
use crate::api::time::now_unix;
use crate::server::AppState;
use crate::server::auth::Caller;
use crate::server::error::{ApiError, ApiResult};
use crate::server::extract::{Ctx, Form, Path, Query};
use crate::server::hub::{Audience, Effect};
use crate::server::paging::{self, PageRequest};
use crate::server::render::to_value;
use crate::server::store::rows::UserRow;
use crate::server::store::users;
use crate::server::validate;

pub fn router() -> Router<Arc<AppState>> {
    Router::new().route("/Users", get(list).post(create)).route("/Users/{user}", get(fetch).post(update).delete(remove))
}

#[derive(Deserialize)]
pub struct UserPath {
    user: String,
}

pub fn user(conn: &Connection, key: &str) -> ApiResult<UserRow> {
    users::get(conn, key)?.ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("User {key} was not found")))
}

/// A person may look at themselves and at anyone they share a conversation with.
fn may_see(conn: &Connection, caller: &Caller, u: &UserRow) -> ApiResult<()> {
    match caller {
        Caller::Admin => Ok(()),
        Caller::Person(me) if *me == u.identity || users::share_a_conversation(conn, me, &u.identity)? => Ok(()),
        Caller::Person(_) => Err(ApiError::forbidden("You may only see users who share a conversation with you")),
    }
}

fn apply(u: &mut UserRow, p: &UserParams) -> ApiResult<()> {
    if let Some(n) = &p.friendly_name {
        u.friendly_name = Some(validate::name("FriendlyName", n)?);
    }
    if let Some(a) = &p.attributes {
        u.attributes = validate::attributes("Attributes", a, validate::USER_ATTRIBUTES_BYTES)?;
    }
    if let Some(r) = &p.role_sid {
        if !r.is_empty() && !crate::api::sid::is_sid("RL", r) {
            return Err(ApiError::invalid("RoleSid", "must be an RL SID"));
        }
        u.role_sid = Some(r.clone()).filter(|r| !r.is_empty());
    }
    Ok(())
}

async fn create(ctx: Ctx, Form(p): Form<UserParams>) -> ApiResult<Response> {
    if ctx.caller != Caller::Admin {
        return Err(ApiError::forbidden("Only the account may create users"));
    }
    let identity = validate::identity(p.identity.as_deref().ok_or_else(|| ApiError::missing("Identity"))?)?;
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
    apply(&mut u, &p)?;
    let body = ctx
        .write(move |conn, _, urls| {
            if users::get(conn, &u.identity)?.is_some() {
                return Err(ApiError::new(ErrorCode::UserExists, format!("User {} already exists", u.identity)));
            }
            users::insert(conn, &u)?;
            Ok((urls.user_json(&u), Vec::new()))
        })
        .await?;
    Ok(created(&body))
}

async fn list(ctx: Ctx, Query(q): Query<ListQuery>) -> ApiResult<Response> {
    let req = PageRequest::parse(&q, 50, 50, false)?;
    let urls = ctx.urls.clone();
    let me = ctx.identity().map(str::to_owned);
    let page = ctx
        .state
        .store
        .read(move |conn| {
            let slice = paging::fetch(&req, |w| users::scan(conn, me.as_deref(), w))?;
            Ok(paging::envelope(&req, slice, &urls.users(), &[], "users").map(|u| urls.user_json(u)))
        })
        .await?;
    Ok(ok(&page))
}

async fn fetch(ctx: Ctx, Path(path): Path<UserPath>) -> ApiResult<Response> {
    let body = ctx
        .read(move |conn, caller, urls| {
            let u = user(conn, &path.user)?;
            may_see(conn, caller, &u)?;
            Ok(urls.user_json(&u))
        })
        .await?;
    Ok(ok(&body))
}

async fn update(ctx: Ctx, Path(path): Path<UserPath>, Form(p): Form<UserParams>) -> ApiResult<Response> {
    let body = ctx
        .write(move |conn, caller, urls| {
            let mut u = user(conn, &path.user)?;
            if let Caller::Person(me) = &caller
                && *me != u.identity
            {
                return Err(ApiError::forbidden("A user may only update themselves"));
            }
            apply(&mut u, &p)?;
            u.date_updated = now_unix();
            users::update(conn, &u)?;
            let json = urls.user_json(&u);
            // Everyone who shares a conversation with the user sees the change.
            let mut audience: Vec<String> = conn
                .prepare_cached(
                    "SELECT DISTINCT o.identity FROM participants me JOIN participants o \
                     ON o.conversation_sid = me.conversation_sid WHERE me.identity = ?1 AND o.identity IS NOT NULL",
                )?
                .query_map([&u.identity], |r| r.get(0))?
                .collect::<crate::server::store::db::Result<_>>()?;
            if !audience.contains(&u.identity) {
                audience.push(u.identity.clone());
            }
            let effects = vec![Effect::send(Audience::Users(audience), EventName::UserUpdated, None, to_value(&json))];
            Ok((json, effects))
        })
        .await?;
    Ok(ok(&body))
}

async fn remove(ctx: Ctx, Path(path): Path<UserPath>) -> ApiResult<Response> {
    if ctx.caller != Caller::Admin {
        return Err(ApiError::forbidden("Only the account may delete users"));
    }
    let identity = ctx
        .state
        .store
        .write(move |conn| {
            let u = user(conn, &path.user)?;
            users::delete(conn, &u.sid)?;
            Ok((u.identity, Vec::new()))
        })
        .await?;
    ctx.state.forget_user(&identity);
    Ok(no_content())
}
