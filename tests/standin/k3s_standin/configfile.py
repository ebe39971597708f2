"""config.yaml and config.yaml.d handling (config_file_rules.md §1-§5).

K3s turns every config key into a command-line argument (``--key=value``) and inserts those arguments
right after the subcommand word, before the user's own arguments; the CLI parser then treats them like any
other argument. This module reproduces that expansion, including gopkg.in/yaml.v2 typing (YAML 1.1:
``yes`` is true, unquoted ``0644`` is the integer 420) and wrangler ``convert.ToString`` rendering.

YAML is read with PyYAML's pure-Python parser (events only); typing, anchors and merge keys are decided
here the way yaml.v2 decodes into a ``yaml.MapSlice``. PyYAML's syntax error texts are translated to the
libyaml wording that yaml.v2 uses; that translation covers the common errors and is approximate for rare
ones.

Entry points: ``expand_argv`` (what the inner k3s binary does before parsing), ``outer_check`` (the outer
binary's early read that makes a broken file fatal for every command) and ``read_config_args``.
"""
from __future__ import annotations

import base64
import binascii
import errno
import math
import os
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import yaml

from . import flags as flagtable
from . import log, paths
from .flags import NumError, go_parse_int, go_parse_uint, go_trim_space

DEFAULT_CONFIG = "/etc/rancher/k3s/config.yaml"
CONFIG_ENV = "K3S_CONFIG_FILE"
CONFIG_FLAGS = ("--config", "-c")
# Split points: the config args go after the first of these words ("name:N" = up to N more words).
AFTER = ("server", "agent", "etcd-snapshot:1")
# Only these commands filter unknown keys; for any other argv[1] every key reaches the parser (§5).
FILTERED_COMMANDS = ("server", "etcd-snapshot")
OVERRIDE_FLAGS = ("--help", "-h", "--version", "-v")
EXTERNAL_CLIS = ("kubectl", "crictl", "ctr")
PROGRAM = "k3s"


class ConfigError(Exception):
    """A config file could not be read or parsed; ``str()`` is the Go error text k3s logs."""


@dataclass(frozen=True)
class ConfigPath:
    """A config file as K3s names it in messages (``shown``) and where the stand-in reads it (``real``)."""

    shown: str
    real: Path

    def child(self, name: str) -> "ConfigPath":
        return ConfigPath(os.path.join(self.shown, name), self.real / name)

    def dropin_dir(self) -> "ConfigPath":
        return ConfigPath(self.shown + ".d", Path(str(self.real) + ".d"))


# --------------------------------------------------------------------------------------------------------
# Go-style OS errors


def _go_os_error(op: str, shown: str, exc: OSError) -> ConfigError:
    reason = os.strerror(exc.errno) if exc.errno else str(exc)
    # Go's syscall.Errno strings are Linux strerror texts starting in lower case.
    return ConfigError(f"{op} {shown}: {reason[:1].lower()}{reason[1:]}")


def _missing(exc: OSError) -> bool:
    return exc.errno == errno.ENOENT


# --------------------------------------------------------------------------------------------------------
# finding the files (§1)


def _user_path(value: str) -> ConfigPath:
    # Paths given by the user are used as they are; only the built-in default is mapped by paths.host().
    return ConfigPath(value, Path(value))


def default_config() -> ConfigPath:
    return ConfigPath(DEFAULT_CONFIG, paths.host(DEFAULT_CONFIG))


def find_config_file(argv: list[str], env: Mapping[str, str], *, use_flags: bool = True) -> ConfigPath | None:
    """K3S_CONFIG_FILE (non-empty) > ``--config``/``-c`` anywhere in argv > the default; None = no file.

    ``--config`` as the last argument yields no file (the CLI parser reports it later).
    """
    value = env.get(CONFIG_ENV, "")
    if value:
        return _user_path(value)
    if use_flags:
        for i, arg in enumerate(argv):
            for flag in CONFIG_FLAGS:
                if arg == flag:
                    if i + 1 < len(argv):
                        return _user_path(argv[i + 1]) if argv[i + 1] else None
                    return None
                if arg.startswith(flag + "="):
                    rest = arg[len(flag) + 1:]
                    return _user_path(rest) if rest else None
    return default_config()


