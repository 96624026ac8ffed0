"""Readable text of an HTML body: no script, style, head or hidden preheader content comes
through, and the containers mail clients use for the quoted message can be left out."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from bot.mail.body.quotes import normalise


def _tags(names: str) -> frozenset[str]:
    return frozenset(names.split())


_VOID = _tags("area base br col embed hr img input link meta param source track wbr")
_SKIPPED = _tags("script style head title template noscript object iframe svg math xml select")
_HEAD_CONTENT = _tags("title meta link style script base noscript template xml")
_BLOCKS = _tags(
    """address article aside blockquote center dd details div dl dt fieldset figcaption figure
    footer form h1 h2 h3 h4 h5 h6 header li main nav ol p pre section summary table tbody
    thead tfoot tr ul"""
)
# Containers whose whole subtree is the quoted message.
_QUOTE_CLASSES = frozenset(
    {"gmail_quote", "gmail_attr", "yahoo_quoted", "moz-cite-prefix", "protonmail_quote"}
)
_QUOTE_IDS = frozenset({"mail-editor-reference-message-container"})
# Outlook (web and new desktop) marks where the quote starts, then puts the header block and
# the quoted body after it as siblings: everything from the marker on is quote.
_QUOTE_FROM_HERE_IDS = frozenset({"appendonsend", "divrplyfwdmsg"})
_OUTLOOK_SEPARATOR = "_" * 32
# Hidden preheaders live in these; elements whose end tag may be omitted (p, li, td) are not
# skipped, as a missing end tag would hide the rest of the message.
_HIDEABLE = _tags("div span table font")


class _TextExtractor(HTMLParser):
    def __init__(self, *, drop_quotes: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.drop_quotes = drop_quotes
        self.lines: list[str] = []
        self._line: list[str] = []
        self._quote_depth = 0
        self._pre = 0
        self._skip_tag: str | None = None
        self._skip_nesting = 0
        self._stopped = False

    # -- output
    def _break(self, *, force: bool = False) -> None:
        text = "".join(self._line).strip(" ")
        if text or force:
            self.lines.append("> " * self._quote_depth + text if text else "")
        self._line = []

    def text(self) -> str:
        self._break()
        return "\n".join(self.lines)

    # -- skipping
    def _skip(self, tag: str) -> None:
        self._skip_tag, self._skip_nesting = tag, 1

    def _is_quote(self, tag: str, attrs: dict[str, str]) -> bool:
        classes = set(attrs.get("class", "").lower().split())
        ident = attrs.get("id", "").lower()
        return (
            bool(classes & _QUOTE_CLASSES)
            or ident in _QUOTE_IDS
            or (tag == "blockquote" and attrs.get("type", "").lower() == "cite")
        )

    # -- parser callbacks
    def handle_starttag(self, tag: str, attrs_list: list[tuple[str, str | None]]) -> None:
        if self._stopped:
            return
        if self._skip_tag is not None:
            if self._skip_tag == "head" and tag not in _HEAD_CONTENT:
                self._skip_tag = None  # a body tag without </head>: the head has ended
            elif tag == self._skip_tag:
                self._skip_nesting += 1
                return
            else:
                return
        attrs = {name.lower(): (value or "") for name, value in attrs_list}
        if tag in _SKIPPED:
            self._skip(tag)
            return
        if tag in _VOID:
            self._void(tag)
            return
        if tag in _HIDEABLE and "display:none" in attrs.get("style", "").replace(" ", "").lower():
            self._skip(tag)
            return
        if self.drop_quotes:
            if attrs.get("id", "").lower().removeprefix("x_") in _QUOTE_FROM_HERE_IDS:
                self._stopped = True
                return
            if self._is_quote(tag, attrs):
                self._skip(tag)
                return
        if tag in _BLOCKS:
            self._break()
        if tag == "blockquote":
            self._quote_depth += 1
        elif tag == "pre":
            self._pre += 1
        elif tag == "li":
            self._line.append("- ")
        elif tag in ("td", "th") and self._line:
            self._line.append(" ")

    def handle_startendtag(self, tag: str, attrs_list: list[tuple[str, str | None]]) -> None:
        if self._stopped or self._skip_tag is not None:
            return
        if tag in _VOID:
            self._void(tag)
        elif tag in _BLOCKS:
            self._break()

    def _void(self, tag: str) -> None:
        if tag == "br":
            self._break(force=True)
        elif tag == "hr":
            # The plain-text form of Outlook's reply separator, which the text step cuts at
            # (so does an <hr> inside someone's own text: rare, and less text is the safe side).
            self._break()
            self.lines += ["", _OUTLOOK_SEPARATOR]

    def handle_endtag(self, tag: str) -> None:
        if self._stopped:
            return
        if self._skip_tag is not None:
            if tag == self._skip_tag:
                self._skip_nesting -= 1
                if self._skip_nesting == 0:
                    self._skip_tag = None
            return
        if tag in _BLOCKS:
            self._break()
        if tag == "blockquote":
            self._quote_depth = max(0, self._quote_depth - 1)
        elif tag == "pre":
            self._pre = max(0, self._pre - 1)

    def handle_data(self, data: str) -> None:
        if self._stopped or self._skip_tag is not None:
            return
        if self._pre:
            first, *rest = data.split("\n")
            self._line.append(first)
            for line in rest:
                self._break(force=True)
                self._line.append(line)
        else:
            self._line.append(re.sub(r"[ \t\r\n\f]+", " ", data))


def html_to_text(html: str, *, drop_quotes: bool = False) -> str:
    """Readable text of an HTML body; no script, style or head content ever comes through.

    With ``drop_quotes`` the containers clients use for the quoted message are left out.
    Other blockquotes are kept as ``> `` lines either way.
    """
    extractor = _TextExtractor(drop_quotes=drop_quotes)
    try:
        extractor.feed(html)
        extractor.close()
    except Exception:  # html.parser is lenient; this is a last guard, keep what was read
        pass
    return normalise(extractor.text())
