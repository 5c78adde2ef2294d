//! The UI's commands: each becomes REST calls (or a stream frame), and their
//! replies go through the model so the matching stream events later diff
//! nothing. Sends and read-horizon moves made offline wait for the reconnect.

use std::time::Duration;

use tokio::time::Instant;

use super::{Pending, Task};
use crate::api::params::{ConversationParams, MessageParams, ParticipantParams, UserConversationParams};
use crate::api::stream::{ClientFrame, TYPING_TIMEOUT_SECS};
use crate::api::{ErrorCode, UserConversation};
use crate::sdk::echo::EchoKey;
use crate::sdk::endpoints::horizon_param;
use crate::sdk::error::{Error, Result};
use crate::sdk::sync_protocol::{Command, ConnectionState, Diff};
use crate::sdk::transport;

impl Task {
    pub(super) async fn command(&mut self, cmd: Command) {
        let what = command_name(&cmd);
        if let Err(e) = self.run_command(cmd).await {
            self.failed(what, e).await;
        }
    }

    fn online(&self) -> Result<()> {
        if self.conn.is_some() { Ok(()) } else { Err(Error::NotConnected) }
    }

    async fn run_command(&mut self, cmd: Command) -> Result<()> {
        match cmd {
            Command::Open { conversation_sid } => {
                let Some(model) = self.model.convs.get_mut(&conversation_sid) else {
                    if self.conn.is_none() {
                        // Not synced yet (or offline): opened by the next resync.
                        self.pending_opens.insert(conversation_sid);
                        return Ok(());
                    }
                    return Err(Error::InvalidArgument(format!("unknown conversation {conversation_sid}")));
                };
                model.opened = true;
                if self.conn.is_none() {
                    return Ok(()); // the resync after the reconnect loads it
                }
                let participants = self.rest.list_participants(&conversation_sid).await?;
                if let Some(d) = self.model.set_participants(&conversation_sid, participants) {
                    self.emit(d).await;
                }
                self.load_newest(&conversation_sid).await?;
            }
            Command::LoadOlder { conversation_sid, before_index, count } => {
                self.online()?;
                let slice = self.rest.messages_before(&conversation_sid, Some(before_index), count).await?;
                let newest = self.model.convs.get(&conversation_sid).and_then(|m| m.newest_index());
                let last = slice.messages.last().map_or(before_index - 1, |m| m.index);
                let has_newer = newest.is_some_and(|n| n > last);
                self.loaded(&conversation_sid, slice.messages, slice.more, has_newer).await;
            }
            Command::LoadNewer { conversation_sid, after_index, count } => {
                self.online()?;
                let slice = self.rest.messages_after(&conversation_sid, Some(after_index), count).await?;
                self.loaded(&conversation_sid, slice.messages, after_index >= 0, slice.more).await;
            }
            Command::Trim { conversation_sid, keep_from, keep_to } => {
                self.model.trim(&conversation_sid, keep_from, keep_to);
            }
            Command::Send { conversation_sid, body, attributes } => {
                let params = MessageParams { body: Some(body), attributes, ..Default::default() };
                let key = uuid::Uuid::new_v4().to_string();
                self.outbox.push_back(Pending { conversation_sid, params, key });
                self.flush_outbox().await;
            }
            Command::Edit { conversation_sid, message_sid, body } => {
                self.online()?;
                let params = MessageParams { body: Some(body), ..Default::default() };
                let m = self.rest.update_message(&conversation_sid, &message_sid, &params).await?;
                self.echoes.expect(EchoKey::message(&m));
                let mut diffs = Vec::new();
                self.model.upsert_message(m, false, &mut diffs);
                self.emit_all(diffs).await;
            }
            Command::Delete { conversation_sid, message_sid } => {
                self.online()?;
                // The diff carries the index: from the window, else from the server.
                let held = self
                    .model
                    .convs
                    .get(&conversation_sid)
                    .and_then(|c| c.messages.values().find(|m| m.sid == message_sid).map(|m| m.index));
                let index = match held {
                    Some(i) => i,
                    None => self.rest.get_message(&conversation_sid, &message_sid).await?.index,
                };
                self.rest.delete_message(&conversation_sid, &message_sid).await?;
                if let Some(d) = self.model.remove_message(&conversation_sid, &message_sid, index) {
                    self.emit(d).await;
                }
            }
            Command::Typing { conversation_sid } => {
                let now = Instant::now();
                let recent = self
                    .typing_sent
                    .get(&conversation_sid)
                    .is_some_and(|t| now.duration_since(*t) < Duration::from_secs(TYPING_TIMEOUT_SECS));
                if let (false, Some(conn)) = (recent, self.conn.as_mut()) {
                    self.typing_sent.insert(conversation_sid.clone(), now);
                    transport::send_frame(&mut conn.write, &ClientFrame::Typing { conversation_sid }).await?;
                }
            }
            Command::AdvanceRead { conversation_sid, index } => {
                let current = self
                    .model
                    .convs
                    .get(&conversation_sid)
                    .and_then(|m| m.entry.user_state.as_ref())
                    .and_then(|u| u.last_read_message_index);
                let queued = self.pending_reads.get(&conversation_sid).copied();
                if current.max(queued).is_some_and(|c| index <= c) || index < 0 {
                    return Ok(()); // never back
                }
                if self.conn.is_none() {
                    self.pending_reads.insert(conversation_sid, index);
                    return Ok(());
                }
                if let Err(e) = self.post_read(&conversation_sid, Some(index)).await {
                    if e.is_transport() {
                        self.pending_reads.insert(conversation_sid, index); // posted after the reconnect
                    }
                    return Err(e);
                }
            }
            Command::MarkAllRead { conversation_sid } => {
                self.online()?;
                let newest = self.rest.messages_before(&conversation_sid, None, 1).await?;
                if let Some(m) = newest.messages.last() {
                    self.post_read(&conversation_sid, Some(m.index)).await?;
                }
            }
            Command::MarkAllUnread { conversation_sid } => {
                self.online()?;
                self.pending_reads.remove(&conversation_sid);
                self.post_read(&conversation_sid, None).await?;
            }
            Command::SetNotificationLevel { conversation_sid, level } => {
                self.online()?;
                let params =
                    UserConversationParams { notification_level: Some(level.as_str().into()), ..Default::default() };
                let uc = self.rest.update_user_conversation(&self.identity, &conversation_sid, &params).await?;
                self.apply_user_state(uc).await;
            }
            Command::Create { friendly_name, unique_name } => {
                self.online()?;
                let params =
                    ConversationParams { friendly_name: Some(friendly_name), unique_name, ..Default::default() };
                let conv = self.rest.create_conversation(&params).await?;
                // The server makes the creator its first participant; join only if not.
                match self.rest.get_user_conversation(&self.identity, &conv.sid).await {
                    Ok(state) => {
                        let sid = conv.sid.clone();
                        if let Some(d) = self.model.upsert_conversation(Some(conv), Some(state), &sid) {
                            self.emit(d).await;
                        }
                    }
                    Err(e) if matches!(e.status(), Some(403 | 404)) => self.join(&conv.sid).await?,
                    Err(e) => return Err(e),
                }
            }
            Command::Join { sid_or_unique_name } => {
                self.online()?;
                self.join(&sid_or_unique_name).await?;
            }
            Command::Leave { conversation_sid } => {
                self.online()?;
                self.rest.remove_participant(&conversation_sid, &self.identity).await?;
                if let Some(d) = self.model.remove_conversation(&conversation_sid) {
                    self.emit(d).await;
                }
            }
            Command::AddParticipant { conversation_sid, identity } => {
                self.online()?;
                let params = ParticipantParams { identity: Some(identity), ..Default::default() };
                let p = self.rest.add_participant(&conversation_sid, &params).await?;
                if let Some(d) = self.model.upsert_participant(p) {
                    self.emit(d).await;
                }
            }
            Command::RemoveParticipant { conversation_sid, identity } => {
                self.online()?;
                let p = self.rest.get_participant(&conversation_sid, &identity).await?;
                self.rest.remove_participant(&conversation_sid, &p.sid).await?;
                if let Some(d) = self.model.remove_participant(&conversation_sid, &p.sid) {
                    self.emit(d).await;
                }
            }
            Command::Rename { conversation_sid, friendly_name } => {
                self.online()?;
                let params = ConversationParams { friendly_name: Some(friendly_name), ..Default::default() };
                let conv = self.rest.update_conversation(&conversation_sid, &params).await?;
                self.echoes.expect(EchoKey::conversation(&conv));
                if let Some(d) = self.model.upsert_conversation(Some(conv), None, &conversation_sid) {
                    self.emit(d).await;
                }
            }
            // Connected: ping, and count the connection lost unless something
            // (the pong) arrives within PONG_WAIT. Down: reconnect now.
            Command::CheckConnection => match self.conn.as_mut() {
                Some(conn) => match transport::ping(&mut conn.write).await {
                    Ok(()) => self.pong_due = Some(Instant::now() + transport::PONG_WAIT),
                    Err(e) => self.lost(&e.to_string()).await,
                },
                None if self.state != ConnectionState::Denied => self.retry_at = Some(Instant::now()),
                None => {}
            },
            Command::UpdateToken { token } => {
                let (identity, _) = crate::sdk::endpoints::token_claims(&token)?;
                if identity != self.identity {
                    return Err(Error::InvalidArgument(format!("token is for {identity}, not {}", self.identity)));
                }
                self.rest.set_token(token.clone());
                self.set_expiry(&token);
                if self.conn.is_none() {
                    self.retry_at = Some(Instant::now());
                }
            }
            Command::Shutdown => {}
        }
        Ok(())
    }

