/* Small assertion helpers shared by the C tests (not part of the API). */
#ifndef PROV_TEST_CHECK_H
#define PROV_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crate_provenance.h"

static int check_failures = 0;

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__,     \
                    #cond);                                                      \
            check_failures++;                                                    \
        }                                                                        \
    } while (0)

/* Compare a prov_result with an expected code, printing both names on failure. */
#define CHECK_RC(expr, want)                                                     \
    do {                                                                         \
        prov_result check_rc_ = (expr);                                          \
        prov_result check_want_ = (want);                                        \
        if (check_rc_ != check_want_) {                                          \
            const char *check_g_ = prov_result_name(check_rc_);                  \
            const char *check_w_ = prov_result_name(check_want_);                \
            fprintf(stderr, "%s:%d: %s returned %u (%s), expected %u (%s)\n",     \
                    __FILE__, __LINE__, #expr, (unsigned)check_rc_,              \
                    check_g_ ? check_g_ : "?", (unsigned)check_want_,            \
                    check_w_ ? check_w_ : "?");                                  \
            check_failures++;                                                    \
        }                                                                        \
    } while (0)

static int check_finish(const char *name) {
    if (check_failures) {
        fprintf(stderr, "%s: %d check(s) FAILED\n", name, check_failures);
        return 1;
    }
    printf("%s: all checks passed\n", name);
    return 0;
}

#endif
