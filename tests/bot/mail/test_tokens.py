"""Conversation keys: signing, verifying, and finding them in what mail clients send back."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest

from bot.mail.body.reply import parse_message
from bot.mail.tokens import (
    TOKEN_LENGTH,
    InvalidToken,
    find_token,
    message_id_for,
    reply_address_for,
    sign_token,
    subject_tag_for,
    verify_token,
)

KEY = b"ccm-test-key-not-secret"
ISSUED = date(2027, 3, 31)
# sign_token(4217, KEY, ISSUED): the key every corpus message refers to.
CORPUS_TOKEN = "aaaaaedzkgwmgwhwc75x6sop"
CORPUS = Path(__file__).parent / "corpus"
BASE32 = "abcdefghijklmnopqrstuvwxyz234567"
DOMAIN = "reply.ccm.example.org"


# --------------------------------------------------------------------------- sign and verify


@pytest.mark.parametrize("delivery_id", [0, 1, 4217, 10**9, 2**40 - 1])
@pytest.mark.parametrize("issued", [date(1970, 1, 1), ISSUED, date(2149, 6, 6)])
def test_round_trip(delivery_id: int, issued: date) -> None:
    token = sign_token(delivery_id, KEY, issued)

    assert len(token) == TOKEN_LENGTH <= 40
    assert re.fullmatch(r"[a-z2-7]+", token)
    assert verify_token(token, KEY, today=issued) == delivery_id


def test_corpus_token_is_what_the_sender_would_issue() -> None:
    assert sign_token(4217, KEY, ISSUED) == CORPUS_TOKEN


@pytest.mark.parametrize("transform", [str.upper, str.title, lambda t: f"  {t}\n"])
def test_servers_changing_case_or_adding_space_do_not_matter(
    transform: Callable[[str], str],
) -> None:
    assert verify_token(transform(CORPUS_TOKEN), KEY, today=ISSUED) == 4217


@pytest.mark.parametrize("position", range(TOKEN_LENGTH))
def test_changing_any_character_breaks_the_signature(position: int) -> None:
    original = CORPUS_TOKEN[position]
    replacement = BASE32[(BASE32.index(original) + 1) % len(BASE32)]
    tampered = CORPUS_TOKEN[:position] + replacement + CORPUS_TOKEN[position + 1 :]

    with pytest.raises(InvalidToken) as caught:
        verify_token(tampered, KEY, today=ISSUED)
    assert caught.value.reason == "bad-signature"


def test_wrong_key_is_a_bad_signature() -> None:
    with pytest.raises(InvalidToken) as caught:
        verify_token(CORPUS_TOKEN, b"another key", today=ISSUED)
    assert caught.value.reason == "bad-signature"


@pytest.mark.parametrize(
    ("age_days", "max_age_days", "valid"),
    [(0, 400, True), (400, 400, True), (401, 400, False), (31, 30, False), (-1, 400, True)],
)
def test_expiry_edges(age_days: int, max_age_days: int, valid: bool) -> None:
    today = ISSUED + timedelta(days=age_days)
    if valid:
        assert verify_token(CORPUS_TOKEN, KEY, today=today, max_age_days=max_age_days) == 4217
    else:
        with pytest.raises(InvalidToken) as caught:
            verify_token(CORPUS_TOKEN, KEY, today=today, max_age_days=max_age_days)
        assert caught.value.reason == "expired"


def test_signature_is_checked_before_age() -> None:
    """A forged key must not learn whether its date field was accepted."""
    forged = "a" * TOKEN_LENGTH
    with pytest.raises(InvalidToken) as caught:
        verify_token(forged, KEY, today=date(2999, 1, 1))
    assert caught.value.reason == "bad-signature"


@pytest.mark.parametrize(
    "token",
    [
        "",
        "abc",
        CORPUS_TOKEN[:-1],
        CORPUS_TOKEN + "a",
        CORPUS_TOKEN[:-1] + "1",  # not base32
        CORPUS_TOKEN[:-1] + "=",
        CORPUS_TOKEN[:10] + " " + CORPUS_TOKEN[11:],
        CORPUS_TOKEN[:-1] + "é",
        "reply+" + CORPUS_TOKEN,
    ],
)
def test_malformed(token: str) -> None:
    with pytest.raises(InvalidToken) as caught:
        verify_token(token, KEY, today=ISSUED)
    assert caught.value.reason == "malformed"


@pytest.mark.parametrize(
    ("delivery_id", "key", "issued"),
    [
        (-1, KEY, ISSUED),
        (2**40, KEY, ISSUED),
        (1, b"", ISSUED),
        (1, KEY, date(1969, 12, 31)),
        (1, KEY, date(2149, 6, 7)),
    ],
)
def test_sign_rejects_what_it_cannot_encode(delivery_id: int, key: bytes, issued: date) -> None:
    with pytest.raises(ValueError, match=r"range|empty"):
        sign_token(delivery_id, key, issued)


def test_sender_helpers() -> None:
    assert message_id_for(CORPUS_TOKEN, DOMAIN) == f"<{CORPUS_TOKEN}@{DOMAIN}>"
    assert reply_address_for(CORPUS_TOKEN, DOMAIN) == f"reply+{CORPUS_TOKEN}@{DOMAIN}"
    assert subject_tag_for(CORPUS_TOKEN) == f"[CCM-{CORPUS_TOKEN}]"


# --------------------------------------------------------------------------- finding the key

OTHER = sign_token(99, KEY, ISSUED)


def message(headers: str) -> EmailMessage:
    return parse_message(headers.strip().encode() + b"\n\nbody\n")


@pytest.mark.parametrize(
    ("headers", "envelope", "expected"),
    [
        pytest.param(f"To: CCM <reply+{CORPUS_TOKEN}@{DOMAIN}>", (), CORPUS_TOKEN, id="to"),
        pytest.param(
            f"To: someone@example.org\nCc: reply+{CORPUS_TOKEN}@{DOMAIN}", (), CORPUS_TOKEN, id="cc"
        ),
        pytest.param(f"Delivered-To: reply+{CORPUS_TOKEN}@{DOMAIN}", (), CORPUS_TOKEN, id="dt"),
        pytest.param(f"X-Original-To: reply+{CORPUS_TOKEN}@{DOMAIN}", (), CORPUS_TOKEN, id="xot"),
        pytest.param(
            f"To: REPLY+{CORPUS_TOKEN.upper()}@{DOMAIN.upper()}", (), CORPUS_TOKEN, id="upper"
        ),
        pytest.param(
            "To: ccm@example.org",
            (f"reply+{CORPUS_TOKEN}@{DOMAIN}",),
            CORPUS_TOKEN,
            id="lmtp-envelope-only",
        ),
        pytest.param(
            f"To: reply+{OTHER}@{DOMAIN}",
            (f"reply+{CORPUS_TOKEN}@{DOMAIN}",),
            CORPUS_TOKEN,
            id="envelope-wins-over-header",
        ),
        pytest.param(
            f"To: ccm@example.org\nIn-Reply-To: <{CORPUS_TOKEN}@{DOMAIN}>",
            (),
            CORPUS_TOKEN,
            id="in-reply-to",
        ),
        pytest.param(
            f"To: ccm@example.org\nReferences: <{OTHER}@{DOMAIN}> <a@b.example>\n"
            f" <{CORPUS_TOKEN}@{DOMAIN}> <CAF=x@mail.gmail.com>",
            (),
            CORPUS_TOKEN,
            id="references-newest-first",
        ),
        pytest.param(
            f"To: ccm@example.org\nSubject: RE: [CCM-{CORPUS_TOKEN.upper()}] RAPPORT",
            (),
            CORPUS_TOKEN,
            id="uppercased-subject",
        ),
        pytest.param(
            "To: ccm@example.org\n"
            f"Subject: =?utf-8?Q?RE=C2=A0:_[CCM-{CORPUS_TOKEN}]_R=C3=A9ponse?=",
            (),
            CORPUS_TOKEN,
            id="encoded-word-subject",
        ),
        pytest.param(f"To: noreply+{CORPUS_TOKEN}@{DOMAIN}", (), None, id="noreply-is-not-reply"),
        pytest.param(f"To: reply+{CORPUS_TOKEN}a@{DOMAIN}", (), None, id="too-long"),
        pytest.param(f"Subject: [CCM-{CORPUS_TOKEN[:-1]}]", (), None, id="too-short"),
        pytest.param("To: ccm@example.org\nSubject: Re: report", (), None, id="none"),
    ],
)
def test_find_token(headers: str, envelope: tuple[str, ...], expected: str | None) -> None:
    assert find_token(message(headers), envelope) == expected


CORPUS_TOKENS = {
    "mailing_list": None,
    # Everything else carries the key somewhere: in the address, the thread headers, the
    # subject only (outlook_web_es), or only in the returned original (bounce_soft_422).
}


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.eml")), ids=lambda path: path.stem)
def test_find_token_in_corpus(path: Path) -> None:
    token = find_token(parse_message(path.read_bytes()))

    expected = CORPUS_TOKENS.get(path.stem, CORPUS_TOKEN)
    assert token == expected
    if token is not None:
        assert verify_token(token, KEY, today=date(2027, 4, 2)) == 4217
