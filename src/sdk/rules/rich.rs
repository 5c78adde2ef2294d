//! The rich-message conventions every front end reads the same way: a reply's
//! `attributes.reply_to`, reactions in `attributes.reactions` (the shape of
//! Twilio's demo app), a message's `media` array, and "read by" from
//! participants' read horizons.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::api::Participant;

/// The reaction names of Twilio's demo app, in the order it shows them.
pub const REACTIONS: [&str; 6] = ["heart", "thumbs_up", "laugh", "sad", "pouting", "thumbs_down"];

/// What a reply points at: `attributes.reply_to` of the reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyTo {
    pub message_sid: String,
    pub index: i64,
    pub author: String,
}

/// The message a reply answers, if `attributes` says it is one.
pub fn reply_to(attributes: &Value) -> Option<ReplyTo> {
    let r = attributes.get("reply_to")?;
    Some(ReplyTo {
        message_sid: r.get("message_sid")?.as_str()?.to_owned(),
        index: r.get("index")?.as_i64()?,
        author: r.get("author").and_then(Value::as_str).unwrap_or_default().to_owned(),
    })
}

/// `attributes` (an object, or nothing) with `reply_to` set to `target`;
/// other keys are kept.
pub fn with_reply_to(attributes: Option<Value>, target: &ReplyTo) -> Value {
    let mut map = match attributes {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    };
    let mut r = Map::new();
    r.insert("message_sid".into(), Value::from(target.message_sid.clone()));
    r.insert("index".into(), Value::from(target.index));
    r.insert("author".into(), Value::from(target.author.clone()));
    map.insert("reply_to".into(), Value::Object(r));
    Value::Object(map)
}

/// Reactions as (name, identities): the demo app's names first in its order,
/// then other keys sorted; names nobody holds and non-string identities are
/// left out, and an identity counts once per reaction.
pub fn reactions(attributes: &Value) -> Vec<(String, Vec<String>)> {
    let Some(map) = attributes.get("reactions").and_then(Value::as_object) else { return Vec::new() };
    let mut out: Vec<(String, Vec<String>)> = map
        .iter()
        .filter_map(|(name, who)| {
            let mut ids: Vec<String> = who.as_array()?.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect();
            ids.sort();
            ids.dedup();
            (!ids.is_empty()).then(|| (name.clone(), ids))
        })
        .collect();
    let rank = |n: &str| REACTIONS.iter().position(|r| *r == n).unwrap_or(REACTIONS.len());
    out.sort_by(|a, b| rank(&a.0).cmp(&rank(&b.0)).then_with(|| a.0.cmp(&b.0)));
    out
}

/// One entry of a message's `media`: Twilio's `{sid, content_type, filename,
/// size, category}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaDescriptor {
    pub sid: String,
    pub content_type: String,
    #[serde(default)]
    pub filename: Option<String>,
    #[serde(default)]
    pub size: u64,
    #[serde(default = "media_category")]
    pub category: String,
}

fn media_category() -> String {
    "media".into()
}

/// The media a message carries (its `media` array), in order; entries that
/// are not media descriptors are left out.
pub fn attached_media(media: Option<&Value>) -> Vec<MediaDescriptor> {
    let Some(items) = media.and_then(Value::as_array) else { return Vec::new() };
    items.iter().filter_map(|m| serde_json::from_value(m.clone()).ok()).collect()
}

/// Identities of the chat participants whose read horizon reaches `index`,
/// sorted, without the message's author (who has read it by writing it).
pub fn read_by<'a>(
    participants: impl IntoIterator<Item = &'a Participant>,
    index: i64,
    author: Option<&str>,
) -> Vec<String> {
    let mut out: Vec<String> = participants
        .into_iter()
        .filter(|p| p.last_read_message_index.is_some_and(|h| h >= index))
        .filter_map(|p| p.identity.clone())
        .filter(|id| Some(id.as_str()) != author)
        .collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reply_to_round_trips_and_keeps_other_attributes() {
        let target = ReplyTo { message_sid: "IM1".into(), index: 7, author: "bob".into() };
        let attrs = with_reply_to(Some(json!({"color": "red"})), &target);
        assert_eq!(attrs["color"], "red");
        assert_eq!(reply_to(&attrs), Some(target.clone()));
        assert_eq!(with_reply_to(Some(json!([1, 2])), &target)["reply_to"]["index"], 7);
        assert_eq!(reply_to(&json!({"reply_to": {"index": 3}})), None);
        assert_eq!(reply_to(&json!({"reply_to": "IM1"})), None);
    }

    #[test]
    fn reactions_come_in_the_demo_apps_order_without_empty_or_odd_entries() {
        let attrs = json!({"reactions": {
            "zzz": ["a"], "thumbs_up": ["b", "a", "b"], "heart": ["c"], "sad": [], "laugh": [1, "d"], "bad": "x"
        }});
        let r = reactions(&attrs);
        let names: Vec<&str> = r.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["heart", "thumbs_up", "laugh", "zzz"]);
        assert_eq!(r[1].1, ["a", "b"]);
        assert_eq!(r[2].1, ["d"]);
        assert!(reactions(&json!({"reactions": 5})).is_empty());
    }

    #[test]
    fn attached_media_reads_twilios_array_and_skips_odd_entries() {
        let media = json!([
            {"sid": "ME1", "content_type": "image/png", "filename": "a.png", "size": 3, "category": "media"},
            {"sid": "ME2", "content_type": "text/plain"},
            {"content_type": "no sid"},
            "ME3"
        ]);
        let m = attached_media(Some(&media));
        assert_eq!(m.len(), 2);
        assert_eq!((m[0].sid.as_str(), m[0].filename.as_deref(), m[0].size), ("ME1", Some("a.png"), 3));
        assert_eq!((m[1].filename.clone(), m[1].size, m[1].category.as_str()), (None, 0, "media"));
        assert!(attached_media(None).is_empty());
        assert!(attached_media(Some(&json!({"sid": "ME1"}))).is_empty());
    }
}
