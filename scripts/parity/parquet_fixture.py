"""The same labeled table written twice, as Parquet (pyarrow) and as JSONL, for the Parquet source's tests.

Columns: text (string, sometimes null), tags (list of strings: multi-label, sometimes empty),
ts (timestamp in milliseconds), score (float64), stars (int64 class ids, as Hugging Face
datasets store labels), region (dictionary-encoded string), user
(struct with an int age), and blob (binary, a type Stratum does not read: it must not matter
unless asked for). JSONL holds what a JSONL writer writes for each row: times in seconds.
Usage: parquet_fixture.py OUT_DIR ROWS ROW_GROUP_SIZE
Writes OUT_DIR/table.parquet and OUT_DIR/table.jsonl.
"""
import datetime
import json
import sys

import pyarrow as pa
import pyarrow.parquet as pq


def main():
    out, rows, group = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    epoch = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    records = []
    for i in range(rows):
        tags = [["ham"], ["spam"], ["spam", "urgent"]][i % 3]
        if i % 97 == 13:
            tags = []  # no label: rejected
        records.append({
            "text": None if i % 89 == 7 else f"message {i} " + "é" * (i % 5),  # null text: rejected
            "tags": tags,
            "ts": epoch + datetime.timedelta(milliseconds=1500 * i),
            "score": (i % 17) / 4.0,
            "stars": 1 + i % 5,
            "region": ["north", "south", "east"][i % 3 if i % 5 else 0],
            "user": {"age": 20 + i % 50},
            "blob": bytes([i % 256, 0, 255]),
        })
    table = pa.table({
        "text": pa.array([r["text"] for r in records], pa.string()),
        "tags": pa.array([r["tags"] for r in records], pa.list_(pa.string())),
        "ts": pa.array([r["ts"] for r in records], pa.timestamp("ms", tz="UTC")),
        "score": pa.array([r["score"] for r in records], pa.float64()),
        "stars": pa.array([r["stars"] for r in records], pa.int64()),
        "region": pa.array([r["region"] for r in records], pa.string()).dictionary_encode(),
        "user": pa.array([r["user"] for r in records], pa.struct([("age", pa.int32())])),
        "blob": pa.array([r["blob"] for r in records], pa.binary()),
    })
    pq.write_table(table, f"{out}/table.parquet", row_group_size=group)
    with open(f"{out}/table.jsonl", "w", encoding="utf-8") as f:
        for r in records:
            row = dict(r, ts=r["ts"].timestamp())
            del row["blob"]
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
