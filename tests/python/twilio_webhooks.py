"""Webhooks through Twilio's own Python helper library, unchanged.

`configure`: sets the account's, the service's and a conversation's webhooks
with twilio-python (pointing at the test's receiver, HOOK_BASE), checks what the
server answers, then makes the changes whose webhooks the test expects, and
prints their SIDs as JSON.
`validate FILE`: checks every captured request in FILE (a JSON list of
{url, params, signature}) with twilio-python's RequestValidator, and that a
tampered one fails.
Reads CONVO_URL, CONVO_ACCOUNT_SID, CONVO_AUTH_TOKEN. Exits non-zero on the first failed check.
"""

import json
import os
import sys

from twilio.request_validator import RequestValidator

from local_twilio import check, admin_client


def configure():
    hook = os.environ["HOOK_BASE"].rstrip("/")
    client = admin_client()
    v1 = client.conversations.v1

    # Account scope.
    account = v1.configuration.webhooks().update(
        method="POST",
        filters=["onConversationAdded", "onMessageAdded"],
        pre_webhook_url=f"{hook}/account-pre",
        post_webhook_url=f"{hook}/account",
        target="webhook",
    )
    check(account.post_webhook_url == f"{hook}/account", f"account post url: {account.post_webhook_url}")
    check(account.filters == ["onConversationAdded", "onMessageAdded"], f"account filters: {account.filters}")
    fetched = v1.configuration.webhooks().fetch()
    check(fetched.method == "POST" and fetched.target == "webhook", "account fetch")

    # Service scope: it takes precedence over the account's for this service.
    service_sid = v1.services.list()[0].sid
    empty = v1.services(service_sid).configuration.webhooks().fetch()
    check(empty.post_webhook_url is None and empty.filters is None, "service webhooks start unset")
    service = v1.services(service_sid).configuration.webhooks().update(
        post_webhook_url=f"{hook}/service",
        filters=["onConversationAdded", "onMessageAdded", "onMessageUpdated", "onParticipantAdded", "onUserUpdated"],
        method="POST",
    )
    check(service.post_webhook_url == f"{hook}/service", "service post url")
    check(service.chat_service_sid == service_sid, "service sid")

    # REST calls fire the service's webhooks only when they ask to.
    conv = v1.conversations.create(friendly_name="Hooked", x_twilio_webhook_enabled="true")
    quiet = v1.conversations.create(friendly_name="Quiet")

    # Conversation scope.
    hooks = v1.conversations(conv.sid).webhooks
    wh = hooks.create(
        target="webhook",
        configuration_url=f"{hook}/conversation",
        configuration_method="POST",
        configuration_filters=["onMessageAdded"],
    )
    check(wh.sid.startswith("WH") and wh.target == "webhook", "conversation webhook created")
    check(wh.configuration["url"] == f"{hook}/conversation", f"configuration: {wh.configuration}")
    wh = hooks(wh.sid).update(configuration_filters=["onMessageAdded", "onParticipantAdded", "onMessageUpdated"])
    check(wh.configuration["filters"] == ["onMessageAdded", "onParticipantAdded", "onMessageUpdated"], "update")
    listed = hooks.list()
    check([w.sid for w in listed] == [wh.sid], "conversation webhooks list")
    check(hooks(wh.sid).fetch().conversation_sid == conv.sid, "conversation webhook fetch")
    extra = hooks.create(target="trigger", configuration_url=f"{hook}/trigger", configuration_triggers=["help"])
    check(extra.target == "trigger", "trigger webhook")
    check(hooks(extra.sid).delete(), "conversation webhook delete")

    p = v1.conversations(conv.sid).participants.create(identity="py-hooked", x_twilio_webhook_enabled="true")
    m = v1.conversations(conv.sid).messages.create(author="py-hooked", body="hello hooks", x_twilio_webhook_enabled="true")
    m2 = v1.conversations(conv.sid).messages(m.sid).update(body="edited", x_twilio_webhook_enabled="true")
    check(m2.body == "edited", "message update")
    # Without the header: only the conversation-scoped webhook hears of it.
    quiet_m = v1.conversations(conv.sid).messages.create(author="py-hooked", body="no header")
    v1.conversations(quiet.sid).messages.create(body="nobody hears this")
    print(json.dumps({
        "conversation": conv.sid,
        "webhook": wh.sid,
        "participant": p.sid,
        "message": m.sid,
        "quiet_message": quiet_m.sid,
        "service": service_sid,
    }))


def validate(path):
    validator = RequestValidator(os.environ["CONVO_AUTH_TOKEN"])
    captured = json.load(open(path))
    check(len(captured) > 0, "requests were captured")
    for c in captured:
        check(validator.validate(c["url"], c["params"], c["signature"]), f"signature of {c['url']} {c['params']}")
    tampered = dict(captured[0]["params"], Body="tampered")
    check(not validator.validate(captured[0]["url"], tampered, captured[0]["signature"]), "tampering is detected")
    print(f"OK {len(captured)}")


if __name__ == "__main__":
    if sys.argv[1] == "configure":
        configure()
    else:
        validate(sys.argv[2])
