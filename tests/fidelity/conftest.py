"""In-process fidelity tests of the K3s stand-in: its package is imported from tests/standin."""
import sys
from pathlib import Path

STANDIN_SRC = Path(__file__).resolve().parents[1] / "standin"
if str(STANDIN_SRC) not in sys.path:
    sys.path.insert(0, str(STANDIN_SRC))
