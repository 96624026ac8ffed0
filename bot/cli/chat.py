"""``ccm-bot chat --as EMAIL``: the conversation core in a terminal, a third channel.

ISU staff can try every conversation without a Slack workspace, and tests can drive it. A
question ("who needs help with clearance in Africa?") is answered here as on Slack and by
email: the conversation core decides, and answers with what the speaker may see.
"""

from __future__ import annotations

import click

from bot.cli.base import Env, Failure, with_store
from handlers.conversation import Conversation
from handlers.replies import Handover, Reply
from handlers.turns import Turn, identify
from schedules.zones import resolve_zone
from storage.models import Via


def render_for_terminal(reply: Reply) -> str:
    """The reply, and its choices as the words to type, all in the reader's language: a choice
    with no typed form (Slack's *Edit*) is left out, as email leaves it out."""
    typed = [choice for choice in reply.choices if choice.keyword]
    lines = [reply.text]
    if typed:
        lines.append("")
        lines.extend(f"  [{choice.keyword}] {choice.label}" for choice in typed)
    return "\n".join(lines)


@click.command()
@click.option("--as", "email", required=True, help="Speak as the contact with this email address.")
@click.option(
    "--about", help="The reminder being answered, as ISO3:item (e.g. FRA:art7-annual-2026)."
)
@with_store
async def chat(env: Env, email: str, about: str | None) -> None:
    """Talk to the bot in the terminal as a contact (type a blank line or Ctrl-D to stop)."""
    zone = resolve_zone(env.settings.timezone).key
    async with env.store.transaction() as session:
        speaker = await identify(session, fallback_zone=zone, email=email)
    t = env.t
    if speaker is None:
        raise Failure(
            t.gettext(
                "{email} is not an active contact; add it with `ccm-bot contacts import FILE` "
                "first",
                email=email,
            )
        )

    async def tell_the_isu(note: Handover) -> None:
        # Whoever types here is the ISU (or speaks for it): the note is shown, not mailed.
        click.echo(t.gettext("Note for the ISU: {note}", note=note.render(t)))

    conversation = Conversation(
        env.store, env.clock, env.settings.reminders.snooze_days, notify_isu=tell_the_isu
    )
    click.echo(
        t.gettext(
            "Speaking as {name} ({who}), in {language}.",
            name=speaker.name,
            who=speaker.state or speaker.role,
            language=speaker.language,
        )
    )
    you = t.gettext("you")
    while True:
        try:
            text = click.prompt(you, default="", show_default=False, prompt_suffix="> ")
        except (EOFError, click.Abort):
            break
        if not text.strip():
            break
        reply = await conversation.handle(
            Turn(speaker=speaker, via=Via.TERMINAL, text=text, about=about)
        )
        click.echo(render_for_terminal(reply))