def _sort_key(name: str) -> bytes:
    return name.encode("utf-8", "surrogateescape")


def dropin_files(base: ConfigPath) -> list[ConfigPath]:
    """``<base>.d/*.yaml|*.yml`` (suffix case-insensitive), directories skipped, byte order of names."""
    folder = base.dropin_dir()
    try:
        with os.scandir(folder.real) as entries:
            names = [e.name for e in entries
                     if not e.is_dir(follow_symlinks=False) and e.name.lower().endswith((".yaml", ".yml"))]
    except OSError as exc:
        if _missing(exc):
            return []
        op = "readdirent" if exc.errno == errno.ENOTDIR else "open"
        raise _go_os_error(op, folder.shown, exc) from None
    return [folder.child(name) for name in sorted(names, key=_sort_key)]


def config_files(base: ConfigPath) -> list[ConfigPath] | None:
    """Base file (if present) then drop-ins; None when neither exists (a silent no-op in K3s)."""
    dropins = dropin_files(base)
    try:
        os.stat(base.real)
    except OSError as exc:
        if _missing(exc):
            return dropins or None
        raise _go_os_error("stat", base.shown, exc) from None
    return [base, *dropins]


def _read_bytes(item: ConfigPath) -> bytes:
    try:
        return item.real.read_bytes()
    except IsADirectoryError as exc:
        raise _go_os_error("read", item.shown, exc) from None
    except OSError as exc:
        if _missing(exc):
            raise
        raise _go_os_error("open", item.shown, exc) from None


# --------------------------------------------------------------------------------------------------------
# YAML: events -> nodes -> yaml.v2 values


class MapSlice(list):  # type: ignore[type-arg]
    """yaml.MapSlice: ordered (key, value) pairs, duplicates kept. Nested mappings decode to it too."""


class _Node:
    __slots__ = ("kind", "value", "tag", "plain", "children", "line", "target")

    def __init__(self, kind: str, line: int, value: str = "", tag: str = "", plain: bool = False) -> None:
        self.kind = kind  # scalar | seq | map | alias
        self.value = value
        self.tag = tag
        self.plain = plain
        self.children: list[_Node] = []
        self.line = line
        self.target: _Node | None = None


_TAG_PREFIX = "tag:yaml.org,2002:"
STR_TAG, INT_TAG, FLOAT_TAG, BOOL_TAG = (_TAG_PREFIX + t for t in ("str", "int", "float", "bool"))
NULL_TAG, BINARY_TAG, TIMESTAMP_TAG, MERGE_TAG = (_TAG_PREFIX + t for t in ("null", "binary", "timestamp",
                                                                           "merge"))
_RESOLVABLE = ("", STR_TAG, BOOL_TAG, INT_TAG, FLOAT_TAG, TIMESTAMP_TAG)

_RESOLVE_MAP: dict[str, tuple[str, Any]] = {}
for _words, _value, _tag in (("y Y yes Yes YES true True TRUE on On ON", True, BOOL_TAG),
                             ("n N no No NO false False FALSE off Off OFF", False, BOOL_TAG),
                             ("~ null Null NULL", None, NULL_TAG),
                             (".nan .NaN .NAN", math.nan, FLOAT_TAG),
                             (".inf .Inf .INF +.inf +.Inf +.INF", math.inf, FLOAT_TAG),
                             ("-.inf -.Inf -.INF", -math.inf, FLOAT_TAG)):
    for _word in _words.split():
        _RESOLVE_MAP[_word] = (_tag, _value)
_RESOLVE_MAP[""] = (NULL_TAG, None)
_YAML_STYLE_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")


