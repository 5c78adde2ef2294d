//! Slash commands typed in the composer (`/create NAME`, `/mute`, …): parsed
//! into `Slash`, then turned into sync commands or local actions. Parse errors
//! are sentences the status bar can show as they are.

use std::time::Instant;

use crate::api::NotificationLevel;
use crate::sdk::Command;

use super::app::App;
use super::{attachments, read, select};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Slash {
    Create(String),
    Join(String),
    Leave,
    Add(String),
    Remove(String),
    Rename(String),
    Mute,
    Unmute,
    Read,
    Unread,
    /// `/edit` alone loads the last own message into the composer; with text it replaces it.
    Edit(Option<String>),
    Delete,
    /// Edit the draft in `$VISUAL` / `$EDITOR`.
    Editor,
    /// `/reply TEXT`: to the selected message, else the newest from someone else.
    Reply(String),
    /// `/react NAME`: heart, thumbs_up, …, or an emoji (again: takes it back).
    React(String),
    /// `/search [-here] [TEXT]`: the results view (`-here`: this conversation only).
    Search {
        here: bool,
        query: Option<String>,
    },
    /// `/mentions`: messages that mention you.
    Mentions,
    /// `/upload PATH`: send a file to the open conversation.
    Upload(String),
    Help,
    Quit,
}

/// The commands with their argument, for /help and the docs.
pub const HELP: &[(&str, &str)] = &[
    ("/create NAME", "create a conversation and join it"),
    ("/join NAME-or-SID", "join a conversation"),
    ("/leave", "leave this conversation"),
    ("/add IDENTITY", "add someone to this conversation"),
    ("/remove IDENTITY", "remove someone from this conversation"),
    ("/rename NAME", "rename this conversation"),
    ("/mute, /unmute", "notifications for this conversation"),
    ("/read, /unread", "mark this conversation read or unread"),
    ("/edit [TEXT]", "edit your last message"),
    ("/delete", "delete your last message"),
    ("/editor", "edit the draft in $VISUAL or $EDITOR"),
    ("/reply TEXT", "reply to the selected (or last) message"),
    ("/react NAME", "react (again to undo): heart, thumbs_up, laugh, sad, … or an emoji"),
    ("/search [-here] TEXT", "find messages (-here: in this conversation)"),
    ("/mentions", "messages that mention you"),
    ("/upload PATH", "send a file (Tab completes the path)"),
    ("/help", "show keys and commands"),
    ("/quit", "quit"),
];

/// Parses a line starting with `/`.
pub fn parse(line: &str) -> Result<Slash, String> {
    let line = line.trim();
    let (name, arg) = match line.split_once(char::is_whitespace) {
        Some((n, a)) => (n, a.trim()),
        None => (line, ""),
    };
    let need = |what: &str, usage: &str| -> Result<String, String> {
        if arg.is_empty() { Err(format!("{name} needs {what}: {usage}")) } else { Ok(arg.to_string()) }
    };
    let none = |s: Slash| -> Result<Slash, String> {
        if arg.is_empty() { Ok(s) } else { Err(format!("{name} takes no argument")) }
    };
    match name {
        "/create" => need("a name", "/create NAME").map(Slash::Create),
        "/join" => need("a name or SID", "/join NAME-or-SID").map(Slash::Join),
        "/leave" => none(Slash::Leave),
        "/add" => need("an identity", "/add IDENTITY").map(Slash::Add),
        "/remove" | "/kick" => need("an identity", "/remove IDENTITY").map(Slash::Remove),
        "/rename" => need("a name", "/rename NAME").map(Slash::Rename),
        "/mute" => none(Slash::Mute),
        "/unmute" => none(Slash::Unmute),
        "/read" => none(Slash::Read),
        "/unread" => none(Slash::Unread),
        "/edit" => Ok(Slash::Edit(if arg.is_empty() { None } else { Some(arg.to_string()) })),
        "/delete" => none(Slash::Delete),
        "/editor" => none(Slash::Editor),
        "/reply" | "/re" => need("text", "/reply TEXT").map(Slash::Reply),
        "/react" => need("a reaction", "/react NAME").and_then(|n| select::reaction_name(&n)).map(Slash::React),
        "/search" | "/find" => Ok(search_args(arg)),
        "/mentions" => none(Slash::Mentions),
        "/upload" | "/up" => need("a file", "/upload PATH").map(Slash::Upload),
        "/help" | "/?" => Ok(Slash::Help),
        "/quit" | "/q" | "/exit" => Ok(Slash::Quit),
        _ => Err(format!("unknown command {name}; /help lists the commands")),
    }
}

