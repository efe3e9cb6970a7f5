"""What every domain says alike: refusals in two languages, canonical identifiers,
names and email addresses, Baku days, the decider's fold, and the language of events
(the envelope, the catalogue of types with their schemas and typed classes, the
email request every service sends notification).

Pure: nothing here imports nameko, a database or a broker client, or another package
of shared/. A service's ``domain.py`` imports only this package of shared/
(tests/unit/test_shared_layers.py).
"""
