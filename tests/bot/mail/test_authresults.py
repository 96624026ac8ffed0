"""Authentication-Results: only our own MTA's topmost field is read, whatever else is there."""

from __future__ import annotations

from email import message_from_string, policy

import pytest

from bot.mail.authresults import AuthResults, read_auth_results

OURS = frozenset({"mx.ccm.example.org"})


def results(*fields: str, trusted: frozenset[str] = OURS) -> AuthResults:
    head = "".join(f"Authentication-Results: {field}\n" for field in fields)
    msg = message_from_string(f"{head}From: a@b.example\n\nhi\n", policy=policy.default)
    return read_auth_results(msg, trusted)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            ["mx.ccm.example.org; spf=pass smtp.mailfrom=a@b.example; dkim=pass; dmarc=pass"],
            AuthResults("pass", "pass", "pass"),
        ),
        # rspamd and Gmail put everything in one field; case and spacing vary.
        (
            ["MX.CCM.Example.ORG 1;\n DKIM = fail header.d=b.example; DMARC=Fail (p=REJECT)"],
            AuthResults(None, "fail", "fail"),
        ),
        # Two DKIM signatures: one that verifies authenticates the message.
        (
            ["mx.ccm.example.org; dkim=fail header.d=x.example; dkim=pass header.d=b.example"],
            AuthResults(None, "pass", None),
        ),
        # Comments (nested too) and quoted reasons may hold ";" and "=".
        (
            ['mx.ccm.example.org; spf=softfail (sender (not) ok; x=y) reason="a;b=c"; dmarc=none'],
            AuthResults("softfail", None, "none"),
        ),
        (["mx.ccm.example.org; none"], AuthResults()),
        # The topmost field is someone else's: our verdict, lower down, is not trusted either.
        (["mx.elsewhere.example; dmarc=pass", "mx.ccm.example.org; dmarc=fail"], AuthResults()),
        # Below ours, a sender's invention is never read.
        (
            ["mx.ccm.example.org; dmarc=fail", "mx.ccm.example.org; spf=pass; dmarc=pass"],
            AuthResults(None, None, "fail"),
        ),
        ([], AuthResults()),
        (["garbage without structure"], AuthResults()),
        (["mx.ccm.example.org; dmarc=" + "x" * 40], AuthResults(None, None, "x" * 16)),
    ],
)
def test_read_auth_results(fields: list[str], expected: AuthResults) -> None:
    assert results(*fields) == expected


def test_nothing_is_read_without_a_trusted_authserv_id() -> None:
    assert results("mx.ccm.example.org; dmarc=fail", trusted=frozenset()) == AuthResults()
