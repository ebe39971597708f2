"""Every role's meta/argument_specs.yml and defaults/main.yml describe the same variables.

Ansible validates role input against the argument specs and the README tables are generated from them,
so a default that the specs do not know (or a spec default that differs from the real one) would be
documented wrongly and checked wrongly. The validation's list of known variables must match them too,
or a real variable would be reported as a typo (or a typo let through).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
ROLES = sorted(p.parent.parent for p in (REPO / "roles").glob("*/tasks/main.yml"))
TYPES = {"str", "bool", "int", "float", "list", "dict", "raw", "path", "bytes", "bits", "json", "jsonarg"}


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text()) if path.exists() else None


def main_spec(role: Path) -> dict[str, Any]:
    specs = (load(role / "meta" / "argument_specs.yml") or {}).get("argument_specs") or {}
    return specs.get("main") or {}


def options(role: Path) -> dict[str, Any]:
    return main_spec(role).get("options") or {}


def defaults(role: Path) -> dict[str, Any]:
    return load(role / "defaults" / "main.yml") or {}


def walk(opts: dict[str, Any], prefix: str = ""):
    for name, option in opts.items():
        yield f"{prefix}{name}", option or {}
        if (option or {}).get("options"):
            yield from walk(option["options"], f"{prefix}{name}.")


def test_there_are_roles():
    assert {r.name for r in ROLES} >= {"k3s", "k3s_artifacts", "k3s_service"}


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.name)
def test_role_has_a_main_entry_point_with_description(role):
    spec = main_spec(role)
    assert spec, f"{role.name}: meta/argument_specs.yml has no 'main' entry point"
    assert spec.get("short_description")
    assert spec.get("description")


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.name)
def test_entry_points_match_task_files_called_from_outside(role):
    """Every entry point names a tasks file; (only main is an entry point of these roles)."""
    specs = (load(role / "meta" / "argument_specs.yml") or {}).get("argument_specs") or {}
    for entry_point in specs:
        assert (role / "tasks" / f"{entry_point}.yml").is_file(), f"{role.name}: no tasks/{entry_point}.yml"


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.name)
def test_defaults_and_specs_name_the_same_variables(role):
    documented, defined = set(options(role)), set(defaults(role))
    assert defined - documented == set(), f"{role.name}: defaults without argument spec"
    undocumented_required = {n for n in documented - defined if not options(role)[n].get("required")}
    assert undocumented_required == set(), f"{role.name}: specs without default (and not required)"


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.name)
def test_spec_defaults_equal_role_defaults(role):
    role_defaults = defaults(role)
    for name, option in options(role).items():
        if name in role_defaults:
            assert "default" in option, f"{role.name}: {name} has no default in the argument specs"
            assert option["default"] == role_defaults[name], (
                f"{role.name}: {name} defaults to {role_defaults[name]!r} in defaults/main.yml "
                f"but to {option['default']!r} in meta/argument_specs.yml")
            assert type(option["default"]) is type(role_defaults[name]), f"{role.name}: {name} type differs"


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.name)
def test_every_option_is_typed_and_described(role):
    for name, option in walk(options(role)):
        assert option.get("type") in TYPES, f"{role.name}: {name} has no valid type"
        assert option.get("description"), f"{role.name}: {name} has no description"
        if option["type"] == "list":
            assert option.get("elements"), f"{role.name}: list {name} does not say its elements"
        if "choices" in option and "default" in option:
            assert option["default"] in option["choices"], f"{role.name}: default of {name} not in its choices"


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.name)
def test_variables_carry_the_role_prefix(role):
    for name in options(role):
        assert name.startswith(f"{role.name}_"), f"{role.name}: {name} lacks the prefix {role.name}_"


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.name)
def test_secrets_are_no_log(role):
    for name, option in walk(options(role)):
        if any(word in name for word in ("token", "password", "secret")):
            assert option.get("no_log") is True, f"{role.name}: {name} looks secret but is not no_log"


def known_variables_as_the_role_computes_them() -> list[str]:
    """Render roles/k3s/vars/main.yml's _k3s_known_variables with what tasks/validate.yml's find returns."""
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar, trust_as_template

    expression = load(REPO / "roles" / "k3s" / "vars" / "main.yml")["_k3s_known_variables"]
    found = {"files": [{"path": str(p)} for p in (REPO / "roles").glob("*/meta/argument_specs.yml")]}
    templar = Templar(loader=DataLoader(), variables={"_k3s_role_specs": found})
    return templar.template(trust_as_template(expression))


def test_validation_knows_every_role_variable():
    """The typo check knows exactly the options of all roles, new roles included."""
    everything = sorted({name for role in ROLES for name in options(role)})
    assert known_variables_as_the_role_computes_them() == everything


def test_the_find_of_validate_reaches_every_argument_spec():
    """tasks/validate.yml finds argument_specs.yml at most 3 levels below roles/ (roles/<r>/meta/...)."""
    tasks = load(REPO / "roles" / "k3s" / "tasks" / "validate.yml")
    find = next(t["ansible.builtin.find"] for t in tasks if "ansible.builtin.find" in t)
    assert find["patterns"] == "argument_specs.yml" and find["recurse"] is True
    for spec in (REPO / "roles").glob("**/argument_specs.yml"):
        assert len(spec.relative_to(REPO / "roles").parts) <= find["depth"], spec


def test_example_inventory_sets_only_variables_the_roles_read():
    """The example is what users copy; a misspelled variable there would be copied into fleets."""
    known = {name for role in ROLES for name in options(role)}
    files = sorted((REPO / "inventories" / "example").rglob("*.yml"))
    assert files
    for path in files:
        data = load(path) or {}
        found = set()

        def collect(node: Any) -> None:
            if isinstance(node, dict):
                for key, value in node.items():
                    if isinstance(key, str) and key.startswith("k3s_"):
                        found.add(key)
                    collect(value)

        # group_vars files are variables at the top; hosts.yml nests them under hosts and groups.
        collect(data)
        assert found <= known, f"{path.relative_to(REPO)}: unknown variables {sorted(found - known)}"
