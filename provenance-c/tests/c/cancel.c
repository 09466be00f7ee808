/*
 * cancel: progress callbacks and cancellation tokens, one SECURITY.md §4.6 case per CASE:
 *
 *   b05  a cancellation token triggered before a call, from inside the progress callback, and
 *        from another thread while verifications run: PROV_RESULT_INTERRUPTED, promptly
 *   b09  a progress callback that re-enters the library (verifies another crate, reads and
 *        frees reports) from inside the callback: no deadlock, correct results
 *
 *   cancel CASE CRATE_FILE REPO EXPECTED_VERDICT [MAX_LATENCY_MS]
 *
 * The time from a cross-thread cancel to the return is bounded by 10 times one verification
 * measured first in the same process (so that a busy machine, ASan or valgrind get a larger
 * budget), and at least MAX_LATENCY_MS (default 1000).
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "check.h"

struct progress_log {
    int calls;
    int read_crate_started;
    int compare_started;
    int out_of_order; /* `done` went backwards within a stage, or stage was NULL */
    const char *stage;
    uint64_t done;
    const prov_cancel *cancel_on_first_call;
};

static void on_progress(void *userdata, const char *stage, uint64_t done, uint64_t total) {
    struct progress_log *log = userdata;
    log->calls++;
    if (!stage) {
        log->out_of_order++;
        return;
    }
    if (stage != log->stage) {
        log->stage = stage;
        if (done != 0) log->out_of_order++; /* a stage begins with done == 0 */
    } else if (done < log->done) {
        log->out_of_order++;
    }
    log->done = done;
    if (total != 0 && done > total) log->out_of_order++;
    if (strcmp(stage, "read_crate") == 0 && done == 0) log->read_crate_started++;
    if (strcmp(stage, "compare") == 0 && done == 0) log->compare_started++;
    if (log->cancel_on_first_call && log->calls == 1)
        CHECK_RC(prov_cancel_trigger(log->cancel_on_first_call), PROV_RESULT_OK);
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

struct canceller {
    const prov_cancel *cancel;
    atomic_int progress; /* progress calls of the looping verifications */
    atomic_int done;     /* the main thread left its loop (without this thread's trigger) */
    double triggered_ms;
};

static void count_progress(void *userdata, const char *stage, uint64_t done, uint64_t total) {
    (void)stage;
    (void)done;
    (void)total;
    atomic_fetch_add(&((struct canceller *)userdata)->progress, 1);
}

/* Triggers the token once a verification of the main thread's loop reports progress, i.e.
 * while it runs (a readiness signal, not a guessed delay). */
static void *cancel_when_verifying(void *arg) {
    struct canceller *c = arg;
    struct timespec wait = {0, 1000 * 1000};
    while (atomic_load(&c->progress) < 1) {
        if (atomic_load(&c->done)) return NULL;
        nanosleep(&wait, NULL);
    }
    c->triggered_ms = now_ms();
    if (prov_cancel_trigger(c->cancel) != PROV_RESULT_OK) c->triggered_ms = -1;
    return NULL;
}

/* A token shared with another thread that triggers it while this one verifies in a loop. */
static void b05_cancel_from_another_thread(const char *crate_path, const char *repo,
                                           double min_budget_ms) {
    prov_cancel *cancel = NULL;
    prov_options *opts = NULL;
    CHECK_RC(prov_cancel_new(&cancel), PROV_RESULT_OK);
    CHECK_RC(prov_options_new(&opts), PROV_RESULT_OK);
    CHECK_RC(prov_options_set_offline(opts, true), PROV_RESULT_OK);
    CHECK_RC(prov_options_set_cancel(opts, cancel), PROV_RESULT_OK);

    /* The baseline: one verification, uninterrupted. */
    prov_report *first = NULL;
    double start = now_ms();
    CHECK_RC(prov_verify_crate_file(opts, crate_path, repo, &first), PROV_RESULT_OK);
    double baseline_ms = now_ms() - start;
    prov_report_free(first);
    double budget_ms = 10 * baseline_ms > min_budget_ms ? 10 * baseline_ms : min_budget_ms;

    struct canceller c = {.cancel = cancel, .triggered_ms = 0};
    atomic_init(&c.progress, 0);
    atomic_init(&c.done, 0);
    CHECK_RC(prov_options_set_progress(opts, count_progress, &c), PROV_RESULT_OK);
    pthread_t tid;
    CHECK(pthread_create(&tid, NULL, cancel_when_verifying, &c) == 0);
    int ok = 0;
    prov_result rc = PROV_RESULT_OK;
    /* Bounded: a trigger that is never honoured ends the loop with a failure. */
    for (int i = 0; rc == PROV_RESULT_OK && i < 1000; i++) {
        prov_report *report = NULL;
        rc = prov_verify_crate_file(opts, crate_path, repo, &report);
        if (rc == PROV_RESULT_OK) ok++;
        prov_report_free(report);
    }
    double returned = now_ms();
    atomic_store(&c.done, 1);
    CHECK(pthread_join(tid, NULL) == 0);
    CHECK_RC(rc, PROV_RESULT_INTERRUPTED);
    CHECK(c.triggered_ms > 0);
    printf("cancel from another thread: %d verifications, then interrupted %.1f ms after the "
           "trigger (budget %.1f ms, one verification %.1f ms)\n",
           ok, returned - c.triggered_ms, budget_ms, baseline_ms);
    CHECK(returned - c.triggered_ms < budget_ms);
    prov_options_free(opts);
    prov_cancel_free(cancel);
}

/* ---------------------------------------------------------------- B9 */

struct reentry {
    const char *crate_path, *repo, *expected;
    int calls, nested, nested_ok;
};

static void reenter(void *userdata, const char *stage, uint64_t done, uint64_t total) {
    (void)done;
    (void)total;
    struct reentry *r = userdata;
    r->calls++;
    if (strcmp(stage, "rebuild") != 0 || r->nested >= 2) return;
    r->nested++;
    /* A whole verification from inside the callback (its own options, no callback), and
     * reads of its report. */
    prov_options *inner = NULL;
    CHECK_RC(prov_options_new(&inner), PROV_RESULT_OK);
    CHECK_RC(prov_options_set_offline(inner, true), PROV_RESULT_OK);
    prov_report *report = NULL;
    CHECK_RC(prov_verify_crate_file(inner, r->crate_path, r->repo, &report), PROV_RESULT_OK);
    const char *v = report ? prov_report_verdict(report) : NULL;
    const char *json = NULL;
    size_t len = 0;
    CHECK_RC(prov_report_json(report, &json, &len), PROV_RESULT_OK);
    if (v && strcmp(v, r->expected) == 0 && json && len > 0) r->nested_ok++;
    prov_report_free(report);
    prov_options_free(inner);
}

static void b09_progress_callback_reenters(const char *crate_path, const char *repo,
                                           const char *expected) {
    struct reentry r = {crate_path, repo, expected, 0, 0, 0};
    prov_options *opts = NULL;
    CHECK_RC(prov_options_new(&opts), PROV_RESULT_OK);
    CHECK_RC(prov_options_set_offline(opts, true), PROV_RESULT_OK);
    CHECK_RC(prov_options_set_progress(opts, reenter, &r), PROV_RESULT_OK);
    prov_report *report = NULL;
    CHECK_RC(prov_verify_crate_file(opts, crate_path, repo, &report), PROV_RESULT_OK);
    CHECK(report && strcmp(prov_report_verdict(report), expected) == 0);
    prov_report_free(report);
    /* The nested calls had no callback: only the outer one counted. */
    printf("re-entered %d times from %d progress calls\n", r.nested, r.calls);
    CHECK(r.nested >= 1 && r.nested_ok == r.nested);
    prov_options_free(opts);
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: %s b05|b09 CRATE_FILE REPO EXPECTED_VERDICT [MAX_LATENCY_MS]\n",
                argv[0]);
        return 2;
    }
    const char *which = argv[1], *crate_path = argv[2], *repo = argv[3], *expected = argv[4];
    double min_budget_ms = argc > 5 ? atof(argv[5]) : 1000.0;
    if (strcmp(which, "b09") == 0) {
        b09_progress_callback_reenters(crate_path, repo, expected);
        return check_finish("cancel b09");
    }
    if (strcmp(which, "b05") != 0) {
        fprintf(stderr, "unknown case %s\n", which);
        return 2;
    }
    b05_cancel_from_another_thread(crate_path, repo, min_budget_ms);

    /* NULL handling. */
    CHECK_RC(prov_cancel_new(NULL), PROV_RESULT_NULL_PARAMETER);
    CHECK_RC(prov_cancel_trigger(NULL), PROV_RESULT_NULL_PARAMETER);
    prov_cancel_free(NULL);
    CHECK_RC(prov_options_set_cancel(NULL, NULL), PROV_RESULT_NULL_PARAMETER);
    CHECK_RC(prov_options_set_progress(NULL, on_progress, NULL), PROV_RESULT_NULL_PARAMETER);

    /* Progress: stages arrive in order, each starting at 0. */
    struct progress_log log = {0};
    prov_options *opts = NULL;
    CHECK_RC(prov_options_new(&opts), PROV_RESULT_OK);
    CHECK_RC(prov_options_set_offline(opts, true), PROV_RESULT_OK);
    CHECK_RC(prov_options_set_cancel(opts, NULL), PROV_RESULT_NULL_PARAMETER);
    CHECK_RC(prov_options_set_progress(opts, NULL, &log), PROV_RESULT_NULL_PARAMETER);
    CHECK_RC(prov_options_set_progress(opts, on_progress, &log), PROV_RESULT_OK);
    prov_report *report = NULL;
    CHECK_RC(prov_verify_crate_file(opts, crate_path, repo, &report), PROV_RESULT_OK);
    CHECK(report && strcmp(prov_report_verdict(report), expected) == 0);
    prov_report_free(report);
    printf("progress: %d calls\n", log.calls);
    CHECK(log.calls >= 2);
    CHECK(log.read_crate_started == 1);
    CHECK(log.compare_started >= 1);
    CHECK(log.out_of_order == 0);

    /* A token triggered before the call: interrupted, *out untouched. */
    prov_cancel *cancel = NULL;
    CHECK_RC(prov_cancel_new(&cancel), PROV_RESULT_OK);
    CHECK_RC(prov_options_set_cancel(opts, cancel), PROV_RESULT_OK);
    CHECK_RC(prov_verify_crate_file(opts, crate_path, repo, &report), PROV_RESULT_OK);
    prov_report_free(report);
    CHECK_RC(prov_cancel_trigger(cancel), PROV_RESULT_OK);
    report = (prov_report *)0x1;
    CHECK_RC(prov_verify_crate_file(opts, crate_path, repo, &report), PROV_RESULT_INTERRUPTED);
    CHECK(report == (prov_report *)0x1);
    /* The options keep the token alive after it is freed. */
    prov_cancel_free(cancel);
    prov_cancel_free(cancel); /* double free: detected and ignored */
    CHECK_RC(prov_verify_crate_file(opts, crate_path, repo, &report), PROV_RESULT_INTERRUPTED);
    CHECK_RC(prov_cancel_trigger(cancel), PROV_RESULT_INVALID_HANDLE);
    prov_options_free(opts);

    /* Cancelled from inside the progress callback, during the first stage. */
    prov_cancel *cancel2 = NULL;
    struct progress_log log2 = {0};
    CHECK_RC(prov_cancel_new(&cancel2), PROV_RESULT_OK);
    log2.cancel_on_first_call = cancel2;
    CHECK_RC(prov_options_new(&opts), PROV_RESULT_OK);
    CHECK_RC(prov_options_set_cancel(opts, cancel2), PROV_RESULT_OK);
    CHECK_RC(prov_options_set_progress(opts, on_progress, &log2), PROV_RESULT_OK);
    prov_error *err = NULL;
    report = NULL;
    CHECK_RC(prov_verify_crate_file_ex(opts, crate_path, repo, &report, &err),
             PROV_RESULT_INTERRUPTED);
    CHECK(report == NULL);
    CHECK_RC(prov_error_code(err), PROV_RESULT_INTERRUPTED);
    CHECK(log2.compare_started == 0);
    prov_error_free(err);
    prov_cancel_free(cancel2);
    prov_options_free(opts);

    return check_finish("cancel b05");
}
