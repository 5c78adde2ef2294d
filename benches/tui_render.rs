//! Criterion benchmark of the TUI's frame building: a 200×60 screen with 1,000
//! conversations in the list and a 100,000-message conversation scrolled (by
//! PageUp, loading older pages as the real sync task would) to its middle.
//! Run: `cargo bench --bench tui_render`. Figures are printed, never asserted.

use std::hint::black_box;
use std::time::Duration;

use convo_tui::config::Settings;
use convo_tui::sdk::{Command, Diff};
use convo_tui::tui::App;
use criterion::{Criterion, criterion_group, criterion_main};
use crossterm::event::{KeyCode, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

#[allow(dead_code)]
#[path = "../tests/tui/fixtures.rs"]
mod fixtures;
use fixtures::*;

const TOTAL: i64 = 100_000;
const W: u16 = 200;
const H: u16 = 60;

fn draw(t: &mut Terminal<TestBackend>, app: &mut App) {
    t.draw(|f| {
        convo_tui::tui::widgets::fit(app, f.area());
        convo_tui::tui::widgets::draw(f, app)
    })
    .expect("TestBackend draws");
}

/// The message to page up to: the middle when benchmarking; near the end as a
/// quick smoke test under `cargo test --all-targets` (no `--bench` flag), where
/// a debug build would take half a minute to page through 50,000 messages.
fn stop_at() -> i64 {
    if std::env::args().any(|a| a == "--bench") { TOTAL / 2 } else { TOTAL - 1_000 }
}

/// Answers the app's page requests the way the sync task does, from a
/// conversation whose messages are `0..TOTAL`.
fn serve_pages(app: &mut App) {
    for c in std::mem::take(&mut app.outbox) {
        if let Command::LoadOlder { before_index, count, .. } = c {
            let from = (before_index - count as i64).max(0);
            let messages = page(0, from, before_index - from);
            diff(app, Diff::MessagesLoaded { conversation_sid: ch(0), messages, has_older: from > 0, has_newer: true });
        }
    }
}

/// `conversations` conversations; the newest (opened first) holds 100,000
/// messages, and the view is paged up until message 50,000 is on screen.
fn scrolled_to_the_middle(t: &mut Terminal<TestBackend>, conversations: u32) -> App {
    let mut app = app_with(Settings::default());
    let mut entries = vec![entry(0, "the long one", TOTAL as u64, 200_000, 0, false)];
    entries.extend(
        (1..conversations)
            .map(|n| entry(n, &format!("conversation {n}"), 40, i64::from(n), i64::from(n % 7), n % 13 == 0)),
    );
    diff(&mut app, Diff::Conversations(entries));
    let latest = page(0, TOTAL - 50, 50);
    diff(
        &mut app,
        Diff::MessagesLoaded { conversation_sid: ch(0), messages: latest, has_older: true, has_newer: false },
    );
    draw(t, &mut app);
    for _ in 0..10_000 {
        press(&mut app, KeyCode::PageUp, KeyModifiers::NONE);
        serve_pages(&mut app);
        draw(t, &mut app);
        if t.backend().to_string().contains(&format!("message number {} ", stop_at())) {
            return app;
        }
    }
    panic!("never reached message {} by PageUp", stop_at());
}

fn frame(c: &mut Criterion) {
    let mut t = Terminal::new(TestBackend::new(W, H)).expect("test terminal");
    let mut app = scrolled_to_the_middle(&mut t, 1000);
    let held = app.rooms[&ch(0)].messages.len();
    println!("tui_render: {W}x{H}, 1,000 conversations, {TOTAL} messages, {held} held in memory, viewing the middle");
    let mut group = c.benchmark_group("tui_render");
    group.measurement_time(Duration::from_secs(5));
    // A full frame: layout, wrapping (cached), widgets, and the diff against the last frame.
    group.bench_function("frame_200x60_1000_conversations_middle_of_100k", |b| {
        b.iter(|| draw(&mut t, black_box(&mut app)))
    });
    // The same with the previous frame cleared, so every cell is written out.
    group.bench_function("frame_200x60_after_clear", |b| {
        b.iter(|| {
            t.clear().expect("clear");
            draw(&mut t, black_box(&mut app))
        })
    });
    // The same screen with 50 conversations: what the 1,000-entry list costs.
    let mut short = Terminal::new(TestBackend::new(W, H)).expect("test terminal");
    let mut few = scrolled_to_the_middle(&mut short, 50);
    group.bench_function("frame_200x60_50_conversations_middle_of_100k", |b| {
        b.iter(|| draw(&mut short, black_box(&mut few)))
    });
    group.finish();
}

criterion_group!(benches, frame);
criterion_main!(benches);
