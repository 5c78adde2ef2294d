//! The sync task's media and reactions: uploads and downloads run as jobs
//! beside the engine (so a large file never stalls the stream), reactions inline.
//!
//! `SendMedia` lands once: the upload waits while offline and starts again
//! after a reconnect if the link broke under it; once the server holds the
//! media, the message with its `MediaSid` joins the outbox like any send (one
//! `Idempotency-Key`, retried). Progress goes straight to the UI, throttled.

use std::path::{Path, PathBuf};
use std::time::Instant;

use tokio::sync::mpsc;

use super::protocol::Diff;
use super::{Input, Pending, Task};
use crate::api::params::MessageParams;
use crate::sdk::error::{Error, Result};
use crate::sdk::rules::progress::ProgressThrottle;
use crate::sdk::rules::rich::{self, ReplyTo};
use crate::sdk::state::change::Change;
use crate::sdk::state::echo::EchoKey;
use crate::sdk::wire::media::{MediaRecord, UploadSource};
use crate::sdk::wire::transport::Rest;

/// A `SendMedia` not yet uploaded; `key` is its message's Idempotency-Key.
#[derive(Debug, Clone)]
pub(super) struct Upload {
    pub conversation_sid: String,
    pub path: PathBuf,
    pub body: Option<String>,
    pub reply_to: Option<ReplyTo>,
    pub key: String,
}

impl Task {
    /// The service a conversation's media live in.
    fn service_of(&self, conversation_sid: &str) -> Result<String> {
        let model = self.engine.model();
        let conv = model.conv(conversation_sid).filter(|c| c.is_member());
        conv.map(|c| c.entry.conversation.chat_service_sid.clone())
            .ok_or_else(|| Error::InvalidArgument(format!("unknown conversation {conversation_sid}")))
    }

    /// Queues an upload and starts it if online.
    pub(super) fn send_media(&mut self, upload: Upload) {
        self.uploads.push_back(upload);
        self.start_uploads();
    }

    /// Starts every waiting upload (when online; else they wait for `Connected`).
    pub(super) fn start_uploads(&mut self) {
        if !self.engine.is_online() {
            return;
        }
        let Some(inputs) = self.inputs.upgrade() else { return };
        while let Some(upload) = self.uploads.pop_front() {
            let service = self.service_of(&upload.conversation_sid);
            let (rest, diffs, inputs) = (self.engine.rest.clone(), self.diffs.clone(), inputs.clone());
            self.jobs.spawn(async move {
                let result = match service {
                    Ok(service) => upload_file(&rest, &service, &upload, &diffs).await,
                    Err(e) => Err(e),
                };
                let _ = inputs.send(Input::Uploaded(Box::new((upload, result))));
            });
        }
    }

    /// An upload ended: its message joins the outbox, or it waits for the
    /// reconnect (the link broke), or the failure is reported.
    pub(super) async fn uploaded(&mut self, upload: Upload, result: Result<MediaRecord>) {
        match result {
            Ok(media) => {
                let params = MessageParams {
                    body: upload.body,
                    attributes: upload.reply_to.map(|to| rich::with_reply_to(None, &to).to_string()),
                    media_sid: vec![media.sid],
                    ..Default::default()
                };
                self.outbox.push_back(Pending { conversation_sid: upload.conversation_sid, params, key: upload.key });
                self.flush_outbox().await;
            }
            Err(e) if e.is_transport() || e.is_auth() => {
                let what = format!("upload {}", upload.path.display());
                // Waits for the reconnect (`failed` takes the link down) or a new token.
                self.uploads.push_back(upload);
                self.engine.failed(&what, e).await;
            }
            Err(e) => {
                let text = format!("upload {}: {e}", upload.path.display());
                self.engine.deliver(vec![Change::Error(text)]).await;
            }
        }
    }

    /// Downloads a media beside `dest` as a job; the UI hears `MediaFetched`.
    pub(super) fn fetch_media(&mut self, conversation_sid: &str, media_sid: String, dest: PathBuf) -> Result<()> {
        self.engine.online()?;
        let service = self.service_of(conversation_sid)?;
        let (rest, diffs) = (self.engine.rest.clone(), self.diffs.clone());
        self.jobs.spawn(async move {
            let diff = match download_to(&rest, &service, &media_sid, &dest).await {
                Ok(()) => Diff::MediaFetched { media_sid, dest },
                Err(e) => Diff::Error(format!("fetch media {media_sid}: {e}")),
            };
            let _ = diffs.send(diff).await;
        });
        Ok(())
    }

    /// Adds (`add`) or removes the user's reaction; the updated message goes
    /// through the model (its stream echo then changes nothing).
    pub(super) async fn react(
        &mut self,
        conversation_sid: &str,
        message_sid: &str,
        name: &str,
        add: bool,
    ) -> Result<()> {
        let engine = &mut self.engine;
        engine.online()?;
        let m = match add {
            true => engine.rest.react(conversation_sid, message_sid, name).await?,
            false => engine.rest.unreact(conversation_sid, message_sid, name).await?,
        };
        engine
            .apply(|model| {
                model.echoes.await_echo(EchoKey::message(&m));
                model.upsert_message(m, false)
            })
            .await;
        Ok(())
    }
}

/// Uploads the file, reporting progress: `(0, total)` first, then at most ~10
/// a second, and `(total, total)` once the server has answered.
async fn upload_file(rest: &Rest, service: &str, upload: &Upload, diffs: &mpsc::Sender<Diff>) -> Result<MediaRecord> {
    let source = UploadSource::open_file(&upload.path).await?;
    let total = source.length.unwrap_or(0);
    let progress = |sent| Diff::UploadProgress {
        conversation_sid: upload.conversation_sid.clone(),
        path: upload.path.clone(),
        sent,
        total,
    };
    let _ = diffs.send(progress(0)).await;
    let (tx, mut throttle) = (diffs.clone(), ProgressThrottle::default());
    let (sid, path) = (upload.conversation_sid.clone(), upload.path.clone());
    let on_progress = Box::new(move |sent: u64| {
        // The last report waits for the server's answer; ones in between may
        // be dropped when the UI is behind.
        if sent < total && throttle.allow(Instant::now(), sent, None) {
            let diff = Diff::UploadProgress { conversation_sid: sid.clone(), path: path.clone(), sent, total };
            let _ = tx.try_send(diff);
        }
    });
    let media = rest.upload_media(service, source, on_progress).await?;
    let _ = diffs.send(progress(total)).await;
    Ok(media)
}

/// Writes the content to a temporary file beside `dest`, then renames it there.
async fn download_to(rest: &Rest, service: &str, media_sid: &str, dest: &Path) -> Result<()> {
    let fs = |e: std::io::Error| Error::InvalidArgument(format!("{}: {e}", dest.display()));
    let dir = dest.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let tmp = tempfile::Builder::new().prefix(".convo-download-").suffix(".part").tempfile_in(dir).map_err(fs)?;
    let mut file = tokio::fs::File::from_std(tmp.as_file().try_clone().map_err(fs)?);
    rest.download_media(service, media_sid, &mut file).await?;
    file.sync_all().await.map_err(fs)?;
    drop(file);
    tmp.persist(dest).map_err(|e| fs(e.error))?;
    Ok(())
}
