//! `Conversation`: Twilio's Conversation class in Rust. A handle on a cached
//! conversation that the stream task keeps fresh, so properties read the latest
//! known state; methods are REST calls whose replies update that cache at once
//! (and fire the matching event exactly once, whichever arrives first).

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use time::OffsetDateTime;

use super::cache::{ConvCell, ConvData, Shared};
use super::echo::EchoKey;
use super::endpoints::horizon_param;
use super::error::{Error, Result};
use super::history;
use super::message::Message;
use super::message_builder::MessageBuilder;
use super::paginator::Paginator;
use super::participant::Participant;
use super::sync_protocol::ConnectionState;
use crate::api::params::{ConversationParams, MessageParams, ParticipantParams, UserConversationParams};
use crate::api::stream::{ClientFrame, TYPING_TIMEOUT_SECS};
use crate::api::{self, ConversationState, ErrorCode, NotificationLevel};

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

/// Default `get_messages` page size, as in Twilio's SDK.
pub const DEFAULT_PAGE_SIZE: u32 = 30;
/// Largest page the server serves.
pub const MAX_PAGE_SIZE: u32 = 100;

pub(crate) fn parse_date(s: &str) -> Option<OffsetDateTime> {
    api::time::parse_unix(s).and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok())
}

pub(crate) fn parse_attributes(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or(Value::Object(Default::default()))
}

/// A conversation. Cheap to clone; every clone sees the same live state.
#[derive(Clone)]
pub struct Conversation {
    pub(crate) shared: Arc<Shared>,
    cell: Arc<ConvCell>,
}

impl std::fmt::Debug for Conversation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let d = self.data();
        f.debug_struct("Conversation")
            .field("sid", &self.cell.sid)
            .field("friendly_name", &d.conv.friendly_name)
            .field("status", &self.status())
            .finish()
    }
}

impl PartialEq for Conversation {
    fn eq(&self, other: &Self) -> bool {
        self.cell.sid == other.cell.sid
    }
}

impl Conversation {
    pub(crate) fn new(shared: Arc<Shared>, cell: Arc<ConvCell>) -> Self {
        Self { shared, cell }
    }

