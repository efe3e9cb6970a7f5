"""Apply every service's SQL migrations (yoyo): ``python -m shared.ops.migrate [service…]``.

Each service also applies its own at start-up (``shared.runtime.db.Database.setup``); this
command lets ``make run`` do it once, up front, and report what it did.
"""
import argparse

from ..runtime.config import REPO_ROOT, SERVICES, service_config
from ..runtime.db import apply_migrations


def main(argv=None):
    """``python -m shared.ops.migrate [service…]`` (default: every service): applies each service's
    pending migrations to its ``DATABASE_URL`` and prints what was applied."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("services", nargs="*", default=list(SERVICES))
    args = parser.parse_args(argv)
    for service in args.services:
        url = service_config(service)["DATABASE_URL"]
        applied = apply_migrations(url, REPO_ROOT / "services" / service / "migrations")
        print(f"migrations: {service}: {len(applied)} applied"
              + (f" ({', '.join(applied)})" if applied else ""))


if __name__ == "__main__":
    main()
