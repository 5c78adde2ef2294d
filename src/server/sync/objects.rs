//! Reading Sync objects from the store: a descriptor, a page of items, and what
//! changed since an event id (replay). Each read checks access as REST does.

use serde::Deserialize;
use serde_json::{Value, json};

use super::events::{Change, Item, Push};
use super::{Kind, Object, data, encode, next_event_id, object_url};
use crate::api::time::{format_unix, now_unix};
use crate::server::auth::Caller;
use crate::server::error::{ApiError, ApiResult};
use crate::server::paging::Window;
use crate::server::render::Urls;
use crate::server::store::participants::Who;
use crate::server::store::{Connection, messages, participants};
use crate::server::{lookup, presence, rules};

/// Twilio Sync's largest item page.
const MAX_PAGE: usize = 100;
const DEFAULT_PAGE: usize = 50;
/// Deleted messages a replay tells about (the newest; older ones are long gone from any screen).
const REPLAY_REMOVALS: i64 = 200;

/// What an items query asks (Sync's names).
#[derive(Debug, Default, Deserialize)]
pub struct ItemQuery {
    #[serde(rename = "Key")]
    pub key: Option<String>,
    #[serde(rename = "Index")]
    pub index: Option<String>,
    #[serde(rename = "From")]
    pub from: Option<String>,
    #[serde(rename = "Order")]
    pub order: Option<String>,
    #[serde(rename = "PageSize")]
    pub page_size: Option<String>,
    #[serde(rename = "PageToken")]
    pub page_token: Option<String>,
}

/// One parsed page request: start (inclusive), direction, size.
struct Want {
    from: Option<String>,
    desc: bool,
    size: usize,
    exact: bool,
}

impl ItemQuery {
    fn want(&self) -> ApiResult<Want> {
        let size = match self.page_size.as_deref() {
            None | Some("") => DEFAULT_PAGE,
            Some(s) => s
                .parse::<usize>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| ApiError::invalid("PageSize", "must be a positive integer"))?
                .min(MAX_PAGE),
        };
        let mut desc = match self.order.as_deref() {
            None | Some("") | Some("asc") => false,
            Some("desc") => true,
            Some(_) => return Err(ApiError::invalid("Order", "must be asc or desc")),
        };
        let mut from = self.from.clone().filter(|f| !f.is_empty());
        // Our tokens say where the page starts and which way it runs: `asc:KEY` or `desc:KEY`.
        if let Some(token) = self.page_token.as_deref().filter(|t| !t.is_empty()) {
            let (order, key) = token
                .split_once(':')
                .ok_or_else(|| ApiError::invalid("PageToken", "not a token this server issued"))?;
            desc = order == "desc";
            from = Some(key.to_owned());
        }
        if let Some(k) = self.key.clone().or_else(|| self.index.clone()) {
            return Ok(Want { from: Some(k), desc: false, size: 1, exact: true });
        }
        Ok(Want { from, desc, size, exact: false })
    }
}

/// Where an object's conversation is, once the caller may read it.
fn readable_conversation(
    conn: &Connection,
    caller: &Caller,
    sid: &str,
) -> ApiResult<crate::server::store::rows::ConversationRow> {
    let c = lookup::conversation(conn, sid)?;
    rules::may_read_conversation(conn, caller, &c)?;
    Ok(c)
}

fn own(caller: &Caller, identity: &str) -> ApiResult<()> {
    match caller {
        Caller::Admin => Ok(()),
        Caller::Person(me) if me == identity => Ok(()),
        Caller::Person(_) => Err(ApiError::forbidden("Only its owner may read a person's conversations map")),
    }
}

/// Whether the caller may read a map, without reading its items (a descriptor).
fn may_read_map(conn: &Connection, caller: &Caller, object: &Object) -> ApiResult<()> {
    match object {
        Object::Roster(sid) => readable_conversation(conn, caller, sid).map(drop),
        Object::UserInfo(identity) => rules::may_see_user(conn, caller, &lookup::user(conn, identity)?),
        Object::MyConversations(identity) => own(caller, identity),
        Object::Conversation(_) | Object::Messages(_) => Err(ApiError::not_found("Items")),
    }
}

