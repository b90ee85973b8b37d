/* lmdb-scan DIR [PASSES]
 * The floor of `docket log read --all` and `docket export`: a read-only cursor walk over
 * the `events` database of a Docket data directory, touching each record's length and
 * first and last bytes (no decoding). Prints the best pass's rate in records/s on stdout. */
#include "floor.h"

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: lmdb-scan DIR [PASSES]\n"); return 64; }
    int passes = argc > 2 ? atoi(argv[2]) : 1;
    MDB_env *env = open_env(argv[1], MDB_RDONLY);
    double best = 0;
    for (int p = 0; p < passes; p++) {
        MDB_txn *txn; MDB_dbi dbi; MDB_cursor *c; MDB_val k, v;
        double t0 = floor_now();
        CHECK(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn));
        CHECK(mdb_dbi_open(txn, "events", 0, &dbi));
        CHECK(mdb_cursor_open(txn, dbi, &c));
        uint64_t count = 0, sum = 0;
        int rc;
        while ((rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == 0) {
            const uint8_t *b = v.mv_data;
            sum += v.mv_size + b[0] + b[v.mv_size - 1];
            count++;
        }
        if (rc != MDB_NOTFOUND) CHECK(rc);
        mdb_cursor_close(c);
        mdb_txn_abort(txn);
        double s = floor_now() - t0, rate = count / s;
        fprintf(stderr, "lmdb-scan: pass %d: %llu records (%llu bytes checksum) in %.4f s\n", p + 1,
                (unsigned long long)count, (unsigned long long)sum, s);
        if (rate > best) best = rate;
    }
    printf("%.0f\n", best);
    mdb_env_close(env);
    return 0;
}
