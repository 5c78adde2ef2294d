//! Configuration operations: the account's (`/v1/Configuration`: defaults for
//! new conversations) and the service's (`/v1/Services/{IS}/Configuration`:
//! the roles new creators, participants and users get; reachability).

use crate::api::sid::is_sid;
use crate::server::error::{ApiError, ApiResult};
use crate::server::extract::Ctx;
use crate::server::lookup;
use crate::server::rules;
use crate::server::rules::permissions::RoleType;
use crate::server::store::configuration;
use crate::server::store::rows::{AccountConfigurationRow, ServiceConfigurationRow};
use crate::server::validate;

/// A validated change to the account configuration; `Some("")` clears a default.
#[derive(Debug, Clone, Default)]
pub struct AccountChange {
    pub default_chat_service_sid: Option<String>,
    pub default_messaging_service_sid: Option<String>,
    pub default_inactive_timer: Option<String>,
    pub default_closed_timer: Option<String>,
}

impl AccountChange {
    /// Checks the values: SID shapes, and timers at least 1 and 10 minutes.
    pub fn validated(self, service_sid: &str) -> ApiResult<Self> {
        if let Some(s) = self.default_chat_service_sid.as_deref().filter(|s| !s.is_empty())
            && s != service_sid
        {
            return Err(ApiError::invalid(
                "DefaultChatServiceSid",
                format!("this server has one service, {service_sid}"),
            ));
        }
        if let Some(s) = self.default_messaging_service_sid.as_deref().filter(|s| !s.is_empty())
            && !is_sid("MG", s)
        {
            return Err(ApiError::invalid("DefaultMessagingServiceSid", "must be an MG SID"));
        }
        if let Some(t) = self.default_inactive_timer.as_deref().filter(|s| !s.is_empty()) {
            validate::inactive_timer("DefaultInactiveTimer", t)?;
        }
        if let Some(t) = self.default_closed_timer.as_deref().filter(|s| !s.is_empty()) {
            validate::closed_timer("DefaultClosedTimer", t)?;
        }
        Ok(self)
    }
}

fn set(field: &mut Option<String>, value: Option<String>) {
    if let Some(v) = value {
        *field = Some(v).filter(|v| !v.is_empty());
    }
}

/// Reads the account configuration.
pub async fn account(ctx: &Ctx) -> ApiResult<AccountConfigurationRow> {
    rules::may_read_service(&ctx.caller)?;
    ctx.read(|conn, _, _| Ok(configuration::account(conn)?)).await
}

/// Operation: `ctx.caller` changes the account configuration.
pub async fn update_account(ctx: &Ctx, change: AccountChange) -> ApiResult<AccountConfigurationRow> {
    rules::may_manage_service(&ctx.caller)?;
    let change = change.validated(&ctx.state.store.service_sid)?;
    ctx.write(move |conn, _, _| {
        let mut c = configuration::account(conn)?;
        set(&mut c.default_chat_service_sid, change.default_chat_service_sid);
        set(&mut c.default_messaging_service_sid, change.default_messaging_service_sid);
        set(&mut c.default_inactive_timer, change.default_inactive_timer);
        set(&mut c.default_closed_timer, change.default_closed_timer);
        configuration::save_account(conn, &c)?;
        Ok((c, Vec::new()))
    })
    .await
}

/// A change to the service configuration (role SIDs are checked in the write).
#[derive(Debug, Clone, Default)]
pub struct ServiceChange {
    pub default_conversation_creator_role_sid: Option<String>,
    pub default_conversation_role_sid: Option<String>,
    pub default_chat_service_role_sid: Option<String>,
    pub reachability_enabled: Option<bool>,
}

/// Reads the service configuration.
pub async fn service(ctx: &Ctx) -> ApiResult<ServiceConfigurationRow> {
    rules::may_read_service(&ctx.caller)?;
    ctx.read(|conn, _, urls| Ok(configuration::service(conn, &urls.service_sid)?.unwrap_or_default())).await
}

/// Operation: `ctx.caller` changes the service configuration.
pub async fn update_service(ctx: &Ctx, change: ServiceChange) -> ApiResult<ServiceConfigurationRow> {
    rules::may_manage_service(&ctx.caller)?;
    ctx.write(move |conn, _, urls| {
        let mut c = configuration::service(conn, &urls.service_sid)?.unwrap_or_default();
        let pick = |param: &str, sid: Option<String>, want: RoleType| -> ApiResult<Option<String>> {
            sid.map(|s| lookup::role_param(conn, param, &s, want).map(|r| r.sid)).transpose()
        };
        let (creator, conversation, service) = (
            pick(
                "DefaultConversationCreatorRoleSid",
                change.default_conversation_creator_role_sid,
                RoleType::Conversation,
            )?,
            pick("DefaultConversationRoleSid", change.default_conversation_role_sid, RoleType::Conversation)?,
            pick("DefaultChatServiceRoleSid", change.default_chat_service_role_sid, RoleType::Service)?,
        );
        c.default_conversation_creator_role_sid = creator.or(c.default_conversation_creator_role_sid);
        c.default_conversation_role_sid = conversation.or(c.default_conversation_role_sid);
        c.default_chat_service_role_sid = service.or(c.default_chat_service_role_sid);
        if let Some(r) = change.reachability_enabled {
            c.reachability_enabled = r;
        }
        configuration::update_service(conn, &urls.service_sid, &c)?;
        Ok((c, Vec::new()))
    })
    .await
}
