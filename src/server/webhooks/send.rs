//! One signed webhook request, as Twilio sends it: a form-encoded POST (or a
//! GET with the parameters in the query), `X-Twilio-Signature`,
//! `I-Twilio-Idempotency-Token`, cut at the timeout, redirects not followed.
//! Also the check every webhook URL passes before it is stored.

use std::sync::OnceLock;
use std::time::Duration;

use crate::server::error::{ApiError, ApiResult};

use super::sign::signature;

/// The longest URL we store.
const MAX_URL: usize = 2048;

/// A webhook URL: absolute http or https with a host (stored as given).
pub fn valid_url(param: &str, value: &str) -> ApiResult<String> {
    if value.len() > MAX_URL {
        return Err(ApiError::invalid(param, format!("is longer than {MAX_URL} characters")));
    }
    let url = reqwest::Url::parse(value).map_err(|e| ApiError::invalid(param, format!("is not a URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ApiError::invalid(param, "must be an http or https URL"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(ApiError::invalid(param, "must name a host"));
    }
    Ok(value.to_owned())
}

/// What came back.
#[derive(Debug)]
pub enum Answer {
    /// Any HTTP status, with the body (read up to a bound).
    Status(u16, String),
    /// No answer: refused, reset, or cut at the timeout.
    Failed(String),
}

/// The shared client (one connection pool for every delivery).
fn client() -> Result<&'static reqwest::Client, String> {
    static CLIENT: OnceLock<Result<reqwest::Client, String>> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .user_agent("TwilioProxy/1.1")
                .pool_max_idle_per_host(4)
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// The largest answer body read (pre-event answers are small JSON objects).
const MAX_ANSWER: usize = 64 * 1024;

/// Sends one signed request and waits at most `timeout` for the whole answer.
pub async fn send(
    auth_token: &str,
    url: &str,
    method: &str,
    params: &[(String, String)],
    idempotency_token: &str,
    timeout: Duration,
) -> Answer {
    let client = match client() {
        Ok(c) => c,
        Err(e) => return Answer::Failed(e),
    };
    let form = serde_html_form::to_string(params).unwrap_or_default();
    let request = if method.eq_ignore_ascii_case("GET") {
        let sep = if url.contains('?') { '&' } else { '?' };
        let full = if form.is_empty() { url.to_owned() } else { format!("{url}{sep}{form}") };
        client.get(&full).header("X-Twilio-Signature", signature(auth_token, &full, &[]))
    } else {
        client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("X-Twilio-Signature", signature(auth_token, url, params))
            .body(form)
    };
    let request = request.header("I-Twilio-Idempotency-Token", idempotency_token).timeout(timeout);
    let answer = async {
        let resp = request.send().await.map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        let mut body = Vec::new();
        let mut resp = resp;
        while let Some(chunk) = resp.chunk().await.map_err(|e| e.to_string())? {
            if body.len() + chunk.len() > MAX_ANSWER {
                break;
            }
            body.extend_from_slice(&chunk);
        }
        Ok::<_, String>((status, String::from_utf8_lossy(&body).into_owned()))
    };
    match tokio::time::timeout(timeout, answer).await {
        Ok(Ok((status, body))) => Answer::Status(status, body),
        Ok(Err(e)) => Answer::Failed(e),
        Err(_) => Answer::Failed(format!("no answer within {timeout:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_absolute_http_urls_with_a_host_pass() {
        assert!(valid_url("Url", "https://example.com/hook").is_ok());
        assert!(valid_url("Url", "http://127.0.0.1:8080/x?y=1").is_ok());
        for bad in
            ["ftp://example.com/", "example.com/hook", "http://", "", "javascript:alert(1)", "file:///etc/passwd"]
        {
            let e = valid_url("Url", bad).expect_err(bad);
            assert_eq!(e.0.status, 400, "{bad}");
            assert!(e.0.message.contains("Url"), "{}", e.0.message);
        }
        assert!(valid_url("Url", &format!("https://e.com/{}", "a".repeat(3000))).is_err());
    }
}
