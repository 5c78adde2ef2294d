"""Drives roles and configuration of `convo-tui serve` with twilio-python, unchanged.

Same set-up as twilio_client.py (a small HTTP client subclass sends
conversations.twilio.com requests to CONVO_URL). Exits non-zero on the first failed check.
"""

import os

import requests
from twilio.base.exceptions import TwilioRestException
from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import ChatGrant

from local_twilio import URL, check, admin_client


def main():
    account = os.environ["CONVO_ACCOUNT_SID"]
    client = admin_client()
    api = client.conversations.v1

    # Default roles, by Twilio's names.
    roles = api.roles.list()
    names = sorted((r.friendly_name, r.type) for r in roles)
    check(names == [("channel admin", "conversation"), ("channel user", "conversation"),
                    ("service admin", "service"), ("service user", "service")], f"default roles: {names}")
    service_sid = roles[0].chat_service_sid

    # Service configuration names them; the service form of roles serves the same.
    sc = api.services(service_sid).configuration().fetch()
    by_name = {r.friendly_name: r.sid for r in roles}
    check(sc.default_conversation_creator_role_sid == by_name["channel admin"], "creator role")
    check(sc.default_conversation_role_sid == by_name["channel user"], "conversation role")
    check(sc.default_chat_service_role_sid == by_name["service user"], "service role")
    check(sc.reachability_enabled is True, "reachability on by default (this server's choice)")
    check(len(api.services(service_sid).roles.list()) == 4, "service-scoped roles")

    # Create, fetch, update, delete a role.
    quiet = api.roles.create(friendly_name="quiet", type="conversation", permission=["leaveConversation"])
    check(quiet.sid.startswith("RL") and quiet.permissions == ["leaveConversation"], "role create")
    check(api.roles(quiet.sid).fetch().friendly_name == "quiet", "role fetch")
    quiet = api.roles(quiet.sid).update(permission=["leaveConversation", "editNotificationLevel"])
    check(quiet.permissions == ["leaveConversation", "editNotificationLevel"], f"role update: {quiet.permissions}")
    try:
        api.roles.create(friendly_name="bad", type="conversation", permission=["fly"])
        check(False, "unknown permission refused")
    except TwilioRestException as e:
        check(e.status == 400 and e.code == 20001, f"unknown permission: {e.status} {e.code}")

    # A participant with the quiet role may not send: 403 / 50107 through the SDK's token.
    conv = api.conversations.create(friendly_name="roles")
    p = api.conversations(conv.sid).participants.create(identity="py-quiet", role_sid=quiet.sid)
    check(p.role_sid == quiet.sid, "participant RoleSid")
    token = AccessToken(account, os.environ["CONVO_API_KEY"], os.environ["CONVO_API_SECRET"], identity="py-quiet")
    token.add_grant(ChatGrant(service_sid=service_sid))
    headers = {"X-Twilio-Token": token.to_jwt()}
    r = requests.post(f"{URL}/v1/Conversations/{conv.sid}/Messages", data={"Body": "hi"}, headers=headers, timeout=30)
    check(r.status_code == 403 and r.json()["code"] == 50107, f"send refused: {r.status_code} {r.text}")
    p = api.conversations(conv.sid).participants(p.sid).update(role_sid=by_name["channel user"])
    r = requests.post(f"{URL}/v1/Conversations/{conv.sid}/Messages", data={"Body": "hi"}, headers=headers, timeout=30)
    check(r.status_code == 201, f"send allowed with the channel user role: {r.status_code} {r.text}")
    check(api.roles(quiet.sid).delete(), "role delete once nobody holds it")

    # Account configuration: defaults for new conversations.
    cfg = api.configuration().fetch()
    check(cfg.default_chat_service_sid == service_sid, "default chat service")
    cfg = api.configuration().update(default_inactive_timer="PT1H", default_closed_timer="P1D")
    check(cfg.default_inactive_timer == "PT1H" and cfg.default_closed_timer == "P1D", "configuration update")
    timed = api.conversations.create(friendly_name="timed")
    check("date_inactive" in timed.timers and "date_closed" in timed.timers, f"default timers: {timed.timers}")
    sc = api.services(service_sid).configuration().update(reachability_enabled=False)
    check(sc.reachability_enabled is False, "service configuration update")
    print("OK")


if __name__ == "__main__":
    main()
