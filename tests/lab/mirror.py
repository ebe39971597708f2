#!/usr/bin/env python3
"""The lab's K3s release mirror: a tree laid out like GitHub release downloads, and its HTTP server.

``mirror.py build`` fills ``.lab/mirror/`` with, for each mirrored K3s version, every asset a real K3s
release has (release_artifacts.md §3): the binaries (the K3s stand-in, built by build_standin.py), the
airgap image archives (docker-archive tarballs naming the real image list, with tiny fake layers) in .tar,
.tar.gz and .tar.zst, ``k3s-images.txt`` and the ``sha256sum-<arch>.txt`` files.

``mirror.py serve`` serves that tree under the GitHub paths (``/k3s-io/k3s/releases/download/<tag>/<asset>``,
``+`` raw or as ``%2B``, HEAD and Range requests) and the K3s channel server (``/v1-release/channels``).
It uses only the standard library, because it runs on the bare python3 of a lab host image.
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import html
import importlib
import io
import json
import os
import posixpath
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tarfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import cast
from urllib.parse import unquote, urlsplit

REPO = Path(__file__).resolve().parents[2]
DEFAULT_ROOT = REPO / ".lab" / "mirror"
# Kept beside the tree, not in it: the tree must look exactly like GitHub's download paths.
DEFAULT_TLS_DIR = REPO / ".lab" / "mirror-tls"
TLS_NAMES = ("mirror", "localhost")
RELEASES_PATH = "k3s-io/k3s/releases"
CHANNELS_PATH = "/v1-release/channels"

# The versions the lab mirrors: the newest of the two minors the collection supports.
VERSIONS = ("v1.33.6+k3s1", "v1.34.3+k3s1")
STABLE = "v1.33.6+k3s1"
AIRGAP_ARCHES = ("amd64", "arm64", "arm")
BINARY_ASSETS = {"amd64": "k3s", "arm64": "k3s-arm64", "arm": "k3s-armhf"}

# scripts/airgap/image-list.txt of the K3s release branches in late 2025 (v1.34.2 / v1.33.6 era);
# exact tags of v1.34.3 itself were not verified, names and shape are.
IMAGE_LIST = (
    "docker.io/rancher/klipper-helm:v0.9.10-build20251111",
    "docker.io/rancher/klipper-lb:v0.4.13",
    "docker.io/rancher/local-path-provisioner:v0.0.32",
    "docker.io/rancher/mirrored-coredns-coredns:1.13.1",
    "docker.io/rancher/mirrored-library-busybox:1.36.1",
    "docker.io/rancher/mirrored-library-traefik:3.5.1",
    "docker.io/rancher/mirrored-metrics-server:v0.8.0",
    "docker.io/rancher/mirrored-pause:3.6",
)
IMAGE_LISTS: dict[str, tuple[str, ...]] = {version: IMAGE_LIST for version in VERSIONS}
FIXED_MTIME = 1700000000
# Bump to force a rebuild when the tree's layout changes in a way the inputs do not show.
TREE_REVISION = "1"


# ----------------------------------------------------------------------------------------------
# build
# ----------------------------------------------------------------------------------------------

def deterministic_tar(files: Iterable[tuple[str, bytes]]) -> bytes:
    """An uncompressed tar of (name, content) pairs: sorted, fixed owner and mtime."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name, data in sorted(files):
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), FIXED_MTIME, 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            tar.addfile(info, io.BytesIO(data))
    return raw.getvalue()


def familiar_name(ref: str) -> str:
    """`docker save` writes RepoTags without the docker.io/ prefix."""
    return ref.removeprefix("docker.io/")


