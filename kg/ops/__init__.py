"""Operations around a store: write tokens, backup and restore, the control channel of a
running server, and command-line writes made through that channel when the server holds the
store (:mod:`kg.ops.writes`).

May import: the foundations, ``kg.store``, and for the writes it carries ``kg.write``,
``kg.build``, ``kg.validation`` and ``kg.sparql``.
"""
