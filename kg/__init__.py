"""negotiation-kg: turn news and analysis articles on diplomatic negotiations into a
SHACL-checked RDF knowledge graph, every fact tied to a verbatim quote in its source,
and publish it through SPARQL."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
