"""The sandbox's web page: each phone's conversation, newest activity first, with a reply form."""

from __future__ import annotations

from html import escape

from ekatra.sandbox.store import OUTBOUND, SandboxMessage

MAX_CONVERSATIONS_SHOWN = 200
MAX_MESSAGES_SHOWN = 50

_STYLE = """
body { font-family: system-ui, "Noto Sans", "Noto Sans Devanagari", sans-serif; margin: 1.5rem;
       background: #f4f5f7; color: #1d2330; }
header p { color: #555; margin: .2rem 0; }
code { background: #e8eaef; padding: 0 .25rem; border-radius: 3px; }
.phones { display: grid; grid-template-columns: repeat(auto-fill, minmax(22rem, 1fr)); gap: 1rem; }
section { background: #fff; border-radius: 8px; padding: .8rem; box-shadow: 0 1px 3px #0002; }
h2 { font-size: 1rem; margin: 0 0 .5rem; }
ol { list-style: none; padding: 0; margin: 0 0 .6rem; max-height: 28rem; overflow-y: auto; }
li { margin: .35rem 0; padding: .4rem .6rem; border-radius: 8px; max-width: 88%;
     white-space: pre-wrap; overflow-wrap: anywhere; }
li.out { background: #e3edff; }
li.in { background: #dcf5dc; margin-left: auto; }
li small { display: block; color: #667; font-size: .75rem; white-space: normal; }
form { display: flex; gap: .4rem; }
form input[name=body] { flex: 1; }
form.button { display: inline-flex; margin: .3rem .3rem 0 0; }
input, button { font: inherit; padding: .3rem .5rem; }
"""

_SCRIPT = """
let version = %d;
setInterval(async () => {
  const typing = [...document.querySelectorAll("input[name=body]")].some((i) => i.value);
  if (typing) return;
  try {
    const activity = await (await fetch("/sandbox/activity.json")).json();
    if (activity.version !== version) location.reload();
  } catch (error) { /* the sandbox stopped: keep the last page */ }
}, 2000);
"""


def _message_item(message: SandboxMessage) -> str:
    is_outbound = message.direction == OUTBOUND
    when = message.date_created.strftime("%Y-%m-%d %H:%M:%S UTC")
    meta = f"{'→' if is_outbound else '←'} {when} · {message.status} · {message.sid}"
    if is_outbound and message.num_segments > 1:
        meta += f" · {message.num_segments} segments"
    if message.content_sid:
        meta += f" · template {message.content_sid} {message.content_variables or {}}"
    if message.error_code:
        meta += f" · error {message.error_code}"
    if message.button_payload is not None:
        meta += f" · tapped {message.button_payload!r}"
    buttons = "".join(
        '<form method="post" action="/sandbox/reply" class="button">'
        f'<input type="hidden" name="from" value="{escape(message.to)}">'
        f'<input type="hidden" name="button" value="{escape(button_id)}">'
        f'<input type="hidden" name="next" value="/"><button>{escape(title)}</button></form>'
        for title, button_id in message.buttons)
    return (f'<li class="{"out" if is_outbound else "in"}">{escape(message.body)}'
            f"<small>{escape(meta)}</small>{buttons}</li>")


def _reply_form(learner: str, to: str | None = None) -> str:
    to_field = f'<input type="hidden" name="to" value="{escape(to)}">' if to else ""
    return ('<form method="post" action="/sandbox/reply">'
            f'<input type="hidden" name="from" value="{escape(learner)}">{to_field}'
            '<input type="hidden" name="next" value="/">'
            '<input name="body" placeholder="Reply as this learner" required autocomplete="off">'
            "<button>Send</button></form>")


def _conversation(learner: str, messages: list[SandboxMessage]) -> str:
    shown = messages[-MAX_MESSAGES_SHOWN:]
    earlier = len(messages) - len(shown)
    note = f"<p><small>{earlier} earlier messages not shown</small></p>" if earlier else ""
    last_outbound = next((m for m in reversed(messages) if m.direction == OUTBOUND), None)
    items = "".join(_message_item(m) for m in shown)
    return (f"<section><h2>{escape(learner)}</h2>{note}<ol>{items}</ol>"
            f"{_reply_form(learner, last_outbound.from_ if last_outbound else None)}</section>")


def render_page(*, url: str, account_sid: str, version: int, outbound_count: int,
                conversations: list[tuple[str, list[SandboxMessage]]], inbound_url: str | None) -> str:
    """The whole page. Every piece of text is escaped; the page refreshes itself on new activity."""
    shown = conversations[:MAX_CONVERSATIONS_SHOWN]
    sections = "".join(_conversation(learner, messages) for learner, messages in shown) or (
        "<p>No messages yet. Point the app at this sandbox and start a delivery.</p>")
    inbound = (f"Replies go to <code>{escape(inbound_url)}</code>." if inbound_url
               else "No inbound URL: replies are recorded here only.")
    new_conversation = (
        '<form method="post" action="/sandbox/reply">'
        '<input name="from" placeholder="+919812345678 or whatsapp:+…" required>'
        '<input type="hidden" name="next" value="/">'
        '<input name="body" placeholder="Message from a learner" required autocomplete="off">'
        "<button>Send</button></form>"
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Ekatra sandbox</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<noscript><meta http-equiv="refresh" content="2"></noscript>
<style>{_STYLE}</style></head>
<body><header><h1>Ekatra sandbox</h1>
<p>Twilio API at <code>{escape(url)}</code> for account <code>{escape(account_sid)}</code>.
{outbound_count} messages sent to {len(conversations)} phones. {inbound}</p>
<p>A learner texts in:</p>{new_conversation}</header>
<main class="phones">{sections}</main>
<script>{_SCRIPT % version}</script>
</body></html>"""