    /// Joins (or, if already in it, just fetches) a conversation and adds it.
    async fn join(&mut self, sid_or_unique_name: &str) -> Result<()> {
        let params = ParticipantParams { identity: Some(self.identity.clone()), ..Default::default() };
        match self.rest.add_participant(sid_or_unique_name, &params).await {
            Ok(_) => {}
            Err(e) if e.code() == Some(ErrorCode::ParticipantExists.code()) => {}
            Err(e) => return Err(e),
        }
        let conv = self.rest.get_conversation(sid_or_unique_name).await?;
        let sid = conv.sid.clone();
        let state = self.rest.get_user_conversation(&self.identity, &sid).await.ok();
        if let Some(d) = self.model.upsert_conversation(Some(conv), state, &sid) {
            self.emit(d).await;
        }
        Ok(())
    }

    async fn post_read(&mut self, sid: &str, index: Option<i64>) -> Result<()> {
        let params =
            UserConversationParams { last_read_message_index: Some(horizon_param(index)), ..Default::default() };
        let uc = self.rest.update_user_conversation(&self.identity, sid, &params).await?;
        self.apply_user_state(uc).await;
        Ok(())
    }

    async fn apply_user_state(&mut self, uc: UserConversation) {
        self.echoes.expect(EchoKey::user_state(&uc));
        let sid = uc.conversation_sid.clone();
        if let Some(d) = self.model.upsert_conversation(None, Some(uc), &sid) {
            self.emit(d).await;
        }
    }

