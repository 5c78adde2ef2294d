//! Media in the TUI, driven with the sync task's diffs and keys: `/upload`
//! and its progress line, reaction toggles, saving and opening attachments,
//! and inline image previews in half-blocks; snapshots of each.

use std::path::{Path, PathBuf};

use convo_tui::api::Message;
use convo_tui::sdk::{Command, Diff};
use convo_tui::tui::App;
use convo_tui::tui::app::Focus;
use convo_tui::tui::images::{self, Images};
use crossterm::event::{KeyCode, KeyModifiers};
use ratatui::style::Color;
use ratatui_image::picker::Picker;
use serde_json::json;

use crate::fixtures::*;

macro_rules! snap {
    ($name:expr, $text:expr) => {
        insta::with_settings!({ snapshot_path => "snapshots", prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!($name, $text);
        })
    };
}

fn drain(a: &mut App) -> Vec<Command> {
    std::mem::take(&mut a.outbox)
}

/// "general" open with `messages`, alice, bob and me in it, the composer focused.
fn room_with(messages: Vec<Message>) -> App {
    let mut a = app();
    let n = messages.len() as u64;
    diff(&mut a, Diff::Conversations(vec![entry(1, "general", n, 30, 0, false)]));
    open_general(&mut a, messages);
    drain(&mut a);
    a.focus = Focus::Composer;
    a
}

fn with_media(m: Message, media: serde_json::Value) -> Message {
    Message { media: Some(media), ..m }
}

fn command(a: &mut App, line: &str) {
    a.reset_composer(String::new());
    a.focus = Focus::Composer;
    type_text(a, line);
    press(a, KeyCode::Enter, KeyModifiers::NONE);
}

/// A directory of a fixed-length name (so screens that show it are the same
/// on every run): `/tmp/convo-dl-XXXXXX`.
fn fixed_dir() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("convo-dl-").rand_bytes(6).tempdir_in("/tmp").unwrap()
}

#[test]
fn upload_sends_the_file_and_shows_a_progress_line_until_done() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("holiday video.mp4");
    std::fs::File::create(&big).unwrap().set_len(3 * 1024 * 1024).unwrap();
    let mut a = room_with(vec![message(1, 0, "alice", "send the video?", 1)]);
    command(&mut a, &format!("/upload {}", big.display()));
    assert_eq!(
        drain(&mut a),
        vec![Command::SendMedia { conversation_sid: ch(1), path: big.clone(), body: None, reply_to: None }]
    );
    assert!(a.status.as_ref().unwrap().text.contains("uploading holiday video.mp4 (3.0 MB)"));
    let progress =
        |sent| Diff::UploadProgress { conversation_sid: ch(1), path: big.clone(), sent, total: 3 * 1024 * 1024 };
    diff(&mut a, progress(1024 * 1024 + 512 * 1024));
    let text = screen(&mut a, 80, 12);
    assert!(text.contains("⇪ holiday video.mp4   50%  1.5 MB of 3.0 MB"), "{text}");
    snap!("media_upload_progress", text);
    diff(&mut a, progress(3 * 1024 * 1024));
    let text = screen(&mut a, 80, 12);
    assert!(!text.contains('⇪'), "the line goes when the upload is done:\n{text}");
    assert!(a.status.as_ref().unwrap().text.contains("uploaded holiday video.mp4"));

    // A failed upload ends its line; one only offline keeps it (it is retried).
    command(&mut a, &format!("/upload {}", big.display()));
    diff(&mut a, progress(1024 * 1024));
    diff(&mut a, Diff::Error(format!("upload {}: offline (connection refused)", big.display())));
    assert!(screen(&mut a, 80, 12).contains('⇪'));
    diff(&mut a, Diff::Error(format!("upload {}: the file is too large (413)", big.display())));
    assert!(!screen(&mut a, 80, 12).contains('⇪'));
    drain(&mut a);

    // A small file gets no progress line; bad paths say why, and nothing is sent.
    let small = dir.path().join("note.txt");
    std::fs::write(&small, b"hi").unwrap();
    command(&mut a, &format!("/upload {}", small.display()));
    assert_eq!(drain(&mut a).len(), 1);
    assert!(!screen(&mut a, 80, 12).contains('⇪'));
    command(&mut a, &format!("/upload {}/nope.png", dir.path().display()));
    let s = a.status.clone().unwrap();
    assert!(s.error && s.text.contains("nope.png") && s.text.contains("no such file"), "{s:?}");
    command(&mut a, &format!("/upload {}", dir.path().display()));
    assert!(a.status.as_ref().unwrap().text.contains("not a file"));
    let huge = dir.path().join("huge.bin");
    std::fs::File::create(&huge).unwrap().set_len(151 * 1024 * 1024).unwrap();
    command(&mut a, &format!("/upload {}", huge.display()));
    assert!(a.status.as_ref().unwrap().text.contains("over the 150.0 MB limit"), "{:?}", a.status);
    assert!(drain(&mut a).is_empty());
}

