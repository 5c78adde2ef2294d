//! Twilio's webhook events and the form parameters each carries, built from
//! the same JSON the REST API returns for the resource (so a webhook says what
//! a fetch would). Names and values as Twilio sends them; null fields are left out.

use serde_json::Value;

use super::origin::Origin;

/// Post-event webhooks (fired after the change is stored).
pub mod post {
    pub const CONVERSATION_ADDED: &str = "onConversationAdded";
    pub const CONVERSATION_UPDATED: &str = "onConversationUpdated";
    pub const CONVERSATION_REMOVED: &str = "onConversationRemoved";
    pub const CONVERSATION_STATE_UPDATED: &str = "onConversationStateUpdated";
    pub const MESSAGE_ADDED: &str = "onMessageAdded";
    pub const MESSAGE_UPDATED: &str = "onMessageUpdated";
    pub const MESSAGE_REMOVED: &str = "onMessageRemoved";
    pub const PARTICIPANT_ADDED: &str = "onParticipantAdded";
    pub const PARTICIPANT_UPDATED: &str = "onParticipantUpdated";
    pub const PARTICIPANT_REMOVED: &str = "onParticipantRemoved";
    pub const USER_ADDED: &str = "onUserAdded";
    pub const USER_UPDATED: &str = "onUserUpdated";
    pub const DELIVERY_UPDATED: &str = "onDeliveryUpdated";
}

/// Pre-event webhooks (fired before the change; the answer may refuse or modify it).
pub mod pre {
    pub const CONVERSATION_ADD: &str = "onConversationAdd";
    pub const CONVERSATION_UPDATE: &str = "onConversationUpdate";
    pub const CONVERSATION_REMOVE: &str = "onConversationRemove";
    pub const MESSAGE_ADD: &str = "onMessageAdd";
    pub const MESSAGE_UPDATE: &str = "onMessageUpdate";
    pub const MESSAGE_REMOVE: &str = "onMessageRemove";
    pub const PARTICIPANT_ADD: &str = "onParticipantAdd";
    pub const PARTICIPANT_UPDATE: &str = "onParticipantUpdate";
    pub const PARTICIPANT_REMOVE: &str = "onParticipantRemove";
    pub const USER_UPDATE: &str = "onUserUpdate";
}

/// Every event name a filter may hold (Twilio's list for the account and service scopes).
pub const ALL: &[&str] = &[
    post::CONVERSATION_ADDED,
    post::CONVERSATION_UPDATED,
    post::CONVERSATION_REMOVED,
    post::CONVERSATION_STATE_UPDATED,
    post::MESSAGE_ADDED,
    post::MESSAGE_UPDATED,
    post::MESSAGE_REMOVED,
    post::PARTICIPANT_ADDED,
    post::PARTICIPANT_UPDATED,
    post::PARTICIPANT_REMOVED,
    post::USER_ADDED,
    post::USER_UPDATED,
    post::DELIVERY_UPDATED,
    pre::CONVERSATION_ADD,
    pre::CONVERSATION_UPDATE,
    pre::CONVERSATION_REMOVE,
    pre::MESSAGE_ADD,
    pre::MESSAGE_UPDATE,
    pre::MESSAGE_REMOVE,
    pre::PARTICIPANT_ADD,
    pre::PARTICIPANT_UPDATE,
    pre::PARTICIPANT_REMOVE,
    pre::USER_UPDATE,
];

/// Form parameters, in the order they were added (signing sorts them).
pub type Params = Vec<(String, String)>;

fn text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// Copies JSON fields into parameters: `(field, Param)` pairs, nulls left out.
fn copy(params: &mut Params, v: &Value, fields: &[(&str, &str)]) {
    for (field, name) in fields {
        if let Some(t) = v.get(*field).and_then(text) {
            params.push(((*name).to_owned(), t));
        }
    }
}

/// The parameters every event carries: who, where, what.
pub fn common(event: &str, account_sid: &str, service_sid: &str, origin: Option<&Origin>) -> Params {
    let mut p = vec![
        ("EventType".to_owned(), event.to_owned()),
        ("AccountSid".to_owned(), account_sid.to_owned()),
        ("ChatServiceSid".to_owned(), service_sid.to_owned()),
        ("Source".to_owned(), Origin::source(origin).to_owned()),
    ];
    if let Some(identity) = origin.and_then(|o| o.client_identity.as_ref()) {
        p.push(("ClientIdentity".to_owned(), identity.clone()));
    }
    p
}

