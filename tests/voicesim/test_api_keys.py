"""API keys: ``Client(api_key_sid, api_secret, account_sid)`` against voicesim, and the Keys resource.

Twilio recommends an API key SID and secret over the auth token (https://twilio.com/docs/iam/api-keys);
voicesim refused them (reviewed in r2, F2). A key works once registered -- ``Emulator(api_keys=...)``,
``emu.create_api_key()``, ``POST /Keys.json`` or ``python -m voicesim --api-key`` -- and a Standard
key cannot manage keys (Twilio's Key resource docs). Wrong or unknown keys are 401/20003 like a wrong
auth token (more cases in test_rest_bad_input).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from tests.voicesim.contract import Api, asgi_api, basic_auth
from voicesim import Emulator, VirtualClock
from voicesim.sdk import InProcessHttpClient, client

FROM, TO = "+15550000001", "+15550000010"
KEY_SID = "SK" + "1" * 32


@pytest.fixture
async def api(voicesim: Emulator) -> AsyncIterator[Api]:
    async with asgi_api(voicesim) as driver:
        yield driver


def key_client(emu: Emulator, sid: str, secret: str) -> Client:
    """The SDK as production code builds it with an API key."""
    return Client(sid, secret, emu.account_sid, http_client=InProcessHttpClient(emu))


def refused(fn: object) -> tuple[int, int]:
    with pytest.raises(TwilioRestException) as info:
        fn()  # type: ignore[operator]
    return info.value.status, info.value.code


def test_a_created_key_authenticates_the_sdk(voicesim: Emulator) -> None:
    sid, secret = voicesim.create_api_key("ci")
    assert sid.startswith("SK") and len(sid) == 34 and len(secret) == 32
    sdk = key_client(voicesim, sid, secret)
    assert sdk.calls.list() == []
    call = sdk.calls.create(to=TO, from_=FROM, twiml="<Response><Pause length='5'/></Response>")
    assert call.account_sid == voicesim.account_sid
    assert client(voicesim, api_key=sid, api_secret=secret).calls(call.sid).fetch().sid == call.sid


def test_a_wrong_secret_or_an_unknown_key_is_401_20003(voicesim: Emulator) -> None:
    sid, _ = voicesim.create_api_key()
    wrong = key_client(voicesim, sid, "wrong")
    assert refused(lambda: wrong.calls.create(to=TO, from_=FROM, twiml="<Response/>")) == (401, 20003)
    assert refused(key_client(voicesim, KEY_SID, "key-secret").calls("CA" + "0" * 32).fetch) == (401, 20003)
    assert voicesim.calls.all() == []


async def test_a_key_reaches_only_its_own_accounts_paths(voicesim: Emulator, api: Api) -> None:
    sid, secret = voicesim.create_api_key()
    key = {"Authorization": basic_auth(sid, secret)}
    assert (await api.request("GET", "Calls.json", headers=key)).status_code == 200
    theirs = await api.request("GET", f"/2010-04-01/Accounts/AC{'9' * 32}/Calls.json", headers=key)
    assert (theirs.status_code, theirs.json()["code"]) == (401, 20003)
    created = await api.request("POST", f"/2010-04-01/Accounts/AC{'9' * 32}/Calls.json", headers=key, data={})
    assert created.status_code == 401 and voicesim.calls.all() == []


def test_keys_given_to_the_emulator_survive_a_reset_created_ones_do_not(voicesim_clock: VirtualClock) -> None:
    emu = Emulator(voicesim_clock, api_keys={KEY_SID: "key-secret"})
    try:
        made, made_secret = emu.create_api_key()
        assert key_client(emu, KEY_SID, "key-secret").calls.list() == []
        emu.reset()
        assert key_client(emu, KEY_SID, "key-secret").calls.list() == []
        assert refused(key_client(emu, made, made_secret).calls("CA" + "0" * 32).fetch) == (401, 20003)
    finally:
        emu.close()


@pytest.mark.parametrize("bad", ["SK123", "AC" + "1" * 32, "sk" + "1" * 32])
def test_a_malformed_key_sid_is_refused_up_front(voicesim_clock: VirtualClock, bad: str) -> None:
    with pytest.raises(ValueError, match="SK followed by 32 hex digits"):
        Emulator(voicesim_clock, api_keys={bad: "secret"})


async def test_the_keys_resource(voicesim: Emulator, api: Api) -> None:
    created = await api.post("Keys.json", {"FriendlyName": "deploy"})
    assert created.status_code == 201
    new = created.json()
    assert set(new) == {"sid", "friendly_name", "date_created", "date_updated", "secret"}
    assert new["friendly_name"] == "deploy"
    sid, secret = new["sid"], new["secret"]
    as_key = {"Authorization": basic_auth(sid, secret)}
    assert (await api.get("Calls.json", headers=as_key)).status_code == 200

    listed = (await api.get("Keys.json")).json()["keys"]
    assert listed == [{k: v for k, v in new.items() if k != "secret"}]  # the secret is shown once
    renamed = await api.post(f"Keys/{sid}.json", {"FriendlyName": "deploy-2"})
    assert renamed.json()["friendly_name"] == "deploy-2"
    assert (await api.get(f"Keys/{sid}.json")).json()["friendly_name"] == "deploy-2"

    # A (Standard) key cannot manage keys, not even itself.
    for method, path in (("GET", "Keys.json"), ("POST", "Keys.json"), ("DELETE", f"Keys/{sid}.json")):
        response = await api.request(method, path, headers=as_key)
        assert (response.status_code, response.json()["code"]) == (401, 20003), path

    assert (await api.delete(f"Keys/{sid}.json")).status_code == 204
    assert (await api.get("Calls.json", headers=as_key)).status_code == 401  # revoked at once
    gone = await api.get(f"Keys/{sid}.json")
    assert (gone.status_code, gone.json()["code"]) == (404, 20404)
    assert f"/2010-04-01/Accounts/{voicesim.account_sid}/Keys/{sid}.json" in gone.json()["message"]
    too_long = await api.post("Keys.json", {"FriendlyName": "x" * 65})
    assert too_long.status_code == 400


def test_the_sdk_makes_and_lists_keys(voicesim: Emulator, twilio_client: Client) -> None:
    new = twilio_client.new_keys.create(friendly_name="from the sdk")
    assert new.secret and [k.sid for k in twilio_client.keys.list()] == [new.sid]
    assert key_client(voicesim, new.sid, new.secret).calls.list() == []
    assert twilio_client.keys(new.sid).delete() is True
    assert twilio_client.keys.list() == []
