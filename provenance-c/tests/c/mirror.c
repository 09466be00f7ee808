/*
 * mirror: prov_options_add_mirror. Verifies CRATE_FILE against its package.repository with
 * the mirror FROM -> TO (no repository argument), writes the report JSON to JSON_OUT, and
 * checks the refusals of the function itself.
 *
 *   mirror CRATE_FILE CACHE_DIR FROM TO JSON_OUT
 */
#include "check.h"

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: %s CRATE_FILE CACHE_DIR FROM TO JSON_OUT\n", argv[0]);
        return 2;
    }
    const char *crate_path = argv[1], *cache = argv[2], *from = argv[3], *to = argv[4];
    const char *json_out = argv[5];

    prov_options *opts = NULL;
    CHECK_RC(prov_options_new(&opts), PROV_RESULT_OK);
    CHECK_RC(prov_options_set_cache_dir(opts, cache), PROV_RESULT_OK);

    /* Refusals: NULL strings and handles, transports a mirror may not smuggle in. */
    CHECK_RC(prov_options_add_mirror(NULL, from, to), PROV_RESULT_NULL_PARAMETER);
    CHECK_RC(prov_options_add_mirror(opts, NULL, to), PROV_RESULT_NULL_PARAMETER);
    CHECK_RC(prov_options_add_mirror(opts, from, NULL), PROV_RESULT_NULL_PARAMETER);
    CHECK_RC(prov_options_add_mirror(opts, from, "ext::sh"), PROV_RESULT_INVALID_INPUT);
    CHECK_RC(prov_options_add_mirror(opts, from, "ssh://git@mirror.example/"),
             PROV_RESULT_INVALID_INPUT);
    CHECK_RC(prov_options_add_mirror(opts, from, "https://u:p@mirror.example/"),
             PROV_RESULT_INVALID_INPUT);
    CHECK_RC(prov_options_add_mirror(opts, from, "git://mirror.example/"),
             PROV_RESULT_INVALID_INPUT);
    CHECK_RC(prov_options_add_mirror(opts, "", to), PROV_RESULT_INVALID_INPUT);
    CHECK_RC(prov_options_add_mirror(opts, from, to), PROV_RESULT_OK);

    prov_report *report = NULL;
    prov_error *err = NULL;
    prov_result rc = prov_verify_crate_file_ex(opts, crate_path, NULL, &report, &err);
    if (rc != PROV_RESULT_OK) {
        const char *msg = "";
        size_t msg_len = 0;
        CHECK_RC(prov_error_message(err, &msg, &msg_len), PROV_RESULT_OK);
        fprintf(stderr, "verify failed: %s: %.*s\n", prov_result_name(rc), (int)msg_len, msg);
        prov_error_free(err);
        prov_options_free(opts);
        return 1;
    }
    const char *verdict = prov_report_verdict(report);
    CHECK(verdict != NULL);
    printf("verdict: %s\n", verdict ? verdict : "(null)");
    const char *json = NULL;
    size_t json_len = 0;
    CHECK_RC(prov_report_json(report, &json, &json_len), PROV_RESULT_OK);
    FILE *f = fopen(json_out, "wb");
    CHECK(f != NULL);
    if (f && json) {
        CHECK(fwrite(json, 1, json_len, f) == json_len);
        CHECK(fclose(f) == 0);
    }
    prov_report_free(report);
    prov_options_free(opts);
    return check_finish("mirror");
}
