"""Tests of the lab's own tools that need no containers: the stand-in packager and the mirror."""
from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import ssl
import tarfile
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

import build_standin
import lablib
import mirror

FAKE_KUBECTL = b"\x7fELF fake kubectl for tests"


# --- build_standin ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def assets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("assets")
    return {
        arch: build_standin.build_asset("v1.34.3+k3s1", arch, out / build_standin.ARCHES[arch].asset,
                                        kubectl=FAKE_KUBECTL).path
        for arch in ("amd64", "arm64")
    }


def member(tar: tarfile.TarFile, name: str) -> bytes:
    handle = tar.extractfile(name)
    assert handle is not None, f"{name} is not a file in the archive"
    return handle.read()


def payload_of(asset: Path) -> tarfile.TarFile:
    data = asset.read_bytes()
    start = int(next(line for line in data.split(b"\n") if line.startswith(b"PAYLOAD_START=")).split(b"=")[1])
    return tarfile.open(fileobj=io.BytesIO(data[start - 1:]), mode="r:gz")


def test_same_inputs_give_the_same_bytes(tmp_path: Path, assets: dict[str, Path]):
    again = build_standin.build_asset("v1.34.3+k3s1", "amd64", tmp_path / "k3s", kubectl=FAKE_KUBECTL)
    assert again.path.read_bytes() == assets["amd64"].read_bytes()


def test_payload_layout_and_build_info(assets: dict[str, Path]):
    with payload_of(assets["amd64"]) as tar:
        names = tar.getnames()
        assert names == sorted(names)
        assert {"k3s_standin/__init__.py", "k3s_standin/_build.json", "bin/kubectl", "lib/yaml/__init__.py",
                "lib/ecdsa/__init__.py", "lib/asn1crypto/__init__.py", "lib/six.py"} <= set(names)
        assert not [n for n in names if n.endswith((".so", ".pyc")) or "__pycache__" in n]
        assert {m.mtime for m in tar.getmembers()} == {build_standin.FIXED_MTIME}
        assert tar.getmember("bin/kubectl").mode == 0o755
        build = json.loads(member(tar, "k3s_standin/_build.json"))
    assert build == {"version": "v1.34.3+k3s1", "git_commit": "48ffa7b6", "go_version": "go1.24.11",
                     "arch": "amd64"}
    with payload_of(assets["arm64"]) as tar:
        assert "bin/kubectl" not in tar.getnames()


def test_version_is_answered_by_the_launcher(assets: dict[str, Path], tmp_path: Path):
    result = subprocess.run([str(assets["amd64"]), "--version"], capture_output=True, text=True, check=False,
                            env={**os.environ, "K3S_DATA_DIR": str(tmp_path)})
    assert result.returncode == 0
    assert result.stdout == "k3s version v1.34.3+k3s1 (48ffa7b6)\ngo version go1.24.11\n"
    assert not (tmp_path / "data").exists()


def test_foreign_architecture_exits_126(assets: dict[str, Path]):
    result = subprocess.run([str(assets["arm64"]), "server"], capture_output=True, text=True, check=False)
    assert result.returncode == 126
    assert result.stderr == f"{assets['arm64']}: cannot execute binary file: Exec format error\n"


def test_unpacks_under_a_lock_and_execs_python_with_the_contract_env(assets: dict[str, Path], tmp_path: Path):
    # A fake python3 shows what the launcher hands over, without needing the stand-in itself.
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    (fake_bin / "python3").write_text('#!/bin/sh\nprintf "%s\\n" "$PYTHONPATH" "$K3S_STANDIN_ARGV0" '
                                      '"$K3S_STANDIN_PAYLOAD" "$*"\n')
    (fake_bin / "python3").chmod(0o755)
    env = {**os.environ, "PATH": f"{fake_bin}:{os.environ['PATH']}"}
    data_dir = tmp_path / "k3s"
    result = subprocess.run([str(assets["amd64"]), "server", "--data-dir", str(data_dir), "--debug"],
                            capture_output=True, text=True, check=False, env=env)
    assert result.returncode == 0, result.stderr
    payload_sha = hashlib.sha256(payload_bytes(assets["amd64"])).hexdigest()
    payload = data_dir / "data" / payload_sha
    pythonpath, argv0, payload_env, args = result.stdout.splitlines()
    assert pythonpath == f"{payload}/lib:{payload}"
    assert argv0 == str(assets["amd64"])
    assert payload_env == str(payload)
    assert args == f"-s -m k3s_standin server --data-dir {data_dir} --debug"
    assert (data_dir / "data" / "current").resolve() == payload
    assert (payload / "k3s_standin" / "_build.json").is_file()
    assert "Preparing data dir" in result.stderr
    again = subprocess.run([str(assets["amd64"]), "agent", f"--data-dir={data_dir}"],
                           capture_output=True, text=True, check=False, env=env)
    assert "Preparing data dir" not in again.stderr


