//! The real binary in tmux finding a message 2,000 messages back in another
//! conversation with `/search`, Enter showing it in context, and Esc coming back.

use futures_util::StreamExt;

use crate::e2e::{World, line_with};

/// How many messages come after the one searched for.
const AFTER: usize = 2000;

#[test]
fn slash_search_finds_a_message_far_back_in_another_conversation_and_enter_shows_it_in_context() {
    let world = World::new();
    let archive = world.conversation("archive", &["me", "bob"]);
    let general = world.conversation("general", &["me", "bob"]);
    let path = format!("Conversations/{archive}/Messages");
    let w = &world;
    world.rt.block_on(async {
        for i in 0..5 {
            let body = format!("before the needle {i}");
            world.post_async(&path, &[("Author", "bob"), ("Body", &body)]).await;
        }
        world.post_async(&path, &[("Author", "alice"), ("Body", "we saw a quokka near the lighthouse")]).await;
        for i in 0..5 {
            let body = format!("after the needle {i}");
            world.post_async(&path, &[("Author", "bob"), ("Body", &body)]).await;
        }
        // The rest, several at a time (their order does not matter).
        futures_util::stream::iter(0..AFTER - 5)
            .map(|i| {
                let body = format!("filler {i}");
                let path = path.clone();
                async move { w.post_async(&path, &[("Author", "bob"), ("Body", &body)]).await }
            })
            .buffer_unordered(16)
            .collect::<Vec<_>>()
            .await;
    });
    world.say(&general, "bob", "morning all");
    let home = tempfile::tempdir().unwrap();
    let t = world.launch("search", home.path(), "me");
    t.wait_until("the list", |s| line_with(s, "general").is_some() && line_with(s, "archive").is_some());
    // Reading general (whichever opened first): the hit is in another conversation.
    t.keys(&["C-k"]);
    t.type_text("general");
    t.keys(&["Enter"]);
    t.wait_until("general open", |s| {
        s.contains("bob: morning all") && line_with(s, "general").is_some_and(|l| l.contains('▸'))
    });

    t.type_text("/search lighthouse");
    t.keys(&["Enter"]);
    let screen = t.wait_until("the hit listed", |s| s.contains("Search: type words") && s.contains("1 message"));
    let row = screen.lines().find(|l| l.contains("#archive")).unwrap_or_else(|| panic!("no hit row:\n{screen}"));
    assert!(row.contains("alice") && row.contains("we saw a quokka near the lighthouse"), "{row}");

    // Enter: archive opens at the hit, 2,000 messages back, with its neighbours around it.
    t.keys(&["Enter"]);
    let screen = t.wait_until("the hit in context", |s| {
        !s.contains("Search: type words")
            && s.contains("alice: we saw a quokka near the lighthouse")
            && s.contains("bob: before the needle 4")
            && s.contains("bob: after the needle 0")
    });
    assert!(line_with(&screen, "archive").is_some_and(|l| l.contains('▸')), "{screen}");
    assert!(screen.contains("↓ End for newest"), "the newest messages are below, not shown:\n{screen}");

    // Scrolling down from there pages newer history in, as anywhere else.
    t.keys(&["PageDown", "PageDown", "PageDown"]);
    t.wait_until("newer history", |s| !s.contains("the lighthouse") && s.matches("bob: filler").count() > 10);

    // Esc: back in general, at its newest message.
    t.keys(&["Escape"]);
    t.wait_until("general again", |s| {
        s.contains("bob: morning all") && line_with(s, "general").is_some_and(|l| l.contains('▸'))
    });
    t.keys(&["C-c"]);
    assert!(t.wait_for("EXITED:").contains("EXITED:0"));
}
