# -*- coding: utf-8 -*-
# Copyright: edgefleet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check K3s config files (config.yaml + config.yaml.d/*.yaml) the way K3s will read them.

K3s turns every key into `--<key>=<value>` for its CLI parser (config_file_rules.md §3-9): keys are
flag names or aliases, `key+` appends, lists repeat the flag, scalars are printed with Go's fmt.Sprint.
Each flag kind then has its own parser (Go ParseBool, ParseInt, ParseDuration), whose failures stop
K3s at start-up, long after Ansible reported success. This module finds those failures up front and
returns the values normalised to what K3s will receive.

Private to edgefleet.k3s. Pure Python (3.8+); see _k3s_findings.py for where it runs.
"""

from __future__ import annotations

import re
import typing as t

from ansible_collections.edgefleet.k3s.plugins.module_utils._k3s_findings import (
    Findings, a_type, did_you_mean,
)
from ansible_collections.edgefleet.k3s.plugins.module_utils._k3s_flags import (
    DEFAULT_TABLE, REMOVED_HINTS, Flag, FlagTable,
)
from ansible_collections.edgefleet.k3s.plugins.module_utils._k3s_labels import check_labels, check_taints
from ansible_collections.edgefleet.k3s.plugins.module_utils._k3s_network import check_ip_list, split_elements

MASK = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
_INVALID = object()

GO_TRUE = frozenset(("1", "t", "T", "TRUE", "true", "True"))
GO_FALSE = frozenset(("0", "f", "F", "FALSE", "false", "False"))
_YAML_ONLY_BOOLS = frozenset(("yes", "no", "on", "off", "y", "n"))
_GO_DURATION_RE = re.compile(r"^[-+]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:ns|us|µs|μs|ms|s|m|h))+$")
_DURATION_PART_RE = re.compile(r"([0-9]*\.?[0-9]*)(ns|us|µs|μs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_DECIMAL_RE = re.compile(r"^[+-]?(0|[1-9][0-9]*)$")
_PORT_RANGE_RE = re.compile(r"^([0-9]+)(?:([-+])([0-9]+))?$")
_OCTAL_MODE_RE = re.compile(r"^[0-7]{3,4}$")
_DROPIN_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]*$")
INT64_MAX = 2 ** 63 - 1

# Keys the collection sets itself: a value in the user's dict would fight with the collection's own
# (and for `t` vs `token` even stop K3s). Map: key -> parameter whose variable replaces it.
DEFAULT_MANAGED = {
    "token": ("token", "the collection writes the token into a 0600 file and passes token-file itself"),
    "token-file": ("token", "the collection writes the token into a 0600 file and passes token-file itself"),
    "agent-token": ("agent_token", "the collection writes the agent token into a 0600 file and passes "
                    "agent-token-file itself"),
    "agent-token-file": ("agent_token", "the collection writes the agent token into a 0600 file and passes "
                         "agent-token-file itself"),
    "server": ("server_url", "the collection renders the join URL after checking and normalising it"),
    "config": (None, "it has no effect inside a config file; the collection always writes "
               "/etc/rancher/k3s/config.yaml and config.yaml.d/"),
}


def default_managed_keys(variable_names: t.Mapping[str, str]) -> t.Dict[str, str]:
    """Managed key -> full message tail (why + what to set instead), in the user's variable names."""
    managed = {}
    for key, (parameter, why) in DEFAULT_MANAGED.items():
        fix = f"Set {variable_names[parameter]} instead" if parameter else "Remove it"
        managed[key] = f"{why}. {fix}"
    return managed


def dropin_file_name(name: str) -> str:
    """K3s reads only *.yaml / *.yml drop-ins; a bare name gets '.yaml'."""
    return name if name.lower().endswith((".yaml", ".yml")) else name + ".yaml"


def _shown(flag: t.Optional[Flag], value: t.Any) -> str:
    if flag is not None and flag.secret:
        return "(hidden)"
    return f"'{value}'" if isinstance(value, str) else str(value)


def _duration_seconds(text: str) -> float:
    sign = -1.0 if text.startswith("-") else 1.0
    return sign * sum(float(number or 0) * _UNIT_SECONDS[unit] for number, unit in _DURATION_PART_RE.findall(text))


def _mode_suggestion(number: int) -> str:
    """What the user most likely typed: YAML reads an unquoted 0644 as 420, an unquoted 644 as 644."""
    if 0 <= number <= 0o777:
        return f"0{number:o}"
    if re.match(r"^[0-7]{3}$", str(number)):
        return f"0{number}"
    return "0600"


