//! Inline image previews: which attachments get one (png, jpeg, gif, webp), the
//! fixed box they are drawn in, decoding a fetched file off the UI thread into
//! a `ratatui-image` protocol (kitty, sixel, iTerm2 or half-blocks, as the
//! terminal answered at start-up), and the LRU that caps their memory.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use image::ImageFormat;
use ratatui::layout::Rect;
use ratatui_image::Resize;
use ratatui_image::picker::Picker;
use ratatui_image::protocol::Protocol;

/// Rows a preview takes in the message pane (under its attachment line).
pub const PREVIEW_ROWS: u16 = 8;
/// Most columns a preview takes.
pub const PREVIEW_COLS: u16 = 32;
/// Columns a preview is indented from its attachment line's icon.
pub const PREVIEW_INDENT: usize = 2;
/// Files bigger than this are not decoded for a preview.
pub const MAX_PREVIEW_FILE: u64 = 40 * 1024 * 1024;
/// Memory the decoded previews may hold together.
pub const DEFAULT_BUDGET: usize = 48 * 1024 * 1024;

/// The types previews are made for; everything else is only an attachment line.
pub fn previewable(content_type: &str) -> bool {
    format_of(content_type).is_some()
}

fn format_of(content_type: &str) -> Option<ImageFormat> {
    let base = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    match base.as_str() {
        "image/png" => Some(ImageFormat::Png),
        "image/jpeg" | "image/jpg" => Some(ImageFormat::Jpeg),
        "image/gif" => Some(ImageFormat::Gif),
        "image/webp" => Some(ImageFormat::WebP),
        _ => None,
    }
}

/// The preview box for a pane `width` wide and a body `indent`: columns, rows.
pub fn box_size(width: u16, indent: usize) -> (u16, u16) {
    let room = (width as usize).saturating_sub(indent + PREVIEW_INDENT + 1);
    (PREVIEW_COLS.min(room as u16).max(1), PREVIEW_ROWS)
}

/// A decoded preview's key: the media and the box it was made for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    pub media_sid: String,
    pub cols: u16,
    pub rows: u16,
}

/// Decoded previews, least recently used dropped first once their estimated
/// bytes pass `budget`.
pub struct Lru {
    budget: usize,
    used: usize,
    clock: u64,
    entries: HashMap<Key, (Protocol, usize, u64)>,
}

impl Lru {
    pub fn new(budget: usize) -> Lru {
        Lru { budget, used: 0, clock: 0, entries: HashMap::new() }
    }

    /// The preview, marked as just used.
    pub fn get(&mut self, key: &Key) -> Option<&Protocol> {
        self.clock += 1;
        let clock = self.clock;
        self.entries.get_mut(key).map(|e| {
            e.2 = clock;
            &e.0
        })
    }

    pub fn contains(&self, key: &Key) -> bool {
        self.entries.contains_key(key)
    }

    /// Keeps `protocol` (estimated at `bytes`), dropping the least recently
    /// used until the budget holds. One bigger than the budget is not kept.
    pub fn insert(&mut self, key: Key, protocol: Protocol, bytes: usize) {
        if let Some(old) = self.entries.remove(&key) {
            self.used -= old.1;
        }
        if bytes > self.budget {
            return;
        }
        while self.used + bytes > self.budget {
            let Some(oldest) = self.entries.iter().min_by_key(|(_, e)| e.2).map(|(k, _)| k.clone()) else { break };
            if let Some(e) = self.entries.remove(&oldest) {
                self.used -= e.1;
            }
        }
        self.clock += 1;
        self.used += bytes;
        self.entries.insert(key, (protocol, bytes, self.clock));
    }

