"""Questions people ask the bot: who needs what, who can help, who is late, what falls due.

One place answers them, for every channel (a Slack DM or ``/ccm`` command, an email reply,
``ccm-bot chat``, the command line):

- ``parsing`` and ``words`` read a question in English, French or Spanish into a ``Question``;
- ``routing`` decides whether a turn is a question at all (``is_question``);
- ``listings``, ``state``, ``overdue`` and ``figures`` answer each kind of question, with what
  the asker may see (``storage.visibility``, through ``storage.listings``);
- ``answering`` puts an answer together as a channel-neutral ``Reply`` whose choices (*More*,
  *Show the names*, *Share*) carry the question to ask again (``ask.Ask``);
- ``wording`` says how a question was understood; ``exports`` writes tables that re-import.

Who sees what: any contact may list needs and offers, look at a State, at overdue reports,
deadlines and the yearly figures — public treaty facts. Reminder counts are shown to the
Coordinators, the ISU and the State's own delegates; the States behind the figures and contact
exports to the Coordinators and the ISU only. A shared answer is for everyone in the channel,
so it shows what any delegate may see (``channel_audience``).
"""

from handlers.questions.answering import (
    answer,
    answer_ask,
    answer_question,
    ask_of,
    examples,
    share,
)
from handlers.questions.ask import (
    MAX_CHOICE_VALUE,
    TOPICS,
    Ask,
    Asker,
    asker_of,
    channel_audience,
    clip_words,
    viewer_of,
)
from handlers.questions.exports import ExportKind, export_rows, export_table
from handlers.questions.listings import entry_section
from handlers.questions.overdue import overdue_reports, upcoming_deadlines
from handlers.questions.parsing import Question, Resolver, parse_filters, parse_question
from handlers.questions.routing import is_question
from handlers.questions.state import deadline_lines, report_lines
from handlers.questions.wording import (
    DEFAULT_MONTHS,
    describe,
    describe_question,
    found_text,
    last_due_year,
)
from handlers.questions.words import Topic
from storage.listings import Filters

__all__ = [
    "DEFAULT_MONTHS",
    "MAX_CHOICE_VALUE",
    "TOPICS",
    "Ask",
    "Asker",
    "ExportKind",
    "Filters",
    "Question",
    "Resolver",
    "Topic",
    "answer",
    "answer_ask",
    "answer_question",
    "ask_of",
    "asker_of",
    "channel_audience",
    "clip_words",
    "deadline_lines",
    "describe",
    "describe_question",
    "entry_section",
    "examples",
    "export_rows",
    "export_table",
    "found_text",
    "is_question",
    "last_due_year",
    "overdue_reports",
    "parse_filters",
    "parse_question",
    "report_lines",
    "share",
    "upcoming_deadlines",
    "viewer_of",
]
