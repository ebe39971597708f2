"""Fidelity of the stand-in's command line (k3s_standin.cli, log, buildinfo, check_config).

End-to-end cases run ``python3 -m k3s_standin`` in a subprocess with K3S_STANDIN_ROOT pointing at a
temporary host root; dispatch cases run ``cli.main`` in-process with the subcommand modules replaced.
References: /work/shared/reference/k3s/config_file_rules.md, release_artifacts.md, k3s_flags.json.
"""
from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import os
import re
import stat
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from k3s_standin import buildinfo, check_config, cli, log

STANDIN = Path(__file__).resolve().parents[1] / "standin"
FATAL = re.compile(r'^time="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ" level=fatal msg=(.*)$')
WARNING = re.compile(r'^time="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ" level=warning msg=(.*)$')


def k3s(root: Path, *args: str, argv0: str | None = None, env: dict[str, str] | None = None,
        ) -> subprocess.CompletedProcess[str]:
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(root / "root"),
        "PYTHONPATH": str(STANDIN),
        "K3S_STANDIN_ROOT": str(root),
        "LC_ALL": "C.UTF-8",
    }
    if argv0:
        environment["K3S_STANDIN_ARGV0"] = argv0
    environment.update(env or {})
    return subprocess.run([sys.executable, "-m", "k3s_standin", *args], env=environment, capture_output=True,
                          text=True, timeout=60, check=False)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def config(root: Path, text: str) -> Path:
    return write(root / "etc/rancher/k3s/config.yaml", text)


def fatal_message(stderr: str) -> str:
    lines = stderr.splitlines()
    assert lines, "no stderr output"
    match = FATAL.match(lines[-1])
    assert match, lines[-1]
    return match.group(1)


def assert_usage_error(result: subprocess.CompletedProcess[str], message: str, help_name: str) -> None:
    """config_file_rules.md §5/§8: stdout `Incorrect Usage: <msg>` + blank line + help; stderr fatal; exit 1."""
    assert result.returncode == 1
    assert result.stdout.startswith(f"Incorrect Usage: {message}\n\nNAME:\n   {help_name} - ")
    assert fatal_message(result.stderr) == json.dumps(f"Error: {message}")


# --- release_artifacts.md §2: version ------------------------------------------------------------------------


def test_version_output(tmp_path: Path) -> None:
    """release_artifacts.md §2: `k3s --version` prints two lines and exits 0."""
    info = buildinfo.get()
    result = k3s(tmp_path, "--version")
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout == f"k3s version {info.version} ({info.git_commit})\ngo version {info.go_version}\n"
    assert re.fullmatch(r"k3s version v\d+\.\d+\.\d+\+k3s\d+ \([0-9a-f]{8}\)\ngo version go[\d.]+\n", result.stdout)


def test_version_short_flag_and_program_name(tmp_path: Path) -> None:
    """release_artifacts.md §2: `-v` too; line 1 starts with the argv0 basename."""
    result = k3s(tmp_path, "-v", argv0="/usr/local/bin/k3s")
    assert result.returncode == 0 and result.stdout.startswith("k3s version v1.34.3+k3s1 (")
    assert k3s(tmp_path, "--version", argv0="/opt/bin/k3s-arm64").stdout.startswith("k3s-arm64 version ")


def test_dash_v_under_a_subcommand_is_verbosity(tmp_path: Path) -> None:
    """release_artifacts.md §2: `k3s server -v` is NOT version: under subcommands -v is the log level int."""
    assert_usage_error(k3s(tmp_path, "server", "-v"), "flag needs an argument: -v", "k3s server")
    assert_usage_error(k3s(tmp_path, "agent", "--version"), "flag provided but not defined: -version", "k3s agent")


# --- usage errors ---------------------------------------------------------------------------------------------


def test_unknown_flag_usage_error_layout(tmp_path: Path) -> None:
    """cli_parsing_summary.unknown_flag: Incorrect Usage + blank line + command help (stdout), fatal (stderr)."""
    result = k3s(tmp_path, "server", "--no-such-flag")
    assert_usage_error(result, "flag provided but not defined: -no-such-flag", "k3s server")
    assert "\nUSAGE:\n   k3s server [OPTIONS]\n\nOPTIONS:\n" in result.stdout
    assert re.search(r"^   --cluster-init +\(cluster\)", result.stdout, re.M)
    assert re.search(r"^   --token value, -t value +\(cluster\) \[\$K3S_TOKEN\]$", result.stdout, re.M)
    assert "--disable-agent" not in result.stdout  # hidden flags are not listed
    assert result.stdout.rstrip().endswith("--help, -h" + result.stdout.rstrip().split("--help, -h")[-1])
    assert len(result.stderr.splitlines()) == 1