class ConfigChecker:
    """Checks the config dicts of one host for one role and K3s version.

    `role` None means "role unknown" (the rendering filter): flags of any role are accepted and only
    values are checked.
    """

    def __init__(self, findings: Findings, role: t.Optional[str], version: t.Any = None,
                 managed: t.Optional[t.Mapping[str, str]] = None, table: FlagTable = DEFAULT_TABLE,
                 token_variable: str = "the token variable") -> None:
        self.findings = findings
        self.token_variable = token_variable
        self.role = role
        self.version = version
        self.managed = dict(managed or {})
        self.table = table
        self._forms: t.Dict[str, t.Dict[str, str]] = {}

    # ----- keys -------------------------------------------------------------------------------------

    def _consequence(self, key: str) -> str:
        if self.role == "agent":
            return f"a K3s agent stops with 'flag provided but not defined: -{key}'"
        return f"k3s server skips it ('Unknown flag --{key} found in config.yaml, skipping'), so the setting is lost"

    def _resolve(self, key: str, where: str) -> t.Optional[Flag]:
        """The flag `key` means for this role; reports keys K3s would reject or ignore."""
        if self.role is None:
            flag = self.table.lookup_any_role(key) or self.table.lookup("etcd-snapshot", key)
        else:
            flag = self.table.lookup(self.role, key)
        if flag is not None:
            self._note_flag(flag, where)
            return flag
        if key in self.table.removed:
            hint = REMOVED_HINTS.get(key, "remove it").format(token_variable=self.token_variable)
            hint = hint[0].upper() + hint[1:]
            self.findings.problem(where, f"'{key}' was removed from K3s ({self._consequence(key)})", hint)
            return None
        other_role = "server" if self.role == "agent" else "agent"
        if self.role and self.table.lookup(other_role, key) is not None:
            if self.role == "agent":
                self.findings.problem(where, f"'{key}' is a server-only flag; {self._consequence(key)}",
                                      "Move it to the server configuration or remove it")
            else:
                self.findings.problem(where, f"'{key}' is an agent-only flag; {self._consequence(key)}",
                                      "Move it to the agent configuration or remove it")
            return None
        snapshot_flag = self.table.lookup("etcd-snapshot", key)
        if snapshot_flag is not None and self.role == "server":
            self.findings.warn(where, f"'{key}' is only read by 'k3s etcd-snapshot'; k3s server skips it with "
                               f"'Unknown flag --{key} found in config.yaml, skipping'",
                               "Keep it only if you run etcd-snapshot commands on this node")
            return snapshot_flag
        suggestion = self.table.suggest(self.role or "server", key)
        fix = f"Did you mean '{suggestion}'?" if suggestion else f"Check the key against 'k3s {self.role} --help'"
        self.findings.problem(where, f"'{key}' is not a K3s {self.role or 'server or agent'} flag "
                              f"({self._consequence(key)})", fix)
        return None

    def _note_flag(self, flag: Flag, where: str) -> None:
        if flag.hidden:
            self.findings.warn(where, f"'{flag.name}' is a hidden, experimental K3s flag",
                               "Expect it to change between K3s releases")
        release = self.table.introduced_after(flag.name, self.version)
        if release:
            self.findings.warn(where, f"'{flag.name}' first appeared around K3s {release}, later than "
                               f"{self.version}", "Raise the version or drop the key")

    def _note_spelling(self, flag: Flag, spelling: str, where: str) -> None:
        self._forms.setdefault(flag.name, {}).setdefault(spelling, where)

    def report_two_forms(self) -> None:
        """Alias and long name anywhere in the merged command line stop K3s (config_file_rules.md §6)."""
        for name, forms in self._forms.items():
            if len(forms) < 2:
                continue
            aliases = [s for s in forms if s != name]
            places = " and ".join(f"'{s}' in {w}" for s, w in forms.items())
            self.findings.problem(
                forms[aliases[0]],
                f"sets '{name}' twice, as {places}; K3s stops with 'Cannot use two forms of the same flag: "
                f"{aliases[0]} {name}'",
                f"Use only '{name}'",
            )

    # ----- values -----------------------------------------------------------------------------------

    def _string(self, flag: Flag, item: t.Any, where: str) -> t.Any:
        if isinstance(item, str):
            if item != item.strip():
                self.findings.warn(where, f"{_shown(flag, item)} has surrounding whitespace, which K3s strips",
                                   "Remove it")
            return item.strip()
        if isinstance(item, bool):
            self.findings.warn(where, f"YAML read the value as the boolean {str(item).lower()}, so K3s receives "
                               f"'{str(item).lower()}'", "Quote the value if you meant a word such as yes or on")
            return "true" if item else "false"
        if isinstance(item, int):
            return str(int(item))
        if item is None:
            self.findings.warn(where, "is empty, so K3s receives an empty value", "Give a value or remove the key")
            return ""
        if isinstance(item, float):
            self.findings.problem(where, f"YAML read {_shown(flag, item)} as a floating-point number, which K3s "
                                  "would print differently", "Quote the value")
            return _INVALID
        self.findings.problem(where, f"is {a_type(item)}; K3s only takes plain values or lists of them",
                              "Give a string (or a list of strings)")
        return _INVALID

    def _bool(self, flag: Flag, item: t.Any, where: str) -> t.Any:
        if isinstance(item, bool):
            return item
        text = str(int(item)) if isinstance(item, int) else item
        if isinstance(text, str) and text.strip() in GO_TRUE | GO_FALSE:
            return text.strip() in GO_TRUE
        shown = "" if text is None else text
        why = f"K3s fails with 'invalid boolean value \"{shown}\" for -{flag.name}: parse error'"
        if isinstance(text, str) and text.strip().lower() in _YAML_ONLY_BOOLS:
            why = f"the string '{text}' is not a Go boolean; {why}"
        else:
            why = f"{_shown(flag, item)} is not a boolean; {why}"
        self.findings.problem(where, why, "Write true or false without quotes")
        return _INVALID

    def _int(self, flag: Flag, item: t.Any, where: str) -> t.Any:
        number: t.Optional[int] = None
        if isinstance(item, int) and not isinstance(item, bool):
            number = int(item)
        elif isinstance(item, str) and _DECIMAL_RE.match(item.strip()):
            number = int(item.strip())
        elif isinstance(item, str) and re.match(r"^[+-]?0[0-9]+$", item.strip()):
            self.findings.problem(where, f"'{item}' has a leading 0, which Go reads as an octal number",
                                  "Write the number without the leading 0")
            return _INVALID
        if number is None:
            shown = "" if item is None else (str(item).lower() if isinstance(item, bool) else item)
            self.findings.problem(where, f"{_shown(flag, item)} is not a whole number; K3s fails with 'invalid value "
                                  f"\"{shown}\" for flag -{flag.name}: parse error'", "Give a whole number")
            return _INVALID
        low = 0 if flag.default == 0 else 1
        if flag.name.endswith("-port") and not low <= number <= 65535:
            self.findings.problem(where, f"{number} is not a TCP port", f"Give a port from {low} to 65535")
            return _INVALID
        if abs(number) > INT64_MAX:
            self.findings.problem(where, f"{number} is too large ('value out of range')", "Give a smaller number")
            return _INVALID
        return number

    def _duration(self, flag: Flag, item: t.Any, where: str) -> t.Any:
        if isinstance(item, (int, float)) and not isinstance(item, bool):
            self.findings.problem(where, f"{item} has no unit; K3s fails with 'invalid value \"{item}\" for flag "
                                  f"-{flag.name}: parse error'", f"Write a Go duration such as '{item}s' or '5m'")
            return _INVALID
        text = item.strip() if isinstance(item, str) else None
        if text is None or not (text == "0" or _GO_DURATION_RE.match(text)):
            self.findings.problem(where, f"{_shown(flag, item)} is not a Go duration; K3s fails with 'invalid value "
                                  f"\"{'' if item is None else item}\" for flag -{flag.name}: parse error'",
                                  "Write a duration with a unit such as '30s', '5m' or '1h30m'")
            return _INVALID
        if _duration_seconds(text) <= 0:
            self.findings.problem(where, f"'{text}' is not positive; K3s fails with '{flag.name} must be greater "
                                  "than 0s'", "Give a positive duration such as '5m'")
            return _INVALID
        return text

    def _scalar(self, flag: Flag, item: t.Any, where: str) -> t.Any:
        parse = {"bool": self._bool, "int": self._int, "duration": self._duration}.get(flag.kind, self._string)
        if isinstance(item, (t.Mapping, list, tuple)):
            self.findings.problem(where, f"has {a_type(item)} where K3s expects a single value",
                                  "Flatten it to plain values")
            return _INVALID
        return parse(flag, item, where)

    def normalise_value(self, flag: Flag, value: t.Any, where: str) -> t.Any:
        """The value as K3s receives it (list for repeatable flags), or _INVALID after reporting."""
        if flag.name == "write-kubeconfig-mode" and isinstance(value, int) and not isinstance(value, bool):
            self._mode_number(value, where)
            return _INVALID
        if isinstance(value, t.Mapping):
            self.findings.problem(where, "is a mapping; K3s would receive Go map text such as 'map[a:b]'",
                                  "Give a plain value or a list")
            return _INVALID
        if isinstance(value, (list, tuple)):
            if flag.kind != "stringSlice" and len(value) > 1:
                self.findings.warn(where, f"gives the single-value flag '{flag.name}' {len(value)} values; only the "
                                   "last one takes effect", "Give one value")
            items = [self._scalar(flag, item, where) for item in value]
            if any(item is _INVALID for item in items):
                return _INVALID
            normalised: t.Any = items
        else:
            normalised = self._scalar(flag, value, where)
            if normalised is _INVALID:
                return _INVALID
            if flag.kind == "stringSlice":
                normalised = [normalised]
        self._check_meaning(flag, normalised, where)
        return normalised

    def _mode_number(self, value: int, where: str) -> None:
        """An unquoted mode: YAML 1.1 reads 0644 as the number 420, K3s then parses "420" as octal."""
        digits = str(value)
        if re.match(r"^[0-7]+$", digits):
            effect = f"K3s reads '{digits}' as octal, so the kubeconfig would get mode 0{digits}"
        else:
            effect = f"'{digits}' is not octal, so K3s only logs a warning and keeps mode 0600"
        self.findings.problem(
            where,
            f"is the number {value}, not a string: YAML reads an unquoted 0644 as the number 420 and {effect}",
            f"Quote the mode: write-kubeconfig-mode: \"{_mode_suggestion(value)}\"",
        )

    # ----- flag-specific meaning --------------------------------------------------------------------

    def _check_meaning(self, flag: Flag, value: t.Any, where: str) -> None:
        items = value if isinstance(value, list) else [value]
        if flag.name == "write-kubeconfig-mode":
            for item in items:
                if not _OCTAL_MODE_RE.match(item):
                    self.findings.problem(where, f"'{item}' is not an octal file mode; K3s only logs a warning and "
                                          "keeps mode 0600", "Write an octal mode in quotes, e.g. \"0644\"")
        elif flag.name == "disable":
            for item in split_elements(items):
                if item and item not in flag.valid_values:
                    hint = did_you_mean(item, flag.valid_values)
                    self.findings.warn(where, f"K3s ships no component '{item}' (it has "
                                       f"{', '.join(flag.valid_values)}){'; ' + hint if hint else ''}",
                                       "Check the name: disable removes manifests/<name>.yaml, whatever it is")
        elif flag.valid_values:
            for item in items:
                if item not in flag.valid_values:
                    hint = did_you_mean(item, flag.valid_values, cutoff=0.6)
                    self.findings.problem(where, f"{_shown(flag, item)} is not a valid {flag.name} (K3s knows "
                                          f"{', '.join(flag.valid_values)})",
                                          hint[0].upper() + hint[1:] if hint else "Pick one of them")
        elif flag.name in ("node-ip", "node-external-ip"):
            check_ip_list(items, where, flag.name, self.findings)
        elif flag.name == "node-label":
            check_labels(items, where, self.findings)
        elif flag.name == "node-taint":
            check_taints(items, where, self.findings)
        elif flag.name == "service-node-port-range":
            self._check_port_range(items[-1], where)

    def _check_port_range(self, text: str, where: str) -> None:
        match = _PORT_RANGE_RE.match(text)
        ok = bool(match)
        if match and match.group(2):
            first, other = int(match.group(1)), int(match.group(3))
            last = first + other if match.group(2) == "+" else other
            ok = 0 < first <= last <= 65535
        if not ok:
            self.findings.problem(where, f"'{text}' is not a port range (K3s: 'invalid port range {text}')",
                                  "Write it as '30000-32767'")

    # ----- files ------------------------------------------------------------------------------------

    def check_file(self, where: str, data: t.Any) -> t.Dict[str, t.Any]:
        """Normalised copy of one file: long flag names ('+' kept), values as K3s receives them.

        Keys that fail a check are left out; the findings say why.
        """
        if data is None:
            return {}
        if not isinstance(data, t.Mapping):
            self.findings.problem(where, f"is {a_type(data)}, not a mapping of K3s flags",
                                  "Give a dictionary such as {'node-label': ['site=berlin']}")
            return {}
        result: t.Dict[str, t.Any] = {}
        for raw_key, value in data.items():
            item_where = f"{where}['{raw_key}']"
            if not isinstance(raw_key, str) or not raw_key.rstrip("+"):
                self.findings.problem(item_where, "is not a flag name", "Use K3s flag names as keys")
                continue
            append = raw_key.endswith("+")
            spelling = raw_key[:-1] if append else raw_key
            flag = self._resolve(spelling, item_where)
            if flag is None:
                continue
            self._note_spelling(flag, spelling, item_where)
            if flag.name in self.managed:
                self.findings.problem(item_where, f"'{spelling}' is managed by the collection: "
                                      f"{self.managed[flag.name]}")
                continue
            if append and flag.kind != "stringSlice":
                self.findings.warn(item_where, f"'{spelling}+' repeats the single-value flag '{flag.name}'; only the "
                                   "last value takes effect", f"Write '{flag.name}' without '+'")
            normalised = self.normalise_value(flag, value, item_where)
            if normalised is not _INVALID:
                result[flag.name + ("+" if append else "")] = normalised
        return result

    def merge(self, files: t.Sequence[t.Tuple[str, t.Mapping[str, t.Any]]]
              ) -> t.Tuple[t.Dict[str, t.Any], t.Dict[str, str]]:
        """Merge files in K3s order (base, then drop-ins by name): later replaces, `key+` appends.

        Returns the effective flags and, per flag, the variable that last set it.
        """
        effective: t.Dict[str, t.Any] = {}
        sources: t.Dict[str, str] = {}
        set_in: t.Dict[str, str] = {}
        for where, data in files:
            for key, value in data.items():
                name, append = key.rstrip("+"), key.endswith("+")
                flag = self.table.lookup_any_role(name)
                if append and name in effective:
                    before = effective[name] if isinstance(effective[name], list) else [effective[name]]
                    effective[name] = before + (value if isinstance(value, list) else [value])
                else:
                    if (name in effective and set_in[name] != where and flag is not None
                            and flag.kind == "stringSlice"):
                        self.findings.warn(f"{where}['{key}']", f"replaces the '{name}' list from {set_in[name]}",
                                           f"Write '{name}+' to add to it instead")
                    effective[name] = list(value) if isinstance(value, list) else value
                set_in[name] = where
                sources[name] = f"{where}['{key}']"
        return effective, sources


