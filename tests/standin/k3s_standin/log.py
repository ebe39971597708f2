"""logrus text-format logging on stderr, as K3s prints it when stderr is not a terminal.

A line is ``time="2026-12-03T16:00:00Z" level=info msg="Starting k3s"``. Values are written bare when they
only hold "safe" characters and as a Go ``%q`` string otherwise (logrus TextFormatter.needsQuoting), and an
empty message drops the ``msg`` field. Timestamps are UTC: logrus prints local time, which is the same on
the UTC hosts the tests use.
"""
from __future__ import annotations

import datetime as dt
import os
import sys
import threading
from typing import NoReturn, TextIO

LEVELS = ("debug", "info", "warning", "error", "fatal")

_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._/@^+")
_SHORT_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}

_lock = threading.Lock()
_debug = False
_stream: TextIO | None = None  # None = the current sys.stderr (pytest swaps it per test)


def set_debug(enabled: bool) -> None:
    """``--debug`` / ``K3S_DEBUG``: debug lines are dropped unless enabled."""
    global _debug
    _debug = bool(enabled)


def debug_enabled() -> bool:
    return _debug


def set_stream(stream: TextIO | None) -> None:
    """Redirect log output (None restores stderr)."""
    global _stream
    _stream = stream


def go_quote(text: str) -> str:
    """Go ``strconv.Quote``: printable runes stay, the rest is escaped."""
    out = ['"']
    for ch in text:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[ch])
        elif ch.isprintable():
            out.append(ch)
        elif ord(ch) < 0x80:
            out.append(f"\\x{ord(ch):02x}")
        elif 0xD800 <= ord(ch) <= 0xDFFF:
            # A lone surrogate comes from undecodable bytes; Go shows the replacement rune's escape.
            out.append("\\ufffd")
        elif ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    out.append('"')
    return "".join(out)


def _value(text: str) -> str:
    if text and all(ch in _SAFE for ch in text):
        return text
    return go_quote(text)


def _timestamp(now: dt.datetime | None) -> str:
    moment = now or dt.datetime.now(dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_line(level: str, msg: str, now: dt.datetime | None = None) -> str:
    """One logrus line without the trailing newline."""
    parts = [f"time={_value(_timestamp(now))}", f"level={level}"]
    if msg:
        parts.append(f"msg={_value(msg)}")
    return " ".join(parts)


def _emit(level: str, msg: str) -> None:
    line = format_line(level, msg) + "\n"
    stream = _stream or sys.stderr
    with _lock:
        stream.write(line)
        stream.flush()


def debug(msg: str) -> None:
    if _debug:
        _emit("debug", msg)


def info(msg: str) -> None:
    _emit("info", msg)


def warn(msg: str) -> None:
    _emit("warning", msg)


# logrus names the level "warning"; both spellings are offered to callers.
warning = warn


def error(msg: str) -> None:
    _emit("error", msg)


def fatal_line(msg: str) -> None:
    """A line at level=fatal without exiting: the ``run()`` functions of the subcommands return 1 instead."""
    _emit("fatal", msg)


def fatal(msg: str) -> NoReturn:
    """logrus.Fatal: log at level=fatal and exit 1.

    From a worker thread SystemExit would only end that thread, so the process is ended directly.
    """
    _emit("fatal", msg)
    if threading.current_thread() is threading.main_thread():
        raise SystemExit(1)
    sys.stdout.flush()
    os._exit(1)
