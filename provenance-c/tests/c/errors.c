/*
 * errors: the SECURITY.md §4.6 cases of the C API that need no special build, one per CASE:
 *
 *   b02      NULL pointers, non-UTF-8 / empty / huge strings, zero-length buffers, handles of the
 *            wrong type, never handed out, used after free, freed twice
 *   b03      ownership of returned strings: borrowed strings stay valid and unchanged until
 *            their owner is freed, static ones forever; everything is freed only through the
 *            `_free` functions (the leak check is LSan under ASan, and valgrind)
 *   b07      every code has a stable number, name and message (a snapshot, also at compile time)
 *   corrupt  corrupt crate files and the registry entry point give typed codes
 *
 * Must run clean under ASan/UBSan and valgrind.
 *
 *   errors CASE CRATE_FILE REPO SCRATCH_DIR
 *
 * For b03, CRATE_FILE should give a report with differences (the tampered fixture).
 */
#define _POSIX_C_SOURCE 200809L
#include <unistd.h>

#include "check.h"

#define SENTINEL ((void *)0x1)

/* ------------------------------------------------------------------ helpers */

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
    printf("  %.60s%s -> %s: %.200s\n", crate_path, strlen(crate_path) > 60 ? "..." : "",
           prov_result_name(want), msg ? msg : "");
    prov_error_free(err);
}

/* Verify that must succeed with `verdict`. */
static void expect_verdict(const prov_options *opts, const char *crate_path, const char *repo,
                           const char *verdict) {
    prov_report *report = NULL;
    CHECK_RC(prov_verify_crate_file(opts, crate_path, repo, &report), PROV_RESULT_OK);
    const char *got = report ? prov_report_verdict(report) : NULL;
    CHECK(got != NULL && strcmp(got, verdict) == 0);
    prov_report_free(report);
}

/* ------------------------------------------------------------------ B2 */

