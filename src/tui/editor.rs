//! `/editor` and its key: the draft goes to `$VISUAL` or `$EDITOR` (else `vi`)
//! in a temp file and what was saved comes back to the composer, ready to send.
//! The terminal hand-over around it is the event loop's (see `Hooks::editor`).

use std::io::Write;
use std::time::Instant;

use super::app::{App, Focus};

/// The editor command: `$VISUAL`, else `$EDITOR`, else `vi`. It may carry
/// arguments (`code --wait`), as git allows.
pub fn command() -> String {
    ["VISUAL", "EDITOR"]
        .iter()
        .filter_map(|k| std::env::var(k).ok())
        .find(|v| !v.trim().is_empty())
        .unwrap_or_else(|| "vi".to_string())
}

/// Runs `editor` on `draft` in a temp file and returns the file's text
/// afterwards (without the newline editors add at the end). An editor that
/// fails or can't start is an error and the draft stays as it was.
pub fn edit(draft: &str, editor: &str) -> anyhow::Result<String> {
    let mut file = tempfile::Builder::new().prefix("convo-tui-draft-").suffix(".txt").tempfile()?;
    file.write_all(draft.as_bytes())?;
    file.flush()?;
    let path = file.path().to_path_buf();
    // Through the shell, as git runs editors, so `$EDITOR` may hold arguments.
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("convo-tui")
        .arg(&path)
        .status()
        .map_err(|e| anyhow::anyhow!("could not start the editor {editor:?}: {e}"))?;
    if !status.success() {
        anyhow::bail!("the editor {editor:?} failed ({status}); the draft is unchanged");
    }
    let text = std::fs::read_to_string(&path)?;
    Ok(text.trim_end_matches(['\n', '\r']).to_string())
}

/// Asks the event loop to hand the terminal to the editor.
pub fn request(app: &mut App) {
    app.wants_editor = true;
}

/// What the editor left: the composer's new text, or the error on the status bar.
pub fn finished(app: &mut App, result: anyhow::Result<String>, now: Instant) {
    match result {
        Ok(text) => {
            app.reset_composer(text);
            app.focus = Focus::Composer;
            app.history_pos = None;
        }
        Err(e) => app.set_status(e.to_string(), true, now),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_editor_sees_the_draft_and_its_text_comes_back() {
        let dir = tempfile::tempdir().unwrap();
        let seen = dir.path().join("seen");
        let script = dir.path().join("ed.sh");
        let body = format!("#!/bin/sh\ncp \"$1\" '{}'\nprintf 'line one\\nline two\\n' > \"$1\"\n", seen.display());
        std::fs::write(&script, body).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let got = edit("draft text", &script.display().to_string()).unwrap();
        assert_eq!(got, "line one\nline two");
        assert_eq!(std::fs::read_to_string(seen).unwrap(), "draft text");
    }

    #[test]
    fn a_failing_editor_is_an_error() {
        let e = edit("draft", "false").unwrap_err().to_string();
        assert!(e.contains("failed") && e.contains("unchanged"), "{e}");
        let e = edit("draft", "/no/such/editor-binary").unwrap_err().to_string();
        assert!(e.contains("failed"), "{e}");
    }
}
