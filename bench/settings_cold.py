"""``bench.settings_nocache`` with every memo of content forgotten on every request: the cold reference.

Before each request the process forgets all it memoised of content
(``bench.memos.ForgetEveryMemoMiddleware``: every ``articles.memo.BoundedMemo``, the content parts
and compiled pathways too, and Markdown's rendered text), as a process that has rendered nothing
yet: what a page of content nobody has read since the server started costs. A reference for the
miss rows, with no goal.
"""

from .settings_nocache import *  # noqa: F403
from .settings_nocache import MIDDLEWARE

MIDDLEWARE = ["bench.memos.ForgetEveryMemoMiddleware", *MIDDLEWARE[1:]]