def _hint(text: str) -> str:
    """yaml.v2 resolveTable: the first character decides which resolutions are tried."""
    if text == "":
        return "N"
    first = text[0]
    if first in "+-":
        return "S"
    if first.isascii() and first.isdigit():
        return "D"
    if first in "yYnNtTfFoO~":
        return "M"
    if first == ".":
        return "."
    return ""


def _go_float(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    # Go's ParseFloat reports overflow as an error (so yaml.v2 keeps the text as a string).
    return None if math.isinf(value) else value


def _resolve_number(text: str) -> tuple[str, Any] | None:
    # yaml.v2 drops every underscore, then tries Go's ParseInt and ParseUint with base detection.
    plain = text.replace("_", "")
    try:
        return INT_TAG, go_parse_int(plain, 0, 64)
    except NumError:
        pass
    try:
        return INT_TAG, go_parse_uint(plain, 0, 64)
    except NumError:
        pass
    if _YAML_STYLE_FLOAT.match(plain):
        number = _go_float(plain)
        if number is not None:
            return FLOAT_TAG, number
    for prefix, sign in (("0b", ""), ("-0b", "-")):
        if plain.startswith(prefix):
            try:
                return INT_TAG, go_parse_int(sign + plain[len(prefix):], 2, 64)
            except NumError:
                try:
                    return INT_TAG, go_parse_uint(plain[len(prefix):], 2, 64) * (-1 if sign else 1)
                except NumError:
                    pass
    return None


def _resolve_plain(text: str, tag: str) -> tuple[str, Any]:
    hint = _hint(text)
    if hint and tag not in (STR_TAG, BINARY_TAG):
        if text in _RESOLVE_MAP:
            return _RESOLVE_MAP[text]
        if hint == ".":
            number = _go_float(text)
            if number is not None:
                return FLOAT_TAG, number
        elif hint in ("D", "S"):
            # Timestamps would resolve here too, but yaml.v2 hands them to an interface{} as the
            # original text, which is what falling through to "string" gives.
            resolved = _resolve_number(text)
            if resolved is not None:
                return resolved
    return STR_TAG, text


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_TAG_PREFIX):] if tag.startswith(_TAG_PREFIX) else tag


def _resolve(tag: str, text: str) -> Any:
    """yaml.v2 resolve() for an explicit or implicit tag, with its "cannot decode" check."""
    if tag not in _RESOLVABLE:
        return text
    rtag, value = _resolve_plain(text, tag)
    if tag in ("", rtag, STR_TAG, BINARY_TAG):
        return value
    if tag == FLOAT_TAG and rtag == INT_TAG:
        return float(value)
    raise ConfigError(f"yaml: cannot decode {_short_tag(rtag)} `{text}` as a {_short_tag(tag)}")


def _decode_scalar(node: _Node) -> Any:
    if not node.tag and not node.plain:
        return node.value  # quoted and block scalars are strings
    if node.tag == BINARY_TAG:
        try:
            return base64.b64decode(node.value, validate=False).decode("utf-8", "surrogateescape")
        except (binascii.Error, ValueError):
            raise ConfigError("yaml: !!binary value contains invalid base64 data") from None
    return _resolve(node.tag, node.value)


def _is_merge(node: _Node) -> bool:
    return node.kind == "scalar" and node.value == "<<" and (node.plain or node.tag == MERGE_TAG)


def _check_merge(node: _Node) -> None:
    # yaml.v2 validates a merge value, then loses the merged keys when decoding into a MapSlice.
    def want_map() -> ConfigError:
        return ConfigError("yaml: map merge requires map or sequence of maps as the value")

    def kind_of(item: _Node) -> str:
        return item.target.kind if item.kind == "alias" and item.target is not None else item.kind

    if node.kind in ("map", "alias"):
        if kind_of(node) != "map":
            raise want_map()
    elif node.kind == "seq":
        if any(kind_of(child) != "map" for child in node.children):
            raise want_map()
    else:
        raise want_map()