#[test]
fn react_toggles_your_reaction_and_the_servers_echo_shows_it() {
    let m = Message {
        attributes: json!({"reactions": {"heart": ["me", "bob"], "thumbs_up": ["alice"]}}).to_string(),
        ..message(1, 0, "alice", "the build is green", 1)
    };
    let msid = m.sid.clone();
    let mut a = room_with(vec![m.clone()]);
    // Yours already: /react takes it back.
    command(&mut a, "/react heart");
    let unreact = Command::Unreact { conversation_sid: ch(1), message_sid: msid.clone(), reaction: "heart".into() };
    assert_eq!(drain(&mut a), vec![unreact]);
    // Not yours: + on the selected message, then the name.
    a.focus = Focus::Messages;
    press(&mut a, KeyCode::Up, KeyModifiers::NONE);
    press(&mut a, KeyCode::Char('+'), KeyModifiers::NONE);
    assert_eq!(a.composer_text(), "/react ");
    type_text(&mut a, "+1");
    press(&mut a, KeyCode::Enter, KeyModifiers::NONE);
    let react = Command::React { conversation_sid: ch(1), message_sid: msid.clone(), reaction: "thumbs_up".into() };
    assert_eq!(drain(&mut a), vec![react]);
    // The pane shows what the server says after both. (The server also moves
    // date_updated, which the pane reads as an edit; kept out of this picture.)
    let echoed =
        Message { attributes: json!({"reactions": {"heart": ["bob"], "thumbs_up": ["alice", "me"]}}).to_string(), ..m };
    diff(&mut a, Diff::MessageUpserted(echoed));
    let text = screen(&mut a, 70, 10);
    assert!(text.contains("❤ 1  [👍 2]"), "{text}");
    snap!("media_reactions_toggled", text);
    command(&mut a, "/react 🎉");
    assert!(matches!(&drain(&mut a)[..], [Command::React { reaction, .. }] if reaction == "🎉"));
}

fn report_message() -> Message {
    with_media(
        message(1, 0, "bob", "the report", 1),
        json!([{"sid": "ME00000000000000000000000000000001", "content_type": "application/pdf",
                "filename": "../report.pdf", "size": 52_000, "category": "media"}]),
    )
}

#[test]
fn the_save_key_fetches_into_downloads_under_a_free_name_and_confirms() {
    let downloads = fixed_dir();
    std::fs::write(downloads.path().join("_report.pdf"), b"older").unwrap();
    let mut a = room_with(vec![report_message(), message(1, 1, "alice", "thanks", 2)]);
    a.transfers.downloads = Some(downloads.path().to_path_buf());
    a.focus = Focus::Messages;
    press(&mut a, KeyCode::Char('s'), KeyModifiers::NONE);
    assert_eq!(a.composer_text(), "s", "without a selection s types");
    a.reset_composer(String::new());
    drain(&mut a);
    a.focus = Focus::Messages;
    press(&mut a, KeyCode::Up, KeyModifiers::NONE);
    press(&mut a, KeyCode::Char('s'), KeyModifiers::NONE);
    assert!(a.status.as_ref().unwrap().text.contains("the selected message has no attachment"));
    press(&mut a, KeyCode::Up, KeyModifiers::NONE);
    press(&mut a, KeyCode::Char('s'), KeyModifiers::NONE);
    let dest = downloads.path().join("_report (1).pdf");
    assert_eq!(
        drain(&mut a),
        vec![Command::FetchMedia {
            conversation_sid: ch(1),
            media_sid: "ME00000000000000000000000000000001".into(),
            dest: dest.clone()
        }]
    );
    // A second save while the first is in flight takes the next name.
    press(&mut a, KeyCode::Char('s'), KeyModifiers::NONE);
    assert!(matches!(&drain(&mut a)[..], [Command::FetchMedia { dest, .. }] if dest.ends_with("_report (2).pdf")));
    std::fs::write(&dest, b"%PDF").unwrap();
    diff(&mut a, Diff::MediaFetched { media_sid: "ME00000000000000000000000000000001".into(), dest: dest.clone() });
    let status = a.status.clone().unwrap();
    assert!(!status.error && status.text.contains("saved _report (1).pdf to"), "{status:?}");
    let shown = downloads.path().display().to_string();
    let text = screen(&mut a, 100, 10).replace(&shown, "/tmp/convo-dl-XXXXXX");
    snap!("media_save_confirmation", text);
}

