"""The printed ticket for real kiosk printers (issue 17 §7, Q-7): the ESC/POS bytes an
80 mm thermal printer takes, made with python-escpos — decoded here the way a printer
reads them: the code page chosen, the text, the QR code's payload, the cut."""
import re
from datetime import date, datetime, time

from services.kiosk_gateway.tickets import Ticket, escpos
from shared.vocabulary.clock import BAKU

ESC, GS = b"\x1b", b"\x1d"
CENTRE = "Bakı 1 nömrəli ASAN xidmət mərkəzi"
SERVICE = "Şəxsiyyət vəsiqəsi / Identity card"


def ticket(number="C-017", series="booked", booked=time(10, 15)):
    return Ticket("t-1", "baku-1", date(2026, 12, 1), number, 17, series, "id_card",
                  "b-1" if booked else None, booked, "k-1",
                  datetime(2026, 12, 1, 10, 5, tzinfo=BAKU))


def qr_payload(data):
    """What the printer's QR command (GS ( k, function 80: store the data) holds."""
    found = re.search(re.escape(GS + b"(k") + rb"(.)(.)1P0", data, re.S)
    assert found, "no QR code stored"
    length = found.group(1)[0] + 256 * found.group(2)[0] - 3
    return data[found.end():found.end() + length].decode("ascii")


def printed_text(data):
    """The text the printer prints: code page 13 (CP857) chosen by ESC t 13, then every
    byte outside a command decoded with it."""
    assert ESC + b"t\x0d" in data, "code page CP857 (13) not chosen"
    without_qr = re.sub(re.escape(GS + b"(k") + rb"..[^\x1d]*", b"", data, flags=re.S)
    commands = re.compile(rb"\x1b[!aEtd-].|\x1bM.|\x1d!.|\x1dV.|\x1b@")
    return commands.sub(b"", without_qr).decode("cp857")


def test_the_ticket_carries_centre_number_service_time_and_a_qr_of_the_number():
    data = escpos(ticket(), CENTRE, SERVICE)
    text = printed_text(data)
    assert qr_payload(data) == "C-017"
    assert "C-017" in text
    # Azerbaijani letters print in CP857; ə, which no code page has, as ä (1991 alphabet).
    assert "Bakı 1 nömräli ASAN xidmät märkäzi" in text
    assert "Şäxsiyyät väsiqäsi / Identity card" in text
    assert "10:15" in text and "01.12.2026 10:05" in text
    # issue 23 §5: the day with its weekday, in both languages, as read here
    assert "çärşänbä axşamı / Tuesday" in text
    assert data.rstrip(b"\x00").endswith(GS + b"V\x00") or GS + b"V" in data[-8:], "no cut"


def test_the_number_is_printed_large_and_bold():
    data = escpos(ticket(), CENTRE, SERVICE)
    number_at = data.index(b"C-017\n")
    before = data[:number_at]
    assert ESC + b"E\x01" in before  # bold on
    assert re.search(rb"\x1b!\x30|\x1d!\x11", before)  # double height and width


def test_a_walk_in_ticket_says_so():
    text = printed_text(escpos(ticket("CW-003", "walk_in", None), CENTRE, SERVICE))
    assert "CW-003" in text and "Canlı növbä / Walk-in" in text
