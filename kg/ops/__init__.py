"""Operations around a store: write tokens, backup and restore, the control channel of a
running server.

May import: the foundations and ``kg.store``.
"""
