"""The release mirror as a lab host sees it: GitHub release paths, checksums, channel server, airgap."""
from __future__ import annotations

import json

import pytest

import lablib
from labhelpers import OLD_VERSION, STABLE, VERSION, http, release_url, sha256sums

CHECK_ALL = r"""
import hashlib, json, sys, urllib.request
base = sys.argv[1]
with urllib.request.urlopen(f"{base}/sha256sum-amd64.txt", timeout=30) as response:
    lines = response.read().decode().splitlines()
report = []
for line in lines:
    expected, name = line.split("  ", 1)
    digest = hashlib.sha256()
    with urllib.request.urlopen(f"{base}/{name}", timeout=60) as response:
        while chunk := response.read(1 << 20):
            digest.update(chunk)
    report.append({"name": name, "expected": expected, "actual": digest.hexdigest()})
print(json.dumps(report))
"""


@pytest.mark.parametrize("version", [OLD_VERSION, VERSION])
def test_release_files_download_and_match_their_sha256sum(lab, version):
    report = json.loads(lab.server.python(CHECK_ALL, release_url(version), timeout=300).stdout)
    assert [r["name"] for r in report] == [
        "k3s-airgap-images-amd64.tar", "k3s-airgap-images-amd64.tar.gz", "k3s-airgap-images-amd64.tar.zst", "k3s",
    ], "sha256sum-amd64.txt lists the airgap files of the arch first, then the binary"
    mismatches = [r for r in report if r["expected"] != r["actual"]]
    assert not mismatches


@pytest.mark.parametrize("arch,binary", [("arm64", "k3s-arm64"), ("arm", "k3s-armhf")])
def test_other_arch_sha256sum_files_name_their_own_assets(lab, arch, binary):
    names = [name for _, name in sha256sums(lab.server, VERSION, arch)]
    assert names == [f"k3s-airgap-images-{arch}.tar", f"k3s-airgap-images-{arch}.tar.gz",
                     f"k3s-airgap-images-{arch}.tar.zst", binary]


def test_image_list_names_the_k3s_images(lab):
    images = http(lab.server, f"{release_url()}/k3s-images.txt").body.decode().split()
    assert "docker.io/rancher/mirrored-pause:3.6" in images
    for repo in ("mirrored-coredns-coredns", "local-path-provisioner", "mirrored-metrics-server", "klipper-helm",
                 "klipper-lb", "mirrored-library-traefik", "mirrored-library-busybox"):
        assert any(i.startswith(f"docker.io/rancher/{repo}:") for i in images), repo


def test_plus_in_the_tag_may_be_percent_encoded(lab):
    raw = http(lab.server, f"{release_url()}/k3s")
    encoded = http(lab.server, f"{release_url(VERSION.replace('+', '%2B'))}/k3s")
    assert raw.status == encoded.status == 200
    assert raw.sha256 == encoded.sha256


def test_head_and_range_requests(lab):
    head = http(lab.server, f"{release_url()}/k3s", method="HEAD")
    full = http(lab.server, f"{release_url()}/k3s")
    assert head.status == 200 and head.body == b""
    assert int(head.headers["content-length"]) == len(full.body)
    assert head.headers.get("accept-ranges") == "bytes"
    part = http(lab.server, f"{release_url()}/k3s", headers={"Range": "bytes=0-9"})
    assert part.status == 206
    assert part.body == full.body[:10] == b"#!/bin/sh\n"
    assert part.headers["content-range"] == f"bytes 0-9/{len(full.body)}"
    tail = http(lab.server, f"{release_url()}/k3s", headers={"Range": "bytes=-16"})
    assert tail.status == 206 and tail.body == full.body[-16:]


def test_unknown_release_file_is_404(lab):
    assert http(lab.server, f"{release_url()}/k3s-s390x").status == 404


def test_channel_collection(lab):
    result = http(lab.server, f"{lablib.MIRROR_URL}/v1-release/channels")
    assert result.status == 200
    doc = json.loads(result.body)
    assert doc["type"] == "collection" and doc["resourceType"] == "channels"
    assert doc["links"]["self"] == f"{lablib.MIRROR_URL}/v1-release/channels"
    latest = {c["id"]: c["latest"] for c in doc["data"]}
    assert latest == {"stable": STABLE, "latest": VERSION, "v1.33": OLD_VERSION, "v1.34": VERSION}
    for channel in doc["data"]:
        assert channel["type"] == "channel" and channel["name"] == channel["id"]
        assert channel["links"]["self"] == f"{lablib.MIRROR_URL}/v1-release/channels/{channel['id']}"


@pytest.mark.parametrize("channel,tag", [("stable", STABLE), ("latest", VERSION), ("v1.33", OLD_VERSION),
                                         ("v1.34", VERSION)])
def test_channel_redirects_to_the_release_page(lab, channel, tag):
    url = f"{lablib.MIRROR_URL}/v1-release/channels/{channel}"
    redirect = http(lab.server, url, follow=False)
    assert redirect.status == 302
    assert redirect.headers["location"] == f"{lablib.MIRROR_URL}/k3s-io/k3s/releases/tag/{tag}"
    # install.sh follows the redirect and takes the last path segment of the final URL as the version.
    followed = http(lab.server, url)
    assert followed.status == 200
    assert followed.url.rsplit("/", 1)[-1] == tag


def test_unknown_channel_does_not_redirect(lab):
    assert http(lab.server, f"{lablib.MIRROR_URL}/v1-release/channels/v1.99", follow=False).status == 404


def test_airgapped_host_reaches_the_mirror_and_nothing_else(lab):
    assert http(lab.airgap, f"{lablib.MIRROR_URL}/healthz").status == 200
    routes = lab.airgap.exec(["ip", "route", "show", "default"]).stdout
    assert routes.strip() == "", f"an --internal network must give no default route, got {routes!r}"
    outside = lab.airgap.python(
        "import urllib.request\n"
        "try:\n    urllib.request.urlopen('http://deb.debian.org/debian/', timeout=5)\nexcept OSError:\n"
        "    raise SystemExit(3)\n", check=False)
    assert outside.returncode == 3, "the airgapped host reached the internet"


def test_https_is_trusted_only_with_the_lab_ca(lab):
    url = f"{lablib.MIRROR_HTTPS_URL}/k3s-io/k3s/releases/download/{VERSION}/sha256sum-amd64.txt"
    probe = ("import ssl, sys, urllib.error, urllib.request\n"
             "try:\n    urllib.request.urlopen(sys.argv[1], timeout=10)\n"
             "except urllib.error.URLError as error:\n"
             "    raise SystemExit(4 if isinstance(error.reason, ssl.SSLCertVerificationError) else 5)\n")
    host = lab.agent
    host.exec(["rm", "-f", lablib.MIRROR_CA_ON_HOST])
    host.exec(["update-ca-certificates", "--fresh"])
    assert host.python(probe, url, check=False).returncode == 4, "a CA the host does not trust was accepted"
    host.trust_mirror_ca()
    over_https = http(host, url)
    assert over_https.status == 200
    assert over_https.body == http(host, f"{release_url()}/sha256sum-amd64.txt").body
