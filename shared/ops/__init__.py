"""Programs run as ``python -m shared.ops.<name>``: by operators, deploy/bin/run and
the Kubernetes init containers (topology, broker accounts, subscribers, supervision,
signing keys, verifying events, rebuilding read models, dead letters, migrations, the
AsyncAPI contract, alerting). No package of shared/ imports them.
"""
