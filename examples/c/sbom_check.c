/*
 * sbom_check: verify every Rust crate listed in an SBOM against its upstream git repository.
 *
 *   sbom_check [OPTIONS] SBOM
 *
 * SBOM is a CycloneDX JSON document (every "purl" of the form pkg:cargo/NAME@VERSION is
 * checked, wherever it appears: components, nested components, ...) or a plain text list with
 * one NAME@VERSION (or pkg:cargo/ purl) per line, '#' starting a comment. "-" reads stdin.
 *
 * By default each crate is downloaded from crates.io and compared with the repository its
 * Cargo.toml names (prov_verify_crate). Options:
 *   --crate-dir DIR   use local files DIR/NAME-VERSION.crate instead of downloading
 *   --repo-dir DIR    with --crate-dir: compare with the local repository DIR/NAME-VERSION
 *                     (or DIR/NAME) when it exists, instead of the URL from Cargo.toml
 *   --cache-dir DIR   cache for downloads and fetched repositories
 *   --offline         never touch the network (use only the cache)
 *   --report-dir DIR  also write each JSON report to DIR/NAME-VERSION.json
 *   --annotate OUT    write the SBOM (CycloneDX JSON) back to OUT with each verified
 *                     component's verdict, commit and report digest as properties
 *                     (prov_sbom_annotate: the document `crate-provenance scan --sbom IN
 *                     --annotate OUT` writes; everything else in it is kept)
 *
 * Output: one line per distinct component, tab-separated:
 *   NAME@VERSION <TAB> VERDICT [<TAB> N differences]
 *   NAME@VERSION <TAB> error <TAB> CODE_NAME: message
 * Exit status: 0 if every component is "match", 1 if any has another verdict, 2 on errors.
 *
 * Build (after `make -C provenance-c install PREFIX=...`):
 *   cc sbom_check.c $(pkg-config --cflags --libs crate-provenance) -o sbom_check
 *
 * This file is meant to be copied: it uses only <crate_provenance.h> and the C standard
 * library, and parses just enough JSON to find purls (no JSON library needed).
 */
#include <crate_provenance.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct component {
    char *name;
    char *version;
};

struct list {
    struct component *items;
    size_t len, cap;
};

/* ---------------------------------------------------------------- small helpers */

static void *xrealloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        fprintf(stderr, "sbom_check: out of memory\n");
        exit(2);
    }
    return q;
}

static char *xstrndup(const char *s, size_t n) {
    char *d = xrealloc(NULL, n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

static char *read_all(FILE *f, size_t *len) {
    size_t cap = 1 << 16, n = 0;
    char *buf = xrealloc(NULL, cap);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n - 1 == 0) buf = xrealloc(buf, cap *= 2);
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* Crate names: ASCII letters, digits, '-' and '_' (what crates.io accepts). */
static int valid_name(const char *s) {
    if (!*s || strlen(s) > 64) return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_') return 0;
    return 1;
}

/* Versions: semver characters only. */
static int valid_version(const char *s) {
    if (!*s || strlen(s) > 128) return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr(".-+", *s)) return 0;
    return 1;
}

/* Print untrusted text safely (SBOMs come from anywhere): printable ASCII only. */
static void print_escaped(FILE *out, const char *s) {
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c < 0x7f && c != '\\') fputc(c, out);
        else fprintf(out, "\\x%02x", c);
    }
}

/* ASCII case-insensitive prefix test (strncasecmp is POSIX, not C). */
static int has_prefix_icase(const char *s, const char *prefix) {
    for (; *prefix; s++, prefix++)
        if (tolower((unsigned char)*s) != tolower((unsigned char)*prefix)) return 0;
    return 1;
}

