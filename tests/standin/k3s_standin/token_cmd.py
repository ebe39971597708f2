"""``k3s token create|list|delete|generate``: kubeadm-style bootstrap tokens through the API.

Like K3s (``pkg/cli/token``) the commands use the admin kubeconfig (``--kubeconfig`` / ``$KUBECONFIG``,
default ``/etc/rancher/k3s/k3s.yaml``) and store each token as Secret ``kube-system/bootstrap-token-<id>``
of type ``bootstrap.kubernetes.io/token``. ``create`` prints ``K10<hash of the kubeconfig CA>::<id>.<secret>``.
"""
from __future__ import annotations

import base64
import datetime as dt
import json
import os
import ssl
import sys
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from . import flags, log, paths, tokens
from .daemon import flag

DEFAULT_GROUP = "system:bootstrappers:k3s:default-node-token"
DEFAULT_USAGES = ["signing", "authentication"]
SECRET_PATH = "/api/v1/namespaces/kube-system/secrets"


class CommandError(Exception):
    pass


@dataclass
class TokenArgs:
    sub: str = ""
    kubeconfig: str = ""
    description: str = ""
    groups: list[str] = field(default_factory=list)
    usages: list[str] = field(default_factory=list)
    ttl: str = "24h0m0s"
    output: str = "text"
    positional: list[str] = field(default_factory=list)


def parse_args(argv: list[str], env: dict[str, str]) -> TokenArgs:
    """The subcommand word, then its flags as the CLI parses them (urfave/cli: flags before positionals)."""
    items = list(argv)
    sub = items.pop(0) if items and not items[0].startswith("-") else ""
    if f"token {sub}" not in flags.commands():
        return TokenArgs(sub=sub)
    try:
        parsed = flags.parse(f"token {sub}", items, env)
    except flags.UsageError as exc:
        raise CommandError(exc.message) from exc
    return TokenArgs(sub=sub, kubeconfig=flag(parsed, "kubeconfig", ""), description=flag(parsed, "description", ""),
                     groups=flag(parsed, "groups", []), usages=flag(parsed, "usages", []),
                     ttl=flag(parsed, "ttl", "0s"), output=flag(parsed, "output", "text"), positional=list(parsed.args))


def short_duration(seconds: float) -> str:
    """apimachinery's ShortHumanDuration, used by the TTL column."""
    s = int(seconds)
    if s < 0:
        return "<invalid>"
    if s < 120:
        return f"{s}s"
    if s < 3 * 3600:
        return f"{s // 60}m"
    if s < 48 * 3600:
        return f"{s // 3600}h"
    if s < 8 * 86400 * 365:
        return f"{s // 86400}d"
    return f"{s // (86400 * 365)}y"


# --- API access with the admin kubeconfig -------------------------------------------------------------------

class Client:
    def __init__(self, kubeconfig: str) -> None:
        path = paths.host(kubeconfig or paths.DEFAULT_KUBECONFIG)
        try:
            doc = yaml.safe_load(path.read_text())
        except OSError as exc:
            raise CommandError(f"stat {kubeconfig or paths.DEFAULT_KUBECONFIG}: no such file or directory") from exc
        cluster = doc["clusters"][0]["cluster"]
        user = doc["users"][0]["user"]
        self.server = cluster["server"].rstrip("/")
        self.ca_pem = base64.b64decode(cluster["certificate-authority-data"])
        self.ctx = ssl.create_default_context(cadata=self.ca_pem.decode())
        with tempfile.TemporaryDirectory() as tmp:
            cert, key = Path(tmp) / "c", Path(tmp) / "k"
            cert.write_bytes(base64.b64decode(user["client-certificate-data"]))
            key.write_bytes(base64.b64decode(user["client-key-data"]))
            self.ctx.load_cert_chain(str(cert), str(key))

    def call(self, method: str, path: str, doc: dict | None = None) -> tuple[int, Any]:
        body = json.dumps(doc).encode() if doc is not None else None
        req = urllib.request.Request(self.server + path, data=body, method=method,
                                     headers={"Content-Type": "application/json", "Accept": "application/json"})
        try:
            with urllib.request.urlopen(req, context=self.ctx, timeout=10) as resp:
                return resp.status, json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as err:
            raw = err.read()
            try:
                return err.code, json.loads(raw or b"{}")
            except ValueError:
                return err.code, {"message": raw.decode(errors="replace")}
        except (urllib.error.URLError, OSError) as exc:
            raise CommandError(f'Get "{self.server}{path}": {getattr(exc, "reason", exc)}') from exc


# --- secrets ------------------------------------------------------------------------------------------------

def token_secret(token_id: str, secret: str, description: str, ttl: float, usages: list[str],
                 groups: list[str]) -> dict:
    data = {"token-id": token_id, "token-secret": secret}
    if description:
        data["description"] = description
    if ttl > 0:
        expires = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=ttl)
        data["expiration"] = expires.strftime("%Y-%m-%dT%H:%M:%SZ")
    for usage in usages:
        data[f"usage-bootstrap-{usage}"] = "true"
    if groups:
        data["auth-extra-groups"] = ",".join(groups)
    return {
        "apiVersion": "v1", "kind": "Secret", "type": "bootstrap.kubernetes.io/token",
        "metadata": {"name": f"bootstrap-token-{token_id}", "namespace": "kube-system"},
        "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()},
    }


