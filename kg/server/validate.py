"""``POST /validate``: RDF in, a SHACL report out, nothing stored.

What ``kg validate FILE`` does, over HTTP: the body is RDF in any format the store reads
(``Content-Type`` says which), validated against the project's shapes and ontology by
:func:`kg.validation.run.run_validation` — the function behind the command, so the report
means the same — and answered in the format ``Accept`` or ``format=`` asks for: ``json``
(the default), ``turtle`` (a W3C ``sh:ValidationReport``), ``junit``, ``text`` or ``github``.

Non-conformance is a result, not an error: the answer is 200 either way, with the header
``X-SHACL-Conforms: true|false`` for clients that only need the verdict. Bodies are spooled to
a temporary file as the Graph Store's are (:func:`kg.server.bodies.spool_body`: never past
``max_body_bytes``, 413; named so a later server removes it if this one is killed), and deleted
afterwards; results and errors name the body, never that file. Reads are open unless
``read_token_required``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from kg.config import Settings
from kg.errors import InputError, Location
from kg.formats import choose_format, rdf_format_of_body
from kg.server.bodies import spool_body
from kg.validation.model import ValidationReport
from kg.validation.render import RENDERERS
from kg.validation.run import ValidationRequest, run_validation

__all__ = ["REPORT_MEDIA_TYPES", "router"]

router = APIRouter()

_BODY = "request body"
#: report format → the media type it is sent as (negotiated in this order of preference)
REPORT_MEDIA_TYPES: dict[str, str] = {
    "json": "application/json",
    "turtle": "text/turtle",
    "junit": "application/xml",
    "text": "text/plain",
    "github": "text/x-github-workflow-commands",
}


def _report_format(request: Request) -> str:
    """``format=`` when given (a name of :data:`REPORT_MEDIA_TYPES`), else what Accept prefers."""
    asked = parse_qs(request.url.query).get("format", [])
    return choose_format(asked[0] if asked else None, request.headers.get("accept"), REPORT_MEDIA_TYPES,
                         what="the report")


def _as_body(report: ValidationReport, path: Path) -> ValidationReport:
    """Results placed in the temporary file, placed in the request body instead."""
    results = [dataclasses.replace(r, source_file=_BODY) if r.source_file == str(path) else r for r in report.results]
    return dataclasses.replace(report, results=results)


def _validate(path: Path, settings: Settings) -> ValidationReport:
    try:
        report = run_validation(ValidationRequest(data=[path], memory_mb=settings.validate_memory_mb))
    except InputError as exc:
        where = exc.location
        if where is not None and where.file == str(path):
            exc.location = Location(_BODY, where.line, where.column)
        exc.message = exc.message.replace(str(path), _BODY).replace(path.name, _BODY)
        raise
    return _as_body(report, path)


@router.post("/validate", summary="Validate RDF against the shapes (nothing is stored)")
async def validate(request: Request) -> Response:
    """The SHACL report of the RDF body, in the format Accept or ``format=`` asks for (JSON by
    default); 200 whether it conforms or not (``X-SHACL-Conforms``), 400 for RDF that does not
    parse, 413 over ``max_body_bytes``, 415 for a body that is not RDF."""
    settings: Settings = request.app.state.settings
    fmt = rdf_format_of_body(request.headers.get("content-type"))
    report_format = _report_format(request)
    path, _ = await spool_body(request, settings.max_body_bytes, suffix=f".{fmt.extension}", allow_empty=True)
    try:
        report = await run_in_threadpool(_validate, path, settings)
    finally:
        path.unlink(missing_ok=True)
    media = REPORT_MEDIA_TYPES[report_format]
    return Response(RENDERERS[report_format](report), media_type=media + ("" if "json" in media else "; charset=utf-8"),
                    headers={"X-SHACL-Conforms": "true" if report.conforms else "false"})
