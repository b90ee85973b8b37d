/* Shared helpers of the floor programs (tools/floors): Docket's storage layout
 * (schemas/storage.md) written with plain LMDB calls, nothing else.
 *
 * A record is what Docket stores under a position in `events`: 32 bytes of chain hash
 * followed by the canonical bytes (format, position, stream version, event id, recordedAt,
 * schema version, then seven length-prefixed fields). The floors fill the hash with
 * pseudo-random bytes instead of computing SHA-256: they bound the storage work only. */
#ifndef DOCKET_FLOOR_H
#define DOCKET_FLOOR_H
#include <lmdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline double floor_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

#define CHECK(expr) do { int rc_ = (expr); if (rc_ != 0) { \
    fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #expr, mdb_strerror(rc_)); exit(1); } } while (0)

static inline void be64(uint8_t *p, uint64_t v) { for (int i = 7; i >= 0; i--) { p[i] = (uint8_t)v; v >>= 8; } }
static inline void be32(uint8_t *p, uint32_t v) { for (int i = 3; i >= 0; i--) { p[i] = (uint8_t)v; v >>= 8; } }
static inline uint64_t rd64(const uint8_t *p) { uint64_t v = 0; for (int i = 0; i < 8; i++) v = v << 8 | p[i]; return v; }

