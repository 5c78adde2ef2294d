//! `Conversation`: Twilio's Conversation class in Rust. A handle on a
//! conversation of the engine's model, so properties read the latest known
//! state; methods are REST calls whose replies go through the model at once
//! (and fire the matching event exactly once, whichever arrives first). Its
//! participant calls are in `participant.rs`, its message calls in `history.rs`.

use std::sync::Arc;

use serde_json::Value;
use time::OffsetDateTime;

use super::shared::{Control, Shared, parse_attributes, parse_date};
use crate::api::params::ConversationParams;
use crate::api::{self, ConversationState, ErrorCode, NotificationLevel, UserConversation};
use crate::sdk::error::{Error, Result};
use crate::sdk::rules::horizon;
use crate::sdk::state::change::ConversationEntry;
use crate::sdk::state::echo::EchoKey;
use crate::sdk::wire::connection::ConnectionState;

/// Whether the signed-in user participates in a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConversationStatus {
    Joined,
    NotParticipating,
}

/// Which way `get_messages` reads from its anchor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Direction {
    /// From the anchor (default: the newest message) towards older ones.
    #[default]
    Backwards,
    /// From the anchor (default: the oldest message) towards newer ones.
    Forward,
}

/// Where the newest message of a conversation stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastMessage {
    pub index: i64,
    pub date_created: Option<OffsetDateTime>,
}

/// A conversation. Cheap to clone; every clone sees the same live state.
#[derive(Clone)]
pub struct Conversation {
    pub(crate) shared: Arc<Shared>,
    sid: String,
    /// As first seen: read only if the model ever lacked the conversation.
    first_seen: Arc<ConversationEntry>,
}

impl std::fmt::Debug for Conversation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conversation")
            .field("sid", &self.sid)
            .field("friendly_name", &self.friendly_name())
            .field("status", &self.status())
            .finish()
    }
}

impl PartialEq for Conversation {
    fn eq(&self, other: &Self) -> bool {
        self.sid == other.sid
    }
}

impl Conversation {
    pub(crate) fn new(shared: Arc<Shared>, entry: ConversationEntry) -> Self {
        Self { shared, sid: entry.conversation.sid.clone(), first_seen: Arc::new(entry) }
    }

    /// Reads the latest known state.
    fn read<R>(&self, f: impl FnOnce(&ConversationEntry) -> R) -> R {
        let model = self.shared.model();
        match model.conv(&self.sid) {
            Some(c) => f(&c.entry),
            None => f(&self.first_seen),
        }
    }

    /// The raw wire resource, as last seen.
    pub fn resource(&self) -> api::Conversation {
        self.read(|e| e.conversation.clone())
    }

    // --- properties --------------------------------------------------------

    /// The conversation SID (`CH…`).
    pub fn sid(&self) -> &str {
        &self.sid
    }
    /// The unique name, if one is set (usable instead of the SID).
    pub fn unique_name(&self) -> Option<String> {
        self.read(|e| e.conversation.unique_name.clone())
    }
    /// The display name, if one is set.
    pub fn friendly_name(&self) -> Option<String> {
        self.read(|e| e.conversation.friendly_name.clone())
    }
    /// The attributes, parsed (`{}` when unset).
    pub fn attributes(&self) -> Value {
        self.read(|e| parse_attributes(&e.conversation.attributes))
    }
    /// The identity that created it (`system` when created over admin REST).
    pub fn created_by(&self) -> Option<String> {
        self.read(|e| e.conversation.created_by.clone())
    }
    /// When it was created.
    pub fn date_created(&self) -> Option<OffsetDateTime> {
        self.read(|e| parse_date(&e.conversation.date_created))
    }
    /// When it last changed.
    pub fn date_updated(&self) -> Option<OffsetDateTime> {
        self.read(|e| parse_date(&e.conversation.date_updated))
    }
    /// Index and date of the newest message; `None` while empty.
    pub fn last_message(&self) -> Option<LastMessage> {
        self.read(|e| {
            let last = e.conversation.last_message.as_ref()?;
            Some(LastMessage { index: last.index, date_created: parse_date(&last.date_created) })
        })
    }
    /// The user's read horizon; `None` until first set.
    pub fn last_read_message_index(&self) -> Option<i64> {
        self.read(|e| e.user_state.as_ref().and_then(|u| u.last_read_message_index))
    }
    /// The user's notification level here (`Default` when not participating).
    pub fn notification_level(&self) -> NotificationLevel {
        self.read(|e| e.user_state.as_ref().map(|u| u.notification_level).unwrap_or_default())
    }
    /// `Active`, `Inactive` or `Closed` (from its timers).
    pub fn state(&self) -> ConversationState {
        self.read(|e| e.conversation.state)
    }
    /// Whether the signed-in user participates in it.
    pub fn status(&self) -> ConversationStatus {
        match self.read(|e| e.user_state.is_some()) {
            true => ConversationStatus::Joined,
            false => ConversationStatus::NotParticipating,
        }
    }

