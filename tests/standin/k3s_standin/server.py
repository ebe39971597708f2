"""``k3s server``: data dir, PKI, tokens, kubeconfig, node password, HTTPS on 6443, own Node, sd_notify.

Runs in the foreground until SIGTERM/SIGINT (or ``stop`` is set by an in-process caller). Fatal
configuration problems are logged at fatal level with K3s' wording and ``run`` returns 1.
"""
from __future__ import annotations

import base64
import errno
import grp
import hashlib
import ipaddress
import json
import os
import ssl
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import airgap, buildinfo, log, nodes, paths, pki, sdnotify, shim, supervisor, tokens
from .addons import AddonController
from .daemon import (FatalError, NodeConfig, ensure_node_id, ensure_node_password, flag, install_signal_handlers,
                     kubeconfig_text, node_config, proc_net, read_token_file)
from .httpsd import HTTPSServer, server_context
from .kubeapi import KubeAPI
from .objstore import Objects
from .store import Store

SERVICE_IP = "10.43.0.1"
CLUSTER_DNS = "10.43.0.10"
HEARTBEAT_SECONDS = 10.0
LIFECYCLE_SECONDS = 5.0
ADDON_SECONDS = 15.0
# Test-only knob, not a K3s setting: K3S_STANDIN_ADDON_SCAN_SECONDS shortens the 15 s manifests scan so that
# end-to-end tests of the running server need not wait 15 s per step. Unset (as on every lab host): 15 s.
ADDON_SCAN_ENV = "K3S_STANDIN_ADDON_SCAN_SECONDS"


def addon_scan_seconds() -> float:
    text = os.environ.get(ADDON_SCAN_ENV, "")
    try:
        value = float(text)
    except ValueError:
        return ADDON_SECONDS
    return value if value > 0 else ADDON_SECONDS


# --- configuration ------------------------------------------------------------------------------------------

@dataclass(kw_only=True)
class ServerConfig(NodeConfig):
    port: int
    bind_address: str
    advertise_address: str
    tls_sans: list[str]
    token: str
    agent_token: str
    kubeconfig: str
    kubeconfig_mode: str
    kubeconfig_group: str
    cluster_init: bool
    disable: list[str]
    disable_agent: bool
    cluster_cidr: str
    cluster_dns: list[str]
    cluster_domain: str
    default_local_storage_path: str  # as the host sees it
    system_default_registry: str

    @property
    def server_dir(self) -> Path:
        return paths.host(self.data_dir) / "server"


def config_from_flags(flags: Any, argv: list[str] | None = None) -> ServerConfig:
    token = flag(flags, "token", "") or (
        read_token_file(flag(flags, "token-file")) if flag(flags, "token-file") else "")
    agent_token = flag(flags, "agent-token", "") or (
        read_token_file(flag(flags, "agent-token-file")) if flag(flags, "agent-token-file") else "")
    registry = flag(flags, "system-default-registry", "")
    node = node_config(flags, "server", argv, registry)
    cluster_dns = nodes.split_list(flag(flags, "cluster-dns", [])) or [CLUSTER_DNS]
    for address in cluster_dns:
        if not pki.is_ip(address):
            raise FatalError(f"invalid cluster-dns address {address}")
    return ServerConfig(
        **node,
        port=int(flag(flags, "https-listen-port", 6443)),
        bind_address=flag(flags, "bind-address", ""),
        advertise_address=flag(flags, "advertise-address", "") or (node["external_ips"] or node["node_ips"])[0],
        tls_sans=nodes.split_list(flag(flags, "tls-san", [])),
        token=token,
        agent_token=agent_token,
        kubeconfig=flag(flags, "write-kubeconfig", ""),
        kubeconfig_mode=flag(flags, "write-kubeconfig-mode", ""),
        kubeconfig_group=flag(flags, "write-kubeconfig-group", ""),
        cluster_init=bool(flag(flags, "cluster-init", False)),
        disable=nodes.split_list(flag(flags, "disable", [])),
        disable_agent=bool(flag(flags, "disable-agent", False)),
        cluster_cidr=(nodes.split_list(flag(flags, "cluster-cidr", [])) or ["10.42.0.0/16"])[0],
        cluster_dns=[str(ipaddress.ip_address(a)) for a in cluster_dns],
        cluster_domain=flag(flags, "cluster-domain", "") or "cluster.local",
        default_local_storage_path=flag(flags, "default-local-storage-path", "")
        or f"{node['data_dir'].rstrip('/')}/storage",
        system_default_registry=registry,
    )


