"""Fidelity of config.yaml / config.yaml.d handling (k3s_standin.configfile) against the K3s reference.

Reference: /work/shared/reference/k3s/config_file_rules.md §1-§5. Each test names the section it pins.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from k3s_standin import configfile
from k3s_standin.configfile import ConfigError, ConfigPath, expand_argv, find_config_file, read_config_args


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A simulated host root (paths.host maps /etc/... below it)."""
    monkeypatch.setenv("K3S_STANDIN_ROOT", str(tmp_path))
    return tmp_path


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def default_config(root: Path, text: str) -> Path:
    return write(root / "etc/rancher/k3s/config.yaml", text)


def shown(argv: list[str], env: dict[str, str]) -> str:
    found = find_config_file(argv, env)
    assert found is not None
    return found.shown


def args_of(text: str, tmp_path: Path) -> list[str]:
    config = write(tmp_path / "c.yaml", text)
    result = read_config_args(ConfigPath(str(config), config))
    assert result is not None
    return result


# --- §1 where the file comes from -----------------------------------------------------------------------------


def test_default_path_goes_through_the_simulated_root(root: Path) -> None:
    """§1: default /etc/rancher/k3s/config.yaml (mapped by paths.host into the simulated root)."""
    found = find_config_file(["k3s", "server"], {})
    assert found is not None
    assert found.shown == "/etc/rancher/k3s/config.yaml"
    assert found.real == root / "etc/rancher/k3s/config.yaml"


def test_env_beats_config_flag_beats_default(root: Path) -> None:
    """§1: K3S_CONFIG_FILE beats --config/-c, which beats the default; an empty env var is ignored."""
    argv = ["k3s", "server", "--config", "/from/flag.yaml"]
    assert shown(argv, {"K3S_CONFIG_FILE": "/from/env.yaml"}) == "/from/env.yaml"
    assert shown(argv, {"K3S_CONFIG_FILE": ""}) == "/from/flag.yaml"


@pytest.mark.parametrize("argv", [
    ["k3s", "server", "--config", "/x.yaml"], ["k3s", "server", "--config=/x.yaml"],
    ["k3s", "server", "-c", "/x.yaml"], ["k3s", "server", "-c=/x.yaml"],
    ["k3s", "--config", "/x.yaml", "server"], ["k3s", "agent", "--token", "t", "-c", "/x.yaml"],
])
def test_config_flag_forms_anywhere_in_argv(argv: list[str]) -> None:
    """§1: `--config VALUE`, `--config=VALUE`, `-c VALUE`, `-c=VALUE`, searched in the whole argv."""
    assert shown(argv, {}) == "/x.yaml"


def test_config_flag_without_value_means_no_file() -> None:
    """§1: `--config` with no following value yields "" (no file; the CLI parser complains later)."""
    assert find_config_file(["k3s", "server", "--config"], {}) is None


def test_dropins_order_and_filter(tmp_path: Path) -> None:
    """§1: drop-ins `<path>.d/*.yaml|*.yml` (case-insensitive), regular files, lexical byte order, dot-files read."""
    base = write(tmp_path / "config.yaml", "node-label: [base]\n")
    dropins = tmp_path / "config.yaml.d"
    for name in ("b.yaml", "B.YML", "10-a.Yaml", "9-z.yml", ".hidden.yaml", "note.txt", "x.yaml.bak"):
        write(dropins / name, f"node-label+: [{name}]\n")
    (dropins / "sub.yaml").mkdir()
    write(dropins / "sub.yaml" / "inner.yaml", "node-label+: [inner]\n")
    files = configfile.config_files(ConfigPath(str(base), base)) or []
    assert [Path(f.shown).name for f in files] == ["config.yaml", ".hidden.yaml", "10-a.Yaml", "9-z.yml",
                                                  "B.YML", "b.yaml"]
    assert read_config_args(ConfigPath(str(base), base)) == [
        "--node-label=base", "--node-label=.hidden.yaml", "--node-label=10-a.Yaml", "--node-label=9-z.yml",
        "--node-label=B.YML", "--node-label=b.yaml"]


def test_changing_the_config_path_changes_the_dropin_dir(tmp_path: Path) -> None:
    """§1: drop-in directory = `<config path>.d`."""
    write(tmp_path / "other.yaml.d/01.yaml", "token: from-dropin\n")
    write(tmp_path / "config.yaml.d/01.yaml", "token: wrong\n")
    assert read_config_args(configfile._user_path(str(tmp_path / "other.yaml"))) == ["--token=from-dropin"]


