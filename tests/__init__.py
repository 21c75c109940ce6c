"""fleetreg's test suite: a package, so test modules import their helpers as ``tests.support.*``.

The helpers of ``tests.support`` assert (``assert_problem``, ``assert_invariants``, ...). pytest rewrites
the asserts of test modules and conftests by itself, not those of other modules of the package: the
support package is registered here, before anything can import it, so that a failed assert in a
helper shows its values as one in a test does.
"""

import pytest

pytest.register_assert_rewrite("tests.support")
