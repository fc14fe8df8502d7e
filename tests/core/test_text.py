"""``plain``: escape sequences removed whole, other controls shown as U+FFFD, markup left as text."""

from __future__ import annotations

import logging

from operator_tui.core.text import REPLACEMENT, PlainFormatter, is_plain, plain

HOSTILE = (
    "[/][bold red]red[/bold red][link=file:///etc/passwd]x[/link]"
    "\x1b]0;pwned\x07\x1b[2J\x1b]8;;file:///etc/passwd\x1b\\y\x1b]8;;\x1b\\"
    "\u202eevil\u202c\u2066iso\u2069\x9b2J\x9d0;t\x9c\x07\x08\x7f\ud800"
)


def test_escape_sequences_go_whole_and_markup_stays_text() -> None:
    out = plain(HOSTILE)
    assert "[/][bold red]red[/bold red][link=file:///etc/passwd]x[/link]" in out
    assert "pwned" not in out and "2J" not in out and "etc/passwd\x1b" not in out
    assert "y" in out and "evil" in out and "iso" in out
    assert all(ch.isprintable() for ch in out)
    assert not any(0x80 <= ord(ch) < 0xA0 or 0xD800 <= ord(ch) < 0xE000 for ch in out)
    assert "\u202e" not in out and "\u2066" not in out and REPLACEMENT in out


def test_line_breaks_become_spaces_or_newlines() -> None:
    text = "a\nb\tc\r\nd\u2028e\u2029f\x85g\x0bh"
    assert plain(text) == "a b c  d e f g h"
    assert plain(text, multiline=True) == "a\nb\tc\nd\ne\nf\ng\nh"


def test_long_text_is_cut_with_a_marker_and_printable_text_is_returned_as_is() -> None:
    assert plain("x" * 50, limit=10) == "x" * 9 + "…"
    assert len(plain("y" * 10_000_000, limit=2000)) == 2000
    assert plain("x" * 50, limit=None) == "x" * 50
    same = "10.0.0.1:20160 zone=东京 ü"
    assert plain(same) is same and is_plain(same)
    assert plain(12345) == "12345" and not is_plain("a\x1b[2Jb")


def test_an_escape_split_across_chunks_never_survives() -> None:
    for cut in range(1, 12):
        seq = "\x1b]0;pwned\x07"
        assert "\x1b" not in plain(seq[:cut]) + plain(seq[cut:])


def test_plain_formatter_cleans_messages_and_tracebacks() -> None:
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "store %s", ("\x1b[2Jbad",), None)
    assert PlainFormatter("%(message)s").format(record) == "store bad"