    /// Estimated bytes held.
    pub fn used(&self) -> usize {
        self.used
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Where a preview stands when it is not in the LRU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    /// `FetchMedia` sent (then); `Diff::MediaFetched` will say it is in the cache.
    Fetching(std::time::Instant),
    /// In the cache dir, waiting to be decoded (or being decoded).
    Decoding,
    /// It could not be fetched or decoded: why, in a few words.
    Failed(String),
}

/// Work for a blocking thread: decode `path` for the box in `key`.
#[derive(Debug, Clone)]
pub struct DecodeJob {
    pub key: Key,
    pub path: PathBuf,
    pub content_type: String,
    picker: Picker,
}

/// A decode's outcome, for `Images::finished`.
pub struct Decoded {
    pub key: Key,
    pub result: Result<(Protocol, usize), String>,
}

/// The previews of this client: off when `picker` is `None`.
pub struct Images {
    picker: Option<Picker>,
    pub lru: Lru,
    /// Media SID → where it stands (absent: not asked for yet, or decoded).
    pub phase: HashMap<String, Phase>,
    /// Decodes the event loop should start (`take_jobs`).
    jobs: Vec<DecodeJob>,
}

impl std::fmt::Debug for Images {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Images")
            .field("protocol", &self.picker.as_ref().map(Picker::protocol_type))
            .field("decoded", &self.lru.len())
            .field("phase", &self.phase)
            .finish()
    }
}

impl Images {
    /// Previews drawn with `picker`'s protocol, within `budget` bytes.
    pub fn new(picker: Picker, budget: usize) -> Images {
        Images { picker: Some(picker), lru: Lru::new(budget), phase: HashMap::new(), jobs: Vec::new() }
    }

    /// No previews: images are attachment lines only.
    pub fn off() -> Images {
        Images { picker: None, lru: Lru::new(0), phase: HashMap::new(), jobs: Vec::new() }
    }

    pub fn enabled(&self) -> bool {
        self.picker.is_some()
    }

    /// Asks for a decode of `path` (already in the cache dir) into `key`'s box.
    pub fn want_decode(&mut self, key: Key, path: PathBuf, content_type: &str) {
        let Some(picker) = self.picker.clone() else { return };
        if self.phase.get(&key.media_sid) == Some(&Phase::Decoding) && self.jobs.iter().any(|j| j.key == key) {
            return;
        }
        self.phase.insert(key.media_sid.clone(), Phase::Decoding);
        self.jobs.push(DecodeJob { key, path, content_type: content_type.to_string(), picker });
    }

    /// The decodes asked for since the last call.
    pub fn take_jobs(&mut self) -> Vec<DecodeJob> {
        std::mem::take(&mut self.jobs)
    }

    /// Keeps a finished decode (or its failure).
    pub fn finished(&mut self, d: Decoded) {
        match d.result {
            Ok((protocol, bytes)) => {
                self.phase.remove(&d.key.media_sid);
                self.lru.insert(d.key, protocol, bytes);
            }
            Err(e) => {
                self.phase.insert(d.key.media_sid, Phase::Failed(e));
            }
        }
    }
}

/// Starts the decoding thread: jobs in, decoded previews out (to the UI
/// loop, which wakes for them). It ends when the job sender is dropped.
pub fn start_decoder() -> (std::sync::mpsc::Sender<DecodeJob>, tokio::sync::mpsc::UnboundedReceiver<Decoded>) {
    let (job_tx, job_rx) = std::sync::mpsc::channel::<DecodeJob>();
    let (done_tx, done_rx) = tokio::sync::mpsc::unbounded_channel();
    let spawned = std::thread::Builder::new().name("convo-images".into()).spawn(move || {
        while let Ok(job) = job_rx.recv() {
            if done_tx.send(decode(job)).is_err() {
                return;
            }
        }
    });
    if let Err(e) = spawned {
        tracing::warn!("no image decoding thread: {e}");
    }
    (job_tx, done_rx)
}

