"""systemd readiness notification (sd_notify), as go-systemd's ``daemon.SdNotify`` does it.

The install script's unit has ``Type=notify`` and ``TimeoutStartSec=0``: ``systemctl restart k3s`` blocks
until the process sends ``READY=1`` on ``$NOTIFY_SOCKET``. The socket is a unix datagram socket; a
leading ``@`` names an abstract-namespace socket.
"""
from __future__ import annotations

import os
import socket


def _address(raw: str) -> str:
    # Abstract sockets are spelled with a leading '@' in the environment and a NUL byte on the wire.
    return "\0" + raw[1:] if raw.startswith("@") else raw


def notify(state: str = "READY=1\n", env: dict[str, str] | None = None) -> bool:
    """Send ``state``; False (and no error) when no socket is configured, as SdNotify returns."""
    raw = (env if env is not None else os.environ).get("NOTIFY_SOCKET", "")
    if not raw:
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(_address(raw))
            sock.sendall(state.encode())
        except OSError:
            return False
    return True


def ready() -> bool:
    return notify("READY=1\n")


def stopping() -> bool:
    return notify("STOPPING=1\n")
