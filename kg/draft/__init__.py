"""Draft stage: a new document's text → proposed annotations, and their measure against gold.

An archivist with a new article needs a first draft of what it says (sentences, actors, claims
with their claimants, stances with the text's hedges and conditions, estimates, dates) in the
annotation format of ``data/annotations/``, to correct in a diff and publish with
``kg add-document``. Every quote a drafter proposes is checked verbatim against the text before
it is written. ``score`` measures a draft against curated annotations of the same document.
The scorer is ``score`` (the report and ``kg score``'s function), ``measures`` (counts, entity
mapping, claim alignment by span), ``reading`` (both files read claim by claim by the build's
reader, unplaced quotes counted rather than fatal) and ``score_text`` (the table for people).

May import: the foundations, ``kg.build`` (the annotation format and its reader), ``kg.store``
(the gazetteer of known entities) and ``kg.validation``.
"""
