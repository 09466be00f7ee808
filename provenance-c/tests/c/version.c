/*
 * version (SECURITY.md B10): the header a program was compiled with against the library it
 * runs with. The API has no caller-allocated structs (every type is an opaque handle), so there
 * is no struct size field to get wrong; the check is `prov_check_version(PROV_VERSION_STRING)`.
 *
 *   version
 *
 * Built twice by tests/c_harness.rs: against include/crate_provenance.h (expects a match), and
 * with -DPROV_TEST_EXPECT_MISMATCH against a copy of the header whose version macros name another
 * release (expects PROV_RESULT_VERSION_MISMATCH, as a program built against an older or newer
 * header would see).
 */
#include "check.h"

static void b10_version_check(void) {
    char want[64];
    snprintf(want, sizeof want, "%d.%d.%d", PROV_VERSION_MAJOR, PROV_VERSION_MINOR,
             PROV_VERSION_PATCH);
    CHECK(strcmp(want, PROV_VERSION_STRING) == 0);
    const char *lib = prov_version();
    CHECK(lib != NULL);
    printf("header %s, library %s\n", PROV_VERSION_STRING, lib ? lib : "(null)");
#ifdef PROV_TEST_EXPECT_MISMATCH
    CHECK(strcmp(lib, PROV_VERSION_STRING) != 0);
    CHECK_RC(prov_check_version(PROV_VERSION_STRING), PROV_RESULT_VERSION_MISMATCH);
    /* The code has its own name and message for the program to print. */
    CHECK(strcmp(prov_result_name(PROV_RESULT_VERSION_MISMATCH), "version_mismatch") == 0);
    char msg[256];
    CHECK(prov_result_message(PROV_RESULT_VERSION_MISMATCH, msg, sizeof msg) <= sizeof msg);
    CHECK(strstr(msg, "crate_provenance.h") != NULL);
    printf("prov_check_version: %s (%s)\n", prov_result_name(PROV_RESULT_VERSION_MISMATCH), msg);
#else
    CHECK(strcmp(lib, PROV_VERSION_STRING) == 0);
    CHECK_RC(prov_check_version(PROV_VERSION_STRING), PROV_RESULT_OK);
#endif
    /* Only the exact version matches (no ABI stability before 1.0). */
    char other[80];
    snprintf(other, sizeof other, "%s.1", lib);
    CHECK_RC(prov_check_version(other), PROV_RESULT_VERSION_MISMATCH);
    CHECK_RC(prov_check_version(""), PROV_RESULT_VERSION_MISMATCH);
    CHECK_RC(prov_check_version("\xff"), PROV_RESULT_VERSION_MISMATCH);
    CHECK_RC(prov_check_version(lib), PROV_RESULT_OK);
    CHECK_RC(prov_check_version(NULL), PROV_RESULT_NULL_PARAMETER);
}

int main(void) {
    b10_version_check();
    return check_finish("version");
}
