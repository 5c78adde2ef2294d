//! Form parameters (`application/x-www-form-urlencoded`, PascalCase names) and
//! list query parameters, as Twilio's spec names them. The server decodes them
//! with `serde_html_form` (repeated keys, dotted names); the SDK encodes them the
//! same way. Values stay strings where the server must answer a bad one with a
//! Twilio error (20001) naming the parameter, rather than a generic decode error.

use serde::{Deserialize, Serialize};

/// `POST /v1/Conversations` and `POST /v1/Conversations/{Sid}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ConversationParams {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub friendly_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unique_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_created: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_updated: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messaging_service_sid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributes: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(rename = "Timers.Inactive", skip_serializing_if = "Option::is_none")]
    pub timers_inactive: Option<String>,
    #[serde(rename = "Timers.Closed", skip_serializing_if = "Option::is_none")]
    pub timers_closed: Option<String>,
    #[serde(rename = "Bindings.Email.Address", skip_serializing_if = "Option::is_none")]
    pub bindings_email_address: Option<String>,
    #[serde(rename = "Bindings.Email.Name", skip_serializing_if = "Option::is_none")]
    pub bindings_email_name: Option<String>,
}

/// `POST …/Messages` and `POST …/Messages/{Sid}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MessageParams {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_created: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_updated: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributes: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub media_sid: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_sid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_variables: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
}

/// `POST …/Participants` and `POST …/Participants/{Sid}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ParticipantParams {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    #[serde(rename = "MessagingBinding.Address", skip_serializing_if = "Option::is_none")]
    pub messaging_binding_address: Option<String>,
    #[serde(rename = "MessagingBinding.ProxyAddress", skip_serializing_if = "Option::is_none")]
    pub messaging_binding_proxy_address: Option<String>,
    #[serde(rename = "MessagingBinding.ProjectedAddress", skip_serializing_if = "Option::is_none")]
    pub messaging_binding_projected_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_created: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_updated: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributes: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_sid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_read_message_index: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_read_timestamp: Option<String>,
}

/// `POST /v1/Users` and `POST /v1/Users/{Sid}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserParams {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub friendly_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributes: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_sid: Option<String>,
}

/// `POST /v1/Users/{UserSid}/Conversations/{ConversationSid}`.
///
/// `LastReadMessageIndex` may be sent empty (`LastReadMessageIndex=`) to clear
/// the read horizon, which is how `set_all_messages_unread` is expressed in a form.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserConversationParams {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notification_level: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_read_timestamp: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_read_message_index: Option<String>,
}

/// Query parameters of list endpoints. Which apply depends on the list.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_size: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_token: Option<String>,
    /// Messages: `asc` (default) or `desc`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<String>,
    /// Conversations: `active`, `inactive` or `closed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_date: Option<String>,
    /// ParticipantConversations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// ParticipantConversations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_pascal_names_round_trip() {
        let form = "FriendlyName=Team&Timers.Inactive=PT5M&Attributes=%7B%7D";
        let p: ConversationParams = serde_html_form::from_str(form).unwrap();
        assert_eq!(p.friendly_name.as_deref(), Some("Team"));
        assert_eq!(p.timers_inactive.as_deref(), Some("PT5M"));
        assert_eq!(p.attributes.as_deref(), Some("{}"));
        assert_eq!(serde_html_form::to_string(&p).unwrap(), "FriendlyName=Team&Attributes=%7B%7D&Timers.Inactive=PT5M");
    }

    #[test]
    fn repeated_media_sids_collect() {
        let p: MessageParams = serde_html_form::from_str("Body=hi&MediaSid=ME1&MediaSid=ME2").unwrap();
        assert_eq!(p.media_sid, ["ME1", "ME2"]);
    }
}
