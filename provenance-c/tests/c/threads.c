/*
 * threads: 4 pthreads verify concurrently with one shared prov_options, and read one shared
 * report concurrently. Every run must give byte-identical JSON.
 *
 *   threads CRATE_FILE REPO EXPECTED_VERDICT
 */
#include <pthread.h>

#include "check.h"

#define THREADS 4
#define ROUNDS 1

struct job {
    const prov_options *opts;
    const char *crate_path;
    const char *repo;
    const char *expected;
    const prov_report *shared;
    char *json[ROUNDS]; /* copies, freed by main */
    int failures;
};

static void *worker(void *arg) {
    struct job *job = arg;
    for (int round = 0; round < ROUNDS; round++) {
        prov_report *report = NULL;
        if (prov_verify_crate_file(job->opts, job->crate_path, job->repo, &report) !=
            PROV_RESULT_OK) {
            job->failures++;
            continue;
        }
        const char *verdict = prov_report_verdict(report);
        if (!verdict || strcmp(verdict, job->expected) != 0) job->failures++;
        const char *json = NULL;
        size_t len = 0;
        if (prov_report_json(report, &json, &len) != PROV_RESULT_OK) {
            job->failures++;
        } else {
            job->json[round] = malloc(len + 1);
            memcpy(job->json[round], json, len + 1);
        }
        prov_report_free(report);

        /* Concurrent reads of one report owned by main. */
        const char *shared_json = NULL;
        size_t shared_len = 0;
        if (prov_report_json(job->shared, &shared_json, &shared_len) != PROV_RESULT_OK ||
            strlen(shared_json) != shared_len)
            job->failures++;
        for (size_t i = 0; i < prov_report_difference_count(job->shared); i++) {
            const char *p = NULL;
            size_t n = 0;
            if (prov_report_difference_path(job->shared, i, &p, &n) != PROV_RESULT_OK)
                job->failures++;
        }
        char buf[128];
        if (prov_result_message(PROV_RESULT_INVALID_ARCHIVE, buf, sizeof buf) == 0)
            job->failures++;
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s CRATE_FILE REPO EXPECTED_VERDICT\n", argv[0]);
        return 2;
    }
    prov_options *opts = NULL;
    CHECK_RC(prov_options_new(&opts), PROV_RESULT_OK);
    CHECK_RC(prov_options_set_offline(opts, true), PROV_RESULT_OK);

    prov_report *shared = NULL;
    CHECK_RC(prov_verify_crate_file(opts, argv[1], argv[2], &shared), PROV_RESULT_OK);
    const char *shared_json = NULL;
    size_t shared_len = 0;
    CHECK_RC(prov_report_json(shared, &shared_json, &shared_len), PROV_RESULT_OK);

    struct job jobs[THREADS];
    pthread_t tids[THREADS];
    memset(jobs, 0, sizeof jobs);
    for (int t = 0; t < THREADS; t++) {
        jobs[t].opts = opts;
        jobs[t].crate_path = argv[1];
        jobs[t].repo = argv[2];
        jobs[t].expected = argv[3];
        jobs[t].shared = shared;
        CHECK(pthread_create(&tids[t], NULL, worker, &jobs[t]) == 0);
    }
    for (int t = 0; t < THREADS; t++) {
        CHECK(pthread_join(tids[t], NULL) == 0);
        CHECK(jobs[t].failures == 0);
        for (int r = 0; r < ROUNDS; r++) {
            CHECK(jobs[t].json[r] != NULL);
            if (jobs[t].json[r] && shared_json) CHECK(strcmp(jobs[t].json[r], shared_json) == 0);
            free(jobs[t].json[r]);
        }
    }
    printf("threads: %d threads x %d verifications, verdict %s\n", THREADS, ROUNDS,
           prov_report_verdict(shared));
    prov_report_free(shared);
    prov_options_free(opts);
    return check_finish("threads");
}
