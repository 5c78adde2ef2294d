//! The UI's commands: each becomes REST calls (or a stream frame) whose
//! replies go through the model, so the matching stream events later change
//! nothing. Sends and read-horizon moves made offline wait for the reconnect.

use std::time::Duration;

use tokio::time::Instant;

use super::protocol::Command;
use super::{Pending, Task};
use crate::api::params::{ConversationParams, MessageParams, ParticipantParams, UserConversationParams};
use crate::api::{ErrorCode, UserConversation};
use crate::sdk::error::{Error, Result};
use crate::sdk::rules::{horizon, rich};
use crate::sdk::state::change::Change;
use crate::sdk::state::echo::EchoKey;

impl Task {
    pub(super) async fn command(&mut self, cmd: Command) {
        let what = command_name(&cmd);
        if let Err(e) = self.run_command(cmd).await {
            self.engine.failed(what, e).await;
        }
    }

    async fn run_command(&mut self, cmd: Command) -> Result<()> {
        let engine = &mut self.engine;
        match cmd {
            Command::Open { conversation_sid } => {
                let known = match engine.model().conv_mut(&conversation_sid).filter(|c| c.is_member()) {
                    Some(c) => {
                        c.opened = true;
                        true
                    }
                    None => false,
                };
                if !engine.is_online() {
                    // Not synced yet (or offline): opened by the next resync.
                    if !known {
                        engine.model().pending_opens.insert(conversation_sid);
                    }
                    return Ok(());
                }
                if !known {
                    return Err(Error::InvalidArgument(format!("unknown conversation {conversation_sid}")));
                }
                let participants = engine.rest.list_participants(&conversation_sid).await?;
                engine.apply(|m| m.set_roster(&conversation_sid, participants)).await;
                engine.load_newest(&conversation_sid).await?;
            }
            Command::LoadOlder { conversation_sid, before_index, count } => {
                engine.online()?;
                let slice = engine.rest.messages_before(&conversation_sid, Some(before_index), count).await?;
                let newest = engine.model().conv(&conversation_sid).and_then(|c| c.newest_index());
                let last = slice.messages.last().map_or(before_index - 1, |m| m.index);
                let has_newer = newest.is_some_and(|n| n > last);
                engine.loaded(&conversation_sid, slice.messages, slice.more, has_newer).await;
            }
            Command::LoadNewer { conversation_sid, after_index, count } => {
                engine.online()?;
                let slice = engine.rest.messages_after(&conversation_sid, Some(after_index), count).await?;
                engine.loaded(&conversation_sid, slice.messages, after_index >= 0, slice.more).await;
            }
            Command::Trim { conversation_sid, keep_from, keep_to } => {
                engine.model().trim(&conversation_sid, keep_from, keep_to);
            }
            Command::Send { conversation_sid, body, attributes } => {
                let params = MessageParams { body: Some(body), attributes, ..Default::default() };
                let key = uuid::Uuid::new_v4().to_string();
                self.outbox.push_back(Pending { conversation_sid, params, key });
                self.flush_outbox().await;
            }
            Command::Reply { conversation_sid, body, to } => {
                let attributes = Some(rich::with_reply_to(None, &to).to_string());
                let params = MessageParams { body: Some(body), attributes, ..Default::default() };
                let key = uuid::Uuid::new_v4().to_string();
                self.outbox.push_back(Pending { conversation_sid, params, key });
                self.flush_outbox().await;
            }
            Command::SendMedia { conversation_sid, path, body, reply_to } => {
                let key = uuid::Uuid::new_v4().to_string();
                self.send_media(super::media::Upload { conversation_sid, path, body, reply_to, key });
            }
            Command::React { conversation_sid, message_sid, reaction } => {
                self.react(&conversation_sid, &message_sid, &reaction, true).await?;
            }
            Command::Unreact { conversation_sid, message_sid, reaction } => {
                self.react(&conversation_sid, &message_sid, &reaction, false).await?;
            }
            Command::FetchMedia { conversation_sid, media_sid, dest } => {
                self.fetch_media(&conversation_sid, media_sid, dest)?;
            }
            Command::Edit { conversation_sid, message_sid, body } => {
                engine.online()?;
                let params = MessageParams { body: Some(body), ..Default::default() };
                let m = engine.rest.update_message(&conversation_sid, &message_sid, &params).await?;
                engine
                    .apply(|model| {
                        model.echoes.await_echo(EchoKey::message(&m));
                        model.upsert_message(m, false)
                    })
                    .await;
            }
            Command::Delete { conversation_sid, message_sid } => {
                engine.online()?;
                // The change carries the message: from the window, else from the server.
                let held = engine.model().held_message(&conversation_sid, &message_sid).cloned();
                let m = match held {
                    Some(m) => m,
                    None => engine.rest.get_message(&conversation_sid, &message_sid).await?,
                };
                engine.rest.delete_message(&conversation_sid, &message_sid).await?;
                engine.apply(|model| model.remove_message(&m)).await;
            }
            Command::Typing { conversation_sid } => engine.typing(conversation_sid).await?,
            Command::AdvanceRead { conversation_sid, index } => {
                let current = engine.model().conv(&conversation_sid).and_then(|c| c.read_horizon());
                let queued = self.pending_reads.get(&conversation_sid).copied();
                let Some(target) = horizon::advance(current.max(queued), index) else { return Ok(()) };
                if !engine.is_online() {
                    self.pending_reads.insert(conversation_sid, target);
                    return Ok(());
                }
                if let Err(e) = self.post_read(&conversation_sid, Some(target)).await {
                    if e.is_transport() {
                        self.pending_reads.insert(conversation_sid, target); // posted after the reconnect
                    }
                    return Err(e);
                }
            }
            Command::MarkAllRead { conversation_sid } => {
                engine.online()?;
                let newest = engine.rest.messages_before(&conversation_sid, None, 1).await?;
                if let Some(m) = newest.messages.last() {
                    self.post_read(&conversation_sid, Some(m.index)).await?;
                }
            }
            Command::MarkAllUnread { conversation_sid } => {
                engine.online()?;
                self.pending_reads.remove(&conversation_sid);
                self.post_read(&conversation_sid, None).await?;
            }
            Command::SetNotificationLevel { conversation_sid, level } => {
                engine.online()?;
                let params =
                    UserConversationParams { notification_level: Some(level.as_str().into()), ..Default::default() };
                let identity = engine.identity.clone();
                let uc = engine.rest.update_user_conversation(&identity, &conversation_sid, &params).await?;
                self.apply_user_state(uc).await;
            }
            Command::Create { friendly_name, unique_name } => {
                engine.online()?;
                let params =
                    ConversationParams { friendly_name: Some(friendly_name), unique_name, ..Default::default() };
                let conv = engine.rest.create_conversation(&params).await?;
                // The server makes the creator its first participant; join only if not.
                match engine.rest.get_user_conversation(&engine.identity, &conv.sid).await {
                    Ok(state) => {
                        let sid = conv.sid.clone();
                        engine.apply(|m| m.upsert_conversation(&sid, Some(conv), Some(Some(state)))).await;
                    }
                    Err(e) if matches!(e.status(), Some(403 | 404)) => self.join(&conv.sid).await?,
                    Err(e) => return Err(e),
                }
            }
            Command::Join { sid_or_unique_name } => {
                engine.online()?;
                self.join(&sid_or_unique_name).await?;
            }
            Command::Leave { conversation_sid } => {
                engine.online()?;
                engine.rest.remove_participant(&conversation_sid, &engine.identity).await?;
                engine.apply(|m| m.upsert_conversation(&conversation_sid, None, Some(None))).await;
            }
            Command::AddParticipant { conversation_sid, identity } => {
                engine.online()?;
                let params = ParticipantParams { identity: Some(identity), ..Default::default() };
                let p = engine.rest.add_participant(&conversation_sid, &params).await?;
                engine.apply(|m| m.upsert_participant(p, true)).await;
            }
            Command::RemoveParticipant { conversation_sid, identity } => {
                engine.online()?;
                let p = engine.rest.get_participant(&conversation_sid, &identity).await?;
                engine.rest.remove_participant(&conversation_sid, &p.sid).await?;
                engine.apply(|m| m.remove_participant(&p)).await;
            }
            Command::Rename { conversation_sid, friendly_name } => {
                engine.online()?;
                let params = ConversationParams { friendly_name: Some(friendly_name), ..Default::default() };
                let conv = engine.rest.update_conversation(&conversation_sid, &params).await?;
                engine
                    .apply(|m| {
                        m.echoes.await_echo(EchoKey::conversation(&conv));
                        m.upsert_conversation(&conversation_sid, Some(conv), None)
                    })
                    .await;
            }
            Command::Search { request, query, conversation_sid, page_token } => {
                self.search(request, query, conversation_sid, page_token).await?;
            }
            Command::OpenAt { conversation_sid, index } => self.open_at(conversation_sid, index).await?,
            Command::CheckConnection => engine.check_connection().await,
            Command::UpdateToken { token } => engine.update_token(token)?,
            Command::Shutdown => {}
            // Fetched right after this command (see `users`).
            Command::WatchUser { identity } => self.users.watch(identity),
        }
        Ok(())
    }