class _Decoder:
    def __init__(self) -> None:
        self.active_aliases: set[int] = set()

    def decode(self, node: _Node) -> Any:
        if node.kind == "scalar":
            return _decode_scalar(node)
        if node.kind == "seq":
            return [self.decode(child) for child in node.children]
        if node.kind == "map":
            return self.mapping(node)
        return self.alias(node)

    def alias(self, node: _Node) -> Any:
        if id(node) in self.active_aliases:
            raise ConfigError(f"yaml: anchor '{node.value}' value contains itself")
        self.active_aliases.add(id(node))
        try:
            assert node.target is not None
            return self.decode(node.target)
        finally:
            self.active_aliases.discard(id(node))

    def mapping(self, node: _Node) -> MapSlice:
        items = MapSlice()
        pairs = node.children
        for i in range(0, len(pairs), 2):
            key, value = pairs[i], pairs[i + 1]
            if _is_merge(key):
                _check_merge(value)
                continue
            items.append((self.decode(key), self.decode(value)))
        return items


def _type_errors(root: _Node) -> list[str]:
    """yaml.v2 errors for a document that is not a mapping (k3s unmarshals into yaml.MapSlice)."""
    def scalar_text(node: _Node) -> str:
        value = node.value if len(node.value) <= 10 else node.value[:7] + "..."
        return f" `{value}`"

    def tag_of(node: _Node) -> str:
        if node.tag:
            return node.tag
        return STR_TAG if not node.plain else _resolve_plain(node.value, "")[0]

    if root.kind == "scalar":
        tag = tag_of(root)
        if tag == NULL_TAG:
            return []
        return [f"line {root.line + 1}: cannot unmarshal {_short_tag(tag)}{scalar_text(root)} into yaml.MapSlice"]
    if root.kind == "seq":
        errors = []
        for child in root.children:
            if child.kind == "scalar" and tag_of(child) != NULL_TAG:
                errors.append(f"line {child.line + 1}: cannot unmarshal {_short_tag(tag_of(child))}"
                              f"{scalar_text(child)} into yaml.MapItem")
            elif child.kind == "seq":
                errors.append(f"line {child.line + 1}: cannot unmarshal !!seq into yaml.MapItem")
        return errors
    return []


class _EventReader:
    """First YAML document as a node tree; anchors may be redefined (yaml.v2 allows it)."""

    def __init__(self, data: bytes) -> None:
        self.loader = yaml.BaseLoader(data)
        self.anchors: dict[str, _Node] = {}

    def close(self) -> None:
        self.loader.dispose()

    def document(self) -> _Node | None:
        get = self.loader.get_event
        get()  # StreamStartEvent
        event = get()
        if isinstance(event, yaml.StreamEndEvent):
            return None
        root = self.node(get())
        get()  # DocumentEndEvent: yaml.v2 also consumes it, so an error right after the document counts
        return root

    def _register(self, anchor: str | None, node: _Node) -> None:
        if anchor:
            self.anchors[anchor] = node

    def node(self, event: Any) -> _Node:
        line = event.start_mark.line
        if isinstance(event, yaml.AliasEvent):
            anchor = event.anchor or ""  # always set on an alias
            target = self.anchors.get(anchor)
            if target is None:
                raise ConfigError(f"yaml: unknown anchor '{anchor}' referenced")
            alias = _Node("alias", line, value=anchor)
            alias.target = target
            return alias
        if isinstance(event, yaml.ScalarEvent):
            node = _Node("scalar", line, value=event.value, tag=event.tag or "", plain=bool(event.implicit[0]))
            self._register(event.anchor, node)
            return node
        kind = "seq" if isinstance(event, yaml.SequenceStartEvent) else "map"
        end = yaml.SequenceEndEvent if kind == "seq" else yaml.MappingEndEvent
        node = _Node(kind, line)
        self._register(event.anchor, node)
        while True:
            child = self.loader.get_event()
            if isinstance(child, end):
                return node
            node.children.append(self.node(child))


