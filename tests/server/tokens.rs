//! Access tokens: accepted when minted with the server's API key; forged,
//! expired, too long-lived, malformed or foreign ones get 401 with Twilio's code.

use convo_tui::api::time::now_unix;
use convo_tui::api::token::TokenIssuer;

use crate::common::*;

#[tokio::test]
async fn a_valid_token_acts_as_its_identity() {
    let t = TestServer::start().await;
    let (status, c) = t.post(&person("alice"), "/v1/Conversations", &[("FriendlyName", "mine")]).await;
    assert_eq!(status, 201, "{c}");
    assert_eq!(c["created_by"], "alice");
    assert_eq!(c["participants_count"], 1);
    // Their user exists from their first call.
    assert_eq!(t.get(&person("alice"), "/v1/Users/alice").await.0, 200);
}

#[tokio::test]
async fn forged_expired_and_malformed_tokens_are_refused() {
    let t = TestServer::start().await;
    let now = now_unix();
    let forged = TokenIssuer {
        account_sid: &t.creds.account_sid,
        api_key_sid: &t.creds.api_key_sid,
        api_key_secret: "not-the-secret",
        service_sid: None,
    }
    .mint("alice", now, 600);
    assert_error(&t.get(&As::Token(forged), "/v1/Conversations").await, 401, 20107);
    let expired = t.token_with("alice", now - 7200, 3600);
    assert_error(&t.get(&As::Token(expired), "/v1/Conversations").await, 401, 20104);
    let too_long = t.token_with("alice", now, 25 * 3600);
    assert_error(&t.get(&As::Token(too_long), "/v1/Conversations").await, 401, 20104);
    assert_error(&t.get(&As::Token("garbage".into()), "/v1/Conversations").await, 401, 20101);
    let other_key = TokenIssuer {
        account_sid: &t.creds.account_sid,
        api_key_sid: "SK11111111111111111111111111111111",
        api_key_secret: &t.creds.api_key_secret,
        service_sid: None,
    }
    .mint("alice", now, 600);
    assert_error(&t.get(&As::Token(other_key), "/v1/Conversations").await, 401, 20103);
    let no_identity = t.token_with("", now, 600);
    assert_error(&t.get(&As::Token(no_identity), "/v1/Conversations").await, 401, 20106);
    // The Auth Token cannot stand in for the API secret, and tokens do not work as Basic passwords.
    let wrong = reqwest::Client::new()
        .get(format!("{}/v1/Conversations", t.base))
        .basic_auth(&t.creds.api_key_sid, Some(&t.creds.auth_token))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
}

#[tokio::test]
async fn tokens_without_twilio_header_or_not_yet_valid_are_refused() {
    let t = TestServer::start().await;
    let now = now_unix();
    // A well-signed JWT without Twilio's `cty: twilio-fpa;v=1` header.
    let claims = serde_json::json!({
        "jti": "x", "iss": t.creds.api_key_sid, "sub": t.creds.account_sid,
        "nbf": now, "exp": now + 600, "grants": {"identity": "alice"},
    });
    let plain = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(t.creds.api_key_secret.as_bytes()),
    )
    .unwrap();
    assert_error(&t.get(&As::Token(plain), "/v1/Conversations").await, 401, 20102);
    let early = t.token_with("alice", now + 3600, 600);
    assert_error(&t.get(&As::Token(early), "/v1/Conversations").await, 401, 20105);
}