    /// Joins (or, if already in it, just fetches) a conversation and adds it.
    async fn join(&mut self, sid_or_unique_name: &str) -> Result<()> {
        let engine = &mut self.engine;
        let params = ParticipantParams { identity: Some(engine.identity.clone()), ..Default::default() };
        match engine.rest.add_participant(sid_or_unique_name, &params).await {
            Ok(_) => {}
            Err(e) if e.code() == Some(ErrorCode::ParticipantExists.code()) => {}
            Err(e) => return Err(e),
        }
        let conv = engine.rest.get_conversation(sid_or_unique_name).await?;
        let sid = conv.sid.clone();
        let state = engine.rest.get_user_conversation(&engine.identity, &sid).await.ok();
        engine.apply(|m| m.upsert_conversation(&sid, Some(conv), state.map(Some))).await;
        Ok(())
    }

    async fn post_read(&mut self, sid: &str, index: Option<i64>) -> Result<()> {
        let uc = self.engine.rest.set_read_horizon(&self.engine.identity, sid, index).await?;
        self.apply_user_state(uc).await;
        Ok(())
    }

    async fn apply_user_state(&mut self, uc: UserConversation) {
        let sid = uc.conversation_sid.clone();
        self.engine
            .apply(|m| {
                m.echoes.await_echo(EchoKey::user_state(&uc));
                m.upsert_conversation(&sid, None, Some(Some(uc)))
            })
            .await;
    }

