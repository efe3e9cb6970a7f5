"""The kiosk gateway API's request bodies and answers (marshmallow): order codes,
walk-ins, kiosk credentials and tickets (Q-7, D-5)."""

import unicodedata

from marshmallow import Schema, ValidationError, fields, validate

from shared.vocabulary import fields as asan
from shared.vocabulary.errors import Text


class OrderCodeBody(Schema):
    """A malformed order code is refused here (400), before booking is asked: it
    names no booking, so it is not counted as one of the kiosk's wrong codes."""
    order_code = asan.OrderCode(required=True, metadata={"example": "K7M2-QX4P"})


class WalkInBody(Schema):
    """Body of ``POST /kiosk/walk-ins``: the code of the service the visitor chose."""
    service = fields.String(required=True, metadata={"example": "passport"})


class NewKioskBody(Schema):
    """Body of ``POST /admin/kiosks``: the code of the centre the new kiosk stands in (D-5)."""
    centre = fields.String(required=True, metadata={"example": "baku-1"})


class TicketResponse(Schema):
    """A printed ticket (Q-7) as the kiosk receives it: its number and series, the
    service and centre (code, ``az``, ``en``), the Baku day, the booked time (``HH:MM``,
    null for a walk-in), when it was issued, the text to print and its ESC/POS bytes."""
    ticket_id = fields.UUID()
    number = fields.String(metadata={"example": "B-017"})
    series = fields.String(metadata={"description": "booked or walk_in"})
    service = fields.Dict()
    centre = fields.Dict()
    date = fields.Date()
    booked_time = fields.String(allow_none=True)
    issued_at = fields.DateTime()
    print = fields.Dict(metadata={"description": "ready-to-print text for 32- and 48-column "
                                                 "thermal printers, keyed by width"})
    escpos = fields.String(metadata={
        "description": "the ticket as ESC/POS bytes, base64, for an 80 mm thermal printer "
                       "(48 columns, code page CP857 with ə printed as ä, the number large, a "
                       "QR code of the number, a cut): send them to the printer as they are"})


class KioskCredential(Schema):
    """A kiosk's credential (D-5), as registering or rotating it answers; the token
    is shown only this once (only its SHA-256 is kept)."""
    kiosk_id = fields.String()
    centre = fields.String()
    token = fields.String(metadata={"description": "shown once: Bearer <kiosk id>.<secret>"})


# --- counters (issue 17 §1) -------------------------------------------------------

COUNTER_NAME_FORMAT = Text(
    "counter_name_format", "Masanın adı lövhədə göründüyü kimi olmalıdır: 1–24 görünən simvol,"
    " idarəedici və ya görünməz simvollar olmadan.",
    "A counter's name is what the board shows: 1–24 visible characters, no control or"
    " invisible ones.")
# Control, format (bidi overrides, zero-width), separator, private and unassigned
# characters: on a board they hide or reorder what a visitor reads.
_HIDDEN = {"Cc", "Cf", "Zl", "Zp", "Co", "Cs", "Cn"}


class CounterName(fields.String):
    """A counter's name as the display board shows it: spaces (any) at the ends
    dropped and runs of them one space; refused when blank or holding a character
    the board would not show as written (issue 17 §1, §2)."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if any(unicodedata.category(char) in _HIDDEN for char in text):
            raise ValidationError(COUNTER_NAME_FORMAT)
        text = " ".join(text.split())
        if not text:
            raise ValidationError(COUNTER_NAME_FORMAT)
        return text


class NewCounterBody(Schema):
    """Body of ``POST /admin/counters``: the centre and the counter's name as the display
    board shows it (1–24 characters: ``"5"``, ``"Masa 5"``), unique among the centre's
    active counters (409 ``name_taken``)."""
    centre = fields.String(required=True, metadata={"example": "baku-1"})
    name = CounterName(required=True, validate=validate.Length(min=1, max=24),
                       metadata={"example": "5"})


class CounterCredential(Schema):
    """A counter's credential, as registering or rotating it answers; the token is shown
    only this once (only its SHA-256 is kept)."""
    counter_id = fields.String()
    centre = fields.String()
    name = fields.String()
    token = fields.String(metadata={"description": "shown once: Bearer <counter id>.<secret>"})


class SignInBody(Schema):
    """Body of ``POST /counter/sign-in``: the services (codes) staff serve at the counter."""
    services = fields.List(fields.String(validate=validate.Length(min=1, max=64)),
                           required=True, validate=validate.Length(min=1, max=32),
                           metadata={"example": ["passport", "id_card"]})


class TransferBody(Schema):
    """Body of ``POST /counter/transfer``: the service whose queue the ticket joins."""
    service = fields.String(required=True, metadata={"example": "id_card"})


class _Named(Schema):
    code = fields.String()
    az = fields.String()
    en = fields.String()


class CalledTicket(Schema):
    """The ticket a counter has called: number, service, series, booked time (``HH:MM``
    or null), when it was printed and called (Baku time), recalls so far."""
    ticket_id = fields.UUID()
    number = fields.String(metadata={"example": "B-017"})
    service = fields.Nested(_Named)
    series = fields.String()
    booked_time = fields.String(allow_none=True)
    issued_at = fields.DateTime()
    called_at = fields.DateTime()
    recalls = fields.Integer()


class CounterView(Schema):
    """A counter as its page shows it: its centre and name, whether staff are signed in
    and for which services, the ticket it has called (null: none), how many may still
    be recalled before a no-show, and who waits today per service of the centre."""
    counter_id = fields.String()
    centre = fields.Nested(_Named)
    name = fields.String()
    signed_in = fields.Boolean()
    services = fields.List(fields.String())
    current = fields.Nested(CalledTicket, allow_none=True)
    recalls_allowed = fields.Integer()
    waiting = fields.Dict(keys=fields.String(), values=fields.Integer())


class BoardCall(Schema):
    """One line of the display board: a ticket number and the counter it goes to."""
    number = fields.String(metadata={"example": "B-017"})
    counter = fields.String(metadata={"example": "5"})
    status = fields.String(metadata={"description": "called, served or no_show"})
    service = fields.Nested(_Named)
    called_at = fields.DateTime()
    recalls = fields.Integer()


class Board(Schema):
    """A centre's display board: the last calls today (Baku), newest first (at most
    12), and how many tickets wait. Numbers and counter names only."""
    centre = fields.Nested(_Named)
    called = fields.List(fields.Nested(BoardCall))
    waiting = fields.Integer()
    at = fields.DateTime()
