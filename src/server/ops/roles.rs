//! Role operations: create, update (permissions replaced), delete (not while a
//! default or held by anyone); and the default roles made on first start.

use crate::server::store::Connection;

use crate::api::sid::{new_sid, prefix};
use crate::server::error::{ApiError, ApiResult};
use crate::server::extract::Ctx;
use crate::server::lookup;
use crate::server::rules;
use crate::server::rules::permissions::{
    CONVERSATION_ROLE, CREATOR_ROLE, DEFAULT_ROLES, Permission, Permissions, RoleType, SERVICE_ROLE,
};
use crate::server::store::rows::{RoleRow, ServiceConfigurationRow};
use crate::server::store::{configuration, roles};
use crate::server::validate;

/// Role names are at most 64 characters (Twilio's limit).
const ROLE_NAME_CHARS: usize = 64;

/// `Permission` values checked against the vocabulary of `role_type`, as stored (JSON text).
fn permissions_json(role_type: RoleType, names: &[String]) -> ApiResult<String> {
    if names.is_empty() {
        return Err(ApiError::missing("Permission"));
    }
    let mut list = Vec::with_capacity(names.len());
    for name in names {
        let p = Permission::parse(name).filter(|p| role_type.allows(*p)).ok_or_else(|| {
            ApiError::invalid("Permission", format!("{name} is not a {} permission", role_type.as_str()))
        })?;
        list.push(p);
    }
    Ok(serde_json::to_string(&Permissions::of(&list).names()).unwrap_or_else(|_| "[]".into()))
}

/// Operation: `ctx.caller` creates a role.
pub async fn create(
    ctx: &Ctx,
    friendly_name: Option<String>,
    role_type: Option<String>,
    permissions: Vec<String>,
) -> ApiResult<RoleRow> {
    rules::may_manage_service(&ctx.caller)?;
    let friendly_name = friendly_name.filter(|n| !n.is_empty()).ok_or_else(|| ApiError::missing("FriendlyName"))?;
    if friendly_name.chars().count() > ROLE_NAME_CHARS {
        return Err(ApiError::invalid("FriendlyName", format!("is longer than {ROLE_NAME_CHARS} characters")));
    }
    let role_type = role_type.ok_or_else(|| ApiError::missing("Type"))?;
    let role_type =
        RoleType::parse(&role_type).ok_or_else(|| ApiError::invalid("Type", "must be conversation or service"))?;
    let now = crate::api::time::now_unix();
    let row = RoleRow {
        id: 0,
        sid: new_sid(prefix::ROLE),
        friendly_name: validate::name("FriendlyName", &friendly_name)?,
        role_type: role_type.as_str().to_owned(),
        permissions: permissions_json(role_type, &permissions)?,
        date_created: now,
        date_updated: now,
    };
    ctx.write(move |conn, _, _| {
        roles::insert(conn, &row)?;
        Ok((RoleRow { id: conn.last_insert_rowid(), ..row }, Vec::new()))
    })
    .await
}

/// Operation: `ctx.caller` replaces role `sid`'s permissions.
pub async fn update(ctx: &Ctx, sid: String, permissions: Vec<String>) -> ApiResult<RoleRow> {
    rules::may_manage_service(&ctx.caller)?;
    ctx.write(move |conn, _, _| {
        let mut role = lookup::role(conn, &sid)?;
        let role_type = RoleType::parse(&role.role_type).unwrap_or(RoleType::Conversation);
        role.permissions = permissions_json(role_type, &permissions)?;
        role.date_updated = crate::api::time::now_unix();
        roles::update_permissions(conn, &role)?;
        Ok((role, Vec::new()))
    })
    .await
}

/// Operation: `ctx.caller` deletes role `sid`, unless it is a default role or held by someone.
pub async fn delete(ctx: &Ctx, sid: String) -> ApiResult<()> {
    rules::may_manage_service(&ctx.caller)?;
    ctx.write(move |conn, _, _| {
        let role = lookup::role(conn, &sid)?;
        if configuration::is_default_role(conn, &role.sid)? {
            return Err(ApiError::invalid("Sid", format!("{} is a default role of the service", role.sid)));
        }
        if roles::assigned(conn, &role.sid)? {
            return Err(ApiError::invalid("Sid", format!("{} is held by participants or users", role.sid)));
        }
        roles::delete(conn, &role.sid)?;
        Ok(((), Vec::new()))
    })
    .await
}

/// On first start (no service configuration yet): makes the default roles and
/// the service configuration naming them, and gives everyone from before roles
/// existed their role (creators the creator role). Later starts change nothing.
pub fn ensure_defaults(conn: &Connection, service_sid: &str, now: i64) -> ApiResult<()> {
    if configuration::service(conn, service_sid)?.is_some() {
        return Ok(());
    }
    let mut sids = Vec::with_capacity(DEFAULT_ROLES.len());
    for d in &DEFAULT_ROLES {
        let row = RoleRow {
            id: 0,
            sid: new_sid(prefix::ROLE),
            friendly_name: d.friendly_name.to_owned(),
            role_type: d.role_type.as_str().to_owned(),
            permissions: serde_json::to_string(&Permissions::of(d.permissions).names()).unwrap_or_else(|_| "[]".into()),
            date_created: now,
            date_updated: now,
        };
        roles::insert(conn, &row)?;
        sids.push(row.sid);
    }
    let config = ServiceConfigurationRow {
        default_conversation_creator_role_sid: Some(sids[CREATOR_ROLE].clone()),
        default_conversation_role_sid: Some(sids[CONVERSATION_ROLE].clone()),
        default_chat_service_role_sid: Some(sids[SERVICE_ROLE].clone()),
        // On by default on this server (Twilio's default is off).
        reachability_enabled: true,
    };
    configuration::insert_service(conn, service_sid, &config)?;
    roles::assign_missing(conn, &sids[CREATOR_ROLE], &sids[CONVERSATION_ROLE], &sids[SERVICE_ROLE])?;
    Ok(())
}
