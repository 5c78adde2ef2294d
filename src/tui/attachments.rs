//! Files in and out: `/upload PATH` (checked here, streamed by the sync task,
//! its progress kept for the progress line), saving the selected message's
//! attachment into the downloads dir, opening it with the system opener, and
//! fetching image previews into the cache dir. Rules of paths: `transfers`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::sdk::Command;

use super::app::App;
use super::images::{self, Phase};
use super::rich::{Attachment, human_size};
use super::transfers::{MAX_UPLOAD_BYTES, Purpose, Upload, file_name};
use super::{links, sanitize, select};

/// `~/x` as the home directory's `x`; other paths as typed.
fn expand_home(typed: &str) -> PathBuf {
    match (typed.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(typed),
    }
}

/// `/upload PATH`: checks the file is there and not over the limit, then asks
/// the sync task to send it to the open conversation.
pub fn upload(app: &mut App, typed: &str, now: Instant) -> Result<(), String> {
    let conversation_sid = app.open.clone().ok_or("open a conversation first")?;
    let path = expand_home(typed.trim());
    let shown = sanitize::line(&path.display().to_string());
    let meta = std::fs::metadata(&path).map_err(|e| format!("cannot upload {shown}: {}", io_words(&e)))?;
    if !meta.is_file() {
        return Err(format!("cannot upload {shown}: not a file"));
    }
    if meta.len() > MAX_UPLOAD_BYTES {
        return Err(format!(
            "cannot upload {shown}: {} is over the {} limit",
            human_size(meta.len()),
            human_size(MAX_UPLOAD_BYTES)
        ));
    }
    let path = std::path::absolute(&path).unwrap_or(path);
    let name = path.file_name().map(|n| sanitize::line(&n.to_string_lossy())).unwrap_or_else(|| shown.clone());
    app.transfers.uploads.retain(|u| u.path != path);
    app.transfers.uploads.push(Upload {
        conversation_sid: conversation_sid.clone(),
        path: path.clone(),
        name: name.clone(),
        sent: 0,
        total: meta.len(),
    });
    app.outbox.push(Command::SendMedia { conversation_sid, path, body: None, reply_to: None });
    app.set_status(format!("uploading {name} ({})…", human_size(meta.len())), false, now);
    Ok(())
}

/// An I/O error in a few plain words.
fn io_words(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => e.to_string(),
    }
}

/// `Diff::UploadProgress`: the progress line follows; the last one ends it.
pub fn on_upload_progress(app: &mut App, conversation_sid: &str, path: &Path, sent: u64, total: u64, now: Instant) {
    let Some(pos) = app.transfers.uploads.iter().position(|u| u.path == path && u.conversation_sid == conversation_sid)
    else {
        return;
    };
    if sent >= total {
        let u = app.transfers.uploads.remove(pos);
        app.set_status(format!("uploaded {} ({})", u.name, human_size(total)), false, now);
    } else {
        let u = &mut app.transfers.uploads[pos];
        u.sent = sent;
        u.total = total;
    }
}

/// A failed command, as the sync task words it: `upload PATH: why` ends that
/// upload unless it is only offline (then it is retried), and `fetch media
/// ME…: why` gives that preview its reason.
pub fn on_error(app: &mut App, text: &str) {
    app.transfers.uploads.retain(|u| {
        let head = format!("upload {}: ", u.path.display());
        !text.starts_with(&head) || text[head.len()..].starts_with("offline")
    });
    if let Some(rest) = text.strip_prefix("fetch media ")
        && let Some((sid, why)) = rest.split_once(": ")
        && matches!(app.images.phase.get(sid), Some(Phase::Fetching(_)))
    {
        app.images.phase.insert(sid.to_string(), Phase::Failed(super::rich::truncate(&sanitize::line(why), 60)));
    }
}

/// The selected message's first attachment, with the conversation it is in.
fn selected_attachment(app: &App) -> Result<(String, Attachment), String> {
    let m = select::selected(app).ok_or("select a message first")?;
    let a = m.rich.media.first().ok_or("the selected message has no attachment")?;
    if a.sid.is_empty() {
        return Err("this attachment has no media SID to fetch".into());
    }
    let sid = app.open.clone().ok_or("open a conversation first")?;
    Ok((sid, a.clone()))
}

fn fetch(app: &mut App, conversation_sid: String, media_sid: String, dest: PathBuf, purpose: Purpose) {
    app.transfers.fetching.insert(dest.clone(), purpose);
    app.outbox.push(Command::FetchMedia { conversation_sid, media_sid, dest });
}

