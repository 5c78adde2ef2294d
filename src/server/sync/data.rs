//! REST resources → the data of Sync items and documents, in the names and
//! shapes the Conversations SDK reads (camelCase; attributes as JSON strings).
//! The one conversion: object reads and event pushes both go through here.

use serde_json::{Value, json};

use super::Object;
use crate::api::resources::{Conversation, Message, Participant, User, UserConversation};

/// The conversation document: its properties, where its list and roster are,
/// and its last message.
pub fn conversation(c: &Conversation) -> Value {
    let mut doc = json!({
        "messages": Object::Messages(c.sid.clone()).name(),
        "roster": Object::Roster(c.sid.clone()).name(),
        "friendlyName": c.friendly_name,
        "uniqueName": c.unique_name,
        "attributes": c.attributes,
        "createdBy": c.created_by.clone().unwrap_or_default(),
        "dateCreated": c.date_created,
        "dateUpdated": c.date_updated,
        "state": {"current": c.state, "dateUpdated": c.date_updated},
    });
    if let Some(last) = &c.last_message {
        doc["lastMessage"] = json!({"index": last.index, "timestamp": last.date_created});
    }
    doc
}

/// A message, as an item of the messages list.
pub fn message(m: &Message) -> Value {
    let medias: Vec<Value> = m
        .media
        .as_ref()
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .map(|x| {
                    json!({
                        "sid": x.get("sid"),
                        "category": x.get("category").and_then(Value::as_str).unwrap_or("media"),
                        "filename": x.get("filename"),
                        "contentType": x.get("content_type"),
                        "size": x.get("size"),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let mut item = json!({
        "sid": m.sid,
        "author": m.author,
        "text": m.body,
        "timestamp": m.date_created,
        "dateUpdated": m.date_updated.clone().unwrap_or_else(|| m.date_created.clone()),
        "attributes": m.attributes,
        "type": if medias.is_empty() { "text" } else { "media" },
        "memberSid": m.participant_sid,
    });
    if let Some(content) = &m.content_sid {
        item["contentSid"] = json!(content);
    }
    if !medias.is_empty() {
        item["medias"] = Value::Array(medias);
    }
    item
}

/// A participant, as an item of the roster (keyed by its SID).
pub fn participant(p: &Participant) -> Value {
    let kind = match p.messaging_binding.as_ref().and_then(|b| b.get("type")).and_then(Value::as_str) {
        Some(t) => t.to_owned(),
        None => "chat".to_owned(),
    };
    json!({
        "identity": p.identity,
        "type": kind,
        "attributes": p.attributes,
        "dateCreated": p.date_created,
        "dateUpdated": p.date_updated,
        "roleSid": p.role_sid,
        "lastConsumedMessageIndex": p.last_read_message_index,
        "lastConsumptionTimestamp": p.last_read_timestamp,
        "userInfo": p.identity.as_ref().map(|i| Object::UserInfo(i.clone()).name()),
        "bindings": p.messaging_binding.clone().map_or(json!({}), |b| json!({ kind.clone(): b })),
    })
}

/// A conversation in a person's conversations map (the SDK reads it as the
/// conversation's descriptor: where its document is, and the person's state in it).
pub fn my_conversation(m: &UserConversation, last: Option<(i64, &str)>) -> Value {
    let mut item = membership(&m.conversation_sid, m.last_read_message_index, m.notification_level.as_str());
    item["friendlyName"] = json!(m.friendly_name);
    item["uniqueName"] = json!(m.unique_name);
    item["attributes"] = json!(m.attributes);
    item["createdBy"] = json!(m.created_by.clone().unwrap_or_default());
    item["dateCreated"] = json!(m.date_created);
    item["dateUpdated"] = json!(m.date_updated);
    if let Some((index, timestamp)) = last {
        item["lastMessage"] = json!({"index": index, "timestamp": timestamp});
    }
    item
}

/// A conversation just joined, as far as the conversation tells (no read horizon yet).
pub fn new_membership(c: &Conversation) -> Value {
    let mut item = conversation(c);
    for (k, v) in membership(&c.sid, None, "default").as_object().into_iter().flatten() {
        item[k] = v.clone();
    }
    item
}

fn membership(conversation_sid: &str, last_read: Option<i64>, level: &str) -> Value {
    json!({
        "channel": Object::Conversation(conversation_sid.to_owned()).name(),
        "status": "joined",
        "lastConsumedMessageIndex": last_read,
        "notificationLevel": level,
    })
}

/// The items of a user's map: `friendlyName`, `attributes` and, with
/// reachability on, `reachability`.
pub fn user_items(u: &User) -> Vec<(&'static str, Value)> {
    let mut items =
        vec![("friendlyName", json!({"value": u.friendly_name})), ("attributes", json!({"value": u.attributes}))];
    // With reachability on, `is_online` is set; `is_notifiable` stays null
    // without push registrations, which the SDK reads as not notifiable.
    if let Some(online) = u.is_online {
        items.push(("reachability", json!({"online": online, "notifiable": u.is_notifiable.unwrap_or(false)})));
    }
    items
}
