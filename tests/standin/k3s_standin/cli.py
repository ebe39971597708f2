"""The ``k3s`` multicall entry point: argv[0] dispatch, the urfave/cli app, help, version, usage errors.

Real K3s runs as two processes: the outer ``/usr/local/bin/k3s`` parses the raw command line (no config
file values) and execs the bundled inner binary, which expands config.yaml and parses again
(config_file_rules.md §2). The stand-in keeps both passes in one process, so that errors surface in the
same order: a bad command-line flag is reported before anything the config file would add.

Output channels follow urfave/cli v2: help and ``Incorrect Usage`` on stdout, the fatal ``Error: ...``
logrus line on stderr, exit 1; an unknown command prints ``No help topic for '<x>'`` on stderr, exit 3.
"""
from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Mapping, NoReturn, TextIO

from . import buildinfo, configfile, log, paths
from .flags import (COMMAND_USAGE, CommandSpec, FlagSpec, Flags, UsageError, canonical_command, command_spec,
                    commands, parse)

EXTERNAL_TOOLS = ("kubectl", "crictl", "ctr")
HELP_WORDS = ("help", "h")
HELP_COMMAND_USAGE = "Shows a list of commands or help for one command"
GLOBAL_KUBECONFIG = "/etc/rancher/k3s/k3s.yaml"
UNSUPPORTED = ("secrets-encrypt", "certificate", "completion")

# Replaced by tests; os.execve never returns.
execve: Callable[[str, list[str], Mapping[str, str]], Any] = os.execve


def load_module(name: str) -> ModuleType:
    """The module behind a subcommand, imported only when that command runs."""
    return importlib.import_module(f"{__package__}.{name}")


