//! Twilio's roles: every permission refused to a person whose roles lack it
//! and allowed once they hold it; the Role and Configuration resources; the
//! roles given to participants and users from before roles existed.

use serde_json::Value;

use crate::access::service;
use crate::common::*;

const CONVERSATION_PERMISSIONS: &[&str] = &[
    "sendMessage",
    "sendMediaMessage",
    "leaveConversation",
    "editNotificationLevel",
    "addParticipant",
    "addNonChatParticipant",
    "removeParticipant",
    "editOwnMessage",
    "editAnyMessage",
    "editOwnMessageAttributes",
    "editAnyMessageAttributes",
    "deleteOwnMessage",
    "deleteAnyMessage",
    "editConversationName",
    "editConversationAttributes",
    "editOwnParticipantAttributes",
    "editAnyParticipantAttributes",
    "deleteConversation",
];

const SERVICE_PERMISSIONS: &[&str] = &["createConversation", "joinConversation", "editOwnUserInfo", "editAnyUserInfo"];

/// Makes a role of `role_type` holding `permissions`; returns its SID.
async fn role(t: &TestServer, role_type: &str, name: &str, permissions: &[&str]) -> String {
    let mut form = vec![("FriendlyName", name), ("Type", role_type)];
    form.extend(permissions.iter().map(|p| ("Permission", *p)));
    let (status, r) = t.post(&As::Admin, "/v1/Roles", &form).await;
    assert_eq!(status, 201, "{r}");
    sid(&r)
}

/// Every permission of a vocabulary but `missing` (and, for an `Own` one,
/// its `Any` twin, which would cover it).
fn all_but<'a>(vocabulary: &[&'a str], missing: &str) -> Vec<&'a str> {
    let twin = missing.replace("Own", "Any");
    vocabulary.iter().copied().filter(|p| *p != missing && *p != twin).collect()
}