# --- files on disk ---------------------------------------------------------------------------------------------

def write_file(path: Path, data: bytes | str, mode: int) -> None:
    pki.write_private(path, data.encode() if isinstance(data, str) else data, mode)


def replace_symlink(link: Path, target: Path) -> None:
    if link.is_symlink() or link.exists():
        if link.is_dir() and not link.is_symlink():
            return
        link.unlink()
    link.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target, link)


@dataclass
class Pki:
    server_ca: pki.KeyPair
    client_ca: pki.KeyPair
    admin: pki.KeyPair
    serving: pki.KeyPair
    tls_dir: Path


def serving_sans(cfg: ServerConfig) -> tuple[list[str], list[str]]:
    dns = ["kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local",
           "localhost", cfg.host_name, cfg.node_name]
    ips = ["127.0.0.1", "::1", SERVICE_IP] + cfg.node_ips + cfg.external_ips
    if cfg.advertise_address:
        ips.append(cfg.advertise_address)
    if cfg.bind_address and cfg.bind_address not in ("0.0.0.0", "::"):
        ips.append(cfg.bind_address)
    for san in cfg.tls_sans:
        (ips if pki.is_ip(san) else dns).append(san)
    return dns, ips


def ensure_pki(cfg: ServerConfig) -> Pki:
    """The CA and certificate files K3s keeps under server/tls (reused on restart)."""
    tls = cfg.server_dir / "tls"
    tls.mkdir(parents=True, exist_ok=True)
    os.chmod(tls, 0o700)
    server_ca = pki.ensure_ca(tls / "server-ca.crt", tls / "server-ca.key", "k3s-server-ca")
    client_ca = pki.ensure_ca(tls / "client-ca.crt", tls / "client-ca.key", "k3s-client-ca")
    header_ca = pki.ensure_ca(tls / "request-header-ca.crt", tls / "request-header-ca.key", "k3s-request-header-ca")
    etcd_server_ca = pki.ensure_ca(tls / "etcd" / "server-ca.crt", tls / "etcd" / "server-ca.key", "etcd-server-ca")
    etcd_peer_ca = pki.ensure_ca(tls / "etcd" / "peer-ca.crt", tls / "etcd" / "peer-ca.key", "etcd-peer-ca")
    for name in ("server-ca", "client-ca"):
        nochain = tls / f"{name}.nochain.crt"
        if not nochain.exists():
            write_file(nochain, (tls / f"{name}.crt").read_bytes(), 0o644)
    clients = {
        "client-admin": ("system:admin", ("system:masters",)),
        "client-controller": ("system:kube-controller-manager", ()),
        "client-scheduler": ("system:kube-scheduler", ()),
        "client-supervisor": ("system:k3s-supervisor", ("system:masters",)),
        "client-kube-apiserver": ("system:apiserver", ("system:masters",)),
        "client-kube-proxy": ("system:kube-proxy", ()),
        "client-k3s-controller": ("system:k3s-controller", ()),
        "client-k3s-cloud-controller": ("k3s-cloud-controller-manager", ()),
    }
    pairs = {}
    for base, (cn, orgs) in clients.items():
        pairs[base] = pki.ensure_leaf(client_ca, tls / f"{base}.crt", tls / f"{base}.key",
                                      pki.CertSpec(cn, orgs, client_auth=True))
    pki.ensure_leaf(header_ca, tls / "client-auth-proxy.crt", tls / "client-auth-proxy.key",
                    pki.CertSpec("system:auth-proxy", client_auth=True))
    for base, ca, cn in (("etcd/client", etcd_server_ca, "etcd-client"),
                         ("etcd/server-client", etcd_server_ca, "etcd-server"),
                         ("etcd/peer-server-client", etcd_peer_ca, "etcd-peer")):
        pki.ensure_leaf(ca, tls / f"{base}.crt", tls / f"{base}.key",
                        pki.CertSpec(cn, server_auth=True, client_auth=True, dns_names=["localhost", cfg.host_name],
                                     ip_addresses=["127.0.0.1", "::1"] + cfg.node_ips))
    for shared in ("client-kubelet.key", "serving-kubelet.key", "service.key"):
        pki.ensure_key(tls / shared)
    dns, ips = serving_sans(cfg)
    serving = pki.ensure_leaf(server_ca, tls / "serving-kube-apiserver.crt", tls / "serving-kube-apiserver.key",
                              pki.CertSpec("k3s", ("k3s",), server_auth=True, dns_names=dns, ip_addresses=ips))
    return Pki(server_ca, client_ca, pairs["client-admin"], serving, tls)


