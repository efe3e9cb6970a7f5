"""Issue 12 (F-5 spirit), pure: the limiter's arithmetic (GCRA), its refusal, who the
client is, the caps on unconfirmed holds, and what the limits' defaults let through."""
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from services.booking import domain as booking
from services.booking.events import CATALOG as BOOKING_EVENTS
from shared.runtime.config import service_config
from shared.edge.http import status_of
from shared.edge import ratelimit
from shared.edge.auth import token_hash
from shared.edge.clients import Client, client_of, peer_address
from shared.vocabulary.errors import TooManyRequests, slow_down, wait_words
from shared.runtime.settings import SettingsError
from tests.unit.booking.fakes import SHIPPED

T0 = datetime(2026, 11, 23, 6, 0, tzinfo=timezone.utc)


def run(limit, times):
    """Admitted (True) or refused (False) for requests at ``times`` (seconds after T0)."""
    tat, answers = None, []
    for second in times:
        decision = ratelimit.decide(limit, tat, T0 + timedelta(seconds=second))
        answers.append(decision.admitted)
        tat = decision.tat
    return answers, tat


# --- the spec ---------------------------------------------------------------------

def test_a_limit_reads_like_a_sentence_and_off_turns_it_off():
    limit = ratelimit.parse("x", "30 per hour, burst 10")
    assert (limit.count, limit.period, limit.burst) == (30, timedelta(hours=1), 10)
    assert limit.interval == timedelta(minutes=2) and limit.tolerance == timedelta(minutes=20)
    assert str(limit) == "30 per hour, burst 10"
    assert ratelimit.parse("x", "5/day").burst == 5  # no burst given: the count
    assert ratelimit.parse("x", "60 per minutes, burst 30").period == timedelta(minutes=1)
    assert ratelimit.parse("x", "off") is None and ratelimit.parse("x", False) is None
    for wrong in ("lots", "0 per hour", "10 per hour, burst 0", "10 per fortnight"):
        with pytest.raises(ValueError):
            ratelimit.parse("x", wrong)


def test_the_switch_reads_yaml_and_environment_values():
    assert ratelimit.enabled({"RATE_LIMITS_ENABLED": True})
    assert ratelimit.enabled({"RATE_LIMITS_ENABLED": "true"})
    with pytest.raises(SettingsError, match="RATE_LIMITS_ENABLED"):  # no default in code
        ratelimit.enabled({})
    assert not ratelimit.enabled({"RATE_LIMITS_ENABLED": False})
    assert not ratelimit.enabled({"RATE_LIMITS_ENABLED": "false"})


# --- GCRA ---------------------------------------------------------------------------

def test_f5_a_burst_at_once_then_one_per_interval():
    limit = ratelimit.parse("x", "60 per minute, burst 3")
    answers, _ = run(limit, [0, 0, 0, 0, 0.5, 1.0, 1.5, 2.0])
    assert answers == [True, True, True, False, False, True, False, True]


def test_f5_the_wait_is_exactly_until_a_request_fits_again():
    limit = ratelimit.parse("x", "30 per hour, burst 2")  # one per 2 minutes
    _, tat = run(limit, [0, 0])
    refused = ratelimit.decide(limit, tat, T0 + timedelta(seconds=30))
    assert not refused.admitted and refused.wait == timedelta(seconds=90)
    assert refused.tat == tat  # a refused request costs nothing
    assert not ratelimit.decide(limit, tat, T0 + timedelta(seconds=119)).admitted
    assert ratelimit.decide(limit, tat, T0 + timedelta(seconds=120)).admitted


def test_f5_hammering_does_not_prolong_the_wait_never_a_lock_out():
    limit = ratelimit.parse("x", "60 per minute, burst 1")
    answers, tat = run(limit, [0] + [0.01 * n for n in range(1, 100)])
    assert answers == [True] + [False] * 99
    assert ratelimit.decide(limit, tat, T0 + timedelta(seconds=1)).admitted


