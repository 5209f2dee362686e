"""What every HTML page of the server shares: the page frame, and how an IRI becomes a link.

Resources link to their page here (``/id/…``), the ontology's terms to their section of
``/ontology``, everything else to the IRI itself. Every piece of text is escaped here or by
the caller; nothing from the data reaches a page unescaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from kg.formats import GRAPH_FORMATS
from kg.namespaces import NKG, ONTOLOGY_IRI, PREFIXES, RESOURCE_BASE

__all__ = ["FORMAT_TITLES", "SEARCH_BOX", "SITE_HEADER", "SITE_NAV", "SKIP_LINK", "alternates", "href", "html_page",
           "short", "term_link"]

#: how the pages name the RDF formats
FORMAT_TITLES = {"turtle": "Turtle", "ntriples": "N-Triples", "jsonld": "JSON-LD", "rdfxml": "RDF/XML", "n3": "N3"}

#: the first thing a keyboard reaches on every page: past the header to the page's own content
#: (``<main id=main>``); out of sight until it has the focus (``static/site.css``)
SKIP_LINK = "<a class=skip href=#main>Skip to content</a>"
#: where a reader can go, from every page
SITE_NAV = (
    "<nav aria-label=site><a href=/>query</a> · <a href=/id/>index</a> · "
    "<a href=/views/timeline>timeline</a> · <a href=/views/estimates>estimates</a> · "
    "<a href=/views/stances>stances</a> · <a href=/ontology>ontology</a> · <a href=/shapes>shapes</a> · "
    "<a href=/dumps/>dumps</a> · <a href=/sparql>service description</a> · <a href=/docs>API</a></nav>"
)
#: the search box of the header (the search page has its own, larger one, and leaves this out)
SEARCH_BOX = (
    "<form class=search action=/search method=get role=search><input type=search name=q "
    "aria-label='Search labels, aliases and quotes' placeholder='Search labels, aliases, quotes'>"
    " <button type=submit>Search</button></form>"
)
#: the start of every page, the query page's and the API docs' included (``static/index.html`` and
#: ``static/docs.html`` repeat it; a test holds them equal): the skip link, where a reader can go,
#: and the search box
SITE_HEADER = f"{SKIP_LINK}<header class=site>{SITE_NAV}{SEARCH_BOX}</header>"
#: the same without the search box, for a page whose body holds one
_HEADER_NO_SEARCH = f"{SKIP_LINK}<header class=site>{SITE_NAV}</header>"
#: the stylesheets of every page made here (``site.css``, the header's, is shared with ``/docs``)
_STYLES = ("<link rel=stylesheet href=/static/site.css><link rel=stylesheet href=/static/style.css>"
           "<link rel=stylesheet href=/static/reading.css>")


def short(iri: str) -> str:
    """``prefix:local`` for an IRI in a known namespace, else the IRI."""
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns) and len(iri) > len(ns):
            return f"{prefix}:{iri[len(ns):]}"
    return iri


def href(iri: str) -> str:
    """Where a link to ``iri`` goes: resources to their page here, the ontology's terms to
    their section of ``/ontology``, anything else to the IRI itself."""
    if iri.startswith(RESOURCE_BASE):
        return "/id/" + iri[len(RESOURCE_BASE):]
    if iri.startswith(str(NKG)) or iri == ONTOLOGY_IRI:
        return "/ontology" + iri[len(ONTOLOGY_IRI):]
    return iri


def term_link(iri: str, label: str | None = None, *, title: str | None = None) -> str:
    """An ``<a>`` to ``iri`` showing its label (or its short form)."""
    tip = f' title="{escape(title)}"' if title else ""
    return f'<a href="{escape(href(iri))}"{tip}>{escape(label or short(iri))}</a>'


def html_page(title: str, body: str, *, alternates: Sequence[tuple[str, str, str]] = (),
              search_box: bool = True) -> str:
    """A whole page: navigation, ``<h1>`` title, ``body`` (already HTML); ``alternates`` are
    (title, media type, URL) of the same content in other formats. ``search_box=False`` leaves
    the header's search box out, for a page whose body holds one (one search box a page)."""
    heads = "".join(
        f'<link rel=alternate type="{escape(media)}" href="{escape(url)}" title="{escape(name)}">'
        for name, media, url in alternates
    )
    others = " · ".join(f'<a href="{escape(url)}" type="{escape(media)}">{escape(name)}</a>'
                        for name, media, url in alternates)
    return (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{escape(title)}</title>"
        f"<meta name=viewport content='width=device-width, initial-scale=1'>"
        # no icon to fetch: without this, every page's visit costs a 404 for /favicon.ico
        f"<link rel=icon href='data:,'>{_STYLES}{heads}</head><body>"
        + (SITE_HEADER if search_box else _HEADER_NO_SEARCH)
        + "<main id=main tabindex=-1>"
        f"<h1>{escape(title)}</h1>"
        + (f"<p class=formats>Also as {others}</p>" if others else "")
        + f"{body}</main></body></html>"
    )


def alternates(path: str) -> list[tuple[str, str, str]]:
    """(title, media type, URL) of ``path`` in each RDF format a page links to (``?format=``)."""
    return [(FORMAT_TITLES.get(f.name, f.name), f.media_type, f"{path}?format={f.name}")
            for f in GRAPH_FORMATS if f.name != "n3"]
