//! An echo bot on the convo-tui SDK: it connects as one identity, optionally
//! joins a public conversation, and answers every message it sees from
//! someone else with "echo: <body>", in the same conversation.
//!
//! Run it against a local server:
//!
//! ```sh
//! cargo run -- serve --data-dir /tmp/convo &                      # the server, on 127.0.0.1:8787
//! TOKEN=$(cargo run -q -- token --identity echo-bot --data-dir /tmp/convo)
//! cargo run --example echo_bot -- http://127.0.0.1:8787 "$TOKEN" [unique-name-to-join]
//! ```
//!
//! Then add `echo-bot` to a conversation (in the TUI, or over REST:
//! `POST /v1/Conversations/{sid}/Participants` with `Identity=echo-bot`) and
//! say something there. The bot answers in conversations it is added to while
//! it runs, too; it reconnects on its own if the server goes away and comes back.

use convo_tui::sdk::{Client, ConversationStatus, Event};
use tokio::sync::broadcast::error::RecvError;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(server), Some(token)) = (args.next(), args.next()) else {
        eprintln!("usage: echo_bot SERVER_URL ACCESS_TOKEN [CONVERSATION_TO_JOIN]");
        std::process::exit(2);
    };
    let client = Client::connect(&server, &token).await?;
    let mut events = client.events();
    println!("connected to {server} as {}", client.identity());

    if let Some(name) = args.next() {
        let conversation = client.get_conversation_by_unique_name(&name).await?;
        if conversation.status() != ConversationStatus::Joined {
            conversation.join().await?;
        }
        println!("joined {name} ({})", conversation.sid());
    }
    let joined = client.get_subscribed_conversations().await?;
    println!("in {} conversation(s) (first page)", joined.items.len());

    loop {
        let event = match events.recv().await {
            Ok(event) => event,
            // Fell behind: some events were skipped; carry on with the next ones.
            Err(RecvError::Lagged(n)) => {
                eprintln!("skipped {n} events");
                continue;
            }
            Err(RecvError::Closed) => break,
        };
        match event {
            Event::MessageAdded(message) if message.author().as_deref() != Some(client.identity()) => {
                let body = message.body().unwrap_or_default();
                let conversation = message.conversation();
                match conversation.send_message(&format!("echo: {body}"), None).await {
                    Ok(index) => println!("echoed #{} in {} as #{index}", message.index(), conversation.sid()),
                    Err(e) => eprintln!("could not echo: {e}"),
                }
            }
            Event::ConversationAdded(c) => println!("now in {}", c.friendly_name().unwrap_or_else(|| c.sid().into())),
            Event::ConnectionStateChanged(state) => println!("connection: {state:?}"),
            Event::TokenAboutToExpire => eprintln!("the token expires soon; restart the bot with a fresh one"),
            Event::TokenExpired => {
                eprintln!("the token expired");
                break;
            }
            _ => {}
        }
    }
    client.shutdown().await;
    Ok(())
}
