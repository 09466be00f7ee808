/*
 * panic (SECURITY.md B1): a panic inside the library (verification or inspection) becomes
 * PROV_RESULT_PANIC with a message, never an unwind into C or an abort, and the next calls work.
 * Linked against the library built with the test-only `fault-injection` feature, whose parser
 * panics on PANIC_CRATE's bytes.
 *
 *   panic PANIC_CRATE GOOD_CRATE REPO EXPECTED_VERDICT
 */
#include "check.h"

static int progress_calls = 0;

static void on_progress(void *userdata, const char *stage, uint64_t done, uint64_t total) {
    (void)userdata;
    (void)stage;
    (void)done;
    (void)total;
    progress_calls++;
}

static void expect_good(const prov_options *opts, const char *crate_path, const char *repo,
                        const char *expected) {
    prov_report *report = NULL;
    CHECK_RC(prov_verify_crate_file(opts, crate_path, repo, &report), PROV_RESULT_OK);
    const char *verdict = report ? prov_report_verdict(report) : NULL;
    CHECK(verdict != NULL && strcmp(verdict, expected) == 0);
    prov_report_free(report);
}

static void b01_internal_panic(const char *panic_crate, const char *good, const char *repo,
                               const char *expected) {
    prov_options *opts = NULL;
    CHECK_RC(prov_options_new(&opts), PROV_RESULT_OK);
    CHECK_RC(prov_options_set_offline(opts, true), PROV_RESULT_OK);

    for (int round = 0; round < 3; round++) {
        if (round == 2) CHECK_RC(prov_options_set_progress(opts, on_progress, NULL), PROV_RESULT_OK);

        /* Plain entry point: the code; *out untouched. */
        prov_report *report = (prov_report *)0x1;
        CHECK_RC(prov_verify_crate_file(opts, panic_crate, repo, &report), PROV_RESULT_PANIC);
        CHECK(report == (prov_report *)0x1);

        /* _ex: the code and a message naming the panic. */
        prov_error *err = NULL;
        report = (prov_report *)0x1;
        CHECK_RC(prov_verify_crate_file_ex(opts, panic_crate, repo, &report, &err),
                 PROV_RESULT_PANIC);
        CHECK(report == (prov_report *)0x1);
        CHECK(err != NULL);
        CHECK_RC(prov_error_code(err), PROV_RESULT_PANIC);
        const char *msg = NULL;
        size_t len = 0;
        CHECK_RC(prov_error_message(err, &msg, &len), PROV_RESULT_OK);
        CHECK(msg != NULL && strlen(msg) == len);
        CHECK(msg != NULL && strstr(msg, "panicked") != NULL);
        CHECK(msg != NULL && strstr(msg, "fault injection: parser panic") != NULL);
        if (round == 0) printf("prov_verify_crate_file_ex: %s: %s\n", prov_result_name(PROV_RESULT_PANIC), msg);
        prov_error_free(err);

        /* prov_inspect_file shares the boundary: the code and the message, *out untouched. */
        err = NULL;
        report = (prov_report *)0x1;
        CHECK_RC(prov_inspect_file(opts, panic_crate, &report, &err), PROV_RESULT_PANIC);
        CHECK(report == (prov_report *)0x1);
        CHECK(err != NULL);
        CHECK_RC(prov_error_code(err), PROV_RESULT_PANIC);
        msg = NULL;
        CHECK_RC(prov_error_message(err, &msg, &len), PROV_RESULT_OK);
        CHECK(msg != NULL && strstr(msg, "fault injection: parser panic") != NULL);
        prov_error_free(err);
        report = NULL;
        CHECK_RC(prov_inspect_file(opts, good, &report, NULL), PROV_RESULT_OK);
        prov_report_free(report);

        /* The next call works. */
        expect_good(opts, good, repo, expected);
    }
    CHECK(progress_calls > 0);

    /* The generic message for the code. */
    char buf[256];
    CHECK(prov_result_message(PROV_RESULT_PANIC, buf, sizeof buf) <= sizeof buf);
    CHECK(strstr(buf, "panicked") != NULL);
    CHECK(strcmp(prov_result_name(PROV_RESULT_PANIC), "panic") == 0);

    /* Fresh options and handles still work after the panics. */
    prov_options_free(opts);
    opts = NULL;
    CHECK_RC(prov_options_new(&opts), PROV_RESULT_OK);
    expect_good(opts, good, repo, expected);
    prov_options_free(opts);
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: %s PANIC_CRATE GOOD_CRATE REPO EXPECTED_VERDICT\n", argv[0]);
        return 2;
    }
    b01_internal_panic(argv[1], argv[2], argv[3], argv[4]);
    return check_finish("panic");
}
