/*
 * errors: NULL arguments, invalid and stale handles, double free, non-UTF-8 input, corrupt
 * crate files, error messages. Must run clean under ASan/UBSan and valgrind.
 *
 *   errors CRATE_FILE REPO SCRATCH_DIR
 */
#include "check.h"

#define SENTINEL ((void *)0x1)

static const prov_result ALL_CODES[] = {
    PROV_RESULT_OK,
    PROV_RESULT_NULL_PARAMETER,
    PROV_RESULT_PANIC,
    PROV_RESULT_INVALID_UTF8,
    PROV_RESULT_INDEX_OUT_OF_RANGE,
    PROV_RESULT_INVALID_HANDLE,
    PROV_RESULT_VERSION_MISMATCH,
    PROV_RESULT_IO,
    PROV_RESULT_NOT_FOUND,
    PROV_RESULT_PERMISSION_DENIED,
    PROV_RESULT_INVALID_ARCHIVE,
    PROV_RESULT_INVALID_METADATA,
    PROV_RESULT_LIMIT_EXCEEDED,
    PROV_RESULT_GIT,
    PROV_RESULT_NETWORK,
    PROV_RESULT_CRATE_NOT_FOUND,
    PROV_RESULT_CHECKSUM_MISMATCH,
    PROV_RESULT_URL_POLICY,
    PROV_RESULT_INVALID_INPUT,
    PROV_RESULT_UNSUPPORTED,
    PROV_RESULT_INTERRUPTED,
    PROV_RESULT_INTERNAL,
};

static void write_file(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f) return;
    CHECK(fwrite(data, 1, len, f) == len);
    CHECK(fclose(f) == 0);
}

/* Read a whole file; caller frees. */
static unsigned char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc(n > 0 ? (size_t)n : 1);
    *len = fread(buf, 1, (size_t)n, f);
    fclose(f);
    return buf;
}

/* Verify a file that must fail with `want`, through both entry points. */
static void expect_verify_error(const prov_options *opts, const char *crate_path, const char *repo,
                                prov_result want) {
    prov_report *report = SENTINEL;
    CHECK_RC(prov_verify_crate_file(opts, crate_path, repo, &report), want);
    CHECK(report == SENTINEL); /* outputs are written only on success */

    prov_error *err = NULL;
    report = SENTINEL;
    CHECK_RC(prov_verify_crate_file_ex(opts, crate_path, repo, &report, &err), want);
    CHECK(report == SENTINEL);
    CHECK(err != NULL);
    CHECK_RC(prov_error_code(err), want);
    const char *msg = NULL;
    size_t len = 0;
    CHECK_RC(prov_error_message(err, &msg, &len), PROV_RESULT_OK);
    CHECK(msg != NULL && len > 0 && strlen(msg) == len);
    printf("  %s -> %s: %s\n", crate_path, prov_result_name(want), msg ? msg : "");
    prov_error_free(err);
}

static void test_messages(void) {
    for (size_t i = 0; i < sizeof ALL_CODES / sizeof ALL_CODES[0]; i++) {
        prov_result code = ALL_CODES[i];
        const char *name = prov_result_name(code);
        CHECK(name != NULL && name[0] != '\0');
        size_t needed = prov_result_message(code, NULL, 0);
        CHECK(needed > 1);
        char *buf = malloc(needed);
        CHECK(prov_result_message(code, buf, needed) == needed);
        CHECK(strlen(buf) + 1 == needed);
        /* Truncation: always NUL-terminated, same return value. */
        char small[4] = {'x', 'x', 'x', 'x'};
        CHECK(prov_result_message(code, small, sizeof small) == needed);
        CHECK(small[3] == '\0' || strlen(small) < sizeof small);
        CHECK(strncmp(small, buf, strlen(small)) == 0);
        free(buf);
    }
    /* NULL buffer with a non-zero length only asks for the size. */
    CHECK(prov_result_message(PROV_RESULT_OK, NULL, 100) == 3);
    /* Unknown codes are fine. */
    char buf[64];
    CHECK(prov_result_message(424242u, buf, sizeof buf) > 0);
    CHECK(strstr(buf, "424242") != NULL);
    CHECK(prov_result_name(424242u) == NULL);
    CHECK(strcmp(prov_result_name(PROV_RESULT_INVALID_ARCHIVE), "invalid_archive") == 0);
    CHECK(PROV_RESULT_OK == 0);
}

static void test_version(void) {
    char want[64];
    snprintf(want, sizeof want, "%d.%d.%d", PROV_VERSION_MAJOR, PROV_VERSION_MINOR,
             PROV_VERSION_PATCH);
    CHECK(strcmp(want, PROV_VERSION_STRING) == 0);
    CHECK(strcmp(prov_version(), PROV_VERSION_STRING) == 0);
    CHECK_RC(prov_check_version(PROV_VERSION_STRING), PROV_RESULT_OK);
    CHECK_RC(prov_check_version("0.0.0-other"), PROV_RESULT_VERSION_MISMATCH);
    CHECK_RC(prov_check_version(NULL), PROV_RESULT_NULL_PARAMETER);
}

