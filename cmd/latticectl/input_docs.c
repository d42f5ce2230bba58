/*
 * input_docs.c - the manifests a latticectl command reads from its -f
 * arguments: every -f in order, a directory as its *.yaml, *.yml and *.json
 * files in name order (not recursive), and a YAML file of several documents
 * split at its `---` lines. Each document keeps the line numbers it has in
 * its file (the lines before it are kept as empty lines), so parse errors
 * point into the file.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "latticectl.h"
#include "lt_alloc.h"
#include "lt_limits.h"

#define MAX_DOCS 1000 /* documents one command takes */

static bool has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);

    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

size_t lctl_file_args(const lt_opts_spec *spec, int argc, char **argv, const char **out, size_t max)
{
    size_t n = 0;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *eq;
        const lt_opt *o;

        if (strcmp(a, "--") == 0)
            break;
        if (a[0] != '-' || a[1] == '\0' || (o = lctl_opt_of(spec, a)) == NULL)
            continue;
        eq = a[1] == '-' ? strchr(a, '=') : NULL;
        if (o->kind == LT_OPT_FLAG)
            continue;
        if (eq == NULL && i + 1 >= argc)
            break;
        if (strcmp(o->name, "file") == 0 && n < max)
            out[n++] = eq != NULL ? eq + 1 : argv[i + 1];
        if (eq == NULL)
            i++;
    }
    return n;
}

/* A line that separates YAML documents: `---` (or `...`) alone or before a space or comment. */
static bool is_marker(const char *p, const char *end)
{
    if (end - p < 3 || !(strncmp(p, "---", 3) == 0 || strncmp(p, "...", 3) == 0))
        return false;
    return p + 3 == end || p[3] == ' ' || p[3] == '\t' || p[3] == '\n' || p[3] == '\r';
}

/* Whether [p, end) holds nothing but blanks and comments (and, with directives, `%` lines:
 * `%YAML 1.2`, `%TAG ...`, which belong to the document after the next marker). */
static bool is_empty_doc(const char *p, const char *end, bool directives)
{
    bool comment = false, bol = true;

    for (; p < end; p++) {
        if (*p == '\n')
            comment = false, bol = true;
        else if (*p == '#' || (directives && bol && *p == '%'))
            comment = true, bol = false;
        else if (!comment && *p != ' ' && *p != '\t' && *p != '\r')
            return false;
        else if (*p != ' ' && *p != '\t')
            bol = false;
    }
    return true;
}

/* Where the `%` directive lines at the end of [start, end) begin (blank and comment lines
 * among them), or end when there are none: they belong to the next document. */
static const char *directives_tail(const char *start, const char *end)
{
    const char *tail = end, *line_end = end;
    bool any = false;

    while (line_end > start) {
        const char *b = line_end;

        while (b > start && b[-1] != '\n')
            b--;
        if (is_empty_doc(b, line_end, false)) { /* blank or comment: part of either */
        } else if (*b == '%') {
            any = true;
        } else {
            break;
        }
        tail = b;
        line_end = b > start ? b - 1 : b;
        if (b == start)
            break;
    }
    return any ? tail : end;
}

/* A `---` marker with content after it on the same line (`--- {...}`, `--- |`, `--- !tag`):
 * that line is the start of the next document, marker included. */
static bool marker_has_content(const char *p, const char *end)
{
    if (strncmp(p, "---", 3) != 0)
        return false;
    for (p += 3; p < end && (*p == ' ' || *p == '\t' || *p == '\r'); p++) {
    }
    return p < end && *p != '#';
}

static lt_status add_doc(lctl_docs *docs, const char *source, int index, const char *ct,
                         size_t pad_lines, const char *p, size_t len)
{
    lctl_doc *d;
    char name[LT_MAX_PATH + 32];

    if (docs->count == MAX_DOCS)
        return LT_FAIL(LT_ERR_TOO_BIG, "more than %d manifests", MAX_DOCS);
    if (docs->count == docs->cap) {
        size_t ncap = docs->cap ? docs->cap * 2 : 8;
        lctl_doc *nd = lt_realloc(docs->items, ncap * sizeof(*nd));

        if (nd == NULL)
            return LT_FAIL(LT_ERR_NOMEM, "out of memory");
        docs->items = nd;
        docs->cap = ncap;
    }
    d = &docs->items[docs->count];
    memset(d, 0, sizeof(*d));
    if (index > 0)
        snprintf(name, sizeof(name), "%s#%d", source, index);
    else
        snprintf(name, sizeof(name), "%s", source);
    d->source = lt_strdup(name);
    d->data = lt_malloc(pad_lines + len + 1);
    if (d->source == NULL || d->data == NULL) {
        lt_free(d->source);
        lt_free(d->data);
        return LT_FAIL(LT_ERR_NOMEM, "out of memory");
    }
    memset(d->data, '\n', pad_lines);
    memcpy(d->data + pad_lines, p, len);
    d->data[pad_lines + len] = '\0';
    d->len = pad_lines + len;
    d->content_type = ct;
    docs->count++;
    return LT_OK;
}

