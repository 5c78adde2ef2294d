//! Webhook resources at Twilio's three scopes: `/Configuration/Webhooks`
//! (mounted under `/v1` it is the account's, under `/v1/Services/{IS}` the
//! service's) and `/Conversations/{c}/Webhooks[/{WH}]`. Account (Basic) callers only.

use std::sync::Arc;

use crate::server::store::Connection;
use axum::Router;
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Value, json};

use super::event::{self, post};
use super::send::valid_url;
use crate::api::params::ListQuery;
use crate::api::sid::new_sid;
use crate::api::time::{format_unix, now_unix};
use crate::server::AppState;
use crate::server::auth::Caller;
use crate::server::error::{ApiError, ApiResult};
use crate::server::extract::{Ctx, FormWithEmpty, Path, Query};
use crate::server::paging::{self, PageRequest};
use crate::server::render::{Urls, to_value};
use crate::server::store::outbox::{self, NewDelivery};
use crate::server::store::rows::ConversationRow;
use crate::server::store::webhooks::{self as hooks, ConversationWebhookRow, Scope, ScopeRow};
use crate::server::store::{conversations, messages};

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/Configuration/Webhooks", get(fetch_scope).post(update_scope))
        .route("/Conversations/{conversation}/Webhooks", get(list).post(create))
        .route("/Conversations/{conversation}/Webhooks/{webhook}", get(fetch).post(update).delete(remove))
}

/// Twilio keeps at most five webhooks on a conversation (its list's page size too).
const MAX_PER_CONVERSATION: usize = 5;
/// Most messages replayed to a new webhook (`Configuration.ReplayAfter`).
const MAX_REPLAY: i64 = 1000;
/// The events a conversation-scoped webhook may filter on.
const CONVERSATION_EVENTS: &[&str] = &[
    post::MESSAGE_ADDED,
    post::MESSAGE_UPDATED,
    post::MESSAGE_REMOVED,
    post::CONVERSATION_UPDATED,
    post::CONVERSATION_REMOVED,
    post::CONVERSATION_STATE_UPDATED,
    post::PARTICIPANT_ADDED,
    post::PARTICIPANT_UPDATED,
    post::PARTICIPANT_REMOVED,
    post::DELIVERY_UPDATED,
];

fn admin_only(ctx: &Ctx) -> ApiResult<()> {
    match ctx.caller {
        Caller::Admin => Ok(()),
        Caller::Person(_) => Err(ApiError::forbidden("Only the account may manage webhooks")),
    }
}

fn scope_of(urls: &Urls) -> Scope {
    if urls.service_scoped { Scope::Service } else { Scope::Account }
}

#[derive(Deserialize)]
struct ScopeForm {
    #[serde(rename = "Method")]
    method: Option<String>,
    #[serde(rename = "Filters", default)]
    filters: Vec<String>,
    #[serde(rename = "PreWebhookUrl")]
    pre_webhook_url: Option<String>,
    #[serde(rename = "PostWebhookUrl")]
    post_webhook_url: Option<String>,
    #[serde(rename = "Target")]
    target: Option<String>,
}

fn filters(param: &str, given: &[String], allowed: &[&str]) -> ApiResult<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for f in given.iter().flat_map(|f| f.split(',')).map(str::trim).filter(|f| !f.is_empty()) {
        if !allowed.contains(&f) {
            return Err(ApiError::invalid(param, format!("{f} is not a webhook event")));
        }
        if !out.iter().any(|o| o == f) {
            out.push(f.to_owned());
        }
    }
    Ok(out)
}

fn method(param: &str, value: &str) -> ApiResult<String> {
    match value.to_ascii_uppercase().as_str() {
        "GET" => Ok("GET".into()),
        "POST" => Ok("POST".into()),
        _ => Err(ApiError::invalid(param, "must be GET or POST")),
    }
}