def test_bad_values_end_to_end(tmp_path: Path) -> None:
    """§7/§8: value errors go through the same usage-error path (exit 1)."""
    assert_usage_error(k3s(tmp_path, "server", "--cluster-init=yes"),
                       'invalid boolean value "yes" for -cluster-init: parse error', "k3s server")
    assert_usage_error(k3s(tmp_path, "server", "--https-listen-port=abc"),
                       'invalid value "abc" for flag -https-listen-port: parse error', "k3s server")
    assert_usage_error(k3s(tmp_path, "server", "---token=x"), "bad flag syntax: ---token=x", "k3s server")
    assert_usage_error(k3s(tmp_path, "etcd-snapshot", "save", "--etcd-s3-timeout=300"),
                       'invalid value "300" for flag -etcd-s3-timeout: parse error', "k3s etcd-snapshot save")


def test_bad_bool_env_end_to_end(tmp_path: Path) -> None:
    """§7: bad bool env value -> `Incorrect Usage: could not parse ...`, fatal, exit 1."""
    message = ('could not parse "yes" as bool value from environment variable "K3S_CLUSTER_INIT" for flag '
               'cluster-init: strconv.ParseBool: parsing "yes": invalid syntax')
    assert_usage_error(k3s(tmp_path, "server", env={"K3S_CLUSTER_INIT": "yes"}), message, "k3s server")


def test_root_usage_error_shows_app_help(tmp_path: Path) -> None:
    """cli_parsing_summary.unknown_flag at the root: the app help follows `Incorrect Usage`."""
    result = k3s(tmp_path, "--no-such-flag", "server")
    assert result.returncode == 1
    assert result.stdout.startswith("Incorrect Usage: flag provided but not defined: -no-such-flag\n\nNAME:\n"
                                    "   k3s - Kubernetes, but small and simple\n")
    assert "\nCOMMANDS:\n" in result.stdout and "\nGLOBAL OPTIONS:\n" in result.stdout


def test_unknown_command_is_no_help_topic(tmp_path: Path) -> None:
    """urfave/cli v2 (not in the reference): unknown command -> stderr `No help topic for '<x>'`, exit 3."""
    result = k3s(tmp_path, "bogus", "--flag")
    assert (result.returncode, result.stdout, result.stderr) == (3, "", "No help topic for 'bogus'\n")


def test_help_output(tmp_path: Path) -> None:
    """urfave/cli v2 help: `k3s` alone and `k3s help <cmd>`/`--help` print help on stdout, exit 0."""
    app = k3s(tmp_path)
    assert app.returncode == 0 and app.stdout.startswith("NAME:\n   k3s - Kubernetes, but small and simple\n")
    assert re.search(r"^   etcd-snapshot +Manage etcd snapshots$", app.stdout, re.M)
    for args in (("help", "agent"), ("agent", "--help"), ("--help", "agent"), ("agent", "-h")):
        result = k3s(tmp_path, *args)
        assert result.returncode == 0 and result.stdout.startswith("NAME:\n   k3s agent - Run node agent\n"), args
        assert "--cluster-init" not in result.stdout
    snapshot = k3s(tmp_path, "etcd-snapshot", "--help").stdout
    assert re.search(r"^   ls, list, l +List snapshots$", snapshot, re.M)


# --- config file at the CLI level ------------------------------------------------------------------------------


def test_agent_with_server_only_config_key_is_fatal(tmp_path: Path) -> None:
    """§5: agent does no filtering; `cluster-init: true` -> flag provided but not defined + agent help."""
    config(tmp_path, "token: abc\ncluster-init: true\n")
    assert_usage_error(k3s(tmp_path, "agent", "--server", "https://10.0.0.1:6443"),
                       "flag provided but not defined: -cluster-init", "k3s agent")