/* Split the text of one file (or stdin) into its documents. */
static lt_status split(lctl_docs *docs, const char *source, const char *text, size_t len,
                       const char *ct)
{
    const char *p = text, *end = text + len, *start = text;
    size_t line = 0, start_line = 0, before = docs->count;
    int index = 0;
    bool json = ct != NULL && strcmp(ct, "application/json") == 0;
    lt_status st = LT_OK;

    if (json || memchr(text, '\0', len) != NULL) /* JSON: one document; NUL: the parser says */
        return add_doc(docs, source, 0, ct, 0, text, len);
    while (st == LT_OK) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *next = eol != NULL ? eol + 1 : end;

        if (p == end || is_marker(p, eol != NULL ? eol : end)) {
            if (p != end && !is_empty_doc(start, p, false) && is_empty_doc(start, p, true)) {
                p = next; /* only directives so far: they and this marker open the document */
                line++;
                continue;
            }
            const char *cut = p != end ? directives_tail(start, p) : p;

            if (!is_empty_doc(start, cut, false))
                st = add_doc(docs, source, ++index, ct, start_line, start, (size_t)(cut - start));
            if (p == end)
                break;
            if (cut != p) { /* the directives and this marker open the next document */
                for (const char *q = start; q < cut; q++)
                    start_line += *q == '\n';
                start = cut;
                p = next;
                line++;
                continue;
            }
            if (marker_has_content(p, eol != NULL ? eol : end)) {
                start = p;
                start_line = line;
            } else {
                start = next;
                start_line = line + 1;
            }
        }
        p = next;
        line++;
    }
    if (st == LT_OK && index == 1) { /* one document: named as the file */
        char *s = docs->items[before].source;

        s[strlen(s) - 2] = '\0';
    }
    if (st == LT_OK && docs->count == before)
        st = LT_FAIL(LT_ERR_INVALID, "%s holds no manifest", source);
    return st;
}

static lt_status load_file(lctl_docs *docs, const char *path)
{
    const char *ct = has_suffix(path, ".json")                               ? "application/json"
                     : has_suffix(path, ".yaml") || has_suffix(path, ".yml") ? "application/yaml"
                                                                             : NULL;
    const char *source = strcmp(path, "-") == 0 ? "<stdin>" : path;
    char *data = NULL;
    size_t len = 0;
    lt_status st = lctl_read_input(path, LT_MAX_MANIFEST_BYTES, &data, &len);

    /* over the limit: one document, which the parser (or latticed) refuses saying so */
    if (st == LT_OK)
        st = len > LT_MAX_MANIFEST_BYTES ? add_doc(docs, source, 0, ct, 0, data, len)
                                         : split(docs, source, data, len, ct);
    lt_free(data);
    return st;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static lt_status load_dir(lctl_docs *docs, const char *path)
{
    DIR *dir = opendir(path);
    struct dirent *e;
    char **names = NULL, full[LT_MAX_PATH];
    size_t n = 0, cap = 0, i;
    lt_status st = LT_OK;

    if (dir == NULL)
        return LT_FAIL(LT_ERR_IO, "cannot open directory %s: %s", path, strerror(errno));
    while (st == LT_OK && (e = readdir(dir)) != NULL) {
        if (e->d_name[0] == '.' ||
            !(has_suffix(e->d_name, ".yaml") || has_suffix(e->d_name, ".yml") ||
              has_suffix(e->d_name, ".json")))
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            char **nn = lt_realloc(names, ncap * sizeof(*nn));

            if (nn == NULL) {
                st = LT_FAIL(LT_ERR_NOMEM, "out of memory");
                break;
            }
            names = nn;
            cap = ncap;
        }
        if ((names[n] = lt_strdup(e->d_name)) == NULL)
            st = LT_FAIL(LT_ERR_NOMEM, "out of memory");
        else
            n++;
    }
    closedir(dir);
    if (n > 0)
        qsort(names, n, sizeof(*names), name_cmp);
    for (i = 0; i < n && st == LT_OK; i++) {
        int w = snprintf(full, sizeof(full), "%s%s%s", path,
                         path[strlen(path) - 1] == '/' ? "" : "/", names[i]);

        st = w < 0 || (size_t)w >= sizeof(full)
                 ? LT_FAIL(LT_ERR_INVALID, "path too long: %s/%s", path, names[i])
                 : load_file(docs, full);
    }
    if (st == LT_OK && n == 0)
        st = LT_FAIL(LT_ERR_INVALID, "directory %s holds no *.yaml, *.yml or *.json file", path);
    for (i = 0; i < n; i++)
        lt_free(names[i]);
    lt_free(names);
    return st;
}

lt_status lctl_docs_load(lctl_docs *docs, const char *path)
{
    struct stat sb;

    if (strcmp(path, "-") != 0 && stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
        return load_dir(docs, path);
    return load_file(docs, path);
}

void lctl_docs_cleanup(lctl_docs *docs)
{
    for (size_t i = 0; i < docs->count; i++) {
        lt_free(docs->items[i].source);
        lt_free(docs->items[i].data);
    }
    lt_free(docs->items);
    memset(docs, 0, sizeof(*docs));
}
