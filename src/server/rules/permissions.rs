//! Twilio's role vocabulary: the permissions of conversation and service
//! roles, sets of them, and the four default roles made on first start, whose
//! permissions are this server's rules from before roles existed.

use serde::{Deserialize, Serialize};

macro_rules! permissions {
    ($($variant:ident = $name:literal,)*) => {
        /// One permission of Twilio's vocabulary, named as Twilio names it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Permission { $($variant,)* }

        impl Permission {
            pub const ALL: &[Permission] = &[$(Permission::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self { $(Permission::$variant => $name,)* }
            }

            pub fn parse(name: &str) -> Option<Self> {
                match name { $($name => Some(Permission::$variant),)* _ => None }
            }
        }
    };
}

permissions! {
    SendMessage = "sendMessage",
    SendMediaMessage = "sendMediaMessage",
    LeaveConversation = "leaveConversation",
    EditNotificationLevel = "editNotificationLevel",
    AddParticipant = "addParticipant",
    AddNonChatParticipant = "addNonChatParticipant",
    RemoveParticipant = "removeParticipant",
    EditOwnMessage = "editOwnMessage",
    EditAnyMessage = "editAnyMessage",
    EditOwnMessageAttributes = "editOwnMessageAttributes",
    EditAnyMessageAttributes = "editAnyMessageAttributes",
    DeleteOwnMessage = "deleteOwnMessage",
    DeleteAnyMessage = "deleteAnyMessage",
    EditConversationName = "editConversationName",
    EditConversationAttributes = "editConversationAttributes",
    EditOwnParticipantAttributes = "editOwnParticipantAttributes",
    EditAnyParticipantAttributes = "editAnyParticipantAttributes",
    DeleteConversation = "deleteConversation",
    CreateConversation = "createConversation",
    JoinConversation = "joinConversation",
    EditOwnUserInfo = "editOwnUserInfo",
    EditAnyUserInfo = "editAnyUserInfo",
}

use Permission::*;

/// A role's type: `conversation` roles go to participants, `service` roles to users.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RoleType {
    Conversation,
    Service,
}

impl RoleType {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "conversation" => Some(Self::Conversation),
            "service" => Some(Self::Service),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Conversation => "conversation",
            Self::Service => "service",
        }
    }

    /// The permissions a role of this type may hold (Twilio's "Permission
    /// Values"): service roles also carry conversation powers that then hold
    /// in every conversation their user is in.
    pub fn allows(self, p: Permission) -> bool {
        match self {
            Self::Conversation => {
                !matches!(p, CreateConversation | JoinConversation | EditOwnUserInfo | EditAnyUserInfo)
            }
            Self::Service => matches!(
                p,
                CreateConversation
                    | JoinConversation
                    | EditOwnUserInfo
                    | EditAnyUserInfo
                    | AddParticipant
                    | RemoveParticipant
                    | DeleteAnyMessage
                    | DeleteConversation
                    | EditAnyMessage
                    | EditAnyMessageAttributes
                    | EditOwnMessage
                    | EditOwnMessageAttributes
                    | EditConversationName
                    | EditConversationAttributes
            ),
        }
    }
}

/// A set of permissions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Permissions(u32);

impl Permissions {
    pub fn of(list: &[Permission]) -> Self {
        Self(list.iter().fold(0, |bits, p| bits | (1 << *p as u32)))
    }

    pub fn has(self, p: Permission) -> bool {
        self.0 & (1 << p as u32) != 0
    }

    pub fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// The names, in vocabulary order.
    pub fn names(self) -> Vec<String> {
        Permission::ALL.iter().filter(|p| self.has(**p)).map(|p| p.as_str().to_owned()).collect()
    }

    /// Reads stored names; a name no longer in the vocabulary grants nothing.
    pub fn from_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        Self::of(&names.into_iter().filter_map(Permission::parse).collect::<Vec<_>>())
    }
}

/// A role made on first start.
pub struct DefaultRole {
    pub friendly_name: &'static str,
    pub role_type: RoleType,
    pub permissions: &'static [Permission],
}

/// What every participant may do in a conversation, as before roles existed:
/// send, leave, mute, add others (chat and SMS), and change only their own
/// messages and attributes.
const CONVERSATION_USER: &[Permission] = &[
    SendMessage,
    SendMediaMessage,
    LeaveConversation,
    EditNotificationLevel,
    AddParticipant,
    AddNonChatParticipant,
    EditOwnMessage,
    EditOwnMessageAttributes,
    DeleteOwnMessage,
    EditOwnParticipantAttributes,
];

/// The creator's role: a participant's, plus renaming and changing the
/// conversation, removing others, deleting any message and the conversation.
/// (Twilio's samples also give this role `editAny…` powers; it stays without
/// them so that no creator edits what others wrote, as before roles.)
const CONVERSATION_ADMIN: &[Permission] = &[
    SendMessage,
    SendMediaMessage,
    LeaveConversation,
    EditNotificationLevel,
    AddParticipant,
    AddNonChatParticipant,
    EditOwnMessage,
    EditOwnMessageAttributes,
    DeleteOwnMessage,
    EditOwnParticipantAttributes,
    RemoveParticipant,
    EditConversationName,
    EditConversationAttributes,
    DeleteAnyMessage,
    DeleteConversation,
];

/// Twilio's default roles, by Twilio's names. The creator of a conversation
/// gets `channel admin`, everyone else `channel user`; users get `service user`.
pub const DEFAULT_ROLES: [DefaultRole; 4] = [
    DefaultRole { friendly_name: "channel admin", role_type: RoleType::Conversation, permissions: CONVERSATION_ADMIN },
    DefaultRole { friendly_name: "channel user", role_type: RoleType::Conversation, permissions: CONVERSATION_USER },
    DefaultRole {
        friendly_name: "service admin",
        role_type: RoleType::Service,
        permissions: &[
            CreateConversation,
            JoinConversation,
            EditOwnUserInfo,
            EditAnyUserInfo,
            AddParticipant,
            RemoveParticipant,
            EditConversationName,
            EditConversationAttributes,
            EditAnyMessage,
            EditAnyMessageAttributes,
            DeleteAnyMessage,
            DeleteConversation,
        ],
    },
    DefaultRole {
        friendly_name: "service user",
        role_type: RoleType::Service,
        permissions: &[CreateConversation, JoinConversation, EditOwnUserInfo],
    },
];

/// Indexes into [`DEFAULT_ROLES`] of the roles the service configuration starts with.
pub const CREATOR_ROLE: usize = 0;
pub const CONVERSATION_ROLE: usize = 1;
pub const SERVICE_ROLE: usize = 3;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_default_roles_fit_their_types() {
        for p in Permission::ALL {
            assert_eq!(Permission::parse(p.as_str()), Some(*p));
        }
        assert_eq!(Permission::parse("fly"), None);
        for r in &DEFAULT_ROLES {
            assert!(r.permissions.iter().all(|p| r.role_type.allows(*p)), "{}", r.friendly_name);
        }
        let set = Permissions::of(&[SendMessage, DeleteConversation]);
        assert!(set.has(SendMessage) && !set.has(EditAnyMessage));
        assert_eq!(Permissions::from_names(set.names().iter().map(String::as_str)), set);
    }
}