def resolve_server_password(cfg: ServerConfig) -> str:
    """--token (or file), else the password already stored in server/token, else a random one."""
    if cfg.token:
        try:
            return tokens.password_of(cfg.token)
        except tokens.TokenError as exc:
            raise FatalError(f"starting kubernetes: preparing server: {exc}") from exc
    stored = cfg.server_dir / "token"
    if stored.exists():
        try:
            return tokens.parse(stored.read_text().strip()).password
        except tokens.TokenError:
            pass
    return tokens.random_password()


def check_bootstrap_token(cfg: ServerConfig, password: str) -> None:
    """K3s encrypts its bootstrap data with the token; a restart with another token cannot read it."""
    marker = cfg.server_dir / "db" / ".bootstrap-token-hash"
    digest = hashlib.sha256(password.encode()).hexdigest()
    if marker.exists():
        if marker.read_text().strip() != digest:
            raise FatalError("starting kubernetes: preparing server: "
                             "bootstrap data already found and encrypted with different token")
        return
    write_file(marker, digest + "\n", 0o600)


def write_tokens(cfg: ServerConfig, password: str, agent_password: str, ca_pem: bytes) -> None:
    server_dir = cfg.server_dir
    token_file = server_dir / "token"
    write_file(token_file, tokens.format_token(f"server:{password}", ca_pem) + "\n", 0o600)
    node_token = server_dir / "node-token"
    if not node_token.is_symlink():
        if node_token.exists():
            node_token.unlink()
        os.symlink(token_file, node_token)
    agent_file = server_dir / "agent-token"
    if cfg.agent_token:
        if agent_file.is_symlink():
            agent_file.unlink()
        write_file(agent_file, tokens.format_token(f"node:{agent_password}", ca_pem) + "\n", 0o600)
    else:
        replace_symlink(agent_file, token_file)
    cred = server_dir / "cred"
    cred.mkdir(parents=True, exist_ok=True)
    os.chmod(cred, 0o700)
    write_file(cred / "passwd", f"{password},server,server,k3s:server\n{agent_password},node,node,k3s:agent\n", 0o600)


def local_url(cfg: ServerConfig) -> str:
    host = cfg.bind_address if cfg.bind_address and cfg.bind_address not in ("0.0.0.0", "::") else "127.0.0.1"
    host = f"[{host}]" if ":" in host else host
    return f"https://{host}:{cfg.port}"


def write_kubeconfig(cfg: ServerConfig, ca_pem: bytes, admin: pki.KeyPair) -> str:
    target = cfg.kubeconfig or paths.DEFAULT_KUBECONFIG
    path = paths.host(target)
    cert_pem = admin.cert_path.read_bytes() if admin.cert_path else admin.cert_pem
    key_pem = admin.key_path.read_bytes() if admin.key_path else pki.key_pem(admin.key)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_file(path, kubeconfig_text(local_url(cfg), ca_pem, cert_pem, key_pem), 0o600)
    _apply_kubeconfig_mode(cfg, path, target)
    if cfg.kubeconfig and cfg.kubeconfig != paths.DEFAULT_KUBECONFIG:
        default = paths.host(paths.DEFAULT_KUBECONFIG)
        if not default.exists() or default.is_symlink():
            replace_symlink(default, path)
    log.info(f"Wrote kubeconfig {target}")
    return target


def _apply_kubeconfig_mode(cfg: ServerConfig, path: Path, shown: str) -> None:
    if cfg.kubeconfig_mode:
        try:
            os.chmod(path, int(cfg.kubeconfig_mode, 8))
        except ValueError:
            log.error(f"Failed to set {shown} to mode ----------: strconv.ParseInt: parsing "
                      f'"{cfg.kubeconfig_mode}": invalid syntax')
    if cfg.kubeconfig_group:
        try:
            os.chown(path, -1, grp.getgrnam(cfg.kubeconfig_group).gr_gid)
        except (KeyError, PermissionError) as exc:
            log.error(f"Failed to set {shown} to group {cfg.kubeconfig_group}: {exc}")


# --- the running server -------------------------------------------------------------------------------------