static inline uint64_t splitmix(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* A random (version 4) UUID's 16 bytes. */
static inline void random_uuid(uint8_t id[16], uint64_t *rng) {
    uint64_t a = splitmix(rng), b = splitmix(rng);
    memcpy(id, &a, 8); memcpy(id + 8, &b, 8);
    id[6] = (id[6] & 0x0f) | 0x40; id[8] = (id[8] & 0x3f) | 0x80;
}

/* Encodes a record; returns its length. `payload_len` bytes of 'x' inside {"text":"..."}. */
static inline size_t encode_record(uint8_t *out, uint64_t position, uint64_t version, const uint8_t id[16],
                                   const char *stream, const char *type, size_t payload_len, uint64_t *rng) {
    uint8_t *p = out;
    for (int i = 0; i < 4; i++) { uint64_t r = splitmix(rng); memcpy(p, &r, 8); p += 8; } /* stand-in for the chain hash */
    *p++ = 1;
    be64(p, position); p += 8;
    be64(p, version); p += 8;
    memcpy(p, id, 16); p += 16;
    struct timespec ts; clock_gettime(CLOCK_REALTIME, &ts);
    be64(p, (uint64_t)ts.tv_sec * 1000000u + ts.tv_nsec / 1000); p += 8;
    be32(p, 1); p += 4;
    const char *fields[6] = { stream, type, "", "", "", "{}" };
    for (int f = 0; f < 6; f++) {
        size_t n = strlen(fields[f]);
        be32(p, (uint32_t)n); p += 4; memcpy(p, fields[f], n); p += n;
    }
    be32(p, (uint32_t)(payload_len + 11)); p += 4;
    memcpy(p, "{\"text\":\"", 9); p += 9;
    memset(p, 'x', payload_len); p += payload_len;
    memcpy(p, "\"}", 2); p += 2;
    return (size_t)(p - out);
}

/* The log's databases as Docket opens them. */
typedef struct { MDB_dbi events, stream_index, streams, event_ids, meta; } log_dbs;

static inline MDB_env *open_env(const char *dir, unsigned flags) {
    MDB_env *env;
    CHECK(mdb_env_create(&env));
    CHECK(mdb_env_set_maxdbs(env, 64));
    CHECK(mdb_env_set_mapsize(env, (size_t)64 << 30));
    CHECK(mdb_env_open(env, dir, MDB_NOTLS | flags, 0644));
    return env;
}

static inline log_dbs open_log_dbs(MDB_env *env) {
    log_dbs d; MDB_txn *t;
    CHECK(mdb_txn_begin(env, NULL, 0, &t));
    CHECK(mdb_dbi_open(t, "events", MDB_CREATE, &d.events));
    CHECK(mdb_dbi_open(t, "stream_index", MDB_CREATE, &d.stream_index));
    CHECK(mdb_dbi_open(t, "streams", MDB_CREATE, &d.streams));
    CHECK(mdb_dbi_open(t, "event_ids", MDB_CREATE, &d.event_ids));
    CHECK(mdb_dbi_open(t, "meta", MDB_CREATE, &d.meta));
    MDB_val k = { 6, "format" }, v = { 17, "docket-eventlog/1" };
    CHECK(mdb_put(t, d.meta, &k, &v, 0));
    CHECK(mdb_txn_commit(t));
    return d;
}

/* Index layouts the floors can write besides the record in `events`. */
enum layout {
    LAYOUT_RECORD,      /* `events` only */
    LAYOUT_INDEXED,     /* `events`, `stream_index`, `streams`, `event_ids` keyed by random UUID (Docket today) */
    LAYOUT_SEQ_IDS,     /* the same, but the id key is position-ordered (8-byte position ‖ 8 random bytes) */
    LAYOUT_NO_IDS,      /* `events`, `stream_index`, `streams`; no `event_ids` */
    LAYOUT_IDS_ONLY,    /* `events` and `event_ids` (random UUID keys); no stream indexes */
};

static inline int parse_layout(const char *s) {
    if (!strcmp(s, "record")) return LAYOUT_RECORD;
    if (!strcmp(s, "indexed")) return LAYOUT_INDEXED;
    if (!strcmp(s, "seq-ids")) return LAYOUT_SEQ_IDS;
    if (!strcmp(s, "no-ids")) return LAYOUT_NO_IDS;
    if (!strcmp(s, "ids-only")) return LAYOUT_IDS_ONLY;
    fprintf(stderr, "layout must be record, indexed, seq-ids, no-ids or ids-only, not %s\n", s);
    exit(64);
}

/* Appends one event to `stream` at `position` inside `txn`, as Docket does: the stream's
 * next version is read from `streams`, then the record and the layout's index entries are
 * put. `id` is filled with the event id used. */
static inline void append_event(MDB_txn *txn, const log_dbs *d, int layout, uint64_t position, const char *stream,
                                const char *type, size_t payload_len, uint64_t *rng, uint8_t *buf) {
    size_t slen = strlen(stream);
    uint64_t version = 0;
    MDB_val sk = { slen, (void *)stream }, sv;
    if (layout != LAYOUT_RECORD && layout != LAYOUT_IDS_ONLY) {
        int rc = mdb_get(txn, d->streams, &sk, &sv);
        if (rc == 0) version = rd64(sv.mv_data) + 1; else if (rc != MDB_NOTFOUND) CHECK(rc);
    }
    uint8_t id[16];
    random_uuid(id, rng);
    if (layout == LAYOUT_SEQ_IDS) be64(id, position);
    uint8_t pos[8]; be64(pos, position);
    size_t n = encode_record(buf, position, version, id, stream, type, payload_len, rng);
    MDB_val k = { 8, pos }, v = { n, buf };
    CHECK(mdb_put(txn, d->events, &k, &v, MDB_APPEND));
    if (layout == LAYOUT_RECORD) return;
    MDB_val pv = { 8, pos };
    if (layout != LAYOUT_IDS_ONLY) {
        uint8_t ik[300];
        memcpy(ik, stream, slen); ik[slen] = 0; be64(ik + slen + 1, version);
        MDB_val ikv = { slen + 9, ik };
        CHECK(mdb_put(txn, d->stream_index, &ikv, &pv, 0));
        uint8_t head[16]; be64(head, version); be64(head + 8, position);
        MDB_val hv = { 16, head };
        CHECK(mdb_put(txn, d->streams, &sk, &hv, 0));
    }
    if (layout == LAYOUT_NO_IDS) return;
    MDB_val idk = { 16, id };
    CHECK(mdb_put(txn, d->event_ids, &idk, &pv, MDB_NOOVERWRITE));
}

#endif
