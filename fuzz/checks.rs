//! The properties each fuzz target checks, shared by the cargo-fuzz targets in
//! `fuzz_targets/` and by `tests/hostile.rs`, which replays `fuzz/regressions/`
//! through the same functions in a normal `cargo test`. Each takes raw bytes and
//! panics only when a property of our code is broken.

// Each includer uses a subset of these functions.
#![allow(dead_code)]

use convo_tui::api::page::PageToken;
use convo_tui::api::params::{
    ConversationParams, ListQuery, MessageParams, ParticipantParams, UserConversationParams, UserParams,
};
use convo_tui::api::stream::{ClientFrame, ServerEvent};
use convo_tui::api::token::{self, TokenIssuer};
use convo_tui::server::twilsock::Frame;
use convo_tui::server::validate;
use convo_tui::tui::sanitize;
use serde::Serialize;
use serde::de::DeserializeOwned;

const AC: &str = "AC0123456789abcdef0123456789abcdef";
const SK: &str = "SK0123456789abcdef0123456789abcdef";
const SECRET: &str = "fuzz-secret";
const NOW: i64 = 1_700_000_000;

/// Decodes `form` as `T`; what decodes must re-encode to a form that decodes to
/// the same value (the SDK encodes what the server decodes).
fn form_round_trip<T: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug>(form: &str) {
    let Ok(value) = serde_html_form::from_str::<T>(form) else { return };
    let encoded = serde_html_form::to_string(&value).expect("a decoded form re-encodes");
    let again: T = serde_html_form::from_str(&encoded).expect("a re-encoded form decodes");
    assert_eq!(value, again, "form {form:?} re-encoded as {encoded:?}");
}

/// Form bodies and list queries: every params type of `api::params`, and the
/// values the server parses out of them (dates, page tokens).
pub fn form(data: &[u8]) {
    let _ = serde_html_form::from_bytes::<MessageParams>(data);
    let Ok(form) = std::str::from_utf8(data) else { return };
    form_round_trip::<ConversationParams>(form);
    form_round_trip::<MessageParams>(form);
    form_round_trip::<ParticipantParams>(form);
    form_round_trip::<UserParams>(form);
    form_round_trip::<UserConversationParams>(form);
    form_round_trip::<ListQuery>(form);
    if let Ok(p) = serde_html_form::from_str::<ConversationParams>(form) {
        server_validation(&p);
    }
    if let Ok(q) = serde_html_form::from_str::<ListQuery>(form) {
        if let Some(t) = q.page_token.as_deref().and_then(PageToken::parse) {
            assert_eq!(PageToken::parse(&t.to_string()), Some(t.clone()), "page token round trip");
            let _ = t.int_key();
        }
        if let Some(d) = q.start_date.as_deref().and_then(convo_tui::api::time::parse_unix) {
            let _ = convo_tui::api::time::format_unix(d);
        }
    }
}

/// The server's own checks of form values: each answers a value or a 400.
fn server_validation(p: &ConversationParams) {
    let values = [&p.friendly_name, &p.unique_name, &p.attributes, &p.timers_inactive, &p.date_created, &p.state];
    for v in values.into_iter().flatten() {
        let refused = [
            validate::attributes("Attributes", v, validate::CONVERSATION_ATTRIBUTES_BYTES).err(),
            validate::name("FriendlyName", v).err(),
            validate::unique_name(v).err(),
            validate::identity(v).err(),
            validate::date("DateCreated", v).err(),
            validate::duration("Timers.Inactive", v).err(),
            validate::read_index("LastReadMessageIndex", v).err(),
        ];
        for e in refused.into_iter().flatten() {
            assert_eq!(e.0.status, 400, "{v:?}: {}", e.0);
        }
    }
}

/// Access tokens: arbitrary text must be refused with a Twilio error, never a
/// panic; and when the input is JSON, it is signed as claims with the right key,
/// so claim validation (times, issuer, identity) meets hostile values too.
pub fn token(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(identity) = token::verify(text, AC, SK, SECRET, NOW) {
        assert!(!identity.is_empty());
    }
    if let Ok(claims) = serde_json::from_str::<serde_json::Value>(text) {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        header.cty = Some("twilio-fpa;v=1".into());
        let key = jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes());
        if let Ok(t) = jsonwebtoken::encode(&header, &claims, &key)
            && let Err(e) = token::verify(&t, AC, SK, SECRET, NOW)
        {
            assert_eq!(e.status, 401, "{e}");
        }
    }
    // A freshly minted token for any identity verifies to that identity, but
    // for none (20106) and one holding a NUL, which no store keeps (20101).
    let issuer = TokenIssuer { account_sid: AC, api_key_sid: SK, api_key_secret: SECRET, service_sid: None };
    let minted = issuer.mint(text, NOW, 3600);
    match token::verify(&minted, AC, SK, SECRET, NOW + 1) {
        Ok(identity) => assert_eq!(identity, text),
        Err(e) if text.is_empty() => assert_eq!(e.code, 20106, "{e}"),
        Err(e) => assert!(text.contains('\0') && e.code == 20101, "{e}"),
    }
}

/// Stream frames: whatever parses re-serializes to a frame that parses equal.
pub fn frames(data: &[u8]) {
    if let Ok(f) = serde_json::from_slice::<ClientFrame>(data) {
        let json = serde_json::to_string(&f).expect("a client frame serializes");
        assert_eq!(serde_json::from_str::<ClientFrame>(&json).expect("and parses back"), f);
    }
    if let Ok(e) = serde_json::from_slice::<ServerEvent>(data) {
        let json = serde_json::to_string(&e).expect("a server event serializes");
        assert_eq!(serde_json::from_str::<ServerEvent>(&json).expect("and parses back"), e);
    }
}

/// Twilsock frames from a client: bytes either decode or are refused (never a
/// panic), and what decodes re-encodes to a frame that decodes the same.
pub fn twilsock_frames(data: &[u8]) {
    let Ok(frame) = Frame::decode(data) else { return };
    let again = Frame::decode(&frame.clone().encode()).expect("an encoded frame decodes");
    let without_size = |f: &Frame| {
        let mut h = f.header.clone();
        h.remove("payload_size");
        h
    };
    assert_eq!(without_size(&again), without_size(&frame));
    assert_eq!(again.payload, frame.payload);
}

/// The TUI's sanitizer: no control character but a newline (and none at all in
/// a one-line field), no bidi override or isolate, and sanitizing twice changes nothing.
pub fn sanitize(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let bidi =
        |c: char| matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
    let body = sanitize::text(text);
    assert!(body.chars().all(|c| (c == '\n' || !c.is_control()) && !bidi(c)), "{text:?} -> {body:?}");
    assert_eq!(sanitize::text(&body), body, "not idempotent on {text:?}");
    let line = sanitize::line(text);
    assert!(line.chars().all(|c| !c.is_control() && !bidi(c)), "{text:?} -> {line:?}");
    assert_eq!(sanitize::line(&line), line, "not idempotent on {text:?}");
}
