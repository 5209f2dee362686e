"""Validation stage: SHACL validation as a result (a report), never an exception.

``model`` is the report (results, severities), ``check`` validates files, graphs and
stores with :mod:`kg.shacl`, ``sources`` finds the file and line of every result, ``baseline`` the known results, ``render`` the text,
Turtle, JSON, JUnit and GitHub views, ``shapes_check`` refuses ill-formed shapes,
``run`` is ``kg validate`` as one function (CLI and HTTP), ``ontology`` the OWL check.

May import: the foundations, ``kg.shacl`` and ``kg.store``.
"""