/// Decodes a job (blocking: run it on a blocking thread). Only the four
/// preview formats are accepted, by content, whatever the type claimed.
pub fn decode(job: DecodeJob) -> Decoded {
    let result = decode_file(&job.path, &job.content_type)
        .and_then(|img| {
            let area = Rect::new(0, 0, job.key.cols, job.key.rows);
            let (fw, fh) = job.picker.font_size();
            // What the protocol holds is at most the box in pixels, RGBA.
            let bytes = job.key.cols as usize * fw as usize * job.key.rows as usize * fh as usize * 4;
            job.picker.new_protocol(img, area, Resize::Scale(None)).map(|p| (p, bytes)).map_err(|e| e.to_string())
        })
        .map_err(|e| crate::tui::sanitize::line(&e));
    Decoded { key: job.key, result }
}

fn decode_file(path: &Path, content_type: &str) -> Result<image::DynamicImage, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read the preview: {e}"))?;
    let len = file.metadata().map_err(|e| e.to_string())?.len();
    if len > MAX_PREVIEW_FILE {
        return Err("too big for a preview".to_string());
    }
    let mut bytes = Vec::with_capacity(len as usize);
    file.take(MAX_PREVIEW_FILE).read_to_end(&mut bytes).map_err(|e| e.to_string())?;
    let format = image::guess_format(&bytes).map_err(|_| "not an image".to_string())?;
    if format_of(content_type).is_none()
        || !matches!(format, ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::Gif | ImageFormat::WebP)
    {
        return Err("not a png, jpeg, gif or webp image".to_string());
    }
    let mut reader = image::ImageReader::with_format(std::io::Cursor::new(bytes), format);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(8192);
    limits.max_image_height = Some(8192);
    limits.max_alloc = Some(256 * 1024 * 1024);
    reader.limits(limits);
    reader.decode().map_err(|e| format!("cannot decode: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proto() -> Protocol {
        let img = image::DynamicImage::new_rgba8(4, 4);
        Picker::halfblocks().new_protocol(img, Rect::new(0, 0, 2, 2), Resize::Fit(None)).unwrap()
    }

    fn key(s: &str) -> Key {
        Key { media_sid: s.into(), cols: 2, rows: 2 }
    }

    #[test]
    fn the_lru_keeps_its_budget_dropping_the_least_recently_used() {
        let mut lru = Lru::new(100);
        lru.insert(key("a"), proto(), 40);
        lru.insert(key("b"), proto(), 40);
        assert!(lru.get(&key("a")).is_some());
        lru.insert(key("c"), proto(), 40);
        assert!(lru.contains(&key("a")) && lru.contains(&key("c")) && !lru.contains(&key("b")));
        assert_eq!(lru.used(), 80);
        lru.insert(key("huge"), proto(), 101);
        assert!(!lru.contains(&key("huge")));
        lru.insert(key("a"), proto(), 10);
        assert_eq!(lru.used(), 50);
    }

    #[test]
    fn only_the_four_formats_preview_and_content_decides() {
        assert!(previewable("image/png") && previewable("IMAGE/JPEG; q=1") && previewable("image/webp"));
        assert!(!previewable("image/svg+xml") && !previewable("application/pdf") && !previewable(""));
        let dir = tempfile::tempdir().unwrap();
        let png = dir.path().join("p");
        image::RgbaImage::from_pixel(6, 6, image::Rgba([255, 0, 0, 255]))
            .save_with_format(&png, ImageFormat::Png)
            .unwrap();
        assert!(decode_file(&png, "image/png").is_ok());
        let fake = dir.path().join("f");
        std::fs::write(&fake, b"<svg xmlns='http://www.w3.org/2000/svg'/>").unwrap();
        assert!(decode_file(&fake, "image/png").is_err());
        assert!(decode_file(&png, "image/svg+xml").is_err());
        let job =
            DecodeJob { key: key("p"), path: png, content_type: "image/png".into(), picker: Picker::halfblocks() };
        let d = decode(job);
        assert!(d.result.is_ok());
    }
}
