//! Reactions, kept where Twilio's demo app keeps them: the message's
//! `attributes.reactions = {"heart": [identity, …], …}`, changed only here.
//!
//! Each change is one read-modify-write inside one writer job, so reactions
//! sent at once are never lost: SQLite has the one writer; on PostgreSQL every
//! write batch of the cluster first locks the event log's head row
//! (`SELECT … FOR UPDATE`, see `store::writer`), so no two jobs interleave.

use serde_json::{Map, Value};
use unicode_segmentation::UnicodeSegmentation;

use crate::api::stream::EventName;
use crate::api::time::now_unix;
use crate::server::error::{ApiError, ApiResult};
use crate::server::extract::Ctx;
use crate::server::lookup;
use crate::server::render::{to_conversation, to_value};
use crate::server::rules;
use crate::server::store::messages;
use crate::server::store::rows::MessageRow;
use crate::server::validate;

/// The reactions of Twilio's demo app (twilio-conversations-demo-react).
pub const NAMED: &[&str] = &["heart", "thumbs_up", "laugh", "sad", "pouting", "thumbs_down"];

/// Longest single-emoji reaction, in bytes (a family ZWJ sequence fits).
const EMOJI_BYTES: usize = 32;

/// A reaction name: one of [`NAMED`], or a single emoji (one grapheme of
/// symbols: no letters, digits, spaces or controls), at most [`EMOJI_BYTES`].
pub fn reaction_name(name: &str) -> ApiResult<String> {
    let emoji = name.len() <= EMOJI_BYTES
        && name.graphemes(true).count() == 1
        && name.chars().all(|c| !c.is_ascii() && !c.is_alphanumeric() && !c.is_whitespace() && !c.is_control());
    if NAMED.contains(&name) || emoji {
        Ok(name.to_owned())
    } else {
        Err(ApiError::invalid("Reaction", format!("must be one of {} or a single emoji", NAMED.join(", "))))
    }
}

/// `attributes` with `who` added to (or removed from) reaction `name`;
/// `None` when nothing changes. An empty list disappears.
fn apply(attributes: &str, name: &str, who: &str, add: bool) -> ApiResult<Option<String>> {
    let mut attrs: Value = serde_json::from_str(attributes).unwrap_or(Value::Object(Map::new()));
    let Some(obj) = attrs.as_object_mut() else {
        return Err(ApiError::invalid("Attributes", "are not a JSON object, so they cannot hold reactions"));
    };
    let reactions = obj.entry("reactions").or_insert_with(|| Value::Object(Map::new()));
    if !reactions.is_object() {
        *reactions = Value::Object(Map::new());
    }
    let Some(reactions) = reactions.as_object_mut() else { return Ok(None) };
    let list = reactions.entry(name).or_insert_with(|| Value::Array(Vec::new()));
    if !list.is_array() {
        *list = Value::Array(Vec::new());
    }
    let Some(people) = list.as_array_mut() else { return Ok(None) };
    let had = people.iter().any(|p| p.as_str() == Some(who));
    match (add, had) {
        (true, true) | (false, false) => return Ok(None),
        (true, false) => people.push(Value::String(who.to_owned())),
        (false, true) => people.retain(|p| p.as_str() != Some(who)),
    }
    if people.is_empty() {
        reactions.remove(name);
    }
    let text = attrs.to_string();
    if text.len() > validate::MESSAGE_ATTRIBUTES_BYTES {
        return Err(ApiError::invalid("Reaction", "would make the attributes larger than their limit"));
    }
    Ok(Some(text))
}

/// Operation: `ctx.caller` adds (`add`) or takes back their reaction `name`
/// on message `message` of `conversation`; the message as it is afterwards.
pub async fn react(ctx: &Ctx, conversation: String, message: String, name: String, add: bool) -> ApiResult<MessageRow> {
    let name = reaction_name(&name)?;
    ctx.write(move |conn, caller, urls| {
        let c = lookup::conversation(conn, &conversation)?;
        let s = rules::standing(conn, caller, &c)?;
        let who = rules::reactor(&s)?;
        let mut m = lookup::message(conn, &c, &message)?;
        let Some(attributes) = apply(&m.attributes, &name, &who, add)? else { return Ok((m, Vec::new())) };
        m.attributes = attributes;
        m.date_updated = Some(now_unix());
        messages::update(conn, &m)?;
        let effects = vec![to_conversation(&c.sid, EventName::MessageUpdated, to_value(&urls.message_json(&m)))];
        Ok((m, effects))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_demo_apps_six_or_one_emoji() {
        for ok in ["heart", "thumbs_down", "🎉", "👍🏽", "👨‍👩‍👧"] {
            assert!(reaction_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "love", "🎉🎉", "a", "é", "<script>", "heart "] {
            assert!(reaction_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn adding_and_removing_keeps_other_attributes_and_drops_empty_lists() {
        let a = apply(r#"{"x":1}"#, "heart", "alice", true).unwrap().unwrap();
        let a = apply(&a, "heart", "bob", true).unwrap().unwrap();
        assert_eq!(apply(&a, "heart", "bob", true).unwrap(), None, "twice is once");
        let v: Value = serde_json::from_str(&a).unwrap();
        assert_eq!(v["reactions"]["heart"], serde_json::json!(["alice", "bob"]));
        assert_eq!(v["x"], 1);
        let a = apply(&a, "heart", "alice", false).unwrap().unwrap();
        let a = apply(&a, "heart", "bob", false).unwrap().unwrap();
        let v: Value = serde_json::from_str(&a).unwrap();
        assert_eq!(v["reactions"], serde_json::json!({}));
        assert!(apply("[1]", "heart", "alice", true).is_err());
    }
}
