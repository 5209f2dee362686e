"""How the jobs of a large validation are packed into groups (:mod:`kg.shacl.scale.packing`).

Each group is loaded into a store of its own: predicates' files by one group only, the
type triples of a class by every group whose jobs read them, within the memory budget.
"""

from __future__ import annotations

from rdflib import URIRef

from kg.shacl.scale.footprint import Reads
from kg.shacl.scale.packing import OTHER, footprints_of, plan_groups, type_key


def test_footprints_follow_the_class_hierarchy() -> None:
    """A job reads the type files of its classes and of every class below them (through
    cycles too); a job reading any class reads every type file."""
    shape = URIRef("http://e/S")
    reads = {
        (shape, 0): Reads(frozenset({"http://e/p"}), frozenset({"http://e/A"})),
        (shape, 1): Reads(frozenset({"http://e/q"}), None),
        (shape, 2): Reads(frozenset({"http://e/r"}), frozenset()),
    }
    names = [type_key(f"http://e/{c}") for c in "ABCDX"] + ["http://e/p"]
    pairs = [("http://e/B", "http://e/A"), ("http://e/C", "http://e/B"), ("http://e/A", "http://e/C"), ("http://e/A", "http://e/X")]
    found = footprints_of(reads, names, pairs)
    assert found[(shape, 0)] == {"http://e/p"} | {type_key(f"http://e/{c}") for c in "ABC"}
    assert found[(shape, 1)] == {"http://e/q"} | {n for n in names if " " in n}
    assert found[(shape, 2)] == {"http://e/r"}


def test_jobs_of_one_class_share_its_type_triples() -> None:
    """Type files may be loaded by several groups: the plan keeps a class's jobs
    together when that loads less, and never mixes them for balance alone."""
    shape = URIRef("http://e/S")
    c, d = type_key("http://e/C"), type_key("http://e/D")
    footprints = {
        (shape, 0): frozenset({"http://e/p0", c}),
        (shape, 1): frozenset({"http://e/p1", c}),
        (shape, 2): frozenset({"http://e/p2", d}),
        (shape, 3): frozenset({"http://e/p3", d}),
    }
    shares = {"http://e/p0": 0.1, "http://e/p1": 0.1, "http://e/p2": 0.1, "http://e/p3": 0.1, c: 0.3, d: 0.3}
    found = plan_groups(footprints, shares, 2)
    assert sorted(sorted(i for _, i in g.jobs) for g in found) == [[0, 1], [2, 3]]
    assert [round(g.share, 6) for g in found] == [0.5, 0.5]


def test_the_largest_groups_fit_the_memory_limit() -> None:
    """On one core, jobs sharing a class are cheapest in one group; a memory limit below
    that group splits them."""
    shape = URIRef("http://e/S")
    c = type_key("http://e/C")
    footprints = {(shape, i): frozenset({f"http://e/p{i}", c}) for i in range(4)}
    shares = {c: 0.3} | {f"http://e/p{i}": 0.1 for i in range(4)}
    (whole,) = plan_groups(footprints, shares, 2, cores=1)
    assert round(whole.share, 6) == 0.7
    split = plan_groups(footprints, shares, 2, cores=1, limit=0.6)
    assert len(split) == 2 and all(g.share <= 0.6 for g in split)
    assert sorted(key for g in split for key in g.jobs) == sorted(footprints)


def test_every_group_counts_the_file_of_other_predicates() -> None:
    """Past PREDICATE_FILES, predicates share one file, which every group loads."""
    footprints = {(URIRef("http://e/S"), 0): frozenset({"http://e/p"}), (URIRef("http://e/S"), 1): frozenset({"http://e/q"})}
    found = plan_groups(footprints, {"http://e/p": 0.05, "http://e/q": 0.05, OTHER: 0.9}, 2)
    assert len(found) == 2 and all(g.share >= 0.95 for g in found)
