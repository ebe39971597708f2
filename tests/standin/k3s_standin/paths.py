"""Host path mapping for the K3s stand-in.

Every absolute path the stand-in reads or writes goes through :func:`host`, so that tests can run a
complete server or agent inside a temporary directory on the developer machine: the environment
variable ``K3S_STANDIN_ROOT`` names a directory that plays the role of ``/``. On lab hosts the variable
is unset and paths are used as they are.
"""
from __future__ import annotations

import os
from pathlib import Path

ROOT_ENV = "K3S_STANDIN_ROOT"
DEFAULT_DATA_DIR = "/var/lib/rancher/k3s"
DEFAULT_KUBECONFIG = "/etc/rancher/k3s/k3s.yaml"
NODE_CONFIG_DIR = "/etc/rancher/node"


def root() -> Path:
    """The directory standing for ``/`` (``/`` itself unless ``K3S_STANDIN_ROOT`` is set)."""
    return Path(os.environ.get(ROOT_ENV) or "/")


def simulated() -> bool:
    """True when the stand-in runs inside a simulated root (tests), not on a real host."""
    return root() != Path("/")


def host(p: str | os.PathLike[str]) -> Path:
    """Map an absolute path of the emulated host to the real file system.

    Relative paths are returned unchanged (they are relative to the working directory, as in K3s).
    A path that already lies inside the simulated root is not prefixed twice, so that values that went
    through this function once (for example a data dir kept in a config object) stay stable.
    """
    path = Path(p)
    base = root()
    if not path.is_absolute() or base == Path("/"):
        return path
    if path == base or base in path.parents:
        return path
    return base / path.relative_to("/")


def unhost(p: str | os.PathLike[str]) -> str:
    """Inverse of :func:`host`: the path as the emulated host sees it (used in log lines and files)."""
    path = Path(p)
    base = root()
    if base != Path("/") and (path == base or base in path.parents):
        return "/" + str(path.relative_to(base)) if path != base else "/"
    return str(path)


def is_privileged() -> bool:
    """Whether K3s would consider itself root. A simulated host always behaves as root."""
    return simulated() or os.geteuid() == 0


def default_data_dir() -> str:
    """K3s' computed data dir: /var/lib/rancher/k3s for root, ${HOME}/.rancher/k3s otherwise."""
    if is_privileged():
        return DEFAULT_DATA_DIR
    return str(Path.home() / ".rancher" / "k3s")


def resolve_data_dir(value: str | None) -> str:
    """Absolute data dir as K3s computes it (``filepath.Abs`` of the flag, or the default)."""
    if not value:
        return default_data_dir()
    return os.path.abspath(os.path.expanduser(value))