/// The object's current items, keyed for paging, for maps (lists page in the store).
fn map_items(conn: &Connection, caller: &Caller, urls: &Urls, object: &Object) -> ApiResult<Vec<(String, Value)>> {
    let mut items: Vec<(String, Value)> = match object {
        Object::Roster(sid) => {
            let c = readable_conversation(conn, caller, sid)?;
            let all =
                participants::scan(conn, &c.sid, Window { lo: -1, hi: i64::MAX, descending: false, limit: 10_000 })?;
            all.iter().map(|(_, p)| (p.sid.clone(), data::participant(&urls.participant_json(p)))).collect()
        }
        Object::UserInfo(identity) => {
            let u = lookup::user(conn, identity)?;
            rules::may_see_user(conn, caller, &u)?;
            let user = presence::user_json(conn, urls, &u)?;
            data::user_items(&user).into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
        }
        Object::MyConversations(identity) => {
            own(caller, identity)?;
            let u = lookup::user(conn, identity)?;
            let all = participants::memberships(
                conn,
                &Who::Identity(identity.clone()),
                Window { lo: -1, hi: i64::MAX, descending: false, limit: 100_000 },
            )?;
            all.iter()
                .map(|(_, m)| {
                    let last = match (m.conversation.last_message_index, m.conversation.last_message_date) {
                        (Some(i), Some(d)) => Some((i, format_unix(d))),
                        _ => None,
                    };
                    let uc = urls.user_conversation_json(&u.sid, m);
                    (
                        m.conversation.sid.clone(),
                        data::my_conversation(&uc, last.as_ref().map(|(i, d)| (*i, d.as_str()))),
                    )
                })
                .collect()
        }
        Object::Conversation(_) | Object::Messages(_) => return Err(ApiError::not_found("Items")),
    };
    items.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(items)
}

/// A document's data: the conversation's properties, which whoever may fetch
/// the conversation sees (a public one: anyone, before joining).
fn document(conn: &Connection, caller: &Caller, urls: &Urls, sid: &str) -> ApiResult<Value> {
    let c = lookup::conversation(conn, sid)?;
    rules::may_fetch_conversation(conn, caller, &c)?;
    Ok(data::conversation(&urls.conversation_json(&c)))
}

/// The object's descriptor (`include_items`: a map's first page inside it).
pub fn descriptor(
    conn: &Connection,
    caller: &Caller,
    urls: &Urls,
    base: &str,
    object: &Object,
    include_items: bool,
) -> ApiResult<Value> {
    let url = object_url(base, object);
    let id = next_event_id();
    let mut d = json!({
        "sid": object.name(),
        "unique_name": object.name(),
        "url": url,
        "revision": id.to_string(),
        "last_event_id": id,
        "date_updated": format_unix(now_unix()),
        "date_expires": null,
    });
    match object.kind() {
        Kind::Document => {
            let Object::Conversation(sid) = object else { unreachable!("only conversations are documents") };
            d["data"] = document(conn, caller, urls, sid)?;
        }
        Kind::List => {
            let Object::Messages(sid) = object else { unreachable!("only messages are lists") };
            readable_conversation(conn, caller, sid)?;
            d["links"] = json!({"items": format!("{url}/Items")});
        }
        Kind::Map => {
            d["links"] = json!({"items": format!("{url}/Items")});
            if include_items {
                let items = map_items(conn, caller, urls, object)?;
                let page: Vec<Value> = items.iter().take(MAX_PAGE).map(|(k, v)| map_item(&url, k, v, id)).collect();
                d["items"] = Value::Array(page);
            } else {
                may_read_map(conn, caller, object)?;
            }
        }
    }
    Ok(d)
}

fn map_item(url: &str, key: &str, data: &Value, id: u64) -> Value {
    json!({
        "key": key, "url": format!("{url}/Items/{}", encode(key)), "revision": id.to_string(),
        "last_event_id": id, "data": data, "date_updated": format_unix(now_unix()), "date_expires": null,
    })
}

fn list_item(url: &str, index: i64, data: &Value, id: u64) -> Value {
    let updated = data.get("dateUpdated").cloned().unwrap_or(Value::Null);
    json!({
        "index": index, "url": format!("{url}/Items/{index}"), "revision": id.to_string(),
        "last_event_id": id, "data": data, "date_updated": updated, "date_expires": null,
    })
}

fn token(desc: bool, key: impl std::fmt::Display) -> String {
    format!("{}:{key}", if desc { "desc" } else { "asc" })
}

