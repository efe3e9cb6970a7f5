"""The library inside every service process: config and the settings object, the
event store and unit of work, the database, the outbox relay, event
consumers, RPC over the broker, AMQP plumbing, metrics, logs and signatures.

Imports ``shared.vocabulary`` and nothing else of shared/.
"""
