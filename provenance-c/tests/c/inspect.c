/*
 * inspect: prov_inspect_file, a crate examined alone, without its repository.
 *
 *   inspect json CRATE_FILE
 *       Inspect the crate and print its JSON and a newline: exactly what
 *       `crate-provenance inspect CRATE_FILE --format json` prints. The handle has no verdict
 *       and no differences. Exit status 0, or 2 (message on stderr) when the call fails.
 *
 *   inspect args CRATE_FILE SCRATCH_DIR
 *       NULL arguments, handles of the wrong type or freed, error objects, typed errors for
 *       missing and corrupt files, a non-UTF-8 path, cancellation and the progress callback.
 *
 * Must run clean under ASan/UBSan and valgrind.
 */
#define _POSIX_C_SOURCE 200809L
#include <unistd.h>

#include "check.h"

#define SENTINEL ((void *)0x1)

/* The handle holds an inspection: JSON with `"kind": "inspect"`, no verdict, no differences. */
static void check_inspection(const prov_report *report, const char **json, size_t *json_len) {
    CHECK(prov_report_verdict(report) == NULL);
    CHECK(prov_report_difference_count(report) == 0);
    CHECK(prov_report_difference_kind(report, 0) == NULL);
    const char *s = SENTINEL;
    size_t n = 7;
    CHECK_RC(prov_report_difference_path(report, 0, &s, &n), PROV_RESULT_INDEX_OUT_OF_RANGE);
    CHECK(s == SENTINEL && n == 7);
    *json = NULL;
    *json_len = 0;
    CHECK_RC(prov_report_json(report, json, json_len), PROV_RESULT_OK);
    CHECK(*json != NULL && *json_len > 0);
    CHECK(*json != NULL && (*json)[*json_len] == '\0' && strlen(*json) == *json_len);
    CHECK(*json != NULL && strstr(*json, "\"kind\": \"inspect\"") != NULL);
    CHECK(*json != NULL && strstr(*json, "\"verdict\"") == NULL);
}

static int print_json(const char *crate_path) {
    prov_options *opts = NULL;
    CHECK_RC(prov_options_new(&opts), PROV_RESULT_OK);
    prov_report *report = NULL;
    prov_error *err = SENTINEL;
    prov_result rc = prov_inspect_file(opts, crate_path, &report, &err);
    if (rc != PROV_RESULT_OK) {
        const char *msg = "";
        size_t len = 0;
        CHECK_RC(prov_error_message(err, &msg, &len), PROV_RESULT_OK);
        fprintf(stderr, "inspect failed: %s: %.*s\n", prov_result_name(rc), (int)len, msg);
        prov_error_free(err);
        prov_options_free(opts);
        return 2;
    }
    CHECK(err == SENTINEL); /* untouched on success */
    const char *json = NULL;
    size_t json_len = 0;
    check_inspection(report, &json, &json_len);
    if (json) {
        fwrite(json, 1, json_len, stdout);
        fputc('\n', stdout);
    }
    prov_report_free(report);
    prov_options_free(opts);
    return check_failures ? 1 : 0;
}

/* A call that must fail with `want`: *out untouched, an error object with that code. */
static void expect_error(const prov_options *opts, const char *path, prov_result want,
                         const char *message_prefix) {
    prov_report *report = SENTINEL;
    CHECK_RC(prov_inspect_file(opts, path, &report, NULL), want);
    CHECK(report == SENTINEL);
    prov_error *err = NULL;
    CHECK_RC(prov_inspect_file(opts, path, &report, &err), want);
    CHECK(report == SENTINEL);
    CHECK(err != NULL);
    CHECK_RC(prov_error_code(err), want);
    const char *msg = NULL;
    size_t len = 0;
    CHECK_RC(prov_error_message(err, &msg, &len), PROV_RESULT_OK);
    CHECK(msg != NULL && len > 0 && strlen(msg) == len);
    if (message_prefix)
        CHECK(msg != NULL && strncmp(msg, message_prefix, strlen(message_prefix)) == 0);
    printf("  %s -> %s: %.200s\n", path ? "path" : "NULL", prov_result_name(want),
           msg ? msg : "");
    prov_error_free(err);
}

static void write_file(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f) return;
    CHECK(fwrite(data, 1, len, f) == len);
    CHECK(fclose(f) == 0);
}

static unsigned char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc(n > 0 ? (size_t)n : 1);
    *len = buf ? fread(buf, 1, (size_t)n, f) : 0;
    fclose(f);
    return buf;
}

struct progress_log {
    int calls;
    int read_crate_started;
    uint64_t read_crate_done;
};

static void on_progress(void *userdata, const char *stage, uint64_t done, uint64_t total) {
    (void)total;
    struct progress_log *log = userdata;
    log->calls++;
    if (stage && strcmp(stage, "read_crate") == 0) {
        if (done == 0) log->read_crate_started++;
        log->read_crate_done = done;
    }
}

