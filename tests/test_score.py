"""``kg score``: the gold scored against itself is perfect, and each perturbation of it moves the
measures it should, by the amount the perturbation implies, and no other; the command's text
and JSON; unusable input exits 2 naming the file."""

from __future__ import annotations

import copy
import doctest
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from kg.build.annotations import find_quote
from kg.cli import main
from kg.draft.measures import OVERLAP_NEEDED
from kg.draft.reading import ReadAnnotations
from kg.draft.score import STANCES, ScoreReport, read_gold, score_draft
from kg.draft.score_text import render_text
from kg.resources import default_corpus_dir

CORPUS = default_corpus_dir()
DOC = "000_08f43cbfc8a050d9"
GOLD = CORPUS / "annotations" / f"{DOC}.yaml"
TEXT = (CORPUS / "documents" / f"{DOC}.txt").read_text(encoding="utf-8")
AUTHOR = "sotiris-mitralexis"

Data = dict[str, Any]


@pytest.fixture(scope="module")
def gold() -> Data:
    data: Data = yaml.load(GOLD.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    return data


@pytest.fixture(scope="module")
def gold_read() -> ReadAnnotations:
    """The gold, read once for the module (each test reads only its draft)."""
    return read_gold(GOLD)


def _dump(data: Data) -> str:
    return yaml.dump(data, Dumper=yaml.CSafeDumper, allow_unicode=True, sort_keys=False)


def _write(folder: Path, data: Data, name: str = "draft.yaml") -> Path:
    path = folder / name
    path.write_text(_dump(data), encoding="utf-8")
    return path


Score = Callable[[Data], ScoreReport]


@pytest.fixture
def score(tmp_path: Path, gold_read: ReadAnnotations) -> Score:
    """Score a draft, given as data, against the gold."""
    return lambda data: score_draft(_write(tmp_path, data), gold_read)


def _moved(report: ScoreReport) -> dict[str, float | None]:
    """The measures that are not perfect."""
    return {name: value for name, value in report.measures().items() if value != 1.0}


def _span(claim: Data) -> tuple[int, int]:
    placed = find_quote(TEXT, claim["quote"], claim.get("occurrence"))
    assert not isinstance(placed, str), placed
    return placed


def _facts(data: Data, keep: Callable[[str], bool] = lambda p: True) -> set[tuple[str, str, str]]:
    out = set()
    for claim in data["claims"]:
        for item in claim.get("asserts", []):
            fact = item["fact"] if isinstance(item, dict) else item
            if keep(fact[1]):
                out.add(tuple(str(x) for x in fact))
    return out


def _stances(data: Data) -> set[tuple[str, str, str]]:
    return _facts(data, lambda p: p in STANCES)


def _finds(drafted: Data, gold: Data) -> bool:
    """The definition, independently: the drafted span covers at least half of the gold's characters."""
    (gs, ge), (ds, de) = _span(gold), _span(drafted)
    return 2 * max(0, min(ge, de) - max(gs, ds)) >= ge - gs > 0


def _found(gold: Data, draft: Data) -> int:
    return sum(any(_finds(d, g) for d in draft["claims"]) for g in gold["claims"])


def _named(data: Data) -> set[str]:
    """The entities a document's annotations name: mentions, claimants, about, fact entities
    (not literals: a date or a job title), estimate sources."""
    out = set(data.get("mentions", []))
    for claim in data["claims"]:
        out |= {claim["claimant"], *claim.get("about", []), *claim.get("estimate", {}).get("source", [])}
        for item in claim.get("asserts", []):
            subject, predicate, obj = item["fact"] if isinstance(item, dict) else item
            out |= {subject} if predicate in ("startDate", "endDate", "scheduledDate", "jobTitle") else {subject, obj}
    return out


def _isolated(data: Data) -> list[int]:
    """Indexes of claims whose span overlaps no other claim's, with no qualifier words to keep
    inside the quote (so the quote can be cut or changed alone)."""
    spans = [_span(c) for c in data["claims"]]
    out = []
    for i, (start, end) in enumerate(spans):
        claim = data["claims"][i]
        plain = "hedge" not in claim and all(not isinstance(a, dict) for a in claim.get("asserts", []))
        alone = all(e <= start or s >= end for j, (s, e) in enumerate(spans) if j != i)
        if plain and alone:
            out.append(i)
    return out


def _f1(matched: int, gold: int, drafted: int) -> float:
    return 2 * matched / (gold + drafted)


# --------------------------------------------------------------------------- the gold itself


@pytest.mark.parametrize("doc", ["000_08f43cbfc8a050d9", "002_1ed21c23b6fc676c"])
def test_gold_against_itself_is_perfect(doc: str) -> None:
    path = CORPUS / "annotations" / f"{doc}.yaml"
    report = score_draft(path, path)
    assert report.measures() and set(report.measures().values()) == {1.0}
    out = report.to_json()
    assert out["quotes"]["not_verbatim"] == 0 and out["quotes"]["problems"] == []
    assert out["claims"]["gold"] == out["claims"]["matched"] > 0
    assert out["stances"]["gold"] > 0 and out["hedges"]["total"] > 0


def test_the_documented_example_runs() -> None:
    import kg.draft.score

    result = doctest.testmod(kg.draft.score)
    assert result.attempted > 0 and result.failed == 0


# --------------------------------------------------------------------------- perturbations


def test_half_the_claims_dropped(gold: Data, score: Score) -> None:
    draft = copy.deepcopy(gold)
    draft["claims"] = gold["claims"][::2]
    n, kept = len(gold["claims"]), len(draft["claims"])
    report = score(draft)
    moved = _moved(report)
    assert moved["claims.recall"] == pytest.approx(_found(gold, draft) / n) and _found(gold, draft) >= kept
    assert moved["entities.document.recall"] == pytest.approx(len(_named(draft)) / len(_named(gold)))
    for name in ("claims", "entities.document", "stances", "facts"):  # a subset of the gold proposes nothing wrong
        assert f"{name}.precision" not in moved
    assert "quotes.rate" not in moved
    gold_stances, kept_stances = _stances(gold), _stances(draft)
    assert report.stances.triples.recall == pytest.approx(len(kept_stances) / len(gold_stances))
    assert report.stances.triples.precision == 1.0
    assert report.facts.triples.recall == pytest.approx(len(_facts(draft)) / len(_facts(gold)))


def test_one_drafted_sentence_finds_the_claims_cut_from_it(gold: Data, score: Score) -> None:
    outer = max(gold["claims"], key=lambda c: sum(_finds(c, g) for g in gold["claims"]))
    draft = dict(gold, claims=[outer])
    found = _found(gold, draft)
    assert found >= 2, "the gold cuts no sentence into several claims"
    report = score(draft)
    assert (report.claims.matched, report.claims.precision) == (found, 1.0)
    assert report.claims.recall == pytest.approx(found / len(gold["claims"]))


def test_claimants_changed(gold: Data, score: Score) -> None:
    draft = copy.deepcopy(gold)
    by_author = [c for c in draft["claims"] if c["claimant"] == AUTHOR]
    for claim in by_author[:3]:  # the author stays the claimant of others, russia is named elsewhere
        claim["claimant"] = "russia"
    n = len(gold["claims"])
    assert _moved(score(draft)) == pytest.approx({"claimants.rate": (n - 3) / n})


def test_a_quote_cut_below_the_overlap_is_not_found(gold: Data, score: Score) -> None:
    n = len(gold["claims"])
    for i in _isolated(gold):
        quote = gold["claims"][i]["quote"]
        need = -(-len(quote) * OVERLAP_NEEDED // 1)  # the fewest characters that still find it
        short, enough = quote[: int(need) - 1], quote[: int(need)]
        if TEXT.count(short) == 1 and "occurrence" not in gold["claims"][i]:
            break
    else:
        pytest.fail("no claim to cut")
    draft = copy.deepcopy(gold)
    draft["claims"][i]["quote"] = enough
    assert _moved(score(draft)) == {}
    draft["claims"][i]["quote"] = short
    assert _moved(score(draft)) == pytest.approx(
        {"claims.precision": (n - 1) / n, "claims.recall": (n - 1) / n, "claims.f1": _f1(n - 1, n, n)})


def test_a_quote_not_verbatim_is_counted(gold: Data, score: Score) -> None:
    i = _isolated(gold)[0]
    draft = copy.deepcopy(gold)
    draft["claims"][i]["quote"] = gold["claims"][i]["quote"].replace(" ", "  ", 1)
    n = len(gold["claims"])
    report = score(draft)
    assert _moved(report) == pytest.approx({
        "claims.precision": (n - 1) / n, "claims.recall": (n - 1) / n, "claims.f1": _f1(n - 1, n, n),
        "quotes.rate": (n - 1) / n})
    problems = report.to_json()["quotes"]["problems"]
    assert [p["claim"] for p in problems] == [gold["claims"][i]["id"]]
    assert problems[0]["file"].endswith("draft.yaml") and problems[0]["line"] > 1


def test_a_quote_found_twice_without_occurrence_is_not_placed(tmp_path: Path) -> None:
    path = CORPUS / "annotations" / "002_1ed21c23b6fc676c.yaml"
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    twice = next(c for c in data["claims"] if "occurrence" in c)
    del twice["occurrence"]
    report = score_draft(_write(tmp_path, data), path)
    problems = report.to_json()["quotes"]["problems"]
    assert [p["claim"] for p in problems] == [twice["id"]] and "occurs 2 times" in problems[0]["problem"]
    assert report.quotes.total - report.quotes.hits == 1


def test_an_empty_draft_scores_zero_and_not_applicable(gold: Data, score: Score) -> None:
    report = score({"document": DOC, "claims": []})
    assert report.claims.recall == 0.0 and report.claims.f1 == 0.0 and report.claims.precision is None
    assert report.quotes.rate is None and report.claimants.rate is None
    assert report.to_json()["claims"]["precision"] is None
    assert report.stances.triples.recall == 0.0
    claims_row = next(line for line in render_text(report).splitlines() if line.startswith("claims (evidence)"))
    assert claims_row.split()[-3:] == ["n/a", "0.000", "0.000"]


def test_a_claim_hedge_dropped(gold: Data, score: Score) -> None:
    total = score(gold).to_json()["hedges"]
    i = next(i for i, c in enumerate(gold["claims"]) if isinstance(c.get("hedge"), list))
    draft = copy.deepcopy(gold)
    lost = len(draft["claims"][i].pop("hedge"))
    on_claims = total["claims"]["total"]
    assert _moved(score(draft)) == pytest.approx({
        "hedges.rate": (total["total"] - lost) / total["total"],
        "hedges.claims.rate": (on_claims - lost) / on_claims})


def test_a_fact_hedge_dropped(gold: Data, score: Score) -> None:
    draft = copy.deepcopy(gold)
    claim = next(c for c in draft["claims"] for a in c.get("asserts", []) if isinstance(a, dict) and "hedge" in a)
    fact = next(a for a in claim["asserts"] if isinstance(a, dict) and "hedge" in a)
    words = fact.pop("hedge")
    lost = 1 if isinstance(words, str) else len(words)
    triple = tuple(fact["fact"])
    expected = {}
    report = score(gold).to_json()
    for name, kind in (("facts", lambda p: True), ("stances", lambda p: p in STANCES)):
        if kind(triple[1]):
            both = len(_facts(gold, kind))
            expected[f"{name}.qualifiers.hedge.rate"] = expected[f"{name}.qualifiers.all.rate"] = (both - 1) / both
    hedges = report["hedges"]
    expected["hedges.rate"] = (hedges["total"] - lost) / hedges["total"]
    expected["hedges.facts.rate"] = (hedges["facts"]["total"] - lost) / hedges["facts"]["total"]
    assert _moved(score(draft)) == pytest.approx(expected)


def test_a_stance_predicate_swapped(gold: Data, score: Score) -> None:
    draft = copy.deepcopy(gold)
    swap = {"supportedBy": "opposedBy", "opposedBy": "supportedBy", "proposedBy": "opposedBy"}
    for claim in draft["claims"]:
        plain = [j for j, a in enumerate(claim.get("asserts", [])) if isinstance(a, list) and a[1] in swap]
        if plain:
            fact = claim["asserts"][plain[0]]
            fact[1] = swap[fact[1]]
            break
    g_st, d_st, g_all, d_all = _stances(gold), _stances(draft), _facts(gold), _facts(draft)
    assert g_st != d_st
    m_st, m_all = len(g_st & d_st), len(g_all & d_all)
    expected = {
        "stances.precision": m_st / len(d_st), "stances.recall": m_st / len(g_st),
        "stances.f1": _f1(m_st, len(g_st), len(d_st)),
        "facts.precision": m_all / len(d_all), "facts.recall": m_all / len(g_all),
        "facts.f1": _f1(m_all, len(g_all), len(d_all)),
    }
    assert _moved(score(draft)) == pytest.approx({k: v for k, v in expected.items() if v != 1.0})


def test_new_entities_map_onto_the_gold_by_label(gold: Data, score: Score) -> None:
    draft = copy.deepcopy(gold)
    draft["entities"] = [*draft.get("entities", []),
                         {"id": "putin", "kind": "actor", "type": "Person", "label": "vladimir  PUTIN"},
                         {"id": "someone-else", "kind": "actor", "type": "Person", "label": "Someone Else"}]
    draft["draft"] = {"tool": "a drafter", "version": 1, "method": "rules"}
    text = _dump(draft)
    report = score(yaml.load(text.replace("vladimir-putin", "putin"), Loader=yaml.CSafeLoader))
    assert _moved(report) == {}
    assert report.renamed == {"putin": "vladimir-putin"} and report.unmapped == ("someone-else",)
    putin_claims = sum(c["claimant"] == "vladimir-putin" for c in gold["claims"])
    assert putin_claims > 0
    unknown = yaml.load(text.replace("claimant: vladimir-putin", "claimant: someone-else"), Loader=yaml.CSafeLoader)
    n = len(gold["claims"])
    moved = _moved(score(unknown))
    assert moved["claimants.rate"] == pytest.approx((n - putin_claims) / n)


def test_a_draft_may_name_what_the_corpus_declares_without_declaring_it(gold: Data, score: Score) -> None:
    draft = {key: value for key, value in gold.items() if key != "entities"}  # the gold's own, undeclared
    assert _moved(score(draft)) == {}
    draft["claims"] = copy.deepcopy(gold["claims"])
    draft["claims"][0]["about"].append("long-term-ceasefire")  # declared by the other document only
    report = score(draft)
    named = len(_named(gold))
    assert report.unmapped == ("long-term-ceasefire",)
    assert report.entities_document.precision == pytest.approx(named / (named + 1))


# --------------------------------------------------------------------------- the command


def _kg(*args: object) -> Any:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_text_and_json_output(gold: Data, tmp_path: Path) -> None:
    text = _kg("score", GOLD, GOLD)
    assert text.exit_code == 0, text.output
    lines = text.stdout.splitlines()
    row = next(line for line in lines if line.startswith("claims (evidence)"))
    n = str(len(gold["claims"]))
    assert row.split()[-6:] == [n, n, n, "1.000", "1.000", "1.000"]
    assert "at least 50% of its characters" in text.stdout and "quotes not verbatim: 0" in text.stdout
    out = _kg("score", GOLD, GOLD, "--format", "json", "-o", tmp_path / "score.json")
    assert out.exit_code == 0, out.output
    data = json.loads((tmp_path / "score.json").read_text(encoding="utf-8"))
    assert set(data) == {"document", "draft", "gold", "overlap_needed", "claims", "claimants", "entities",
                         "stances", "facts", "hedges", "quotes", "entity_map"}
    assert data["document"] == DOC and data["claims"]["recall"] == 1.0 and data["quotes"]["not_verbatim"] == 0


def test_fail_under(gold: Data, tmp_path: Path) -> None:
    draft = copy.deepcopy(gold)
    draft["claims"] = gold["claims"][::2]
    path = _write(tmp_path, draft)
    under = _kg("score", path, GOLD, "--fail-under", "claims.recall=0.9", "--format", "json")
    assert under.exit_code == 1 and "claims.recall" in under.stderr
    assert json.loads(under.stdout)["claims"]["recall"] < 0.9
    assert _kg("score", path, GOLD, "--fail-under", "claims.precision=1").exit_code == 0
    typo = _kg("score", path, GOLD, "--fail-under", "claims.recal=0.9")
    assert typo.exit_code == 2 and "claims.recall" in typo.stderr


def test_a_document_outside_the_corpus_with_text(gold: Data, tmp_path: Path) -> None:
    moved = dict(gold, document="new-article")
    draft = _write(tmp_path, moved, "draft.yaml")
    gold_file = _write(tmp_path, moved, "gold.yaml")
    (tmp_path / "article.txt").write_text(TEXT, encoding="utf-8")
    missing = _kg("score", draft, gold_file)
    assert missing.exit_code == 2 and "gold.yaml" in missing.stderr and "--text" in missing.stderr
    found = _kg("score", draft, gold_file, "--text", tmp_path / "article.txt", "--format", "json")
    assert found.exit_code == 0, found.output
    assert json.loads(found.stdout)["claims"]["f1"] == 1.0


def test_unusable_input_exits_2_naming_the_file(gold: Data, tmp_path: Path) -> None:
    other = CORPUS / "annotations" / "002_1ed21c23b6fc676c.yaml"
    (tmp_path / "list.yaml").write_text("- just\n- a list\n", encoding="utf-8")
    (tmp_path / "broken.yaml").write_text("document: x\nclaims: [\n", encoding="utf-8")
    bad_claim = copy.deepcopy(gold)
    bad_claim["claims"][3]["claimant"] = "nobody-known"
    bad_created = dict(gold, draft={"tool": "kg draft", "version": "1", "method": "rules", "created": "last week"})
    cases = {
        tmp_path / "absent.yaml": "no such annotation file",
        tmp_path / "list.yaml": "must be a mapping",
        tmp_path / "broken.yaml": "YAML syntax",
        other: "annotates document '002_1ed21c23b6fc676c'",
        _write(tmp_path, bad_claim, "bad-claim.yaml"): "unknown entity 'nobody-known'",
        # a draft: block the build refuses is refused by the scorer too
        _write(tmp_path, bad_created, "bad-created.yaml"): "'created' must be a date and time",
    }
    for path, says in cases.items():
        result = _kg("score", path, GOLD)
        assert result.exit_code == 2, (path, result.output)
        assert f"{path}" in result.stderr and says in result.stderr and "Traceback" not in result.output
    assert re.search(r"broken\.yaml:\d+:\d+: YAML syntax", _kg("score", tmp_path / "broken.yaml", GOLD).stderr)
    as_gold = _kg("score", GOLD, tmp_path / "list.yaml")
    assert as_gold.exit_code == 2 and "list.yaml" in as_gold.stderr
    unplaced = copy.deepcopy(gold)
    unplaced["claims"][0]["quote"] += " (and more)"
    bad_gold = _kg("score", GOLD, _write(tmp_path, unplaced, "bad-gold.yaml"))
    assert bad_gold.exit_code == 2 and "bad-gold.yaml:" in bad_gold.stderr
    assert "the gold's quotes must all be in the document" in bad_gold.stderr
