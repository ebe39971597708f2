"""``python3 -m k3s_standin``: what the release wrapper execs as /usr/local/bin/k3s."""
from __future__ import annotations

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
