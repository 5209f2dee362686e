"""The two blocks a drafted annotation file carries besides its claims.

``kg draft`` writes an annotation file that ``kg add-document`` publishes unchanged. Besides
the usual keys it holds:

* ``draft:`` — that a program drafted the file: ``tool``, ``version``, ``method`` (``rules``,
  ``spacy:<pipeline>``, ``openai:<model>``), ``created``, and ``not-found`` (what the drafter
  looked for and could not find: a date, an author…). The document's graph then says it was
  drafted (:mod:`kg.build.rdfize`), so drafted facts never pass for curated ones. A curator who
  has reviewed every claim removes the block.
* ``metadata:`` (at the top level; inside the ``draft:`` block is read too) — the
  document's metadata as the drafter read it from the text (title, author, datePublished,
  language, sha256), the keys of a metadata file. ``kg add-document`` without ``--meta``
  takes it when there is no ``<text>.yaml`` beside the text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kg.build.fields import datetime_field, require_mapping, str_field, str_list_field
from kg.build.model import DraftInfo
from kg.build.yamlfile import LineDict, line_of
from kg.errors import BuildError, Location

__all__ = ["DRAFT_KEYS", "draft_info", "metadata_block"]

#: the keys of a ``draft:`` block
DRAFT_KEYS = {"tool", "version", "method", "created", "not-found", "metadata"}


def draft_info(node: Any, file: Path) -> DraftInfo | None:
    """The ``draft:`` block of an annotation file as :class:`DraftInfo` (``None`` without one).
    Its fields are checked as every field of the file is (:mod:`kg.build.fields`): a value the
    graph could not record as written (a ``created`` that is no date and time) is an error at
    ``file:line``, never dropped."""
    if node is None:
        return None
    block = require_mapping(node, file, "'draft' (tool, version, method, created)", DRAFT_KEYS)
    what = "'draft'"
    tool, version, method = (str_field(block, key, file, what) for key in ("tool", "version", "method"))
    str_list_field(block, "not-found", file, what)
    return DraftInfo(tool, version, method, datetime_field(block, "created", file, what))


def metadata_block(file: Path, data: Any) -> LineDict | None:
    """The ``metadata:`` block of the annotation file ``file`` as read (``data``, which the
    annotation reader takes too, so the file is parsed once): top level, else in its ``draft:``
    block; ``None`` when it has none."""
    if not isinstance(data, LineDict):
        return None
    block = data.get("metadata")
    if block is None and isinstance(data.get("draft"), LineDict):
        block = data["draft"].get("metadata")
    if block is not None and not isinstance(block, LineDict):
        raise BuildError("'metadata' must be a mapping (title, author, datePublished, …)",
                         location=Location(str(file), line_of(data, None)))
    return block
