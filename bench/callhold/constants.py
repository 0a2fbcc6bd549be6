"""The bench's fixed identities: voicesim's account, callhold's admin token, phones and numbers."""

from __future__ import annotations

import base64

ACCOUNT_SID = "AC" + "b" * 32
AUTH_TOKEN = "bench-auth-token-0123456789abcdef"
ADMIN = "bench-admin-token"
BASIC = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
ALICE, BOB = "client:alice", "client:bob"
CUSTOMER, BARE_CUSTOMER = "+15551230001", "+15551230002"
CALLHOLD_NUMBER = {"conference": "+15550001000", "legs": "+15550001001"}
BARE_NUMBER = {"conference": "+15550002000", "legs": "+15550002001"}
CONFERENCE_EVENTS = "start end join leave mute hold modify"
BARE_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response><Play loop="0">/m.wav</Play></Response>'
FORM = "application/x-www-form-urlencoded"
