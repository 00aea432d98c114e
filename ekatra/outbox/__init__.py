"""The outbox: every message to a learner is a row here before it is sent."""
