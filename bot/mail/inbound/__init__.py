"""Replies by email: every accepted message stored first, then read, checked and answered.

The order of work is what keeps a message from being lost or answered wrongly:

1. ``accept`` (called by the LMTP server before it says 250) stores the raw message in
   ``inbound_mail`` and commits; only then is it acknowledged. A crash after that leaves a
   ``received`` row, processed when the service starts again.
2. One worker processes rows in arrival order (a NEED and the CONFIRM after it must not
   overtake each other). Robots are never answered: bounces update the contact, auto-replies
   and lists are only recorded. A person must present a valid conversation key *and* be a
   contact of the State the reminder was about (or its addressee); anyone else is refused,
   the ISU is told, and the sender gets nothing back: we never mail an address we do not
   know, so forged senders cannot make us spam anyone (backscatter).
3. The conversation core runs in the same transaction that marks the row processed, and the
   mails it answers with are stored in that transaction too (``bot.mail.outgoing``); they
   are sent after the commit, and what cannot be sent then is retried by the timetable. A
   processing error rolls all of that back and marks the row ``failed`` with the error,
   keeping the raw message.

``service`` holds the ``MailService`` (receiving, the worker, the one transaction per message);
``replies`` answers or refuses a person's reply, ``bouncing`` reads delivery reports, and
``reading`` has what both store: headers read safely and the outcome of one message.
"""