def payload_bytes(asset: Path) -> bytes:
    data = asset.read_bytes()
    start = int(next(line for line in data.split(b"\n") if line.startswith(b"PAYLOAD_START=")).split(b"=")[1])
    return data[start - 1:]


def test_payload_libraries_have_no_compiled_files():
    lib = build_standin.payload_lib_dir()
    build_standin.assert_no_compiled_files(lib)
    assert (lib / "yaml" / "__init__.py").is_file()


# --- mirror: tree contents ----------------------------------------------------------------------------

def test_airgap_archive_is_a_docker_archive_naming_every_image():
    images = mirror.IMAGE_LIST
    data = mirror.airgap_archive(images, "arm")
    assert data == mirror.airgap_archive(images, "arm"), "not reproducible"
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        manifest = json.loads(member(tar, "manifest.json"))
        assert [m["RepoTags"] for m in manifest] == [[mirror.familiar_name(i)] for i in images]
        for entry in manifest:
            config = json.loads(member(tar, entry["Config"]))
            layer = member(tar, entry["Layers"][0])
            assert config["rootfs"]["diff_ids"] == [f"sha256:{hashlib.sha256(layer).hexdigest()}"]
            assert (config["architecture"], config.get("variant")) == ("arm", "v7")
            assert entry["Config"] == hashlib.sha256(member(tar, entry["Config"])).hexdigest() + ".json"


def test_channels_resolve_like_the_channel_server():
    tags = ["v1.33.6+k3s1", "v1.34.3+k3s1", "v1.34.4-rc1+k3s1", "v1.33.5+k3s1"]
    resolved = {c.name: c.latest for c in mirror.channels(tags, "v1.33.6+k3s1")}
    assert resolved == {"stable": "v1.33.6+k3s1", "latest": "v1.34.3+k3s1", "testing": "v1.34.4-rc1+k3s1",
                        "v1.33": "v1.33.6+k3s1", "v1.34": "v1.34.3+k3s1"}
    assert list(resolved) == ["stable", "latest", "testing", "v1.33", "v1.34"]


@pytest.mark.parametrize("header,expected", [
    (None, None), ("bytes=0-9", (0, 9)), ("bytes=5-", (5, 99)), ("bytes=-10", (90, 99)),
    ("bytes=90-500", (90, 99)), ("bytes=100-", "unsatisfiable"), ("bytes=9-3", "unsatisfiable"),
    ("bytes=-0", "unsatisfiable"), ("bytes=0-1,5-6", None), ("items=0-1", None),
])
def test_range_header(header, expected):
    if expected == "unsatisfiable":
        with pytest.raises(mirror.RangeNotSatisfiable):
            mirror.parse_range(header, 100)
    else:
        assert mirror.parse_range(header, 100) == expected


# --- mirror: the server -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("mirror")
    for tag in ("v1.33.6+k3s1", "v1.34.3+k3s1"):
        release = root / mirror.RELEASES_PATH / "download" / tag
        release.mkdir(parents=True)
        (release / "k3s").write_bytes(b"#!/bin/sh\n" + tag.encode() * 10)
    handler = type("Handler", (mirror.MirrorHandler,),
                   {"root": root, "stable": "v1.33.6+k3s1", "log_message": lambda *args: None})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def fetch(url: str, method: str = "GET", headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, method=method, headers=headers or {}), timeout=5) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_serves_tags_with_raw_or_encoded_plus(served: str):
    raw = fetch(f"{served}/k3s-io/k3s/releases/download/v1.34.3+k3s1/k3s")
    encoded = fetch(f"{served}/k3s-io/k3s/releases/download/v1.34.3%2Bk3s1/k3s")
    assert raw[0] == encoded[0] == 200 and raw[2] == encoded[2]