def test_agent_write_kubeconfig_mode_key_is_fatal(tmp_path: Path) -> None:
    """§5: `write-kubeconfig-mode` in config.yaml is fatal on an agent."""
    config(tmp_path, "write-kubeconfig-mode: 0644\n")
    assert_usage_error(k3s(tmp_path, "agent"), "flag provided but not defined: -write-kubeconfig-mode", "k3s agent")


def test_alias_in_config_and_long_name_on_cli(tmp_path: Path) -> None:
    """§6: config `token: x` plus CLI `-t y` -> `Cannot use two forms of the same flag: t token`."""
    config(tmp_path, "token: x\n")
    assert_usage_error(k3s(tmp_path, "server", "-t", "y"), "Cannot use two forms of the same flag: t token",
                       "k3s server")
    config(tmp_path, "t: x\n")
    assert_usage_error(k3s(tmp_path, "agent", "--token", "y"), "Cannot use two forms of the same flag: t token",
                       "k3s agent")


def test_command_line_errors_come_before_config_errors(tmp_path: Path) -> None:
    """§2: the outer binary parses the raw CLI first, so a bad CLI flag is reported before config keys."""
    config(tmp_path, "cluster-init: true\n")
    assert_usage_error(k3s(tmp_path, "agent", "--bogus"), "flag provided but not defined: -bogus", "k3s agent")


def test_broken_yaml_fails_before_anything_else(tmp_path: Path) -> None:
    """§1: a YAML syntax error is fatal (raw yaml.v2 text, exit 1) for every command..."""
    config(tmp_path, "token: abc\n  node-name: x\n")
    for args in (("server",), ("token", "list"), ("check-config",), ("bogus",)):
        result = k3s(tmp_path, *args)
        assert result.returncode == 1 and result.stdout == "", args
        assert fatal_message(result.stderr) == '"yaml: line 2: mapping values are not allowed in this context"'


def test_broken_yaml_does_not_stop_help_or_version(tmp_path: Path) -> None:
    """§1: ...except when --help/-h/--version/-v appear in argv (the config is not read)."""
    config(tmp_path, "a: b: c\n")
    assert k3s(tmp_path, "--version").returncode == 0
    assert k3s(tmp_path, "server", "--help").stdout.startswith("NAME:\n   k3s server - ")
    assert k3s(tmp_path, "-h").returncode == 0


def test_broken_yaml_is_only_a_warning_for_kubectl(tmp_path: Path) -> None:
    """§1: for kubectl the config read error is only a warning (here kubectl itself is then missing)."""
    config(tmp_path, "a: b: c\n")
    result = k3s(tmp_path, "kubectl", "get", "nodes")
    lines = result.stderr.splitlines()
    warning = WARNING.match(lines[0])
    assert warning and warning.group(1) == '"yaml: mapping values are not allowed in this context"'
    assert fatal_message(result.stderr) == json.dumps('Error: exec: "kubectl": executable file not found in $PATH')
    assert result.returncode == 1


# --- dispatch (in-process) -------------------------------------------------------------------------------------


