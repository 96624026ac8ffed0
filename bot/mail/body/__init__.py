"""What the person wrote: the new text of a reply, without the quoted reminder.

The quoted reminder contains our own keywords (NEED, SUBMITTED, BESOIN…), so a quote that
leaks into ``ReplyText.text`` would be read as the delegate's answer. Quotes are therefore
removed in layers, each catching what the previous one misses:

1. HTML-only mail: the quote containers clients mark up (Gmail ``gmail_quote``, Apple and
   Thunderbird ``<blockquote type="cite">``, Outlook ``appendonsend``/``divRplyFwdMsg``) are
   dropped before converting to text; any other blockquote becomes ``> `` lines.
2. ``mail-parser-reply`` splits the text at attribution lines and header blocks and removes
   signatures and disclaimers it knows.
3. Narrow post-steps for common patterns it misses (each says why), then every ``>`` line.

Nothing here raises on bad input: a problem is recorded and what can be read is returned.

``reply`` reads a received message into a ``ReplyText``; ``mime`` finds its text parts and
decodes their charsets, ``html_text`` turns HTML into text, and ``quotes`` keeps only the new
text of a plain-text body.
"""