# PyYAML problem texts -> libyaml (yaml.v2) problem texts.
_PROBLEMS: tuple[tuple[re.Pattern[str], str | None, str], ...] = tuple(
    (re.compile(pattern), context, text) for pattern, context, text in (
        (r"^mapping values are not allowed here", None, "mapping values are not allowed in this context"),
        (r"^block sequence entries are not allowed here", None,
         "block sequence entries are not allowed in this context"),
        (r"^mapping keys are not allowed here", None, "mapping keys are not allowed in this context"),
        (r"^found character .* that cannot start any token", None, "found character that cannot start any token"),
        (r"^found unexpected document separator", None, "found unexpected document indicator"),
        (r"^found unknown escape character", None, "found unknown escape character"),
        (r"^expected alphabetic or numeric character", None, "did not find expected alphabetic or numeric character"),
        (r"^expected a comment or a line break", None, "did not find expected comment or line break"),
        (r"^expected ' ', but found", None, "did not find expected whitespace or line break"),
        (r"^expected <block end>", "while parsing a block mapping", "did not find expected key"),
        (r"^expected <block end>", "while parsing a block collection", "did not find expected '-' indicator"),
        (r"^expected <block end>", None, "did not find expected key"),
        (r"^expected ',' or '\]'", None, "did not find expected ',' or ']'"),
        (r"^expected ',' or '\}'", None, "did not find expected ',' or '}'"),
        (r"^expected '<document start>'", None, "did not find expected <document start>"),
        (r"^expected node content", None, "did not find expected node content"),
        (r"^found undefined tag handle", None, "found undefined tag handle"),
    ))


def _problem_text(problem: str, context: str | None) -> str:
    for pattern, wanted_context, text in _PROBLEMS:
        if pattern.search(problem) and (wanted_context is None or wanted_context == context):
            return text
    return re.sub(r" %r$| '.*'$", "", problem)


def yaml_error_text(exc: yaml.YAMLError) -> str:
    """The text yaml.v2 would give for this syntax error (``yaml: line N: <problem>``)."""
    if isinstance(exc, yaml.reader.ReaderError):
        if isinstance(exc.character, int):  # undecodable byte
            return "yaml: invalid leading UTF-8 octet"
        return "yaml: control characters are not allowed"
    if not isinstance(exc, yaml.MarkedYAMLError):
        return f"yaml: {exc}"
    problem = _problem_text(exc.problem or "", exc.context)
    problem_line = exc.problem_mark.line if exc.problem_mark else 0
    context_line = exc.context_mark.line if exc.context_mark else 0
    # yaml.v2 parser.fail(): marks are 0-based; only scanner errors get the +1.
    if problem_line:
        line = problem_line + (1 if isinstance(exc, yaml.scanner.ScannerError) else 0)
    else:
        line = context_line
    where = f"line {line}: " if line else ""
    return f"yaml: {where}{problem or 'unknown problem parsing YAML content'}"


def load_mapslice(data: bytes) -> MapSlice:
    """yaml.Unmarshal(data, &yaml.MapSlice{}) for the first document."""
    reader = _EventReader(data)
    try:
        root = reader.document()
    except yaml.YAMLError as exc:
        raise ConfigError(yaml_error_text(exc)) from None
    finally:
        reader.close()
    if root is None:
        return MapSlice()
    if root.kind == "alias" and root.target is not None:
        root = root.target
    if root.kind != "map":
        errors = _type_errors(root)
        if errors:
            raise ConfigError("yaml: unmarshal errors:\n  " + "\n  ".join(errors))
        return MapSlice()
    decoded = _Decoder().decode(root)
    assert isinstance(decoded, MapSlice)
    return decoded


