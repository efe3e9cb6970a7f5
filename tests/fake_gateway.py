"""A stand-in for the kiosk gateway's counter and board API (issue 17 contract §1) and
booking's reference routes, for the web pages' tests: a nameko service run in-process
next to the pages, whose queue a test fills and empties at will (the real gateway
issues tickets only while a centre is open, on the real clock). Its answers keep the
contract's shapes and refusal names; the real gateway is tested by its own tests and
the pages against it in tests/browser/test_counter_and_board.py.
"""
from datetime import datetime, timezone

from werkzeug.wrappers import Response

from shared.errors import Conflict, NotFound, Text, Unauthorized, ValidationFailed, Reason
from shared.http import http, read_json

CENTRES = {"quba": {"code": "quba", "az": "Quba ASAN xidmət mərkəzi",
                    "en": "Guba ASAN service centre"}}
SERVICES = {"passport": ("Pasport", "Passport"), "certificates": ("Arayışlar", "Certificates"),
            "driving_licence": ("Sürücülük vəsiqəsi", "Driving licence")}
RECALLS_ALLOWED = 2


def _now():
    return datetime.now(timezone.utc).isoformat()


def _service(code):
    az, en = SERVICES[code]
    return {"code": code, "az": az, "en": en}


class State:
    """The fake's whole world, reset by each test: counters by token, the waiting
    tickets of each service, and the board's rows (newest first)."""

    def __init__(self):
        self.counters, self.waiting, self.called = {}, {code: [] for code in SERVICES}, []
        self.broken = False  # True: every board answer is a 500

    def add_counter(self, token, name, centre="quba"):
        self.counters[token] = {"counter_id": token.split(".")[0], "centre": centre,
                                "name": name, "signed_in": False, "services": [],
                                "current": None}

    def issue(self, service, number):
        self.waiting[service].append(number)

    def view(self, token):
        c = self.counters[token]
        return {"counter_id": c["counter_id"], "centre": CENTRES[c["centre"]],
                "name": c["name"], "signed_in": c["signed_in"], "services": c["services"],
                "current": c["current"],
                "waiting": {code: len(queue) for code, queue in self.waiting.items()},
                "recalls_allowed": RECALLS_ALLOWED}


STATE = State()


def _refuse(kind, code, en):
    return kind(Text(code, f"az: {en}", en))


class FakeGateway:
    """The routes the pages call, with the contract's refusals."""
    name = "fake_kiosk_gateway"

    def _counter(self, request):
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in STATE.counters:
            raise Unauthorized(Text("counter_unauthorized", "Masanın açarı tanınmır.",
                                    "The counter token is not known."))  # as the real one
        return token, STATE.counters[token]

    @http("GET", "/services")
    def services(self, request):
        return [{"code": code, "name": {"az": az, "en": en}}
                for code, (az, en) in SERVICES.items()]

    @http("GET", "/centres")
    def centres(self, request):
        return [{"code": c["code"], "name": {"az": c["az"], "en": c["en"]},
                 "address": "Quba", "services": sorted(SERVICES)} for c in CENTRES.values()]

    @http("GET", "/counter")
    def get_counter(self, request):
        token, _ = self._counter(request)
        return STATE.view(token)

    @http("POST", "/counter/sign-in")
    def sign_in(self, request):
        token, c = self._counter(request)
        services = (read_json(request) or {}).get("services") or []
        if not services:
            raise ValidationFailed([Reason("services", "required", "Xidmət seçin.",
                                           "Choose at least one service.")])
        c.update(signed_in=True, services=services)
        return STATE.view(token)

    @http("POST", "/counter/sign-out")
    def sign_out(self, request):
        token, c = self._counter(request)
        if c["current"]:
            raise _refuse(Conflict, "ticket_in_progress", "A ticket is in progress.")
        c.update(signed_in=False)
        return STATE.view(token)

    @http("POST", "/counter/call-next")
    def call_next(self, request):
        token, c = self._counter(request)
        if not c["signed_in"]:
            raise _refuse(Conflict, "not_signed_in", "The counter is not signed in.")
        if c["current"]:
            raise _refuse(Conflict, "ticket_in_progress", "A ticket is in progress.")
        for service in c["services"]:
            if STATE.waiting[service]:
                number = STATE.waiting[service].pop(0)
                c["current"] = {"ticket_id": f"t-{number}", "number": number,
                                "service": _service(service), "series": number[:2],
                                "booked_time": None, "issued_at": _now(),
                                "called_at": _now(), "recalls": 0}
                STATE.called.insert(0, {"number": number, "counter": c["name"],
                                        "service": _service(service),
                                        "called_at": _now(), "recalls": 0,
                                        "status": "called"})
                return STATE.view(token)
        raise _refuse(NotFound, "nobody_waiting", "Nobody is waiting.")

    @staticmethod
    def _finish(c, status):
        for row in STATE.called:
            if row["number"] == c["current"]["number"] and row["status"] == "called":
                row["status"] = status
        c["current"] = None

    def _current(self, request):
        token, c = self._counter(request)
        if not c["current"]:
            raise _refuse(Conflict, "no_current_ticket", "No ticket is called.")
        return token, c

    @http("POST", "/counter/recall")
    def recall(self, request):
        token, c = self._current(request)
        if c["current"]["recalls"] >= RECALLS_ALLOWED:
            raise _refuse(Conflict, "recalls_exhausted", "No more recalls.")
        c["current"]["recalls"] += 1
        return STATE.view(token)

    @http("POST", "/counter/no-show")
    def no_show(self, request):
        token, c = self._current(request)
        if c["current"]["recalls"] < RECALLS_ALLOWED:
            raise Conflict(Text("recall_first", "Əvvəlcə bileti təkrar çağırın.",
                                "Recall the ticket first."))
        self._finish(c, "no_show")
        return STATE.view(token)

    @http("POST", "/counter/served")
    def served(self, request):
        token, c = self._current(request)
        self._finish(c, "served")
        return STATE.view(token)

    @http("POST", "/counter/transfer")
    def transfer(self, request):
        token, c = self._current(request)
        service = (read_json(request) or {}).get("service")
        if service not in SERVICES:
            raise _refuse(NotFound, "not_offered", "Not offered here.")
        if service == c["current"]["service"]["code"]:
            raise _refuse(Conflict, "same_service", "The same service.")
        STATE.waiting[service].insert(0, c["current"]["number"])
        STATE.called = [row for row in STATE.called
                        if not (row["number"] == c["current"]["number"]
                                and row["status"] == "called")]
        c["current"] = None
        return STATE.view(token)

    @http("GET", "/centres/<centre>/board")
    def board(self, request, centre):
        if STATE.broken:  # a crashed upstream's bare 500 (not a documented refusal)
            return Response("the fake gateway's board is broken on purpose", status=500,
                            mimetype="text/plain")
        if centre not in CENTRES:
            raise NotFound(Text("unknown_centre", "Belə mərkəz yoxdur.",
                                "There is no such centre."))
        return {"centre": CENTRES[centre], "called": STATE.called[:12],
                "waiting": sum(len(queue) for queue in STATE.waiting.values()), "at": _now()}