#[test]
fn the_open_key_fetches_into_the_cache_then_runs_the_opener_on_the_file() {
    let cache = tempfile::tempdir().unwrap();
    let mut a = room_with(vec![report_message()]);
    a.transfers.cache = Some(cache.path().to_path_buf());
    // An opener that records what it was given.
    let log = cache.path().join("opened");
    let script = cache.path().join("opener.sh");
    std::fs::write(&script, format!("#!/bin/sh\nprintf '%s' \"$1\" > {}\n", log.display())).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    a.settings.open_command = Some(script.display().to_string());
    a.focus = Focus::Messages;
    press(&mut a, KeyCode::Up, KeyModifiers::NONE);
    press(&mut a, KeyCode::Char('O'), KeyModifiers::SHIFT);
    let cmds = drain(&mut a);
    let [Command::FetchMedia { dest, .. }] = &cmds[..] else { panic!("{cmds:?}") };
    assert_eq!(dest, &cache.path().join("ME00000000000000000000000000000001-_report.pdf"));
    std::fs::write(dest, b"%PDF").unwrap();
    diff(&mut a, Diff::MediaFetched { media_sid: "ME00000000000000000000000000000001".into(), dest: dest.clone() });
    let opened = wait_for_file(&log);
    assert_eq!(Path::new(&opened), dest.as_path());
}

fn wait_for_file(p: &Path) -> String {
    for _ in 0..100 {
        if let Ok(s) = std::fs::read_to_string(p)
            && !s.is_empty()
        {
            return s;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("{} never written", p.display());
}

/// A 16×16 PNG: a white triangle below the diagonal on red.
fn write_png(path: &Path) {
    let img = image::RgbaImage::from_fn(16, 16, |x, y| {
        if x < y { image::Rgba([255, 255, 255, 255]) } else { image::Rgba([200, 0, 0, 255]) }
    });
    img.save_with_format(path, image::ImageFormat::Png).unwrap();
}

fn run_decodes(a: &mut App) -> usize {
    let jobs = a.images.take_jobs();
    let n = jobs.len();
    for j in jobs {
        let d = images::decode(j);
        a.images.finished(d);
    }
    n
}

#[test]
fn an_image_attachment_is_fetched_lazily_decoded_and_drawn_in_half_blocks() {
    let cache = tempfile::tempdir().unwrap();
    let shot = with_media(
        message(1, 0, "alice", "look", 1),
        json!([{"sid": "ME000000000000000000000000000000aa", "content_type": "image/png",
                "filename": "shot\u{1b}[2J.png", "size": 2048, "category": "media"}]),
    );
    let mut a = room_with(vec![shot, message(1, 1, "bob", "nice", 2)]);
    a.images = Images::new(Picker::halfblocks(), images::DEFAULT_BUDGET);
    a.transfers.cache = Some(cache.path().to_path_buf());
    // The first frame asks for the file, into the cache dir, and says so.
    let text = screen(&mut a, 80, 24);
    assert!(text.contains("┆ loading preview…"), "{text}");
    let cmds = drain(&mut a);
    let want: PathBuf = cache.path().join("ME000000000000000000000000000000aa");
    assert!(matches!(&cmds[..], [Command::FetchMedia { dest, .. }] if *dest == want), "{cmds:?}");
    screen(&mut a, 80, 24);
    assert!(drain(&mut a).is_empty(), "asked once");
    write_png(&want);
    diff(&mut a, Diff::MediaFetched { media_sid: "ME000000000000000000000000000000aa".into(), dest: want });
    screen(&mut a, 80, 24);
    assert_eq!(run_decodes(&mut a), 1, "decoded off the drawing code, once");
    let text = screen(&mut a, 80, 24);
    assert!(text.contains('▄') && !text.contains("preview"), "{text}");
    assert!(!text.contains('\u{1b}'));
    snap!("media_image_preview_halfblocks", text);
    let buf = buffer(&mut a, 80, 24);
    let colours: Vec<Color> = buf.content().iter().flat_map(|c| [c.fg, c.bg]).collect();
    assert!(colours.contains(&Color::Rgb(200, 0, 0)) && colours.contains(&Color::Rgb(255, 255, 255)));
    assert!(a.images.lru.used() > 0 && a.images.lru.len() == 1);

    // A file that is not what it claims to be gets a reason, not a picture.
    let fake = with_media(
        message(1, 2, "bob", "", 3),
        json!([{"sid": "ME000000000000000000000000000000bb", "content_type": "image/png", "filename": "x.png"}]),
    );
    diff(&mut a, Diff::MessageUpserted(fake));
    std::fs::write(cache.path().join("ME000000000000000000000000000000bb"), b"<svg/>").unwrap();
    screen(&mut a, 80, 36);
    run_decodes(&mut a);
    let text = screen(&mut a, 80, 36);
    assert!(text.contains("no preview: not an image"), "{text}");
}
