"""Helpers shared by the test modules (fixtures live in the conftest.py files, not here).

- ``tests.support.app``: the one place that knows the app's internals (its lifespan, ASGI client,
  ``app.state``); tests reach the app's database, token service or routes through it.
- ``tests.support.auth``: ``ApiClient``, scope strings, ``claims_for``.
- ``tests.support.database``: server options, database URLs, a database of its own for wider fixtures.
- ``tests.support.fleet``: ``Fleet`` (creates fleet resources through the API), valid identifiers.
- ``tests.support.invariants``: the association invariants and the exact counter tables.
- ``tests.support.partner``: ``Partner`` (a partner's client), connector rows and counts.
- ``tests.support.problems``: ``assert_problem`` and ``assert_bad_request`` for RFC 9457 answers.
- ``tests.support.processes``: the CLI as a user runs it, ``fleetreg serve`` in a subprocess.
- ``tests.support.waiting``: waiting on a condition with a deadline instead of sleeping.
"""
