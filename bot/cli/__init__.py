"""The ``ccm-bot`` command line: one group, one module per area of work."""

from __future__ import annotations

from bot.cli.base import main
from bot.cli.chat import chat
from bot.cli.digest import digest
from bot.cli.entries import needs, offers
from bot.cli.export import export
from bot.cli.mail import mail
from bot.cli.maintenance import db
from bot.cli.overdue import overdue_command
from bot.cli.overview import overview
from bot.cli.records import contacts, imports
from bot.cli.reminders import deadlines, reminders
from bot.cli.run import run
from bot.cli.states import states
from bot.cli.stats import stats

main.add_command(db)
main.add_command(states)
main.add_command(contacts)
main.add_command(imports)
main.add_command(reminders)
main.add_command(deadlines)
main.add_command(needs)
main.add_command(offers)
main.add_command(overview)
main.add_command(overdue_command)
main.add_command(export)
main.add_command(stats)
main.add_command(chat)
main.add_command(run)
main.add_command(digest)
main.add_command(mail)

__all__ = ["main"]
