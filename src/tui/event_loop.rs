//! The UI loop: `tokio::select!` over terminal events, diffs from the sync task
//! and one timer that exists only while something is pending (read debounce,
//! typing guard, status expiry). Everything already waiting is drained before
//! drawing, so a burst of 10,000 diffs costs one frame; with nothing happening
//! nothing is drawn and the task sleeps.

use std::time::Instant;

use crossterm::event::{Event, EventStream};
use std::task::Poll;

use futures_util::StreamExt;
use ratatui::Terminal;
use ratatui::backend::Backend;

use crate::sdk::{Command, Diff, SyncHandle};

use super::app::App;
use super::{input, read, update, widgets};

/// Most diffs applied before a frame is drawn, so input stays responsive even
/// under a flood.
const MAX_DIFFS_PER_FRAME: usize = 20_000;

/// Writes bytes to the terminal as they are.
pub type TerminalWriter = Box<dyn FnMut(&[u8]) + Send>;
/// Hands the terminal to an editor on a draft and takes it back: the edited text.
pub type EditorHook = Box<dyn FnMut(&str) -> anyhow::Result<String> + Send>;

/// What the loop needs from its surroundings besides the terminal.
pub struct Hooks {
    /// Mints a fresh token when the current one is about to expire.
    pub renew_token: Option<Box<dyn Fn() -> String + Send>>,
    /// Rings the terminal bell.
    pub bell: Box<dyn FnMut() + Send>,
    /// Writes bytes to the terminal as they are (notification sequences).
    pub terminal_out: TerminalWriter,
    /// Inside tmux: notification sequences go through its passthrough.
    pub tmux: bool,
    /// Gives the terminal to an editor on the draft and takes it back; returns
    /// the edited text.
    pub editor: EditorHook,
    /// Puts text on the terminal's clipboard (OSC 52).
    pub copy: Box<dyn FnMut(&str) + Send>,
}

/// Why the loop ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Exit {
    Quit,
    /// SIGTERM/SIGHUP or the terminal went away.
    Signal,
}

pub async fn run<B: Backend>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    handle: &mut SyncHandle,
    hooks: &mut Hooks,
) -> anyhow::Result<Exit>
where
    B::Error: Send + Sync + 'static,
{
    let mut events = EventStream::new();
    let mut diffs_open = true;
    let mut term = Signals::new();
    let (decode_jobs, mut decoded) = super::images::start_decoder();
    draw(terminal, app)?;
    loop {
        let deadline = update::next_deadline(app);
        let timer = async move {
            match deadline {
                Some(d) => tokio::time::sleep_until(d.into()).await,
                None => std::future::pending().await,
            }
        };
        let mut changed = true;
        let mut got_diff = false;
        tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(ev)) => changed = on_event(app, ev, Instant::now()),
                Some(Err(e)) => return Err(e.into()),
                None => return Ok(Exit::Signal),
            },
            diff = handle.diffs.recv(), if diffs_open => match diff {
                Some(d) => {
                    on_diff(app, d, hooks);
                    got_diff = true;
                }
                None => {
                    diffs_open = false;
                    app.set_status("the sync task stopped; restart convo-tui", true, Instant::now());
                }
            },
            Some(d) = decoded.recv() => app.images.finished(d),
            _ = timer => update::on_tick(app, Instant::now()),
            _ = term.recv() => return Ok(Exit::Signal),
        }
        // Coalesce: take everything already waiting before drawing once.
        let mut n = 0;
        while diffs_open && n < MAX_DIFFS_PER_FRAME {
            match handle.diffs.try_recv() {
                Ok(d) => {
                    on_diff(app, d, hooks);
                    changed = true;
                    got_diff = true;
                    n += 1;
                }
                Err(tokio::sync::mpsc::error::TryRecvError::Empty) => break,
                Err(tokio::sync::mpsc::error::TryRecvError::Disconnected) => {
                    diffs_open = false;
                }
            }
        }
        // Poll with this task's own waker (never `now_or_never`: crossterm's
        // stream registers the first waker it sees and would wake a dead one).
        while let Poll::Ready(Some(Ok(ev))) = std::future::poll_fn(|cx| Poll::Ready(events.poll_next_unpin(cx))).await {
            changed |= on_event(app, ev, Instant::now());
        }
        for cmd in app.outbox.drain(..) {
            tracing::debug!(?cmd, "command");
            let _ = handle.commands.send(cmd);
        }
        if app.quit {
            read::flush_pending(app);
            for cmd in app.outbox.drain(..) {
                let _ = handle.commands.send(cmd);
            }
            return Ok(Exit::Quit);
        }
        if got_diff && app.switcher.is_some() {
            // The conversations it lists may have changed.
            super::switcher::refresh(app);
        }
        if std::mem::take(&mut app.wants_editor) {
            // crossterm's reader thread would take the editor's keys: stop it
            // first and start a new one after.
            drop(events);
            let draft = app.composer_text();
            let edited = run_blocking(|| (hooks.editor)(&draft));
            events = EventStream::new();
            super::editor::finished(app, edited, Instant::now());
            terminal.clear()?;
            changed = true;
        }
        if changed {
            draw(terminal, app)?;
            // Drawing asks for what previews on screen need: fetches and decodes.
            for cmd in app.outbox.drain(..) {
                let _ = handle.commands.send(cmd);
            }
            for job in app.images.take_jobs() {
                let _ = decode_jobs.send(job);
            }
        }
        if std::mem::take(&mut app.bell) {
            (hooks.bell)();
        }
        for notice in app.notifier.take_ready() {
            (hooks.terminal_out)(&super::notify::encode(&notice, app.settings.notification_format, hooks.tmux));
        }
        if let Some(text) = app.clipboard.take() {
            (hooks.copy)(&text);
        }
    }
}