class HelpExit(Exception):
    """urfave's ``cli.Exit(msg, code)`` from the help machinery."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


# --------------------------------------------------------------------------------------------------------
# help text (urfave/cli v2 templates; flag usage strings are not in the reference, only the category tag)


def _tabwriter(lines: list[str]) -> str:
    """Go text/tabwriter(minwidth 1, padding 2): align the first cell of consecutive tabbed lines."""
    out: list[str] = []
    block: list[str] = []

    def flush() -> None:
        if block:
            width = max(len(line.split("\t", 1)[0]) for line in block) + 2
            for line in block:
                cell, rest = line.split("\t", 1)
                out.append(cell.ljust(width) + rest if rest else cell)
            block.clear()

    for line in lines:
        if "\t" in line:
            block.append(line)
        else:
            flush()
            out.append(line)
    flush()
    return "\n".join(out)


def _default_text(spec: FlagSpec) -> str:
    if spec.name in ("help", "version"):
        return ""  # urfave's built-in flags hide their default
    kind = spec.type
    value = spec.initial()
    if kind == "bool":
        return "true" if value else "false"
    if kind == "string":
        return f'"{value}"' if value else ""
    if kind == "stringSlice":
        return ""
    return str(value)


def flag_line(spec: FlagSpec) -> str:
    """urfave stringifyFlag: ``--name value, -n value<TAB>usage (default: x) [$ENV]``."""
    placeholder = "" if spec.type == "bool" else " value"
    names = ", ".join(("-" if len(n) == 1 else "--") + n + placeholder for n in spec.names)
    if spec.type == "stringSlice":
        names = f"{names} [ {names} ]"
    default = _default_text(spec)
    usage = f"{spec.usage} (default: {default})" if default else spec.usage
    env = f" [${spec.env}]" if spec.env else ""
    return f"   {names}\t{usage.strip()}{env}"


def _command_names(spec: CommandSpec) -> str:
    return ", ".join((spec.name, *spec.aliases))


def _command_lines(names_and_usage: list[tuple[str, str]]) -> list[str]:
    return [f"   {names}\t{usage}" for names, usage in names_and_usage]


def app_help(program: str) -> str:
    info = buildinfo.get()
    root = command_spec("")
    listed = [(name, COMMAND_USAGE[name]) for name in root.subcommands]
    lines = [
        "NAME:", f"   {program} - {root.usage}", "",
        "USAGE:", f"   {program} [global options] command [command options] [arguments...]", "",
        "VERSION:", f"   {info.version} ({info.git_commit})", "",
        "COMMANDS:", *_command_lines([*listed, ("help, h", HELP_COMMAND_USAGE)]), "",
        "GLOBAL OPTIONS:", *[flag_line(f) for f in root.visible_flags()],
    ]
    return _tabwriter(lines) + "\n"


def command_help(program: str, path: str) -> str:
    spec = command_spec(path)
    full = f"{program} {spec.path}"
    lines = ["NAME:", f"   {full} - {spec.usage}", "", "USAGE:"]
    if spec.subcommands:
        lines.append(f"   {full} command [command options] [arguments...]")
        subs = [command_spec(f"{spec.path} {sub}") for sub in spec.subcommands]
        listed = [(_command_names(s), s.usage) for s in subs]
        lines += ["", "COMMANDS:", *_command_lines([*listed, ("help, h", HELP_COMMAND_USAGE)])]
    elif spec.usage_text:
        lines.append("   " + spec.usage_text.format(app=program))
    else:
        lines.append(f"   {full} [command options] [arguments...]")
    lines += ["", "OPTIONS:", *[flag_line(f) for f in spec.visible_flags()]]
    return _tabwriter(lines) + "\n"


# --------------------------------------------------------------------------------------------------------
# the app


class App:
    def __init__(self, args: list[str], env: Mapping[str, str], out: TextIO | None = None,
                 err: TextIO | None = None) -> None:
        self.args = args
        self.env = env
        self.program = os.path.basename(args[0]) or "k3s"
        self._out = out
        self._err = err

    @property
    def out(self) -> TextIO:
        return self._out or sys.stdout

    @property
    def err(self) -> TextIO:
        return self._err or sys.stderr

    def write(self, text: str) -> None:
        self.out.write(text)
        self.out.flush()

    # -- entry ---------------------------------------------------------------------------------------------

    def run(self) -> int:
        configfile.outer_check(self.args, self.env)
        if self.program in EXTERNAL_TOOLS:
            return self.external(self.program, self.args[1:], via_k3s=False)
        try:
            return self.run_app(self.args, inner=False)
        except HelpExit as exc:
            self.err.write(f"{exc}\n")
            self.err.flush()
            return exc.code

    def run_app(self, args: list[str], inner: bool) -> int:
        """One pass of the urfave app over ``args`` (argv[0] included)."""
        root = self.parse_or_fail("", args[1:])
        log.set_debug(bool(root.get("debug")))
        if root.get("help"):
            return self.show_help_topic(root.args)
        if root.get("version"):
            self.write(buildinfo.get().version_output(self.program))
            return 0
        if not root.args:
            self.write(app_help(self.program))
            return 0
        name, rest = root.args[0], root.args[1:]
        if name in HELP_WORDS:
            return self.show_help_topic(rest)
        if name in ("server", "agent"):
            return self.daemon(name, rest, root, inner)
        if name == "etcd-snapshot":
            return self.etcd_snapshot(rest, root, inner)
        if name == "token":
            return self.token(rest)
        if name in EXTERNAL_TOOLS:
            return self.external(name, rest, via_k3s=True)
        if name == "check-config":
            return int(load_module("check_config").run(rest))
        if name in UNSUPPORTED:
            log.fatal(f"Error: {self.program} {name} is not supported by the K3s stand-in")
        # The reference says nothing about unknown commands: this is urfave/cli v2's root help action
        # (ShowCommandHelp -> cli.Exit("No help topic for ...", 3), printed on stderr by HandleExitCoder).
        raise HelpExit(f"No help topic for '{name}'", 3)

    # -- parsing and errors --------------------------------------------------------------------------------

    def parse_or_fail(self, command: str, argv: list[str]) -> Flags:
        try:
            return parse(command, argv, self.env)
        except UsageError as exc:
            self.usage_error(command, exc.message)

    def usage_error(self, command: str, message: str) -> NoReturn:
        text = app_help(self.program) if not command else command_help(self.program, command)
        self.write(f"Incorrect Usage: {message}\n\n{text}")
        log.fatal(f"Error: {message}")

    def show_help_topic(self, topic: list[str]) -> int:
        """``k3s help [cmd]`` / ``k3s --help [cmd]``: help of the named command or of the app."""
        if not topic:
            self.write(app_help(self.program))
            return 0
        path = canonical_command(topic[0])
        if path not in commands() or not path:
            if topic[0] in COMMAND_USAGE:  # listed but not modelled: a one-line help
                self.write(f"NAME:\n   {self.program} {topic[0]} - {COMMAND_USAGE[topic[0]]}\n")
                return 0
            raise HelpExit(f"No help topic for '{topic[0]}'", 3)
        self.write(command_help(self.program, path))
        return 0

    def expanded(self) -> list[str]:
        """The inner binary's argv: config file values inserted (fatal on a broken file)."""
        try:
            return configfile.expand_argv(self.args, self.env)
        except configfile.ConfigError as exc:
            log.fatal(str(exc))

    # -- commands ------------------------------------------------------------------------------------------

    def daemon(self, name: str, rest: list[str], root: Flags, inner: bool) -> int:
        parsed = self.parse_or_fail(name, rest)
        if parsed.get("help"):
            self.write(command_help(self.program, name))
            return 0
        if not inner:
            return self.run_app(self.expanded(), inner=True)
        parsed.parent = root
        log.set_debug(bool(parsed.get("debug") or root.get("debug")))
        return int(load_module(name).run(parsed, argv=parsed.argv))

    def etcd_snapshot(self, rest: list[str], root: Flags, inner: bool) -> int:
        parsed = self.parse_or_fail("etcd-snapshot", rest)
        if parsed.get("help"):
            self.write(command_help(self.program, "etcd-snapshot"))
            return 0
        sub = "save"  # the parent command's own action
        if parsed.args:
            word = parsed.args[0]
            if word in HELP_WORDS:
                return self.subcommand_help("etcd-snapshot", parsed.args[1:])
            path = canonical_command(f"etcd-snapshot {word}")
            if path in commands():
                # Flags given before the subcommand word are parsed (and can fail) but the
                # subcommand builds its own flag set, so only what follows the word counts.
                parsed = self.parse_or_fail(path, parsed.args[1:])
                if parsed.get("help"):
                    self.write(command_help(self.program, path))
                    return 0
                sub = path.split(" ", 1)[1]
        if not inner:
            return self.run_app(self.expanded(), inner=True)
        parsed.parent = root
        log.set_debug(bool(parsed.get("debug") or root.get("debug")))
        return int(load_module("etcd_snapshot").run(parsed, sub, list(parsed.args)))

    def subcommand_help(self, parent: str, topic: list[str]) -> int:
        if not topic:
            self.write(command_help(self.program, parent))
            return 0
        path = canonical_command(f"{parent} {topic[0]}")
        if path not in commands():
            raise HelpExit(f"No help topic for '{topic[0]}'", 3)
        self.write(command_help(self.program, path))
        return 0

    def token(self, rest: list[str]) -> int:
        """``k3s token <sub>``: flags are checked here (as the outer binary does); config is not applied."""
        parsed = self.parse_or_fail("token", rest)
        if parsed.get("help") or not parsed.args:
            self.write(command_help(self.program, "token"))
            return 0
        word = parsed.args[0]
        if word in HELP_WORDS:
            return self.subcommand_help("token", parsed.args[1:])
        path = f"token {word}"
        if path not in commands():
            raise HelpExit(f"No help topic for '{word}'", 3)
        sub = self.parse_or_fail(path, parsed.args[1:])
        if sub.get("help"):
            self.write(command_help(self.program, path))
            return 0
        return int(load_module("token_cmd").run([word, *parsed.args[1:]], env=dict(self.env)))

    def external(self, tool: str, args: list[str], via_k3s: bool) -> int:
        if tool == "kubectl":
            return self.kubectl(args, via_k3s)
        self.err.write(f"{tool}: not available in the K3s stand-in (it runs no container runtime)\n")
        self.err.flush()
        return 1

    def kubectl(self, args: list[str], via_k3s: bool) -> int:
        payload = self.env.get("K3S_STANDIN_PAYLOAD", "")
        binary = Path(payload) / "bin" / "kubectl" if payload else None
        if binary is None or not os.access(binary, os.X_OK):
            message = 'exec: "kubectl": executable file not found in $PATH'
            log.fatal(f"Error: {message}" if via_k3s else message)
        env = dict(self.env)
        kubeconfig = kubeconfig_for(args, env)
        if kubeconfig:
            env["KUBECONFIG"] = kubeconfig
        self.out.flush()
        self.err.flush()
        execve(str(binary), ["kubectl", *args], env)
        return 0  # only reached when tests replace execve


