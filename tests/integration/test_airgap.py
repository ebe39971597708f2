"""Airgap: a server on an --internal network (no route out) needs the image tarball to get Ready."""
from __future__ import annotations

import time

from labhelpers import IMAGES_DIR, download, install_k3s, install_service, journal, nodes, release_url, sha256sums

NOT_READY_WINDOW = 25  # seconds a server without images is watched; it must not turn Ready
READY_TIMEOUT = 120


def test_airgapped_server_is_ready_only_with_the_image_tarball(lab):
    host = lab.airgap
    install_k3s(host)  # the mirror is the one thing reachable from the internal network
    service = install_service(host, "server")
    started = host.exec(["systemctl", "start", service], check=False, timeout=300)
    assert started.ok, f"{started.describe()}\n{journal(host, service)}"

    deadline = time.monotonic() + NOT_READY_WINDOW
    seen: dict[str, bool] = {}
    while time.monotonic() < deadline:
        seen = nodes(host)
        assert seen.get("airgap") is not True, "Ready without any image tarball and without a route out"
        time.sleep(2)
    assert "airgap" in seen, f"the server never registered its node: {seen}\n{journal(host, service)}"

    name = "k3s-airgap-images-amd64.tar"
    digest = download(host, f"{release_url()}/{name}", f"{IMAGES_DIR}/{name}")
    assert (digest, name) in sha256sums(host)
    # K3s imports new files in agent/images/ while running (a watch on the directory): no restart.
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline and nodes(host).get("airgap") is not True:
        time.sleep(2)
    assert nodes(host).get("airgap") is True, f"still not Ready with {name}:\n{journal(host, service)}"