static int args(const char *crate_path, const char *dir) {
    prov_options *opts = NULL;
    CHECK_RC(prov_options_new(&opts), PROV_RESULT_OK);

    /* NULL arguments: typed codes, a message naming the parameter, *out untouched. */
    expect_error(NULL, crate_path, PROV_RESULT_NULL_PARAMETER, "opts: ");
    expect_error(opts, NULL, PROV_RESULT_NULL_PARAMETER, "path: ");
    CHECK_RC(prov_inspect_file(opts, crate_path, NULL, NULL), PROV_RESULT_NULL_PARAMETER);
    prov_error *err = NULL;
    CHECK_RC(prov_inspect_file(opts, crate_path, NULL, &err), PROV_RESULT_NULL_PARAMETER);
    CHECK(err != NULL);
    CHECK_RC(prov_error_code(err), PROV_RESULT_NULL_PARAMETER);
    prov_error_free(err);

    /* A valid call; err stays untouched and may be NULL. */
    prov_report *report = NULL;
    CHECK_RC(prov_inspect_file(opts, crate_path, &report, NULL), PROV_RESULT_OK);
    const char *json = NULL;
    size_t json_len = 0;
    if (report) check_inspection(report, &json, &json_len);

    /* Handles of the wrong type are refused, not reinterpreted. */
    prov_report *other = SENTINEL;
    CHECK_RC(prov_inspect_file((const prov_options *)report, crate_path, &other, NULL),
             PROV_RESULT_INVALID_HANDLE);
    CHECK(other == SENTINEL);
    int not_a_handle = 0;
    CHECK_RC(prov_inspect_file((const prov_options *)&not_a_handle, crate_path, &other, NULL),
             PROV_RESULT_INVALID_HANDLE);
    CHECK(other == SENTINEL && not_a_handle == 0);

    /* Freed handles: the inspection and the options. */
    prov_report_free(report);
    const char *s = SENTINEL;
    size_t n = 7;
    CHECK_RC(prov_report_json(report, &s, &n), PROV_RESULT_INVALID_HANDLE);
    CHECK(s == SENTINEL && n == 7);
    prov_report_free(report); /* double free: ignored */
    prov_options *freed = NULL;
    CHECK_RC(prov_options_new(&freed), PROV_RESULT_OK);
    prov_options_free(freed);
    expect_error(freed, crate_path, PROV_RESULT_INVALID_HANDLE, "opts: ");

    /* Typed errors for unusable files. */
    char path[4096];
    snprintf(path, sizeof path, "%s/missing.crate", dir);
    unlink(path);
    expect_error(opts, path, PROV_RESULT_NOT_FOUND, NULL);
    expect_error(opts, "", PROV_RESULT_NOT_FOUND, NULL);
    snprintf(path, sizeof path, "%s/corrupt.crate", dir);
    write_file(path, "not a gzip stream", 17);
    expect_error(opts, path, PROV_RESULT_INVALID_ARCHIVE, NULL);
    unlink(path);

    /* Paths are bytes on Unix: the same crate under a non-UTF-8 name gives the same JSON. */
    size_t len = 0;
    unsigned char *bytes = read_file(crate_path, &len);
    CHECK(bytes != NULL);
    if (bytes) {
        snprintf(path, sizeof path, "%s/inspect-\xff\xfe.crate", dir);
        write_file(path, bytes, len);
        free(bytes);
        prov_report *again = NULL;
        CHECK_RC(prov_inspect_file(opts, path, &again, NULL), PROV_RESULT_OK);
        const char *json2 = NULL;
        size_t json2_len = 0;
        if (again) {
            check_inspection(again, &json2, &json2_len);
            /* The first inspection was freed: compare with a fresh one of the original. */
            prov_report *orig = NULL;
            CHECK_RC(prov_inspect_file(opts, crate_path, &orig, NULL), PROV_RESULT_OK);
            const char *json3 = NULL;
            size_t json3_len = 0;
            if (orig) check_inspection(orig, &json3, &json3_len);
            CHECK(json2 && json3 && json2_len == json3_len && memcmp(json2, json3, json2_len) == 0);
            prov_report_free(orig);
        }
        prov_report_free(again);
        unlink(path);
    }

    /* The progress callback sees the one stage, with the file's size at its end. */
    struct progress_log log = {0, 0, 0};
    prov_options *with_progress = NULL;
    CHECK_RC(prov_options_new(&with_progress), PROV_RESULT_OK);
    CHECK_RC(prov_options_set_progress(with_progress, on_progress, &log), PROV_RESULT_OK);
    report = NULL;
    CHECK_RC(prov_inspect_file(with_progress, crate_path, &report, NULL), PROV_RESULT_OK);
    prov_report_free(report);
    CHECK(log.read_crate_started == 1);
    CHECK(log.calls >= 2);
    CHECK(log.read_crate_done == len);
    prov_options_free(with_progress);

    /* A triggered cancellation token: PROV_RESULT_INTERRUPTED. */
    prov_cancel *cancel = NULL;
    prov_options *cancelled = NULL;
    CHECK_RC(prov_cancel_new(&cancel), PROV_RESULT_OK);
    CHECK_RC(prov_options_new(&cancelled), PROV_RESULT_OK);
    CHECK_RC(prov_options_set_cancel(cancelled, cancel), PROV_RESULT_OK);
    CHECK_RC(prov_cancel_trigger(cancel), PROV_RESULT_OK);
    expect_error(cancelled, crate_path, PROV_RESULT_INTERRUPTED, NULL);
    prov_options_free(cancelled);
    prov_cancel_free(cancel);

    prov_options_free(opts);
    return check_finish("inspect args");
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "json") == 0) return print_json(argv[2]);
    if (argc == 4 && strcmp(argv[1], "args") == 0) return args(argv[2], argv[3]);
    fprintf(stderr, "usage: %s json CRATE_FILE | %s args CRATE_FILE SCRATCH_DIR\n", argv[0],
            argv[0]);
    return 2;
}
