"""Write stage: the one gated write path, change → stage → gate → count → receipt → commit.

``change`` says what a writer wants (a small set of variants), ``gate`` validates the
state a write would produce, ``provenance`` holds the receipt and its record as
``prov:Activity``, ``apply`` runs the named steps, ``update`` turns SPARQL Update into
per-graph changes, ``sparql_update`` runs one from the command line through the guard and the
gate, ``ingest`` streams RDF files in.

May import: the foundations, ``kg.sparql``, ``kg.store``, ``kg.shacl`` and ``kg.validation``.
"""
