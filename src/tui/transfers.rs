//! Files moving between this machine and the server, as state and rules: where
//! a saved attachment goes (a sanitized name in the downloads dir, never
//! outside it, never over another file), what each fetch in flight is for, and
//! the progress line of uploads. The actions on the app are in `attachments`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use ratatui::text::{Line, Span};

use super::rich::{human_size, truncate};
use super::sanitize;
use super::theme::Theme;

/// What a `FetchMedia` in flight is for, keyed by its destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Purpose {
    /// Saved into the downloads dir: say where when it is there.
    Save { name: String },
    /// Handed to the system opener when it is there.
    Open,
    /// An inline image preview (`images`).
    Preview,
}

/// One upload in flight, as the last `UploadProgress` said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    pub conversation_sid: String,
    pub path: PathBuf,
    /// The file name as shown (sanitized).
    pub name: String,
    pub sent: u64,
    pub total: u64,
}

/// Uploads smaller than this finish too fast for a progress line to help.
pub const PROGRESS_MIN_BYTES: u64 = 256 * 1024;

/// The chat service's limit for one media file (Twilio's: 150 MB); the server
/// may be set lower, and then says so itself.
pub const MAX_UPLOAD_BYTES: u64 = 150 * 1024 * 1024;

/// Transfers in flight and where files go.
#[derive(Debug, Clone, Default)]
pub struct Transfers {
    /// Where saved attachments go (the user's downloads dir, else the data dir).
    pub downloads: Option<PathBuf>,
    /// Where fetched media is kept for previews and opening (in the cache dir).
    pub cache: Option<PathBuf>,
    /// Destination → what the fetch is for.
    pub fetching: HashMap<PathBuf, Purpose>,
    /// Uploads in flight, oldest first.
    pub uploads: Vec<Upload>,
}

impl Transfers {
    /// The downloads dir of this user (`directories::UserDirs`), else `data`.
    pub fn new(data: &Path, cache: &Path) -> Transfers {
        let downloads = directories::UserDirs::new()
            .and_then(|u| u.download_dir().map(Path::to_path_buf))
            .unwrap_or_else(|| data.join("downloads"));
        Transfers { downloads: Some(downloads), cache: Some(cache.join("media")), ..Transfers::default() }
    }

    /// Where media `sid` is kept in the cache dir, if the SID is a plain SID
    /// (letters and digits) and a cache dir is set.
    pub fn cached(&self, media_sid: &str) -> Option<PathBuf> {
        plain_sid(media_sid).then(|| self.cache.as_ref().map(|c| c.join(media_sid)))?
    }

    /// A free path in the downloads dir for a file the network calls `name`:
    /// sanitized, with ` (1)`, ` (2)`, … before the extension when the name
    /// is taken on disk or by a save in flight.
    pub fn save_path(&self, name: &str) -> Result<PathBuf, String> {
        let dir = self.downloads.as_ref().ok_or("no downloads directory is known")?;
        let pending: Vec<&Path> = self.fetching.keys().map(PathBuf::as_path).collect();
        Ok(free_path(dir, &file_name(name), |p| p.exists() || pending.contains(&p)))
    }
}

/// Whether `sid` is safe as a file name: ASCII letters and digits only.
pub fn plain_sid(sid: &str) -> bool {
    !sid.is_empty() && sid.len() <= 64 && sid.chars().all(|c| c.is_ascii_alphanumeric())
}

/// Most bytes a saved file's name keeps (file systems allow 255).
const MAX_NAME_BYTES: usize = 200;

/// A file name from the network made safe to create: terminal-safe
/// (`sanitize`), one component (no `/`, `\`, NUL or drive colon), not `.` or
/// `..`, not hidden, not empty, at most `MAX_NAME_BYTES` keeping the extension.
pub fn file_name(name: &str) -> String {
    let clean: String = sanitize::line(name)
        .chars()
        .map(|c| if matches!(c, '/' | '\\' | ':' | '\0') || c.is_control() { '_' } else { c })
        .collect();
    let clean = clean.trim().trim_start_matches('.').trim().to_string();
    let clean = if clean.is_empty() { "attachment".to_string() } else { clean };
    if clean.len() <= MAX_NAME_BYTES {
        return clean;
    }
    let (stem, ext) = split_ext(&clean);
    let ext = if ext.len() <= 16 { ext } else { "" };
    let mut stem: String = stem.to_string();
    while stem.len() + ext.len() > MAX_NAME_BYTES {
        stem.pop();
    }
    format!("{stem}{ext}")
}

