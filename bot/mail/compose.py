"""A reply as an email: plain text and HTML in the reader's language, keyed for the answer.

The conversation key (``bot.mail.tokens``) is signed over ``(message_key, issued)`` and
travels three ways, because some servers and clients drop one or another:

- ``Reply-To: reply+TOKEN@reply-domain`` (our own domain, so its ``+`` is ours to read even
  when the reader's Exchange has no sub-addressing);
- ``Message-ID: <TOKEN@reply-domain>``, also listed in ``References`` so a reply's thread
  headers carry it even from clients that rebuild them from ``References`` alone;
- the subject tag ``[CCM-TOKEN]``.

The same ``(message_key, key, issued)`` always gives the same token, hence the same
Message-ID: a message resent after a crash is recognised as a duplicate by the receiving
server and client, and by ``OutboxTransport.find_sent`` (through ``keyed_message_id``, which
needs no rendering).

Both parts come from one template pair that serves every language: the framing text is
marked ``_()`` in the templates and translated through our catalog (``handlers.i18n``).
Jinja's "newstyle" gettext formats template strings with ``%(name)s`` (Python code uses
``{name}``), and a literal ``%`` in a template string must be written ``%%``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from bot.mail.tokens import message_id_for, reply_address_for, sign_token, subject_tag_for
from handlers.i18n import Translator, _, language_or_default, translator
from handlers.replies import Choice, Reply
from handlers.understanding.keywords import Intent

__all__ = ["keyed_message_id", "render_email"]

# What may follow a keyword, shown after it so the reader sees the answer takes details:
# "NEED …" (a description), "NOT ME colleague@ministry.gov" (an address).
_ELLIPSIS = "…"
_ARGUMENT_EXAMPLES = {
    Intent.NEED: _ELLIPSIS,
    Intent.OFFER: _ELLIPSIS,
    Intent.NOT_ME: _("colleague@ministry.gov"),
}


@dataclass(frozen=True)
class _Answer:
    """One answer as the email shows it: "PAS MOI collegue@ministere.gouv — Pas la bonne…"."""

    example: str
    label: str


def keyed_message_id(message_key: int, *, key: bytes, reply_domain: str, issued: date) -> str:
    """The Message-ID ``render_email`` gives this message, known without rendering it."""
    return message_id_for(sign_token(message_key, key, issued), reply_domain)


def render_email(
    reply: Reply,
    *,
    to: str,
    sender: str,
    message_key: int,
    key: bytes,
    reply_domain: str,
    issued: date,
    in_reply_to: str | None = None,
    list_unsubscribe: str | None = None,
    sent_at: datetime | None = None,
) -> EmailMessage:
    """The reply as a multipart/alternative email keyed for its answer.

    ``message_key`` and ``issued`` must be stable for one message (its id and local day):
    they make the token and so the Message-ID. ``in_reply_to`` is the Message-ID of the
    person's mail when answering it. ``sent_at`` is the Date (now, by default; pass the
    injected clock's time).
    """
    token = sign_token(message_key, key, issued)
    message_id = message_id_for(token, reply_domain)
    language = language_or_default(reply.language)
    values = _template_values(reply, translator(language))
    environment = _environment(language)
    text = environment.get_template("email.txt.j2").render(values)
    html = environment.get_template("email.html.j2").render(values)

    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    # A line break in a title typed by someone must not end the header (or inject another).
    msg["Subject"] = f"{' '.join(reply.subject.split())} {subject_tag_for(token)}"
    msg["Date"] = format_datetime(sent_at or datetime.now(UTC))
    msg["Message-ID"] = message_id
    msg["Reply-To"] = Address(
        parseaddr(sender)[0], addr_spec=reply_address_for(token, reply_domain)
    )
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = f"{in_reply_to} {message_id}"
    else:
        msg["References"] = message_id
    # RFC 3834: tells well-behaved responders (vacation notices, list servers) not to answer;
    # "auto-replied" when we answer a person's mail, "auto-generated" for reminders.
    msg["Auto-Submitted"] = "auto-replied" if in_reply_to else "auto-generated"
    # Exchange and Outlook ignore Auto-Submitted for out-of-office replies; this stops them.
    msg["X-Auto-Response-Suppress"] = "All"
    if list_unsubscribe:
        uris = _angle_bracketed(list_unsubscribe)
        msg["List-Unsubscribe"] = uris
        # RFC 8058 one-click applies only to an HTTPS address; mailto: alone must not claim it.
        if "<https://" in uris.lower():
            msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    # Quoted-printable keeps both parts 7-bit: safe through any relay, still legible raw.
    msg.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    # After the parts: setting content moves or clears Content-* headers.
    msg["Content-Language"] = language
    return msg


def _template_values(reply: Reply, t: Translator) -> dict[str, object]:
    return {
        "language": t.language,
        "subject": reply.subject,
        "intro": reply.intro,
        "sections": reply.sections,
        "fields": reply.fields,
        "field_width": max((len(label) for label, _value in reply.fields), default=0),
        "reference": reply.reference,
        "answers": _answers(reply.choices, t),
        "footer": reply.footer,
    }


def _answers(choices: Sequence[Choice], t: Translator) -> tuple[_Answer, ...]:
    answers = []
    # A choice without a keyword (Slack's Edit button) cannot be typed in a reply.
    for choice in (c for c in choices if c.keyword):
        example = _ARGUMENT_EXAMPLES.get(choice.action)
        shown = choice.keyword
        if example is not None:
            shown = f"{shown} {example if example == _ELLIPSIS else t.gettext(example)}"
        answers.append(_Answer(shown, choice.label))
    return tuple(answers)


def _angle_bracketed(uris: str) -> str:
    """``mailto:a, https://b`` → ``<mailto:a>, <https://b>`` (RFC 2369 form)."""
    parts = [part.strip() for part in uris.split(",") if part.strip()]
    return ", ".join(part if part.startswith("<") else f"<{part}>" for part in parts)


def _paragraphs(value: str) -> list[str]:
    """Text split at blank lines, for one ``<p>`` each."""
    return [part.strip("\n") for part in value.split("\n\n") if part.strip()]


def _nl2br(value: str) -> Markup:
    """Escaped text with its line breaks kept (autoescape does not see inside a filter)."""
    return Markup("<br>\n").join(escape(line) for line in value.split("\n"))


@cache
def _environment(language: str) -> Environment:
    """The templates with one language's catalog installed; built once per language.

    One environment per language rather than one swapped per render: installed gettext
    callables are environment globals, and renders may interleave across threads.
    """
    t = translator(language)
    environment = Environment(
        loader=PackageLoader("bot.mail", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # Added to the environment by the i18n extension, so unknown to the type checker.
    environment.install_gettext_callables(  # type: ignore[attr-defined]
        t.gettext, t.ngettext, newstyle=True
    )
    environment.filters["paragraphs"] = _paragraphs
    environment.filters["nl2br"] = _nl2br
    return environment