class Recorder:
    """Stands in for server/agent/etcd_snapshot/token_cmd and records what cli passes them."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def load(self, name: str) -> types.SimpleNamespace:
        calls = self.calls

        if name in ("server", "agent"):
            def run(flags: Any, stop: Any = None, argv: list[str] | None = None) -> int:
                calls.append((name, (flags,), {"argv": argv}))
                return 0
        elif name == "token_cmd":
            def run(argv: list[str], env: dict[str, str] | None = None) -> int:  # type: ignore[misc]
                calls.append((name, (argv,), {"env": env}))
                return 0
        else:
            def run(*args: Any, **kwargs: Any) -> int:  # type: ignore[misc]
                calls.append((name, args, kwargs))
                return 0
        return types.SimpleNamespace(run=run)


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Recorder:
    monkeypatch.setenv("K3S_STANDIN_ROOT", str(tmp_path))
    rec = Recorder()
    monkeypatch.setattr(cli, "load_module", rec.load)
    return rec


def test_config_values_reach_the_server(recorder: Recorder, tmp_path: Path) -> None:
    """§3/§6: config args come first (slices merge config-first), beat env vars, and 0644 arrives as 420."""
    config(tmp_path, "node-label: [a=1, b=2]\nwrite-kubeconfig-mode: 0644\ntoken: from-config\n")
    code = cli.main(["server", "--node-label", "c=3"], {"K3S_TOKEN": "from-env", "K3S_NODE_NAME": "env-node"})
    assert code == 0
    name, (flags,), kwargs = recorder.calls[0]
    assert name == "server"
    assert flags.get("node-label") == ["a=1", "b=2", "c=3"]
    assert flags.get("write-kubeconfig-mode") == "420"
    assert flags.get("token") == "from-config"
    assert flags.get("node-name") == "env-node"
    assert kwargs["argv"] == ["--node-label=a=1", "--node-label=b=2", "--write-kubeconfig-mode=420",
                              "--token=from-config", "--node-label", "c=3"]


def test_command_line_beats_config(recorder: Recorder, tmp_path: Path) -> None:
    """§6: command-line flags come after the inserted config args; for scalars the last occurrence wins."""
    config(tmp_path, "token: from-config\ncluster-init: true\n")
    assert cli.main(["server", "--token=from-cli", "--cluster-init=false"], {}) == 0
    flags = recorder.calls[0][1][0]
    assert flags.get("token") == "from-cli" and flags.get("cluster-init") is False


def test_unknown_server_key_warns_and_continues(recorder: Recorder, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """§5: `k3s server` drops an unknown key with a warning and starts."""
    config(tmp_path, "no-such-key: 1\ntoken: abc\n")
    assert cli.main(["server"], {}) == 0
    assert recorder.calls[0][1][0].get("token") == "abc"
    assert 'level=warning msg="Unknown flag --no-such-key found in config.yaml, skipping\\n"' in capsys.readouterr().err


def test_bool_with_space_value_starts_anyway(recorder: Recorder) -> None:
    """§7: `--cluster-init false --bogus` starts: true, and everything after `false` is ignored."""
    assert cli.main(["server", "--cluster-init", "false", "--bogus", "--token=x"], {}) == 0
    flags = recorder.calls[0][1][0]
    assert flags.get("cluster-init") is True and flags.get("token") == ""
    assert flags.args == ["false", "--bogus", "--token=x"]


def test_global_flags_are_available_to_the_command(recorder: Recorder) -> None:
    """§5 note: `k3s --debug server` works (global flags before the subcommand)."""
    assert cli.main(["--debug", "agent", "-s", "https://10.0.0.1:6443"], {}) == 0
    flags = recorder.calls[0][1][0]
    assert flags.parent.get("debug") is True and flags.get("server") == "https://10.0.0.1:6443"


@pytest.mark.parametrize("argv,sub,extra", [
    (["etcd-snapshot", "save", "--name", "nightly"], "save", {"name": "nightly"}),
    (["etcd-snapshot", "--name", "x"], "save", {"name": "x"}),
    (["etcd-snapshot", "ls", "-o", "json"], "ls", {"output": "json"}),
    (["etcd-snapshot", "list"], "ls", {"output": ""}),
    (["etcd-snapshot", "delete", "snap-1", "snap-2"], "delete", {}),
])
def test_etcd_snapshot_dispatch(recorder: Recorder, argv: list[str], sub: str, extra: dict[str, str]) -> None:
    """k3s_flags.json etcd-snapshot_subcommands: save/ls(list,l)/delete/prune, parent acts as save."""
    assert cli.main(argv, {}) == 0
    name, (flags, subcommand, positional), _ = recorder.calls[0]
    assert (name, subcommand) == ("etcd_snapshot", sub)
    for key, value in extra.items():
        assert flags.get(key) == value
    if sub == "delete":
        assert positional == ["snap-1", "snap-2"]


def test_etcd_snapshot_skips_server_config_keys(recorder: Recorder, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """§5: a server config.yaml produces warnings for token/server on etcd-snapshot, which still runs."""
    config(tmp_path, "token: abc\nserver: https://x:6443\netcd-s3-bucket: backups\n")
    assert cli.main(["etcd-snapshot", "save"], {}) == 0
    assert recorder.calls[0][1][0].get("s3-bucket") == "backups"
    err = capsys.readouterr().err
    assert 'msg="Unknown flag --token found in config.yaml, skipping\\n"' in err
    assert 'msg="Unknown flag --server found in config.yaml, skipping\\n"' in err


def test_token_gets_raw_argv_without_config(recorder: Recorder, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """§2 + k3s_flags.json token_subcommands.config_file: config.yaml is NOT applied to token subcommands."""
    config(tmp_path, "no-such-key: 1\ntoken: abc\n")
    assert cli.main(["token", "create", "--ttl", "1h", "--description", "ci"], {"X": "1"}) == 0
    name, args, kwargs = recorder.calls[0]
    assert name == "token_cmd" and args == (["create", "--ttl", "1h", "--description", "ci"],)
    assert kwargs == {"env": {"X": "1"}}
    assert capsys.readouterr().err == ""


def test_token_flag_errors_use_the_subcommand_help(recorder: Recorder, capsys: pytest.CaptureFixture[str]) -> None:
    """cli_parsing_summary.unknown_flag for `k3s token create`: usage error with that command's help."""
    assert cli.main(["token", "create", "--bogus"], {"K3S_STANDIN_ARGV0": "/usr/local/bin/k3s"}) == 1
    out, err = capsys.readouterr()
    assert out.startswith("Incorrect Usage: flag provided but not defined: -bogus\n\nNAME:\n"
                          "   k3s token create - ")
    assert fatal_message(err) == '"Error: flag provided but not defined: -bogus"'
    assert cli.main(["token", "frobnicate"], {}) == 3
    assert recorder.calls == []


