"""The error-name contract's own rules (tests/contract.py, issue 22 §3): a pair is per
operation, and only a real service's answer counts."""
from services.kiosk_gateway.service import KioskGatewayService
from tests.contract import DOCUMENTED, OPERATIONS, Pair, Recorder, serving

GATEWAY = "127.0.0.1:41003"


def recorder():
    return Recorder(OPERATIONS, DOCUMENTED, {GATEWAY: "kiosk_gateway",
                                             "127.0.0.1:41001": "booking"})


def test_an_answer_from_anything_but_a_real_service_does_not_count():
    """A stand-in answering the gateway's routes on another port (the old
    tests/fake_gateway.py was the only one to answer ``same_service``)."""
    seen = recorder()
    same_service = Pair("kiosk_gateway", "POST", "/counter/transfer", 409, "same_service")
    seen.record("POST", "http://127.0.0.1:45999/counter/transfer", 409,
                {"error": "same_service"})
    assert seen.answers == [] and same_service in seen.never_answered()
    seen.record("POST", f"http://{GATEWAY}/counter/transfer", 409, {"error": "same_service"})
    assert same_service not in seen.never_answered()


def test_a_name_answered_on_one_route_leaves_it_missing_on_every_other():
    """``busy`` is documented on every command route: one route's answer is one pair."""
    busy = {pair for pair in DOCUMENTED if pair.error == "busy"}
    assert len(busy) > 20
    seen = recorder()
    seen.record("POST", "http://127.0.0.1:41001/bookings", 409, {"error": "busy"})
    missing = {pair for pair in seen.never_answered() if pair.error == "busy"}
    assert missing == busy - {Pair("booking", "POST", "/bookings", 409, "busy")}


def test_a_name_its_route_does_not_document_is_undocumented_there():
    seen = recorder()
    seen.record("POST", f"http://{GATEWAY}/counter/sign-in", 409, {"error": "same_service"})
    seen.record("POST", f"http://{GATEWAY}/counter/transfer", 400, {"error": "same_service"})
    assert [str(answer.pair) for answer in seen.undocumented()] == [
        "kiosk_gateway POST /counter/sign-in 409 same_service",
        "kiosk_gateway POST /counter/transfer 400 same_service"]


def test_a_url_is_the_operation_it_routes_to_and_its_template():
    seen = recorder()
    assert seen.operation("kiosk_gateway", "POST", "/admin/counters/c-7/revoke").route == \
        "/admin/counters/{counter_id}/revoke"
    assert seen.operation("booking", "POST", "/admin/counters/c-7/revoke") is None
    seen.record("GET", f"http://{GATEWAY}/metrics", 503, {"error": "unavailable"})
    seen.record("DELETE", f"http://{GATEWAY}/counter", 405, {"error": "method_not_allowed"})
    assert seen.answers == []  # not documented operations: nothing to hold them to
    seen.record("GET", f"http://{GATEWAY}/centres/quba/board?x=1", 404,
                {"error": "unknown_centre"})
    assert str(seen.answers[0].pair) == \
        "kiosk_gateway GET /centres/{centre}/board 404 unknown_centre"


def test_only_a_real_service_class_is_known_by_its_address():
    class StandIn:
        name = "kiosk_gateway"

    class Slower(KioskGatewayService):
        pass

    config = {"WEB_SERVER_ADDRESS": "127.0.0.1:45001"}
    assert serving(KioskGatewayService, config) == "127.0.0.1:45001"
    assert serving(StandIn, config) is None and serving(Slower, config) is None