def test_head_range_and_not_found(served: str):
    url = f"{served}/k3s-io/k3s/releases/download/v1.34.3+k3s1/k3s"
    status, headers, body = fetch(url, "HEAD")
    assert status == 200 and body == b"" and headers["Content-Length"] == str(10 + 12 * 10)
    status, headers, body = fetch(url, headers={"Range": "bytes=0-9"})
    assert (status, body, headers["Content-Range"]) == (206, b"#!/bin/sh\n", "bytes 0-9/130")
    assert fetch(url, headers={"Range": "bytes=999-"})[0] == 416
    assert fetch(f"{served}/k3s-io/k3s/releases/download/v1.34.3+k3s1/nope")[0] == 404
    assert fetch(f"{served}/k3s-io/k3s/releases/download/%2e%2e/%2e%2e/%2e%2e/etc/passwd")[0] in (400, 404)


def test_channel_collection_and_redirect(served: str):
    status, _, body = fetch(f"{served}/v1-release/channels")
    doc = json.loads(body)
    assert status == 200 and doc["type"] == "collection" and doc["resourceType"] == "channels"
    assert {c["id"]: c["latest"] for c in doc["data"]} == {
        "stable": "v1.33.6+k3s1", "latest": "v1.34.3+k3s1", "v1.33": "v1.33.6+k3s1", "v1.34": "v1.34.3+k3s1"}
    status, headers, _ = fetch(f"{served}/v1-release/channels/stable")
    assert status == 302
    assert headers["Location"] == f"{served}/k3s-io/k3s/releases/tag/v1.33.6+k3s1"
    assert fetch(f"{served}/k3s-io/k3s/releases/tag/v1.33.6+k3s1")[0] == 200
    assert fetch(f"{served}/v1-release/channels/nope")[0] == 404


# --- lablib (no podman needed) ----------------------------------------------------------------------

def test_every_resource_is_labelled_with_project_run_and_role():
    args = lablib.labels("run1", "host", {"io.edgefleet.image": "debian12"})
    assert args == ["--label", "io.edgefleet.project=edgefleet-k3s", "--label", "io.edgefleet.run=run1",
                    "--label", "io.edgefleet.role=host", "--label", "io.edgefleet.image=debian12"]
    assert lablib.podman_env()["CONTAINERS_CONF"].endswith("tests/lab/containers.conf")


def test_mirror_serves_https_with_its_own_ca(tmp_path: Path):
    tls = mirror.ensure_tls(tmp_path / "tls")
    root = tmp_path / "root"
    (root / mirror.RELEASES_PATH / "download" / "v1.34.3+k3s1").mkdir(parents=True)
    (root / mirror.RELEASES_PATH / "download" / "v1.34.3+k3s1" / "k3s").write_bytes(b"binary")
    handler = type("TLSHandler", (mirror.MirrorHandler,),
                   {"root": root, "scheme": "https", "log_message": lambda *args: None})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tls / "server.crt", tls / "server.key")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"https://localhost:{server.server_address[1]}/k3s-io/k3s/releases/download/v1.34.3%2Bk3s1/k3s"
    try:
        with pytest.raises(urllib.error.URLError):
            urllib.request.urlopen(url, timeout=5, context=ssl.create_default_context())
        trusted = ssl.create_default_context(cafile=str(tls / "ca.crt"))
        trusted.verify_flags |= ssl.VERIFY_X509_STRICT  # what Debian 13's Python 3.13 does by default
        with urllib.request.urlopen(url, timeout=5, context=trusted) as response:
            assert response.read() == b"binary"
    finally:
        server.shutdown()