    // --- membership ----------------------------------------------------------

    /// Joins the conversation as the signed-in user (allowed when it is public,
    /// or the user may add participants). Joining twice is not an error.
    pub async fn join(&self) -> Result<()> {
        let params = crate::api::params::ParticipantParams {
            identity: Some(self.shared.identity.clone()),
            ..Default::default()
        };
        match self.shared.rest.add_participant(self.sid(), &params).await {
            Ok(p) => self.shared.apply(|m| m.upsert_participant(p, true)).await,
            Err(e) if e.code() == Some(ErrorCode::ParticipantExists.code()) => {}
            Err(e) => return Err(e),
        }
        let (conv, user) = tokio::try_join!(
            self.shared.rest.get_conversation(self.sid()),
            self.shared.rest.get_user_conversation(&self.shared.identity, self.sid())
        )?;
        self.shared.apply(|m| m.upsert_conversation(&self.sid, Some(conv), Some(Some(user)))).await;
        Ok(())
    }

    /// Leaves the conversation (removes the user's own participant).
    pub async fn leave(&self) -> Result<()> {
        if self.status() != ConversationStatus::Joined {
            return Err(Error::Twilio(api::TwilioError::new(
                ErrorCode::NotAParticipant,
                "The user is not a participant of this conversation",
            )));
        }
        self.shared.rest.remove_participant(self.sid(), &self.shared.identity).await?;
        self.shared.apply(|m| m.upsert_conversation(&self.sid, None, Some(None))).await;
        Ok(())
    }

    // --- the conversation itself ----------------------------------------------

    /// Re-reads the conversation from the server and applies it.
    pub(crate) async fn refresh(&self) -> Result<api::Conversation> {
        let conv = self.shared.rest.get_conversation(self.sid()).await?;
        self.shared.apply(|m| m.upsert_conversation(&self.sid, Some(conv.clone()), None)).await;
        Ok(conv)
    }

    async fn update(&self, params: ConversationParams) -> Result<()> {
        let conv = self.shared.rest.update_conversation(self.sid(), &params).await?;
        self.shared
            .apply(|m| {
                m.echoes.await_echo(EchoKey::conversation(&conv));
                m.upsert_conversation(&self.sid, Some(conv), None)
            })
            .await;
        Ok(())
    }

    /// Deletes the conversation for everyone.
    pub async fn delete(&self) -> Result<()> {
        self.shared.rest.delete_conversation(self.sid()).await?;
        self.shared.apply(|m| m.upsert_conversation(&self.sid, None, Some(None))).await;
        Ok(())
    }

    /// The attributes, fresh from the server.
    pub async fn get_attributes(&self) -> Result<Value> {
        Ok(parse_attributes(&self.refresh().await?.attributes))
    }

    /// Replaces the attributes (any JSON value).
    pub async fn update_attributes(&self, attributes: &Value) -> Result<()> {
        self.update(ConversationParams { attributes: Some(attributes.to_string()), ..Default::default() }).await
    }