def kubeconfig_for(args: list[str], env: Mapping[str, str]) -> str:
    """What ``k3s kubectl`` puts into KUBECONFIG: "" to leave it alone.

    Only when neither KUBECONFIG nor ``--kubeconfig`` is given: the global /etc/rancher/k3s/k3s.yaml if it
    exists, else ~/.kube/k3s.yaml if that exists. An unreadable file is still used (kubectl then reports
    the permission error) after a warning.
    """
    if env.get("KUBECONFIG"):
        return ""
    for i, arg in enumerate(args):
        if arg.startswith("--kubeconfig=") or (arg.startswith("--kubeconfig") and i + 1 < len(args)):
            return ""
    candidates = [(GLOBAL_KUBECONFIG, paths.host(GLOBAL_KUBECONFIG))]
    home = env.get("HOME")
    if home:
        home_config = os.path.join(home, ".kube", "k3s.yaml")
        candidates.append((home_config, Path(home_config)))
    for shown, real in candidates:
        if real.exists():
            if not os.access(real, os.R_OK):
                log.warn(f"Unable to read {shown}, please start server with --write-kubeconfig-mode or "
                         "--write-kubeconfig-group to modify kube config permissions")
            return str(real)
    return ""


def main(argv: list[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    """Process entry: argv without argv[0]; argv[0] comes from K3S_STANDIN_ARGV0 (set by the wrapper)."""
    environ = dict(os.environ) if env is None else dict(env)
    argv0 = environ.get("K3S_STANDIN_ARGV0") or sys.argv[0]
    if not argv0 or os.path.basename(argv0) in ("__main__.py", "-m", "-c"):
        argv0 = "k3s"  # run as "python3 -m k3s_standin" without the release wrapper
    args = [argv0, *(sys.argv[1:] if argv is None else argv)]
    try:
        return App(args, environ).run()
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
