#!/usr/bin/env bash
# Build the lab's host images (localhost/edgefleet-debian12, localhost/edgefleet-debian13) from Debian
# with debootstrap: no container registry is reachable, and the hosts must look like a freshly
# installed, bare edge server (systemd, python3, sudo, openssh-server and little else).
#
# usage: tests/lab/images.sh [--rebuild] [debian12] [debian13]     (default: both)
# An image that already exists is kept unless --rebuild is given.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# Podman on these machines needs runc and lower ulimits; the project's own file says so (/etc untouched).
export CONTAINERS_CONF="${REPO}/tests/lab/containers.conf"

DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
KEYRING="/usr/share/keyrings/debian-archive-keyring.gpg"
PROJECT_LABEL="io.edgefleet.project=edgefleet-k3s"
# What a minimal Debian server install has that Ansible and an edge host need; nothing K3s-specific:
# whatever the K3s stand-in needs travels inside its own payload.
PACKAGES="systemd,systemd-sysv,dbus,python3,sudo,openssh-server,iproute2,procps,ca-certificates,kmod,netbase"

log() { printf '[images] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

suite_for() {
  case "$1" in
    debian12) echo bookworm ;;
    debian13) echo trixie ;;
    *) die "unknown image '$1' (known: debian12 debian13)" ;;
  esac
}

# The containers share one image, so anything that must differ per machine is removed here and made
# at first boot: machine-id (systemd writes one when the file is empty) and the SSH host keys.
customize_rootfs() {
  local root="$1"
  : >"${root}/etc/machine-id"
  rm -f "${root}/var/lib/dbus/machine-id" "${root}/etc/hostname"
  rm -f "${root}"/etc/ssh/ssh_host_*
  cat >"${root}/etc/systemd/system/edgefleet-ssh-hostkeys.service" <<'UNIT'
[Unit]
Description=Generate this host's SSH host keys (the image ships none)
Before=ssh.service
ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key

[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -A

[Install]
WantedBy=multi-user.target
UNIT
  ln -sf /etc/systemd/system/edgefleet-ssh-hostkeys.service \
    "${root}/etc/systemd/system/multi-user.target.wants/edgefleet-ssh-hostkeys.service"
  # Downloaded .debs only make the image bigger; the package lists stay, as on an installed server.
  rm -f "${root}"/var/cache/apt/archives/*.deb "${root}"/var/cache/apt/*.bin
  rm -rf "${root}/var/log/journal"/* "${root}/tmp"/* "${root}/var/tmp"/*
}

build_image() {
  local name="$1" suite image workdir old_id started
  suite="$(suite_for "${name}")"
  image="localhost/edgefleet-${name}:latest"
  if podman image exists "${image}" && [[ "${REBUILD}" != true ]]; then
    log "${image} exists, skipped (use --rebuild to build it again)"
    return 0
  fi
  old_id="$(podman image inspect --format '{{.Id}}' "${image}" 2>/dev/null || true)"
  started=${SECONDS}
  mkdir -p "${REPO}/.lab/build"
  workdir="$(mktemp -d "${REPO}/.lab/build/rootfs-${name}.XXXXXX")"
  # build_image runs in its own background subshell (see main), so EXIT fires when it is done or dies.
  # shellcheck disable=SC2064  # expand now: the trap must remove this very directory
  trap "rm -rf '${workdir}' '${workdir}.log'" EXIT
  log "debootstrap ${suite} (${name}) from ${DEBIAN_MIRROR}"
  if ! debootstrap --variant=minbase --include="${PACKAGES}" --keyring="${KEYRING}" \
      "${suite}" "${workdir}/rootfs" "${DEBIAN_MIRROR}" >"${workdir}.log" 2>&1; then
    tail -n 40 "${workdir}.log" >&2
    [[ -f "${workdir}/rootfs/debootstrap/debootstrap.log" ]] && tail -n 40 "${workdir}/rootfs/debootstrap/debootstrap.log" >&2
    rm -f "${workdir}.log"
    die "debootstrap ${suite} failed"
  fi
  rm -f "${workdir}.log"
  customize_rootfs "${workdir}/rootfs"
  log "importing ${image}"
  tar -C "${workdir}/rootfs" --numeric-owner -c . | podman import \
    --change 'CMD ["/sbin/init"]' \
    --change 'STOPSIGNAL SIGRTMIN+3' \
    --change "LABEL ${PROJECT_LABEL}" \
    --change "LABEL io.edgefleet.image=${name}" \
    --change "LABEL io.edgefleet.debian-suite=${suite}" \
    --change "LABEL org.opencontainers.image.title=edgefleet-${name}" \
    --change "LABEL org.opencontainers.image.created=$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
    --message "debootstrap --variant=minbase ${suite}" \
    --quiet - "${image}" >/dev/null
  # A rebuilt image leaves its predecessor untagged; drop it unless a container still uses it.
  if [[ -n "${old_id}" ]] && [[ "${old_id}" != "$(podman image inspect --format '{{.Id}}' "${image}")" ]]; then
    podman rmi "${old_id}" >/dev/null 2>&1 || log "old image ${old_id:0:12} still in use, kept"
  fi
  log "${image} built in $((SECONDS - started)) s"
}

main() {
  REBUILD=false
  local targets=()
  for arg in "$@"; do
    case "${arg}" in
      --rebuild) REBUILD=true ;;
      -h|--help) sed -n '2,7p' "${BASH_SOURCE[0]}"; exit 0 ;;
      debian12|debian13) targets+=("${arg}") ;;
      *) die "unknown argument '${arg}'" ;;
    esac
  done
  [[ ${#targets[@]} -gt 0 ]] || targets=(debian12 debian13)
  [[ ${EUID} -eq 0 ]] || die "debootstrap and rootful podman need root"
  command -v debootstrap >/dev/null || die "debootstrap is not installed (apt-get install debootstrap)"
  [[ -r "${KEYRING}" ]] || die "${KEYRING} missing (apt-get install debian-archive-keyring)"
  # Debootstrap mostly waits on the network: building the images side by side halves the time.
  local pids=() failed=0
  for name in "${targets[@]}"; do
    build_image "${name}" &
    pids+=("$!")
  done
  for pid in "${pids[@]}"; do
    wait "${pid}" || failed=1
  done
  [[ ${failed} -eq 0 ]] || die "building the host images failed"
}

main "$@"
