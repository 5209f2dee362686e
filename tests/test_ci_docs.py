"""The README's CI job and pre-commit hook, run as written: its YAML parses, and every
``kg validate`` command in it does what the README says on a small data repository."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest
import yaml
from click.testing import CliRunner, Result

from kg.cli import main
from kg.formats import rdf_format_for_path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")

SHAPES = """\
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ex: <http://example.org/> .
ex:ThingShape a sh:NodeShape ; sh:targetClass ex:Thing ; sh:property [ sh:path ex:name ; sh:minCount 1 ] .
"""
GOOD = '@prefix ex: <http://example.org/> .\nex:a a ex:Thing ; ex:name "A" .\n'
BAD = "@prefix ex: <http://example.org/> .\nex:b a ex:Thing .\n"


def _yaml_blocks() -> list[Any]:
    blocks = re.findall(r"```yaml\n(.*?)```", README, flags=re.S)
    return [yaml.safe_load(b) for b in blocks]


def _job() -> dict[str, Any]:
    jobs = [b for b in _yaml_blocks() if isinstance(b, dict) and "jobs" in b]
    assert len(jobs) == 1
    return jobs[0]  # type: ignore[no-any-return]


def _local_hook() -> dict[str, Any]:
    configs = [b for b in _yaml_blocks() if isinstance(b, dict) and "repos" in b]
    assert len(configs) == 1
    [hook] = configs[0]["repos"][0]["hooks"]
    return hook  # type: ignore[no-any-return]


@pytest.fixture()
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for key in list(os.environ):
        if key.startswith("KG_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "shapes").mkdir()
    (tmp_path / "shapes" / "things.ttl").write_text(SHAPES, encoding="utf-8")
    (tmp_path / "rdf").mkdir()
    (tmp_path / "rdf" / "good.ttl").write_text(GOOD, encoding="utf-8")
    return tmp_path


def _kg(command: str) -> tuple[Result, str | None]:
    """Run one ``kg …`` shell line in-process; returns the result and the file stdout went to."""
    words = shlex.split(command)
    target = None
    if ">" in words:
        at = words.index(">")
        words, target = words[:at], words[at + 1]
    assert words[0] == "kg"
    result = CliRunner().invoke(main, words[1:])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    if target is not None:
        Path(target).write_text(result.stdout, encoding="utf-8")
    return result, target


def test_the_ci_job_runs_as_written(repo: Path) -> None:
    steps = _job()["jobs"]["shacl"]["steps"]
    commands = [s["run"] for s in steps if str(s.get("run", "")).startswith("kg validate")]
    assert len(commands) == 2
    uploaded = next(s for s in steps if str(s.get("uses", "")).startswith("actions/upload-artifact"))

    # a first violation, accepted into the baseline with the README's own command
    (repo / "rdf" / "old.ttl").write_text(BAD, encoding="utf-8")
    write = re.search(r"`(kg validate rdf/[^`]*--write-baseline [^`]*)`", README)
    assert write is not None
    assert _kg(write.group(1))[0].exit_code == 0
    for command in commands:
        result, target = _kg(command)
        assert result.exit_code == 0, result.output
    assert ET.parse(uploaded["with"]["path"]).getroot().get("failures") == "0"

    # a new violation fails both steps: an ::error annotation on its line, a JUnit failure
    (repo / "rdf" / "new.ttl").write_text(BAD.replace("ex:b", "ex:c"), encoding="utf-8")
    annotations, _ = _kg(commands[0])
    assert annotations.exit_code == 1
    assert f"::error file={Path('rdf', 'new.ttl').as_posix()},line=2," in annotations.stdout
    junit, target = _kg(commands[1])
    assert junit.exit_code == 1 and target == uploaded["with"]["path"]
    assert ET.parse(target).getroot().get("failures") == "1"


def test_the_local_pre_commit_hook_runs_as_written(repo: Path) -> None:
    hook = _local_hook()
    files = re.compile(hook["files"])
    exclude = re.compile(hook["exclude"])
    (repo / "rdf" / "bad.nt").write_text("<http://example.org/b> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://example.org/Thing> .\n", encoding="utf-8")
    (repo / "notes.md").write_text("not RDF", encoding="utf-8")

    def staged(*names: str) -> list[str]:
        return [n for n in names if files.search(n) and not exclude.search(n)]

    assert staged("rdf/good.ttl", "shapes/things.ttl", "notes.md") == ["rdf/good.ttl"]
    ok, _ = _kg(" ".join([hook["entry"], *staged("rdf/good.ttl", "shapes/things.ttl")]))
    assert ok.exit_code == 0, ok.output
    failed, _ = _kg(" ".join([hook["entry"], *staged("rdf/good.ttl", "rdf/bad.nt")]))
    assert failed.exit_code == 1 and "bad.nt:1" in failed.output


def test_the_hook_repository_file() -> None:
    [hook] = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook["id"] == "kg-validate" and hook["entry"] == "kg validate" and hook["language"] == "python"
    files = re.compile(hook["files"])
    for name in ("a.ttl", "a.nt", "a.nq", "a.trig", "a.jsonld", "a.rdf"):
        assert files.search(name) and rdf_format_for_path(Path(name)) is not None, name
    for name in ("a.yaml", "README.md", "a.ttl.bak"):
        assert not files.search(name), name