# --------------------------------------------------------------------------------------------------------
# Go value rendering: fmt.Sprint and wrangler convert.ToString


def go_format_float(value: float) -> str:
    """fmt %v of a float64: shortest round-trip digits, %e form below 1e-4 and from 1e6 (1e+06)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    sign, digit_tuple, exponent = Decimal(repr(value)).normalize().as_tuple()
    prefix = "-" if sign else ""
    digits = "".join(str(d) for d in digit_tuple).lstrip("0")
    if not digits:
        return prefix + "0"
    assert isinstance(exponent, int)
    point = len(digits) + exponent  # decimal point position
    exp = point - 1
    # strconv 'g' with shortest digits switches to exponent form at precision 6, not 21 as JSON does.
    if exp < -4 or exp >= 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{prefix}{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if point <= 0:
        return f"{prefix}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return prefix + digits + "0" * (point - len(digits))
    return f"{prefix}{digits[:point]}.{digits[point:]}"


def go_sprint(value: Any) -> str:
    """fmt.Sprint of a decoded YAML value (yaml.v2 types)."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return go_format_float(value)
    if isinstance(value, MapSlice):
        return "[" + " ".join(f"{{{go_sprint(k)} {go_sprint(v)}}}" for k, v in value) + "]"
    if isinstance(value, list):
        return "[" + " ".join(go_sprint(item) for item in value) + "]"
    return str(value)


def to_string(value: Any) -> str:
    """wrangler convert.ToString: first element of a list, nil -> "", fmt.Sprint, TrimSpace."""
    if isinstance(value, list) and not isinstance(value, MapSlice):
        value = value[0] if value else None
    if value is None:
        return ""
    return go_trim_space(go_sprint(value))


def _to_slice(value: Any) -> list[Any]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and not isinstance(value, MapSlice):
        return list(value)
    text = go_trim_space(to_string(value))
    return [text] if text else []


# --------------------------------------------------------------------------------------------------------
# config -> arguments (§3, §4)


def merge_values(documents: Iterable[MapSlice]) -> list[tuple[str, Any]]:
    """Keys in order of first appearance; later files replace, ``key+`` appends."""
    order: list[str] = []
    values: dict[str, Any] = {}
    for document in documents:
        for raw_key, value in document:
            key = to_string(raw_key)
            append = key.endswith("+")
            key = key[:-1] if append else key
            if key not in values:
                order.append(key)
            if append and key in values:
                values[key] = _to_slice(values[key]) + _to_slice(value)
            else:
                values[key] = value
    return [(key, values[key]) for key in order]


def values_to_args(pairs: Iterable[tuple[str, Any]]) -> list[str]:
    args: list[str] = []
    for key, value in pairs:
        prefix = "-" if len(key.encode("utf-8", "surrogateescape")) == 1 else "--"
        if isinstance(value, list) and not isinstance(value, MapSlice):
            args.extend(f"{prefix}{key}={to_string(item)}" for item in value)
        else:
            args.append(f"{prefix}{key}={to_string(value)}")
    return args


def read_config_args(base: ConfigPath) -> list[str] | None:
    """All files of one config path as arguments; None when nothing exists (silently ignored)."""
    files = config_files(base)
    if not files:
        return None
    documents = []
    for item in files:
        try:
            data = _read_bytes(item)
        except FileNotFoundError:
            return None  # vanished between listing and reading: os.IsNotExist, ignored like a missing file
        documents.append(load_mapslice(data))
    return values_to_args(merge_values(documents))


# --------------------------------------------------------------------------------------------------------
# unknown keys (§5)

_FLAG_NAME = re.compile(r"^-+([^=]*)=")


def valid_flag_names(command: str) -> set[str] | None:
    """Names accepted in config for this argv[1]; None when K3s does not filter (agent, anything else).

    The lists are k3s' ServerFlags / EtcdSnapshotFlags: every name and alias, without urfave's help flag.
    """
    if command not in FILTERED_COMMANDS:
        return None
    spec = flagtable.command_spec(command)
    return {name for flag in spec.flags if flag is not flagtable.HELP_FLAG for name in flag.names}