/// A conversation made by the account with bob (role `bob_role`) and carol
/// (default role) in it, one message by each; returns (conversation, bob's, carol's).
async fn room(t: &TestServer, bob_role: &str) -> (String, String, String) {
    let c = sid(&t.conversation(&[("FriendlyName", "room"), ("Attributes", r#"{"public": true}"#)]).await);
    let parts = format!("/v1/Conversations/{c}/Participants");
    assert_eq!(t.post(&As::Admin, &parts, &[("Identity", "bob"), ("RoleSid", bob_role)]).await.0, 201);
    t.add(&c, "carol").await;
    let bobs = sid(&t.say(&person("bob"), &c, "bob's").await).to_owned();
    let carols = sid(&t.say(&person("carol"), &c, "carol's").await);
    (c, bobs, carols)
}

/// bob tries the action that needs `permission`; returns the answer.
async fn try_conversation_permission(t: &TestServer, permission: &str, bob_role: &str) -> (u16, Value) {
    let (c, bobs, carols) = if permission == "sendMessage" {
        // bob cannot post his own message without it: make the room by hand.
        let c = sid(&t.conversation(&[]).await);
        let parts = format!("/v1/Conversations/{c}/Participants");
        assert_eq!(t.post(&As::Admin, &parts, &[("Identity", "bob"), ("RoleSid", bob_role)]).await.0, 201);
        (c, String::new(), String::new())
    } else {
        room(t, bob_role).await
    };
    let bob = person("bob");
    let conv = format!("/v1/Conversations/{c}");
    let msgs = format!("{conv}/Messages");
    let parts = format!("{conv}/Participants");
    match permission {
        "sendMessage" => t.post(&bob, &msgs, &[("Body", "hi")]).await,
        "sendMediaMessage" => {
            t.post(&bob, &msgs, &[("Body", "pic"), ("MediaSid", "ME0123456789abcdef0123456789abcdef")]).await
        }
        "leaveConversation" => t.delete(&bob, &format!("{parts}/bob")).await,
        "editNotificationLevel" => {
            t.post(&bob, &format!("/v1/Users/bob/Conversations/{c}"), &[("NotificationLevel", "muted")]).await
        }
        "addParticipant" => t.post(&bob, &parts, &[("Identity", "dave")]).await,
        "addNonChatParticipant" => t.post(&bob, &parts, &[("MessagingBinding.Address", "+15550002222")]).await,
        "removeParticipant" => t.delete(&bob, &format!("{parts}/carol")).await,
        "editOwnMessage" => t.post(&bob, &format!("{msgs}/{bobs}"), &[("Body", "edited")]).await,
        "editAnyMessage" => t.post(&bob, &format!("{msgs}/{carols}"), &[("Body", "edited")]).await,
        "editOwnMessageAttributes" => t.post(&bob, &format!("{msgs}/{bobs}"), &[("Attributes", r#"{"a":1}"#)]).await,
        "editAnyMessageAttributes" => t.post(&bob, &format!("{msgs}/{carols}"), &[("Attributes", r#"{"a":1}"#)]).await,
        "deleteOwnMessage" => t.delete(&bob, &format!("{msgs}/{bobs}")).await,
        "deleteAnyMessage" => t.delete(&bob, &format!("{msgs}/{carols}")).await,
        "editConversationName" => t.post(&bob, &conv, &[("FriendlyName", "renamed")]).await,
        "editConversationAttributes" => t.post(&bob, &conv, &[("Attributes", r#"{"b":2}"#)]).await,
        "editOwnParticipantAttributes" => t.post(&bob, &format!("{parts}/bob"), &[("Attributes", r#"{"c":3}"#)]).await,
        "editAnyParticipantAttributes" => {
            t.post(&bob, &format!("{parts}/carol"), &[("Attributes", r#"{"c":3}"#)]).await
        }
        "deleteConversation" => t.delete(&bob, &conv).await,
        other => panic!("no action for {other}"),
    }
}

/// Whether an answer means "the permission check passed".
fn allowed(permission: &str, r: &(u16, Value)) -> bool {
    match permission {
        // Past the check, a MediaSid naming no upload is refused as input.
        "sendMediaMessage" => r.0 == 400 && r.1["code"] == 20001,
        _ => (200..300).contains(&r.0),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_conversation_permission_is_refused_without_it_and_allowed_with_it() {
    let t = TestServer::start().await;
    let full = role(&t, "conversation", "everything", CONVERSATION_PERMISSIONS).await;
    for permission in CONVERSATION_PERMISSIONS {
        let lacking =
            role(&t, "conversation", &format!("no {permission}"), &all_but(CONVERSATION_PERMISSIONS, permission)).await;
        let refused = try_conversation_permission(&t, permission, &lacking).await;
        assert_error(&refused, 403, 50107);
        assert!(refused.1["message"].as_str().unwrap().contains(permission), "{permission}: {}", refused.1);
        let done = try_conversation_permission(&t, permission, &full).await;
        assert!(allowed(permission, &done), "{permission} with the permission: {done:?}");
    }
}

/// bob (service role `role`) tries the action that needs service `permission`.
async fn try_service_permission(t: &TestServer, permission: &str, role: &str) -> (u16, Value) {
    let (status, body) = t.post(&As::Admin, "/v1/Users/bob", &[("RoleSid", role)]).await;
    assert_eq!(status, 200, "{body}");
    let bob = person("bob");
    match permission {
        "createConversation" => t.post(&bob, "/v1/Conversations", &[("FriendlyName", "bob's")]).await,
        "joinConversation" => {
            let c = sid(&t.conversation(&[("Attributes", r#"{"public": true}"#)]).await);
            t.post(&bob, &format!("/v1/Conversations/{c}/Participants"), &[("Identity", "bob")]).await
        }
        "editOwnUserInfo" => t.post(&bob, "/v1/Users/bob", &[("FriendlyName", "Bob")]).await,
        "editAnyUserInfo" => t.post(&bob, "/v1/Users/carol", &[("FriendlyName", "Carol")]).await,
        other => panic!("no action for {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_service_permission_is_refused_without_it_and_allowed_with_it() {
    let t = TestServer::start().await;
    // bob exists (his first call made him); carol too.
    t.get(&person("bob"), "/v1/Conversations").await;
    t.get(&person("carol"), "/v1/Conversations").await;
    let full = role(&t, "service", "everything", SERVICE_PERMISSIONS).await;
    for permission in SERVICE_PERMISSIONS {
        let lacking = role(&t, "service", &format!("no {permission}"), &all_but(SERVICE_PERMISSIONS, permission)).await;
        let refused = try_service_permission(&t, permission, &lacking).await;
        let code = if *permission == "editAnyUserInfo" { 20403 } else { 50107 };
        assert_error(&refused, 403, code);
        let done = try_service_permission(&t, permission, &full).await;
        assert!((200..300).contains(&done.0), "{permission} with the permission: {done:?}");
    }
}

#[tokio::test]
async fn default_roles_have_twilios_names_and_the_configuration_names_them() {
    let t = TestServer::start().await;
    let (_, list) = t.get(&As::Admin, "/v1/Roles").await;
    assert_eq!(list["meta"]["key"], "roles");
    let roles = list["roles"].as_array().unwrap();
    let names: Vec<_> =
        roles.iter().map(|r| (r["friendly_name"].as_str().unwrap(), r["type"].as_str().unwrap())).collect();
    assert_eq!(
        names,
        [
            ("channel admin", "conversation"),
            ("channel user", "conversation"),
            ("service admin", "service"),
            ("service user", "service")
        ]
    );
    for r in roles {
        assert!(r["sid"].as_str().unwrap().starts_with("RL") && r["sid"].as_str().unwrap().len() == 34, "{r}");
        assert_eq!(r["chat_service_sid"], service(&t));
        assert!(r["url"].as_str().unwrap().ends_with(&format!("/v1/Roles/{}", sid(r))), "{r}");
    }
    let user_perms = roles[1]["permissions"].as_array().unwrap();
    assert!(user_perms.contains(&"sendMessage".into()) && !user_perms.contains(&"deleteConversation".into()));
    let (_, config) = t.get(&As::Admin, &format!("/v1/Services/{}/Configuration", service(&t))).await;
    assert_eq!(config["default_conversation_creator_role_sid"], roles[0]["sid"]);
    assert_eq!(config["default_conversation_role_sid"], roles[1]["sid"]);
    assert_eq!(config["default_chat_service_role_sid"], roles[3]["sid"]);
    assert_eq!(config["reachability_enabled"], true, "on by default on this server");
    // The service form of the list serves the same roles with service URLs.
    let (_, scoped) = t.get(&As::Admin, &format!("/v1/Services/{}/Roles", service(&t))).await;
    assert_eq!(scoped["roles"].as_array().unwrap().len(), 4);
    assert!(scoped["roles"][0]["url"].as_str().unwrap().contains("/v1/Services/IS"));
}

#[tokio::test]
async fn roles_are_created_updated_and_deleted_unless_in_use() {
    let t = TestServer::start().await;
    let r = role(&t, "conversation", "reader", &["leaveConversation"]).await;
    let path = format!("/v1/Roles/{r}");
    let (status, updated) =
        t.post(&As::Admin, &path, &[("Permission", "sendMessage"), ("Permission", "deleteOwnMessage")]).await;
    assert_eq!(status, 200);
    assert_eq!(updated["permissions"], serde_json::json!(["sendMessage", "deleteOwnMessage"]), "update replaces");
    assert_error(&t.post(&As::Admin, &path, &[]).await, 400, 20001);
    assert_error(&t.post(&As::Admin, &path, &[("Permission", "fly")]).await, 400, 20001);
    assert_error(&t.post(&As::Admin, &path, &[("Permission", "createConversation")]).await, 400, 20001);
    let bad = [("FriendlyName", "x"), ("Type", "galaxy"), ("Permission", "sendMessage")];
    assert_error(&t.post(&As::Admin, "/v1/Roles", &bad).await, 400, 20001);
    let long = "n".repeat(65);
    let bad = [("FriendlyName", long.as_str()), ("Type", "service"), ("Permission", "createConversation")];
    assert_error(&t.post(&As::Admin, "/v1/Roles", &bad).await, 400, 20001);
    // Held by a participant: kept until nobody holds it.
    let c = sid(&t.conversation(&[]).await);
    let (_, p) = t
        .post(&As::Admin, &format!("/v1/Conversations/{c}/Participants"), &[("Identity", "zed"), ("RoleSid", &r)])
        .await;
    assert_eq!(p["role_sid"], r.as_str());
    assert_error(&t.delete(&As::Admin, &path).await, 400, 20001);
    // A service role is no participant's role.
    let (_, roles) = t.get(&As::Admin, "/v1/Roles").await;
    let service_user = sid(&roles["roles"][3]);
    assert_error(
        &t.post(&As::Admin, &format!("/v1/Conversations/{c}/Participants/zed"), &[("RoleSid", &service_user)]).await,
        400,
        20001,
    );
    assert_eq!(t.delete(&As::Admin, &format!("/v1/Conversations/{c}/Participants/zed")).await.0, 204);
    assert_eq!(t.delete(&As::Admin, &path).await.0, 204);
    assert_error(&t.get(&As::Admin, &path).await, 404, 20404);
    // A default role is never deleted.
    assert_error(&t.delete(&As::Admin, &format!("/v1/Roles/{}", sid(&roles["roles"][1]))).await, 400, 20001);
}

#[tokio::test]
async fn service_configuration_picks_the_roles_newcomers_get() {
    let t = TestServer::start().await;
    let quiet = role(&t, "conversation", "quiet", &["leaveConversation"]).await;
    let config = format!("/v1/Services/{}/Configuration", service(&t));
    let (status, body) =
        t.post(&As::Admin, &config, &[("DefaultConversationRoleSid", &quiet), ("ReachabilityEnabled", "true")]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["default_conversation_role_sid"].as_str(), body["reachability_enabled"].as_bool()),
        (Some(quiet.as_str()), Some(true))
    );
    assert!(body["url"].as_str().unwrap().ends_with(&config), "{body}");
    assert_error(&t.post(&As::Admin, &config, &[("DefaultChatServiceRoleSid", &quiet)]).await, 400, 20001);
    assert_error(&t.post(&As::Admin, &config, &[("ReachabilityEnabled", "maybe")]).await, 400, 20001);
    let c = sid(&t.post(&person("alice"), "/v1/Conversations", &[]).await.1);
    t.add(&c, "bob").await;
    assert_error(
        &t.post(&person("bob"), &format!("/v1/Conversations/{c}/Messages"), &[("Body", "hi")]).await,
        403,
        50107,
    );
    assert_eq!(t.say(&person("alice"), &c, "the creator's role is unchanged").await["index"], 0);
}

#[tokio::test]
async fn account_configuration_gives_new_conversations_their_defaults() {
    let t = TestServer::start().await;
    let (status, config) = t.get(&As::Admin, "/v1/Configuration").await;
    assert_eq!(status, 200);
    assert_eq!(config["account_sid"], t.creds.account_sid.as_str());
    assert_eq!(config["default_chat_service_sid"], service(&t), "the one service is the default");
    assert!(config["default_inactive_timer"].is_null() && config["default_messaging_service_sid"].is_null());
    assert!(config["links"]["webhooks"].as_str().unwrap().ends_with("/v1/Configuration/Webhooks"));
    let mg = "MG0123456789abcdef0123456789abcdef";
    let form = [("DefaultInactiveTimer", "PT1H"), ("DefaultClosedTimer", "P1D"), ("DefaultMessagingServiceSid", mg)];
    let (status, config) = t.post(&As::Admin, "/v1/Configuration", &form).await;
    assert_eq!((status, config["default_inactive_timer"].as_str()), (200, Some("PT1H")), "{config}");
    for bad in
        [("DefaultInactiveTimer", "PT30S"), ("DefaultClosedTimer", "PT5M"), ("DefaultMessagingServiceSid", "nope")]
    {
        assert_error(&t.post(&As::Admin, "/v1/Configuration", &[bad]).await, 400, 20001);
    }
    let bad_service = [("DefaultChatServiceSid", "IS0123456789abcdef0123456789abcdef")];
    assert_error(&t.post(&As::Admin, "/v1/Configuration", &bad_service).await, 400, 20001);
    let made = t.conversation(&[]).await;
    assert_eq!(made["messaging_service_sid"], mg);
    let (inactive, closed) = (made["timers"]["date_inactive"].as_str(), made["timers"]["date_closed"].as_str());
    assert!(inactive.is_some() && closed.is_some() && inactive < closed, "{made}");
    let own = t.conversation(&[("Timers.Inactive", "PT2H")]).await;
    assert!(own["timers"]["date_inactive"].as_str() > inactive, "a conversation's own timer wins: {own}");
    // Clearing a default: sent empty.
    let (_, cleared) = t.post(&As::Admin, "/v1/Configuration", &[("DefaultClosedTimer", "")]).await;
    assert!(cleared["default_closed_timer"].is_null(), "{cleared}");
}

/// A database from before roles: participants and users without roles get
/// them on the first start (creators the creator role), and keep them.
#[tokio::test]
async fn participants_from_before_roles_get_their_roles_on_upgrade() {
    let t = TestServer::start().await;
    let c = sid(&t.post(&person("alice"), "/v1/Conversations", &[]).await.1);
    t.post(&person("alice"), &format!("/v1/Conversations/{c}/Participants"), &[("Identity", "bob")]).await;
    t.server.as_ref().unwrap();
    let dir = t.dir.path().to_owned();
    let t = {
        let mut t = t;
        t.server.take().unwrap().shutdown().await;
        let forget = "DELETE FROM roles; DELETE FROM service_configuration; \
                      UPDATE participants SET role_sid = NULL; UPDATE users SET role_sid = NULL;";
        match t.database.clone() {
            Some(url) => {
                let (db, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
                tokio::spawn(conn);
                db.batch_execute(forget).await.unwrap();
            }
            None => rusqlite::Connection::open(dir.join("convo.sqlite3")).unwrap().execute_batch(forget).unwrap(),
        }
        t.restart_stopped().await
    };
    let (_, config) = t.get(&As::Admin, &format!("/v1/Services/{}/Configuration", service(&t))).await;
    let (_, alice) = t.get(&As::Admin, &format!("/v1/Conversations/{c}/Participants/alice")).await;
    let (_, bob) = t.get(&As::Admin, &format!("/v1/Conversations/{c}/Participants/bob")).await;
    assert_eq!(alice["role_sid"], config["default_conversation_creator_role_sid"]);
    assert_eq!(bob["role_sid"], config["default_conversation_role_sid"]);
    assert_eq!(t.get(&As::Admin, "/v1/Users/bob").await.1["role_sid"], config["default_chat_service_role_sid"]);
    let conv = format!("/v1/Conversations/{c}");
    assert_error(&t.post(&person("bob"), &conv, &[("FriendlyName", "bob's")]).await, 403, 50107);
    assert_eq!(t.post(&person("alice"), &conv, &[("FriendlyName", "still alice's")]).await.0, 200);
    let t = t.restart().await;
    assert_eq!(t.get(&As::Admin, "/v1/Roles").await.1["roles"].as_array().unwrap().len(), 4, "made once");
}