class Server:
    def __init__(self, cfg: ServerConfig, stop: threading.Event) -> None:
        self.cfg = cfg
        self.stop = stop
        self.info = buildinfo.get()
        self.store: Store | None = None
        self.objects: Objects | None = None
        self.passwords: nodes.NodePasswords | None = None
        self.control: supervisor.ControlInfo | None = None
        self.listener: HTTPSServer | None = None
        self.etcd = cfg.cluster_init or (cfg.server_dir / "db" / "etcd").is_dir()
        self.pause = airgap.PauseImageChecker(cfg.agent_dir / "images", cfg.pause_image, proc_net())
        self.own_node_registered = False
        self.addons: AddonController | None = None

    # startup steps, in K3s' order
    def prepare(self) -> None:
        cfg = self.cfg
        log.info(f"Starting k3s {self.info.version} ({self.info.git_commit})")
        for sub in ("server", "server/db", "server/manifests", "server/static", "server/cred", "agent",
                    "agent/images", "agent/etc"):
            (paths.host(cfg.data_dir) / sub).mkdir(parents=True, exist_ok=True)
        if cfg.with_node_id:
            cfg.node_name = f"{cfg.node_name}-{ensure_node_id()}"
        password = resolve_server_password(cfg)
        agent_password = password
        if cfg.agent_token:
            try:
                agent_password = tokens.password_of(cfg.agent_token)
            except tokens.TokenError as exc:
                raise FatalError(f"starting kubernetes: preparing server: {exc}") from exc
        self._prepare_datastore()
        check_bootstrap_token(cfg, password)
        self.pki = ensure_pki(cfg)
        self.ca_pem = (self.pki.tls_dir / "server-ca.crt").read_bytes()
        self.password, self.agent_password = password, agent_password
        self._open_store()

    def _prepare_datastore(self) -> None:
        db = self.cfg.server_dir / "db"
        if self.etcd:
            first = not (db / "etcd").is_dir()
            (db / "etcd" / "member" / "snap").mkdir(parents=True, exist_ok=True)
            (db / "etcd" / "member" / "wal").mkdir(parents=True, exist_ok=True)
            log.info("Managed etcd cluster initializing" if first
                       else "Managed etcd cluster bootstrap already complete and initialized")
            (db / "snapshots").mkdir(exist_ok=True)
        else:
            log.info("Configuring sqlite3 database connection pooling: maxIdleConns=2, maxOpenConns=0, "
                     "connMaxLifetime=0s")
            log.info("Configuring database table schema and indexes, this may take a moment...")
            log.info("Database tables and indexes are up to date")
            log.info("Kine available at unix://kine.sock")
            state = db / "state.db"
            if not state.exists():
                write_file(state, b"", 0o600)  # placeholder: tools look for K3s' sqlite file
        log.info("Reconciling bootstrap data between datastore and disk")

    def _open_store(self) -> None:
        state = self.cfg.server_dir / "db" / ("etcd" if self.etcd else "") / "standin-store.json"
        self.store = Store(state, root_ca_pem=(self.cfg.server_dir / "tls" / "server-ca.crt").read_text())
        self.objects = Objects(self.store)
        self.passwords = nodes.NodePasswords(self.objects)

    def listen(self) -> None:
        cfg, tls = self.cfg, self.pki.tls_dir
        self.control = supervisor.ControlInfo(
            data_dir=cfg.server_dir,
            server_ca=tls / "server-ca.crt", server_ca_key=tls / "server-ca.key",
            client_ca=tls / "client-ca.crt", client_ca_key=tls / "client-ca.key",
            client_kubelet_key=tls / "client-kubelet.key", serving_kubelet_key=tls / "serving-kubelet.key",
            client_kube_proxy_key=tls / "client-kube-proxy.key",
            client_k3s_controller_key=tls / "client-k3s-controller.key",
            config=self._agent_config(),
            apiservers=lambda: [f"{cfg.advertise_address}:{cfg.port}"],
            etcd_members=self._etcd_members if self.etcd else None,
            bootstrap_data=self._bootstrap_data if self.etcd else None,
        )
        assert self.store is not None
        # K3s runs kube-apiserver with --anonymous-auth=false.
        api = KubeAPI(self.store, buildinfo.version_info(self.info),
                      server_address=f"{cfg.advertise_address}:{cfg.port}", anonymous_auth=False)
        sup = supervisor.Supervisor(self.control, supervisor.Authenticator(cfg.server_dir / "cred" / "passwd",
                                                                           lambda: self.objects),
                                    lambda: self.objects, api, lambda: self.passwords)
        ctx = server_context(str(tls / "serving-kube-apiserver.crt"), str(tls / "serving-kube-apiserver.key"),
                             str(tls / "client-ca.crt"))
        host = cfg.bind_address or "::"
        if host == "::" and not _ipv6_available():
            host = "0.0.0.0"
        self.listener = HTTPSServer(host, cfg.port, ctx, sup.handle)
        try:
            self.listener.open()
        except OSError as exc:
            shown = f"{cfg.bind_address}:{cfg.port}" if cfg.bind_address else f":{cfg.port}"
            reason = "address already in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc)).lower()
            raise FatalError(f"listen tcp {shown}: bind: {reason}") from exc
        self.listener.start()
        log.info(f"Running kube-apiserver --advertise-address={cfg.advertise_address} "
                 f"--advertise-port={cfg.port} --anonymous-auth=false --authorization-mode=Node,RBAC "
                 f"--bind-address=127.0.0.1 --secure-port={cfg.port + 1}")

    def _agent_config(self) -> dict:
        cfg = self.cfg
        return {
            "ClusterDomain": cfg.cluster_domain, "ClusterDNS": cfg.cluster_dns[0],
            "ClusterIPRange": cfg.cluster_cidr, "ServiceIPRange": "10.43.0.0/16", "ServiceNodePortRange": "30000-32767",
            "SupervisorPort": cfg.port, "HTTPSPort": cfg.port, "APIServerPort": cfg.port + 1,
            "AdvertiseIP": cfg.advertise_address, "AdvertisePort": cfg.port,
            "FlannelBackend": "vxlan", "FlannelIPv6Masq": False, "EgressSelectorMode": "agent",
            "DisableKubeProxy": False, "DisableNPC": False, "DisableCCM": False, "DisableHelmController": False,
            "Skips": {name: True for name in cfg.disable}, "Disables": {name: True for name in cfg.disable},
            "SystemDefaultRegistry": cfg.system_default_registry, "EmbeddedRegistry": False,
            "ServiceLBNamespace": "kube-system",
        }

    def _etcd_members(self) -> list[dict]:
        name = f"{self.cfg.node_name}-{hashlib.sha256(self.cfg.node_name.encode()).hexdigest()[:8]}"
        ip = self.cfg.advertise_address
        return [{"ID": int(hashlib.sha256(name.encode()).hexdigest()[:15], 16), "name": name,
                 "peerURLs": [f"https://{ip}:2380"], "clientURLs": [f"https://{ip}:2379"]}]

    def _bootstrap_data(self) -> bytes:
        tls = self.pki.tls_dir
        files = {"ServerCA": "server-ca.crt", "ServerCAKey": "server-ca.key", "ClientCA": "client-ca.crt",
                 "ClientCAKey": "client-ca.key", "RequestHeaderCA": "request-header-ca.crt",
                 "RequestHeaderCAKey": "request-header-ca.key", "ServiceKey": "service.key"}
        doc = {key: {"Timestamp": "", "Content": base64.b64encode((tls / name).read_bytes()).decode()}
               for key, name in files.items()}
        return json.dumps(doc).encode()

    def publish_tokens_and_kubeconfig(self) -> None:
        cfg = self.cfg
        write_tokens(cfg, self.password, self.agent_password, self.ca_pem)
        shown = paths.unhost(cfg.server_dir / "token")
        join = f"https://{cfg.advertise_address}:{cfg.port}"
        log.info(f"Server node token is available at {shown}")
        log.info(f"To join server node to cluster: k3s server -s {join} -t ${{SERVER_NODE_TOKEN}}")
        log.info(f"Agent node token is available at {paths.unhost(cfg.server_dir / 'agent-token')}")
        log.info(f"To join agent node to cluster: k3s agent -s {join} -t ${{AGENT_NODE_TOKEN}}")
        write_kubeconfig(cfg, self.ca_pem, self.pki.admin)
        log.info("Run: k3s kubectl")

    # --- core controllers ---------------------------------------------------------------------------
    def start_core(self) -> None:
        assert self.control is not None
        self.control.core_ready.set()
        if not self.cfg.disable_agent:
            shim.ensure_shim()  # the embedded containerd's state and a long-lived shim (shim.py)
        self._start_addons()
        threading.Thread(target=self._core_loop, name="core", daemon=True).start()

    def _start_addons(self) -> None:
        """The auto-deploying manifests controller: it stages the packaged manifests (skipping --disable'd
        ones) with this server's settings, then applies the manifests directory every 15 s (_core_loop)."""
        assert self.store is not None
        cfg = self.cfg
        self.addons = AddonController(
            self.store, cfg.server_dir / "manifests", list(cfg.disable), node_name=cfg.node_name, log=log,
            data_dir=paths.host(cfg.data_dir), cluster_dns=cfg.cluster_dns, cluster_domain=cfg.cluster_domain,
            default_local_storage_path=cfg.default_local_storage_path,
            system_default_registry=cfg.system_default_registry)

    def _core_loop(self) -> None:
        assert self.objects is not None
        lifecycle = nodes.Lifecycle(self.objects, self.cfg.node_name, self.cfg.cluster_cidr, log.info)
        next_beat = next_life = next_addon = 0.0
        while not self.stop.is_set():
            now = time.monotonic()
            try:
                if now >= next_beat:
                    self.heartbeat()
                    next_beat = now + HEARTBEAT_SECONDS
                if now >= next_life:
                    lifecycle.tick()
                    next_life = now + LIFECYCLE_SECONDS
                if now >= next_addon and self.addons is not None:
                    self.addons.scan_once()
                    next_addon = now + addon_scan_seconds()
            except Exception as exc:  # keep controllers alive like K3s' retrying loops do
                log.error(f"Failed to run controllers: {exc}")
            self.stop.wait(1.0)

    def node_spec(self) -> nodes.NodeSpec:
        return self.cfg.node_spec(control_plane=True, etcd=self.etcd)

    def heartbeat(self) -> None:
        """The embedded kubelet: register the Node once, then post status."""
        if self.cfg.disable_agent or self.objects is None or self.passwords is None:
            return
        verdict = self.pause.check()
        spec = self.node_spec()
        if not self.own_node_registered:
            try:
                self.passwords.ensure(spec.name, ensure_node_password())
            except nodes.NodePasswordRejected:
                log.info("Waiting to retrieve agent configuration; server is not ready: Node password rejected, "
                         "duplicate hostname or contents of '/etc/rancher/node/password' may not match server "
                         "node-passwd entry, try enabling a unique node name with the --with-node-id flag")
                return
            if self.objects.get("v1", "Node", None, spec.name) is None:
                self.objects.create(nodes.build_node(spec, verdict.ready, verdict.message))
                log.info(f"Successfully registered node {spec.name}")
            self.own_node_registered = True
        self.objects.mutate("v1", "Node", None, spec.name,
                            lambda node: nodes.refresh_status(node, spec, verdict.ready, verdict.message))

    # --- readiness and shutdown -------------------------------------------------------------------------
    def wait_ready(self) -> bool:
        """Poll the API's /readyz over HTTPS with the admin certificate, as K3s' startup hooks do."""
        tls = self.pki.tls_dir
        ctx = ssl.create_default_context(cafile=str(tls / "server-ca.crt"))
        ctx.load_cert_chain(str(tls / "client-admin.crt"), str(tls / "client-admin.key"))
        url = f"{local_url(self.cfg)}/readyz"  # the address the kubeconfig uses
        while not self.stop.is_set():
            try:
                with urllib.request.urlopen(url, context=ctx, timeout=5) as resp:
                    if resp.status == 200:
                        return True
            except OSError:
                pass
            self.stop.wait(0.5)
        return False

    def shutdown(self) -> None:
        if self.listener is not None:
            self.listener.stop()


def _ipv6_available() -> bool:
    import socket

    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
            sock.bind(("::1", 0))
        return True
    except OSError:
        return False


def run(flags: Any, stop: threading.Event | None = None, argv: list[str] | None = None) -> int:
    """``k3s server``; returns the process exit code."""
    stop = stop or threading.Event()
    install_signal_handlers(stop)
    server: Server | None = None
    try:
        cfg = config_from_flags(flags, argv)
        server = Server(cfg, stop)
        server.prepare()
        server.listen()
        server.publish_tokens_and_kubeconfig()
        server.start_core()
        if server.wait_ready():
            log.info("k3s is up and running")
            sdnotify.ready()
        stop.wait()
        log.info("Shutting down k3s")
        return 0
    except FatalError as exc:
        log.fatal_line(str(exc))
        return 1
    finally:
        if server is not None:
            server.shutdown()