/// Runs `f`, which blocks (an editor owns the terminal), without stalling the
/// other tasks queued on this worker of a multi-threaded runtime.
fn run_blocking<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(f),
        _ => f(),
    }
}

fn on_diff(app: &mut App, diff: Diff, hooks: &Hooks) {
    if tracing::enabled!(tracing::Level::DEBUG) {
        match &diff {
            Diff::MessagesLoaded { conversation_sid, messages, has_older, has_newer } => tracing::debug!(
                conversation_sid,
                n = messages.len(),
                first = messages.first().map(|m| m.index),
                last = messages.last().map(|m| m.index),
                has_older,
                has_newer,
                "diff: messages loaded"
            ),
            other => tracing::debug!(diff = ?other, "diff"),
        }
    }
    if matches!(diff, Diff::TokenAboutToExpire | Diff::TokenExpired)
        && let Some(renew) = &hooks.renew_token
    {
        app.outbox.push(Command::UpdateToken { token: renew() });
        return;
    }
    update::on_diff(app, diff, Instant::now());
}

/// Applies a terminal event; false when nothing visible can have changed.
pub fn on_event(app: &mut App, ev: Event, now: Instant) -> bool {
    match ev {
        Event::Key(k) => input::on_key(app, k, now),
        Event::Mouse(m) => {
            use crossterm::event::MouseEventKind::{ScrollDown, ScrollUp};
            if !matches!(m.kind, ScrollUp | ScrollDown) {
                return false;
            }
            input::on_mouse(app, m, now);
        }
        Event::Paste(text) => input::on_paste(app, &text),
        Event::FocusGained => {
            app.terminal_focused = true;
            app.outbox.push(Command::CheckConnection);
            read::check_read(app, now);
        }
        Event::FocusLost => {
            app.terminal_focused = false;
            return false;
        }
        Event::Resize(_, _) => {}
    }
    true
}

/// SIGTERM and SIGHUP end the loop cleanly so the terminal is restored.
struct Signals {
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    hup: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    fn new() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Signals { term: signal(SignalKind::terminate()).ok(), hup: signal(SignalKind::hangup()).ok() }
        }
        #[cfg(not(unix))]
        Signals {}
    }

    async fn recv(&mut self) {
        #[cfg(unix)]
        {
            let term = async {
                match &mut self.term {
                    Some(s) => s.recv().await,
                    None => std::future::pending().await,
                }
            };
            let hup = async {
                match &mut self.hup {
                    Some(s) => s.recv().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! { _ = term => {}, _ = hup => {} }
        }
        #[cfg(not(unix))]
        std::future::pending::<()>().await
    }
}

/// One frame: the layout reducers read is fitted to the terminal first, then drawn.
fn draw<B: Backend>(terminal: &mut Terminal<B>, app: &mut App) -> anyhow::Result<()>
where
    B::Error: Send + Sync + 'static,
{
    let size = terminal.size()?;
    widgets::fit(app, ratatui::layout::Rect::new(0, 0, size.width, size.height));
    terminal.draw(|f| widgets::draw(f, app))?;
    Ok(())
}
