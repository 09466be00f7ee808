/*
 * cancel: progress callbacks and cancellation tokens.
 *
 *   cancel CRATE_FILE REPO EXPECTED_VERDICT
 */
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

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s CRATE_FILE REPO EXPECTED_VERDICT\n", argv[0]);
        return 2;
    }
    const char *crate_path = argv[1], *repo = argv[2], *expected = argv[3];

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

    return check_finish("cancel");
}
