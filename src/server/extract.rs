//! Request extractors that answer in Twilio's error format: `Ctx` (caller,
//! URLs, state; runs a handler's store work with them), `Form` (x-www-form-urlencoded via serde_html_form → 20001),
//! `Query` (list params → 20001) and `Path` (bad path → 20404). axum's own
//! rejections are plain text, which Twilio's clients cannot read.

use std::sync::Arc;

use crate::server::store::Connection;
use axum::extract::{FromRequest, FromRequestParts, OriginalUri, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header::HOST};
use bytes::Bytes;
use serde::de::DeserializeOwned;

use crate::api::error::ErrorCode;
use crate::server::AppState;
use crate::server::auth::{Caller, authenticate};
use crate::server::error::ApiError;
use crate::server::hub::Effect;
use crate::server::render::Urls;

/// Everything a handler needs about the request's context.
pub struct Ctx {
    pub caller: Caller,
    pub urls: Urls,
    pub state: Arc<AppState>,
}

impl Ctx {
    pub fn identity(&self) -> Option<&str> {
        self.caller.identity()
    }

    /// Runs `f` on a reader connection with the caller and URLs at hand: the
    /// shape of every GET handler (look up, check access, render).
    pub async fn read<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection, &Caller, &Urls) -> Result<T, ApiError> + Send + 'static,
    {
        let (caller, urls) = (self.caller.clone(), self.urls.clone());
        self.state.store.read(move |conn| f(conn, &caller, &urls)).await
    }

    /// Runs `f` on the writer with the caller and URLs at hand; `f` returns
    /// its answer and the events to publish once the write is committed.
    pub async fn write<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection, &Caller, &Urls) -> Result<(T, Vec<Effect>), ApiError> + Send + 'static,
    {
        let (caller, urls) = (self.caller.clone(), self.urls.clone());
        self.state.store.write(move |conn| f(conn, &caller, &urls)).await
    }
}

/// `scheme://host[:port]`: the configured public URL, else the request's Host.
fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(p) = &state.public_url {
        return p.trim_end_matches('/').to_owned();
    }
    let host = headers.get(HOST).and_then(|h| h.to_str().ok()).filter(|h| !h.is_empty());
    match host {
        Some(h) => format!("http://{h}"),
        None => format!("http://{}", state.addr),
    }
}

/// URLs for a request outside any service path (twilsock's, made once per socket).
pub fn unscoped_urls(state: &AppState, headers: &HeaderMap) -> Urls {
    Urls {
        prefix: format!("{}/v1", base_url(state, headers)),
        account_sid: state.credentials.account_sid.clone(),
        service_sid: state.store.service_sid.clone(),
        service_scoped: false,
    }
}

impl FromRequestParts<Arc<AppState>> for Ctx {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, ApiError> {
        let caller = authenticate(&parts.headers, &state.credentials)?;
        if let Caller::Person(identity) = &caller {
            state.rate_limit.check(identity, &parts.method, parts.uri.path())?;
            state.ensure_user(identity).await?;
        }
        // Nested routers see the path with their prefix cut off; the original has it.
        let uri = parts.extensions.get::<OriginalUri>().map_or(&parts.uri, |o| &o.0);
        let path = uri.path();
        let service_scoped = path.starts_with("/v1/Services/") && path.split('/').count() > 4;
        if service_scoped {
            let sid = path.split('/').nth(3).unwrap_or_default();
            if sid != state.store.service_sid {
                return Err(ApiError::not_found(path));
            }
        }
        let base = base_url(state, &parts.headers);
        let prefix = if service_scoped {
            format!("{base}/v1/Services/{}", state.store.service_sid)
        } else {
            format!("{base}/v1")
        };
        let urls = Urls {
            prefix,
            account_sid: state.credentials.account_sid.clone(),
            service_sid: state.store.service_sid.clone(),
            service_scoped,
        };
        Ok(Self { caller, urls, state: state.clone() })
    }
}

