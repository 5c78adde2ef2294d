"""What every twilio-python script of the tests shares: the library, unchanged, sent to our server.

A small HTTP client subclass rewrites https://conversations.twilio.com to CONVO_URL; `check`
exits non-zero on the first failed check.
"""

import os
import sys

from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

TWILIO = "https://conversations.twilio.com"
URL = os.environ["CONVO_URL"].rstrip("/")


class LocalHttpClient(TwilioHttpClient):
    """Sends every Conversations request to the local server instead."""

    def request(self, method, url, *args, **kwargs):
        if url.startswith(TWILIO):
            url = URL + url[len(TWILIO):]
        return super().request(method, url, *args, **kwargs)


def check(cond, what):
    if not cond:
        print(f"FAILED: {what}", file=sys.stderr)
        sys.exit(1)


def admin_client():
    """A twilio-python Client for the account (CONVO_ACCOUNT_SID / CONVO_AUTH_TOKEN)."""
    return Client(os.environ["CONVO_ACCOUNT_SID"], os.environ["CONVO_AUTH_TOKEN"], http_client=LocalHttpClient())
