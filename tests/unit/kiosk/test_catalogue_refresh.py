"""Issue 17 §6: the gateway asks booking for the service catalogue (which carries the
closed days) again every ``CLOSURES_REFRESH_SECONDS``, and keeps the one it has when
booking does not answer (walk-ins go on until the 6-hour TTL)."""
from types import SimpleNamespace

from services.kiosk_gateway import service as gateway


class Booking:
    def __init__(self):
        self.answers = []

    def service_catalogue(self):
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def gateway_with(refresh=60, ttl=6 * 3600):
    settings = SimpleNamespace(CATALOGUE_TTL_SECONDS=ttl, CLOSURES_REFRESH_SECONDS=refresh)
    cache = SimpleNamespace(catalogue=None, fetched_at=0.0, asked_at=0.0)
    fake = SimpleNamespace(settings=settings, cache=cache, booking=Booking())
    fake._refresh_catalogue = lambda: gateway.KioskGatewayService._refresh_catalogue(fake)
    return fake


def catalogue(fake):
    return gateway.KioskGatewayService._catalogue(fake)


def test_the_catalogue_is_asked_again_after_the_refresh_and_kept_when_booking_fails(
        monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(gateway.time, "monotonic", lambda: now[0])
    fake = gateway_with()
    fake.booking.answers = [{"v": 1}, TimeoutError("booking is slow"), {"v": 2}]
    assert catalogue(fake) == {"v": 1}
    now[0] += 30
    assert catalogue(fake) == {"v": 1}  # within the refresh: not asked
    now[0] += 31
    assert catalogue(fake) == {"v": 1}  # asked, failed: the one we have
    now[0] += 30
    assert catalogue(fake) == {"v": 1}  # not asked again before the refresh
    assert fake.booking.answers == [{"v": 2}]
    now[0] += 31
    assert catalogue(fake) == {"v": 2}  # asked again, answered
    assert fake.booking.answers == []
