//! Rows as stored, one struct per table, each with the column list its
//! queries select and a `from_row` that reads exactly those columns.
//! Turning rows into wire JSON (with URLs) is `server::render`'s job.

use super::db::{Result, Row};

#[derive(Debug, Clone)]
pub struct ConversationRow {
    pub id: i64,
    pub sid: String,
    pub unique_name: Option<String>,
    pub friendly_name: Option<String>,
    pub attributes: String,
    pub state: String,
    pub messaging_service_sid: Option<String>,
    pub date_created: i64,
    pub date_updated: i64,
    pub date_inactive: Option<i64>,
    pub date_closed: Option<i64>,
    pub bindings: Option<String>,
    pub created_by: Option<String>,
    pub messages_count: i64,
    pub participants_count: i64,
    pub last_message_index: Option<i64>,
    pub last_message_date: Option<i64>,
}

impl ConversationRow {
    pub const COLUMNS: &'static str = "c.id, c.sid, c.unique_name, c.friendly_name, c.attributes, c.state, \
        c.messaging_service_sid, c.date_created, c.date_updated, c.date_inactive, c.date_closed, c.bindings, \
        c.created_by, c.messages_count, c.participants_count, c.last_message_index, c.last_message_date";

    pub fn from_row(r: &Row<'_>) -> Result<Self> {
        Self::from_row_at(r, 0)
    }

    /// Reads the columns starting at column `at` (after a joined table's columns).
    pub fn from_row_at(r: &Row<'_>, at: usize) -> Result<Self> {
        Ok(Self {
            id: r.get(at)?,
            sid: r.get(at + 1)?,
            unique_name: r.get(at + 2)?,
            friendly_name: r.get(at + 3)?,
            attributes: r.get(at + 4)?,
            state: r.get(at + 5)?,
            messaging_service_sid: r.get(at + 6)?,
            date_created: r.get(at + 7)?,
            date_updated: r.get(at + 8)?,
            date_inactive: r.get(at + 9)?,
            date_closed: r.get(at + 10)?,
            bindings: r.get(at + 11)?,
            created_by: r.get(at + 12)?,
            messages_count: r.get(at + 13)?,
            participants_count: r.get(at + 14)?,
            last_message_index: r.get(at + 15)?,
            last_message_date: r.get(at + 16)?,
        })
    }

    /// Whether the attributes mark this conversation as open to anyone who asks to join.
    pub fn is_public(&self) -> bool {
        serde_json::from_str::<serde_json::Value>(&self.attributes)
            .ok()
            .and_then(|v| v.get("public").and_then(serde_json::Value::as_bool))
            .unwrap_or(false)
    }
}

#[derive(Debug, Clone)]
pub struct MessageRow {
    pub conversation_sid: String,
    pub idx: i64,
    pub sid: String,
    pub author: Option<String>,
    pub body: Option<String>,
    pub attributes: String,
    pub participant_sid: Option<String>,
    pub date_created: i64,
    pub date_updated: Option<i64>,
    pub media: Option<String>,
    pub content_sid: Option<String>,
}

impl MessageRow {
    pub const COLUMNS: &'static str = "m.conversation_sid, m.idx, m.sid, m.author, m.body, m.attributes, \
        m.participant_sid, m.date_created, m.date_updated, m.media, m.content_sid";

    pub fn from_row(r: &Row<'_>) -> Result<Self> {
        Ok(Self {
            conversation_sid: r.get(0)?,
            idx: r.get(1)?,
            sid: r.get(2)?,
            author: r.get(3)?,
            body: r.get(4)?,
            attributes: r.get(5)?,
            participant_sid: r.get(6)?,
            date_created: r.get(7)?,
            date_updated: r.get(8)?,
            media: r.get(9)?,
            content_sid: r.get(10)?,
        })
    }
}