def test_argv0_defaults_to_k3s_when_run_as_module(monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """release_artifacts.md §2: the program name is argv0's basename; `python -m` falls back to k3s."""
    monkeypatch.setattr(sys, "argv", ["/x/k3s_standin/__main__.py"])
    assert cli.main(["--version"], {}) == 0
    assert capsys.readouterr().out.startswith("k3s version ")


# --- kubectl / crictl / ctr ------------------------------------------------------------------------------------


@pytest.fixture
def payload(tmp_path: Path) -> Path:
    """A payload with a fake kubectl that reports what it got."""
    folder = tmp_path / "payload"
    tool = write(folder / "bin/kubectl", '#!/bin/sh\necho "argv0=$0"\necho "args=$*"\n'
                                          'echo "KUBECONFIG=${KUBECONFIG-unset}"\n')
    tool.chmod(tool.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return folder


def test_kubectl_multicall_sets_kubeconfig(tmp_path: Path, payload: Path) -> None:
    """release_artifacts.md §6: argv0 `kubectl` runs kubectl; without KUBECONFIG it uses /etc/rancher/k3s/k3s.yaml."""
    kubeconfig = write(tmp_path / "etc/rancher/k3s/k3s.yaml", "apiVersion: v1\n")
    result = k3s(tmp_path, "get", "nodes", "--help", argv0="/usr/local/bin/kubectl",
                 env={"K3S_STANDIN_PAYLOAD": str(payload)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"argv0={payload}/bin/kubectl", "args=get nodes --help",
                                          f"KUBECONFIG={kubeconfig}"]


def test_k3s_kubectl_subcommand(tmp_path: Path, payload: Path) -> None:
    """release_artifacts.md §6: `k3s kubectl ...` is the same tool; flags pass through untouched."""
    write(tmp_path / "etc/rancher/k3s/k3s.yaml", "apiVersion: v1\n")
    result = k3s(tmp_path, "kubectl", "--namespace", "kube-system", "get", "pods",
                 env={"K3S_STANDIN_PAYLOAD": str(payload)})
    assert result.stdout.splitlines()[1] == "args=--namespace kube-system get pods"


def test_kubectl_keeps_an_explicit_kubeconfig(tmp_path: Path, payload: Path) -> None:
    """release_artifacts.md §6 [docs]: the default applies only when KUBECONFIG is not set (or file missing)."""
    write(tmp_path / "etc/rancher/k3s/k3s.yaml", "apiVersion: v1\n")
    env = {"K3S_STANDIN_PAYLOAD": str(payload), "KUBECONFIG": "/mine.yaml"}
    assert k3s(tmp_path, "kubectl", "version", env=env).stdout.splitlines()[2] == "KUBECONFIG=/mine.yaml"
    (tmp_path / "etc/rancher/k3s/k3s.yaml").unlink()
    result = k3s(tmp_path, "kubectl", "version", env={"K3S_STANDIN_PAYLOAD": str(payload)})
    assert result.stdout.splitlines()[2] == "KUBECONFIG=unset"


def test_kubectl_missing_fails_like_a_missing_tool(tmp_path: Path) -> None:
    """DESIGN.md payload: without bin/kubectl (non-amd64) kubectl fails like a missing tool, exit 1."""
    result = k3s(tmp_path, "get", "nodes", argv0="kubectl")
    assert result.returncode == 1
    assert fatal_message(result.stderr) == json.dumps('exec: "kubectl": executable file not found in $PATH')


@pytest.mark.parametrize("args,argv0", [(("crictl", "ps"), None), (("ctr", "version"), None), (("ps",), "crictl")])
def test_crictl_and_ctr_are_not_available(tmp_path: Path, args: tuple[str, ...], argv0: str | None) -> None:
    """Brief: crictl/ctr (as argv0 or subcommand) print a short message and exit 1 (no container runtime)."""
    result = k3s(tmp_path, *args, argv0=argv0)
    assert result.returncode == 1 and "not available in the K3s stand-in" in result.stderr


# --- check-config -----------------------------------------------------------------------------------------------


def kernel_config(root: Path, missing: tuple[str, ...] = ()) -> None:
    names = [*check_config.GENERALLY_NECESSARY, *check_config.OPTIONAL_FEATURES]
    text = "".join(f"CONFIG_{n}=y\n" for n in names if n not in missing)
    (root / "proc").mkdir(parents=True, exist_ok=True)
    (root / "proc/config.gz").write_bytes(gzip.compress(("# generated\n" + text).encode()))


def test_check_config_passes_on_a_complete_host(tmp_path: Path) -> None:
    """Brief (check-config): reads /proc/config.gz and the cgroup controllers; `STATUS: pass`, exit 0."""
    kernel_config(tmp_path)
    write(tmp_path / "sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory pids\n")
    result = k3s(tmp_path, "check-config")
    assert result.returncode == 0, result.stdout
    assert "info: reading kernel config from /proc/config.gz ..." in result.stdout
    assert "- CONFIG_NAMESPACES: enabled\n" in result.stdout
    assert "cgroups V2 mounted, cpu|cpuset|memory controllers status: good" in result.stdout
    assert result.stdout.endswith("STATUS: pass\n")


def test_check_config_reports_what_is_missing(tmp_path: Path) -> None:
    """Brief (check-config, honest): a missing necessary option fails the check."""
    kernel_config(tmp_path, missing=("VETH",))
    write(tmp_path / "sys/fs/cgroup/cgroup.controllers", "cpu memory\n")
    result = k3s(tmp_path, "check-config")
    assert result.returncode == 1
    assert "- CONFIG_VETH: missing\n" in result.stdout
    assert "missing controllers: cpuset" in result.stdout
    assert result.stdout.endswith("STATUS: 2 (fail)\n")


def test_check_config_without_kernel_config(tmp_path: Path) -> None:
    """Brief (check-config): no kernel config -> a warning, options not checked; cgroups v1 via /proc/cgroups."""
    write(tmp_path / "proc/cgroups", "#subsys_name\thierarchy\tnum_cgroups\tenabled\n"
                                     "cpuset\t2\t1\t1\ncpu\t3\t1\t1\nmemory\t4\t1\t1\n")
    result = k3s(tmp_path, "check-config")
    assert result.returncode == 0
    assert "warning: kernel config not found" in result.stdout
    assert "cgroups V1 mounted, cpu|cpuset|memory controllers status: good" in result.stdout
    assert result.stdout.endswith("STATUS: pass\n")


def test_check_config_explicit_kernel_config_argument(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Brief (check-config): like the real script, a kernel config path may be given as the argument."""
    monkeypatch.setenv("K3S_STANDIN_ROOT", str(tmp_path))
    write(tmp_path / "sys/fs/cgroup/cgroup.controllers", "cpuset cpu memory\n")
    custom = write(tmp_path / "kernel.config", "CONFIG_NAMESPACES=m\n")
    out = io.StringIO()
    assert check_config.run([str(custom)], {}, out) == 1
    text = out.getvalue()
    assert f"info: reading kernel config from {custom} ..." in text
    assert "- CONFIG_NAMESPACES: enabled (as module)\n" in text and "- CONFIG_NET_NS: missing\n" in text


# --- log.py -----------------------------------------------------------------------------------------------------

NOON = dt.datetime(2026, 12, 3, 16, 0, 0, tzinfo=dt.timezone.utc)


def test_logrus_line_format() -> None:
    """DESIGN.md log: `time="2026-12-03T16:00:00Z" level=info msg="..."` (logrus TextFormatter)."""
    assert log.format_line("info", "Starting k3s v1.34.3+k3s1", NOON) == \
        'time="2026-12-03T16:00:00Z" level=info msg="Starting k3s v1.34.3+k3s1"'


@pytest.mark.parametrize("msg,rendered", [
    ("Starting", "msg=Starting"),
    ("a/b-c.d_e@f^g+h", "msg=a/b-c.d_e@f^g+h"),
    ('say "hi"', 'msg="say \\"hi\\""'),
    ("C:\\path", 'msg="C:\\\\path"'),
    ("skipping\n", 'msg="skipping\\n"'),
    ("tab\there", 'msg="tab\\there"'),
    ("bell\x01", 'msg="bell\\x01"'),
    ("caf\u00e9", 'msg="caf\u00e9"'),
])
def test_logrus_quoting(msg: str, rendered: str) -> None:
    """§5 (literal `\\n` inside the quoted msg=) and logrus quoting: bare when safe, Go %q otherwise."""
    assert log.format_line("warning", msg, NOON) == f'time="2026-12-03T16:00:00Z" level=warning {rendered}'


def test_logrus_empty_message_has_no_msg_field() -> None:
    """logrus TextFormatter: an empty message omits the msg key."""
    assert log.format_line("info", "", NOON) == 'time="2026-12-03T16:00:00Z" level=info'


def test_log_levels_debug_gate_and_fatal(capsys: pytest.CaptureFixture[str]) -> None:
    """DESIGN.md log: info/warn/error/debug on stderr; debug only when enabled; fatal exits 1."""
    log.set_debug(False)
    log.debug("hidden")
    log.warn("careful")
    log.error("broken")
    log.set_debug(True)
    log.debug("shown")
    log.set_debug(False)
    with pytest.raises(SystemExit) as info:
        log.fatal("the end")
    assert info.value.code == 1
    out, err = capsys.readouterr()
    levels = [re.findall(r" level=(\w+) ", line)[0] for line in err.splitlines()]
    assert out == "" and levels == ["warning", "error", "debug", "fatal"]
    assert err.splitlines()[-1].endswith('level=fatal msg="the end"')


# --- buildinfo.py -----------------------------------------------------------------------------------------------


def test_buildinfo_defaults(tmp_path: Path) -> None:
    """release_artifacts.md §1/§2: defaults v1.34.3+k3s1, an 8-hex commit, go1.24.11, amd64."""
    info = buildinfo.load(tmp_path / "missing.json")
    assert (info.version, info.go_version, info.arch) == ("v1.34.3+k3s1", "go1.24.11", "amd64")
    assert re.fullmatch(r"[0-9a-f]{8}", info.git_commit)
    assert info.kubernetes_version == "v1.34.3" and (info.major, info.minor) == ("1", "34")


def test_buildinfo_reads_build_json(tmp_path: Path) -> None:
    """release_artifacts.md §2 + DESIGN.md _build.json: version output built from the payload file."""
    path = write(tmp_path / "_build.json", json.dumps({"version": "v1.32.10+k3s1", "git_commit": "abcdef1234",
                                                      "go_version": "go1.23.12", "arch": "armhf"}))
    info = buildinfo.load(path)
    assert info.version_output("k3s") == "k3s version v1.32.10+k3s1 (abcdef12)\ngo version go1.23.12\n"
    assert info.platform == "linux/arm" and info.int_bits == 32
    assert info.kubernetes_version == "v1.32.10"


def test_version_info_for_the_api() -> None:
    """release_artifacts.md §1: the API reports the k3s version as gitVersion (Server Version: v1.34.3+k3s1)."""
    body = buildinfo.version_info()
    info = buildinfo.get()
    assert body["gitVersion"] == info.version and body["major"] == "1" and body["minor"] == "34"
    assert body["goVersion"] == info.go_version and body["platform"] == f"linux/{info.arch}"
