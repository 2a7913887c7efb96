"""``BoundedMemo``: values kept by key, within a bound on the characters held, least recently used out first."""

from __future__ import annotations

from articles.memo import BoundedMemo


def test_put_keeps_the_first_value_of_a_key_and_replace_the_latest():
    memo = BoundedMemo(100)
    memo.put("a", "first", 10)
    memo.put("a", "second", 10)  # a value that never changes: kept once
    assert memo.get("a") == "first"
    memo.replace("a", "latest", 30)
    assert memo.get("a") == "latest"
    assert memo._chars == 30


def test_a_replacement_too_large_to_keep_drops_what_was_kept():
    memo = BoundedMemo(100)
    memo.put("a", "old guess", 10)
    memo.replace("a", "new guess", 1_000)
    assert memo.get("a") is None
    assert memo._chars == 0


def test_the_bound_holds_through_replacements():
    memo = BoundedMemo(100)
    for n in range(50):
        memo.replace(n % 3, n, 40)
    assert memo._chars <= 100
    assert memo.get(49 % 3) == 49
