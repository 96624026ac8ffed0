"""The ``ccm-bot`` command line: one group, one module per area of work."""

from __future__ import annotations

from bot.cli.base import main
from bot.cli.chat import chat
from bot.cli.maintenance import db
from bot.cli.records import contacts, imports
from bot.cli.reminders import deadlines, reminders
from bot.cli.run import run
from bot.cli.states import states

main.add_command(db)
main.add_command(states)
main.add_command(contacts)
main.add_command(imports)
main.add_command(reminders)
main.add_command(deadlines)
main.add_command(chat)
main.add_command(run)

__all__ = ["main"]