def test_a_quiet_spell_refills_the_bucket_but_never_beyond_the_burst():
    limit = ratelimit.parse("x", "60 per minute, burst 3")
    answers, _ = run(limit, [0, 0, 0, 3600, 3600, 3600, 3600])
    assert answers == [True, True, True, True, True, True, False]


def test_a_clock_set_back_does_not_let_more_in():
    limit = ratelimit.parse("x", "60 per minute, burst 2")
    answers, _ = run(limit, [10, 10, 5, 5])
    assert answers == [True, True, False, False]


# --- the refusal (429, Retry-After, when to try again) -------------------------------

def test_the_wait_as_people_say_it_in_both_languages():
    assert wait_words(0.2) == ("1 saniyə", "1 second")
    assert wait_words(40) == ("40 saniyə", "40 seconds")
    assert wait_words(88.5) == ("89 saniyə", "89 seconds")
    assert wait_words(90) == ("2 dəqiqə", "2 minutes")  # Retry-After says 90
    assert wait_words(125) == ("3 dəqiqə", "3 minutes")
    assert wait_words(3 * 3600) == ("3 saat", "3 hours")


def test_a_refusal_is_429_with_retry_after_and_a_reason_saying_when():
    refusal = slow_down("booking_request", 61.2, field="email")
    assert isinstance(refusal, TooManyRequests) and status_of(refusal) == 429
    assert refusal.headers == {"Retry-After": "62"} and refusal.limit == "booking_request"
    body = refusal.as_dict()
    assert body["error"] == "too_many_requests"
    [reason] = body["reasons"]
    assert (reason["field"], reason["code"]) == ("email", "slow_down")
    assert "62 saniyə" in reason["az"] and "62 seconds" in reason["en"]


# --- who the client is ----------------------------------------------------------------

def request(remote="198.51.100.7", **headers):
    return SimpleNamespace(remote_addr=remote, headers=headers)


PAGES = [token_hash("pages")]


def test_the_pages_forwarded_address_is_believed_only_with_their_token():
    forwarded = {"X-Asan-Client-Address": "203.0.113.9"}
    assert client_of(request(**forwarded), PAGES) == Client("198.51.100.7")
    assert client_of(request(**forwarded, Authorization="Bearer guess"), PAGES) == \
        Client("198.51.100.7")
    citizen = client_of(request(**forwarded, Authorization="Bearer pages"), PAGES)
    assert citizen == Client("203.0.113.9", via_pages=True)
    assert str(citizen) == "203.0.113.9 via web" and citizen.key == "203.0.113.9"


def test_behind_our_proxy_the_client_is_what_it_appended_never_what_the_client_wrote():
    behind = request("127.0.0.1", **{"X-Forwarded-For": "6.6.6.6, 203.0.113.7"})
    assert peer_address(behind, 0) == "127.0.0.1"
    assert client_of(behind, proxy_hops=1) == Client("203.0.113.7")
    assert peer_address(request("127.0.0.1"), 1) == "127.0.0.1"


def test_an_ipv6_line_counts_as_one_client_by_its_64():
    one_line = [Client("2001:db8:aa:bb::1"), Client("2001:db8:aa:bb:ffff::9")]
    assert {client.key for client in one_line} == {"2001:db8:aa:bb::/64"}
    assert Client("2001:db8:aa:bc::1").key != one_line[0].key
    assert Client("::ffff:198.51.100.7").key == "198.51.100.7"
    assert Client("unknown").key == "unknown"


# --- caps on unconfirmed holds (booking) -----------------------------------------------

