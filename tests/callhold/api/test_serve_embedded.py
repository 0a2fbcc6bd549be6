"""``callhold serve`` with no Twilio credentials: the embedded voicesim it creates has callhold's
number, configured as on Twilio, so the README's test call to it (``/voicesim/_voicesim/inbound-calls``,
which refuses a number the account does not have: 21211) reaches callhold."""

from __future__ import annotations

from pathlib import Path

from tests.callhold.api.conftest import BASE

from callhold.config import Settings
from callhold.web.app import create_app


def test_the_embedded_voicesim_has_callholds_number_pointing_at_callhold(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/serve.db", public_base_url=BASE + "/")
    emu = create_app(settings).state.services.emulator
    number = emu.number_for(settings.caller_id)  # how voicesim routes a call to that number
    assert number is not None
    assert (number.voice_url, number.voice_method) == (f"{BASE}/twiml/voice", "POST")
    assert (number.status_callback, number.status_callback_method) == (f"{BASE}/webhooks/call-status", "POST")
    assert len(emu.numbers) == 1


def test_a_restarted_serve_never_reuses_the_call_sids_on_record(tmp_path: Path) -> None:
    """The database outlives the process; the embedded voicesim does not. Were its SIDs seeded the
    same every start, the first caller after a restart would get the SID of the first call on
    record -- an ended call -- and be dropped as that call."""
    settings = Settings(database_url=f"sqlite:///{tmp_path}/serve.db", public_base_url=BASE)
    first = create_app(settings).state.services.emulator.sids.new("CA")
    again = create_app(settings).state.services.emulator.sids.new("CA")
    assert first != again
