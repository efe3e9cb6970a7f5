"""Common code of every service, in four packages, lowest first (a package imports
only those before it):

* ``shared.vocabulary``: what every domain says alike (refusals, identifiers, names,
  email addresses, Baku days, the envelope and catalogue of events); pure, a
  service's domain.py imports only this;
* ``shared.runtime``: the library inside every service process (config, settings,
  event store, database, relay, consumers, RPC, metrics, logs);
* ``shared.edge``: the HTTP edge (input boundary, JSON entrypoints and the one error
  mapper, clients, rate limits, idempotency, OpenAPI, platform endpoints);
* ``shared.ops``: programs run as ``python -m shared.ops.<name>``.

Nothing in here knows about bookings, FINs or complaints.
"""
import os
import warnings

# psycopg 3's C wait function blocks the eventlet hub, which serializes every nameko
# worker that touches the database (ten concurrent pg_sleep(0.5) took 5 s instead of
# 0.5 s). The pure-Python select() wait is green once eventlet has patched select.
# This must run before psycopg is first imported, hence here.
os.environ.setdefault("PSYCOPG_WAIT_FUNC", "wait_select")

# eventlet warns at every import that it is in maintenance mode; nameko 2.14 (the
# decided stack) runs on it. The warning says nothing an operator can act on.
warnings.filterwarnings("ignore", message="\\s*Eventlet is deprecated")
