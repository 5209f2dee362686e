"""Where the ontology, the shapes and the default corpus live.

In an installed package they ship inside ``kg/_data/`` (see ``pyproject.toml``); in a
source checkout they are the top-level ``ontology/``, ``shapes/`` and ``data/``
folders, which stay the one place humans edit.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["ontology_dir", "shapes_dir", "default_corpus_dir", "ontology_file", "shape_files", "check_queries"]

_PACKAGE = Path(__file__).resolve().parent
_SOURCE_ROOT = _PACKAGE.parent


def _locate(packaged: str, source: str) -> Path:
    inside = _PACKAGE / "_data" / packaged
    return inside if inside.is_dir() else _SOURCE_ROOT / source


def ontology_dir() -> Path:
    """The folder of the OWL ontology and its quality checks."""
    return _locate("ontology", "ontology")


def shapes_dir() -> Path:
    """The folder of the SHACL shapes (one Turtle file per concern)."""
    return _locate("shapes", "shapes")


def default_corpus_dir() -> Path:
    """The default corpus: ``documents/`` and ``annotations/`` of the two seed articles."""
    return _locate("corpus", "data")


def ontology_file() -> Path:
    """The ontology's one edit file."""
    return ontology_dir() / "negotiation-kg.ttl"


def shape_files() -> list[Path]:
    """Every shapes file, in a stable order."""
    return sorted(shapes_dir().glob("*.ttl"))


def check_queries() -> list[Path]:
    """The ontology quality checks: SPARQL queries that must return no rows."""
    return sorted((ontology_dir() / "checks").glob("*-violation.rq"))
