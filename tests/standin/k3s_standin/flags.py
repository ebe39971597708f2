"""K3s command-line flags: the flag table and urfave/cli v2.27 + Go ``flag`` parsing.

Reference: config_file_rules.md §6-§9 and ``cli_parsing_summary`` of k3s_flags.json. The parser follows
Go's ``flag.FlagSet.Parse`` token by token (that is where the exact error texts come from) and then
urfave's ``normalizeFlags`` check for alias/long-name clashes. Environment variables are applied first, as
urfave's ``Flag.Apply`` does, so that any command-line occurrence wins over them.

Public API (DESIGN.md): ``parse(command, argv, env) -> Flags``, ``UsageError``; plus ``command_spec()`` for
help output and the Go ``strconv``/``time`` emulations that configfile.py shares.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Mapping

from .log import go_quote

DATA_FILE = Path(__file__).with_name("data") / "k3s_flags.json"

# --------------------------------------------------------------------------------------------------------
# errors


class UsageError(Exception):
    """A command-line error: cli prints ``Incorrect Usage: <message>`` plus help and exits 1."""

    def __init__(self, message: str, command: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.command = command


class NumError(ValueError):
    """Go ``*strconv.NumError``; ``str()`` is its Error() text."""

    SYNTAX = "invalid syntax"
    RANGE = "value out of range"

    def __init__(self, func: str, num: str, err: str) -> None:
        super().__init__(f"strconv.{func}: parsing {go_quote(num)}: {err}")
        self.func = func
        self.num = num
        self.err = err


class DurationError(ValueError):
    """Error of Go ``time.ParseDuration``; ``str()`` is its text."""


# --------------------------------------------------------------------------------------------------------
# Go strconv / time emulation

_BOOL_WORDS = {
    "1": True, "t": True, "T": True, "TRUE": True, "true": True, "True": True,
    "0": False, "f": False, "F": False, "FALSE": False, "false": False, "False": False,
}


def go_parse_bool(text: str) -> bool:
    """strconv.ParseBool; raises NumError for anything else (``yes`` and ``""`` included)."""
    if text in _BOOL_WORDS:
        return _BOOL_WORDS[text]
    raise NumError("ParseBool", text, NumError.SYNTAX)


def _underscore_ok(text: str) -> bool:
    # Go: underscores only between digits, or between a base prefix and a digit.
    saw = "^"
    body = text[1:] if text[:1] in ("+", "-") else text
    i = 0
    hexa = False
    if len(body) >= 2 and body[0] == "0" and body[1].lower() in "box":
        i, saw, hexa = 2, "0", body[1].lower() == "x"
    for ch in body[i:]:
        if ch.isascii() and (ch.isdigit() or (hexa and ch.lower() in "abcdef")):
            saw = "0"
        elif ch == "_":
            if saw != "0":
                return False
            saw = "_"
        else:
            if saw == "_":
                return False
            saw = "!"
    return saw != "_"


def _digit_value(byte: int) -> int | None:
    ch = chr(byte).lower()
    if "0" <= ch <= "9":
        return ord(ch) - ord("0")
    if "a" <= ch <= "z":
        return ord(ch) - ord("a") + 10
    return None


def go_parse_uint(text: str, base: int = 0, bits: int = 64, func: str = "ParseUint") -> int:
    """strconv.ParseUint, including base-0 prefix detection and its scan order (range before syntax)."""
    if text == "":
        raise NumError(func, text, NumError.SYNTAX)
    base0 = base == 0
    digits = text
    if base0:
        base = 10
        if text[0] == "0":
            prefix = text[1:2].lower()
            if len(text) >= 3 and prefix in ("b", "o", "x"):
                base = {"b": 2, "o": 8, "x": 16}[prefix]
                digits = text[2:]
            else:
                base = 8
                digits = text[1:]
    max_val = (1 << bits) - 1
    cutoff = (1 << 64) // base + 1
    value = 0
    underscores = False
    for byte in digits.encode("utf-8", "surrogateescape"):
        if byte == ord("_") and base0:
            underscores = True
            continue
        digit = _digit_value(byte)
        if digit is None or digit >= base:
            raise NumError(func, text, NumError.SYNTAX)
        if value >= cutoff:
            raise NumError(func, text, NumError.RANGE)
        value = value * base + digit
        if value > max_val:
            raise NumError(func, text, NumError.RANGE)
    if underscores and not _underscore_ok(text):
        raise NumError(func, text, NumError.SYNTAX)
    return value


def go_parse_int(text: str, base: int = 0, bits: int = 64) -> int:
    """strconv.ParseInt (Go ``flag`` uses base 0: ``0x10``, ``0644`` octal, ``0b1``, ``1_000``)."""
    if text == "":
        raise NumError("ParseInt", text, NumError.SYNTAX)
    negative = text[0] == "-"
    body = text[1:] if text[0] in "+-" else text
    try:
        magnitude = go_parse_uint(body, base, bits, "ParseInt")
    except NumError as exc:
        if exc.err != NumError.RANGE:
            raise NumError("ParseInt", text, exc.err) from None
        magnitude = (1 << bits) - 1
    cutoff = 1 << (bits - 1)
    if not negative and magnitude >= cutoff:
        raise NumError("ParseInt", text, NumError.RANGE)
    if negative and magnitude > cutoff:
        raise NumError("ParseInt", text, NumError.RANGE)
    return -magnitude if negative else magnitude


_NANOS = {"ns": 1, "us": 1_000, "\u00b5s": 1_000, "\u03bcs": 1_000, "ms": 1_000_000,
          "s": 1_000_000_000, "m": 60_000_000_000, "h": 3_600_000_000_000}
_UNITS = {unit.encode(): nanos for unit, nanos in _NANOS.items()}
_MAX_DURATION = 1 << 63


def _time_quote(text: str) -> str:
    # time.quote: ASCII printable kept (with \" and \\), every other byte as \xHH.
    out = ['"']
    for ch in text:
        if " " <= ch < "\x7f":
            out.append("\\" + ch if ch in '"\\' else ch)
        else:
            out.extend(f"\\x{b:02x}" for b in ch.encode("utf-8", "surrogateescape"))
    out.append('"')
    return "".join(out)


def _leading_int(data: bytes) -> tuple[int, bytes]:
    value = 0
    i = 0
    while i < len(data) and 0x30 <= data[i] <= 0x39:
        if value > _MAX_DURATION // 10:
            raise OverflowError
        value = value * 10 + data[i] - 0x30
        if value > _MAX_DURATION:
            raise OverflowError
        i += 1
    return value, data[i:]


def _leading_fraction(data: bytes) -> tuple[int, float, bytes]:
    value, scale, overflow, i = 0, 1.0, False, 0
    while i < len(data) and 0x30 <= data[i] <= 0x39:
        if not overflow:
            candidate = value * 10 + data[i] - 0x30
            if value > (_MAX_DURATION - 1) // 10 or candidate > _MAX_DURATION:
                overflow = True
            else:
                value, scale = candidate, scale * 10
        i += 1
    return value, scale, data[i:]


def go_parse_duration(text: str) -> int:
    """time.ParseDuration in nanoseconds: units are required except for a bare ``0``."""
    invalid = DurationError(f"time: invalid duration {_time_quote(text)}")
    data = text.encode("utf-8", "surrogateescape")
    negative = False
    if data[:1] in (b"-", b"+"):
        negative = data[:1] == b"-"
        data = data[1:]
    if data == b"0":
        return 0
    if not data:
        raise invalid
    total = 0
    while data:
        if not (data[0] == 0x2E or 0x30 <= data[0] <= 0x39):
            raise invalid
        before = len(data)
        try:
            whole, data = _leading_int(data)
        except OverflowError:
            raise invalid from None
        had_whole = before != len(data)
        frac, scale, had_frac = 0, 1.0, False
        if data[:1] == b".":
            data = data[1:]
            before = len(data)
            frac, scale, data = _leading_fraction(data)
            had_frac = before != len(data)
        if not had_whole and not had_frac:
            raise invalid
        end = 0
        while end < len(data) and not (data[end] == 0x2E or 0x30 <= data[end] <= 0x39):
            end += 1
        if end == 0:
            raise DurationError(f"time: missing unit in duration {_time_quote(text)}")
        unit, data = data[:end], data[end:]
        if unit not in _UNITS:
            name = unit.decode("utf-8", "surrogateescape")
            raise DurationError(f"time: unknown unit {_time_quote(name)} in duration {_time_quote(text)}")
        nanos = _UNITS[unit]
        if whole > _MAX_DURATION // nanos:
            raise invalid
        whole *= nanos
        if frac > 0:
            whole += int(float(frac) * (float(nanos) / scale))
            if whole > _MAX_DURATION:
                raise invalid
        total += whole
        if total > _MAX_DURATION:
            raise invalid
    if not negative and total > _MAX_DURATION - 1:
        raise invalid
    return -total if negative else total


def _fraction(value: int, precision: int) -> tuple[str, int]:
    scale = 10 ** precision
    digits = f"{value % scale:0{precision}d}".rstrip("0") if precision else ""
    return ("." + digits if digits else ""), value // scale


def format_duration(nanos: int) -> str:
    """Go ``time.Duration.String``: ``5m0s``, ``1h0m0s``, ``1.5s``, ``300ms``, ``0s``."""
    if nanos == 0:
        return "0s"
    sign = "-" if nanos < 0 else ""
    rest = abs(nanos)
    if rest < 1_000_000_000:
        for limit, precision, unit in ((1_000, 0, "ns"), (1_000_000, 3, "\u00b5s"), (1_000_000_000, 6, "ms")):
            if rest < limit:
                frac, whole = _fraction(rest, precision)
                return f"{sign}{whole}{frac}{unit}"
    frac, seconds = _fraction(rest, 9)
    text = f"{seconds % 60}{frac}s"
    minutes = seconds // 60
    if minutes:
        text = f"{minutes % 60}m{text}"
        hours = minutes // 60
        if hours:
            text = f"{hours}h{text}"
    return sign + text


def go_trim_space(text: str) -> str:
    """strings.TrimSpace (Unicode White_Space, which differs from Python's str.strip set)."""
    return text.strip(_GO_SPACE)


_GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a" \
            "\u2028\u2029\u202f\u205f\u3000"

# --------------------------------------------------------------------------------------------------------
# the flag table

FLAG_TYPES = ("string", "bool", "stringSlice", "int", "duration")
# urfave v2 FlagNames(): a v1-style "name,alias" or "name alias" is cut at the first comma or space.
_V1_LEFTOVER = re.compile(r"[, ]+.*")


@dataclass(frozen=True)
class FlagSpec:
    """One flag as urfave registers it."""

    name: str
    aliases: tuple[str, ...]
    type: str
    env: str | None
    default: Any
    hidden: bool
    category: str | None = None
    registered: tuple[str, ...] = ()  # Names(): what the Go flag set knows (primary first)
    usage: str = ""

    @property
    def names(self) -> tuple[str, ...]:
        return self.registered or (self.name, *self.aliases)

    def initial(self) -> Any:
        """The flag's value when neither env nor command line set it (Go zero value if no default)."""
        if self.type == "bool":
            return bool(self.default)
        if self.type == "int":
            return int(self.default or 0)
        if self.type == "stringSlice":
            return list(self.default or [])
        if self.type == "duration":
            return format_duration(go_parse_duration(self.default)) if self.default else "0s"
        return "" if self.default is None else str(self.default)


@dataclass(frozen=True)
class CommandSpec:
    """A command or subcommand: its flags in definition order (help flag last, as urfave appends it)."""

    path: str  # "" for the root app, "server", "etcd-snapshot ls", "token create"
    usage: str
    flags: tuple[FlagSpec, ...]
    aliases: tuple[str, ...] = ()
    subcommands: tuple[str, ...] = ()
    usage_text: str = ""
    _index: dict[str, FlagSpec] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for spec in self.flags:
            for name in spec.names:
                self._index.setdefault(name, spec)

    @property
    def name(self) -> str:
        return self.path.rsplit(" ", 1)[-1]

    def lookup(self, name: str) -> FlagSpec | None:
        return self._index.get(name)

    def visible_flags(self) -> list[FlagSpec]:
        return [spec for spec in self.flags if not spec.hidden]


HELP_FLAG = FlagSpec("help", ("h",), "bool", None, False, False, usage="show help")
VERSION_FLAG = FlagSpec("version", ("v",), "bool", None, False, False, usage="print the version")

# Usage lines of the commands (help output only; not part of the reference, taken from k3s' cmds).
APP_USAGE = "Kubernetes, but small and simple"
COMMAND_USAGE = {
    "server": "Run management server",
    "agent": "Run node agent",
    "kubectl": "Run kubectl",
    "crictl": "Run crictl",
    "ctr": "Run ctr",
    "check-config": "Run config check",
    "token": "Manage tokens",
    "etcd-snapshot": "Manage etcd snapshots",
    "secrets-encrypt": "Control secrets encryption and keys rotation",
    "certificate": "Manage K3s certificates",
    "completion": "Install shell completion script",
    "etcd-snapshot delete": "Delete given snapshot(s)",
    "etcd-snapshot ls": "List snapshots",
    "etcd-snapshot prune": "Remove snapshots that match the name prefix that exceed the configured retention count",
    "etcd-snapshot save": "Trigger an immediate etcd snapshot",
    "token create": "Create bootstrap tokens on the server",
    "token delete": "Delete bootstrap tokens on the server",
    "token generate": "Generate and print a bootstrap token, but do not create it on the server",
    "token list": "List bootstrap tokens on the server",
    "token rotate": "Rotate original server token with a new server token",
}
ROOT_COMMANDS = ("server", "agent", "kubectl", "crictl", "ctr", "check-config", "token", "etcd-snapshot",
                 "secrets-encrypt", "certificate", "completion")
ETCD_SNAPSHOT_SUBCOMMANDS = ("delete", "ls", "prune", "save")
ETCD_SNAPSHOT_ALIASES = {"list": "ls", "l": "ls"}
TOKEN_SUBCOMMANDS = ("create", "delete", "generate", "list", "rotate")


def _spec_from_json(entry: Mapping[str, Any]) -> FlagSpec:
    primary = str(entry.get("literal_registered_name") or entry["name"])
    aliases = tuple(str(a) for a in entry.get("aliases") or ())
    registered = tuple(_V1_LEFTOVER.sub("", part) for part in (primary, *aliases))
    if entry["type"] not in FLAG_TYPES:
        raise ValueError(f"unknown flag type {entry['type']!r} for {entry['name']}")
    category = entry.get("category")
    return FlagSpec(
        name=str(entry["name"]),
        aliases=aliases,
        type=str(entry["type"]),
        env=entry.get("env"),
        default=entry.get("default"),
        hidden=bool(entry.get("hidden")),
        category=category,
        registered=registered,
        usage=f"({category})" if category else "",
    )


@lru_cache(maxsize=1)
def _table() -> dict[str, Any]:
    table: dict[str, Any] = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    return table


@lru_cache(maxsize=None)
def _commands() -> dict[str, CommandSpec]:
    table = _table()
    specs = {sec: [_spec_from_json(e) for e in table[sec]] for sec in ("global", "server", "agent",
                                                                       "etcd-snapshot", "token")}
    commands: dict[str, CommandSpec] = {}
    global_flags = [s for s in specs["global"] if s.name not in ("help", "version")]
    commands[""] = CommandSpec("", APP_USAGE, (*global_flags, HELP_FLAG, VERSION_FLAG),
                               subcommands=ROOT_COMMANDS)
    for name in ("server", "agent"):
        commands[name] = CommandSpec(name, COMMAND_USAGE[name], (*specs[name], HELP_FLAG),
                                     usage_text=f"{{app}} {name} [OPTIONS]")
    snapshot = [s for s in specs["etcd-snapshot"] if s.name != "output"]
    output = [s for s in specs["etcd-snapshot"] if s.name == "output"]
    commands["etcd-snapshot"] = CommandSpec("etcd-snapshot", COMMAND_USAGE["etcd-snapshot"],
                                            (*snapshot, HELP_FLAG), subcommands=ETCD_SNAPSHOT_SUBCOMMANDS)
    for sub in ETCD_SNAPSHOT_SUBCOMMANDS:
        extra = output if sub == "ls" else []
        aliases = tuple(a for a, target in ETCD_SNAPSHOT_ALIASES.items() if target == sub)
        commands[f"etcd-snapshot {sub}"] = CommandSpec(f"etcd-snapshot {sub}",
                                                       COMMAND_USAGE[f"etcd-snapshot {sub}"],
                                                       (*snapshot, *extra, HELP_FLAG), aliases=aliases)
    commands["token"] = CommandSpec("token", COMMAND_USAGE["token"], (HELP_FLAG,), subcommands=TOKEN_SUBCOMMANDS)
    for sub in TOKEN_SUBCOMMANDS:
        own = [s for s, e in zip(specs["token"], table["token"]) if sub in e.get("subcommands", ())]
        commands[f"token {sub}"] = CommandSpec(f"token {sub}", COMMAND_USAGE[f"token {sub}"], (*own, HELP_FLAG))
    return commands


def canonical_command(command: str) -> str:
    """Normalise a command path: ``etcd-snapshot list`` -> ``etcd-snapshot ls``; ``global`` -> root."""
    words = command.split()
    if words in (["global"], ["root"]):
        return ""
    if len(words) == 2 and words[0] == "etcd-snapshot":
        words[1] = ETCD_SNAPSHOT_ALIASES.get(words[1], words[1])
    return " ".join(words)


def command_spec(command: str) -> CommandSpec:
    """The command table entry; KeyError for a command the stand-in does not model."""
    return _commands()[canonical_command(command)]


def commands() -> dict[str, CommandSpec]:
    return dict(_commands())


def server_only_flags() -> list[str]:
    return list(_table()["server_only_flags"])


# --------------------------------------------------------------------------------------------------------
# parsing


class _Slot:
    """The value behind one flag (all of its names share it, like k3s' Destination fields)."""

    def __init__(self, spec: FlagSpec, int_bits: int) -> None:
        self.spec = spec
        self.int_bits = int_bits
        self.value: Any = spec.initial()
        self.from_env = False
        # urfave StringSlice: the first Set() drops the default or env value instead of appending.
        self.slice_fresh = True

    def apply_env(self, env: Mapping[str, str]) -> None:
        spec = self.spec
        if not spec.env or spec.env not in env:
            return
        raw = env[spec.env]
        source = f"environment variable {go_quote(spec.env)}"
        where = f"from {source} for flag {spec.name}"
        if spec.type == "bool":
            if raw != "":
                try:
                    self.value = go_parse_bool(raw)
                except NumError as exc:
                    raise UsageError(f"could not parse {go_quote(raw)} as bool value {where}: {exc}") from None
            else:
                self.value = False
            self.from_env = True
        elif spec.type == "int":
            if raw != "":
                try:
                    self.value = go_parse_int(raw, 0, 64)
                except NumError as exc:
                    raise UsageError(f"could not parse {go_quote(raw)} as int value {where}: {exc}") from None
                self.from_env = True
        elif spec.type == "duration":
            if raw != "":
                try:
                    self.value = format_duration(go_parse_duration(raw))
                except DurationError as exc:
                    raise UsageError(f"could not parse {go_quote(raw)} as duration value {where}: {exc}") from None
                self.from_env = True
        elif spec.type == "stringSlice":
            # No comma split: the app disables the slice separator (§9).
            self.value = [go_trim_space(raw)]
            self.slice_fresh = True
            self.from_env = True
        else:
            self.value = raw
            self.from_env = True

    def set_text(self, text: str) -> str | None:
        """flag.Value.Set; returns the Go error text on failure."""
        kind = self.spec.type
        if kind == "int":
            try:
                self.value = go_parse_int(text, 0, self.int_bits)
            except NumError as exc:
                return "parse error" if exc.err == NumError.SYNTAX else "value out of range"
        elif kind == "duration":
            try:
                self.value = format_duration(go_parse_duration(text))
            except DurationError:
                return "parse error"
        elif kind == "stringSlice":
            if self.slice_fresh:
                self.value = []
                self.slice_fresh = False
            self.value.append(go_trim_space(text))
        else:
            self.value = text
        return None


class Flags:
    """Parsed flags of one command. Values are typed: bool, int, str, list[str] (slices), str (durations,
    in Go's canonical form such as ``5m0s``)."""

    def __init__(self, command: CommandSpec, slots: list[_Slot], visited: set[str], args: list[str],
                 argv: list[str]) -> None:
        self.command = command.path
        self.spec = command
        self.args = args  # positional arguments left after flag parsing stopped
        self.argv = argv  # the argument list that was parsed
        self.parent: Flags | None = None  # root (global) flags, set by cli
        self._slots = {slot.spec.name: slot for slot in slots}
        self._visited = visited

    def _slot(self, name: str) -> _Slot:
        spec = self.spec.lookup(name)
        if spec is None and name in self._slots:
            return self._slots[name]
        if spec is None:
            raise KeyError(f"flag {name!r} is not defined for {self.command or 'the root command'}")
        return self._slots[spec.name]

    def get(self, name: str) -> Any:
        value = self._slot(name).value
        return list(value) if isinstance(value, list) else value

    def __getitem__(self, name: str) -> Any:
        return self.get(name)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and (self.spec.lookup(name) is not None or name in self._slots)

    def is_set(self, name: str) -> bool:
        """urfave ``Context.IsSet``: given on the command line (any of its names) or by its env var."""
        slot = self._slot(name)
        return slot.from_env or self.is_set_on_cli(name)

    def is_set_on_cli(self, name: str) -> bool:
        slot = self._slot(name)
        return any(n in self._visited for n in slot.spec.names)

    def as_dict(self) -> dict[str, Any]:
        return {name: self.get(name) for name in self._slots}

    def __repr__(self) -> str:
        changed = {n: s.value for n, s in self._slots.items() if self.is_set(n)}
        return f"Flags({self.command!r}, {changed}, args={self.args})"


def _parse_one(args: list[str], command: CommandSpec, slots: dict[str, _Slot], visited: set[str]) -> bool:
    """Go flag.FlagSet.parseOne; returns False when flag parsing stops. Consumes from ``args``."""
    if not args:
        return False
    token = args[0]
    if len(token) < 2 or token[0] != "-":
        return False
    dashes = 1
    if token[1] == "-":
        dashes = 2
        if len(token) == 2:
            del args[0]
            return False
    name = token[dashes:]
    if not name or name[0] in "-=":
        raise UsageError(f"bad flag syntax: {token}", command.path)
    del args[0]
    value, has_value = "", False
    equals = name.find("=", 1)
    if equals > 0:
        name, value, has_value = name[:equals], name[equals + 1:], True
    spec = command.lookup(name)
    if spec is None:
        raise UsageError(f"flag provided but not defined: -{name}", command.path)
    slot = slots[spec.name]
    if spec.type == "bool":
        if has_value:
            try:
                slot.value = go_parse_bool(value)
            except NumError:
                raise UsageError(f"invalid boolean value {go_quote(value)} for -{name}: parse error",
                                 command.path) from None
        else:
            slot.value = True
    else:
        if not has_value and args:
            value, has_value = args.pop(0), True
        if not has_value:
            raise UsageError(f"flag needs an argument: -{name}", command.path)
        problem = slot.set_text(value)
        if problem:
            raise UsageError(f"invalid value {go_quote(value)} for flag -{name}: {problem}", command.path)
    visited.add(name)
    return True


def _check_two_forms(command: CommandSpec, visited: set[str]) -> None:
    # urfave normalizeFlags: walks each flag's names in order; the second one seen is named first.
    for spec in command.flags:
        if len(spec.names) < 2:
            continue
        first: str | None = None
        for name in spec.names:
            if name in visited:
                if first is not None:
                    raise UsageError(f"Cannot use two forms of the same flag: {name} {first}", command.path)
                first = name


def parse(command: str, argv: Iterable[str], env: Mapping[str, str], *, int_bits: int | None = None) -> Flags:
    """Parse the arguments that follow the command word(s), e.g. ``parse("server", ["--token", "x"], env)``.

    ``command``: ``""`` (root flags), ``server``, ``agent``, ``etcd-snapshot [save|ls|delete|prune]``,
    ``token <sub>``. Raises UsageError with the exact urfave/Go message. Parsing stops at the first
    positional argument or ``--``; what follows is returned in ``Flags.args`` and never checked (§7).
    """
    spec = command_spec(command)
    if int_bits is None:
        from . import buildinfo

        int_bits = buildinfo.get().int_bits
    slots = [_Slot(flag, int_bits) for flag in spec.flags]
    by_name = {slot.spec.name: slot for slot in slots}
    for slot in slots:
        try:
            slot.apply_env(env)
        except UsageError as exc:
            raise UsageError(exc.message, spec.path) from None
    args = list(argv)
    original = list(args)
    visited: set[str] = set()
    while _parse_one(args, spec, by_name, visited):
        pass
    _check_two_forms(spec, visited)
    return Flags(spec, slots, visited, args, original)


def duration_ns(value: str) -> int:
    """Nanoseconds of a duration value returned by ``Flags.get``."""
    return go_parse_duration(value)