/// Runs a slash command against the app. Errors are for the status bar.
pub fn run(app: &mut App, slash: Slash, now: Instant) -> Result<(), String> {
    let open = app.open.clone();
    let need_open = || open.clone().ok_or_else(|| "open a conversation first".to_string());
    match slash {
        Slash::Create(name) => {
            app.pending_open = Some(name.clone());
            app.outbox.push(Command::Create { friendly_name: name, unique_name: None });
        }
        Slash::Join(name) => {
            // One we are in already (by SID, unique or friendly name) just opens.
            let known = app.order.iter().find(|sid| {
                let c = app.conversations.get(*sid).map(|e| &e.conversation);
                *sid == &name
                    || c.is_some_and(|c| {
                        c.unique_name.as_deref() == Some(&name) || c.friendly_name.as_deref() == Some(&name)
                    })
            });
            if let Some(sid) = known.cloned() {
                super::update::open_conversation(app, &sid, now);
                return Ok(());
            }
            app.pending_open = Some(name.clone());
            app.outbox.push(Command::Join { sid_or_unique_name: name });
        }
        Slash::Leave => app.outbox.push(Command::Leave { conversation_sid: need_open()? }),
        Slash::Add(identity) => {
            app.outbox.push(Command::AddParticipant { conversation_sid: need_open()?, identity });
        }
        Slash::Remove(identity) => {
            app.outbox.push(Command::RemoveParticipant { conversation_sid: need_open()?, identity });
        }
        Slash::Rename(friendly_name) => {
            app.outbox.push(Command::Rename { conversation_sid: need_open()?, friendly_name });
        }
        Slash::Mute | Slash::Unmute => {
            let level = if slash == Slash::Mute { NotificationLevel::Muted } else { NotificationLevel::Default };
            app.outbox.push(Command::SetNotificationLevel { conversation_sid: need_open()?, level });
        }
        Slash::Read => read::mark_read(app, need_open()?),
        Slash::Unread => read::mark_unread(app, need_open()?),
        Slash::Edit(text) => {
            let sid = need_open()?;
            let (msid, body) = last_own(app, &sid).ok_or("you have no message here to edit")?;
            match text {
                Some(body) => app.outbox.push(Command::Edit { conversation_sid: sid, message_sid: msid, body }),
                None => {
                    app.reset_composer(body);
                    app.editing = Some(msid);
                    app.set_status("editing your last message: Enter saves, Esc cancels", false, now);
                    return Ok(());
                }
            }
        }
        Slash::Delete => {
            let sid = need_open()?;
            let (msid, _) = last_own(app, &sid).ok_or("you have no message here to delete")?;
            app.outbox.push(Command::Delete { conversation_sid: sid, message_sid: msid });
        }
        Slash::Editor => super::editor::request(app),
        Slash::Reply(body) => select::reply(app, body, now)?,
        Slash::React(name) => select::react(app, &name, now)?,
        Slash::Search { here, query } => {
            if here {
                need_open()?;
            }
            super::search::open(app, super::search_state::Kind::Text, here, query);
        }
        Slash::Mentions => super::search::open(app, super::search_state::Kind::Mentions, false, None),
        Slash::Upload(path) => attachments::upload(app, &path, now)?,
        Slash::Help => app.show_help = true,
        Slash::Quit => app.quit = true,
    }
    Ok(())
}

/// `/search`'s arguments: an optional `-here` (or `-h`), then the text.
fn search_args(arg: &str) -> Slash {
    let (here, rest) = match arg.split_once(char::is_whitespace) {
        Some((flag, rest)) if flag == "-here" || flag == "-h" => (true, rest.trim()),
        _ if arg == "-here" || arg == "-h" => (true, ""),
        _ => (false, arg),
    };
    Slash::Search { here, query: (!rest.is_empty()).then(|| rest.to_string()) }
}

/// The SID and body of the user's newest loaded message in `sid`.
fn last_own(app: &App, sid: &str) -> Option<(String, String)> {
    let room = app.rooms.get(sid)?;
    room.messages.values().rev().find(|m| m.author == app.identity).map(|m| (m.sid.clone(), m.body.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse_with_their_arguments() {
        assert_eq!(parse("/create  Team chat "), Ok(Slash::Create("Team chat".into())));
        assert_eq!(parse("/join general"), Ok(Slash::Join("general".into())));
        assert_eq!(parse("/edit"), Ok(Slash::Edit(None)));
        assert_eq!(parse("/edit fixed typo"), Ok(Slash::Edit(Some("fixed typo".into()))));
        assert_eq!(parse("/quit"), Ok(Slash::Quit));
        assert_eq!(
            parse("/search quokka  sighting"),
            Ok(Slash::Search { here: false, query: Some("quokka  sighting".into()) })
        );
        assert_eq!(parse("/search -here quokka"), Ok(Slash::Search { here: true, query: Some("quokka".into()) }));
        assert_eq!(parse("/search -here"), Ok(Slash::Search { here: true, query: None }));
        assert_eq!(parse("/search"), Ok(Slash::Search { here: false, query: None }));
        assert_eq!(parse("/mentions"), Ok(Slash::Mentions));
        assert_eq!(parse("/upload ~/My Photos/cat 1.png "), Ok(Slash::Upload("~/My Photos/cat 1.png".into())));
        assert_eq!(parse("/upload").unwrap_err(), "/upload needs a file: /upload PATH");
    }

    #[test]
    fn bad_commands_say_what_went_wrong() {
        assert_eq!(parse("/add").unwrap_err(), "/add needs an identity: /add IDENTITY");
        assert_eq!(parse("/mute now").unwrap_err(), "/mute takes no argument");
        assert!(parse("/frobnicate").unwrap_err().contains("unknown command /frobnicate"));
    }
}
