"""Whether a node can obtain its pause (sandbox) image, which decides if its Node becomes Ready.

Real K3s nodes need ``rancher/mirrored-pause`` before any pod sandbox starts. It comes either from an
airgap image archive in ``${data-dir}/agent/images/`` (imported by containerd at start and whenever the
directory changes) or from a registry, which needs a route out of the host. The stand-in cannot pull
anything, so it treats "the host has a default route" as "the registry is reachable".
"""
from __future__ import annotations

import json
import tarfile
from dataclasses import dataclass
from pathlib import Path

# release_artifacts.md §5: suffixes the K3s image watcher accepts (case-sensitive).
ARCHIVE_SUFFIXES = (".tar", ".tar.lz4", ".tar.bz2", ".tbz", ".tar.gz", ".tgz", ".tar.zst", ".tzst")
LIST_SUFFIX = ".txt"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
LZ4_MAGIC = b"\x04\x22\x4d\x18"
DEFAULT_PAUSE_IMAGE = "rancher/mirrored-pause:3.6"


@dataclass(frozen=True)
class Verdict:
    ready: bool
    source: str  # "archive:<file>", "network", or "" when not ready
    message: str


def normalize_ref(ref: str) -> str:
    """Docker reference without the default registry and library/ prefix: the form users write."""
    ref = ref.strip()
    for prefix in ("docker.io/", "index.docker.io/", "registry-1.docker.io/"):
        if ref.startswith(prefix):
            ref = ref[len(prefix):]
            break
    if ref.startswith("library/"):
        ref = ref[len("library/"):]
    if ":" not in ref.rsplit("/", 1)[-1] and "@" not in ref:
        ref += ":latest"
    return ref


def pause_image_ref(pause_image: str | None, system_default_registry: str | None) -> str:
    image = pause_image or DEFAULT_PAUSE_IMAGE
    if system_default_registry and image == DEFAULT_PAUSE_IMAGE:
        image = f"{system_default_registry.rstrip('/')}/{image}"
    return image


def _tar_refs(tar: tarfile.TarFile) -> set[str]:
    """Image names listed by a docker-archive (manifest.json RepoTags) or OCI layout (index.json)."""
    refs: set[str] = set()
    for member in tar:
        name = member.name.lstrip("./")
        if name not in ("manifest.json", "index.json") or not member.isfile():
            continue
        handle = tar.extractfile(member)
        if handle is None:
            continue
        try:
            doc = json.load(handle)
        except ValueError:
            continue
        refs |= _refs_from_manifest(doc) if name == "manifest.json" else _refs_from_index(doc)
    return refs


def _refs_from_manifest(doc: object) -> set[str]:
    refs: set[str] = set()
    if isinstance(doc, list):
        for entry in doc:
            if isinstance(entry, dict):
                refs |= {normalize_ref(t) for t in entry.get("RepoTags") or [] if isinstance(t, str)}
    return refs


def _refs_from_index(doc: object) -> set[str]:
    refs: set[str] = set()
    if isinstance(doc, dict):
        for entry in doc.get("manifests") or []:
            annotations = entry.get("annotations") or {} if isinstance(entry, dict) else {}
            for key in ("io.containerd.image.name", "org.opencontainers.image.ref.name"):
                value = annotations.get(key)
                if isinstance(value, str) and ("/" in value or ":" in value):
                    refs.add(normalize_ref(value))
    return refs


def archive_provides(path: Path, wanted: str) -> bool:
    """Whether one archive file would give containerd the ``wanted`` image.

    Compressed forms the standard library can read (.tar, .tar.gz/.tgz, .tar.bz2/.tbz) are opened and
    their image list checked. zstd and lz4 cannot be decompressed without compiled modules on Python
    3.11-3.13, so for .tar.zst/.tzst/.tar.lz4 a valid frame header is accepted as "an image archive":
    the airgap bundles K3s ships always contain the pause image.
    """
    name = path.name
    try:
        if name.endswith((".tar.zst", ".tzst")):
            return _has_magic(path, ZSTD_MAGIC)
        if name.endswith(".tar.lz4"):
            return _has_magic(path, LZ4_MAGIC)
        with tarfile.open(path, mode="r:*") as tar:
            return normalize_ref(wanted) in _tar_refs(tar)
    except (OSError, tarfile.TarError, EOFError, ValueError):
        return False


