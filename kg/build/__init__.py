"""Build stage: documents + curated annotations → one named graph per document.

``corpus`` reads the texts and their metadata (fixity checked), ``yamlfile`` and
``annotations`` read the curated YAML and place every quote at its offsets,
``vocabulary`` maps the annotation words onto the ontology, ``rdfize`` turns the result
into RDF, ``dataset`` builds the whole dataset into a store, ``add_document`` adds one
new document through the write stage.

May import: the foundations, ``kg.store``, ``kg.write`` (to commit) and ``kg.validation``.
"""
