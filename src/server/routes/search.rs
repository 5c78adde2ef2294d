//! `GET /v1/Search/Messages` (our extension): full-text search of the messages
//! the caller may read, newest first, in Twilio's page envelope (`messages`).

use std::sync::Arc;

use axum::Router;
use axum::response::Response;
use axum::routing::get;

use super::ok;
use crate::api::params::ListQuery;
use crate::api::search::{self, MAX_QUERY_BYTES, SearchParams};
use crate::server::AppState;
use crate::server::auth::Caller;
use crate::server::error::{ApiError, ApiResult};
use crate::server::extract::{Ctx, Query};
use crate::server::paging::{self, PageRequest};
use crate::server::store::search::{self as store, Filter};
use crate::server::{lookup, rules};

pub fn router() -> Router<Arc<AppState>> {
    Router::new().route("/Search/Messages", get(messages))
}

async fn messages(ctx: Ctx, Query(q): Query<SearchParams>) -> ApiResult<Response> {
    let text = q.query.as_deref().unwrap_or_default();
    if text.len() > MAX_QUERY_BYTES {
        return Err(ApiError::invalid("Query", format!("must be at most {MAX_QUERY_BYTES} bytes")));
    }
    let terms = search::parse(text);
    if terms.is_empty() {
        return Err(ApiError::invalid("Query", "must hold at least one word"));
    }
    let list = ListQuery {
        page_size: q.page_size.clone(),
        page: q.page.clone(),
        page_token: q.page_token.clone(),
        ..Default::default()
    };
    let req = PageRequest::parse(&list, 50, 100, true)?;
    let mut filters: Vec<(&str, String)> = vec![("Query", text.to_owned())];
    filters.extend(q.conversation_sid.iter().filter(|c| !c.is_empty()).map(|c| ("ConversationSid", c.clone())));
    filters.extend(q.author.iter().filter(|a| !a.is_empty()).map(|a| ("Author", a.clone())));
    let page = ctx
        .read(move |conn, caller, urls| {
            let conversation = match q.conversation_sid.as_deref().filter(|c| !c.is_empty()) {
                Some(key) => {
                    let c = lookup::conversation(conn, key)?;
                    rules::may_read_conversation(conn, caller, &c)?;
                    Some(c.sid)
                }
                None => None,
            };
            let reader = match caller {
                Caller::Admin => None,
                Caller::Person(identity) => Some(identity.clone()),
            };
            let author = q.author.filter(|a| !a.is_empty());
            let filter = Filter { conversation, author, reader };
            let slice = paging::fetch(&req, |w| store::scan(conn, &terms, &filter, w))?;
            let path = format!("{}/Search/Messages", urls.prefix);
            Ok(paging::envelope(&req, slice, &path, &filters, "messages").map(|m| urls.message_json(m)))
        })
        .await?;
    Ok(ok(&page))
}
