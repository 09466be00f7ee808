/*
 * smoke: verify a .crate file against its repository, read the verdict, the differences and
 * the JSON, free everything.
 *
 *   smoke CRATE_FILE REPO EXPECTED_VERDICT [JSON_OUT]
 *
 * Prints "verdict: V", one "difference: KIND PATH" per difference, and writes the report JSON
 * (exact bytes, no trailing newline) to JSON_OUT if given.
 */
#include "check.h"

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s CRATE_FILE REPO EXPECTED_VERDICT [JSON_OUT]\n", argv[0]);
        return 2;
    }
    const char *crate_path = argv[1], *repo = argv[2], *expected = argv[3];
    const char *json_out = argc > 4 ? argv[4] : NULL;

    CHECK(strcmp(prov_version(), PROV_VERSION_STRING) == 0);

    prov_options *opts = NULL;
    CHECK_RC(prov_options_new(&opts), PROV_RESULT_OK);
    CHECK(opts != NULL);
    CHECK_RC(prov_options_set_offline(opts, true), PROV_RESULT_OK);

    prov_report *report = NULL;
    prov_error *err = NULL;
    prov_result rc = prov_verify_crate_file_ex(opts, crate_path, repo, &report, &err);
    if (rc != PROV_RESULT_OK) {
        const char *msg = "";
        size_t msg_len = 0;
        CHECK_RC(prov_error_message(err, &msg, &msg_len), PROV_RESULT_OK);
        CHECK_RC(prov_error_code(err), rc);
        fprintf(stderr, "verify failed: %s: %.*s\n", prov_result_name(rc), (int)msg_len, msg);
        prov_error_free(err);
        prov_options_free(opts);
        return 1;
    }
    CHECK(err == NULL); /* untouched on success */
    CHECK(report != NULL);

    const char *verdict = prov_report_verdict(report);
    CHECK(verdict != NULL);
    printf("verdict: %s\n", verdict ? verdict : "(null)");
    CHECK(verdict != NULL && strcmp(verdict, expected) == 0);

    size_t n = prov_report_difference_count(report);
    printf("differences: %zu\n", n);
    for (size_t i = 0; i < n; i++) {
        const char *path = NULL;
        size_t len = 0;
        CHECK_RC(prov_report_difference_path(report, i, &path, &len), PROV_RESULT_OK);
        CHECK(path != NULL && strlen(path) == len);
        const char *kind = prov_report_difference_kind(report, i);
        CHECK(kind != NULL);
        printf("difference: %s %.*s\n", kind ? kind : "(null)", (int)len, path ? path : "");
    }

    const char *json = NULL;
    size_t json_len = 0;
    CHECK_RC(prov_report_json(report, &json, &json_len), PROV_RESULT_OK);
    CHECK(json != NULL && json_len > 0);
    CHECK(json != NULL && json[json_len] == '\0' && strlen(json) == json_len);
    CHECK(json != NULL && strstr(json, "\"schema_version\": 1") != NULL);
    if (json_out && json) {
        FILE *f = fopen(json_out, "wb");
        CHECK(f != NULL);
        if (f) {
            CHECK(fwrite(json, 1, json_len, f) == json_len);
            CHECK(fclose(f) == 0);
        }
    }

    prov_report_free(report);
    prov_options_free(opts);
    return check_finish("smoke");
}