def test_missing_base_with_dropins_uses_dropins_alone(root: Path) -> None:
    """§1: a missing base file is fine if drop-ins exist."""
    write(root / "etc/rancher/k3s/config.yaml.d/50-x.yaml", "token: abc\n")
    assert expand_argv(["k3s", "server"], {}) == ["k3s", "server", "--token=abc"]


def test_missing_files_are_silently_ignored(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """§1: no file at all is a silent no-op, also when --config or K3S_CONFIG_FILE names a missing file."""
    assert expand_argv(["k3s", "server", "-t", "x"], {}) == ["k3s", "server", "-t", "x"]
    assert expand_argv(["k3s", "server", "--config", "/nope.yaml"], {}) == ["k3s", "server", "--config", "/nope.yaml"]
    assert expand_argv(["k3s", "agent"], {"K3S_CONFIG_FILE": str(root / "missing.yaml")}) == ["k3s", "agent"]
    assert capsys.readouterr().err == ""


def test_url_config_path_is_treated_as_missing() -> None:
    """§1: an http(s) URL config path fails os.Stat and is silently ignored."""
    assert expand_argv(["k3s", "server"], {"K3S_CONFIG_FILE": "https://example.com/config.yaml"}) == \
        ["k3s", "server"]


def test_yaml_syntax_error_is_the_raw_yaml_v2_text(tmp_path: Path) -> None:
    """§1: a YAML syntax error is fatal with the raw yaml.v2 error (`yaml: line N: ...`)."""
    config = write(tmp_path / "bad.yaml", "token: abc\n  node-name: x\n")
    with pytest.raises(ConfigError) as info:
        read_config_args(ConfigPath(str(config), config))
    assert str(info.value) == "yaml: line 2: mapping values are not allowed in this context"


def test_yaml_error_in_a_dropin_is_fatal_too(tmp_path: Path) -> None:
    """§1: a syntax error in any drop-in fails the whole read."""
    base = write(tmp_path / "config.yaml", "token: abc\n")
    write(tmp_path / "config.yaml.d/10.yaml", "node-label: [a\n")
    with pytest.raises(ConfigError) as info:
        read_config_args(ConfigPath(str(base), base))
    assert str(info.value).startswith("yaml: ")
    assert "did not find expected ',' or ']'" in str(info.value)


def test_unreadable_config_reports_the_go_os_error(tmp_path: Path) -> None:
    """§1: read errors other than "missing" are fatal with Go's os error text."""
    folder = tmp_path / "config.yaml"
    folder.mkdir()
    with pytest.raises(ConfigError) as info:
        read_config_args(ConfigPath("/etc/rancher/k3s/config.yaml", folder))
    assert str(info.value) == "read /etc/rancher/k3s/config.yaml: is a directory"


def test_non_mapping_document_is_an_unmarshal_error(tmp_path: Path) -> None:
    """§1 (yaml.v2 into yaml.MapSlice): a document that is not a mapping cannot be unmarshalled."""
    with pytest.raises(ConfigError) as info:
        args_of("just-a-string\n", tmp_path)
    assert str(info.value) == "yaml: unmarshal errors:\n  line 1: cannot unmarshal !!str `just-a-...` into yaml.MapSlice"
    assert args_of("", tmp_path) == []
    assert args_of("# only a comment\n", tmp_path) == []


# --- §3 key -> flag mapping --------------------------------------------------------------------------------------


def test_keys_become_long_or_short_flags_with_equals(tmp_path: Path) -> None:
    """§3: each key becomes `--<key>=<value>`; a one-character key becomes `-<k>=<value>`."""
    assert args_of("token: abc\nt: def\ni: 10.0.0.1\n", tmp_path) == ["--token=abc", "-t=def", "-i=10.0.0.1"]


def test_lists_become_repeated_flags(tmp_path: Path) -> None:
    """§3: a YAML list becomes one `--key=<item>` per element; an empty list produces nothing."""
    assert args_of("node-label:\n  - a=1\n  - b=2\ntls-san: []\nnode-taint: [x]\n", tmp_path) == \
        ["--node-label=a=1", "--node-label=b=2", "--node-taint=x"]


@pytest.mark.parametrize("yaml_text,arg", [
    ("write-kubeconfig-mode: 0644", "--write-kubeconfig-mode=420"),
    ('write-kubeconfig-mode: "0644"', "--write-kubeconfig-mode=0644"),
    ("write-kubeconfig-mode: 644", "--write-kubeconfig-mode=644"),
    ("cluster-init: yes", "--cluster-init=true"),
    ("cluster-init: on", "--cluster-init=true"),
    ("cluster-init: Off", "--cluster-init=false"),
    ("cluster-init: y", "--cluster-init=true"),
    ('cluster-init: "yes"', "--cluster-init=yes"),
    ("https-listen-port: 1_000", "--https-listen-port=1000"),
    ("https-listen-port: 0x10", "--https-listen-port=16"),
    ("https-listen-port: 0o17", "--https-listen-port=15"),
    ("https-listen-port: 09", "--https-listen-port=9"),
    ("lb-server-port: 5", "--lb-server-port=5"),
    ("v: 1.5", "-v=1.5"),
    ("v: 1.0", "-v=1"),
    ("v: 1e6", "-v=1e+06"),
    ("v: 0.00001", "-v=1e-05"),
    ("v: .inf", "-v=+Inf"),
    ("token:", "--token="),
    ("token: ~", "--token="),
    ("token: null", "--token="),
    ("token: '  padded  '", "--token=padded"),
    ("node-name: 2001-12-14", "--node-name=2001-12-14"),
    ("node-name: {a: 1}", "--node-name=[{a 1}]"),
    ("node-name: !!str 0644", "--node-name=0644"),
    ("node-name: !!float 3", "--node-name=3"),
])
def test_yaml_1_1_typing_and_to_string(tmp_path: Path, yaml_text: str, arg: str) -> None:
    """§3: yaml.v2 YAML 1.1 typing + convert.ToString (true, 420 for 0644, nil -> empty, TrimSpace)."""
    assert args_of(yaml_text + "\n", tmp_path) == [arg]


def test_yaml_bool_words_as_keys_are_rendered_too(tmp_path: Path) -> None:
    """§3: keys are converted like values (yaml.v2 resolves an unquoted `y` key to true)."""
    assert args_of("y: 1\n'n': 2\n", tmp_path) == ["--true=1", "-n=2"]


def test_explicit_tag_mismatch_is_a_yaml_error(tmp_path: Path) -> None:
    """§1/§3: yaml.v2 refuses a tagged value it cannot decode."""
    with pytest.raises(ConfigError) as info:
        args_of("https-listen-port: !!int abc\n", tmp_path)
    assert str(info.value) == "yaml: cannot decode !!str `abc` as a !!int"


def test_keys_in_order_of_first_appearance_across_files(tmp_path: Path) -> None:
    """§3: keys are emitted in order of first appearance across all files (base, then drop-ins)."""
    base = write(tmp_path / "config.yaml", "token: a\nnode-name: n1\n")
    write(tmp_path / "config.yaml.d/10.yaml", "debug: true\ntoken: b\n")
    assert read_config_args(ConfigPath(str(base), base)) == ["--token=b", "--node-name=n1", "--debug=true"]


def test_inserted_after_the_subcommand_before_user_args(root: Path) -> None:
    """§3: config args are placed right after the subcommand word, before the user's CLI arguments."""
    default_config(root, "token: abc\nnode-label: [a=1]\n")
    assert expand_argv(["k3s", "server", "--node-label", "c=3", "--debug"], {}) == \
        ["k3s", "server", "--token=abc", "--node-label=a=1", "--node-label", "c=3", "--debug"]


def test_split_point_is_the_first_split_word(root: Path) -> None:
    """§2: the first argv element equal to server/agent/etcd-snapshot is the split point."""
    default_config(root, "token: abc\n")
    assert expand_argv(["k3s", "--debug", "agent", "-s", "https://x:6443"], {}) == \
        ["k3s", "--debug", "agent", "--token=abc", "-s", "https://x:6443"]
    assert expand_argv(["k3s", "token", "list"], {}) == ["k3s", "token", "list"]
    assert expand_argv(["k3s", "check-config"], {}) == ["k3s", "check-config"]


@pytest.mark.parametrize("argv,expected", [
    (["k3s", "etcd-snapshot", "save", "--name", "x"],
     ["k3s", "etcd-snapshot", "save", "--etcd-s3=true", "--name", "x"]),
    (["k3s", "etcd-snapshot", "--name", "x", "save"],
     ["k3s", "etcd-snapshot", "--etcd-s3=true", "--name", "x", "save"]),
    (["k3s", "etcd-snapshot"], ["k3s", "etcd-snapshot", "--etcd-s3=true"]),
    (["k3s", "etcd-snapshot", "ls"], ["k3s", "etcd-snapshot", "ls", "--etcd-s3=true"]),
])
def test_etcd_snapshot_takes_one_subcommand_word(root: Path, argv: list[str], expected: list[str]) -> None:
    """§2: for etcd-snapshot the split point includes one optional sub-subcommand word."""
    default_config(root, "etcd-s3: true\n")
    assert expand_argv(argv, {}) == expected


# --- §4 merging and key+ ----------------------------------------------------------------------------------------


def test_later_files_replace_whole_values(tmp_path: Path) -> None:
    """§4: later files replace earlier values for the same key (whole value, list or scalar)."""
    base = write(tmp_path / "config.yaml", "node-label: [a, b]\ntoken: first\n")
    write(tmp_path / "config.yaml.d/1.yaml", "node-label: [c]\ntoken: second\n")
    assert read_config_args(ConfigPath(str(base), base)) == ["--node-label=c", "--token=second"]


def test_plus_suffix_appends(tmp_path: Path) -> None:
    """§4: `key+:` appends; scalars count as 1-element lists; with no earlier value it simply sets."""
    base = write(tmp_path / "config.yaml", "node-label: [a]\ntoken: one\nkubelet-arg+: [x=1]\n")
    write(tmp_path / "config.yaml.d/1.yaml", "node-label+: [b, c]\ntoken+: two\n")
    assert read_config_args(ConfigPath(str(base), base)) == [
        "--node-label=a", "--node-label=b", "--node-label=c", "--token=one", "--token=two", "--kubelet-arg=x=1"]


def test_plain_key_after_plus_replaces_everything(tmp_path: Path) -> None:
    """§4: a later plain `key:` after accumulated `+` values replaces everything; `+` never reaches the CLI."""
    base = write(tmp_path / "config.yaml", "node-label: [a]\n")
    write(tmp_path / "config.yaml.d/1.yaml", "node-label+: [b]\n")
    write(tmp_path / "config.yaml.d/2.yaml", "node-label: [z]\n")
    assert read_config_args(ConfigPath(str(base), base)) == ["--node-label=z"]


def test_plus_with_non_string_scalars(tmp_path: Path) -> None:
    """§4 (toSlice): appended non-string scalars are converted; a null adds nothing."""
    assert args_of("v: 1\nv+: 2\nv+: ~\n", tmp_path) == ["-v=1", "-v=2"]


# --- §5 unknown keys --------------------------------------------------------------------------------------------


def test_server_drops_unknown_keys_with_a_warning(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """§5: `k3s server`: unknown keys dropped with `Unknown flag --<key> found in config.yaml, skipping\\n`."""
    default_config(root, "token: abc\nno-such-key: 1\nt: short\nq: 2\n")
    assert expand_argv(["k3s", "server"], {}) == ["k3s", "server", "--token=abc", "-t=short"]
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2
    assert lines[0].endswith(' level=warning msg="Unknown flag --no-such-key found in config.yaml, skipping\\n"')
    assert lines[1].endswith(' level=warning msg="Unknown flag -q found in config.yaml, skipping\\n"')


def test_etcd_snapshot_drops_server_keys(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """§5: for etcd-snapshot, server keys such as token/server are unknown and skipped with the warning."""
    default_config(root, "token: abc\nserver: https://x:6443\netcd-s3-bucket: b\nwrite-kubeconfig-mode: 0644\n")
    assert expand_argv(["k3s", "etcd-snapshot", "save"], {}) == ["k3s", "etcd-snapshot", "save", "--etcd-s3-bucket=b"]
    err = capsys.readouterr().err
    for key in ("token", "server", "write-kubeconfig-mode"):
        assert f'msg="Unknown flag --{key} found in config.yaml, skipping\\n"' in err


def test_agent_does_not_filter(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """§5: for `agent` no filtering is done: server-only keys reach the CLI parser."""
    default_config(root, "token: abc\ncluster-init: true\nwrite-kubeconfig-mode: 0644\n")
    assert expand_argv(["k3s", "agent"], {}) == \
        ["k3s", "agent", "--token=abc", "--cluster-init=true", "--write-kubeconfig-mode=420"]
    assert capsys.readouterr().err == ""


def test_filter_uses_argv1(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """§5: the filter uses argv[1]; with `k3s --debug server` no filtering happens."""
    default_config(root, "no-such-key: 1\n")
    assert expand_argv(["k3s", "--debug", "server"], {}) == ["k3s", "--debug", "server", "--no-such-key=1"]
    assert capsys.readouterr().err == ""


def test_filter_accepts_aliases(root: Path) -> None:
    """§5: the warning check uses the command's flag names including aliases."""
    default_config(root, "d: /srv\no: /tmp/kc.yaml\ni: 10.0.0.1\nc: /etc/x.yaml\n")
    assert expand_argv(["k3s", "server"], {})[2:] == ["-d=/srv", "-o=/tmp/kc.yaml", "-i=10.0.0.1", "-c=/etc/x.yaml"]


# --- the outer binary's early read ----------------------------------------------------------------------------


def test_outer_check_is_fatal_on_broken_yaml(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """§1: the outer binary reads the config first; a broken YAML fails before anything else."""
    default_config(root, "a: b: c\n")
    with pytest.raises(SystemExit) as info:
        configfile.outer_check(["k3s", "token", "list"], {})
    assert info.value.code == 1
    assert capsys.readouterr().err.rstrip().endswith(
        'level=fatal msg="yaml: mapping values are not allowed in this context"')


@pytest.mark.parametrize("flag", ["--help", "-h", "--version", "-v"])
def test_outer_check_skipped_with_help_or_version(root: Path, flag: str) -> None:
    """§1: except when --help/-h/--version/-v appear in argv (config not read)."""
    default_config(root, "a: b: c\n")
    configfile.outer_check(["k3s", "server", flag], {})


@pytest.mark.parametrize("argv", [["k3s", "kubectl", "get", "nodes"], ["/usr/local/bin/kubectl", "get", "pods"],
                                  ["k3s", "crictl", "ps"], ["ctr", "--help"]])
def test_outer_check_only_warns_for_external_tools(root: Path, capsys: pytest.CaptureFixture[str],
                                                   argv: list[str]) -> None:
    """§1: for kubectl/crictl/ctr the read error is only a warning."""
    default_config(root, "a: b: c\n")
    configfile.outer_check(argv, {})
    assert 'level=warning msg="yaml: mapping values are not allowed in this context"' in capsys.readouterr().err


def test_outer_check_reads_env_or_default_file_only(root: Path, tmp_path: Path) -> None:
    """§1/§6: the outer read (FindString) knows no --config flag: it reads K3S_CONFIG_FILE or the default."""
    default_config(root, "a: b: c\n")
    good = write(tmp_path / "good.yaml", "data-dir: /srv/k3s\n")
    with pytest.raises(SystemExit):
        configfile.outer_check(["k3s", "server", "--config", str(good)], {})
    assert configfile.outer_check(["k3s", "server"], {"K3S_CONFIG_FILE": str(good)}) == "/srv/k3s"


def test_outer_data_dir_plus_joins_with_commas(root: Path) -> None:
    """§6 traps: the outer data-dir lookup takes the last value across files; `+` concatenates with commas."""
    default_config(root, "data-dir: /a\n")
    write(root / "etc/rancher/k3s/config.yaml.d/1.yaml", "data-dir+: /b\n")
    assert configfile.outer_check(["k3s", "server"], {}) == "/a,/b"


# --- value rendering --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value,text", [
    (1.5, "1.5"), (1.0, "1"), (100000.0, "100000"), (1234567.0, "1.234567e+06"), (1e20, "1e+20"),
    (0.0001, "0.0001"), (0.00001, "1e-05"), (-2.5, "-2.5"), (float("nan"), "NaN"), (float("-inf"), "-Inf"),
])
def test_go_float_rendering(value: float, text: str) -> None:
    """§3: convert.ToString uses fmt.Sprint, whose %v float form switches to exponents at 1e6 and below 1e-4."""
    assert configfile.go_format_float(value) == text


def test_nested_values_render_like_go(tmp_path: Path) -> None:
    """§3: maps become Go text (yaml.v2 decodes nested maps as MapSlice: `[{k v}]`); list items too."""
    assert args_of("node-label:\n  - {a: 1, b: [x, z]}\n  - [p, q]\n  - ~\n", tmp_path) == \
        ["--node-label=[{a 1} {b [x z]}]", "--node-label=p", "--node-label="]


def test_single_letter_y_is_a_boolean_in_yaml_v2(tmp_path: Path) -> None:
    """§3: yaml.v2's YAML 1.1 booleans include y/Y/n/N (PyYAML's resolver does not), also inside lists."""
    assert args_of("token: y\nnode-label: [x, Y, n]\n", tmp_path) == \
        ["--token=true", "--node-label=x", "--node-label=true", "--node-label=false"]
