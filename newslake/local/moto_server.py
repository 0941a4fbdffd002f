"""The moto server of the local platform: stock moto, with two fixes to its Kinesis shard.

``python -m newslake.local.moto_server -H 127.0.0.1 -p 5055`` takes moto's own arguments.

moto 5's ``Shard`` finds the next sequence number by listing every record it holds, and
reads by scanning from the first record, so each ``PutRecords`` and ``GetRecords`` costs
more the longer the server runs; and two requests writing to one shard at once (the
server answers each in a thread) can both take the same sequence number, so one record is
acknowledged and then overwritten. Within a shard moto numbers records 1, 2, 3, ... and
never removes one, so the patched shard keeps the same numbers and answers in O(1) per
record, under a lock. Nothing else changes: the AWS profile never runs this module.
"""

from __future__ import annotations

import sys
import threading
from typing import Any

_patched = False


def patch_kinesis() -> None:
    """Replace ``moto.kinesis.models.Shard``'s record methods (idempotent)."""
    global _patched
    if _patched:
        return
    from moto.kinesis.models import Record, Shard

    lock = threading.Lock()

    def put_record(self: Any, partition_key: str, data: str, explicit_hash_key: str) -> str:
        with lock:
            sequence_number = _last(self) + 1
            self.records[sequence_number] = Record(
                partition_key, data, sequence_number, explicit_hash_key
            )
        return str(sequence_number)

    def get_records(
        self: Any, last_sequence_id: str, limit: int | None
    ) -> tuple[list[Any], int, int]:
        last = int(last_sequence_id)
        if not self.records:
            return [], last, 0
        wanted = max(last + 1, next(iter(self.records)))
        results = []
        while wanted in self.records and (limit is None or len(results) < limit):
            results.append(self.records[wanted])
            wanted += 1
        if not results:
            return [], last, 0
        newest = self.records[_last(self)]
        behind_ms = int((newest.created_at - results[-1].created_at) * 1000)
        return results, results[-1].sequence_number, behind_ms

    def get_min_sequence_number(self: Any) -> int:
        return next(iter(self.records)) if self.records else 0

    Shard.put_record = put_record
    Shard.get_records = get_records
    Shard.get_min_sequence_number = get_min_sequence_number
    Shard.get_max_sequence_number = _last
    _patched = True


def _last(shard: Any) -> int:
    return next(reversed(shard.records)) if shard.records else 0


def main(argv: list[str] | None = None) -> None:
    from moto import server

    patch_kinesis()
    server.main(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    main()