/// `("photo", ".png")` from `photo.png`; no extension for `archive` or `.rc`.
fn split_ext(name: &str) -> (&str, &str) {
    match name.rfind('.') {
        Some(p) if p > 0 => (&name[..p], &name[p..]),
        _ => (name, ""),
    }
}

/// `dir/name`, else `dir/stem (1).ext`, `dir/stem (2).ext`, … the first that
/// `taken` does not claim. `name` must be one component (see `file_name`).
pub fn free_path(dir: &Path, name: &str, taken: impl Fn(&Path) -> bool) -> PathBuf {
    let first = dir.join(name);
    if !taken(&first) {
        return first;
    }
    let (stem, ext) = split_ext(name);
    (1u32..).map(|n| dir.join(format!("{stem} ({n}){ext}"))).find(|p| !taken(p)).unwrap_or(first)
}

/// `⇪ name  42%  1.2 MB of 3.0 MB` for each upload big enough to show, the
/// oldest first; `None` when there is none.
pub fn progress_line(uploads: &[Upload], width: usize, theme: &Theme) -> Option<Line<'static>> {
    let shown: Vec<&Upload> = uploads.iter().filter(|u| u.total >= PROGRESS_MIN_BYTES).collect();
    let u = shown.first()?;
    let pct = (u.sent.min(u.total) * 100).checked_div(u.total).unwrap_or(100);
    let more = if shown.len() > 1 { format!("  (+{} more)", shown.len() - 1) } else { String::new() };
    let tail = format!("  {pct:>3}%  {} of {}{more}", human_size(u.sent.min(u.total)), human_size(u.total));
    let room = width.saturating_sub(3 + tail.chars().count()).max(4);
    Some(Line::from(vec![
        Span::styled(" ⇪ ", theme.typing),
        Span::styled(truncate(&u.name, room), theme.bold),
        Span::styled(tail, theme.typing),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_the_network_stay_one_safe_component() {
        assert_eq!(file_name("report.pdf"), "report.pdf");
        assert_eq!(file_name("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(file_name("..\\..\\boot.ini"), "_.._boot.ini");
        assert_eq!(file_name("/abs/path.png"), "_abs_path.png");
        assert_eq!(file_name(".."), "attachment");
        assert_eq!(file_name(".bashrc"), "bashrc");
        assert_eq!(file_name("  "), "attachment");
        assert_eq!(file_name("evil\u{1b}]0;x\u{7}\u{202e}gpj.exe"), "evilgpj.exe");
        assert_eq!(file_name("C:boot"), "C_boot");
        let long = format!("{}.png", "a".repeat(300));
        let cut = file_name(&long);
        assert!(cut.len() <= MAX_NAME_BYTES && cut.ends_with(".png"), "{cut}");
    }

    #[test]
    fn a_taken_name_gets_a_number_before_its_extension() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let exists = |p: &Path| p.exists();
        assert_eq!(free_path(d, "a.png", exists), d.join("a.png"));
        std::fs::write(d.join("a.png"), b"x").unwrap();
        assert_eq!(free_path(d, "a.png", exists), d.join("a (1).png"));
        std::fs::write(d.join("a (1).png"), b"x").unwrap();
        assert_eq!(free_path(d, "a.png", exists), d.join("a (2).png"));
        std::fs::write(d.join("notes"), b"x").unwrap();
        assert_eq!(free_path(d, "notes", exists), d.join("notes (1)"));
        // A save in flight holds its name too.
        let t = Transfers { downloads: Some(d.to_path_buf()), ..Transfers::default() };
        let mut t2 = t.clone();
        t2.fetching.insert(d.join("b.txt"), Purpose::Save { name: "b.txt".into() });
        assert_eq!(t.save_path("b.txt").unwrap(), d.join("b.txt"));
        assert_eq!(t2.save_path("b.txt").unwrap(), d.join("b (1).txt"));
        assert!(t2.save_path("../x").unwrap().starts_with(d));
    }

    #[test]
    fn only_plain_sids_name_cache_files() {
        let t = Transfers { cache: Some(PathBuf::from("/c")), ..Transfers::default() };
        assert_eq!(t.cached("ME0123abc"), Some(PathBuf::from("/c/ME0123abc")));
        assert_eq!(t.cached("../ME1"), None);
        assert_eq!(t.cached(""), None);
    }
}