/// A form body decoded into `T` (unknown fields ignored, as Twilio does).
pub struct Form<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Form<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = body_bytes(req, state).await?;
        serde_html_form::from_bytes(&bytes).map(Form).map_err(|e| ApiError::invalid("body", e))
    }
}

/// A form body decoded into `T`, plus the names of the fields sent empty.
/// serde_html_form reads `Name=` as an absent `Option`, but for a few fields
/// an empty value means "clear it" (`LastReadMessageIndex=`, `UniqueName=`).
pub struct FormWithEmpty<T>(pub T, pub EmptyFields);

/// Field names that were present in the form with an empty value.
pub struct EmptyFields(Vec<String>);

impl EmptyFields {
    pub fn contains(&self, name: &str) -> bool {
        self.0.iter().any(|n| n == name)
    }
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for FormWithEmpty<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = body_bytes(req, state).await?;
        let value = serde_html_form::from_bytes(&bytes).map_err(|e| ApiError::invalid("body", e))?;
        let pairs: Vec<(String, String)> =
            serde_html_form::from_bytes(&bytes).map_err(|e| ApiError::invalid("body", e))?;
        let empty = pairs.into_iter().filter(|(_, v)| v.is_empty()).map(|(k, _)| k).collect();
        Ok(FormWithEmpty(value, EmptyFields(empty)))
    }
}

/// serde_html_form decodes bytes that are not UTF-8 lossily (into U+FFFD),
/// which would store something other than what was sent: refuse them instead
/// (400 / 20001 naming the field). Malformed escapes such as `%ZZ` stay literal.
fn utf8_form(form: &[u8]) -> Result<(), ApiError> {
    for pair in form.split(|b| *b == b'&') {
        let (key, value) = match pair.iter().position(|b| *b == b'=') {
            Some(i) => (&pair[..i], &pair[i + 1..]),
            None => (pair, &[][..]),
        };
        if [key, value].iter().any(|part| percent_encoding::percent_decode(part).decode_utf8().is_err()) {
            let name = percent_encoding::percent_decode(key).decode_utf8_lossy();
            return Err(ApiError::invalid(&name, "is not valid UTF-8"));
        }
        if [key, value].iter().any(|part| percent_encoding::percent_decode(part).any(|b| b == 0)) {
            let name = percent_encoding::percent_decode(key).decode_utf8_lossy();
            return Err(nul_refused(&name));
        }
    }
    Ok(())
}

/// No store keeps NUL in text (PostgreSQL refuses it), so no field may hold one.
fn nul_refused(name: &str) -> ApiError {
    ApiError::invalid(name.trim_matches('\0'), "must not contain NUL characters")
}

/// The query string decoded into `T`.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        utf8_form(parts.uri.query().unwrap_or_default().as_bytes())?;
        serde_html_form::from_str(parts.uri.query().unwrap_or_default())
            .map(Query)
            .map_err(|e| ApiError::invalid("query", e))
    }
}

/// Path parameters decoded into `T`; anything unreadable is a 404.
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        // No SID, identity or name holds a NUL (and PostgreSQL cannot even look one up).
        if percent_encoding::percent_decode(parts.uri.path().as_bytes()).any(|b| b == 0) {
            return Err(ApiError::not_found(parts.uri.path()));
        }
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(t)) => Ok(Path(t)),
            Err(_) => Err(ApiError::not_found(parts.uri.path())),
        }
    }
}

/// The raw form body, for endpoints that decode it more than one way.
pub struct RawForm(pub Bytes);

impl RawForm {
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        serde_html_form::from_bytes(&self.0).map_err(|e| ApiError::invalid("body", e))
    }
}

impl<S: Send + Sync> FromRequest<S> for RawForm {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        body_bytes(req, state).await.map(RawForm)
    }
}

