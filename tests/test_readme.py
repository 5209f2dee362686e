"""The README as a newcomer reads it: every shell example runs as written (taken from the
README itself, so the two cannot drift), and every command and option its table names exists,
with exactly the format choices it lists.

The quick start's two blocks set up a virtual environment first (``python3 -m venv … && pip
install …``); the tests run inside one already, so that prefix is checked to be exactly the
documented one and the rest is run: ``kg serve`` (on a free port through ``KG_PORT``, until it
answers) — and ``pytest``, which is this very run, is only checked to be the command."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from xml.etree import ElementTree as ET

import click
import pytest
from live import free_port
from rdflib import Dataset, Graph

from kg.cli import main

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```sh\n(.*?)```", README, flags=re.S)
SETUP = "python3 -m venv .venv && . .venv/bin/activate && "
RUN_IT = SETUP + "pip install . && kg serve"
TEST_IT = SETUP + "pip install -q '.[test]' && mypy && pytest"


def _session_blocks() -> list[str]:
    return [b for b in BLOCKS if not b.startswith(SETUP)]


def test_every_shell_block_is_one_the_tests_run() -> None:
    setup = [b.strip() for b in BLOCKS if b.startswith(SETUP)]
    assert setup == [RUN_IT, TEST_IT]
    assert len(_session_blocks()) >= 5
    assert all(line.startswith(("kg ", "EOF", "@prefix", "<", "PREFIX", "SELECT", "INSERT", "  ", "}")) or not line
               for b in _session_blocks() for line in b.splitlines()), "a block runs something other than kg"


@pytest.fixture()
def newcomer(store_path: Path, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A working directory that looks like the repository (``data/`` and ``kg/`` as in a clone),
    an environment with this ``kg`` first on PATH and ``KG_STORE`` at a copy of the built store."""
    work = tmp_path / "clone"
    work.mkdir()
    for name in ("data", "kg"):
        (work / name).symlink_to(ROOT / name)
    store = tmp_path / "store"
    shutil.copytree(store_path, store)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KG_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["KG_STORE"] = str(store)
    return work, env


def _bash(block: str, work: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-euo", "pipefail", "-c", block], cwd=work, env=env, capture_output=True,
                          text=True, timeout=600)


def test_the_first_session_runs_as_written(newcomer: tuple[Path, dict[str, str]]) -> None:
    work, env = newcomer
    outputs = []
    for block in _session_blocks():
        done = _bash(block, work, env)
        assert done.returncode == 0, f"{block}\n--- stderr ---\n{done.stderr}"
        assert "Traceback" not in done.stderr, done.stderr
        assert "Error:" not in done.stderr or "|| echo" in block, done.stderr  # only the refusal shown on purpose
        outputs.append(done)
    build_and_query = outputs[0]
    rows = build_and_query.stdout.splitlines()
    assert rows[0].strip() == "proposal,actor,quote" and len(rows) > 1
    assert "Built 2 documents" in build_and_query.stderr
    assert len(Graph().parse(work / "putin.ttl", format="turtle")) > 10
    assert ET.parse(work / "shacl-report.xml").getroot().get("failures") == "0"
    dataset = Dataset()
    dataset.parse(work / "dataset.trig", format="trig")
    assert len(list(dataset.graphs())) > 3
    refused = next(o for o in outputs if "refused" in o.stdout)
    assert "refused (exit 1)" in refused.stdout and "the write would break the shapes" in refused.stderr
    counted = next(o for b, o in zip(_session_blocks(), outputs, strict=True) if "kg backup" in b)  # queried as a store
    assert int(counted.stdout.split('"value":"')[1].split('"')[0]) > 5000
    assert json.loads((work / "score.json").read_text(encoding="utf-8"))["claims"]["recall"] == 1.0


def test_the_quick_start_serves(newcomer: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    work, env = newcomer
    port = free_port()
    command = RUN_IT.removeprefix(SETUP + "pip install . && ")
    with (tmp_path / "serve.log").open("wb") as log:
        server = subprocess.Popen(["bash", "-c", f"exec {command}"], cwd=work, env={**env, "KG_PORT": str(port)},
                                  stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/examples", timeout=2) as answer:
                    assert answer.status == 200
                    break
            except (urllib.error.URLError, OSError):
                assert server.poll() is None, (tmp_path / "serve.log").read_text()
                assert time.monotonic() < deadline, "kg serve did not answer"
                time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(timeout=10)


def _command(path: list[str]) -> click.Command:
    found: click.Command = main
    for name in path:
        assert isinstance(found, click.Group), path
        found = found.commands[name]
    return found


def _table_commands() -> list[str]:
    section = README[README.index("## Command line"):README.index("## Validation in CI")]
    cells = [line.split(" | ")[0].lstrip("| ") for line in section.splitlines() if line.startswith("| `kg ")]
    return [c.strip("`").replace("\\|", "|") for cell in cells for c in cell.split("` · `")]


def test_every_command_and_option_in_the_table_exists() -> None:
    commands = _table_commands()
    assert {c.split()[1] for c in commands} == set(main.commands)
    for written in commands:
        words = written.split()[1:]
        path = [words[0]] + ([words[1]] if isinstance(main.commands[words[0]], click.Group) else [])
        command = _command(path)
        options = {o: p for p in command.params for o in p.opts + p.secondary_opts}
        for match in re.finditer(r"(?<![\w-])(--?[a-z][a-z-]*)(?: ([a-z|]+\|[a-z|]+))?", written):
            option, listed = match.group(1), match.group(2)
            assert option in options, f"{written}: {option}"
            if listed:
                kind = options[option].type
                assert isinstance(kind, click.Choice) and list(kind.choices) == listed.split("|"), written


def _all_commands(group: click.Group, path: list[str]) -> list[list[str]]:
    out = []
    for name, command in group.commands.items():
        out.append([*path, name])
        if isinstance(command, click.Group):
            out += _all_commands(command, [*path, name])
    return out


@pytest.mark.parametrize("path", _all_commands(main, []), ids=" ".join)
def test_every_command_takes_the_global_options_and_has_help(path: list[str]) -> None:
    from click.testing import CliRunner

    command = _command(path)
    opts = {o for p in command.params for o in p.opts}
    assert {"--store", "--corpus", "--config", "--quiet"} <= opts
    shown = CliRunner().invoke(main, [*path, "--help"])
    assert shown.exit_code == 0 and "--store PATH|URL" in shown.output


def test_the_command_list_never_cuts_a_sentence() -> None:
    from click.testing import CliRunner

    shown = CliRunner().invoke(main, ["--help"]).output
    listing = shown[shown.index("Commands:"):]
    entries = re.findall(r"^  (\S+)\s+(.*(?:\n {4,}.*)*)", listing, flags=re.M)
    assert {name for name, _ in entries} == set(main.commands)
    for name, text in entries:
        sentence = " ".join(text.split())
        assert not sentence.endswith("...") and sentence.endswith("."), (name, sentence)