def airgap_archive(images: Iterable[str], arch: str) -> bytes:
    """A docker-archive (the `docker image save` layout) holding one tiny fake image per reference."""
    files: list[tuple[str, bytes]] = []
    manifest: list[dict[str, object]] = []
    repositories: dict[str, dict[str, str]] = {}
    for ref in images:
        name = familiar_name(ref)
        repo, tag = name.rsplit(":", 1)
        layer = deterministic_tar([(
            "etc/edgefleet-fake-image",
            f"{name} ({arch}): a placeholder layer of the edgefleet.k3s lab, not the real image\n".encode(),
        )])
        layer_id = hashlib.sha256(layer).hexdigest()
        config = json.dumps({
            "architecture": "arm" if arch == "arm" else arch,
            **({"variant": "v7"} if arch == "arm" else {}),
            "os": "linux",
            "created": "2025-11-11T00:00:00Z",
            "config": {"Labels": {"io.edgefleet.fake-image": "true"}},
            "rootfs": {"type": "layers", "diff_ids": [f"sha256:{layer_id}"]},
            "history": [{"created": "2025-11-11T00:00:00Z", "created_by": "edgefleet lab mirror.py"}],
        }, sort_keys=True, separators=(",", ":")).encode()
        config_id = hashlib.sha256(config).hexdigest()
        files += [(f"{config_id}.json", config), (f"{layer_id}/layer.tar", layer),
                  (f"{layer_id}/VERSION", b"1.0")]
        manifest.append({"Config": f"{config_id}.json", "RepoTags": [name], "Layers": [f"{layer_id}/layer.tar"]})
        repositories.setdefault(repo, {})[tag] = layer_id
    files.append(("manifest.json", json.dumps(manifest, separators=(",", ":")).encode()))
    files.append(("repositories", json.dumps(repositories, sort_keys=True, separators=(",", ":")).encode()))
    return deterministic_tar(files)


def gzip_bytes(data: bytes) -> bytes:
    out = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0) as gz:
        gz.write(data)
    return out.getvalue()


def zstd_bytes(data: bytes) -> bytes:
    """Compressed as the K3s release does it (`zstd -16 --long=25`); needs the zstd command."""
    if shutil.which("zstd") is None:
        raise SystemExit("zstd is not installed (apt-get install zstd)")
    result = subprocess.run(["zstd", "-16", "--long=25", "-q", "-c"], input=data, capture_output=True,
                            check=True)
    return result.stdout