    /// Renames the conversation.
    pub async fn update_friendly_name(&self, friendly_name: &str) -> Result<()> {
        self.update(ConversationParams { friendly_name: Some(friendly_name.to_owned()), ..Default::default() }).await
    }

    /// Sets the unique name; `None` clears it.
    pub async fn update_unique_name(&self, unique_name: Option<&str>) -> Result<()> {
        let unique_name = Some(unique_name.unwrap_or_default().to_owned());
        self.update(ConversationParams { unique_name, ..Default::default() }).await
    }

    // --- the user's state in it ---------------------------------------------------

    /// Applies a new version of the user's state (a write of ours: its echo is awaited).
    async fn apply_user_state(&self, uc: UserConversation) {
        self.shared
            .apply(|m| {
                m.echoes.await_echo(EchoKey::user_state(&uc));
                m.upsert_conversation(&self.sid, None, Some(Some(uc)))
            })
            .await;
    }

    async fn post_horizon(&self, index: Option<i64>) -> Result<Option<i64>> {
        let uc = self.shared.rest.set_read_horizon(&self.shared.identity, self.sid(), index).await?;
        let unread = uc.unread_messages_count;
        self.apply_user_state(uc).await;
        Ok(unread)
    }

    /// Moves the read horizon forward to `index`; never back (a lower index
    /// re-posts the current horizon). Resolves to the new unread count.
    pub async fn advance_last_read_message_index(&self, index: i64) -> Result<i64> {
        let current = self.last_read_message_index();
        let target = horizon::advance(current, index).or(current);
        Ok(self.post_horizon(target).await?.unwrap_or(0))
    }

    /// Sets the read horizon to any index; `None` marks everything unread.
    /// Resolves to the unread count (`None` once the horizon is unset).
    pub async fn update_last_read_message_index(&self, index: Option<i64>) -> Result<Option<i64>> {
        self.post_horizon(index).await
    }

    /// Marks every message read; resolves to the unread count (0), also when
    /// the conversation is empty (then nothing is posted).
    pub async fn set_all_messages_read(&self) -> Result<i64> {
        let newest = self.shared.rest.messages_before(self.sid(), None, 1).await?;
        match newest.messages.last() {
            Some(m) => self.advance_last_read_message_index(m.index).await,
            None => Ok(0),
        }
    }

    /// Clears the read horizon (everything unread); resolves to the unread count,
    /// which is `None` while no horizon is set.
    pub async fn set_all_messages_unread(&self) -> Result<Option<i64>> {
        self.post_horizon(None).await
    }

    /// The user's unread count (fresh from the server); `None` while the read
    /// horizon is unset.
    pub async fn get_unread_messages_count(&self) -> Result<Option<i64>> {
        let uc = self.shared.rest.get_user_conversation(&self.shared.identity, self.sid()).await?;
        let unread = uc.unread_messages_count;
        self.shared.apply(|m| m.upsert_conversation(&self.sid, None, Some(Some(uc)))).await;
        Ok(unread)
    }

    /// Sets the user's notification level (`Muted` silences it).
    pub async fn set_user_notification_level(&self, level: NotificationLevel) -> Result<()> {
        let params = crate::api::params::UserConversationParams {
            notification_level: Some(level.as_str().into()),
            ..Default::default()
        };
        let uc = self.shared.rest.update_user_conversation(&self.shared.identity, self.sid(), &params).await?;
        self.apply_user_state(uc).await;
        Ok(())
    }

    /// Tells the others the user is typing. Sends at most once per typing
    /// timeout (5 s); calls in between succeed without sending.
    pub async fn typing(&self) -> Result<()> {
        if self.shared.link.state() != ConnectionState::Connected {
            return Err(Error::NotConnected);
        }
        match self.shared.control(Control::Typing(self.sid.clone())) {
            true => Ok(()),
            false => Err(Error::Shutdown),
        }
    }
}