static int hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Percent-decode in place (purl components are percent-encoded). */
static void percent_decode(char *s) {
    char *w = s;
    for (char *r = s; *r; r++) {
        int hi, lo;
        if (*r == '%' && (hi = hexval(r[1])) >= 0 && (lo = hexval(r[2])) >= 0) {
            *w++ = (char)(hi * 16 + lo);
            r += 2;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
}

static void add(struct list *l, const char *name, size_t name_len, const char *version,
                size_t version_len) {
    char *n = xstrndup(name, name_len), *v = xstrndup(version, version_len);
    percent_decode(n);
    percent_decode(v);
    for (size_t i = 0; i < l->len; i++) {
        if (strcmp(l->items[i].name, n) == 0 && strcmp(l->items[i].version, v) == 0) {
            free(n);
            free(v);
            return; /* duplicate */
        }
    }
    if (l->len == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 16;
        l->items = xrealloc(l->items, l->cap * sizeof *l->items);
    }
    l->items[l->len].name = n;
    l->items[l->len].version = v;
    l->len++;
}

/* "NAME@VERSION" (the last '@' separates). Returns 0 if there is no '@'. */
static int add_name_at_version(struct list *l, const char *s, size_t len) {
    const char *at = NULL;
    for (size_t i = 0; i < len; i++)
        if (s[i] == '@') at = s + i;
    if (!at) return 0;
    add(l, s, (size_t)(at - s), at + 1, len - (size_t)(at - s) - 1);
    return 1;
}

/* A purl: pkg:cargo/NAME@VERSION[?qualifiers][#subpath]. Other types are ignored.
 * Returns 1 if it was a cargo purl. */
static int add_purl(struct list *l, const char *purl, size_t *skipped) {
    if (!has_prefix_icase(purl, "pkg:")) return 0;
    const char *p = purl + 4;
    while (*p == '/') p++; /* "pkg://cargo/..." is tolerated by the purl spec */
    if (!has_prefix_icase(p, "cargo/")) {
        (*skipped)++;
        return 0;
    }
    p += 6;
    size_t len = strcspn(p, "?#");
    if (!add_name_at_version(l, p, len)) {
        fprintf(stderr, "sbom_check: ignoring purl without a version: ");
        print_escaped(stderr, purl);
        fputc('\n', stderr);
        return 0;
    }
    return 1;
}

/* ---------------------------------------------------------------- input formats */

/* Parse a JSON string starting at *pp (just after the opening quote) into a new buffer.
 * Advances *pp past the closing quote. Returns NULL on a malformed string. */
static char *json_string(const char **pp) {
    const char *p = *pp;
    size_t cap = 64, n = 0;
    char *out = xrealloc(NULL, cap);
    for (;;) {
        if (n + 8 >= cap) out = xrealloc(out, cap *= 2);
        char c = *p++;
        if (c == '\0') {
            free(out);
            return NULL;
        }
        if (c == '"') break;
        if (c != '\\') {
            out[n++] = c;
            continue;
        }
        c = *p++;
        switch (c) {
        case '"': case '\\': case '/': out[n++] = c; break;
        case 'b': out[n++] = '\b'; break;
        case 'f': out[n++] = '\f'; break;
        case 'n': out[n++] = '\n'; break;
        case 'r': out[n++] = '\r'; break;
        case 't': out[n++] = '\t'; break;
        case 'u': {
            unsigned cp = 0;
            for (int i = 0; i < 4; i++) {
                int h = hexval(*p);
                if (h < 0) {
                    free(out);
                    return NULL;
                }
                cp = cp * 16 + (unsigned)h;
                p++;
            }
            /* purls are ASCII; anything else is kept as '?' and later fails validation. */
            out[n++] = cp < 0x80 && cp != 0 ? (char)cp : '?';
            break;
        }
        default:
            free(out);
            return NULL;
        }
    }
    out[n] = '\0';
    *pp = p;
    return out;
}

/* Find every string value whose key is "purl". Nesting does not matter for that. */
static int parse_cyclonedx(const char *text, struct list *l, size_t *skipped) {
    const char *p = text;
    int after_purl_key = 0;
    while (*p) {
        if (*p != '"') {
            if (*p == ',' || *p == '{' || *p == '}' || *p == '[' || *p == ']')
                after_purl_key = 0;
            p++;
            continue;
        }
        p++;
        char *s = json_string(&p);
        if (!s) {
            fprintf(stderr, "sbom_check: malformed JSON string\n");
            return -1;
        }
        const char *q = p;
        while (isspace((unsigned char)*q)) q++;
        if (*q == ':') { /* a key */
            after_purl_key = strcmp(s, "purl") == 0;
            p = q + 1;
        } else if (after_purl_key) { /* the value of "purl" */
            add_purl(l, s, skipped);
            after_purl_key = 0;
        }
        free(s);
    }
    return 0;
}

static int parse_list(char *text, struct list *l, size_t *skipped) {
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        char *hash = strchr(line, '#');
        if (hash) *hash = '\0';
        while (isspace((unsigned char)*line)) line++;
        size_t len = strlen(line);
        while (len && isspace((unsigned char)line[len - 1])) line[--len] = '\0';
        if (!len) continue;
        if (has_prefix_icase(line, "pkg:")) {
            add_purl(l, line, skipped);
        } else if (!add_name_at_version(l, line, len)) {
            fprintf(stderr, "sbom_check: expected NAME@VERSION, got: ");
            print_escaped(stderr, line);
            fputc('\n', stderr);
            return -1;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- verification */

static int exists(const char *path) {
    FILE *f = fopen(path, "rb");
    if (f) fclose(f);
    return f != NULL;
}

static int is_dir(const char *path) {
    char probe[4096];
    int n = snprintf(probe, sizeof probe, "%s/.", path);
    return n > 0 && (size_t)n < sizeof probe && exists(probe);
}

/* snprintf that reports truncation: returns 0 if the whole path fit. */
#define PATHF(buf, ...) (snprintf((buf), sizeof(buf), __VA_ARGS__) >= (int)sizeof(buf))

/* Returns 0 = match, 1 = other verdict, 2 = error. With `keep`, the report (if any) is handed to
 * the caller through it instead of being freed. */
static int check_one(const prov_options *opts, const struct component *c, const char *crate_dir,
                     const char *repo_dir, const char *report_dir, prov_report **keep) {
    print_escaped(stdout, c->name);
    putchar('@');
    print_escaped(stdout, c->version);
    putchar('\t');
    if (!valid_name(c->name) || !valid_version(c->version)) {
        printf("error\tinvalid_input: not a valid crate name and version\n");
        return 2;
    }

    prov_report *report = NULL;
    prov_error *err = NULL;
    prov_result rc;
    if (crate_dir) {
        char crate_path[4096], repo[4096];
        const char *repo_arg = NULL;
        if (PATHF(crate_path, "%s/%s-%s.crate", crate_dir, c->name, c->version)) {
            printf("error\tinvalid_input: path too long\n");
            return 2;
        }
        if (repo_dir) {
            if (!PATHF(repo, "%s/%s-%s", repo_dir, c->name, c->version) && is_dir(repo))
                repo_arg = repo;
            else if (!PATHF(repo, "%s/%s", repo_dir, c->name) && is_dir(repo))
                repo_arg = repo;
        }
        rc = prov_verify_crate_file_ex(opts, crate_path, repo_arg, &report, &err);
    } else {
        rc = prov_verify_crate_ex(opts, c->name, c->version, &report, &err);
    }

    int status;
    if (rc != PROV_RESULT_OK) {
        const char *msg = NULL;
        size_t len = 0;
        printf("error\t%s", prov_result_name(rc) ? prov_result_name(rc) : "unknown");
        if (err && prov_error_message(err, &msg, &len) == PROV_RESULT_OK) {
            printf(": ");
            print_escaped(stdout, msg);
        }
        putchar('\n');
        status = 2;
    } else {
        const char *verdict = prov_report_verdict(report);
        size_t n = prov_report_difference_count(report);
        printf("%s", verdict);
        if (n) printf("\t%zu difference%s", n, n == 1 ? "" : "s");
        putchar('\n');
        status = strcmp(verdict, "match") == 0 ? 0 : 1;
        if (report_dir) {
            char path[4096];
            const char *json = NULL;
            size_t len = 0;
            FILE *f = PATHF(path, "%s/%s-%s.json", report_dir, c->name, c->version)
                          ? NULL
                          : fopen(path, "wb");
            if (!f || prov_report_json(report, &json, &len) != PROV_RESULT_OK ||
                fwrite(json, 1, len, f) != len || fputc('\n', f) == EOF) {
                fprintf(stderr, "sbom_check: cannot write %s\n", path);
                status = 2;
            }
            if (f && fclose(f) != 0) status = 2;
        }
    }
    prov_error_free(err);
    if (keep && rc == PROV_RESULT_OK)
        *keep = report;
    else
        prov_report_free(report);
    fflush(stdout);
    return status;
}

/* Write `sbom` annotated with `reports` to `path` (prov_sbom_annotate). Returns 0 or 2. */
static int annotate(const char *sbom, size_t sbom_len, prov_report *const *reports, size_t n,
                    const char *path) {
    char date[32];
    time_t now = time(NULL);
    const struct tm *tm = gmtime(&now);
    if (!tm || !strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", tm)) {
        fprintf(stderr, "sbom_check: no clock\n");
        return 2;
    }
    prov_sbom *out = NULL;
    prov_result rc = prov_sbom_annotate((const uint8_t *)sbom, sbom_len,
                                        (const prov_report *const *)reports, n, date, &out);
    if (rc != PROV_RESULT_OK) {
        char msg[256];
        prov_result_message(rc, msg, sizeof msg);
        fprintf(stderr, "sbom_check: cannot annotate the SBOM: %s\n", msg);
        return 2;
    }
    const char *doc = NULL;
    size_t len = 0;
    int status = 0;
    FILE *f = fopen(path, "wb");
    if (!f || prov_sbom_bytes(out, &doc, &len) != PROV_RESULT_OK || fwrite(doc, 1, len, f) != len) {
        fprintf(stderr, "sbom_check: cannot write %s\n", path);
        status = 2;
    }
    if (f && fclose(f) != 0) status = 2;
    if (status == 0)
        fprintf(stderr, "sbom_check: annotated %zu component(s) in %s\n",
                prov_sbom_annotated_count(out), path);
    prov_sbom_free(out);
    return status;
}

static int usage(const char *argv0) {
    fprintf(stderr,
            "usage: %s [--crate-dir DIR [--repo-dir DIR]] [--cache-dir DIR] [--offline]\n"
            "          [--report-dir DIR] [--annotate OUT] SBOM\n"
            "SBOM: CycloneDX JSON (pkg:cargo purls) or a NAME@VERSION list; '-' = stdin\n",
            argv0);
    return 2;
}

int main(int argc, char **argv) {
    const char *crate_dir = NULL, *repo_dir = NULL, *cache_dir = NULL, *report_dir = NULL;
    const char *annotate_path = NULL;
    const char *sbom = NULL;
    int offline = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **dst = strcmp(a, "--crate-dir") == 0    ? &crate_dir
                           : strcmp(a, "--repo-dir") == 0   ? &repo_dir
                           : strcmp(a, "--cache-dir") == 0  ? &cache_dir
                           : strcmp(a, "--report-dir") == 0 ? &report_dir
                           : strcmp(a, "--annotate") == 0   ? &annotate_path
                                                            : NULL;
        if (dst) {
            if (++i == argc) return usage(argv[0]);
            *dst = argv[i];
        } else if (strcmp(a, "--offline") == 0) {
            offline = 1;
        } else if (a[0] == '-' && a[1] != '\0') {
            return usage(argv[0]);
        } else if (!sbom) {
            sbom = a;
        } else {
            return usage(argv[0]);
        }
    }
    if (!sbom || (repo_dir && !crate_dir)) return usage(argv[0]);

    if (prov_check_version(PROV_VERSION_STRING) != PROV_RESULT_OK) {
        fprintf(stderr, "sbom_check: built against crate_provenance.h %s, but the library is %s\n",
                PROV_VERSION_STRING, prov_version());
        return 2;
    }

    FILE *f = strcmp(sbom, "-") == 0 ? stdin : fopen(sbom, "rb");
    if (!f) {
        perror(sbom);
        return 2;
    }
    size_t len;
    char *text = read_all(f, &len);
    if (f != stdin) fclose(f);

    struct list l = {0};
    size_t skipped = 0;
    const char *start = text;
    while (isspace((unsigned char)*start)) start++;
    int is_json = *start == '{';
    int parsed = is_json ? parse_cyclonedx(start, &l, &skipped) : parse_list(text, &l, &skipped);
    if (parsed != 0 || (annotate_path && !is_json)) {
        if (parsed == 0) fprintf(stderr, "sbom_check: --annotate needs a CycloneDX JSON SBOM\n");
        free(text);
        return 2;
    }
    if (skipped) fprintf(stderr, "sbom_check: skipped %zu non-cargo component(s)\n", skipped);
    if (l.len == 0) fprintf(stderr, "sbom_check: no cargo components found\n");

    prov_options *opts = NULL;
    if (prov_options_new(&opts) != PROV_RESULT_OK ||
        (cache_dir && prov_options_set_cache_dir(opts, cache_dir) != PROV_RESULT_OK) ||
        prov_options_set_offline(opts, offline) != PROV_RESULT_OK) {
        fprintf(stderr, "sbom_check: cannot set up options\n");
        return 2;
    }

    int worst = 0;
    prov_report **reports = annotate_path ? xrealloc(NULL, l.len * sizeof *reports) : NULL;
    size_t n_reports = 0;
    for (size_t i = 0; i < l.len; i++) {
        prov_report *kept = NULL;
        int s = check_one(opts, &l.items[i], crate_dir, repo_dir, report_dir,
                          reports ? &kept : NULL);
        if (kept) reports[n_reports++] = kept;
        if (s > worst) worst = s;
        free(l.items[i].name);
        free(l.items[i].version);
    }
    free(l.items);
    prov_options_free(opts);
    if (annotate_path) {
        int s = annotate(text, len, reports, n_reports, annotate_path);
        if (s > worst) worst = s;
        for (size_t i = 0; i < n_reports; i++) prov_report_free(reports[i]);
        free(reports);
    }
    free(text);
    return worst;
}
