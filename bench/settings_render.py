"""``bench.settings_nocache`` without the stored article pages: the miss with the page rendered again.

Each request misses the shared cache and the process's page memos (as on the miss server) and finds
no stored page (``STORED_ARTICLE_PAGES`` off), so the article page is rendered again from what is
live, with a submitted revision's content parts and Markdown's HTML memoised: what the miss rows
measured before pages were stored, and what storing a page costs once each time what it shows
changes. Its rows are references with no goal beside the miss rows, but for the 30-section page
against the demo one: the issue's "costs at most twice as much" is about rendering.
"""

from .settings_nocache import *  # noqa: F403

STORED_ARTICLE_PAGES = False