fn scope_json(urls: &Urls, scope: Scope, row: Option<&ScopeRow>) -> Value {
    let url = format!("{}/Configuration/Webhooks", urls.prefix);
    match scope {
        Scope::Account => {
            let row = row.cloned().unwrap_or_default();
            json!({
                "account_sid": urls.account_sid,
                "method": row.method,
                "filters": row.filters,
                "pre_webhook_url": row.pre_url,
                "post_webhook_url": row.post_url,
                "target": row.target,
                "url": url,
            })
        }
        // Never set: Twilio answers with nulls.
        Scope::Service => json!({
            "account_sid": urls.account_sid,
            "chat_service_sid": urls.service_sid,
            "pre_webhook_url": row.and_then(|r| r.pre_url.clone()),
            "post_webhook_url": row.and_then(|r| r.post_url.clone()),
            "filters": row.map(|r| r.filters.clone()),
            "method": row.map(|r| r.method.clone()),
            "url": url,
        }),
    }
}

async fn fetch_scope(ctx: Ctx) -> ApiResult<Response> {
    admin_only(&ctx)?;
    let scope = scope_of(&ctx.urls);
    let body = ctx.read(move |conn, _, urls| Ok(scope_json(urls, scope, hooks::scope(conn, scope)?.as_ref()))).await?;
    Ok(crate::server::routes::ok(&body))
}

async fn update_scope(ctx: Ctx, FormWithEmpty(p, empty): FormWithEmpty<ScopeForm>) -> ApiResult<Response> {
    admin_only(&ctx)?;
    let scope = scope_of(&ctx.urls);
    let method = p.method.as_deref().filter(|m| !m.is_empty()).map(|m| method("Method", m)).transpose()?;
    let filters = filters("Filters", &p.filters, event::ALL)?;
    let clear_filters = empty.contains("Filters");
    let pre = p.pre_webhook_url.as_deref().map(|u| valid_url("PreWebhookUrl", u)).transpose()?;
    let post = p.post_webhook_url.as_deref().map(|u| valid_url("PostWebhookUrl", u)).transpose()?;
    if let Some(t) = p.target.as_deref().filter(|t| !t.is_empty()) {
        match t {
            "webhook" => {}
            "flex" => return Err(ApiError::invalid("Target", "flex is not available on this server")),
            _ => return Err(ApiError::invalid("Target", "must be webhook or flex")),
        }
    }
    let tap = ctx.state.store.webhooks.clone();
    let body = ctx
        .write(move |conn, _, urls| {
            let mut row = hooks::scope(conn, scope)?.unwrap_or_default();
            if let Some(m) = method {
                row.method = m;
            }
            if !filters.is_empty() || clear_filters {
                row.filters = filters;
            }
            if pre.is_some() || empty.contains("PreWebhookUrl") {
                row.pre_url = pre;
            }
            if post.is_some() || empty.contains("PostWebhookUrl") {
                row.post_url = post;
            }
            hooks::save_scope(conn, scope, &row)?;
            tap.mark_configured();
            Ok((scope_json(urls, scope, Some(&row)), Vec::new()))
        })
        .await?;
    Ok(crate::server::routes::ok(&body))
}

#[derive(Deserialize)]
struct ConversationPath {
    conversation: String,
}

#[derive(Deserialize)]
struct WebhookPath {
    conversation: String,
    webhook: String,
}

#[derive(Deserialize)]
struct HookForm {
    #[serde(rename = "Target")]
    target: Option<String>,
    #[serde(rename = "Configuration.Url")]
    url: Option<String>,
    #[serde(rename = "Configuration.Method")]
    method: Option<String>,
    #[serde(rename = "Configuration.Filters", default)]
    filters: Vec<String>,
    #[serde(rename = "Configuration.Triggers", default)]
    triggers: Vec<String>,
    #[serde(rename = "Configuration.FlowSid")]
    flow_sid: Option<String>,
    #[serde(rename = "Configuration.ReplayAfter")]
    replay_after: Option<String>,
}

fn conversation(conn: &Connection, key: &str) -> ApiResult<ConversationRow> {
    conversations::get(conn, key)?.ok_or_else(|| ApiError::not_found(format!("Conversation {key}")))
}