def _decoded(secret: dict) -> dict[str, str]:
    return {k: base64.b64decode(v).decode(errors="replace") for k, v in (secret.get("data") or {}).items()}


def create(args: TokenArgs) -> int:
    if args.positional:
        value = args.positional[0]
        if not tokens.is_bootstrap_token(value):
            raise CommandError(f'the bootstrap token "{value}" was not of the form "^([a-z0-9]{{6}})\\.([a-z0-9]{{16}})$"')
    else:
        value = tokens.random_bootstrap_token()
    token_id, secret = value.split(".")
    client = Client(args.kubeconfig)
    status, _ = client.call("GET", f"{SECRET_PATH}/bootstrap-token-{token_id}")
    if status == 200:
        raise CommandError(f'a token with id "{token_id}" already exists')
    usages = [u for item in (args.usages or DEFAULT_USAGES) for u in item.split(",") if u]
    groups = [g for item in (args.groups or [DEFAULT_GROUP]) for g in item.split(",") if g]
    doc = token_secret(token_id, secret, args.description, flags.duration_ns(args.ttl) / 1e9, usages, groups)
    status, body = client.call("POST", SECRET_PATH, doc)
    if status not in (200, 201):
        raise CommandError(body.get("message", f"failed to create token: HTTP {status}"))
    print(tokens.format_token(value, client.ca_pem))
    return 0


def list_tokens(args: TokenArgs) -> int:
    if args.output not in ("text", "json", "yaml"):
        raise CommandError(f"invalid output format: {args.output}")
    client = Client(args.kubeconfig)
    status, body = client.call("GET", SECRET_PATH)
    if status != 200:
        raise CommandError(body.get("message", f"HTTP {status}"))
    rows = [_decoded(s) for s in body.get("items", []) if s.get("type") == "bootstrap.kubernetes.io/token"]
    if args.output == "text":
        _print_table(rows)
    else:
        objs = [_token_object(r) for r in rows]
        print(json.dumps(objs, indent=2) if args.output == "json" else yaml.safe_dump(objs, sort_keys=False), end="")
    return 0


def _token_object(row: dict[str, str]) -> dict:
    return {"token": f"{row.get('token-id')}.{row.get('token-secret')}", "description": row.get("description", ""),
            "expires": row.get("expiration", ""), "usages": _usages(row),
            "groups": [g for g in row.get("auth-extra-groups", "").split(",") if g]}


def _usages(row: dict[str, str]) -> list[str]:
    return sorted(k[len("usage-bootstrap-"):] for k, v in row.items() if k.startswith("usage-bootstrap-") and v == "true")


def _print_table(rows: list[dict[str, str]]) -> None:
    table = [["TOKEN", "TTL", "EXPIRES", "USAGES", "DESCRIPTION", "EXTRA GROUPS"]]
    now = dt.datetime.now(dt.timezone.utc)
    for row in rows:
        expires = row.get("expiration", "")
        if expires:
            when = dt.datetime.fromisoformat(expires.replace("Z", "+00:00"))
            ttl = short_duration((when - now).total_seconds())
        else:
            ttl, expires = "<forever>", "<never>"
        table.append([f"{row.get('token-id')}.{row.get('token-secret')}", ttl, expires, ",".join(_usages(row)),
                      row.get("description") or "<none>", row.get("auth-extra-groups", "")])
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    for cells in table:
        print("   ".join(cell.ljust(widths[i]) for i, cell in enumerate(cells)).rstrip())


def delete(args: TokenArgs) -> int:
    if not args.positional:
        raise CommandError("missing argument; 'token delete' is missing token")
    client = Client(args.kubeconfig)
    for item in args.positional:
        token_id = item
        if "." in item or "::" in item:
            try:
                token_id = tokens.parse(item).bootstrap_id or item
            except tokens.TokenError:
                token_id = item
        status, body = client.call("DELETE", f"{SECRET_PATH}/bootstrap-token-{token_id}")
        if status not in (200, 202):
            raise CommandError(f'failed to delete bootstrap token "{token_id}": {body.get("message", status)}')
        print(f'bootstrap token "{token_id}" deleted')
    return 0


def generate(_args: TokenArgs) -> int:
    print(tokens.random_bootstrap_token())
    return 0


def run(argv: list[str], env: dict[str, str] | None = None) -> int:
    """Entry point; ``argv`` starts with the subcommand name."""
    try:
        args = parse_args(argv, dict(env if env is not None else os.environ))
        handlers = {"create": create, "list": list_tokens, "delete": delete, "generate": generate}
        handler = handlers.get(args.sub)
        if handler is None:
            raise CommandError(f"unsupported token subcommand: {args.sub or '(none)'}")
        return handler(args)
    except CommandError as exc:
        log.fatal_line(f"Error: {exc}")
        sys.stdout.flush()
        return 1
