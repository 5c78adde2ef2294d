//! The real binary in tmux sends `/reply`, `/react` and `/upload` to a real
//! server, and shows bob's reply, reaction and upload (made over REST with his
//! own token, Twilio's media wire) as they arrive; it saves bob's file into
//! the downloads dir with the save key, and draws an image preview.

use std::path::Path;

use serde_json::Value;

use crate::e2e::World;
use crate::tmux::eventually;

/// A request as bob (his access token), with a form or a raw body.
async fn as_bob(world: &World, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
    world.http.request(method, format!("{}/v1/{path}", world.url)).header("X-Twilio-Token", world.token("bob"))
}

async fn ok_json(r: reqwest::RequestBuilder) -> Value {
    let resp = r.send().await.unwrap();
    let status = resp.status();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "{status} {body}");
    body
}

/// The newest messages of `sid` (newest first).
async fn newest(world: &World, sid: &str) -> Vec<Value> {
    let page = world.get_async(&format!("Conversations/{sid}/Messages?Order=desc&PageSize=10")).await;
    page["messages"].as_array().cloned().unwrap_or_default()
}

fn attrs(m: &Value) -> Value {
    serde_json::from_str(m["attributes"].as_str().unwrap_or("{}")).unwrap_or(Value::Null)
}

/// A 24×24 PNG, blue with a yellow square.
fn png_bytes() -> Vec<u8> {
    let img = image::RgbaImage::from_fn(24, 24, |x, y| {
        if (6..18).contains(&x) && (6..18).contains(&y) {
            image::Rgba([250, 220, 0, 255])
        } else {
            image::Rgba([0, 60, 200, 255])
        }
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

#[test]
fn reply_react_and_upload_from_tmux_and_see_bobs_reply_reaction_and_upload() {
    let world = World::new();
    let sid = world.conversation("media", &["me", "bob"]);
    let asked =
        world.post(&format!("Conversations/{sid}/Messages"), &[("Author", "bob"), ("Body", "status of the slides?")]);
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join(".config/convo-tui");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(config.join("config.toml"), "[settings]\nimage_previews = \"halfblocks\"\n").unwrap();
    let picture = home.path().join("slide one.png");
    std::fs::write(&picture, png_bytes()).unwrap();
    let t = world.launch("media", home.path(), "me");
    t.wait_for("status of the slides?");

    // /reply, /react and /upload from the composer.
    t.type_text("/reply nearly done");
    t.keys(&["Enter"]);
    let reply = world.rt.block_on(eventually("the reply on the server", || async {
        newest(&world, &sid).await.into_iter().find(|m| m["body"] == "nearly done")
    }));
    assert_eq!(attrs(&reply)["reply_to"]["message_sid"], asked["sid"]);
    t.type_text("/react heart");
    t.keys(&["Enter"]);
    world.rt.block_on(eventually("my heart on bob's message", || async {
        let m = world.get_async(&format!("Conversations/{sid}/Messages/{}", asked["sid"].as_str()?)).await;
        (attrs(&m)["reactions"]["heart"] == serde_json::json!(["me"])).then_some(())
    }));
    t.wait_for("[❤ 1]");
    t.type_text(&format!("/upload {}", picture.display()));
    t.keys(&["Enter"]);
    let uploaded = world.rt.block_on(eventually("my upload on the server", || async {
        newest(&world, &sid).await.into_iter().find(|m| m["media"].as_array().is_some_and(|a| !a.is_empty()))
    }));
    assert_eq!(uploaded["author"], "me");
    assert_eq!(uploaded["media"][0]["filename"], "slide one.png");
    assert_eq!(uploaded["media"][0]["content_type"], "image/png");
    // The attachment line, then its preview in half-blocks (fetched back from the server).
    t.wait_for("🖼 slide one.png");
    t.wait_until("the image preview", |s| s.contains('▀') || s.contains('▄'));

    // bob answers over REST: a reply to my reply, a reaction, a file.
    let to = serde_json::json!({"reply_to": {"message_sid": reply["sid"], "index": reply["index"], "author": "me"}});
    world.rt.block_on(async {
        let form = [("Body", "great, thanks"), ("Attributes", &to.to_string())];
        ok_json(as_bob(&world, reqwest::Method::POST, &format!("Conversations/{sid}/Messages")).await.form(&form))
            .await;
        let path = format!("Conversations/{sid}/Messages/{}/Reactions", uploaded["sid"].as_str().unwrap());
        ok_json(as_bob(&world, reqwest::Method::POST, &path).await.form(&[("Reaction", "thumbs_up")])).await;
        let path = format!("Services/{}/Media?Filename=notes.txt&Category=media", world.service_sid);
        let media = ok_json(
            as_bob(&world, reqwest::Method::POST, &path)
                .await
                .header("Content-Type", "text/plain")
                .body("bob's notes\n".as_bytes().to_vec()),
        )
        .await;
        let form = [("MediaSid", media["sid"].as_str().unwrap())];
        ok_json(as_bob(&world, reqwest::Method::POST, &format!("Conversations/{sid}/Messages")).await.form(&form))
            .await;
    });
    t.wait_until("bob's reply, reaction and file", |s| {
        s.contains("↳ me: nearly done")
            && s.contains("bob: great, thanks")
            && s.contains("👍 1")
            && s.contains("📎 notes.txt")
    });

    // Select bob's file (the newest message) and save it: it lands in the
    // downloads dir (the data dir's, with no XDG download dir set).
    t.keys(&["Escape"]);
    // Apart, so the terminal does not read Esc and Up as Alt-Up.
    std::thread::sleep(std::time::Duration::from_millis(300));
    t.keys(&["Up"]);
    t.keys(&["s"]);
    t.wait_for("saved notes.txt to");
    let saved = home.path().join(".local/share/convo-tui/downloads/notes.txt");
    let deadline = std::time::Instant::now() + crate::tmux::WAIT;
    while !saved.is_file() {
        assert!(std::time::Instant::now() < deadline, "{} not saved", saved.display());
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(std::fs::read_to_string(&saved).unwrap(), "bob's notes\n");
    assert!(!Path::new(&saved.with_file_name("notes (1).txt")).exists());
    t.keys(&["C-c"]);
    assert!(t.wait_for("EXITED:").contains("EXITED:0"));
}