/// The body, within the size limit and UTF-8 in every field (see `utf8_form`).
async fn body_bytes<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    let bytes = Bytes::from_request(req, state).await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(ErrorCode::PayloadTooLarge, "The request body is too large")
        } else {
            ApiError::invalid("body", e.body_text())
        }
    })?;
    utf8_form(&bytes)?;
    Ok(bytes)
}

/// The JSON body of Twilio's client SDK (snake_case, `null` meaning "clear")
/// read as the REST form it stands for, so one set of params, checks and
/// messages serves both: `friendly_name` → `FriendlyName`, `media_sids` →
/// `MediaSid` (repeated), `messaging_binding.address` →
/// `MessagingBinding.Address`; `null` and `""` are fields sent empty.
pub struct SdkBody<T>(pub T, pub EmptyFields);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for SdkBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = body_bytes(req, state).await?;
        let json: serde_json::Value = if bytes.iter().all(u8::is_ascii_whitespace) {
            serde_json::Value::Object(Default::default())
        } else {
            serde_json::from_slice(&bytes).map_err(|e| ApiError::invalid("body", format!("not JSON: {e}")))?
        };
        let serde_json::Value::Object(fields) = json else {
            return Err(ApiError::invalid("body", "must be a JSON object"));
        };
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (key, value) in &fields {
            sdk_pairs(&form_name(key), value, &mut pairs);
        }
        if let Some((k, _)) = pairs.iter().find(|(k, v)| k.contains('\0') || v.contains('\0')) {
            return Err(nul_refused(k));
        }
        let empty = pairs.iter().filter(|(_, v)| v.is_empty()).map(|(k, _)| k.clone()).collect();
        let form = serde_html_form::to_string(&pairs).map_err(|e| ApiError::invalid("body", e))?;
        let value = serde_html_form::from_str(&form).map_err(|e| ApiError::invalid("body", e))?;
        Ok(SdkBody(value, EmptyFields(empty)))
    }
}

/// `last_read_message_index` → `LastReadMessageIndex`; the SDK's plural `media_sids` is REST's `MediaSid`.
fn form_name(key: &str) -> String {
    if key == "media_sids" {
        return "MediaSid".into();
    }
    key.split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_uppercase().chain(c).collect::<String>()).unwrap_or_default()
        })
        .collect()
}

fn sdk_pairs(name: &str, value: &serde_json::Value, out: &mut Vec<(String, String)>) {
    use serde_json::Value;
    match value {
        Value::Null => out.push((name.to_owned(), String::new())),
        Value::String(s) => out.push((name.to_owned(), s.clone())),
        Value::Bool(b) => out.push((name.to_owned(), b.to_string())),
        Value::Number(n) => out.push((name.to_owned(), n.to_string())),
        Value::Array(items) => items.iter().for_each(|v| sdk_pairs(name, v, out)),
        Value::Object(fields) if name == "MessagingBinding" => {
            for (k, v) in fields {
                sdk_pairs(&format!("{name}.{}", form_name(k)), v, out);
            }
        }
        Value::Object(_) => out.push((name.to_owned(), value.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sdk_json_reads_as_the_rest_form_it_stands_for() {
        let body = json!({"body": "hi", "media_sids": ["ME1", "ME2"], "last_read_message_index": null,
            "messaging_binding": {"address": "+1555", "proxy_address": "+1666"}, "count": 3, "flag": true});
        let mut pairs = Vec::new();
        for (k, v) in body.as_object().unwrap() {
            sdk_pairs(&form_name(k), v, &mut pairs);
        }
        pairs.sort();
        let want: Vec<(String, String)> = [
            ("Body", "hi"),
            ("Count", "3"),
            ("Flag", "true"),
            ("LastReadMessageIndex", ""),
            ("MediaSid", "ME1"),
            ("MediaSid", "ME2"),
            ("MessagingBinding.Address", "+1555"),
            ("MessagingBinding.ProxyAddress", "+1666"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        assert_eq!(pairs, want);
    }
}
