/* lmdb-puts DIR N BYTES PER-COMMIT [LAYOUT]
 * The floor of `docket log import`: N records of about BYTES bytes put into a fresh LMDB
 * environment in DIR, PER-COMMIT puts per synced write transaction (LMDB's default full
 * sync, as Docket commits). LAYOUT: record (default: the `events` database alone, keys
 * appended in position order) or indexed (also Docket's `stream_index`, `streams` and
 * `event_ids` with random UUID keys, 20 000 streams), seq-ids, no-ids, ids-only (floor.h).
 * Prints the rate in records/s on stdout, details on stderr. */
#include "floor.h"

int main(int argc, char **argv) {
    if (argc < 5) { fprintf(stderr, "usage: lmdb-puts DIR N BYTES PER-COMMIT [record|indexed|seq-ids|no-ids|ids-only]\n"); return 64; }
    const char *dir = argv[1];
    long n = atol(argv[2]), bytes = atol(argv[3]), per = atol(argv[4]);
    int layout = argc > 5 ? parse_layout(argv[5]) : LAYOUT_RECORD;
    MDB_env *env = open_env(dir, 0);
    log_dbs d = open_log_dbs(env);
    /* record overhead besides the payload: hash 32, fixed 45, lengths 28, stream ~11, type 13, metadata 2, payload wrapper 11 */
    long payload = bytes > 142 ? bytes - 142 : 0;
    uint8_t *buf = malloc(payload + 1024);
    uint64_t rng = 42;
    char stream[32];
    double t0 = floor_now();
    long done = 0;
    while (done < n) {
        MDB_txn *txn;
        CHECK(mdb_txn_begin(env, NULL, 0, &txn));
        for (long i = 0; i < per && done < n; i++, done++) {
            snprintf(stream, sizeof stream, "case-%ld", done % 20000);
            append_event(txn, &d, layout, (uint64_t)done + 1, stream, "case-commented", payload, &rng, buf);
        }
        CHECK(mdb_txn_commit(txn));
    }
    double s = floor_now() - t0;
    fprintf(stderr, "lmdb-puts: %ld records of ~%ld B, %ld per synced commit, layout %s: %.3f s\n", n, bytes, per,
            argc > 5 ? argv[5] : "record", s);
    printf("%.0f\n", n / s);
    mdb_env_close(env);
    return 0;
}
