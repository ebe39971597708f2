"""Role READMEs carry the variable table generated from their argument specs, up to date."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("gen_role_readme", REPO / "tests" / "tools" / "gen_role_readme.py")
gen_role_readme = importlib.util.module_from_spec(_spec)
sys.modules["gen_role_readme"] = gen_role_readme
_spec.loader.exec_module(gen_role_readme)

READMES = list(gen_role_readme.role_readmes())


def test_every_role_with_specs_has_a_readme():
    assert {readme.parent.name for readme, _wanted in READMES} >= {"k3s", "k3s_artifacts", "k3s_service"}


@pytest.mark.parametrize("readme,wanted", READMES, ids=lambda v: v.parent.name if isinstance(v, Path) else "")
def test_readme_table_is_up_to_date(readme, wanted):
    assert readme.exists(), f"{readme} is missing: run python tests/tools/gen_role_readme.py"
    assert readme.read_text() == wanted, f"{readme} is out of date: run python tests/tools/gen_role_readme.py"


def test_markup_becomes_markdown():
    text = "Set O(k3s_token=x) to V(yes), see M(edgefleet.k3s.k3s_validate) and C(a|b) I(really) B(now)."
    assert gen_role_readme.markup_to_markdown(text) == (
        "Set `k3s_token` to `yes`, see `edgefleet.k3s.k3s_validate` and `a|b` *really* **now**.")


def test_table_rows_escape_pipes_and_show_defaults(tmp_path):
    spec = tmp_path / "argument_specs.yml"
    spec.write_text(
        "argument_specs:\n  main:\n    short_description: Demo\n    options:\n"
        "      demo_a:\n        type: str\n        default: '{{ x | default(1) }}'\n        description: [A.]\n"
        "      demo_b:\n        type: list\n        elements: str\n        default: []\n        description: B.\n"
        "        choices: [x]\n")
    table = gen_role_readme.render_table(spec)
    assert "| `demo_a` | str | `{{ x \\| default(1) }}` | A. |" in table
    assert "| `demo_b` | list of str | `[]` | B. Choices: `x`. |" in table


def test_generated_block_replaces_only_itself():
    readme = f"# Title\n\nintro\n\n{gen_role_readme.BEGIN}\nold\n{gen_role_readme.END}\n\n## After\n"
    assert gen_role_readme.updated_readme(readme, "new") == (
        f"# Title\n\nintro\n\n{gen_role_readme.BEGIN}\nnew\n{gen_role_readme.END}\n\n## After\n")
