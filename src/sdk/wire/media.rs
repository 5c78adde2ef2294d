//! The Media Content Service wire (`/v1/Services/{IS}/Media…`) and the atomic
//! Reactions endpoints: streamed uploads with progress, records, content.
//!
//! An upload reads its source in chunks as the connection takes them (a file
//! is never read whole into memory), counting what was handed over; a guard
//! fails it when nothing moves for `STALL_LIMIT`. Downloads stream the same way.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use bytes::BytesMut;
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE};
use reqwest::{Method, Url};
use serde::Deserialize;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::transport::{Rest, decode, error_from};
use crate::api::Message;
use crate::sdk::error::{Error, Result};

/// How long an upload or download may make no progress before it fails.
pub const STALL_LIMIT: Duration = Duration::from_secs(30);
/// How long `refusal` waits for a server to refuse an upload's head.
const REFUSAL_WAIT: Duration = Duration::from_secs(2);
/// Bytes read from the source per chunk handed to the connection.
const CHUNK_BYTES: usize = 64 * 1024;
/// The type sent when none is given and the file name says nothing.
pub const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";

/// A Media record, as `GET /v1/Services/{IS}/Media/{ME}` and the upload answer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MediaRecord {
    pub sid: String,
    pub size: u64,
    pub content_type: String,
    #[serde(default)]
    pub filename: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub author: Option<String>,
    /// The conversation it is attached in (`None` until attached).
    #[serde(default)]
    pub channel_sid: Option<String>,
    #[serde(default)]
    pub message_sid: Option<String>,
    pub links: MediaLinks,
}

/// Where a media's bytes are: with credentials, or signed for a while without.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MediaLinks {
    pub content: String,
    /// Works without credentials until it expires (fresh on every read of the record).
    pub content_direct_temporary: String,
}

/// What an upload sends: the bytes as a reader, with what the server records.
pub struct UploadSource {
    pub reader: Box<dyn AsyncRead + Send + Unpin>,
    /// The length, when known up front (sent as `Content-Length`, so a file over
    /// the server's limit is refused before it is sent).
    pub length: Option<u64>,
    pub content_type: String,
    pub filename: Option<String>,
}

impl std::fmt::Debug for UploadSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UploadSource")
            .field("length", &self.length)
            .field("content_type", &self.content_type)
            .field("filename", &self.filename)
            .finish()
    }
}

/// The content type a file name suggests (its extension), else the default.
pub fn content_type_for(path: &Path) -> String {
    mime_guess::from_path(path).first_raw().unwrap_or(DEFAULT_CONTENT_TYPE).to_owned()
}

impl UploadSource {
    /// The file at `path`, opened for streaming: its length from its metadata,
    /// its type from its extension, its name from its last component.
    pub async fn open_file(path: &Path) -> Result<Self> {
        let file = tokio::fs::File::open(path).await.map_err(|e| io_error(path, e))?;
        let meta = file.metadata().await.map_err(|e| io_error(path, e))?;
        if !meta.is_file() {
            return Err(Error::InvalidArgument(format!("{} is not a file", path.display())));
        }
        Ok(Self {
            reader: Box::new(file),
            length: Some(meta.len()),
            content_type: content_type_for(path),
            filename: path.file_name().map(|n| n.to_string_lossy().into_owned()),
        })
    }
}

fn io_error(path: &Path, e: std::io::Error) -> Error {
    Error::InvalidArgument(format!("{}: {e}", path.display()))
}

/// The counters an upload's body shares with its guard.
#[derive(Default)]
struct Moved {
    bytes: AtomicU64,
    /// The source ended before its declared length.
    short: AtomicBool,
}

/// The source as a request body: chunks read as the connection asks,
/// `on_progress(bytes so far)` after each.
fn body_of(source: UploadSource, moved: Arc<Moved>, on_progress: Box<dyn FnMut(u64) + Send>) -> reqwest::Body {
    let declared = source.length;
    let reader: Box<dyn AsyncRead + Send + Unpin> = match declared {
        Some(n) => Box::new(source.reader.take(n)),
        None => source.reader,
    };
    let chunks =
        futures_util::stream::try_unfold((reader, moved, on_progress), move |(mut r, moved, mut f)| async move {
            let mut buf = BytesMut::with_capacity(CHUNK_BYTES);
            if r.read_buf(&mut buf).await? == 0 {
                if declared.is_some_and(|n| moved.bytes.load(Ordering::Relaxed) < n) {
                    moved.short.store(true, Ordering::Relaxed);
                    return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "the source ended early"));
                }
                return Ok(None);
            }
            let sent = moved.bytes.fetch_add(buf.len() as u64, Ordering::Relaxed) + buf.len() as u64;
            f(sent);
            Ok(Some((buf.freeze(), (r, moved, f))))
        });
    reqwest::Body::wrap_stream(chunks)
}

/// Runs `fut`, failing it when `moved` stays still for `STALL_LIMIT`.
async fn unless_stalled<T>(moved: &Moved, fut: impl Future<Output = Result<T>>) -> Result<T> {
    tokio::pin!(fut);
    let mut seen = moved.bytes.load(Ordering::Relaxed);
    loop {
        tokio::select! {
            r = &mut fut => return r,
            _ = tokio::time::sleep(STALL_LIMIT) => {
                let now = moved.bytes.load(Ordering::Relaxed);
                if now == seen {
                    return Err(Error::Transport(format!("no progress for {STALL_LIMIT:?}")));
                }
                seen = now;
            }
        }
    }
}

