"""``bench.settings`` with the page caches missing on every request: the shared cache and the per-process page memos.

Clearing the cache between requests is impossible under wrk's load, and the app's code is not
the bench's to change, so the miss cases run on a second gunicorn with these settings: a cache
that never hits (``DummyCache``), and, first in the middleware, the forgetting of every response
the process kept whole (``bench.memos.ForgetPageMemosMiddleware``: the rendered pages by ETag and
the early answers). What such a miss reads is the article's stored page (``articles.StoredPage``,
rendered once when what it shows changed, one indexed query), as a miss of the shared cache does in
production. ``bench.settings_render`` turns the stored pages off, so each request renders its page
from what is live: a submitted revision's rendered content parts and Markdown's HTML stay memoised
there (not rendering unchanged content again is what issue 9 asks for). ``bench.settings_cold``
forgets those too.

The shared cache misses for everything, so the live identity (``articles.live``) is worked out
from the database too, once a request (the early answer's validators and the view share it): as
the first request after a publication costs, when both the identity and the page are new.
"""

from .settings import *  # noqa: F403
from .settings import MIDDLEWARE

CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}

# First: before the early answer (and the partner API's own list, which a request reaches through it) reads a memo.
MIDDLEWARE = ["bench.memos.ForgetPageMemosMiddleware", *MIDDLEWARE]

# The miss rows say they read the stored page: whatever the environment the bench was started with says.
STORED_ARTICLE_PAGES = True
