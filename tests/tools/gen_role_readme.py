"""Write the variable table of each role's README.md from its meta/argument_specs.yml.

The table sits between two marker lines in roles/<role>/README.md; everything else in the README is
written by hand. The argument specs are the single source of truth for names, types, defaults and
descriptions (Ansible validates against them), so the README never lists a variable the role does not
take, or an old default.

    python tests/tools/gen_role_readme.py           rewrite the tables
    python tests/tools/gen_role_readme.py --check   exit 1 and name the READMEs that are out of date
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any, Iterator, Mapping

import yaml

REPO = Path(__file__).resolve().parents[2]
ROLES = REPO / "roles"
BEGIN = "<!-- BEGIN GENERATED: argument specs (tests/tools/gen_role_readme.py) -->"
END = "<!-- END GENERATED: argument specs -->"

# Ansible documentation markup -> Markdown. Code-like markup becomes inline code; the collection's own
# plugins and options are named plainly, without their cross-reference syntax.
_MARKUP = re.compile(r"\b(RV|[CVOMPIBLU])\(([^()]*)\)")


def markup_to_markdown(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        kind, body = match.group(1), match.group(2)
        if kind == "I":
            return f"*{body}*"
        if kind == "B":
            return f"**{body}**"
        if kind == "U":
            return body
        if kind == "L":
            label, _comma, url = body.partition(",")
            return f"[{label.strip()}]({url.strip()})"
        if kind in ("O", "RV", "V"):
            body = body.split("=", 1)[0] if kind == "O" else body
        if kind in ("M", "P"):
            body = body.split("#", 1)[0]
        return f"`{body}`"

    return _MARKUP.sub(replace, text)


def _paragraphs(description: Any) -> list[str]:
    if description is None:
        return []
    items = description if isinstance(description, list) else [description]
    return [" ".join(str(item).split()) for item in items]


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _default(option: Mapping[str, Any]) -> str:
    if "default" not in option:
        return "*required*" if option.get("required") else ""
    value = option["default"]
    shown = value if isinstance(value, str) and value else json.dumps(value)
    return f"`{shown}`"


def _rows(options: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
    for name, option in options.items():
        option = option or {}
        kind = option.get("type", "str")
        if kind == "list" and option.get("elements"):
            kind = f"list of {option['elements']}"
        text = " ".join(markup_to_markdown(p) for p in _paragraphs(option.get("description")))
        if option.get("choices"):
            choices = ", ".join(f"`{json.dumps(c) if not isinstance(c, str) else c}`" for c in option["choices"])
            text += f" Choices: {choices}."
        if option.get("no_log"):
            text += " Secret: never shown in output."
        yield f"| `{prefix}{name}` | {kind} | {_cell(_default(option))} | {_cell(text.strip())} |"
        if option.get("options"):
            yield from _rows(option["options"], f"{prefix}{name}.")


def render_table(spec_file: Path) -> str:
    specs = (yaml.safe_load(spec_file.read_text()) or {}).get("argument_specs") or {}
    blocks = []
    for entry_point, spec in specs.items():
        heading = "Variables" if entry_point == "main" else f"Variables of `tasks_from: {entry_point}`"
        lines = [f"### {heading}", ""]
        if spec.get("short_description"):
            lines += [markup_to_markdown(spec["short_description"]) + ".", ""]
        lines += ["| Variable | Type | Default | Description |", "| --- | --- | --- | --- |"]
        lines += list(_rows(spec.get("options") or {}))
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def updated_readme(readme: str, table: str) -> str:
    """The README with the generated block replaced (or appended when the markers are missing)."""
    block = f"{BEGIN}\n{table}\n{END}"
    if BEGIN in readme and END in readme:
        head, rest = readme.split(BEGIN, 1)
        _old, tail = rest.split(END, 1)
        return f"{head}{block}{tail}"
    return readme.rstrip("\n") + ("\n\n" if readme.strip() else "") + block + "\n"


def role_readmes() -> Iterator[tuple[Path, str]]:
    """(README path, wanted content) for every role with argument specs."""
    for spec_file in sorted(ROLES.glob("*/meta/argument_specs.yml")):
        readme = spec_file.parents[1] / "README.md"
        current = readme.read_text() if readme.exists() else f"# {spec_file.parents[1].name}\n"
        yield readme, updated_readme(current, render_table(spec_file))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--check", action="store_true", help="only report READMEs that are out of date")
    args = parser.parse_args(argv)
    stale = []
    for readme, wanted in role_readmes():
        current = readme.read_text() if readme.exists() else ""
        if current == wanted:
            continue
        stale.append(readme.relative_to(REPO))
        if not args.check:
            readme.write_text(wanted)
    verb = "out of date" if args.check else "rewritten"
    for path in stale:
        print(f"{path}: {verb}")
    if args.check and stale:
        print("Run: python tests/tools/gen_role_readme.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