fn hook_json(urls: &Urls, h: &ConversationWebhookRow) -> Value {
    let mut configuration = serde_json::Map::new();
    if let Some(u) = &h.url {
        configuration.insert("url".into(), json!(u));
    }
    configuration.insert("method".into(), json!(h.method));
    if !h.filters.is_empty() {
        configuration.insert("filters".into(), json!(h.filters));
    }
    if !h.triggers.is_empty() {
        configuration.insert("triggers".into(), json!(h.triggers));
    }
    if let Some(f) = &h.flow_sid {
        configuration.insert("flow_sid".into(), json!(f));
    }
    if let Some(r) = h.replay_after {
        configuration.insert("replay_after".into(), json!(r));
    }
    let mut v = json!({
        "sid": h.sid,
        "account_sid": urls.account_sid,
        "conversation_sid": h.conversation_sid,
        "target": h.target,
        "url": format!("{}/Webhooks/{}", urls.conversation(&h.conversation_sid), h.sid),
        "configuration": configuration,
        "date_created": format_unix(h.date_created),
        "date_updated": format_unix(h.date_updated),
    });
    if urls.service_scoped {
        v["chat_service_sid"] = json!(urls.service_sid);
    }
    v
}

/// Checks a create's or update's configuration against the webhook's target.
fn apply(h: &mut ConversationWebhookRow, p: &HookForm) -> ApiResult<()> {
    if let Some(u) = p.url.as_deref().filter(|u| !u.is_empty()) {
        h.url = Some(valid_url("Configuration.Url", u)?);
    }
    if let Some(m) = p.method.as_deref().filter(|m| !m.is_empty()) {
        h.method = method("Configuration.Method", m)?.to_lowercase();
    }
    if !p.filters.is_empty() {
        h.filters = filters("Configuration.Filters", &p.filters, CONVERSATION_EVENTS)?;
    }
    if !p.triggers.is_empty() {
        h.triggers = p.triggers.iter().map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()).collect();
    }
    if let Some(f) = &p.flow_sid {
        h.flow_sid = Some(f.clone());
    }
    match h.target.as_str() {
        "webhook" if h.url.is_none() => Err(ApiError::missing("Configuration.Url")),
        "webhook" if h.filters.is_empty() => Err(ApiError::missing("Configuration.Filters")),
        "trigger" if h.url.is_none() => Err(ApiError::missing("Configuration.Url")),
        "trigger" if h.triggers.is_empty() => Err(ApiError::missing("Configuration.Triggers")),
        _ => Ok(()),
    }
}

async fn create(
    ctx: Ctx,
    Path(path): Path<ConversationPath>,
    FormWithEmpty(p, _): FormWithEmpty<HookForm>,
) -> ApiResult<Response> {
    admin_only(&ctx)?;
    let target = match p.target.as_deref() {
        None | Some("") => return Err(ApiError::missing("Target")),
        Some(t @ ("webhook" | "trigger")) => t.to_owned(),
        Some("studio") => return Err(ApiError::invalid("Target", "studio is not available on this server")),
        Some(_) => return Err(ApiError::invalid("Target", "must be webhook, trigger or studio")),
    };
    let replay_after = p
        .replay_after
        .as_deref()
        .filter(|r| !r.is_empty())
        .map(|r| {
            r.parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .ok_or_else(|| ApiError::invalid("Configuration.ReplayAfter", "must be a message index"))
        })
        .transpose()?;
    let now = now_unix();
    let mut h = ConversationWebhookRow {
        id: 0,
        sid: new_sid("WH"),
        conversation_sid: String::new(),
        target,
        url: None,
        method: "post".into(),
        filters: Vec::new(),
        triggers: Vec::new(),
        flow_sid: None,
        replay_after,
        date_created: now,
        date_updated: now,
    };
    apply(&mut h, &p)?;
    let tap = ctx.state.store.webhooks.clone();
    let body = ctx
        .write(move |conn, _, urls| {
            let c = conversation(conn, &path.conversation)?;
            if hooks::of_conversation(conn, &c.sid)?.len() >= MAX_PER_CONVERSATION {
                return Err(ApiError::invalid(
                    "Target",
                    format!("a conversation has at most {MAX_PER_CONVERSATION} webhooks"),
                ));
            }
            h.conversation_sid = c.sid.clone();
            h.id = hooks::insert(conn, &h)?;
            tap.mark_configured();
            if let Some(from) = h.replay_after {
                replay(conn, urls, &tap, &h, from)?;
            }
            Ok((hook_json(urls, &h), Vec::new()))
        })
        .await?;
    Ok(crate::server::routes::created(&body))
}