    /// Read horizons asked for while offline: post the furthest of each.
    pub(super) async fn flush_pending_reads(&mut self) {
        for (sid, index) in std::mem::take(&mut self.pending_reads) {
            let current = self.engine.model().conv(&sid).and_then(|c| c.read_horizon());
            let Some(target) = horizon::advance(current, index) else { continue };
            if let Err(e) = self.post_read(&sid, Some(target)).await {
                if e.is_transport() {
                    self.pending_reads.insert(sid, target);
                }
                self.engine.failed("advance read horizon", e).await;
            }
        }
    }

    /// Posts queued messages in order. Each keeps its `Idempotency-Key`, so a
    /// post whose reply was lost is not doubled by its retry.
    pub(super) async fn flush_outbox(&mut self) {
        while self.engine.is_online() {
            let Some(p) = self.outbox.front().cloned() else { return };
            match self.engine.rest.post_message(&p.conversation_sid, &p.params, &p.key).await {
                Ok(m) => {
                    self.outbox.pop_front();
                    self.engine.apply(|model| model.upsert_message(m, true)).await;
                }
                Err(e) if e.status() == Some(429) => {
                    self.outbox_retry_at = Some(Instant::now() + Duration::from_secs(1));
                    return;
                }
                Err(e) if e.is_transport() || e.is_auth() => {
                    // Kept for after the reconnect (or the new token).
                    self.engine.failed("send", e).await;
                    return;
                }
                Err(e) => {
                    self.outbox.pop_front();
                    self.engine.deliver(vec![Change::Error(format!("send: {e}"))]).await;
                }
            }
        }
    }
}

fn command_name(cmd: &Command) -> &'static str {
    match cmd {
        Command::Open { .. } => "open",
        Command::LoadOlder { .. } => "load older messages",
        Command::LoadNewer { .. } => "load newer messages",
        Command::Trim { .. } => "trim",
        Command::Send { .. } => "send",
        Command::Reply { .. } => "reply",
        Command::SendMedia { .. } => "send media",
        Command::React { .. } => "react",
        Command::Unreact { .. } => "unreact",
        Command::FetchMedia { .. } => "fetch media",
        Command::Edit { .. } => "edit",
        Command::Delete { .. } => "delete",
        Command::Typing { .. } => "typing",
        Command::AdvanceRead { .. } => "advance read horizon",
        Command::MarkAllRead { .. } => "mark all read",
        Command::MarkAllUnread { .. } => "mark all unread",
        Command::SetNotificationLevel { .. } => "set notification level",
        Command::Create { .. } => "create conversation",
        Command::Join { .. } => "join",
        Command::Leave { .. } => "leave",
        Command::AddParticipant { .. } => "add participant",
        Command::RemoveParticipant { .. } => "remove participant",
        Command::Rename { .. } => "rename",
        Command::CheckConnection => "check connection",
        Command::UpdateToken { .. } => "update token",
        Command::Shutdown => "shut down",
        Command::WatchUser { .. } => "watch a user",
        Command::Search { .. } => "search",
        Command::OpenAt { .. } => "open at a message",
    }
}
