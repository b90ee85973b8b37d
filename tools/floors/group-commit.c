/* group-commit DIR THREADS APPENDS LAYOUT [PAYLOAD-BYTES]
 * The floor of Docket's group commit (`docket-bench EventLog`, 64 writers): THREADS
 * threads each submit APPENDS/THREADS appends of one event, one at a time (each waits
 * until its append is committed), to one writer thread that takes whatever is queued,
 * writes it in one write transaction and commits it with LMDB's full sync, then wakes the
 * submitters. Streams as in the benchmark: "case-<thread>-<i mod 50>"; a payload of
 * {"text":"x...x"} with PAYLOAD-BYTES (default 200) x's. LAYOUT: record (the `events`
 * database alone), indexed (Docket's layout: also `stream_index`, `streams`, and
 * `event_ids` keyed by a random UUID), seq-ids (the same with a position-ordered id key)
 * no-ids (no `event_ids`) or ids-only (`event_ids` and no stream indexes). Prints appends/s on stdout, details on stderr. */
#include "floor.h"
#include <pthread.h>
#include <semaphore.h>

/* Bytes this process has caused to be written to storage so far (/proc/self/io). */
static long long written_bytes(void) {
    FILE *f = fopen("/proc/self/io", "r");
    char line[128]; long long v = -1;
    while (f && fgets(line, sizeof line, f)) if (sscanf(line, "write_bytes: %lld", &v) == 1) break;
    if (f) fclose(f);
    return v;
}

typedef struct request { struct request *next; char stream[32]; sem_t *done; } request;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t queued = PTHREAD_COND_INITIALIZER;
static request *head, *tail;
static long remaining;
static MDB_env *env;
static log_dbs dbs;
static int layout;
static long payload = 200, per_thread;

static void *submitter(void *arg) {
    long t = (long)arg;
    sem_t done; sem_init(&done, 0, 0);
    request r;
    for (long i = 0; i < per_thread; i++) {
        snprintf(r.stream, sizeof r.stream, "case-%ld-%ld", t, i % 50);
        r.done = &done; r.next = NULL;
        pthread_mutex_lock(&lock);
        if (tail) tail->next = &r; else head = &r;
        tail = &r;
        pthread_cond_signal(&queued);
        pthread_mutex_unlock(&lock);
        while (sem_wait(&done) != 0) {}
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 5) { fprintf(stderr, "usage: group-commit DIR THREADS APPENDS record|indexed|seq-ids|no-ids|ids-only [PAYLOAD-BYTES]\n"); return 64; }
    long threads = atol(argv[2]);
    per_thread = atol(argv[3]) / threads;
    remaining = per_thread * threads;
    layout = parse_layout(argv[4]);
    if (argc > 5) payload = atol(argv[5]);
    env = open_env(argv[1], 0);
    dbs = open_log_dbs(env);
    uint8_t *buf = malloc(payload + 1024);
    uint64_t rng = 7, position = 0, commits = 0;
    pthread_t *ts = calloc(threads, sizeof *ts);
    long long w0 = written_bytes();
    double t0 = floor_now();
    for (long t = 0; t < threads; t++) pthread_create(&ts[t], NULL, submitter, (void *)t);
    long total = remaining;
    while (remaining > 0) {
        pthread_mutex_lock(&lock);
        while (!head) pthread_cond_wait(&queued, &lock);
        request *batch = head;
        head = tail = NULL;
        pthread_mutex_unlock(&lock);
        MDB_txn *txn;
        CHECK(mdb_txn_begin(env, NULL, 0, &txn));
        for (request *r = batch; r; r = r->next)
            append_event(txn, &dbs, layout, ++position, r->stream, "case-commented", payload, &rng, buf);
        CHECK(mdb_txn_commit(txn));
        commits++;
        for (request *r = batch, *next; r; r = next) { next = r->next; remaining--; sem_post(r->done); }
    }
    for (long t = 0; t < threads; t++) pthread_join(ts[t], NULL);
    double s = floor_now() - t0;
    long long w = written_bytes() - w0;
    fprintf(stderr, "group-commit: %ld threads, %ld appends, layout %s: %.3f s, %llu commits (%.1f appends each), "
            "%.1f KB written per commit, %.2f KB per append\n", threads, total, argv[4], s, (unsigned long long)commits,
            (double)total / commits, w / 1024.0 / commits, w / 1024.0 / total);
    printf("%.0f\n", total / s);
    mdb_env_close(env);
    return 0;
}