def test_holds_are_capped_per_address_email_and_phone_with_the_wait_until_one_lapses():
    policy = SHIPPED.policy
    soon = T0 + timedelta(minutes=6, seconds=30)
    assert booking.holds_refusal({"address": (9, soon), "email": (7, soon),
                                  "phone": (7, soon)}, policy, T0) is None
    for what, field, cap in (("address", None, 10), ("email", "email", 8),
                             ("phone", "phone", 8)):
        refusal = booking.holds_refusal({what: (cap, soon)}, policy, T0)
        assert status_of(refusal) == 429 and refusal.headers["Retry-After"] == "390"
        assert refusal.limit == f"holds_per_{what}"
        [reason] = refusal.as_dict()["reasons"]
        assert (reason["field"], reason["code"]) == (field, f"too_many_holds_{what}")
        assert "7 minutes" in reason["en"] and "7 dəqiqə" in reason["az"]
        assert "confirm one" in reason["en"]
    no_caps = replace(policy, max_holds_per_address=None, max_holds_per_email=None,
                      max_holds_per_phone=None)
    assert booking.holds_refusal({"email": (100, soon)}, no_caps, T0) is None


def test_the_client_address_stays_private_in_booking_requested():
    applicant = booking.Applicant("Leyla", "Məmmədova", "Əli qızı", "AZE12345678",
                                  "+994501234567", "leyla@example.az")
    visit = booking.Visit("baku-1", "passport", T0.date() + timedelta(days=1),
                          datetime(2026, 1, 1, 10, 15).time())
    events = booking.request("7f0c5d6e-0d3a-4c55-9a43-1d2b0f1e2a33", applicant, visit,
                             booking.Counts(), booking.ClosedDay(), "az", "web", "hash", T0,
                             SHIPPED.policy, "203.0.113.9")
    data = BOOKING_EVENTS.normalized(*events[0])
    assert data["client_address"] == "203.0.113.9"
    assert "client_address" not in BOOKING_EVENTS.public_data("BookingRequested", data)


# --- the defaults: an honest family is never stopped ----------------------------------

def family_of_six():
    """Six forms from one address, one email, one phone, in ten minutes: two sent with
    a typo and again, one time taken meanwhile (409) and chosen again; six codes, one
    typed wrong; then one booking cancelled and made again."""
    requests = [0, 20, 60, 61, 120, 180, 240, 300, 360, 600]
    confirms = [100, 200, 201, 260, 320, 380, 420]
    cancels = [900]
    return requests, confirms, cancels


@pytest.mark.parametrize("name, times", [
    ("booking_request", family_of_six()[0] + [910]),
    ("booking_confirm", family_of_six()[1] + [990]),
    ("booking_cancel", family_of_six()[2])])
def test_issue_12_a_family_of_six_is_never_slowed_by_the_booking_defaults(name, times):
    limit = ratelimit.parse(name, service_config("booking")["RATE_LIMITS"][name])
    answers, _ = run(limit, times)
    assert all(answers)


def test_issue_12_the_defaults_cap_a_flood_of_36_requests_in_1_3_seconds():
    limit = ratelimit.parse("booking_request",
                            service_config("booking")["RATE_LIMITS"]["booking_request"])
    answers, _ = run(limit, [1.3 * n / 35 for n in range(36)])
    assert answers.count(True) == 20  # and the hold caps stop these at 10 (per address)
    policy = SHIPPED.policy
    assert policy.max_holds_per_address == 10 and policy.max_holds_per_email >= 6 \
        and policy.max_holds_per_phone >= 6  # a family of six holds six at once


def test_issue_12_complaints_one_person_with_typos_passes_127_in_ten_seconds_do_not():
    defaults = service_config("complaints")["RATE_LIMITS"]
    per_client = ratelimit.parse("complaint_file", defaults["complaint_file"])
    assert all(run(per_client, [0, 30, 60, 90])[0])  # three typos, then filed
    flood, _ = run(per_client, [10 * n / 126 for n in range(127)])
    assert flood.count(True) == 10
    per_email = ratelimit.parse("complaint_file_email", defaults["complaint_file_email"])
    assert run(per_email, [0, 0, 0, 0])[0] == [True, True, True, False]
