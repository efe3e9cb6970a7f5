"""The kiosk simulator prints the ticket as a kiosk would."""
import pytest

from services.kiosk_gateway import simulator

pytestmark = pytest.mark.integration


def test_the_simulator_registers_activates_and_prints(stack, monkeypatch, capsys):
    monkeypatch.setenv("KIOSK_GATEWAY_URL", stack.gateway_url)
    assert simulator.main(["register", "baku-1"]) == 0
    import json

    token = json.loads(capsys.readouterr().out)["token"]
    _, code = stack.confirmed_booking(at="10:15")
    stack.clock.set("2026-11-24", "10:00")
    assert simulator.main(["--token", token, "--width", "48", "activate", code]) == 0
    printed = capsys.readouterr().out
    assert "*** C-001 ***" in printed and max(len(line) for line in printed.splitlines()) <= 48
    assert simulator.main(["--token", token, "activate", "ZZZZ-ZZZZ"]) == 1
    assert "not valid" in capsys.readouterr().out
    assert simulator.main(["--token", token, "activate", "NOPE-NOPE"]) == 1  # O is no letter
    assert "8 characters" in capsys.readouterr().out  # of an order code
