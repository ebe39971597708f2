"""``k3s etcd-snapshot save|ls|delete``: on-demand snapshots of the embedded datastore.

Snapshots are files ``<name>-<node>-<unix time>`` in ``${data-dir}/server/db/snapshots`` (or ``--dir``);
the stand-in's snapshot content is a copy of its object store. Only servers with embedded etcd
(``--cluster-init``, marker directory ``server/db/etcd``) have snapshots; otherwise the command fails
with ``etcd database not found in <data-dir>/server`` — the wording of K3s' etcd-snapshot command
before v1.29, which checked for the local etcd directory. (Newer releases ask the running server
instead; their exact error text for a non-etcd server is not in our reference.)
"""
from __future__ import annotations

import datetime as dt
import os
import shutil
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

from . import log, nodes, paths

LIST_ALIASES = ("ls", "list", "l")


def _value(source: Any, name: str, default: Any = None) -> Any:
    if isinstance(source, dict):
        return source.get(name, default)
    try:
        value = source.get(name)
    except (AttributeError, KeyError):
        return default
    return default if value is None else value


def _parse_argv(argv: list[str]) -> tuple[str, dict[str, Any], list[str]]:
    values: dict[str, Any] = {}
    positional: list[str] = []
    items = list(argv)
    sub = items.pop(0) if items and not items[0].startswith("-") else ""
    aliases = {"-d": "data-dir", "--etcd-snapshot-dir": "dir", "--etcd-snapshot-compress": "snapshot-compress",
               "-o": "output"}
    while items:
        item = items.pop(0)
        if not item.startswith("-"):
            positional.append(item)
            continue
        name, eq, value = item.partition("=")
        key = aliases.get(name, name.lstrip("-"))
        if key in ("snapshot-compress",):
            values[key] = value.lower() in ("1", "t", "true") if eq else True
            continue
        values[key] = value if eq else (items.pop(0) if items else "")
    return sub, values, positional


def snapshot_dir(data_dir: str, override: str | None) -> Path:
    return paths.host(override) if override else paths.host(data_dir) / "server" / "db" / "snapshots"


def run(flags_or_argv: Any, subcommand: str | None = None, positional: list[str] | None = None) -> int:
    if isinstance(flags_or_argv, list):
        sub, flags, positional = _parse_argv(flags_or_argv)
    else:
        sub, flags = subcommand or "save", flags_or_argv
        positional = positional or []
    data_dir = paths.resolve_data_dir(_value(flags, "data-dir"))
    server_dir = paths.host(data_dir) / "server"
    if not (server_dir / "db" / "etcd").is_dir():
        log.fatal_line(f"Error: etcd database not found in {paths.unhost(server_dir)}")
        return 1
    target = snapshot_dir(data_dir, _value(flags, "dir"))
    if sub in LIST_ALIASES:
        return _list(target)
    if sub == "delete":
        return _delete(target, positional)
    return _save(server_dir, target, flags)


def _save(server_dir: Path, target: Path, flags: Any) -> int:
    node = (_value(flags, "node-name") or nodes.hostname()).lower()
    name = f"{_value(flags, 'name') or 'on-demand'}-{node}-{int(time.time())}"
    target.mkdir(parents=True, exist_ok=True)
    source = server_dir / "db" / "etcd" / "standin-store.json"
    out = target / name
    if _value(flags, "snapshot-compress"):
        out = target / f"{name}.zip"
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(name, source.read_bytes() if source.exists() else b"{}")
    elif source.exists():
        shutil.copyfile(source, out)
    else:
        out.write_bytes(b"{}")
    os.chmod(out, 0o600)
    log.info(f"Snapshot {out.name} saved.")
    return 0


def _list(target: Path) -> int:
    rows = [["Name", "Location", "Size", "Created"]]
    files = sorted(p for p in target.iterdir() if p.is_file()) if target.is_dir() else []
    for path in files:
        created = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        rows.append([path.name, f"file://{paths.unhost(path)}", str(path.stat().st_size), created])
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for row in rows:
        sys.stdout.write(" ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() + "\n")
    sys.stdout.flush()
    return 0


def _delete(target: Path, names: list[str]) -> int:
    for name in names:
        path = target / name
        if path.exists():
            path.unlink()
            log.info(f"Snapshot {name} deleted.")
        else:
            log.warning(f"Snapshot {name} not found")
    return 0
