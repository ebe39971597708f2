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
from .daemon import flag

LIST_ALIASES = ("ls", "list", "l")


def snapshot_dir(data_dir: str, override: str | None) -> Path:
    return paths.host(override) if override else paths.host(data_dir) / "server" / "db" / "snapshots"


def run(flags_or_argv: Any, subcommand: str | None = None, positional: list[str] | None = None) -> int:
    """``k3s etcd-snapshot``: from the CLI with parsed flags, the subcommand ("save", "ls", "delete"...) and
    the positional arguments; or with a command line (what follows ``etcd-snapshot``), which the CLI
    parses (config file included) and then hands back here."""
    if isinstance(flags_or_argv, list):
        from . import cli

        return cli.main(["etcd-snapshot", *flags_or_argv], {"K3S_STANDIN_ARGV0": "k3s", **os.environ})
    sub, flags = subcommand or "save", flags_or_argv
    positional = positional or []
    data_dir = paths.resolve_data_dir(flag(flags, "data-dir"))
    server_dir = paths.host(data_dir) / "server"
    if not (server_dir / "db" / "etcd").is_dir():
        log.fatal_line(f"Error: etcd database not found in {paths.unhost(server_dir)}")
        return 1
    target = snapshot_dir(data_dir, flag(flags, "dir"))
    if sub in LIST_ALIASES:
        return _list(target)
    if sub == "delete":
        return _delete(target, positional)
    return _save(server_dir, target, flags)


def _save(server_dir: Path, target: Path, flags: Any) -> int:
    node = (flag(flags, "node-name") or nodes.hostname()).lower()
    name = f"{flag(flags, 'name') or 'on-demand'}-{node}-{int(time.time())}"
    target.mkdir(parents=True, exist_ok=True)
    source = server_dir / "db" / "etcd" / "standin-store.json"
    out = target / name
    if flag(flags, "snapshot-compress"):
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