/// One page of an object's items: `{items, meta {previous_token, next_token}}`.
pub fn items(
    conn: &Connection,
    caller: &Caller,
    urls: &Urls,
    base: &str,
    object: &Object,
    q: &ItemQuery,
) -> ApiResult<Value> {
    let want = q.want()?;
    let url = object_url(base, object);
    let id = next_event_id();
    let (page, before, after) = match object {
        Object::Messages(sid) => {
            let c = readable_conversation(conn, caller, sid)?;
            let from: Option<i64> = match &want.from {
                Some(f) => Some(f.parse().map_err(|_| ApiError::invalid("From", "must be a message index"))?),
                None => None,
            };
            let scan = |lo, hi, descending, limit| messages::scan(conn, &c.sid, Window { lo, hi, descending, limit });
            let limit = want.size as i64 + 1;
            let mut rows = match (from, want.desc) {
                (Some(i), _) if want.exact => scan(i - 1, i + 1, false, 1)?,
                (Some(i), true) => scan(-1, i + 1, true, limit)?,
                (Some(i), false) => scan(i - 1, i64::MAX, false, limit)?,
                (None, desc) => scan(-1, i64::MAX, desc, limit)?,
            };
            let after = rows.len() > want.size;
            rows.truncate(want.size);
            let before = match (from, want.desc) {
                (Some(_), _) if want.exact => false,
                (Some(i), true) => !scan(i, i64::MAX, false, 1)?.is_empty(),
                (Some(i), false) => !scan(-1, i, true, 1)?.is_empty(),
                (None, _) => false,
            };
            let page: Vec<(String, Value)> = rows
                .iter()
                .map(|(i, m)| (i.to_string(), list_item(&url, *i, &data::message(&urls.message_json(m)), id)))
                .collect();
            (page, before, after)
        }
        Object::Conversation(_) => return Err(ApiError::not_found("Items")),
        _ => {
            let all = map_items(conn, caller, urls, object)?;
            let mut ordered: Vec<&(String, Value)> = all.iter().collect();
            if want.desc {
                ordered.reverse();
            }
            let start = match &want.from {
                Some(f) if want.exact => match ordered.iter().position(|(k, _)| k == f) {
                    Some(p) => p,
                    None => ordered.len(),
                },
                Some(f) => {
                    ordered.iter().position(|(k, _)| if want.desc { k <= f } else { k >= f }).unwrap_or(ordered.len())
                }
                None => 0,
            };
            let end = (start + want.size).min(ordered.len());
            let page: Vec<(String, Value)> =
                ordered[start..end].iter().map(|(k, v)| (k.clone(), map_item(&url, k, v, id))).collect();
            let before = !want.exact && start > 0;
            let after = !want.exact && end < ordered.len();
            (page, before, after)
        }
    };
    let previous = if before { page.first().map(|(k, _)| token(!want.desc, k)) } else { None };
    let next = if after { page.last().map(|(k, _)| token(want.desc, k)) } else { None };
    let items: Vec<Value> = page.into_iter().map(|(_, v)| v).collect();
    Ok(json!({"items": items, "meta": {"previous_token": previous, "next_token": next}}))
}

/// What changed in `object` since Unix second `since`, as pushes (replay on resubscribe).
pub fn replay(conn: &Connection, caller: &Caller, urls: &Urls, object: &Object, since: i64) -> ApiResult<Vec<Push>> {
    let changed = |created: &str, updated: &str| -> Option<Change> {
        let (c, u) = (crate::api::time::parse_unix(created)?, crate::api::time::parse_unix(updated)?);
        if c >= since {
            Some(Change::Added)
        } else if u >= since {
            Some(Change::Updated)
        } else {
            None
        }
    };
    let mut out = Vec::new();
    match object {
        Object::Conversation(sid) => {
            let c = lookup::conversation(conn, sid)?;
            rules::may_fetch_conversation(conn, caller, &c)?;
            if c.date_updated >= since || c.last_message_date.is_some_and(|d| d >= since) {
                out.push(Push::new(
                    object.clone(),
                    Change::Updated,
                    Item::Whole,
                    data::conversation(&urls.conversation_json(&c)),
                ));
            }
        }
        Object::Messages(sid) => {
            let c = readable_conversation(conn, caller, sid)?;
            // Newest first until messages are older than `since` (edits of old ones
            // are found among the newest thousand).
            let rows = messages::scan(conn, &c.sid, Window { lo: -1, hi: i64::MAX, descending: true, limit: 1000 })?;
            let mut pushes: Vec<Push> = rows
                .iter()
                .filter_map(|(i, m)| {
                    let json = urls.message_json(m);
                    let change =
                        changed(&json.date_created, json.date_updated.as_deref().unwrap_or(&json.date_created))?;
                    Some(Push::new(object.clone(), change, Item::Index(*i), data::message(&json)))
                })
                .collect();
            pushes.reverse();
            for idx in messages::deleted_indexes(conn, &c.sid, REPLAY_REMOVALS)? {
                pushes.push(Push::new(object.clone(), Change::Removed, Item::Index(idx), json!({})));
            }
            out = pushes;
        }
        _ => {
            // Maps are small: tell every item as it is now (unchanged ones change nothing).
            for (key, value) in map_items(conn, caller, urls, object)? {
                let created = value.get("dateCreated").and_then(Value::as_str).and_then(crate::api::time::parse_unix);
                let change = if matches!(object, Object::Roster(_)) && created.is_some_and(|c| c >= since) {
                    Change::Added
                } else {
                    Change::Updated
                };
                out.push(Push::new(object.clone(), change, Item::Key(key), value));
            }
        }
    }
    Ok(out)
}