static void b02_null_arguments(prov_options *opts, const char *crate_path, const char *repo) {
    /* _free accepts NULL. */
    prov_options_free(NULL);
    prov_report_free(NULL);
    prov_error_free(NULL);
    prov_cancel_free(NULL);

    CHECK_RC(prov_options_new(NULL), PROV_RESULT_NULL_PARAMETER);
    CHECK_RC(prov_options_set_cache_dir(NULL, "/tmp"), PROV_RESULT_NULL_PARAMETER);
    CHECK_RC(prov_options_set_cache_dir(opts, NULL), PROV_RESULT_NULL_PARAMETER);
    CHECK_RC(prov_options_set_offline(NULL, true), PROV_RESULT_NULL_PARAMETER);
    CHECK_RC(prov_options_set_assisted(NULL, true), PROV_RESULT_NULL_PARAMETER);
    CHECK_RC(prov_options_set_older_rules(NULL, true), PROV_RESULT_NULL_PARAMETER);
    CHECK_RC(prov_options_set_index_url(NULL, "https://index.crates.io/"),
             PROV_RESULT_NULL_PARAMETER);
    CHECK_RC(prov_options_set_index_url(opts, NULL), PROV_RESULT_NULL_PARAMETER);
    CHECK_RC(prov_check_version(NULL), PROV_RESULT_NULL_PARAMETER);

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

static void b02_handles(prov_options *opts, const char *crate_path, const char *repo) {
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
    CHECK(prov_report_difference_kind(report, (size_t)-1) == NULL);
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
    CHECK_RC(prov_error_code((const prov_error *)report), PROV_RESULT_INVALID_HANDLE);
    CHECK_RC(prov_cancel_trigger((const prov_cancel *)report), PROV_RESULT_INVALID_HANDLE);
    /* A pointer the library never handed out is refused without being dereferenced. */
    int not_a_handle = 0;
    CHECK(prov_report_verdict((const prov_report *)&not_a_handle) == NULL);
    CHECK_RC(prov_options_set_offline((prov_options *)&not_a_handle, true),
             PROV_RESULT_INVALID_HANDLE);
    prov_options_free((prov_options *)&not_a_handle); /* ignored */
    prov_report_free((prov_report *)&not_a_handle);   /* ignored */
    CHECK(not_a_handle == 0);

    /* Use after free and double free are detected (no UB, clean under ASan/valgrind). */
    prov_report_free(report);
    CHECK(prov_report_verdict(report) == NULL);
    CHECK(prov_report_difference_count(report) == 0);
    CHECK_RC(prov_report_json(report, &s, &n), PROV_RESULT_INVALID_HANDLE);
    CHECK(s == SENTINEL && n == 7);
    prov_report_free(report);

    prov_error *err = NULL;
    CHECK_RC(prov_verify_crate_file_ex(opts, "", repo, &report, &err), PROV_RESULT_NOT_FOUND);
    prov_error_free(err);
    CHECK_RC(prov_error_code(err), PROV_RESULT_INVALID_HANDLE);
    CHECK_RC(prov_error_message(err, &s, &n), PROV_RESULT_INVALID_HANDLE);
    prov_error_free(err);

    prov_options *freed = NULL;
    CHECK_RC(prov_options_new(&freed), PROV_RESULT_OK);
    prov_options_free(freed);
    CHECK_RC(prov_options_set_offline(freed, true), PROV_RESULT_INVALID_HANDLE);
    report = SENTINEL;
    CHECK_RC(prov_verify_crate_file(freed, crate_path, repo, &report), PROV_RESULT_INVALID_HANDLE);
    CHECK(report == SENTINEL);
    prov_options_free(freed);
}

/* Non-UTF-8, empty and huge strings; zero-length buffers. */
static void b02_strings(const prov_options *opts, const char *crate_path, const char *repo,
                        const char *dir) {
    char path[4096], link[4096];

    /* Paths are bytes on Unix: a crate file and a repository under non-UTF-8 names work. */
    size_t len = 0;
    unsigned char *bytes = read_file(crate_path, &len);
    CHECK(bytes != NULL);
    if (bytes) {
        snprintf(path, sizeof path, "%s/b02-\xff\xfe-crate.crate", dir);
        write_file(path, bytes, len);
        free(bytes);
        snprintf(link, sizeof link, "%s/b02-\xc0\x80-repo.git", dir);
        unlink(link);
        CHECK(symlink(repo, link) == 0);
        expect_verdict(opts, path, link, "match");
        unlink(link);
        unlink(path);
    }
    /* Names, versions and index URLs must be UTF-8. */
    prov_report *report = SENTINEL;
    CHECK_RC(prov_verify_crate(opts, "ry\xffu", "1.0.23", &report), PROV_RESULT_INVALID_UTF8);
    CHECK_RC(prov_verify_crate(opts, "ryu", "1.\xc0\x80", &report), PROV_RESULT_INVALID_UTF8);
    CHECK(report == SENTINEL);
    prov_options *o = NULL;
    CHECK_RC(prov_options_new(&o), PROV_RESULT_OK);
    CHECK_RC(prov_options_set_index_url(o, "https://index.\xff.example/"), PROV_RESULT_INVALID_UTF8);

    /* Empty strings: typed errors or verdicts, never a crash; *out untouched on errors. An
     * empty repository path names no repository: the verdict says so. */
    expect_verify_error(opts, "", repo, PROV_RESULT_NOT_FOUND);
    expect_verdict(opts, crate_path, "", "repository_not_found");
    CHECK_RC(prov_verify_crate(opts, "", "1.0.23", &report), PROV_RESULT_INVALID_INPUT);
    CHECK_RC(prov_verify_crate(opts, "ryu", "", &report), PROV_RESULT_INVALID_INPUT);
    CHECK(report == SENTINEL);
    /* An empty cache directory would mean the current directory: refused. */
    CHECK_RC(prov_options_set_cache_dir(o, ""), PROV_RESULT_INVALID_INPUT);
    /* An empty index URL is refused when used (never a request). */
    CHECK_RC(prov_options_set_index_url(o, ""), PROV_RESULT_OK);
    CHECK_RC(prov_verify_crate(o, "ryu", "1.0.23", &report), PROV_RESULT_URL_POLICY);
    CHECK(report == SENTINEL);
    prov_options_free(o);

    /* Huge strings (1 MiB): typed errors. */
    size_t huge = (size_t)1 << 20;
    char *big = malloc(huge + 1);
    CHECK(big != NULL);
    if (big) {
        memset(big, 'a', huge);
        big[huge] = '\0';
        expect_verify_error(opts, big, repo, PROV_RESULT_IO); /* ENAMETOOLONG */
        expect_verdict(opts, crate_path, big, "repository_not_found");
        prov_options *o2 = NULL;
        CHECK_RC(prov_options_new(&o2), PROV_RESULT_OK);
        CHECK_RC(prov_options_set_index_url(o2, big), PROV_RESULT_OK);
        CHECK_RC(prov_verify_crate(o2, "ryu", "1.0.23", &report), PROV_RESULT_URL_POLICY);
        /* The cache is opened first: its name is too long (ENAMETOOLONG). */
        CHECK_RC(prov_options_set_cache_dir(o2, big), PROV_RESULT_OK);
        CHECK_RC(prov_verify_crate(o2, "ryu", "1.0.23", &report), PROV_RESULT_IO);
        CHECK(report == SENTINEL);
        prov_options_free(o2);
        report = SENTINEL;
        CHECK_RC(prov_verify_crate(opts, big, "1.0.23", &report), PROV_RESULT_INVALID_INPUT);
        CHECK_RC(prov_verify_crate(opts, "ryu", big, &report), PROV_RESULT_INVALID_INPUT);
        CHECK(report == SENTINEL);
        free(big);
    }

    /* Zero-length and NULL buffers only ask for the size; nothing is written. */
    char buf[4] = {'x', 'x', 'x', 'x'};
    size_t needed = prov_result_message(PROV_RESULT_INVALID_ARCHIVE, buf, 0);
    CHECK(needed > 1);
    CHECK(buf[0] == 'x' && buf[3] == 'x');
    CHECK(prov_result_message(PROV_RESULT_INVALID_ARCHIVE, NULL, 100) == needed);
    /* Any uint32_t is a valid code argument. */
    CHECK(prov_result_message(0xffffffffu, buf, sizeof buf) > sizeof buf);
    CHECK(buf[3] == '\0');
}

/* ------------------------------------------------------------------ B3 */

static void b03_ownership(const prov_options *opts, const char *crate_path, const char *repo) {
    /* Static strings outlive every handle. */
    const char *version = prov_version();
    CHECK(version == prov_version());
    const char *name = prov_result_name(PROV_RESULT_LIMIT_EXCEEDED);
    CHECK(name != NULL && name == prov_result_name(PROV_RESULT_LIMIT_EXCEEDED));

    prov_report *report = NULL;
    CHECK_RC(prov_verify_crate_file(opts, crate_path, repo, &report), PROV_RESULT_OK);
    if (!report) return;
    size_t count = prov_report_difference_count(report);
    CHECK(count > 0);

    /* Borrowed: the same pointer on every call, valid and unchanged until prov_report_free. */
    const char *json = NULL, *json2 = NULL;
    size_t json_len = 0, json_len2 = 0;
    CHECK_RC(prov_report_json(report, &json, &json_len), PROV_RESULT_OK);
    char *json_copy = malloc(json_len + 1);
    if (json && json_copy) memcpy(json_copy, json, json_len + 1);
    const char **paths = calloc(count ? count : 1, sizeof *paths);
    const char **kinds = calloc(count ? count : 1, sizeof *kinds);
    for (size_t i = 0; i < count; i++) {
        size_t n = 0;
        CHECK_RC(prov_report_difference_path(report, i, &paths[i], &n), PROV_RESULT_OK);
        CHECK(paths[i] != NULL && strlen(paths[i]) == n);
        kinds[i] = prov_report_difference_kind(report, i);
        CHECK(kinds[i] != NULL);
    }
    const char *verdict = prov_report_verdict(report);
    CHECK(verdict != NULL && strcmp(verdict, "mismatch") == 0);

    /* Other calls in between (another report, errors) do not move or change them. */
    prov_report *other = NULL;
    CHECK_RC(prov_verify_crate_file(opts, crate_path, repo, &other), PROV_RESULT_OK);
    prov_report_free(other);
    CHECK_RC(prov_report_json(report, &json2, &json_len2), PROV_RESULT_OK);
    CHECK(json2 == json && json_len2 == json_len);
    CHECK(json && json_copy && strcmp(json, json_copy) == 0 && json[json_len] == '\0');
    for (size_t i = 0; i < count; i++) {
        const char *p = NULL;
        size_t n = 0;
        CHECK_RC(prov_report_difference_path(report, i, &p, &n), PROV_RESULT_OK);
        CHECK(p == paths[i]);
        CHECK(prov_report_difference_kind(report, i) == kinds[i]);
    }
    prov_report_free(report);
    /* The verdict and kinds are static strings: still readable after the report is freed
     * (ASan/valgrind would flag a read of freed memory). */
    CHECK(strcmp(verdict, "mismatch") == 0);
    for (size_t i = 0; i < count; i++) CHECK(strlen(kinds[i]) > 0);
    free(paths);
    free(kinds);
    free(json_copy);

    /* Error messages belong to their prov_error; two errors are independent. */
    prov_error *e1 = NULL, *e2 = NULL;
    prov_report *unused = SENTINEL;
    CHECK_RC(prov_verify_crate_file_ex(opts, "", repo, &unused, &e1), PROV_RESULT_NOT_FOUND);
    CHECK_RC(prov_verify_crate_file_ex(opts, NULL, repo, &unused, &e2), PROV_RESULT_NULL_PARAMETER);
    CHECK(e1 != NULL && e2 != NULL && e1 != e2);
    const char *m1 = NULL, *m2 = NULL;
    size_t l1 = 0, l2 = 0;
    CHECK_RC(prov_error_message(e1, &m1, &l1), PROV_RESULT_OK);
    CHECK_RC(prov_error_message(e2, &m2, &l2), PROV_RESULT_OK);
    char *m2_copy = malloc(l2 + 1);
    if (m2 && m2_copy) memcpy(m2_copy, m2, l2 + 1);
    prov_error_free(e1);
    CHECK(m2 && m2_copy && strcmp(m2, m2_copy) == 0);
    prov_error_free(e2);
    free(m2_copy);
    CHECK(unused == SENTINEL);
    /* Every handle above was freed through its _free function; the leak checkers (LSan,
     * valgrind --leak-check=full) fail the run if anything the library allocated leaked. */
}

/* ------------------------------------------------------------------ B7 */

/* The numbers are ABI (never renumbered or reused): a compile-time snapshot of the header. */
_Static_assert(PROV_RESULT_OK == 0, "ABI");
_Static_assert(PROV_RESULT_NULL_PARAMETER == 1, "ABI");
_Static_assert(PROV_RESULT_PANIC == 2, "ABI");
_Static_assert(PROV_RESULT_INVALID_UTF8 == 3, "ABI");
_Static_assert(PROV_RESULT_INDEX_OUT_OF_RANGE == 4, "ABI");
_Static_assert(PROV_RESULT_INVALID_HANDLE == 5, "ABI");
_Static_assert(PROV_RESULT_VERSION_MISMATCH == 6, "ABI");
_Static_assert(PROV_RESULT_IO == 100, "ABI");
_Static_assert(PROV_RESULT_NOT_FOUND == 101, "ABI");
_Static_assert(PROV_RESULT_PERMISSION_DENIED == 102, "ABI");
_Static_assert(PROV_RESULT_INVALID_ARCHIVE == 103, "ABI");
_Static_assert(PROV_RESULT_INVALID_METADATA == 104, "ABI");
_Static_assert(PROV_RESULT_LIMIT_EXCEEDED == 105, "ABI");
_Static_assert(PROV_RESULT_GIT == 106, "ABI");
_Static_assert(PROV_RESULT_NETWORK == 107, "ABI");
_Static_assert(PROV_RESULT_CRATE_NOT_FOUND == 108, "ABI");
_Static_assert(PROV_RESULT_CHECKSUM_MISMATCH == 109, "ABI");
_Static_assert(PROV_RESULT_URL_POLICY == 110, "ABI");
_Static_assert(PROV_RESULT_INVALID_INPUT == 111, "ABI");
_Static_assert(PROV_RESULT_UNSUPPORTED == 112, "ABI");
_Static_assert(PROV_RESULT_INTERRUPTED == 113, "ABI");
_Static_assert(PROV_RESULT_INTERNAL == 114, "ABI");

static const struct {
    prov_result code;
    const char *name;
} CODES[] = {
    {PROV_RESULT_OK, "ok"},
    {PROV_RESULT_NULL_PARAMETER, "null_parameter"},
    {PROV_RESULT_PANIC, "panic"},
    {PROV_RESULT_INVALID_UTF8, "invalid_utf8"},
    {PROV_RESULT_INDEX_OUT_OF_RANGE, "index_out_of_range"},
    {PROV_RESULT_INVALID_HANDLE, "invalid_handle"},
    {PROV_RESULT_VERSION_MISMATCH, "version_mismatch"},
    {PROV_RESULT_IO, "io"},
    {PROV_RESULT_NOT_FOUND, "not_found"},
    {PROV_RESULT_PERMISSION_DENIED, "permission_denied"},
    {PROV_RESULT_INVALID_ARCHIVE, "invalid_archive"},
    {PROV_RESULT_INVALID_METADATA, "invalid_metadata"},
    {PROV_RESULT_LIMIT_EXCEEDED, "limit_exceeded"},
    {PROV_RESULT_GIT, "git"},
    {PROV_RESULT_NETWORK, "network"},
    {PROV_RESULT_CRATE_NOT_FOUND, "crate_not_found"},
    {PROV_RESULT_CHECKSUM_MISMATCH, "checksum_mismatch"},
    {PROV_RESULT_URL_POLICY, "url_policy"},
    {PROV_RESULT_INVALID_INPUT, "invalid_input"},
    {PROV_RESULT_UNSUPPORTED, "unsupported"},
    {PROV_RESULT_INTERRUPTED, "interrupted"},
    {PROV_RESULT_INTERNAL, "internal"},
};
#define NCODES (sizeof CODES / sizeof CODES[0])

static void b07_codes_and_messages(void) {
    for (size_t i = 0; i < NCODES; i++) {
        prov_result code = CODES[i].code;
        const char *name = prov_result_name(code);
        CHECK(name != NULL && strcmp(name, CODES[i].name) == 0);
        size_t needed = prov_result_message(code, NULL, 0);
        CHECK(needed > 1);
        char *buf = malloc(needed);
        CHECK(prov_result_message(code, buf, needed) == needed);
        CHECK(strlen(buf) + 1 == needed);
        /* Distinct codes have distinct messages. */
        for (size_t j = 0; j < i; j++) {
            size_t other = prov_result_message(CODES[j].code, NULL, 0);
            char *obuf = malloc(other);
            prov_result_message(CODES[j].code, obuf, other);
            CHECK(strcmp(buf, obuf) != 0);
            free(obuf);
        }
        /* Truncation: always NUL-terminated, same return value. */
        char small[4] = {'x', 'x', 'x', 'x'};
        CHECK(prov_result_message(code, small, sizeof small) == needed);
        CHECK(small[3] == '\0' || strlen(small) < sizeof small);
        CHECK(strncmp(small, buf, strlen(small)) == 0);
        free(buf);
    }
    /* No other code in 0..1000 has a name: the table above is complete. */
    size_t named = 0;
    for (prov_result c = 0; c < 1000; c++) named += prov_result_name(c) != NULL;
    CHECK(named == NCODES);
    /* NULL buffer with a non-zero length only asks for the size. */
    CHECK(prov_result_message(PROV_RESULT_OK, NULL, 100) == 3);
    /* Unknown codes are fine. */
    char buf[64];
    CHECK(prov_result_message(424242u, buf, sizeof buf) > 0);
    CHECK(strstr(buf, "424242") != NULL);
    CHECK(prov_result_name(424242u) == NULL);
}

/* ------------------------------------------------------------------ not a §4.6 case */

static void corrupt_crates(const prov_options *opts, const char *crate_path, const char *repo,
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

    /* The registry entry point with offline options and an empty cache: a typed error, never
     * a crash, and *out stays untouched. */
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
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: %s b02|b03|b07|corrupt CRATE_FILE REPO SCRATCH_DIR\n", argv[0]);
        return 2;
    }
    const char *which = argv[1], *crate_path = argv[2], *repo = argv[3], *dir = argv[4];

    prov_options *opts = NULL;
    CHECK_RC(prov_options_new(&opts), PROV_RESULT_OK);
    CHECK_RC(prov_options_set_offline(opts, true), PROV_RESULT_OK);
    CHECK_RC(prov_options_set_cache_dir(opts, dir), PROV_RESULT_OK);

    if (strcmp(which, "b02") == 0) {
        b02_null_arguments(opts, crate_path, repo);
        b02_handles(opts, crate_path, repo);
        b02_strings(opts, crate_path, repo, dir);
    } else if (strcmp(which, "b03") == 0) {
        b03_ownership(opts, crate_path, repo);
    } else if (strcmp(which, "b07") == 0) {
        b07_codes_and_messages();
    } else if (strcmp(which, "corrupt") == 0) {
        corrupt_crates(opts, crate_path, repo, dir);
    } else {
        fprintf(stderr, "unknown case %s\n", which);
        return 2;
    }

    prov_options_free(opts);
    prov_options_free(opts); /* double free: detected and ignored */
    char name[64];
    snprintf(name, sizeof name, "errors %s", which);
    return check_finish(name);
}
