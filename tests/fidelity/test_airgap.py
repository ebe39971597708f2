"""Pause-image availability: airgap archives in agent/images or a default route decide Node readiness."""
from __future__ import annotations

import gzip
import io
import json
import shutil
import tarfile
from pathlib import Path

import pytest

import runtime_fixture as rf
from k3s_standin import airgap

PAUSE = "rancher/mirrored-pause:3.6"
NO_ROUTE = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n" \
           "eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
DEFAULT_ROUTE = NO_ROUTE + "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"


def docker_archive(path: Path, tags: list[str], compress: bool = False) -> Path:
    """A docker-archive tarball with a manifest.json naming ``tags`` (layers omitted)."""
    manifest = json.dumps([{"Config": "cfg.json", "RepoTags": tags, "Layers": []}]).encode()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("manifest.json")
        info.size = len(manifest)
        tar.addfile(info, io.BytesIO(manifest))
    data = gzip.compress(buf.getvalue()) if compress else buf.getvalue()
    path.write_bytes(data)
    return path


def proc_net(tmp_path: Path, route: str, ipv6: str = "") -> Path:
    net = tmp_path / "proc-net"
    net.mkdir(exist_ok=True)
    (net / "route").write_text(route)
    (net / "ipv6_route").write_text(ipv6)
    return net


def test_docker_archive_with_pause_image(tmp_path: Path) -> None:
    archive = docker_archive(tmp_path / "k3s-airgap-images-amd64.tar", ["docker.io/rancher/mirrored-pause:3.6"])
    assert airgap.archive_provides(archive, PAUSE)
    other = docker_archive(tmp_path / "other.tar", ["docker.io/rancher/mirrored-coredns-coredns:1.12.0"])
    assert not airgap.archive_provides(other, PAUSE)


def test_gzip_archive_is_read(tmp_path: Path) -> None:
    archive = docker_archive(tmp_path / "k3s-airgap-images-amd64.tar.gz", [PAUSE], compress=True)
    assert airgap.archive_provides(archive, PAUSE)


def test_zstd_archive_accepted_by_frame_magic(tmp_path: Path) -> None:
    good = tmp_path / "k3s-airgap-images-amd64.tar.zst"
    good.write_bytes(b"\x28\xb5\x2f\xfd" + b"\0" * 32)
    bad = tmp_path / "broken.tar.zst"
    bad.write_bytes(b"not zstd")
    assert airgap.archive_provides(good, PAUSE)
    assert not airgap.archive_provides(bad, PAUSE)


def test_unsupported_suffixes_are_ignored(tmp_path: Path) -> None:
    docker_archive(tmp_path / "images.zip", [PAUSE])
    (tmp_path / "images.txt").write_text(PAUSE + "\n")
    checker = airgap.PauseImageChecker(tmp_path, PAUSE, proc_net(tmp_path, NO_ROUTE))
    verdict = checker.check()
    assert not verdict.ready
    assert 'failed to pull image "docker.io/rancher/mirrored-pause:3.6"' in verdict.message


def test_default_route_ipv4_and_ipv6(tmp_path: Path) -> None:
    assert airgap.has_default_route(proc_net(tmp_path, DEFAULT_ROUTE))
    assert not airgap.has_default_route(proc_net(tmp_path, NO_ROUTE))
    v6 = "00000000000000000000000000000000 00 00000000000000000000000000000000 00 " \
         "fe800000000000000000000000000001 00000400 00000001 00000000 00000003 eth0\n"
    assert airgap.has_default_route(proc_net(tmp_path, NO_ROUTE, v6))


def test_checker_notices_new_files(tmp_path: Path) -> None:
    images = tmp_path / "images"
    images.mkdir()
    checker = airgap.PauseImageChecker(images, PAUSE, proc_net(tmp_path, NO_ROUTE))
    assert not checker.check().ready
    docker_archive(images / "k3s-airgap-images-amd64.tar", [PAUSE])
    verdict = checker.check()
    assert verdict.ready and verdict.source == "archive:k3s-airgap-images-amd64.tar"


@pytest.mark.parametrize("system_registry, expected", [
    ("", PAUSE), ("registry.local:5000", "registry.local:5000/rancher/mirrored-pause:3.6")])
def test_pause_ref_follows_system_default_registry(system_registry: str, expected: str) -> None:
    assert airgap.pause_image_ref(None, system_registry) == expected


def _ready(server: rf.RunningServer, name: str) -> dict | None:
    result = rf.api_get(server, f"/api/v1/nodes/{name}")
    if result.status != 200:
        return None
    node = result.json()
    return next(c for c in node["status"]["conditions"] if c["type"] == "Ready")


def test_server_node_not_ready_offline_then_ready_with_archive(tmp_path: Path) -> None:
    root = tmp_path / "root"
    net = root / "proc/net"
    net.mkdir(parents=True)
    (net / "route").write_text(NO_ROUTE)
    (net / "ipv6_route").write_text("")
    server = rf.start_server(root, {"node-name": "offline"}, notify=False)
    try:
        cond = rf.wait_for(lambda: _ready(server, "offline"))
        assert cond["status"] == "False" and cond["reason"] == "KubeletNotReady"
        assert "rancher/mirrored-pause:3.6" in cond["message"]
        node = rf.api_get(server, "/api/v1/nodes/offline").json()
        assert {"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"} in node["spec"]["taints"]
        images = rf.data_dir(root) / "agent/images"
        docker_archive(images / "k3s-airgap-images-amd64.tar.gz", [f"docker.io/{PAUSE}"], compress=True)
        cond = rf.wait_for(lambda: (lambda c: c if c and c["status"] == "True" else None)(_ready(server, "offline")),
                           timeout=25)
        assert cond["reason"] == "KubeletReady"
        node = rf.api_get(server, "/api/v1/nodes/offline").json()
        assert not any(t["key"] == "node.kubernetes.io/not-ready" for t in node["spec"].get("taints") or [])
    finally:
        server.proc.terminate()


def test_server_node_ready_with_default_route(tmp_path: Path) -> None:
    root = tmp_path / "root"
    net = root / "proc/net"
    net.mkdir(parents=True)
    (net / "route").write_text(DEFAULT_ROUTE)
    (net / "ipv6_route").write_text("")
    server = rf.start_server(root, {"node-name": "online"}, notify=False)
    try:
        cond = rf.wait_for(lambda: _ready(server, "online"))
        assert cond["status"] == "True"
    finally:
        server.proc.terminate()
        shutil.rmtree(root, ignore_errors=True)