/// The save key: the selected message's attachment into the downloads dir,
/// under its own (sanitized) name, never over a file already there.
pub fn save_selected(app: &mut App, now: Instant) {
    let result = selected_attachment(app).and_then(|(sid, a)| {
        let dest = app.transfers.save_path(&a.filename)?;
        if let Some(dir) = dest.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("cannot make {}: {e}", dir.display()))?;
        }
        let name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        fetch(app, sid, a.sid, dest, Purpose::Save { name: name.clone() });
        Ok(name)
    });
    match result {
        Ok(name) => app.set_status(format!("saving {name}…"), false, now),
        Err(e) => app.set_status(e, true, now),
    }
}

/// Where the opener gets an attachment: the cache dir, by SID and name (the
/// name keeps its extension, which openers go by).
fn open_path(app: &App, a: &Attachment) -> Result<PathBuf, String> {
    let base = app.transfers.cached(&a.sid).ok_or("no cache directory for attachments")?;
    let name =
        format!("{}-{}", base.file_name().map(|n| n.to_string_lossy()).unwrap_or_default(), file_name(&a.filename));
    Ok(base.with_file_name(name))
}

/// The open key: the selected message's attachment with the system opener
/// (`open_command`), fetched into the cache dir first unless it is there.
pub fn open_selected(app: &mut App, now: Instant) {
    let result = selected_attachment(app).and_then(|(sid, a)| {
        let dest = open_path(app, &a)?;
        if dest.is_file() {
            return run_opener(app, &dest).map(|()| format!("opening {}", a.filename));
        }
        if let Some(dir) = dest.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("cannot make {}: {e}", dir.display()))?;
        }
        fetch(app, sid, a.sid, dest, Purpose::Open);
        Ok(format!("fetching {} to open it…", a.filename))
    });
    match result {
        Ok(text) => app.set_status(text, false, now),
        Err(e) => app.set_status(e, true, now),
    }
}

fn run_opener(app: &App, path: &Path) -> Result<(), String> {
    links::open_file(path, app.settings.open_command.as_deref())
}

/// `Diff::MediaFetched`: finishes what the fetch was for.
pub fn on_media_fetched(app: &mut App, media_sid: &str, dest: &Path, now: Instant) {
    match app.transfers.fetching.remove(dest) {
        Some(Purpose::Save { name }) => {
            let dir = dest.parent().map(|d| d.display().to_string()).unwrap_or_default();
            app.set_status(format!("saved {name} to {dir}"), false, now);
        }
        Some(Purpose::Open) => match run_opener(app, dest) {
            Ok(()) => app.set_status(format!("opening {}", dest.display()), false, now),
            Err(e) => app.set_status(e, true, now),
        },
        Some(Purpose::Preview) => {
            // The next frame sees the file and decodes it.
            app.images.phase.remove(media_sid);
        }
        None => {}
    }
}

/// How long a preview fetch may take before the box says it gave up.
const FETCH_PATIENCE: std::time::Duration = std::time::Duration::from_secs(30);

/// What a preview box shows while its image is not decoded, asking for the
/// fetch or the decode it needs. `None`: the image is ready in the LRU.
pub fn want_preview(app: &mut App, a: &Attachment, key: &images::Key, now: Instant) -> Option<String> {
    if app.images.lru.contains(key) {
        return None;
    }
    match app.images.phase.get(&a.sid) {
        Some(Phase::Failed(why)) => return Some(format!("no preview: {why}")),
        Some(Phase::Decoding) => return Some("decoding…".into()),
        Some(Phase::Fetching(since)) if now.duration_since(*since) > FETCH_PATIENCE => {
            return Some("no preview: the image did not arrive".into());
        }
        Some(Phase::Fetching(_)) => return Some("loading preview…".into()),
        None => {}
    }
    let Some(path) = app.transfers.cached(&a.sid) else { return Some("no preview".into()) };
    if path.is_file() {
        app.images.want_decode(key.clone(), path, &a.content_type);
        return Some("decoding…".into());
    }
    let Some(sid) = app.open.clone() else { return Some("no preview".into()) };
    if let Some(dir) = path.parent()
        && std::fs::create_dir_all(dir).is_err()
    {
        app.images.phase.insert(a.sid.clone(), Phase::Failed("the cache dir is not writable".into()));
        return Some("no preview".into());
    }
    app.images.phase.insert(a.sid.clone(), Phase::Fetching(now));
    fetch(app, sid, a.sid.clone(), path, Purpose::Preview);
    Some("loading preview…".into())
}
