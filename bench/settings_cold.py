"""``bench.settings_render`` with every memo of content forgotten on every request: the cold reference.

Before each request the process forgets all it memoised of content
(``bench.memos.ForgetEveryMemoMiddleware``: every ``articles.memo.BoundedMemo``, the content parts
and compiled pathways too, and Markdown's rendered text), as a process that has rendered nothing
yet, and reads no stored page: what a page of content nobody has read since the server started
costs when nothing was kept at all. A reference for the miss rows, with no goal.
"""

from .settings_render import *  # noqa: F403
from .settings_render import MIDDLEWARE

MIDDLEWARE = ["bench.memos.ForgetEveryMemoMiddleware", *MIDDLEWARE[1:]]

# Nothing kept: no stored page either (as ``bench.settings_render``, said here too because it is what "cold" means).
STORED_ARTICLE_PAGES = False
