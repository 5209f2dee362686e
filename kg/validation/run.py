"""``kg validate`` as one function: data (files, folders or a store) and shapes in, a located
report out, the baseline applied.

The command line and the HTTP ``/validate`` route call :func:`run_validation`, so a report
means the same wherever it was asked for: the project's shapes and ontology unless shapes
are given, results placed at the file and line of their triple, known results marked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from kg.resources import ontology_file
from kg.store.base import Store
from kg.validation.baseline import apply_baseline, fingerprint, read_baseline, write_baseline
from kg.validation.check import load_shapes, validate_files, validate_graph, validate_store
from kg.validation.model import ValidationReport
from kg.validation.shapes_check import prepare_shapes, shapes_errors
from kg.validation.sources import expand_inputs, locate_in_files, read_located

__all__ = ["ValidationRequest", "run_validation"]


@dataclass(frozen=True)
class ValidationRequest:
    """What to validate and against what.

    ``data``: RDF files and folders (every RDF file inside); empty means the store.
    ``shapes``: shapes files and folders; empty means the project's shapes (the data is
    then read with the project's ontology, whose class hierarchy the shapes target through).
    ``baseline``: a file of known results, reported but not failing the run.
    ``write_baseline``: record every result of this run there (and accept them for this run).
    """

    data: Sequence[Path] = ()
    shapes: Sequence[Path] = ()
    baseline: Path | None = None
    write_baseline: Path | None = None
    #: the memory budget of an in-memory validation (``validate_memory_mb``)
    memory_mb: int | None = None
    #: let a forked twin share the checks of large files (``validate_twin``)
    twin: bool = False


def run_validation(request: ValidationRequest, *, store: Store | None = None) -> ValidationReport:
    """Validate as ``request`` says (the ``store`` when it names no data).

    Raises :class:`~kg.errors.InputError` for unusable input: data or a baseline that cannot
    be read (file:line:column), shapes that are not valid SHACL (file and line of the rule).
    """
    known = read_baseline(request.baseline) if request.baseline is not None else None
    if request.shapes:
        shapes, shapes_index = read_located(request.shapes)
        shapes = prepare_shapes(shapes, shapes_index)
    else:
        shapes = load_shapes()
    if request.data:
        files = expand_inputs(request.data)
        loaded = files if request.shapes else [*files, ontology_file()]
        with shapes_errors(request.shapes):
            report = validate_files(loaded, shapes, memory_mb=request.memory_mb, twin=request.twin)
        report = locate_in_files(report, files)
    else:
        if store is None:
            raise ValueError("no data files and no store to validate")
        with shapes_errors(request.shapes):
            raw = store.validation_store()
            # a remote store: its union, copied here
            report = validate_store(raw, shapes) if raw is not None else validate_graph(store.union_graph(), shapes)
    if request.write_baseline is not None:
        write_baseline(report, request.write_baseline)
        return apply_baseline(report, frozenset(fingerprint(r) for r in report.results))
    if known is not None:
        return apply_baseline(report, known)
    return report
