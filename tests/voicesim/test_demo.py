"""``python -m voicesim demo``: real HTTP, real-time clock, the pitfall and its fix in the output."""

from __future__ import annotations

import subprocess
import sys


def test_demo_prints_both_rounds_timelines() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "voicesim", "demo", "--speed", "50"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    out = done.stdout
    assert out.count("inbound  +15551230001 -> +15550001000  [completed]") == 2
    assert out.count("outbound-dial") == 2
    assert 'speech "Your agent stepped away. Please hold."' in out  # round 2 keeps the caller
    assert out.count('speech "You are now off the customer call."') == 2
