//! `Media`: a file attached to a message (Twilio's Media class: its record, a
//! fresh temporary link, a streamed download), and what `add_media` uploads.
//!
//! `MediaContent` is a path, bytes or any `AsyncRead`, with an optional type
//! and file name (a path's type is guessed from its extension); uploads
//! stream and report `UploadProgress` (see `MessageBuilder::on_upload_progress`).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite};

use super::shared::Shared;
use crate::sdk::error::Result;
use crate::sdk::rules::progress::ProgressThrottle;
use crate::sdk::rules::rich::MediaDescriptor;
use crate::sdk::wire::media::{DEFAULT_CONTENT_TYPE, UploadSource};

/// A media attached to a message. Cheap to clone.
#[derive(Clone)]
pub struct Media {
    shared: Arc<Shared>,
    service_sid: String,
    data: MediaDescriptor,
}

impl std::fmt::Debug for Media {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Media")
            .field("sid", &self.data.sid)
            .field("filename", &self.data.filename)
            .field("content_type", &self.data.content_type)
            .field("size", &self.data.size)
            .finish()
    }
}

impl PartialEq for Media {
    fn eq(&self, other: &Self) -> bool {
        self.data == other.data
    }
}

impl Media {
    pub(crate) fn new(shared: Arc<Shared>, service_sid: String, data: MediaDescriptor) -> Self {
        Self { shared, service_sid, data }
    }

    /// The media SID (`ME…`).
    pub fn sid(&self) -> &str {
        &self.data.sid
    }
    /// The file name given at upload, if any.
    pub fn filename(&self) -> Option<&str> {
        self.data.filename.as_deref()
    }
    /// The media type, e.g. `image/png`.
    pub fn content_type(&self) -> &str {
        &self.data.content_type
    }
    /// The size in bytes.
    pub fn size(&self) -> u64 {
        self.data.size
    }
    /// `media` for attachments (Twilio also knows `body` and `history`).
    pub fn category(&self) -> &str {
        &self.data.category
    }

    /// A link to the content that works without credentials until it expires
    /// (Twilio's 300 s); fresh from the server on each call.
    pub async fn content_temporary_url(&self) -> Result<String> {
        let record = self.shared.rest.get_media(&self.service_sid, &self.data.sid).await?;
        Ok(record.links.content_direct_temporary)
    }

    /// Streams the content into `writer` (never whole in memory); resolves to
    /// the bytes written. Only participants of its conversation may read it.
    pub async fn download<W: AsyncWrite + Unpin + ?Sized>(&self, writer: &mut W) -> Result<u64> {
        self.shared.rest.download_media(&self.service_sid, &self.data.sid, writer).await
    }
}

/// Where the bytes of a `MediaContent` come from.
enum Source {
    Path(PathBuf),
    Bytes(Bytes),
    Reader { reader: Box<dyn AsyncRead + Send + Unpin>, length: Option<u64> },
}

/// Something to attach with `MessageBuilder::add_media`: a file, bytes, or a
/// reader, with an optional content type and file name.
pub struct MediaContent {
    source: Source,
    content_type: Option<String>,
    filename: Option<String>,
}

impl std::fmt::Debug for MediaContent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let source = match &self.source {
            Source::Path(p) => format!("path {}", p.display()),
            Source::Bytes(b) => format!("{} bytes", b.len()),
            Source::Reader { length, .. } => format!("reader of {length:?} bytes"),
        };
        f.debug_struct("MediaContent")
            .field("source", &source)
            .field("content_type", &self.content_type)
            .field("filename", &self.filename)
            .finish()
    }
}

impl MediaContent {
    fn new(source: Source) -> Self {
        Self { source, content_type: None, filename: None }
    }

    /// The file at `path`, streamed when sent. Unless set, the type comes from
    /// its extension and the file name from the path.
    pub fn from_path(path: impl Into<PathBuf>) -> Self {
        Self::new(Source::Path(path.into()))
    }

    /// Bytes held in memory.
    pub fn from_bytes(bytes: impl Into<Bytes>) -> Self {
        Self::new(Source::Bytes(bytes.into()))
    }

    /// Any reader, streamed when sent; `length` when known (then a file over
    /// the server's limit is refused before it is sent).
    pub fn from_reader(reader: impl AsyncRead + Send + Unpin + 'static, length: Option<u64>) -> Self {
        Self::new(Source::Reader { reader: Box::new(reader), length })
    }

    /// The media type (default: from a path's extension, else
    /// `application/octet-stream`).
    pub fn content_type(mut self, content_type: &str) -> Self {
        self.content_type = Some(content_type.to_owned());
        self
    }

    /// The file name others see.
    pub fn filename(mut self, filename: &str) -> Self {
        self.filename = Some(filename.to_owned());
        self
    }

    /// What the wire uploads (a path is opened here).
    pub(crate) async fn into_source(self) -> Result<UploadSource> {
        let mut source = match self.source {
            Source::Path(path) => UploadSource::open_file(&path).await?,
            Source::Bytes(bytes) => UploadSource {
                length: Some(bytes.len() as u64),
                reader: Box::new(std::io::Cursor::new(bytes)),
                content_type: DEFAULT_CONTENT_TYPE.into(),
                filename: None,
            },
            Source::Reader { reader, length } => {
                UploadSource { reader, length, content_type: DEFAULT_CONTENT_TYPE.into(), filename: None }
            }
        };
        if let Some(t) = self.content_type {
            source.content_type = t;
        }
        if let Some(f) = self.filename {
            source.filename = Some(f);
        }
        Ok(source)
    }
}

/// How far the upload of one media of a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadProgress {
    /// Which media of the message (the order of `add_media` calls, from 0).
    pub media: usize,
    /// Bytes handed to the connection so far.
    pub sent: u64,
    /// The size, when known up front; the last report always has it, with
    /// `sent == total` once the server holds the media.
    pub total: Option<u64>,
}

/// What a message's upload-progress callback is.
pub(crate) type ProgressFn = Arc<dyn Fn(UploadProgress) + Send + Sync>;

/// Uploads one media to `service_sid`, reporting to `progress`: at most ~10
/// a second while bytes move, and `sent == total` once the server answered.
pub(crate) async fn upload(
    shared: &Shared,
    service_sid: &str,
    media: usize,
    content: MediaContent,
    progress: Option<ProgressFn>,
) -> Result<MediaDescriptor> {
    let source = content.into_source().await?;
    let total = source.length;
    let report = progress.clone();
    let mut throttle = ProgressThrottle::default();
    let on_progress = Box::new(move |sent: u64| {
        if let Some(f) = &report
            && total != Some(sent)
            && throttle.allow(Instant::now(), sent, None)
        {
            f(UploadProgress { media, sent, total });
        }
    });
    let record = shared.rest.upload_media(service_sid, source, on_progress).await?;
    if let Some(f) = &progress {
        f(UploadProgress { media, sent: record.size, total: Some(record.size) });
    }
    Ok(MediaDescriptor {
        sid: record.sid,
        content_type: record.content_type,
        filename: record.filename,
        size: record.size,
        category: record.category.unwrap_or_else(|| "media".into()),
    })
}
