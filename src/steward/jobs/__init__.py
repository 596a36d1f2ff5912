"""Background work: timers stored in the database, fired exactly once by one loop.

A timer is a row (``timers``): a kind, a unique key, a due time and a payload.
Domains register a handler per kind (:func:`steward.jobs.timers.register`) and
schedule timers in their own transactions; the loop of every ``steward serve``
process and every ``steward worker`` fires the due ones (:mod:`steward.jobs.loop`).
"""
