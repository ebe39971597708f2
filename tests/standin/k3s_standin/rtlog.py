"""Logging for the runtime modules, delegating to the CLI engineer's ``log`` module when present.

``log`` (DESIGN.md) prints logrus text lines on stderr. This adapter keeps the runtime independent of
that module's exact function names while it is being written: it uses ``log.<level>(msg)`` when such a
function exists and otherwise formats the same logrus line itself.
"""
from __future__ import annotations

import datetime as dt
import sys
import threading
from typing import Callable

try:  # the CLI engineer's module; optional so that the runtime works on its own in unit tests
    from . import log as _log  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - depends on the tree state
    _log = None

_lock = threading.Lock()
_SAFE = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._/@^+")
debug_enabled = False


def _quote(value: str) -> str:
    """logrus TextFormatter quoting: bare when only 'safe' characters, else a Go %q string."""
    if value and all(ch in _SAFE for ch in value):
        return value
    out = []
    for ch in value:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ord(ch) < 0x20:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _line(level: str, msg: str) -> str:
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f'time="{now}" level={level} msg={_quote(msg)}'


def _emit(level: str, msg: str) -> None:
    fn: Callable[[str], object] | None = getattr(_log, level, None) if _log is not None else None
    if level == "warning" and fn is None and _log is not None:
        fn = getattr(_log, "warn", None)
    if fn is not None and level != "fatal":
        fn(msg)
        return
    with _lock:
        sys.stderr.write(_line(level, msg) + "\n")
        sys.stderr.flush()


def debug(msg: str) -> None:
    if debug_enabled:
        _emit("debug", msg)
        return
    if _log is not None and getattr(_log, "debug_enabled", lambda: False)():
        _emit("debug", msg)


def info(msg: str) -> None:
    _emit("info", msg)


def warning(msg: str) -> None:
    _emit("warning", msg)


def error(msg: str) -> None:
    _emit("error", msg)


def fatal_line(msg: str) -> None:
    """Print a fatal-level line without exiting: ``run()`` functions return 1 to their caller."""
    if _log is not None and hasattr(_log, "format_line"):
        stream = getattr(_log, "_stream", None) or sys.stderr
        with _lock:
            stream.write(_log.format_line("fatal", msg) + "\n")
            stream.flush()
        return
    _emit("fatal", msg)


def set_debug(enabled: bool) -> None:
    global debug_enabled
    debug_enabled = enabled
    if _log is not None and hasattr(_log, "set_debug"):
        _log.set_debug(enabled)
