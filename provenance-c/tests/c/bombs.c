/*
 * bombs (SECURITY.md B6): hostile inputs with the default limits give a typed code, the host
 * process survives with bounded memory, and the next call works.
 *
 *   bombs GOOD_CRATE REPO EXPECTED_VERDICT CODE_NAME=BOMB_CRATE...
 *
 * For each CODE_NAME=BOMB_CRATE (e.g. limit_exceeded=bomb.crate), verifying BOMB_CRATE must
 * fail with the code named CODE_NAME, and GOOD_CRATE must then verify to EXPECTED_VERDICT.
 * Prints "peak RSS: N kB" (VmHWM of this process) at the end.
 */
#include "check.h"

static long status_kb(const char *field) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    long value = -1;
    size_t n = strlen(field);
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, field, n) == 0 && line[n] == ':') {
            value = strtol(line + n + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return value;
}

static void b06_bomb(const prov_options *opts, const char *want_name, const char *bomb) {
    prov_report *report = (prov_report *)0x1;
    prov_error *err = NULL;
    prov_result rc = prov_verify_crate_file_ex(opts, bomb, NULL, &report, &err);
    const char *got = prov_result_name(rc);
    CHECK(got != NULL && strcmp(got, want_name) == 0);
    CHECK(report == (prov_report *)0x1);
    const char *msg = NULL;
    size_t len = 0;
    CHECK(err != NULL);
    CHECK_RC(prov_error_message(err, &msg, &len), PROV_RESULT_OK);
    printf("%s -> %s: %s\n", strrchr(bomb, '/') ? strrchr(bomb, '/') + 1 : bomb,
           got ? got : "?", msg ? msg : "");
    prov_error_free(err);
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: %s GOOD_CRATE REPO EXPECTED_VERDICT CODE_NAME=BOMB_CRATE...\n",
                argv[0]);
        return 2;
    }
    const char *good = argv[1], *repo = argv[2], *expected = argv[3];
    prov_options *opts = NULL;
    CHECK_RC(prov_options_new(&opts), PROV_RESULT_OK);
    CHECK_RC(prov_options_set_offline(opts, true), PROV_RESULT_OK);
    for (int i = 4; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        CHECK(eq != NULL);
        if (!eq) continue;
        *eq = '\0';
        b06_bomb(opts, argv[i], eq + 1);
        /* The host survived; the next call works. */
        prov_report *report = NULL;
        CHECK_RC(prov_verify_crate_file(opts, good, repo, &report), PROV_RESULT_OK);
        const char *verdict = report ? prov_report_verdict(report) : NULL;
        CHECK(verdict != NULL && strcmp(verdict, expected) == 0);
        prov_report_free(report);
    }
    prov_options_free(opts);
    printf("peak RSS: %ld kB\n", status_kb("VmHWM"));
    return check_finish("bombs");
}