def strip_invalid_flags(command: str, args: list[str],
                        warn: Callable[[str], None] | None = None) -> list[str]:
    valid = valid_flag_names(command)
    if valid is None:
        return args
    report = warn or log.warn
    kept = []
    for arg in args:
        match = _FLAG_NAME.match(arg)
        name = match.group(1) if match else arg
        if name in valid:
            kept.append(arg)
        else:
            report(f"Unknown flag {arg.split('=', 1)[0]} found in config.yaml, skipping\n")
    return kept


# --------------------------------------------------------------------------------------------------------
# the two readers K3s has


def find_start(argv: list[str]) -> tuple[list[str], list[str]] | None:
    """Split argv after the first split word (``etcd-snapshot`` takes one more non-flag word)."""
    words = {}
    for item in AFTER:
        name, _, extra = item.partition(":")
        words[name] = int(extra or 0)
    for i, arg in enumerate(argv):
        if arg in words:
            skip = words[arg]
            if skip and (len(argv) <= i + skip or argv[i + skip].startswith("-")):
                skip = 0
            return argv[: i + skip + 1], argv[i + skip + 1:]
    return None


def expand_argv(argv: list[str], env: Mapping[str, str]) -> list[str]:
    """configfilearg.MustParse without the fatal: the argv the inner k3s binary parses.

    ``argv`` includes argv[0]. Raises ConfigError for unreadable or malformed files.
    """
    split = find_start(argv)
    if split is None:
        return list(argv)
    base = find_config_file(argv, env)
    if base is None:
        return list(argv)
    values = read_config_args(base)
    if values is None:
        return list(argv)
    if len(argv) > 1:
        values = strip_invalid_flags(argv[1], values)
    prefix, suffix = split
    return [*prefix, *values, *suffix]


def find_string(argv: list[str], env: Mapping[str, str], target: str,
                override_flags: Iterable[str] = OVERRIDE_FLAGS) -> str:
    """Parser.FindString: the last value of one key across the files (``key+`` joins with commas).

    Reads K3S_CONFIG_FILE or the default only (this parser has no ``--config`` flag names).
    """
    overrides = set(override_flags)
    if any(arg in overrides for arg in argv):
        return ""
    base = find_config_file(argv, env, use_flags=False)
    files: list[ConfigPath] = []
    if base is not None:
        try:
            os.stat(base.real)
            files.append(base)
        except OSError:
            pass
        files.extend(dropin_files(base))
    last = ""
    for item in files:
        try:
            data = _read_bytes(item)
        except FileNotFoundError as exc:
            raise _go_os_error("open", item.shown, exc) from None
        for raw_key, value in load_mapslice(data):
            key = to_string(raw_key)
            append = key.endswith("+")
            if (key[:-1] if append else key) == target:
                last = f"{last},{to_string(value)}" if append else to_string(value)
    return last


def outer_check(argv: list[str], env: Mapping[str, str]) -> str:
    """The outer binary's early read (MustFindString for data-dir): returns the config data-dir.

    A broken file is fatal, unless --help/-h/--version/-v is in argv (the file is then not read at all);
    for kubectl/crictl/ctr (as argv[0] or as the command word) it is only a warning.
    """
    args = list(argv)
    if args and os.path.basename(args[0]) == PROGRAM:
        args = args[1:]
    overrides: tuple[str, ...] = OVERRIDE_FLAGS
    if args and os.path.basename(args[0]) in EXTERNAL_CLIS:
        overrides = ()
    try:
        return find_string(args, env, "data-dir", overrides)
    except ConfigError as exc:
        if overrides:
            log.fatal(str(exc))
        log.warn(str(exc))
        return ""
