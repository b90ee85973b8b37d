/* The floor `docket log import` is measured against: N raw LMDB puts of V-byte values under
 * 8-byte big-endian sequential keys, B puts per write transaction, each commit synced (LMDB's
 * default durability, as Docket's). No JSON, no hashing, no indexes: what the disk and LMDB
 * cost alone.
 *
 *   cc -O2 -o /tmp/lmdb_puts tools/floors/lmdb_puts.c -llmdb
 *   /tmp/lmdb_puts DIR [N=200000] [V=400] [B=1000]
 *
 * Prints one JSON line: {"puts":N,"valueBytes":V,"perCommit":B,"seconds":S,"putsPerSecond":R}.
 */
#include <lmdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define CHECK(x) do { int rc_ = (x); if (rc_) { fprintf(stderr, "%s: %s\n", #x, mdb_strerror(rc_)); return 1; } } while (0)

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: %s DIR [N] [V] [B]\n", argv[0]); return 64; }
    const char *dir = argv[1];
    long n = argc > 2 ? atol(argv[2]) : 200000;
    long v = argc > 3 ? atol(argv[3]) : 400;
    long b = argc > 4 ? atol(argv[4]) : 1000;
    mkdir(dir, 0755);
    MDB_env *env;
    CHECK(mdb_env_create(&env));
    CHECK(mdb_env_set_mapsize(env, (size_t)1 << 34));
    CHECK(mdb_env_set_maxdbs(env, 4));
    CHECK(mdb_env_open(env, dir, 0, 0644));
    char *value = malloc(v);
    for (long i = 0; i < v; i++) value[i] = (char)('a' + i % 26);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    long done = 0;
    while (done < n) {
        MDB_txn *txn;
        MDB_dbi dbi;
        CHECK(mdb_txn_begin(env, NULL, 0, &txn));
        CHECK(mdb_dbi_open(txn, "events", MDB_CREATE, &dbi));
        for (long k = 0; k < b && done < n; k++, done++) {
            uint64_t key = (uint64_t)done + 1;
            unsigned char kb[8];
            for (int j = 0; j < 8; j++) kb[j] = (unsigned char)(key >> (56 - 8 * j));
            MDB_val mk = {8, kb}, mv = {(size_t)v, value};
            memcpy(value, kb, 8);  /* values differ */
            CHECK(mdb_put(txn, dbi, &mk, &mv, MDB_APPEND));
        }
        CHECK(mdb_txn_commit(txn));
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("{\"puts\":%ld,\"valueBytes\":%ld,\"perCommit\":%ld,\"seconds\":%.3f,\"putsPerSecond\":%.0f}\n", n, v, b, s, n / s);
    mdb_env_close(env);
    free(value);
    return 0;
}