def write_if_changed(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Atomic replace, so that a running mirror never serves half a file."""
    if path.is_file() and path.read_bytes() == data:
        path.chmod(mode)
        return
    staging = path.with_name(f".{path.name}.tmp")
    staging.write_bytes(data)
    staging.chmod(mode)
    staging.replace(path)


def load_builder() -> ModuleType:
    """build_standin.py, imported only to build: `serve` runs on a lab host where only this file is."""
    here = str(Path(__file__).resolve().parent)
    if here not in sys.path:
        sys.path.insert(0, here)
    return importlib.import_module("build_standin")


def input_fingerprint() -> str:
    """Hash of everything the tree is built from; the tree is rebuilt when it changes."""
    build_standin = load_builder()
    digest = hashlib.sha256(TREE_REVISION.encode())
    sources = [Path(__file__), Path(__file__).with_name("build_standin.py"), build_standin.PAYLOAD_REQUIREMENTS]
    sources += sorted(p for p in build_standin.STANDIN_PACKAGE.rglob("*")
                      if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc")
    for path in sources:
        digest.update(str(path.relative_to(REPO)).encode() + b"\0" + path.read_bytes() + b"\0")
    digest.update(build_standin.kubectl_version().encode())
    digest.update(json.dumps([VERSIONS, IMAGE_LISTS, STABLE]).encode())
    return digest.hexdigest()


def release_files(version: str) -> list[str]:
    names = [BINARY_ASSETS[a] for a in AIRGAP_ARCHES]
    for arch in AIRGAP_ARCHES:
        names += [f"k3s-airgap-images-{arch}{suffix}" for suffix in (".tar", ".tar.gz", ".tar.zst")]
        names.append(f"sha256sum-{arch}.txt")
    return sorted(names + ["k3s-images.txt"])


def build_release(root: Path, version: str, kubectl: bytes) -> None:
    build_standin = load_builder()
    release = root / RELEASES_PATH / "download" / version
    release.mkdir(parents=True, exist_ok=True)
    images = IMAGE_LISTS[version]
    write_if_changed(release / "k3s-images.txt", "".join(f"{ref}\n" for ref in images).encode())
    for arch in AIRGAP_ARCHES:
        binary = BINARY_ASSETS[arch]
        result = build_standin.build_asset(version, arch, release / binary, kubectl=kubectl)
        sums: list[tuple[str, str]] = []
        tar = airgap_archive(images, arch)
        for suffix, data in ((".tar", tar), (".tar.gz", gzip_bytes(tar)), (".tar.zst", zstd_bytes(tar))):
            name = f"k3s-airgap-images-{arch}{suffix}"
            write_if_changed(release / name, data)
            sums.append((hashlib.sha256(data).hexdigest(), name))
        # release_artifacts.md §3: the airgap files of that arch first, then the binary.
        sums.append((result.sha256, binary))
        write_if_changed(release / f"sha256sum-{arch}.txt",
                         "".join(f"{digest}  {name}\n" for digest, name in sums).encode())
    expected = set(release_files(version))
    for stale in release.iterdir():
        if stale.name not in expected:
            stale.unlink()


def build(root: Path, force: bool = False) -> bool:
    """Build or refresh the tree; returns False when it was already up to date."""
    build_standin = load_builder()
    fingerprint = input_fingerprint()
    stamp = root / ".edgefleet-mirror.json"
    if not force and stamp.is_file() and json.loads(stamp.read_text()).get("inputs") == fingerprint and all(
            (root / RELEASES_PATH / "download" / v / name).is_file() for v in VERSIONS for name in release_files(v)):
        return False
    root.mkdir(parents=True, exist_ok=True)
    kubectl = build_standin.kubectl_binary(build_standin.kubectl_version())
    for version in VERSIONS:
        build_release(root, version, kubectl)
    downloads = root / RELEASES_PATH / "download"
    for stale in downloads.iterdir():
        if stale.name not in VERSIONS:
            shutil.rmtree(stale)
    write_if_changed(stamp, json.dumps({"inputs": fingerprint, "versions": list(VERSIONS),
                                        "stable": STABLE}, indent=2).encode() + b"\n")
    return True


def ensure_tls(tls_dir: Path = DEFAULT_TLS_DIR) -> Path:
    """A lab CA and a server certificate for `mirror` (openssl CLI), made once.

    Real release downloads are HTTPS; with this the hosts can fetch over HTTPS from a server whose CA
    they trust only once it is installed - the same situation as a company mirror with a private CA.
    """
    if (tls_dir / "server.crt").is_file() and (tls_dir / "ca.crt").is_file():
        return tls_dir
    if shutil.which("openssl") is None:
        raise SystemExit("openssl is not installed (apt-get install openssl)")
    tls_dir.mkdir(parents=True, exist_ok=True)
    tls_dir.chmod(0o755)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=tls_dir, capture_output=True, check=True)

    run("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "3650",
        "-subj", "/CN=edgefleet lab mirror CA", "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    run("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", f"/CN={TLS_NAMES[0]}")
    sans = ",".join([f"DNS:{name}" for name in TLS_NAMES] + ["IP:127.0.0.1"])
    (tls_dir / "server.ext").write_text(f"subjectAltName={sans}\nbasicConstraints=CA:FALSE\n"
                                        "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
                                        # Python 3.13 verifies strictly (VERIFY_X509_STRICT): key ids required.
                                        "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid,issuer\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "server.crt", "-days", "825", "-extfile", "server.ext")
    # The server in the mirror container runs as root but reads these through a read-only bind mount.
    for name in ("ca.crt", "server.crt", "server.key"):
        (tls_dir / name).chmod(0o644)
    (tls_dir / "ca.key").chmod(0o600)
    return tls_dir


# ----------------------------------------------------------------------------------------------
# serve
# ----------------------------------------------------------------------------------------------

VERSION_RE = re.compile(r"^v(\d+)\.(\d+)\.(\d+)(-[^+]+)?\+k3s(\d+)$")


def version_key(tag: str) -> tuple[int, int, int, int, int]:
    """Sort key: release > its release candidates; unparseable tags sort first."""
    match = VERSION_RE.match(tag)
    if not match:
        return (-1, 0, 0, 0, 0)
    major, minor, patch, pre, k3s = match.groups()
    return (int(major), int(minor), int(patch), 0 if pre else 1, int(k3s))


@dataclass(frozen=True)
class Channel:
    name: str
    latest: str
    latest_regexp: str = ""
    exclude_regexp: str = ""


def channels(tags: list[str], stable: str) -> list[Channel]:
    """The channel list as the K3s channel server builds it: stable pinned, the others by regexp.

    Order as in K3s' channel.yaml: stable, latest, testing, then one channel per minor, oldest first.
    """
    newest_first = sorted(tags, key=version_key, reverse=True)

    def resolve(latest_regexp: str, exclude_regexp: str) -> str:
        for tag in newest_first:
            if re.search(latest_regexp, tag) and not (exclude_regexp and re.search(exclude_regexp, tag)):
                return tag
        return ""

    result = [Channel("stable", stable)] if stable in tags else []
    latest_exclude = r"(^[^+]+-|v1\.25\.5\+k3s1|v1\.26\.0\+k3s1)"
    result.append(Channel("latest", resolve(".*", latest_exclude), ".*", latest_exclude))
    testing = resolve("-(alpha|beta|rc)", "")
    if testing:
        result.append(Channel("testing", testing, "-(alpha|beta|rc)"))
    minors = sorted({version_key(t)[:2] for t in tags if version_key(t)[0] >= 0})
    for major, minor in minors:
        regexp = rf"v{major}\.{minor}\..*"
        result.append(Channel(f"v{major}.{minor}", resolve(regexp, "^[^+]+-"), regexp, "^[^+]+-"))
    return [c for c in result if c.latest]


class MirrorHandler(BaseHTTPRequestHandler):
    server_version = "edgefleet-mirror/1"
    protocol_version = "HTTP/1.1"
    root: Path = DEFAULT_ROOT
    stable: str = STABLE
    scheme: str = "http"

    # --- plumbing -------------------------------------------------------------------------------
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (signature of the base)
        sys.stderr.write(f"{self.address_string()} [{self.log_date_time_string()}] {format % args}\n")
        sys.stderr.flush()

    def base_url(self) -> str:
        port = cast("tuple[str, int]", self.server.server_address)[1]
        host = self.headers.get("Host") or f"{socket.gethostname()}:{port}"
        return f"{self.scheme}://{host}"

    def send_body(self, status: int, body: bytes, content_type: str, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def not_found(self) -> None:
        self.send_body(HTTPStatus.NOT_FOUND, b"Not Found\n", "text/plain; charset=utf-8")

    def tags(self) -> list[str]:
        downloads = self.root / RELEASES_PATH / "download"
        return sorted(p.name for p in downloads.iterdir() if p.is_dir()) if downloads.is_dir() else []

    # --- routing --------------------------------------------------------------------------------
    def do_HEAD(self) -> None:  # noqa: N802 (http.server naming)
        self.do_GET()

    def do_GET(self) -> None:  # noqa: N802
        # unquote turns %2B into + and leaves a raw + alone, so both spellings of a tag meet here.
        path = unquote(urlsplit(self.path).path)
        if "\0" in path or any(part == ".." for part in path.split("/")):
            self.send_body(HTTPStatus.BAD_REQUEST, b"Bad Request\n", "text/plain; charset=utf-8")
            return
        path = posixpath.normpath(path) if path not in ("", "/") else "/"
        if path == "/healthz":
            self.send_body(HTTPStatus.OK, b"ok\n", "text/plain; charset=utf-8")
        elif path == CHANNELS_PATH:
            self.channel_collection()
        elif path.startswith(CHANNELS_PATH + "/"):
            self.channel_redirect(path[len(CHANNELS_PATH) + 1:])
        elif path == f"/{RELEASES_PATH}/latest":
            self.latest_release_redirect()
        elif path.startswith(f"/{RELEASES_PATH}/tag/"):
            self.release_page(path[len(f"/{RELEASES_PATH}/tag/"):])
        else:
            self.static_file(path)

    # --- channel server (release_artifacts.md §4) -------------------------------------------------
    def channel_collection(self) -> None:
        base = self.base_url() + CHANNELS_PATH
        data = []
        for channel in channels(self.tags(), self.stable):
            item: dict[str, object] = {"id": channel.name, "type": "channel",
                                       "links": {"self": f"{base}/{channel.name}"},
                                       "name": channel.name, "latest": channel.latest}
            if channel.latest_regexp:
                item["latestRegexp"] = channel.latest_regexp
            if channel.exclude_regexp:
                item["excludeRegexp"] = channel.exclude_regexp
            data.append(item)
        body = {"type": "collection", "links": {"self": base}, "actions": {},
                "resourceType": "channels", "data": data}
        self.send_body(HTTPStatus.OK, json.dumps(body).encode(), "application/json")

    def channel_redirect(self, name: str) -> None:
        match = [c for c in channels(self.tags(), self.stable) if c.name == name]
        if not match:
            # The real server falls through to an object lookup; its exact answer is unverified.
            error = {"type": "error", "status": "404", "code": "NotFound",
                     "message": f"channels \"{name}\" not found"}
            self.send_body(HTTPStatus.NOT_FOUND, json.dumps(error).encode(), "application/json")
            return
        self.redirect(f"{self.base_url()}/{RELEASES_PATH}/tag/{match[0].latest}")

    def latest_release_redirect(self) -> None:
        tags = sorted(self.tags(), key=version_key)
        if not tags:
            self.not_found()
            return
        self.redirect(f"{self.base_url()}/{RELEASES_PATH}/tag/{tags[-1]}")

    def redirect(self, location: str) -> None:
        # Go's http.Redirect answers 302 with a tiny HTML body; the + of the tag stays raw.
        body = f'<a href="{html.escape(location)}">Found</a>.\n\n'.encode()
        self.send_body(HTTPStatus.FOUND, body, "text/html; charset=utf-8", {"Location": location})

    def release_page(self, tag: str) -> None:
        release = self.root / RELEASES_PATH / "download" / tag
        if "/" in tag or not release.is_dir():
            self.not_found()
            return
        links = "".join(
            f'<li><a href="/{RELEASES_PATH}/download/{html.escape(tag)}/{html.escape(p.name)}">'
            f"{html.escape(p.name)}</a></li>\n"
            for p in sorted(release.iterdir()) if p.is_file() and not p.name.startswith("."))
        page = (f"<!DOCTYPE html>\n<html><head><title>Release {html.escape(tag)} - k3s-io/k3s</title></head>\n"
                f"<body><h1>{html.escape(tag)}</h1>\n<ul>\n{links}</ul></body></html>\n")
        self.send_body(HTTPStatus.OK, page.encode(), "text/html; charset=utf-8")

    # --- files --------------------------------------------------------------------------------
    def static_file(self, path: str) -> None:
        target = self.root / path.lstrip("/")
        if not path.startswith(f"/{RELEASES_PATH}/download/") or not target.is_file() or target.name.startswith("."):
            self.not_found()
            return
        size = target.stat().st_size
        content_type = "text/plain; charset=utf-8" if target.suffix == ".txt" else "application/octet-stream"
        headers = {"Accept-Ranges": "bytes", "Last-Modified": formatdate(target.stat().st_mtime, usegmt=True)}
        try:
            byte_range = parse_range(self.headers.get("Range"), size)
        except RangeNotSatisfiable:
            self.send_body(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE, b"", "text/plain",
                           {"Content-Range": f"bytes */{size}"})
            return
        start, end = byte_range if byte_range else (0, size - 1)
        self.send_response(HTTPStatus.PARTIAL_CONTENT if byte_range else HTTPStatus.OK)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(max(end - start + 1, 0)))
        if byte_range:
            headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        if self.command == "HEAD":
            return
        with target.open("rb") as handle:
            handle.seek(start)
            remaining = end - start + 1
            while remaining > 0:
                chunk = handle.read(min(1 << 20, remaining))
                if not chunk:
                    break
                self.wfile.write(chunk)
                remaining -= len(chunk)


class RangeNotSatisfiable(ValueError):
    """The Range header asks for bytes the file does not have (HTTP 416)."""


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """One `bytes=` range as (start, end inclusive); None = whole file; several ranges are ignored."""
    if not header:
        return None
    match = re.fullmatch(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", header)
    if not match or (not match.group(1) and not match.group(2)):
        return None
    first, last = match.groups()
    if not first:  # suffix range: the last N bytes
        length = int(last)
        if length == 0:
            raise RangeNotSatisfiable(header)
        return (max(size - length, 0), size - 1)
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or (last and int(last) < start):
        raise RangeNotSatisfiable(header)
    return (start, end)


def serve(root: Path, bind: str, port: int, stable: str, tls_port: int | None, cert: Path | None,
          key: Path | None) -> None:
    handler = type("Handler", (MirrorHandler,), {"root": root, "stable": stable})
    servers = [ThreadingHTTPServer((bind, port), handler)]
    if tls_port:
        if not cert or not key:
            raise SystemExit("--tls-port needs --tls-cert and --tls-key")
        tls_handler = type("TLSHandler", (handler,), {"scheme": "https"})
        tls_server = ThreadingHTTPServer((bind, tls_port), tls_handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        tls_server.socket = context.wrap_socket(tls_server.socket, server_side=True)
        servers.append(tls_server)
    for server in servers:
        server.daemon_threads = True
    sys.stderr.write(f"serving {root} on {bind}:{port}" + (f" and https {tls_port}" if tls_port else "") + "\n")
    sys.stderr.flush()
    for server in servers[1:]:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        servers[0].serve_forever()
    except KeyboardInterrupt:
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    build_cmd = sub.add_parser("build", help="build or refresh the mirror tree")
    build_cmd.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    build_cmd.add_argument("--force", action="store_true", help="rebuild even if the inputs did not change")
    serve_cmd = sub.add_parser("serve", help="serve the tree and the channel server over HTTP")
    serve_cmd.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    serve_cmd.add_argument("--bind", default="0.0.0.0")
    serve_cmd.add_argument("--port", type=int, default=8080)
    serve_cmd.add_argument("--stable", default=STABLE, help="the version the stable channel points at")
    serve_cmd.add_argument("--tls-port", type=int, help="also serve HTTPS on this port")
    serve_cmd.add_argument("--tls-cert", type=Path)
    serve_cmd.add_argument("--tls-key", type=Path)
    args = parser.parse_args(argv)
    if args.command == "build":
        changed = build(args.root.resolve(), force=args.force)
        ensure_tls()
        print(f"mirror {'built' if changed else 'up to date'}: {args.root}")
        return 0
    serve(args.root, args.bind, args.port, args.stable, args.tls_port, args.tls_cert, args.tls_key)
    return 0


if __name__ == "__main__":
    os.umask(0o022)
    sys.exit(main())
