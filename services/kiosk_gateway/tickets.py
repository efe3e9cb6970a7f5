"""Tickets, pure: their numbers, the order in which they are called, the text a
thermal printer prints (32 or 48 columns) and the ESC/POS bytes of an 80 mm one."""
import textwrap
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time

from escpos.printer import Dummy

from shared.vocabulary.dates import numeric_date, weekday

WIDTHS = (32, 48)
# The printed ticket for real kiosk printers (issue 17 §7): an 80 mm thermal printer
# (Epson TM-T88V's profile in python-escpos: 48 columns of font A) in code page CP857,
# which has every Azerbaijani letter but ə.
ESCPOS_PROFILE = "TM-T88V"
ESCPOS_CODE_PAGE = "CP857"
ESCPOS_COLUMNS = 48


def ticket_number(prefix, series, sequence):
    """``B-017`` for a booked visitor, ``BW-003`` for a walk-in of the same service."""
    return f"{prefix}{'W' if series == 'walk_in' else ''}-{sequence:03d}"


@dataclass(frozen=True)
class Ticket:
    """A printed ticket (Q-7): its ``number`` (``sequence`` in the centre's ``series``
    of the Baku ``day``), the booking it activated and its ``booked_time`` (``None`` for
    a walk-in), and when (``issued_at``, Baku) and at which kiosk it was printed."""
    ticket_id: str
    centre: str
    day: date
    number: str
    sequence: int
    series: str
    service: str
    booking_id: str | None
    booked_time: time | None
    kiosk_id: str
    issued_at: datetime

    def call_key(self):
        """Booked visitors at their booked time, walk-ins at the time they came; at
        the same minute a booked visitor goes first."""
        moment = self.booked_time if self.booked_time else self.issued_at.time()
        return (moment.replace(second=0, microsecond=0), 0 if self.series == "booked" else 1,
                self.issued_at)


def call_order(tickets):
    """``tickets`` in the order they will be called (:meth:`Ticket.call_key`)."""
    return sorted(tickets, key=Ticket.call_key)


def _center(text, width):
    return text.center(width).rstrip()


def _fold(text):
    """Printers with a basic code page: keep the letters readable without ə, ş…"""
    table = str.maketrans({"ə": "e", "Ə": "E", "ı": "i", "İ": "I", "ş": "s", "Ş": "S",
                           "ğ": "g", "Ğ": "G", "ç": "c", "Ç": "C", "ö": "o", "Ö": "O",
                           "ü": "u", "Ü": "U"})
    return unicodedata.normalize("NFC", text).translate(table)


def layout(ticket, centre_name, service_name, width, ascii_only=False):
    """The ticket as lines of at most ``width`` characters; ``ascii_only`` for printers
    whose code page has no Azerbaijani letters. The day says its weekday in both
    languages (``çərşənbə axşamı / Tuesday``, 27 characters at most) above
    ``DD.MM.YYYY HH:MM``."""
    fix = _fold if ascii_only else (lambda text: text)
    rule = "=" * width
    booked = (f"Növbə vaxtı / Booked: {ticket.booked_time:%H:%M}" if width >= 40
              else f"Vaxt / Time: {ticket.booked_time:%H:%M}") if ticket.booked_time \
        else "Canlı növbə / Walk-in"
    lines = [rule, _center("ASAN xidmət", width)]
    lines += [_center(part, width) for part in textwrap.wrap(fix(centre_name), width)]
    lines += [rule, "", _center(f"*** {ticket.number} ***", width), ""]
    lines += [_center(part, width) for part in textwrap.wrap(fix(service_name), width)]
    lines += [_center(booked, width),
              _center(f"{weekday(ticket.day, 'az')} / {weekday(ticket.day, 'en')}", width),
              _center(f"{numeric_date(ticket.day)} {ticket.issued_at:%H:%M}", width), "",
              _center("Nömrənizi gözləyin", width), _center("Please wait for your number", width),
              rule]
    return [fix(line)[:width] for line in lines]


def print_layouts(ticket, centre_name, service_name):
    """The ticket's text for each printer width: ``{"32": text, "48": text}``."""
    return {str(width): "\n".join(layout(ticket, centre_name, service_name, width))
            for width in WIDTHS}


def _for_code_page(text):
    """ə and Ə are in no printer code page; ä and Ä stand in for them, the letters the
    Azerbaijani Latin alphabet of 1991 had in their place (every other letter prints)."""
    return unicodedata.normalize("NFC", text).replace("ə", "ä").replace("Ə", "Ä")


def escpos(ticket, centre_name, service_name):
    """The ticket as ESC/POS bytes for an 80 mm thermal printer, made with
    python-escpos: the 48-column :func:`layout` in code page CP857 (``ə`` printed as
    ``ä``), the number large and bold, a QR code of the number (the printer's own QR
    command), then a paper cut."""
    printer = Dummy(profile=ESCPOS_PROFILE)  # the printer that only collects the bytes
    printer.charcode(ESCPOS_CODE_PAGE)
    printer.set(align="center")
    for line in layout(ticket, centre_name, service_name, ESCPOS_COLUMNS):
        if ticket.number in line:
            printer.set(align="center", bold=True, double_height=True, double_width=True)
            printer.text(f"{ticket.number}\n")
            printer.set(align="center", normal_textsize=True)
        else:
            printer.text(_for_code_page(line.strip()) + "\n")
    printer.qr(ticket.number, size=8, native=True)
    printer.cut()
    return printer.output