#[derive(Debug, Clone)]
pub struct ParticipantRow {
    pub id: i64,
    pub sid: String,
    pub conversation_sid: String,
    pub identity: Option<String>,
    pub attributes: String,
    pub binding: Option<String>,
    pub role_sid: Option<String>,
    pub date_created: i64,
    pub date_updated: i64,
    pub last_read_index: Option<i64>,
    pub last_read_ts: Option<i64>,
    pub notification_level: String,
}

impl ParticipantRow {
    pub const COLUMNS: &'static str = "p.id, p.sid, p.conversation_sid, p.identity, p.attributes, p.binding, \
        p.role_sid, p.date_created, p.date_updated, p.last_read_index, p.last_read_ts, p.notification_level";

    pub fn from_row(r: &Row<'_>) -> Result<Self> {
        Ok(Self {
            id: r.get(0)?,
            sid: r.get(1)?,
            conversation_sid: r.get(2)?,
            identity: r.get(3)?,
            attributes: r.get(4)?,
            binding: r.get(5)?,
            role_sid: r.get(6)?,
            date_created: r.get(7)?,
            date_updated: r.get(8)?,
            last_read_index: r.get(9)?,
            last_read_ts: r.get(10)?,
            notification_level: r.get(11)?,
        })
    }
}

#[derive(Debug, Clone)]
pub struct UserRow {
    pub id: i64,
    pub sid: String,
    pub identity: String,
    pub friendly_name: Option<String>,
    pub attributes: String,
    pub role_sid: Option<String>,
    pub date_created: i64,
    pub date_updated: i64,
}

impl UserRow {
    pub const COLUMNS: &'static str =
        "u.id, u.sid, u.identity, u.friendly_name, u.attributes, u.role_sid, u.date_created, u.date_updated";

    pub fn from_row(r: &Row<'_>) -> Result<Self> {
        Ok(Self {
            id: r.get(0)?,
            sid: r.get(1)?,
            identity: r.get(2)?,
            friendly_name: r.get(3)?,
            attributes: r.get(4)?,
            role_sid: r.get(5)?,
            date_created: r.get(6)?,
            date_updated: r.get(7)?,
        })
    }
}

/// One participant with its conversation: a row of User Conversations and
/// ParticipantConversations, plus the user's unread count.
#[derive(Debug, Clone)]
pub struct MembershipRow {
    pub participant: ParticipantRow,
    pub conversation: ConversationRow,
    pub unread: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct RoleRow {
    pub id: i64,
    pub sid: String,
    pub friendly_name: String,
    /// `conversation` or `service`.
    pub role_type: String,
    /// A JSON array of permission names.
    pub permissions: String,
    pub date_created: i64,
    pub date_updated: i64,
}

impl RoleRow {
    pub const COLUMNS: &'static str =
        "r.id, r.sid, r.friendly_name, r.type, r.permissions, r.date_created, r.date_updated";

    pub fn from_row(r: &Row<'_>) -> Result<Self> {
        Ok(Self {
            id: r.get(0)?,
            sid: r.get(1)?,
            friendly_name: r.get(2)?,
            role_type: r.get(3)?,
            permissions: r.get(4)?,
            date_created: r.get(5)?,
            date_updated: r.get(6)?,
        })
    }

    /// The permission names stored.
    pub fn permission_names(&self) -> Vec<String> {
        serde_json::from_str(&self.permissions).unwrap_or_default()
    }
}

/// The service configuration row.
#[derive(Debug, Clone, Default)]
pub struct ServiceConfigurationRow {
    pub default_conversation_creator_role_sid: Option<String>,
    pub default_conversation_role_sid: Option<String>,
    pub default_chat_service_role_sid: Option<String>,
    pub reachability_enabled: bool,
}

/// The account configuration row.
#[derive(Debug, Clone, Default)]
pub struct AccountConfigurationRow {
    pub default_chat_service_sid: Option<String>,
    pub default_messaging_service_sid: Option<String>,
    pub default_inactive_timer: Option<String>,
    pub default_closed_timer: Option<String>,
}
