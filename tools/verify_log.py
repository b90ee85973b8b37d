#!/usr/bin/env python3
"""Independent verifier of a Docket event log (format docket-eventlog/1).

Reads the LMDB environment with the `lmdb` PyPI binding, following only
schemas/storage.md (it shares no code with Docket): decodes every record, recomputes the
SHA-256 hash chain, and checks the event-id index, the stream index and the stream heads.

Exit status: 0 when everything agrees; 1 when a problem was found (the first bad position
is printed); 2 when the log cannot be opened or the arguments are wrong.
Prints one JSON object on stdout: {"ok", "position", "hash", "events", "streams",
"problems", "firstBadPosition"}.
"""
import argparse
import hashlib
import json
import os
import struct
import sys
import uuid

try:
    import lmdb
except ImportError:  # pragma: no cover - reported to the user
    sys.stderr.write("verify_log.py needs the lmdb package: python3 -m pip install lmdb\n")
    sys.exit(2)

FORMAT_TAG = b"docket-eventlog/1"


class Malformed(Exception):
    pass


def decode(value):
    """Decodes a record (hash || canonical bytes) into a dict."""
    if len(value) < 32 + 1 + 8 + 8 + 16 + 8 + 4:
        raise Malformed("record is %d bytes, too short" % len(value))
    stored_hash, canonical = value[:32], value[32:]
    if canonical[0] != 1:
        raise Malformed("record format %d, expected 1" % canonical[0])
    position, version = struct.unpack_from(">QQ", canonical, 1)
    event_id = uuid.UUID(bytes=bytes(canonical[17:33]))
    recorded_at, schema_version = struct.unpack_from(">qI", canonical, 33)
    offset = 45
    fields = []
    for _ in range(7):
        if offset + 4 > len(canonical):
            raise Malformed("record truncated in its fields")
        (length,) = struct.unpack_from(">I", canonical, offset)
        offset += 4
        if offset + length > len(canonical):
            raise Malformed("record truncated in its fields")
        fields.append(bytes(canonical[offset:offset + length]))
        offset += length
    if offset != len(canonical):
        raise Malformed("record has %d trailing bytes" % (len(canonical) - offset))
    stream, etype, actor, correlation, causation, metadata, payload = fields
    json.loads(payload.decode("utf-8"))
    if not isinstance(json.loads(metadata.decode("utf-8")), dict):
        raise Malformed("metadata is not a JSON object")
    return {
        "hash": bytes(stored_hash), "canonical": bytes(canonical), "position": position,
        "version": version, "id": event_id, "recordedAt": recorded_at,
        "schemaVersion": schema_version, "stream": stream.decode("utf-8"),
        "type": etype.decode("utf-8"), "actor": actor.decode("utf-8"),
        "correlationId": correlation.decode("utf-8") or None,
        "causationId": causation.decode("utf-8") or None,
    }


def be64(n):
    return struct.pack(">Q", n)


def verify(path):
    if not os.path.exists(os.path.join(path, "data.mdb")):
        raise SystemExit("no Docket event log in %s (no data.mdb)" % path)
    env = lmdb.open(path, readonly=True, lock=True, max_dbs=64, subdir=True)
    problems = []

    def problem(position, kind, message):
        problems.append({"position": position, "kind": kind, "message": message})

    with env.begin() as txn:
        meta = env.open_db(b"meta", txn=txn, create=False)
        tag = txn.get(b"format", db=meta)
        if tag != FORMAT_TAG:
            problem(None, "format", "meta format is %r, expected %r" % (tag, FORMAT_TAG))
        events = env.open_db(b"events", txn=txn, create=False)
        ids = env.open_db(b"event_ids", txn=txn, create=False)
        index = env.open_db(b"stream_index", txn=txn, create=False)
        heads = env.open_db(b"streams", txn=txn, create=False)

        prev = bytes(32)
        expected = 1
        streams = {}
        count = 0
        last_time = None
        for key, value in txn.cursor(db=events):
            count += 1
            position = struct.unpack(">Q", key)[0] if len(key) == 8 else -1
            if position != expected:
                problem(expected, "gap", "expected position %d, found key %d" % (expected, position))
            expected = position + 1
            if len(value) <= 32:
                problem(position, "undecodable", "record too short")
                continue
            stored, canonical = bytes(value[:32]), bytes(value[32:])
            if hashlib.sha256(prev + canonical).digest() != stored:
                problem(position, "hash-mismatch", "chain hash does not match SHA-256(previous || record)")
            prev = stored
            try:
                e = decode(value)
            except (Malformed, ValueError, UnicodeDecodeError) as err:
                problem(position, "undecodable", str(err))
                continue
            if e["position"] != position:
                problem(position, "position-mismatch", "record says position %d" % e["position"])
            want = streams[e["stream"]][0] + 1 if e["stream"] in streams else 0
            if e["version"] != want:
                problem(position, "stream-version", "stream %s version %d, expected %d" % (e["stream"], e["version"], want))
            streams[e["stream"]] = (e["version"], position)
            if last_time is not None and e["recordedAt"] < last_time:
                problem(position, "recorded-at", "recordedAt goes backwards")
            last_time = e["recordedAt"]
            if txn.get(e["id"].bytes, db=ids) != be64(position):
                problem(position, "event-id-index", "event id %s not indexed at %d" % (e["id"], position))
            ikey = e["stream"].encode("utf-8") + b"\x00" + be64(e["version"])
            if txn.get(ikey, db=index) != be64(position):
                problem(position, "stream-index", "stream index %s@%d does not point at %d" % (e["stream"], e["version"], position))
        if txn.stat(ids)["entries"] != count:
            problem(None, "index-count", "event id index has %d entries for %d events" % (txn.stat(ids)["entries"], count))
        if txn.stat(index)["entries"] != count:
            problem(None, "index-count", "stream index has %d entries for %d events" % (txn.stat(index)["entries"], count))
        seen = 0
        for key, value in txn.cursor(db=heads):
            seen += 1
            name = bytes(key).decode("utf-8")
            version, last = struct.unpack(">QQ", value)
            if streams.get(name) != (version, last):
                problem(last, "stream-head", "stream %s head (%d, %d) disagrees with the log %r" % (name, version, last, streams.get(name)))
        if seen != len(streams):
            problem(None, "stream-head", "%d stream heads for %d streams" % (seen, len(streams)))
    bad = [p["position"] for p in problems if p["position"] is not None]
    return {
        "ok": not problems, "position": count, "hash": prev.hex(), "events": count,
        "streams": len(streams), "problems": problems[:100], "problemCount": len(problems),
        "firstBadPosition": min(bad) if bad else None,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=os.environ.get("DOCKET_DATA_DIR", "./docket-data"),
                        help="the Docket data directory (default: $DOCKET_DATA_DIR or ./docket-data)")
    args = parser.parse_args()
    try:
        report = verify(args.data_dir)
    except SystemExit as err:
        sys.stderr.write("verify_log.py: %s\n" % err)
        return 2
    except lmdb.Error as err:
        sys.stderr.write("verify_log.py: cannot read %s: %s\n" % (args.data_dir, err))
        return 2
    print(json.dumps(report, sort_keys=True))
    if not report["ok"]:
        sys.stderr.write("verify_log.py: %d problem(s); first bad position %s\n" % (report["problemCount"], report["firstBadPosition"]))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
