"""Pages for reading: what a researcher asks of each kind of resource, the indexes of every
kind (``/id/``, ``/id/{kind}/``) and full-text search (``/search``).

:mod:`facts` reads each asserted fact with its quote and qualifiers; :mod:`sections` renders
the reading part of a resource page from them (the raw triples stay in
:mod:`kg.server.linked_data`, folded away); :mod:`indexes` lists the resources of each kind;
:mod:`search_index` keeps a SQLite FTS5 index of labels, aliases and quotes keyed by the
store's version, and :mod:`search` answers ``/search`` from it. Part of the server stage:
imports the store and the foundations, nothing above the server.
"""
