"""Make this checkout importable as ansible_collections.edgefleet.k3s for the unit tests.

Ansible imports collection code by its full name, so the tests need a tree
<tmp>/ansible_collections/edgefleet/k3s -> <repo>. The tree is a symlink in a temporary directory:
nothing is written outside the repository except there, and it is removed at exit.
"""

from __future__ import annotations

import atexit
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _install_collection_root() -> None:
    root = Path(tempfile.mkdtemp(prefix="edgefleet-k3s-unit-"))
    atexit.register(shutil.rmtree, root, True)
    namespace = root / "ansible_collections" / "edgefleet"
    namespace.mkdir(parents=True)
    (namespace / "k3s").symlink_to(REPO, target_is_directory=True)
    sys.path.insert(0, str(root))
    # ansible's own collection loader resolves ansible_collections.* once it is installed; give it the
    # same root so that action plugins and module_utils load identically either way.
    from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder

    _AnsibleCollectionFinder(paths=[str(root)])._install()


_install_collection_root()
