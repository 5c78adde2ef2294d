"""Drives `convo-tui serve` with Twilio's own Python helper library, unchanged.

twilio-python talks to https://conversations.twilio.com; a small HTTP client
subclass rewrites that base URL to the test server. Everything else (auth,
form encoding, paging through next_page_url, date parsing) is the library's own.
Reads CONVO_URL, CONVO_ACCOUNT_SID, CONVO_AUTH_TOKEN, CONVO_API_KEY, CONVO_API_SECRET.
Exits non-zero on the first failed check.
"""

import datetime
import os

import requests
from twilio.base.exceptions import TwilioRestException
from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import ChatGrant

from local_twilio import URL, check, admin_client


def main():
    account = os.environ["CONVO_ACCOUNT_SID"]
    client = admin_client()
    conv_api = client.conversations.v1

    # Create, fetch by unique name, update.
    conv = conv_api.conversations.create(friendly_name="Py", unique_name="py-room", attributes='{"x": 1}')
    check(conv.sid.startswith("CH"), "conversation sid")
    check(isinstance(conv.date_created, datetime.datetime), f"date_created parsed: {conv.date_created!r}")
    check(conv.attributes == '{"x": 1}', "attributes string")
    fetched = conv_api.conversations("py-room").fetch()
    check(fetched.sid == conv.sid, "fetch by unique name")
    updated = conv_api.conversations(conv.sid).update(friendly_name="Py renamed")
    check(updated.friendly_name == "Py renamed", "update")

    # Participants and users.
    p = conv_api.conversations(conv.sid).participants.create(identity="py-alice")
    check(p.identity == "py-alice" and p.sid.startswith("MB"), "participant")
    sms = conv_api.conversations(conv.sid).participants.create(
        messaging_binding_address="+15551112222", messaging_binding_proxy_address="+15553334444"
    )
    check(sms.messaging_binding["address"] == "+15551112222", "sms participant binding")
    check(len(conv_api.conversations(conv.sid).participants.list()) == 2, "participants list")
    try:
        conv_api.conversations(conv.sid).participants.create(identity="py-alice")
        check(False, "duplicate participant refused")
    except TwilioRestException as e:
        check(e.status == 409 and e.code == 50433, f"duplicate participant error {e.status} {e.code}")
    user = conv_api.users("py-alice").fetch()
    check(user.sid.startswith("US"), "user created with the participant")
    user = conv_api.users(user.sid).update(friendly_name="Alice")
    check(user.friendly_name == "Alice", "user update")
    made = conv_api.users.create(identity="py-bob")
    check(made.identity == "py-bob", "user create")

    # Messages, paged through with the library's own paging (next_page_url).
    for i in range(12):
        m = conv_api.conversations(conv.sid).messages.create(body=f"m{i}", author="py-alice")
        check(m.index == i, f"index {m.index} == {i}")
    bodies = [m.body for m in conv_api.conversations(conv.sid).messages.stream(page_size=5)]
    check(bodies == [f"m{i}" for i in range(12)], f"asc paging: {bodies}")
    desc = [m.index for m in conv_api.conversations(conv.sid).messages.list(order="desc", page_size=5)]
    check(desc == list(range(11, -1, -1)), f"desc paging: {desc}")
    page = conv_api.conversations(conv.sid).messages.page(order="desc", page_size=5)
    older = page.next_page()
    check([m.index for m in older] == [6, 5, 4, 3, 2], "next_page of a desc page holds older messages")
    first = conv_api.conversations(conv.sid).messages.list(limit=1)[0]
    edited = conv_api.conversations(conv.sid).messages(first.sid).update(body="edited")
    check(edited.body == "edited", "message update")

    # Per-user state.
    uc = conv_api.users("py-alice").user_conversations(conv.sid).fetch()
    check(uc.unread_messages_count is None, "unread is null before a horizon")
    uc = conv_api.users("py-alice").user_conversations(conv.sid).update(last_read_message_index=9)
    check(uc.unread_messages_count == 2, f"unread after horizon: {uc.unread_messages_count}")
    check(len(conv_api.users("py-alice").user_conversations.list()) == 1, "user conversations list")
    pcs = conv_api.participant_conversations.list(identity="py-alice")
    check(len(pcs) == 1 and pcs[0].conversation_sid == conv.sid, "participant conversations")

    # An access token minted by twilio-python is accepted by the server.
    token = AccessToken(account, os.environ["CONVO_API_KEY"], os.environ["CONVO_API_SECRET"], identity="py-alice")
    token.add_grant(ChatGrant(service_sid=conv.chat_service_sid))
    r = requests.get(f"{URL}/v1/Conversations", headers={"X-Twilio-Token": token.to_jwt()}, timeout=30)
    check(r.status_code == 200 and r.json()["conversations"][0]["sid"] == conv.sid, f"token accepted: {r.text}")

    # Deletes.
    check(conv_api.conversations(conv.sid).messages(first.sid).delete(), "message delete")
    check(conv_api.conversations(conv.sid).participants(sms.sid).delete(), "participant delete")
    check(conv_api.users("py-bob").delete(), "user delete")
    check(conv_api.conversations(conv.sid).delete(), "conversation delete")
    try:
        conv_api.conversations(conv.sid).fetch()
        check(False, "deleted conversation is gone")
    except TwilioRestException as e:
        check(e.status == 404 and e.code == 20404, f"404 after delete: {e.status} {e.code}")
    print("OK")


if __name__ == "__main__":
    main()
