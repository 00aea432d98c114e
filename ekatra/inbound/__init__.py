"""Twilio webhooks: status callbacks for the messages we sent (and, later, learners' replies)."""
