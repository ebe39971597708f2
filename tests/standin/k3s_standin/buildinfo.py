"""Version data of the K3s stand-in (release_artifacts.md §1-§2).

The release builder writes ``_build.json`` into the payload copy of this package; unit tests run from the
source tree, where the file is absent, and get the defaults below.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

BUILD_FILE = Path(__file__).with_name("_build.json")

DEFAULT_VERSION = "v1.34.3+k3s1"
# A made-up but well-formed commit: real builds carry the first 8 hex digits of the k3s commit.
DEFAULT_GIT_COMMIT = "5f3b6c1e"
DEFAULT_GO_VERSION = "go1.24.11"
DEFAULT_ARCH = "amd64"
# Not in _build.json; the date of the v1.34.3+k3s1 "Update to" commit (config_file_rules.md header).
DEFAULT_BUILD_DATE = "2025-12-10T00:00:00Z"

_VERSION_RE = re.compile(r"^v(\d+)\.(\d+)\.(\d+)(-rc\d+)?[+-]k3s")


@dataclass(frozen=True)
class BuildInfo:
    version: str
    git_commit: str
    go_version: str
    arch: str
    build_date: str = DEFAULT_BUILD_DATE

    @property
    def kubernetes_version(self) -> str:
        """The bundled Kubernetes version: ``v1.34.3`` for ``v1.34.3+k3s1``."""
        return self.version.split("+", 1)[0]

    @property
    def major(self) -> str:
        return self._parts()[0]

    @property
    def minor(self) -> str:
        return self._parts()[1]

    @property
    def platform(self) -> str:
        # GOARCH naming: the armhf release asset is GOARCH=arm.
        return f"linux/{'arm' if self.arch in ('arm', 'armhf') else self.arch}"

    @property
    def int_bits(self) -> int:
        """Size of Go's ``int`` on this architecture (flag parsing range checks depend on it)."""
        return 32 if self.arch in ("arm", "armhf") else 64

    def version_line(self, program: str) -> str:
        """First line of ``k3s --version`` (release_artifacts.md §2)."""
        return f"{program} version {self.version} ({self.git_commit})"

    def version_output(self, program: str) -> str:
        return f"{self.version_line(program)}\ngo version {self.go_version}\n"

    def _parts(self) -> tuple[str, str]:
        match = _VERSION_RE.match(self.version)
        if not match:
            return ("1", "34")
        return (match.group(1), match.group(2))


def load(path: Path | None = None) -> BuildInfo:
    """Read a build file; missing file or missing keys fall back to the defaults."""
    data: dict[str, object] = {}
    target = path or BUILD_FILE
    try:
        loaded = json.loads(target.read_text(encoding="utf-8"))
        if isinstance(loaded, dict):
            data = loaded
    except (OSError, ValueError):
        data = {}
    return BuildInfo(
        version=str(data.get("version") or DEFAULT_VERSION),
        git_commit=str(data.get("git_commit") or DEFAULT_GIT_COMMIT)[:8],
        go_version=str(data.get("go_version") or DEFAULT_GO_VERSION),
        arch=str(data.get("arch") or DEFAULT_ARCH),
        build_date=str(data.get("build_date") or DEFAULT_BUILD_DATE),
    )


@lru_cache(maxsize=1)
def get() -> BuildInfo:
    """The build info of this installation (cached: the file never changes while running)."""
    return load()


def version_info(info: BuildInfo | None = None) -> dict[str, str]:
    """Body of the API's ``GET /version`` for ``info`` (default: this installation's build).

    K3s builds Kubernetes with its own version as gitVersion, so ``kubectl version`` shows
    ``Server Version: v1.34.3+k3s1``. The emulation/compatibility fields exist since Kubernetes 1.33;
    their values here (emulation = own minor, min compatibility = minor - 1) are not in the reference.
    """
    info = info or get()
    minor = info.minor
    return {
        "major": info.major,
        "minor": minor,
        "emulationMajor": info.major,
        "emulationMinor": minor,
        "minCompatibilityMajor": info.major,
        "minCompatibilityMinor": str(max(int(minor) - 1, 0)),
        "gitVersion": info.version,
        "gitCommit": info.git_commit,
        "gitTreeState": "clean",
        "buildDate": info.build_date,
        "goVersion": info.go_version,
        "compiler": "gc",
        "platform": info.platform,
    }
