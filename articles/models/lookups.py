"""Lookups that make a query's plan independent of what the planner expects a subquery to find."""

from __future__ import annotations

from typing import Any

from django.db.models import Lookup


class AmongIds(Lookup):
    """``id IN (ids)``, which on PostgreSQL is ``id = ANY(ARRAY(ids))``: the ids a subquery found (a search's matches,
    the articles changed since), read once, then each of their rows by index, whatever the planner expects them to
    number.

    As ``IN (subquery)`` the planner weighed a semi-join by its estimate of the ids, and with a few hundred expected
    (an ANALYZE sample holding one matching comment, statistics a busy week old, or simply a few hundred articles
    changed since a partner's last sync) it hashed them and read the whole table to join it: 40,000 audit entries,
    twice, to show 20 (``tests/articles/test_admin_at_scale.py``), 20,000 articles for a page of 200 changed
    (``tests/api/test_plans.py``). ``ARRAY()`` is worked out before the outer scan, so that table is read only by the
    index of the ids."""

    lookup_name = "among_ids"
    prepare_rhs = False

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        template = "%s = ANY(ARRAY%s)" if connection.vendor == "postgresql" else "%s IN %s"
        return template % (lhs, rhs), [*lhs_params, *rhs_params]
