"""`ekatra sandbox`: run the Twilio-compatible sandbox in the foreground."""

from __future__ import annotations

import signal
import threading

import click

from ekatra.config import SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN

DEFAULT_INBOUND_URL = "http://127.0.0.1:5000/twilio/inbound"
MAX_LOGGED_BODY_CHARS = 80


def _log_message(message: dict) -> None:
    body = message["body"].replace("\n", " ")
    if len(body) > MAX_LOGGED_BODY_CHARS:
        body = body[: MAX_LOGGED_BODY_CHARS - 1] + "…"
    click.echo(f"{message['date_created']:%H:%M:%S} {message['sid']} → {message['to']}: {body}")


@click.command("sandbox")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8765, show_default=True, type=int, help="0 picks a free port.")
@click.option("--latency-ms", default=0.0, show_default=True, type=click.FloatRange(min=0),
              help="How long each send waits before it is answered.")
@click.option("--fail-rate", default=0.0, show_default=True, type=click.FloatRange(0, 1),
              help="Fraction of sends answered with a 500.")
@click.option("--inbound-url", default=DEFAULT_INBOUND_URL, show_default=True,
              help="Where simulated learner replies are posted (empty: nowhere).")
@click.option("--account-sid", default=SANDBOX_ACCOUNT_SID, show_default=True)
@click.option("--auth-token", default=SANDBOX_AUTH_TOKEN, show_default=True)
@click.option("--callbacks/--no-callbacks", default=True, show_default=True,
              help="Post status callbacks (sent, delivered) to each message's StatusCallback.")
@click.option("--whatsapp-window-seconds", default=86400.0, show_default=True, type=click.FloatRange(min=0),
              help="WhatsApp's customer-service window: free-form messages to a learner who has not "
                   "written for this long fail with 63016 (0: no window).")
@click.option("--quiet", is_flag=True, help="Do not print each message.")
def sandbox_command(host: str, port: int, latency_ms: float, fail_rate: float, inbound_url: str,
                    account_sid: str, auth_token: str, callbacks: bool, whatsapp_window_seconds: float,
                    quiet: bool):
    """Run a Twilio-compatible sandbox: the Messages API, status callbacks, simulated replies."""
    from ekatra.sandbox.server import Sandbox

    sandbox = Sandbox(host=host, port=port, account_sid=account_sid, auth_token=auth_token,
                      latency_ms=latency_ms, fail_rate=fail_rate, inbound_url=inbound_url or None,
                      callbacks=callbacks, on_message=None if quiet else _log_message,
                      whatsapp_window_seconds=whatsapp_window_seconds or None)
    try:
        sandbox.start()
    except OSError as error:
        raise click.ClickException(f"cannot listen on {host}:{port}: {error}") from None
    stopping = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stopping.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    click.echo("")
    click.echo(f"  Twilio sandbox:  {sandbox.url}/  (open it to watch the conversations)")
    click.echo(f"  Replies go to:   {sandbox.inbound_url or '(nowhere)'}")
    click.echo("  Point the app at it with:")
    click.echo(f"    export TWILIO_API_BASE_URL={sandbox.url}")
    click.echo(f"    export TWILIO_ACCOUNT_SID={account_sid}")
    click.echo(f"    export TWILIO_AUTH_TOKEN={auth_token}")
    click.echo("  Press Ctrl-C to stop.")
    click.echo("")
    try:
        stopping.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sandbox.stop()
        click.echo(f"Sandbox stopped after {sandbox.count()} messages.")
