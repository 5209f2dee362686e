"""How the SHACL engine scales: worker processes and twins, predicate groups for large
N-Triples, the packing of jobs into groups, the footprint of a query (what it reads), and
line files read in byte ranges.

May import: the foundations and the engine's own modules in ``kg.shacl``.
"""