    /// Read horizons asked for while offline: post the furthest of each.
    pub(super) async fn flush_pending_reads(&mut self) {
        for (sid, index) in std::mem::take(&mut self.pending_reads) {
            let current = self.model.convs.get(&sid).and_then(|m| m.entry.user_state.as_ref()?.last_read_message_index);
            if current.is_some_and(|c| index <= c) {
                continue;
            }
            if let Err(e) = self.post_read(&sid, Some(index)).await {
                if e.is_transport() {
                    self.pending_reads.insert(sid, index);
                }
                self.failed("advance read horizon", e).await;
            }
        }
    }

    /// Posts queued messages in order. Each keeps its `Idempotency-Key`, so a
    /// post whose reply was lost is not doubled by its retry.
    pub(super) async fn flush_outbox(&mut self) {
        while self.conn.is_some() {
            let Some(p) = self.outbox.front().cloned() else { return };
            match self.rest.post_message(&p.conversation_sid, &p.params, &p.key).await {
                Ok(m) => {
                    self.outbox.pop_front();
                    let mut diffs = Vec::new();
                    self.model.upsert_message(m, true, &mut diffs);
                    self.emit_all(diffs).await;
                }
                Err(e) if e.status() == Some(429) => {
                    self.outbox_retry_at = Some(Instant::now() + Duration::from_secs(1));
                    return;
                }
                Err(e) if e.is_transport() || e.is_auth() => {
                    // Kept for after the reconnect (or the new token).
                    self.failed("send", e).await;
                    return;
                }
                Err(e) => {
                    self.outbox.pop_front();
                    self.emit(Diff::Error(format!("send: {e}"))).await;
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
    }
}