static void test_null_arguments(prov_options *opts, const char *crate_path, const char *repo) {
    /* _free accepts NULL. */
    prov_options_free(NULL);
    prov_report_free(NULL);
    prov_error_free(NULL);

    CHECK_RC(prov_options_new(NULL), PROV_RESULT_NULL_PARAMETER);
    CHECK_RC(prov_options_set_cache_dir(NULL, "/tmp"), PROV_RESULT_NULL_PARAMETER);
    CHECK_RC(prov_options_set_cache_dir(opts, NULL), PROV_RESULT_NULL_PARAMETER);
    CHECK_RC(prov_options_set_offline(NULL, true), PROV_RESULT_NULL_PARAMETER);
    CHECK_RC(prov_options_set_assisted(NULL, true), PROV_RESULT_NULL_PARAMETER);
    CHECK_RC(prov_options_set_older_rules(NULL, true), PROV_RESULT_NULL_PARAMETER);
    CHECK_RC(prov_options_set_index_url(NULL, "https://index.crates.io/"),
             PROV_RESULT_NULL_PARAMETER);
    CHECK_RC(prov_options_set_index_url(opts, NULL), PROV_RESULT_NULL_PARAMETER);

    prov_report *report = SENTINEL;
    CHECK_RC(prov_verify_crate_file(NULL, crate_path, repo, &report), PROV_RESULT_NULL_PARAMETER);
    CHECK_RC(prov_verify_crate_file(opts, NULL, repo, &report), PROV_RESULT_NULL_PARAMETER);
    CHECK_RC(prov_verify_crate_file(opts, crate_path, repo, NULL), PROV_RESULT_NULL_PARAMETER);
    CHECK_RC(prov_verify_crate(NULL, "ryu", "1.0.23", &report), PROV_RESULT_NULL_PARAMETER);
    CHECK_RC(prov_verify_crate(opts, NULL, "1.0.23", &report), PROV_RESULT_NULL_PARAMETER);
    CHECK_RC(prov_verify_crate(opts, "ryu", NULL, &report), PROV_RESULT_NULL_PARAMETER);
    CHECK_RC(prov_verify_crate(opts, "ryu", "1.0.23", NULL), PROV_RESULT_NULL_PARAMETER);
    CHECK(report == SENTINEL);

    /* err_out is filled for NULL-parameter failures too. */
    prov_error *err = NULL;
    CHECK_RC(prov_verify_crate_file_ex(opts, NULL, repo, &report, &err),
             PROV_RESULT_NULL_PARAMETER);
    CHECK(err != NULL);
    CHECK_RC(prov_error_code(err), PROV_RESULT_NULL_PARAMETER);
    prov_error_free(err);

    const char *s = SENTINEL;
    size_t n = 7;
    CHECK(prov_report_verdict(NULL) == NULL);
    CHECK(prov_report_difference_count(NULL) == 0);
    CHECK(prov_report_difference_kind(NULL, 0) == NULL);
    CHECK_RC(prov_report_difference_path(NULL, 0, &s, &n), PROV_RESULT_NULL_PARAMETER);
    CHECK_RC(prov_report_json(NULL, &s, &n), PROV_RESULT_NULL_PARAMETER);
    CHECK_RC(prov_error_code(NULL), PROV_RESULT_NULL_PARAMETER);
    CHECK_RC(prov_error_message(NULL, &s, &n), PROV_RESULT_NULL_PARAMETER);
    CHECK(s == SENTINEL && n == 7);
}

