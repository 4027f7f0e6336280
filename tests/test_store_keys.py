"""The store's key layout (pure: no server)."""

from __future__ import annotations

from redis.crc import key_slot

from aredis_ckpt._keys import validate_prefix
from aredis_ckpt._store_base import StoreKeys


def test_each_prefix_has_its_own_cluster_slot() -> None:
    prefixes = [f"tenant-{i}" for i in range(64)]
    slots = {key_slot(StoreKeys(validate_prefix(p)).schema) for p in prefixes}
    # one slot per store: 64 prefixes spread over the cluster instead of sharing one slot
    assert len(slots) > 50


def test_the_tag_cannot_collide_with_a_thread_tag_or_another_prefix() -> None:
    a = StoreKeys(validate_prefix("a:b"))
    b = StoreKeys(validate_prefix("a%3Ab"))
    assert a.base == b"a:b:{%Sa%3Ab}:"
    assert b.base == b"a%3Ab:{%Sa%253Ab}:"
    assert a.schema.startswith(b"a:b:") and a.schema.endswith(b":schema")
