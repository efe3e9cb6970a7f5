"""The kiosk gateway API's request bodies and answers (marshmallow): order codes,
walk-ins, kiosk credentials and tickets (Q-7, D-5)."""

from marshmallow import Schema, fields

from shared import fields as asan


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
