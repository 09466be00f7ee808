/*
 * consistency: verify registry crates through the C API, one result file per crate version,
 * for comparison with core (and so with the CLI and Python, which the Python suite compares).
 *
 *   consistency INDEX_URL CACHE_DIR FROM TO OUT_DIR NAME@VERSION...
 *
 * For the i-th version, OUT_DIR/i.json receives the report JSON (`prov_report_json`), or
 * OUT_DIR/i.kind and OUT_DIR/i.message the error's kind (`prov_result_name`) and message.
 */
#include "check.h"

static void write_file(const char *dir, size_t i, const char *ext, const char *data, size_t len) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%zu.%s", dir, i, ext);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (f) {
        CHECK(fwrite(data, 1, len, f) == len);
        CHECK(fclose(f) == 0);
    }
}

int main(int argc, char **argv) {
    if (argc < 7) {
        fprintf(stderr, "usage: %s INDEX_URL CACHE_DIR FROM TO OUT_DIR NAME@VERSION...\n", argv[0]);
        return 2;
    }
    prov_options *opts = NULL;
    CHECK_RC(prov_options_new(&opts), PROV_RESULT_OK);
    CHECK_RC(prov_options_set_index_url(opts, argv[1]), PROV_RESULT_OK);
    CHECK_RC(prov_options_set_cache_dir(opts, argv[2]), PROV_RESULT_OK);
    CHECK_RC(prov_options_set_allow_insecure_transport(NULL, true), PROV_RESULT_NULL_PARAMETER);
    CHECK_RC(prov_options_set_allow_insecure_transport(opts, true), PROV_RESULT_OK);
    CHECK_RC(prov_options_add_mirror(opts, argv[3], argv[4]), PROV_RESULT_OK);
    for (int a = 6; a < argc; a++) {
        size_t i = (size_t)(a - 6);
        char spec[512];
        snprintf(spec, sizeof spec, "%s", argv[a]);
        char *at = strchr(spec, '@');
        CHECK(at != NULL);
        if (!at) continue;
        *at = '\0';
        prov_report *report = NULL;
        prov_error *err = NULL;
        prov_result rc = prov_verify_crate_ex(opts, spec, at + 1, &report, &err);
        if (rc == PROV_RESULT_OK) {
            const char *json = NULL;
            size_t len = 0;
            CHECK_RC(prov_report_json(report, &json, &len), PROV_RESULT_OK);
            if (json) write_file(argv[5], i, "json", json, len);
            prov_report_free(report);
        } else {
            const char *name = prov_result_name(rc);
            CHECK(name != NULL);
            if (name) write_file(argv[5], i, "kind", name, strlen(name));
            const char *msg = NULL;
            size_t len = 0;
            CHECK_RC(prov_error_message(err, &msg, &len), PROV_RESULT_OK);
            if (msg) write_file(argv[5], i, "message", msg, len);
            prov_error_free(err);
        }
    }
    prov_options_free(opts);
    return check_finish("consistency");
}