    fn data(&self) -> std::sync::RwLockReadGuard<'_, ConvData> {
        self.cell.data.read().unwrap_or_else(|e| e.into_inner())
    }

    /// The raw wire resource, as last seen.
    pub fn resource(&self) -> api::Conversation {
        self.data().conv.clone()
    }

    // --- properties --------------------------------------------------------

    /// The conversation SID (`CH…`).
    pub fn sid(&self) -> &str {
        &self.cell.sid
    }
    /// The unique name, if one is set (usable instead of the SID).
    pub fn unique_name(&self) -> Option<String> {
        self.data().conv.unique_name.clone()
    }
    /// The display name, if one is set.
    pub fn friendly_name(&self) -> Option<String> {
        self.data().conv.friendly_name.clone()
    }
    /// The attributes, parsed (`{}` when unset).
    pub fn attributes(&self) -> Value {
        parse_attributes(&self.data().conv.attributes)
    }
    /// The identity that created it (`system` when created over admin REST).
    pub fn created_by(&self) -> Option<String> {
        self.data().conv.created_by.clone()
    }
    /// When it was created.
    pub fn date_created(&self) -> Option<OffsetDateTime> {
        parse_date(&self.data().conv.date_created)
    }
    /// When it last changed.
    pub fn date_updated(&self) -> Option<OffsetDateTime> {
        parse_date(&self.data().conv.date_updated)
    }
    /// Index and date of the newest message; `None` while empty.
    pub fn last_message(&self) -> Option<LastMessage> {
        self.data()
            .conv
            .last_message
            .as_ref()
            .map(|m| LastMessage { index: m.index, date_created: parse_date(&m.date_created) })
    }
    /// The user's read horizon; `None` until first set.
    pub fn last_read_message_index(&self) -> Option<i64> {
        self.data().user.as_ref().and_then(|u| u.last_read_message_index)
    }
    /// The user's notification level here (`Default` when not participating).
    pub fn notification_level(&self) -> NotificationLevel {
        self.data().user.as_ref().map(|u| u.notification_level).unwrap_or_default()
    }
    /// `Active`, `Inactive` or `Closed` (from its timers).
    pub fn state(&self) -> ConversationState {
        self.data().conv.state
    }
    /// Whether the signed-in user participates in it.
    pub fn status(&self) -> ConversationStatus {
        if self.data().user.is_some() { ConversationStatus::Joined } else { ConversationStatus::NotParticipating }
    }

    // --- participants ------------------------------------------------------

    fn participant(&self, p: api::Participant) -> Participant {
        Participant::new(self.clone(), p)
    }

    /// Adds a chat participant by identity.
    pub async fn add(&self, identity: &str, attributes: Option<&Value>) -> Result<Participant> {
        let params = ParticipantParams {
            identity: Some(identity.to_owned()),
            attributes: attributes.map(Value::to_string),
            ..Default::default()
        };
        let p = self.shared.rest.add_participant(self.sid(), &params).await?;
        Ok(self.participant(self.shared.apply_participant(p)))
    }

    /// Adds a non-chat (SMS, WhatsApp) participant by its address and the proxy
    /// address it talks to.
    pub async fn add_non_chat_participant(
        &self,
        proxy_address: &str,
        address: &str,
        attributes: Option<&Value>,
    ) -> Result<Participant> {
        let params = ParticipantParams {
            messaging_binding_address: Some(address.to_owned()),
            messaging_binding_proxy_address: Some(proxy_address.to_owned()),
            attributes: attributes.map(Value::to_string),
            ..Default::default()
        };
        let p = self.shared.rest.add_participant(self.sid(), &params).await?;
        Ok(self.participant(self.shared.apply_participant(p)))
    }

    /// Every participant (fresh from the server).
    pub async fn get_participants(&self) -> Result<Vec<Participant>> {
        let list = self.shared.rest.list_participants(self.sid()).await?;
        {
            let mut d = self.cell.data.write().unwrap_or_else(|e| e.into_inner());
            d.participants = list.iter().map(|p| (p.sid.clone(), p.clone())).collect();
        }
        Ok(list.into_iter().map(|p| self.participant(p)).collect())
    }

    /// The participant with this identity; 404 when there is none.
    pub async fn get_participant_by_identity(&self, identity: &str) -> Result<Participant> {
        let p = self.shared.rest.get_participant(self.sid(), identity).await?;
        Ok(self.participant(p))
    }

    /// The participant with this SID (`MB…`); 404 when there is none.
    pub async fn get_participant_by_sid(&self, sid: &str) -> Result<Participant> {
        if !api::sid::is_sid(api::sid::prefix::PARTICIPANT, sid) {
            return Err(Error::InvalidArgument(format!("not a participant SID: {sid}")));
        }
        let p = self.shared.rest.get_participant(self.sid(), sid).await?;
        Ok(self.participant(p))
    }

    /// How many participants it has (fresh from the server).
    pub async fn get_participants_count(&self) -> Result<u64> {
        Ok(self.refresh().await?.participants_count)
    }

    /// Removes a participant, by identity or SID.
    pub async fn remove_participant(&self, identity_or_sid: &str) -> Result<()> {
        let known = {
            let d = self.data();
            d.participants
                .values()
                .find(|p| p.sid == identity_or_sid || p.identity.as_deref() == Some(identity_or_sid))
                .cloned()
        };
        self.shared.rest.remove_participant(self.sid(), identity_or_sid).await?;
        if let Some(p) = known {
            self.shared.participant_left(p);
        }
        Ok(())
    }

    /// Joins the conversation as the signed-in user (allowed when it is public,
    /// or the user may add participants). Joining twice is not an error.
    pub async fn join(&self) -> Result<()> {
        let params = ParticipantParams { identity: Some(self.shared.identity.clone()), ..Default::default() };
        match self.shared.rest.add_participant(self.sid(), &params).await {
            Ok(p) => {
                self.shared.apply_participant(p);
            }
            Err(e) if e.code() == Some(ErrorCode::ParticipantExists.code()) => {}
            Err(e) => return Err(e),
        }
        let (conv, user) = tokio::try_join!(
            self.shared.rest.get_conversation(self.sid()),
            self.shared.rest.get_user_conversation(&self.shared.identity, self.sid())
        )?;
        self.shared.apply(self.sid(), Some(conv), Some(Some(user)));
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
        self.shared.apply(self.sid(), None, Some(None));
        Ok(())
    }

    // --- the conversation itself ----------------------------------------------

    /// Re-reads the conversation from the server and applies it.
    async fn refresh(&self) -> Result<api::Conversation> {
        let conv = self.shared.rest.get_conversation(self.sid()).await?;
        self.shared.apply(self.sid(), Some(conv.clone()), None);
        Ok(conv)
    }

    async fn update(&self, params: ConversationParams) -> Result<()> {
        let conv = self.shared.rest.update_conversation(self.sid(), &params).await?;
        self.shared.expect_echo(EchoKey::conversation(&conv));
        self.shared.apply(self.sid(), Some(conv), None);
        Ok(())
    }

    /// Deletes the conversation for everyone.
    pub async fn delete(&self) -> Result<()> {
        self.shared.rest.delete_conversation(self.sid()).await?;
        self.shared.apply(self.sid(), None, Some(None));
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

    // --- messages ----------------------------------------------------------------

    /// A page of messages. `page_size` defaults to 30 (at most 100); `anchor` is
    /// a message index (inclusive; `None` = the newest for `Backwards`, the
    /// oldest for `Forward`). Items are in ascending index order either way;
    /// `prev_page` goes to older messages and `next_page` to newer ones.
    pub async fn get_messages(
        &self,
        page_size: Option<u32>,
        anchor: Option<i64>,
        direction: Direction,
    ) -> Result<Paginator<Message>> {
        let n = page_size.unwrap_or(DEFAULT_PAGE_SIZE);
        if n == 0 || n > MAX_PAGE_SIZE {
            return Err(Error::InvalidArgument(format!("page_size must be 1..={MAX_PAGE_SIZE}, not {n}")));
        }
        match (direction, anchor) {
            (Direction::Backwards, None) => history::older(self.clone(), None, n, Some(false)).await,
            (Direction::Backwards, Some(a)) => history::older(self.clone(), Some(a.saturating_add(1)), n, None).await,
            (Direction::Forward, None) => history::newer(self.clone(), None, n, Some(false)).await,
            (Direction::Forward, Some(a)) => history::newer(self.clone(), Some(a.saturating_sub(1)), n, None).await,
        }
    }

    /// How many messages the conversation holds (fresh from the server).
    pub async fn get_messages_count(&self) -> Result<u64> {
        Ok(self.refresh().await?.messages_count)
    }

    /// Sends a text message; resolves to its index. Retried on a lost connection
    /// with the same `Idempotency-Key`, so it lands once.
    pub async fn send_message(&self, body: &str, attributes: Option<&Value>) -> Result<i64> {
        let params = MessageParams {
            body: Some(body.to_owned()),
            attributes: attributes.map(Value::to_string),
            ..Default::default()
        };
        self.post_message(params).await
    }

    pub(crate) async fn post_message(&self, params: MessageParams) -> Result<i64> {
        let key = uuid::Uuid::new_v4().to_string();
        let mut attempt = 0;
        let m = loop {
            match self.shared.rest.post_message(self.sid(), &params, &key).await {
                Err(e) if e.is_transport() && attempt < 3 => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(250 << attempt)).await;
                }
                other => break other?,
            }
        };
        let index = m.index;
        self.shared.message_added(m);
        Ok(index)
    }

    /// A builder for a message with more than a body.
    pub fn prepare_message(&self) -> MessageBuilder {
        MessageBuilder::new(self.clone())
    }

    // --- read horizon ------------------------------------------------------------

    async fn post_horizon(&self, index: Option<i64>) -> Result<Option<i64>> {
        let params =
            UserConversationParams { last_read_message_index: Some(horizon_param(index)), ..Default::default() };
        let uc = self.shared.rest.update_user_conversation(&self.shared.identity, self.sid(), &params).await?;
        let unread = uc.unread_messages_count;
        self.shared.expect_echo(EchoKey::user_state(&uc));
        self.shared.apply(self.sid(), None, Some(Some(uc)));
        Ok(unread)
    }

    /// Moves the read horizon forward to `index`; never back (a lower index
    /// re-posts the current horizon). Resolves to the new unread count.
    pub async fn advance_last_read_message_index(&self, index: i64) -> Result<i64> {
        let current = self.last_read_message_index();
        let target = match current {
            Some(c) if index < c => c,
            _ => index.max(0),
        };
        Ok(self.post_horizon(Some(target)).await?.unwrap_or(0))
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
        self.shared.apply(self.sid(), None, Some(Some(uc)));
        Ok(unread)
    }

    /// Sets the user's notification level (`Muted` silences it).
    pub async fn set_user_notification_level(&self, level: NotificationLevel) -> Result<()> {
        let params = UserConversationParams { notification_level: Some(level.as_str().into()), ..Default::default() };
        let uc = self.shared.rest.update_user_conversation(&self.shared.identity, self.sid(), &params).await?;
        self.shared.expect_echo(EchoKey::user_state(&uc));
        self.shared.apply(self.sid(), None, Some(Some(uc)));
        Ok(())
    }

    /// Tells the others the user is typing. Sends at most once per typing
    /// timeout (5 s); calls in between succeed without sending.
    pub async fn typing(&self) -> Result<()> {
        if *self.shared.state.borrow() != ConnectionState::Connected {
            return Err(Error::NotConnected);
        }
        let now = Instant::now();
        {
            let mut sent = self.shared.typing_sent.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(last) = sent.get(self.sid())
                && now.duration_since(*last) < Duration::from_secs(TYPING_TIMEOUT_SECS)
            {
                return Ok(());
            }
            sent.insert(self.sid().to_owned(), now);
        }
        self.shared
            .frames
            .send(ClientFrame::Typing { conversation_sid: self.sid().to_owned() })
            .map_err(|_| Error::Shutdown)
    }
}
