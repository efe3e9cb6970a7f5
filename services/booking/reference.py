"""Reference data of the booking service: centres, services, opening hours, public
holidays. Loaded from the versioned files in ``data/`` at start-up; pure (no I/O
after loading), so the domain rules can use it in unit tests."""
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

import holidays
import yaml

from shared.vocabulary.clock import baku_datetime

DATA = Path(__file__).resolve().parent / "data"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Service:
    """A service offered at the centres (reference data, ``data/services.yaml``): its code,
    ticket prefix, slot length (minutes), counters (places per slot) and names."""
    code: str
    prefix: str
    slot_minutes: int
    counters: int
    az: str
    en: str

    def as_dict(self):
        """The service as the API shows it (``GET /services``)."""
        return {"code": self.code, "name": {"az": self.az, "en": self.en},
                "slot_minutes": self.slot_minutes, "ticket_prefix": self.prefix}


@dataclass(frozen=True)
class Centre:
    """An ASAN service centre (``data/centres.yaml``): its code, city, names, address,
    weekly opening hours and the services it offers."""
    code: str
    city: str
    az: str
    en: str
    address: str
    hours: dict  # weekday → (opens, closes) as datetime.time
    services: frozenset = field(default_factory=frozenset)

    def as_dict(self):
        """The centre as the API shows it (``GET /centres``): hours as ``{weekday: ["HH:MM",
        "HH:MM"]}``."""
        return {"code": self.code, "city": self.city, "name": {"az": self.az, "en": self.en},
                "address": self.address, "services": sorted(self.services),
                "hours": {day: [opens.strftime("%H:%M"), closes.strftime("%H:%M")]
                          for day, (opens, closes) in self.hours.items()}}


def _time(text):
    return time.fromisoformat(text)


class ReferenceData:
    """The reference data the booking rules read: services, centres, public holidays of
    Azerbaijan (``holidays``) and days closed by decision (``EXTRA_CLOSED_DAYS``)."""
    def __init__(self, services, centres, version, extra_closed_days=()):
        self.services = {service.code: service for service in services}
        self.centres = {centre.code: centre for centre in centres}
        self.version = version
        self.extra_closed_days = frozenset(extra_closed_days)
        self._holidays = holidays.country_holidays("AZ")

    @classmethod
    def load(cls, folder=DATA, extra_closed_days=()):
        """Read ``services.yaml`` and ``centres.yaml`` from ``folder``;
        ``extra_closed_days``: ISO dates closed besides the public holidays."""
        services_doc = yaml.safe_load((Path(folder) / "services.yaml").read_text("utf-8"))
        centres_doc = yaml.safe_load((Path(folder) / "centres.yaml").read_text("utf-8"))
        services = [Service(**item) for item in services_doc["services"]]
        every = frozenset(service.code for service in services)
        centres = []
        for item in centres_doc["centres"]:
            offered = every if item["services"] == "all" else frozenset(item["services"])
            unknown = offered - every
            if unknown:
                raise ValueError(f"centre {item['code']} offers unknown services {unknown}")
            hours = {day: (_time(span[0]), _time(span[1])) for day, span in item["hours"].items()}
            centres.append(Centre(item["code"], item["city"], item["az"], item["en"],
                                  item["address"], hours, offered))
        version = f"services v{services_doc['version']}, centres v{centres_doc['version']}"
        return cls(services, centres, version, [date.fromisoformat(str(day))
                                                for day in extra_closed_days])

    def holiday(self, day):
        """The name of the public holiday on ``day``, or ``None``."""
        if day in self.extra_closed_days:
            return "Non-working day by decision of the Cabinet of Ministers"
        return self._holidays.get(day)

    def hours(self, centre, day):
        """(opens, closes) of ``centre`` on ``day``, or ``None`` when closed."""
        if self.holiday(day):
            return None
        return centre.hours.get(WEEKDAYS[day.weekday()])

    def slot_times(self, centre, service, day):
        """Start times of the slots of ``service`` at ``centre`` on ``day``."""
        hours = self.hours(centre, day)
        if hours is None or service.code not in centre.services:
            return []
        opens, closes = (datetime.combine(day, moment) for moment in hours)
        step = timedelta(minutes=service.slot_minutes)
        times, moment = [], opens
        while moment + step <= closes:
            times.append(moment.time())
            moment += step
        return times


def slot_start(day, moment):
    """The instant a slot of ``day`` at ``moment`` (Baku wall-clock) starts."""
    return baku_datetime(day, moment)
