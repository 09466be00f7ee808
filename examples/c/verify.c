/*
 * verify: the smallest complete program against the crate-provenance C API.
 *
 *   verify CRATE_FILE [REPO]
 *
 * Verifies a local .crate file against REPO (a URL or a local repository; default: the
 * `package.repository` of the crate) and prints the JSON report followed by one newline: the
 * same bytes as `crate-provenance verify --crate-file CRATE_FILE --repo REPO --format json`.
 * Exit status: 0 for the verdict "match", 1 for any other verdict, 2 on errors.
 *
 * Build (after `make -C provenance-c install PREFIX=...`):
 *   cc verify.c $(pkg-config --cflags --libs crate-provenance) -o verify
 */
#include <crate_provenance.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s CRATE_FILE [REPO]\n", argv[0]);
        return 2;
    }
    prov_options *opts = NULL;
    prov_report *report = NULL;
    prov_error *err = NULL;
    int status = 2;

    prov_result rc = prov_options_new(&opts);
    if (rc == PROV_RESULT_OK)
        rc = prov_verify_crate_file_ex(opts, argv[1], argc > 2 ? argv[2] : NULL, &report, &err);
    if (rc != PROV_RESULT_OK) {
        const char *msg = NULL;
        size_t len = 0;
        if (err && prov_error_message(err, &msg, &len) == PROV_RESULT_OK) {
            fprintf(stderr, "error (%s): %.*s\n", prov_result_name(rc), (int)len, msg);
        } else {
            char buf[256];
            prov_result_message(rc, buf, sizeof buf);
            fprintf(stderr, "error (%s): %s\n", prov_result_name(rc), buf);
        }
    } else {
        const char *json = NULL;
        size_t len = 0;
        if (prov_report_json(report, &json, &len) == PROV_RESULT_OK) {
            fwrite(json, 1, len, stdout);
            fputc('\n', stdout);
            status = strcmp(prov_report_verdict(report), "match") == 0 ? 0 : 1;
        }
    }
    prov_error_free(err);
    prov_report_free(report);
    prov_options_free(opts);
    return status;
}