/// `Configuration.ReplayAfter`: the conversation's messages from that index
/// on (at most `MAX_REPLAY`) go to the new webhook as `onMessageAdded`, in order.
fn replay(
    conn: &Connection,
    urls: &Urls,
    tap: &super::tap::Tap,
    h: &ConversationWebhookRow,
    from: i64,
) -> ApiResult<()> {
    let Some(url) = h.url.clone() else { return Ok(()) };
    if h.target == "webhook" && !event::wanted(&h.filters, post::MESSAGE_ADDED) {
        return Ok(());
    }
    let window = paging::Window { lo: from - 1, hi: i64::MAX, descending: false, limit: MAX_REPLAY };
    let now_ms = outbox::now_ms();
    for (_, m) in messages::scan(conn, &h.conversation_sid, window)? {
        let v = to_value(&urls.message_json(&m));
        if h.target == "trigger" {
            let body = m.body.as_deref().unwrap_or_default().to_lowercase();
            if !h.triggers.iter().any(|t| body.split_whitespace().any(|w| w == t.to_lowercase())) {
                continue;
            }
        }
        let mut params = event::common(post::MESSAGE_ADDED, &tap.account_sid, &tap.service_sid, None);
        event::message(&mut params, &v);
        params.push(("WebhookSid".into(), h.sid.clone()));
        params.push(("WebhookType".into(), "webhook".into()));
        let d =
            NewDelivery { lane: h.conversation_sid.clone(), url: url.clone(), method: h.method.to_uppercase(), params };
        outbox::enqueue(conn, &d, now_ms)?;
        tap.enqueued();
    }
    Ok(())
}

async fn list(ctx: Ctx, Path(path): Path<ConversationPath>, Query(q): Query<ListQuery>) -> ApiResult<Response> {
    admin_only(&ctx)?;
    let req = PageRequest::parse(&q, 5, 5, false)?;
    let page = ctx
        .read(move |conn, _, urls| {
            let c = conversation(conn, &path.conversation)?;
            let slice = paging::fetch(&req, |w| hooks::scan(conn, &c.sid, w))?;
            let list_url = format!("{}/Webhooks", urls.conversation(&c.sid));
            Ok(paging::envelope(&req, slice, &list_url, &[], "webhooks").map(|h| hook_json(urls, h)))
        })
        .await?;
    Ok(crate::server::routes::ok(&page))
}

fn hook(conn: &Connection, c: &ConversationRow, sid: &str) -> ApiResult<ConversationWebhookRow> {
    hooks::get(conn, &c.sid, sid)?.ok_or_else(|| ApiError::not_found(format!("Webhook {sid}")))
}

async fn fetch(ctx: Ctx, Path(path): Path<WebhookPath>) -> ApiResult<Response> {
    admin_only(&ctx)?;
    let body = ctx
        .read(move |conn, _, urls| {
            let c = conversation(conn, &path.conversation)?;
            Ok(hook_json(urls, &hook(conn, &c, &path.webhook)?))
        })
        .await?;
    Ok(crate::server::routes::ok(&body))
}

async fn update(
    ctx: Ctx,
    Path(path): Path<WebhookPath>,
    FormWithEmpty(p, _): FormWithEmpty<HookForm>,
) -> ApiResult<Response> {
    admin_only(&ctx)?;
    let body = ctx
        .write(move |conn, _, urls| {
            let c = conversation(conn, &path.conversation)?;
            let mut h = hook(conn, &c, &path.webhook)?;
            apply(&mut h, &p)?;
            h.date_updated = now_unix();
            hooks::update(conn, &h)?;
            Ok((hook_json(urls, &h), Vec::new()))
        })
        .await?;
    Ok(crate::server::routes::ok(&body))
}

async fn remove(ctx: Ctx, Path(path): Path<WebhookPath>) -> ApiResult<Response> {
    admin_only(&ctx)?;
    ctx.write(move |conn, _, _| {
        let c = conversation(conn, &path.conversation)?;
        let h = hook(conn, &c, &path.webhook)?;
        hooks::delete(conn, &h.sid)?;
        Ok(((), Vec::new()))
    })
    .await?;
    Ok(crate::server::routes::no_content())
}