def check_dropin_names(dropins: t.Any, where: str, findings: Findings) -> t.List[t.Tuple[str, str, t.Any]]:
    """(file name, variable label, content) of each drop-in, in the order K3s reads them (byte order)."""
    if dropins is None:
        return []
    if not isinstance(dropins, t.Mapping):
        findings.problem(where, f"is {a_type(dropins)}", "Give a mapping of file name -> K3s flags")
        return []
    files = []
    for name, content in dropins.items():
        label = f"{where}['{name}']"
        if not isinstance(name, str) or not _DROPIN_NAME_RE.match(name):
            findings.problem(label, "is not a usable file name", "Use letters, digits, '.', '_' and '-', e.g. "
                             "'50-etcd-s3'")
            continue
        files.append((dropin_file_name(name), label, content))
    names = [f[0] for f in files]
    for duplicate in sorted({n for n in names if names.count(n) > 1}):
        findings.problem(where, f"two entries become the file {duplicate}", "Rename one of them")
    return sorted(files, key=lambda f: f[0].encode("utf-8"))


def mask_secrets(config: t.Mapping[str, t.Any], table: FlagTable = DEFAULT_TABLE) -> t.Dict[str, t.Any]:
    """Copy of a normalised config with credential values replaced, safe to return in task results."""
    masked = {}
    for key, value in config.items():
        flag = table.lookup_any_role(key.rstrip("+")) or table.lookup("etcd-snapshot", key.rstrip("+"))
        if flag is not None and flag.secret:
            value = [MASK for _item in value] if isinstance(value, list) else MASK
        masked[key] = value
    return masked
