# -*- coding: utf-8 -*-
# Copyright: edgefleet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Look-ups in the K3s flag table: which keys a K3s config file may hold, per command and version.

Private to edgefleet.k3s. Pure Python (3.8+); see _k3s_findings.py for where it runs.
The data comes from _k3s_flag_table.py, generated from the reference read in the K3s source.
"""

from __future__ import annotations

import re
import typing as t

from ansible_collections.edgefleet.k3s.plugins.module_utils import _k3s_flag_table as _data
from ansible_collections.edgefleet.k3s.plugins.module_utils._k3s_findings import closest

ROLES = ("server", "agent")

# Flags whose value is a credential: never repeated in messages, masked in returned config.
SECRET_FLAGS = frozenset((
    "token", "agent-token", "vpn-auth", "datastore-endpoint",
    "etcd-s3-access-key", "etcd-s3-secret-key", "etcd-s3-session-token",
    "etcd-token", "s3-access-key", "s3-secret-key", "s3-session-token",
))

# What to write instead of a flag that K3s no longer defines. The reference only lists the names; the
# replacements come from the K3s docs and changelogs that retired them.
REMOVED_HINTS = {
    "no-deploy": "use 'disable' with a list of components, e.g. disable: [traefik, servicelb]",
    "cluster-secret": "remove it; the join secret is the token: set {token_variable} instead",
    "no-flannel": "use flannel-backend: none",
    "disable-selinux": "remove it; SELinux support is off unless 'selinux: true' is set",
}


class Flag(t.NamedTuple):
    name: str
    kind: str  # string | bool | stringSlice | int | duration (urfave/cli v2 flag kinds)
    aliases: t.Tuple[str, ...]
    hidden: bool
    valid_values: t.Tuple[str, ...]
    comma_split: bool  # K3s splits each element on commas itself (tls-san, cluster-cidr, node-ip, ...)
    default: t.Any

    @property
    def spellings(self) -> t.Tuple[str, ...]:
        return (self.name,) + self.aliases

    @property
    def secret(self) -> bool:
        return self.name in SECRET_FLAGS


def _flag(name: str, entry: t.Mapping[str, t.Any]) -> Flag:
    return Flag(
        name=name,
        kind=entry["type"],
        aliases=tuple(entry.get("aliases", ())),
        hidden=bool(entry.get("hidden", False)),
        valid_values=tuple(entry.get("valid_values", ())),
        comma_split=bool(entry.get("comma_split", False)),
        default=entry.get("default"),
    )


def release_key(release: str) -> t.Tuple[int, ...]:
    """Sort key of 'v1.32.8' (K3s suffixes are irrelevant for "introduced in")."""
    return tuple(int(part) for part in re.findall(r"\d+", release.split("+", 1)[0])[:3])


class FlagTable:
    """Flags of `k3s server`, `k3s agent` and `k3s etcd-snapshot` for the minors the data covers."""

    def __init__(self, data: t.Any = _data) -> None:
        self.source: str = data.SOURCE
        self.minors: t.Tuple[str, ...] = tuple(data.TABLE_MINORS)
        self.server_only = frozenset(data.SERVER_ONLY)
        self.agent_only = frozenset(data.AGENT_ONLY)
        self.removed: t.Tuple[str, ...] = tuple(data.REMOVED)
        self.introduced: t.Dict[str, str] = dict(data.INTRODUCED)
        self._flags: t.Dict[str, t.Dict[str, Flag]] = {}
        self._by_spelling: t.Dict[str, t.Dict[str, Flag]] = {}
        for command, entries in data.FLAGS.items():
            flags = {name: _flag(name, entry) for name, entry in entries.items()}
            self._flags[command] = flags
            self._by_spelling[command] = {s: f for f in flags.values() for s in f.spellings}

    def lookup(self, command: str, key: str) -> t.Optional[Flag]:
        """Flag that `key` (long name or alias) means for `command`, or None if K3s does not define it."""
        return self._by_spelling.get(command, {}).get(key)

    def lookup_any_role(self, key: str) -> t.Optional[Flag]:
        """Flag for a key in a config whose role is unknown (rendering only): server first, then agent."""
        return self.lookup("server", key) or self.lookup("agent", key)

    def names(self, command: str) -> t.List[str]:
        return list(self._flags.get(command, {}))

    def suggest(self, command: str, key: str) -> t.Optional[str]:
        """Closest real flag for a mistyped key.

        Common slips are fixed exactly first (upper case, underscores as in Ansible variables, leading
        dashes copied from a command line); difflib handles the real typos.
        """
        candidates = self.names(command)
        cleaned = key.strip().lstrip("-").lower().replace("_", "-")
        if cleaned in candidates and cleaned != key:
            return cleaned
        return closest(cleaned, candidates)

    def introduced_after(self, flag_name: str, version: t.Any) -> t.Optional[str]:
        """Release that added `flag_name`, when that is later than `version` (a K3sVersion)."""
        release = self.introduced.get(flag_name)
        if release is None or version is None:
            return None
        if release_key(release) > (version.major, version.minor, version.patch):
            return release
        return None

    def covers(self, minor: str) -> bool:
        return minor in self.minors


DEFAULT_TABLE = FlagTable()
