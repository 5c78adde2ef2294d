//! `/v1/Configuration` (the account's defaults for new conversations) and
//! `/v1/Services/{IS}/Configuration` (the service's default roles and
//! reachability): one path, answered by the form of the path it came by.
//! The `/Webhooks` sub-paths live in `webhooks`.

use std::sync::Arc;

use axum::Router;
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

use super::ok;
use crate::server::AppState;
use crate::server::error::{ApiError, ApiResult};
use crate::server::extract::{Ctx, FormWithEmpty};
use crate::server::ops::configuration::{self as op, AccountChange, ServiceChange};

pub fn router() -> Router<Arc<AppState>> {
    Router::new().route("/Configuration", get(fetch).post(update))
}

/// The form of both updates (each takes its own fields and ignores the others, as Twilio does).
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ConfigurationParams {
    default_chat_service_sid: Option<String>,
    default_messaging_service_sid: Option<String>,
    default_inactive_timer: Option<String>,
    default_closed_timer: Option<String>,
    default_conversation_creator_role_sid: Option<String>,
    default_conversation_role_sid: Option<String>,
    default_chat_service_role_sid: Option<String>,
    reachability_enabled: Option<String>,
}

async fn fetch(ctx: Ctx) -> ApiResult<Response> {
    if ctx.urls.service_scoped {
        Ok(ok(&ctx.urls.service_configuration_json(&op::service(&ctx).await?)))
    } else {
        Ok(ok(&ctx.urls.account_configuration_json(&op::account(&ctx).await?)))
    }
}

async fn update(ctx: Ctx, FormWithEmpty(p, empty): FormWithEmpty<ConfigurationParams>) -> ApiResult<Response> {
    if ctx.urls.service_scoped {
        let reachability_enabled = match p.reachability_enabled.as_deref() {
            None | Some("") => None,
            Some("true") => Some(true),
            Some("false") => Some(false),
            Some(_) => return Err(ApiError::invalid("ReachabilityEnabled", "must be true or false")),
        };
        let change = ServiceChange {
            default_conversation_creator_role_sid: p.default_conversation_creator_role_sid.filter(|s| !s.is_empty()),
            default_conversation_role_sid: p.default_conversation_role_sid.filter(|s| !s.is_empty()),
            default_chat_service_role_sid: p.default_chat_service_role_sid.filter(|s| !s.is_empty()),
            reachability_enabled,
        };
        Ok(ok(&ctx.urls.service_configuration_json(&op::update_service(&ctx, change).await?)))
    } else {
        // A default sent empty (`DefaultClosedTimer=`) is cleared.
        let or_empty = |v: Option<String>, name: &str| v.or_else(|| empty.contains(name).then(String::new));
        let change = AccountChange {
            default_chat_service_sid: or_empty(p.default_chat_service_sid, "DefaultChatServiceSid"),
            default_messaging_service_sid: or_empty(p.default_messaging_service_sid, "DefaultMessagingServiceSid"),
            default_inactive_timer: or_empty(p.default_inactive_timer, "DefaultInactiveTimer"),
            default_closed_timer: or_empty(p.default_closed_timer, "DefaultClosedTimer"),
        };
        Ok(ok(&ctx.urls.account_configuration_json(&op::update_account(&ctx, change).await?)))
    }
}