impl Rest {
    fn media_url(&self, service_sid: &str, rest: &[&str]) -> Url {
        let mut segments = vec!["Services", service_sid, "Media"];
        segments.extend_from_slice(rest);
        self.url(&segments)
    }

    /// Uploads `source` to the service's media store (`Category=media`);
    /// `on_progress` gets the bytes handed over so far after each chunk. One
    /// attempt: a body cannot be replayed, so retrying is the caller's.
    pub async fn upload_media(
        &self,
        service_sid: &str,
        source: UploadSource,
        on_progress: Box<dyn FnMut(u64) + Send>,
    ) -> Result<MediaRecord> {
        let mut url = self.media_url(service_sid, &[]);
        {
            let mut q = url.query_pairs_mut();
            if let Some(name) = &source.filename {
                q.append_pair("Filename", name);
            }
            q.append_pair("Category", "media");
        }
        let (content_type, length) = (source.content_type.clone(), source.length);
        let moved = Arc::new(Moved::default());
        let req = self.upload_request(url.clone(), &content_type, length, body_of(source, moved.clone(), on_progress));
        let sent = unless_stalled(&moved, async {
            let resp = req.send().await?;
            let status = resp.status();
            if !status.is_success() {
                return Err(error_from(status, resp.text().await.unwrap_or_default()));
            }
            decode::<MediaRecord>(resp).await
        })
        .await;
        match sent {
            Err(_) if moved.short.load(Ordering::Relaxed) => {
                Err(Error::InvalidArgument("the file got shorter while it was being uploaded".into()))
            }
            Err(e) if e.is_transport() && length.is_some() => {
                Err(self.refusal(url, &content_type, length).await.unwrap_or(e))
            }
            other => other,
        }
    }

    fn upload_request(
        &self,
        url: Url,
        content_type: &str,
        length: Option<u64>,
        body: reqwest::Body,
    ) -> reqwest::RequestBuilder {
        let mut req = self.media_request(Method::POST, url).header(CONTENT_TYPE, content_type);
        if let Some(n) = length {
            req = req.header(CONTENT_LENGTH, n);
        }
        req.body(body)
    }

    /// Why an upload broke off, if the server refused it from its head: a
    /// server that refuses (e.g. 413 for a declared length over its limit)
    /// closes the connection with the body unread, and the reset can reach us
    /// before its answer. Asked again with the same head and no body sent yet,
    /// the refusal arrives intact; a server that would take it just waits.
    async fn refusal(&self, url: Url, content_type: &str, length: Option<u64>) -> Option<Error> {
        let never = futures_util::stream::pending::<std::result::Result<bytes::Bytes, std::io::Error>>();
        let req = self.upload_request(url, content_type, length, reqwest::Body::wrap_stream(never));
        match tokio::time::timeout(REFUSAL_WAIT, req.send()).await {
            Ok(Ok(resp)) if !resp.status().is_success() => {
                let status = resp.status();
                Some(error_from(status, resp.text().await.unwrap_or_default()))
            }
            _ => None,
        }
    }

    /// The media record, with a fresh `content_direct_temporary` link.
    pub async fn get_media(&self, service_sid: &str, media_sid: &str) -> Result<MediaRecord> {
        self.get(&["Services", service_sid, "Media", media_sid], &[]).await
    }

    /// Streams the media's content into `writer`; resolves to the bytes written.
    pub async fn download_media<W: AsyncWrite + Unpin + ?Sized>(
        &self,
        service_sid: &str,
        media_sid: &str,
        writer: &mut W,
    ) -> Result<u64> {
        let url = self.media_url(service_sid, &[media_sid, "Content"]);
        let moved = Moved::default();
        let send = async { self.media_request(Method::GET, url).send().await.map_err(Error::from) };
        let mut resp = unless_stalled(&moved, send).await?;
        let status = resp.status();
        if !status.is_success() {
            return Err(error_from(status, resp.text().await.unwrap_or_default()));
        }
        let mut written = 0u64;
        loop {
            let chunk = tokio::time::timeout(STALL_LIMIT, resp.chunk())
                .await
                .map_err(|_| Error::Transport(format!("no progress for {STALL_LIMIT:?}")))??;
            let Some(chunk) = chunk else { break };
            writer.write_all(&chunk).await.map_err(|e| Error::InvalidArgument(format!("writing the media: {e}")))?;
            written += chunk.len() as u64;
        }
        writer.flush().await.map_err(|e| Error::InvalidArgument(format!("writing the media: {e}")))?;
        Ok(written)
    }

    /// Adds the caller's `reaction` to a message (atomically, on the server);
    /// resolves to the message with its attributes updated.
    pub async fn react(&self, conversation: &str, message: &str, reaction: &str) -> Result<Message> {
        let segments = ["Conversations", conversation, "Messages", message, "Reactions"];
        self.post(&segments, &[("Reaction", reaction)], None).await
    }

    /// Takes the caller's `reaction` back; resolves to the updated message.
    pub async fn unreact(&self, conversation: &str, message: &str, reaction: &str) -> Result<Message> {
        self.delete_for(&["Conversations", conversation, "Messages", message, "Reactions", reaction]).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_come_from_the_extension() {
        assert_eq!(content_type_for(Path::new("/tmp/cat.PNG")), "image/png");
        assert_eq!(content_type_for(Path::new("notes.txt")), "text/plain");
        assert_eq!(content_type_for(Path::new("blob")), DEFAULT_CONTENT_TYPE);
        assert_eq!(content_type_for(Path::new("x.unknownext")), DEFAULT_CONTENT_TYPE);
    }
}