def _has_magic(path: Path, magic: bytes) -> bool:
    with path.open("rb") as handle:
        return handle.read(len(magic)) == magic


def image_files(images_dir: Path) -> list[Path]:
    if not images_dir.is_dir():
        return []
    return sorted(p for p in images_dir.iterdir()
                  if p.is_file() and not p.name.startswith(".") and p.name.endswith(ARCHIVE_SUFFIXES))


def has_default_route(proc_net: Path = Path("/proc/net")) -> bool:
    """A default IPv4 route (destination 0, flag RTF_UP) or IPv6 ::/0 route on a non-loopback device."""
    return _ipv4_default(proc_net / "route") or _ipv6_default(proc_net / "ipv6_route")


def _ipv4_default(route_file: Path) -> bool:
    try:
        lines = route_file.read_text().splitlines()[1:]
    except OSError:
        return False
    for line in lines:
        fields = line.split()
        if len(fields) >= 8 and fields[1] == "00000000" and fields[7] == "00000000" and int(fields[3], 16) & 0x1:
            return True
    return False


def _ipv6_default(route_file: Path) -> bool:
    try:
        lines = route_file.read_text().splitlines()
    except OSError:
        return False
    for line in lines:
        fields = line.split()
        # dest, dest prefix len, src, src len, next hop, metric, refcnt, use, flags, device
        if len(fields) >= 10 and fields[0] == "0" * 32 and fields[1] == "00" and fields[9] != "lo":
            if int(fields[8], 16) & 0x1 and not int(fields[8], 16) & 0x200:  # RTF_UP, not RTF_REJECT
                return True
    return False


class PauseImageChecker:
    """Caches the archive scan by (name, size, mtime), so that a heartbeat loop may call it often and
    still notices new or changed files at once, as K3s' image-directory watcher does."""

    def __init__(self, images_dir: Path, pause_image: str, proc_net: Path = Path("/proc/net")) -> None:
        self.images_dir = images_dir
        self.pause_image = pause_image
        self.proc_net = proc_net
        self._cache: dict[tuple[str, int, int], bool] = {}

    def check(self) -> Verdict:
        for path in image_files(self.images_dir):
            if self._provides(path):
                return Verdict(True, f"archive:{path.name}", "")
        if has_default_route(self.proc_net):
            return Verdict(True, "network", "")
        return Verdict(False, "", self._failure_message())

    def _provides(self, path: Path) -> bool:
        try:
            st = path.stat()
        except OSError:
            return False
        key = (path.name, st.st_size, st.st_mtime_ns)
        if key not in self._cache:
            self._cache[key] = archive_provides(path, self.pause_image)
        return self._cache[key]

    def _failure_message(self) -> str:
        ref = qualified_ref(self.pause_image)
        registry, repo_tag = ref.split("/", 1)
        endpoint = "registry-1.docker.io" if registry == "docker.io" else registry
        repo, tag = repo_tag.rsplit(":", 1)
        # The kubelet's NotReady message while the sandbox image cannot be pulled, shortened.
        return (
            "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady "
            "message:Network plugin returns error: cni plugin not initialized; "
            f'failed to get sandbox image "{ref}": failed to pull image "{ref}": '
            f'failed to resolve reference "{ref}": failed to do request: Head '
            f'"https://{endpoint}/v2/{repo}/manifests/{tag}": dial tcp: lookup {endpoint}: no such host'
        )


def qualified_ref(image: str) -> str:
    """Fully qualified reference (registry/repo:tag) as containerd reports it."""
    first = image.split("/", 1)[0]
    if "/" not in image or not ("." in first or ":" in first or first == "localhost"):
        image = "docker.io/" + (image if "/" in image else "library/" + image)
    if ":" not in image.rsplit("/", 1)[-1]:
        image += ":latest"
    return image
