"""The Twilio-compatible sandbox: a loopback HTTP server for development, demos, tests and benchmarks.

`Sandbox` (server.py) serves Twilio's Messages API, posts signed status callbacks and
simulated learner replies, and shows each phone's conversation at `/`.
`twilio_client` (client.py) points the official SDK at it.
"""

from ekatra.sandbox.client import twilio_client
from ekatra.sandbox.server import Sandbox

__all__ = ["Sandbox", "twilio_client"]
