//! The terminal client: sets the terminal up (raw mode, alternate screen, mouse,
//! focus reports, bracketed paste), runs the event loop against a sync task,
//! and restores the terminal on quit, on error and on panic. The pieces: `app`
//! (state), `update`/`input`/`commands`/`paging`/`read` (reducers), `message_view` (viewport),
//! `switcher`, `search`, `complete`, `editor`, `notify` (finding, completing, editing, being told),
//! `widgets` (drawing), `keymap`, `theme`, `sanitize`, `cache`.

pub mod app;
pub mod attachments;
pub mod cache;
pub mod commands;
pub mod complete;
pub mod demo;
pub mod editor;
pub mod event_loop;
pub mod images;
pub mod input;
pub mod keymap;
pub mod launch;
pub mod links;
pub mod markdown;
pub mod message_view;
pub mod notify;
pub mod paging;
pub mod presence;
pub mod read;
pub mod rich;
pub mod sanitize;
pub mod search;
pub mod search_state;
pub mod select;
pub mod switcher;
pub mod theme;
pub mod transfers;
pub mod update;
pub mod widgets;

use std::io::{Write, stdout};
use std::path::Path;

use crossterm::event::{
    DisableBracketedPaste, DisableFocusChange, DisableMouseCapture, EnableBracketedPaste, EnableFocusChange,
    EnableMouseCapture,
};
use crossterm::terminal::{EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

use crate::sdk::SyncHandle;

pub use app::App;
pub use event_loop::{Exit, Hooks};

/// Sends tracing output to `dir/convo-tui.log` (never the screen). Level from
/// `CONVO_LOG` (default `info`).
pub fn init_logging(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let file = std::fs::OpenOptions::new().create(true).append(true).open(dir.join("convo-tui.log"))?;
    let filter = tracing_subscriber::EnvFilter::try_from_env("CONVO_LOG").unwrap_or_else(|_| "info".into());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::sync::Mutex::new(file))
        .try_init();
    Ok(())
}

/// Puts the terminal back as it was. Safe to call more than once.
pub fn restore_terminal() {
    let mut out = stdout();
    let _ = crossterm::execute!(
        out,
        DisableBracketedPaste,
        DisableFocusChange,
        DisableMouseCapture,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
    let _ = disable_raw_mode();
    let _ = out.flush();
}

/// Takes the terminal over: raw mode, alternate screen, mouse, focus reports,
/// bracketed paste (undone by `restore_terminal`).
pub fn enter_terminal() -> std::io::Result<()> {
    enable_raw_mode()?;
    crossterm::execute!(stdout(), EnterAlternateScreen, EnableMouseCapture, EnableFocusChange, EnableBracketedPaste)
}

/// Restores the terminal before the default panic message is printed, so the
/// message is readable and the shell usable.
fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore_terminal();
        tracing::error!("panic: {info}");
        previous(info);
    }));
}

/// Runs the client on this terminal until the user quits. The terminal is
/// restored whatever happens; `cache` gets the list and drafts at the end.
pub async fn run(mut app: App, mut handle: SyncHandle, mut hooks: Hooks, cache: &cache::Cache) -> anyhow::Result<Exit> {
    install_panic_hook();
    if let Err(e) = enter_terminal() {
        restore_terminal();
        return Err(e.into());
    }
    app.images = picker(app.settings.image_previews).await;
    let result = async {
        let mut terminal = Terminal::new(CrosstermBackend::new(stdout()))?;
        terminal.clear()?;
        event_loop::run(&mut terminal, &mut app, &mut handle, &mut hooks).await
    }
    .await;
    restore_terminal();
    if let Err(e) = cache.save(&app) {
        tracing::warn!("saving the cache: {e}");
    }
    let _ = handle.commands.send(crate::sdk::Command::Shutdown);
    result
}

/// The image previews the setting asks for. `auto` asks the terminal (in raw
/// mode, before the event reader starts) which graphics protocol it speaks;
/// one that does not answer gets half-blocks.
async fn picker(mode: crate::config::ImagePreviews) -> images::Images {
    use crate::config::ImagePreviews;
    use ratatui_image::picker::Picker;
    let picker = match mode {
        ImagePreviews::Off => return images::Images::off(),
        ImagePreviews::Halfblocks => Picker::halfblocks(),
        ImagePreviews::Auto => match tokio::task::spawn_blocking(Picker::from_query_stdio).await {
            Ok(Ok(p)) => p,
            Ok(Err(e)) => {
                tracing::info!("terminal graphics query: {e}; previews in half-blocks");
                Picker::halfblocks()
            }
            Err(e) => {
                tracing::warn!("terminal graphics query: {e}");
                Picker::halfblocks()
            }
        },
    };
    tracing::info!(protocol = ?picker.protocol_type(), "image previews");
    images::Images::new(picker, images::DEFAULT_BUDGET)
}

/// The default hooks: ring the bell by writing BEL to the terminal, write
/// notification sequences to it (tmux's passthrough when `$TMUX` is set), and
/// hand it to `$EDITOR` with the terminal restored around it, taken back even
/// when the editor fails.
pub fn default_hooks(renew_token: Option<Box<dyn Fn() -> String + Send>>) -> Hooks {
    Hooks {
        renew_token,
        bell: Box::new(|| {
            let mut out = stdout();
            let _ = out.write_all(b"\x07");
            let _ = out.flush();
        }),
        terminal_out: Box::new(|bytes| {
            let mut out = stdout();
            let _ = out.write_all(bytes);
            let _ = out.flush();
        }),
        tmux: std::env::var_os("TMUX").is_some_and(|v| !v.is_empty()),
        editor: Box::new(|draft| {
            restore_terminal();
            let edited = editor::edit(draft, &editor::command());
            let back = enter_terminal();
            let edited = edited?;
            back?;
            Ok(edited)
        }),
        copy: Box::new(|text| {
            let mut out = stdout();
            let _ = out.write_all(links::osc52(text).as_bytes());
            let _ = out.flush();
        }),
    }
}