static void test_report_and_handles(prov_options *opts, const char *crate_path, const char *repo) {
    prov_report *report = NULL;
    CHECK_RC(prov_verify_crate_file(opts, crate_path, repo, &report), PROV_RESULT_OK);
    if (!report) return;

    const char *s = SENTINEL;
    size_t n = 7;
    size_t count = prov_report_difference_count(report);
    CHECK_RC(prov_report_difference_path(report, count, &s, &n), PROV_RESULT_INDEX_OUT_OF_RANGE);
    CHECK_RC(prov_report_difference_path(report, (size_t)-1, &s, &n),
             PROV_RESULT_INDEX_OUT_OF_RANGE);
    CHECK(prov_report_difference_kind(report, count) == NULL);
    CHECK_RC(prov_report_difference_path(report, 0, NULL, &n), PROV_RESULT_NULL_PARAMETER);
    CHECK_RC(prov_report_difference_path(report, 0, &s, NULL), PROV_RESULT_NULL_PARAMETER);
    CHECK_RC(prov_report_json(report, NULL, &n), PROV_RESULT_NULL_PARAMETER);
    CHECK_RC(prov_report_json(report, &s, NULL), PROV_RESULT_NULL_PARAMETER);
    CHECK(s == SENTINEL && n == 7);

    /* A handle of the wrong type is refused, not reinterpreted. */
    CHECK(prov_report_verdict((const prov_report *)opts) == NULL);
    CHECK_RC(prov_report_json((const prov_report *)opts, &s, &n), PROV_RESULT_INVALID_HANDLE);
    CHECK_RC(prov_options_set_offline((prov_options *)report, true), PROV_RESULT_INVALID_HANDLE);
    CHECK_RC(prov_verify_crate_file((const prov_options *)report, crate_path, repo, &report),
             PROV_RESULT_INVALID_HANDLE);
    /* A pointer the library never handed out is refused without being dereferenced. */
    int not_a_handle = 0;
    CHECK(prov_report_verdict((const prov_report *)&not_a_handle) == NULL);
    prov_options_free((prov_options *)&not_a_handle); /* ignored */

    /* Use after free and double free are detected (no UB, clean under ASan/valgrind). */
    prov_report_free(report);
    CHECK(prov_report_verdict(report) == NULL);
    CHECK(prov_report_difference_count(report) == 0);
    CHECK_RC(prov_report_json(report, &s, &n), PROV_RESULT_INVALID_HANDLE);
    prov_report_free(report);
}

static void test_corrupt_crates(const prov_options *opts, const char *crate_path, const char *repo,
                                const char *dir) {
    char path[4096];

    snprintf(path, sizeof path, "%s/garbage.crate", dir);
    write_file(path, "this is not a gzip stream\n", 26);
    expect_verify_error(opts, path, repo, PROV_RESULT_INVALID_ARCHIVE);

    snprintf(path, sizeof path, "%s/empty.crate", dir);
    write_file(path, "", 0);
    expect_verify_error(opts, path, repo, PROV_RESULT_INVALID_ARCHIVE);

    /* The real crate cut in half: a truncated gzip stream. */
    size_t len = 0;
    unsigned char *bytes = read_file(crate_path, &len);
    CHECK(bytes != NULL && len > 100);
    if (bytes) {
        snprintf(path, sizeof path, "%s/truncated.crate", dir);
        write_file(path, bytes, len / 2);
        expect_verify_error(opts, path, repo, PROV_RESULT_INVALID_ARCHIVE);
        /* Flip bytes in the middle of the deflate stream. */
        for (size_t i = len / 3; i < len / 3 + 64 && i < len; i++) bytes[i] ^= 0x5a;
        snprintf(path, sizeof path, "%s/flipped.crate", dir);
        write_file(path, bytes, len);
        expect_verify_error(opts, path, repo, PROV_RESULT_INVALID_ARCHIVE);
        free(bytes);
    }

    snprintf(path, sizeof path, "%s/does-not-exist.crate", dir);
    expect_verify_error(opts, path, repo, PROV_RESULT_NOT_FOUND);
}

static void test_registry(const prov_options *opts) {
    /* Registry downloads are not available in this build of the core library (and opts is
     * offline): a typed error, never a crash, and *out stays untouched. */
    prov_report *report = SENTINEL;
    prov_error *err = NULL;
    prov_result rc = prov_verify_crate_ex(opts, "ryu", "1.0.23", &report, &err);
    CHECK(rc != PROV_RESULT_OK);
    CHECK(report == SENTINEL);
    CHECK(prov_result_name(rc) != NULL);
    CHECK(err != NULL);
    printf("  registry ryu@1.0.23 -> %s\n", prov_result_name(rc));
    prov_error_free(err);
    CHECK(prov_verify_crate(opts, "ryu", "1.0.23", &report) == rc);

    /* Names and versions must be UTF-8. */
    CHECK_RC(prov_verify_crate(opts, "ry\xffu", "1.0.23", &report), PROV_RESULT_INVALID_UTF8);
    CHECK_RC(prov_verify_crate(opts, "ryu", "1.\xc0\x80", &report), PROV_RESULT_INVALID_UTF8);
    CHECK(report == SENTINEL);
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s CRATE_FILE REPO SCRATCH_DIR\n", argv[0]);
        return 2;
    }
    const char *crate_path = argv[1], *repo = argv[2], *dir = argv[3];

    prov_options *opts = NULL;
    CHECK_RC(prov_options_new(&opts), PROV_RESULT_OK);
    CHECK_RC(prov_options_set_offline(opts, true), PROV_RESULT_OK);
    CHECK_RC(prov_options_set_cache_dir(opts, dir), PROV_RESULT_OK);

    test_version();
    test_messages();
    test_null_arguments(opts, crate_path, repo);
    test_report_and_handles(opts, crate_path, repo);
    test_corrupt_crates(opts, crate_path, repo, dir);
    test_registry(opts);

    prov_options_free(opts);
    prov_options_free(opts); /* double free: detected and ignored */
    return check_finish("errors");
}
