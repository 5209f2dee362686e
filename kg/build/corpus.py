"""Read the source documents and their metadata, and check their fixity.

A corpus directory holds ``documents/<id>.txt`` (UTF-8) with ``documents/<id>.yaml``
beside each (title, author, date, sha256) and ``annotations/``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from kg.build.yamlfile import LineDict, line_of, load_yaml
from kg.errors import BuildError, InputError, Location
from kg.iris import is_slug

__all__ = ["Document", "META_KEYS", "document_from_metadata", "load_documents", "read_document", "sha256_hex", "DATE_PATTERN"]

#: YYYY, YYYY-MM or YYYY-MM-DD: the date forms the texts give.
DATE_PATTERN = re.compile(r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$")
META_KEYS = {"id", "title", "author", "datePublished", "language", "sha256"}


def sha256_hex(data: bytes) -> str:
    """The lower-case hex SHA-256 digest of ``data``."""
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Document:
    """One source text and what its metadata file says about it."""

    id: str
    path: Path
    meta_path: Path
    text: str
    sha256: str
    title: str
    author: str | None
    date_published: str | None
    language: str


def read_document(txt: Path, meta_path: Path | None = None) -> Document:
    """One document and its metadata, fixity checked.

    In a corpus the metadata is ``<id>.yaml`` beside ``<id>.txt`` and the id is the file
    stem; a document added on its own (``meta_path`` given) takes its id from the
    metadata's ``id``, defaulting to the stem.
    """
    beside = meta_path is None
    meta_path = txt.with_suffix(".yaml") if meta_path is None else meta_path
    if not txt.is_file():
        raise InputError("no such document file", location=Location(str(txt)))
    if not meta_path.is_file():
        if beside:
            raise BuildError(f"no metadata file {meta_path.name} beside the document", location=Location(str(txt)))
        raise InputError("no such metadata file", location=Location(str(meta_path)))
    return document_from_metadata(txt, load_yaml(meta_path), meta_path, beside=beside)


def document_from_metadata(txt: Path, meta: object, meta_path: Path, *, beside: bool = False) -> Document:
    """One document from its metadata as read (``meta``, from ``meta_path``: a metadata file, or
    the ``metadata:`` block a draft proposes), fixity checked against the text ``txt``."""
    where = Location(str(meta_path), line_of(meta, 1))
    if not isinstance(meta, LineDict):
        raise BuildError("metadata must be a mapping", location=where)
    if not txt.is_file():
        raise InputError("no such document file", location=Location(str(txt)))
    unknown = set(meta) - META_KEYS
    if unknown:
        raise BuildError(f"unknown keys {sorted(unknown)}; allowed: {sorted(META_KEYS)}", location=where)
    raw = txt.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"document is not UTF-8 (byte {exc.start})", location=Location(str(txt))) from None
    digest = sha256_hex(raw)
    doc_id = str(meta.get("id", txt.stem))
    if beside and doc_id != txt.stem:
        raise BuildError(f"id {doc_id!r} must equal the file stem {txt.stem!r} and be a slug", location=where)
    if not is_slug(doc_id):
        raise BuildError(f"id {doc_id!r} is not a slug (lower-case letters, digits, '-' or '_')", location=where)
    if "sha256" in meta and str(meta["sha256"]).lower() != digest:
        raise BuildError(
            f"fixity check failed: {txt.name} has sha256 {digest}, metadata says {meta['sha256']}", location=where
        )
    if "title" not in meta:
        raise BuildError("metadata needs a title", location=where)
    date = meta.get("datePublished")
    if date is not None and not DATE_PATTERN.match(str(date)):
        raise BuildError(f"datePublished {date!r} is not YYYY, YYYY-MM or YYYY-MM-DD", location=where)
    return Document(
        id=doc_id,
        path=txt,
        meta_path=meta_path,
        text=text,
        sha256=digest,
        title=str(meta["title"]),
        author=str(meta["author"]) if meta.get("author") else None,
        date_published=str(date) if date is not None else None,
        language=str(meta.get("language", "en")),
    )


def load_documents(corpus_dir: Path) -> list[Document]:
    """Every document of a corpus, sorted by id."""
    folder = corpus_dir / "documents"
    if not folder.is_dir():
        raise InputError(f"no documents/ folder in corpus {corpus_dir}", location=Location(str(corpus_dir)))
    docs = [read_document(p) for p in sorted(folder.glob("*.txt"))]
    if not docs:
        raise BuildError("the corpus has no documents (*.txt)", location=Location(str(folder)))
    return docs