/// A message (REST JSON): onMessageAdd[ed], onMessageUpdate[d], onMessageRemove[d].
pub fn message(params: &mut Params, m: &Value) {
    copy(
        params,
        m,
        &[
            ("conversation_sid", "ConversationSid"),
            ("sid", "MessageSid"),
            ("index", "Index"),
            ("author", "Author"),
            ("body", "Body"),
            ("attributes", "Attributes"),
            ("participant_sid", "ParticipantSid"),
            ("date_created", "DateCreated"),
            ("date_updated", "DateUpdated"),
        ],
    );
    if let Some(media) = m.get("media").filter(|v| !v.is_null()) {
        params.push(("Media".to_owned(), media.to_string()));
    }
}

/// A conversation (REST JSON).
pub fn conversation(params: &mut Params, c: &Value) {
    copy(
        params,
        c,
        &[
            ("sid", "ConversationSid"),
            ("friendly_name", "FriendlyName"),
            ("unique_name", "UniqueName"),
            ("attributes", "Attributes"),
            ("state", "State"),
            ("messaging_service_sid", "MessagingServiceSid"),
            ("date_created", "DateCreated"),
            ("date_updated", "DateUpdated"),
        ],
    );
}

/// A participant (REST JSON).
pub fn participant(params: &mut Params, p: &Value) {
    copy(
        params,
        p,
        &[
            ("conversation_sid", "ConversationSid"),
            ("sid", "ParticipantSid"),
            ("identity", "Identity"),
            ("attributes", "Attributes"),
            ("role_sid", "RoleSid"),
            ("date_created", "DateCreated"),
            ("date_updated", "DateUpdated"),
            ("last_read_message_index", "LastReadMessageIndex"),
            ("last_read_timestamp", "LastReadTimestamp"),
        ],
    );
    if let Some(b) = p.get("messaging_binding").filter(|b| b.is_object()) {
        copy(
            params,
            b,
            &[
                ("type", "MessagingBinding.Type"),
                ("address", "MessagingBinding.Address"),
                ("proxy_address", "MessagingBinding.ProxyAddress"),
                ("projected_address", "MessagingBinding.ProjectedAddress"),
            ],
        );
    }
}

/// A user (REST JSON).
pub fn user(params: &mut Params, u: &Value) {
    copy(
        params,
        u,
        &[
            ("sid", "UserSid"),
            ("identity", "Identity"),
            ("friendly_name", "FriendlyName"),
            ("attributes", "Attributes"),
            ("role_sid", "RoleSid"),
            ("date_created", "DateCreated"),
            ("date_updated", "DateUpdated"),
        ],
    );
}

/// Whether a filter list asks for `event`.
pub fn wanted(filters: &[String], event: &str) -> bool {
    filters.iter().any(|f| f == event)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn get<'a>(p: &'a Params, name: &str) -> Option<&'a str> {
        p.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    #[test]
    fn message_parameters_follow_twilio_names_and_leave_out_nulls() {
        let sdk = Origin { client_identity: Some("alice".into()), webhooks_enabled: false };
        let mut p = common(post::MESSAGE_ADDED, "AC1", "IS1", Some(&sdk));
        message(
            &mut p,
            &json!({"conversation_sid": "CH1", "sid": "IM1", "index": 3, "author": "alice", "body": "hi",
                    "attributes": "{}", "participant_sid": null, "date_created": "2026-01-01T00:00:00Z", "media": null}),
        );
        assert_eq!(get(&p, "EventType"), Some("onMessageAdded"));
        assert_eq!(get(&p, "Source"), Some("SDK"));
        assert_eq!(get(&p, "ClientIdentity"), Some("alice"));
        assert_eq!(get(&p, "Index"), Some("3"));
        assert_eq!(get(&p, "MessageSid"), Some("IM1"));
        assert_eq!(get(&p, "ParticipantSid"), None);
        assert_eq!(get(&p, "Media"), None);
    }

    #[test]
    fn participant_bindings_become_dotted_parameters() {
        let mut p = Params::new();
        participant(
            &mut p,
            &json!({"sid": "MB1", "identity": null, "messaging_binding": {"type": "sms", "address": "+1555"}}),
        );
        assert_eq!(get(&p, "MessagingBinding.Address"), Some("+1555"));
        assert_eq!(get(&p, "MessagingBinding.Type"), Some("sms"));
        assert_eq!(get(&p, "Identity"), None);
    }
}
