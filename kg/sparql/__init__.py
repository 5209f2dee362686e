"""Reading SPARQL text: one lexer for every place that looks inside a query or an update.

The guard that refuses ``SERVICE``/``LOAD`` to unknown hosts, the rewriting of updates
(``USING`` clauses), the SHACL engine (pre-binding, joinability) all need to know what is
a string, an IRI or a comment; they ask :mod:`kg.sparql.lexer`, so they cannot disagree.
The same tokens say what is wrong with a query that does not parse (:mod:`kg.sparql.explain`)
and in which order a query names its columns (:mod:`kg.sparql.results`, which also writes
results the way ``kg query`` prints them).

May import: the foundations (``kg.errors``, ``kg.namespaces``, ``kg.formats``) only.
"""
