"""Block Kit builders: replies, reminders, forms and the Home tab as Slack shows them.

Everything here is a pure function of its arguments. Text a person typed is escaped before it
reaches mrkdwn (``<!channel>`` stays text, ``<http://evil|click>`` stays visible), and
Slack's limits are kept here rather than discovered as ``invalid_blocks`` in production:
long texts end in "…", messages keep to 50 blocks and views to 100. ``text`` holds the limits
and the escaping every builder shares; ``replies``, ``forms`` and ``home`` one surface each.
"""
