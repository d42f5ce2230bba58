/*
 * runner.c - how the reference host runs an image_ref: "file:///path" execs
 * that file, "file:///path.wasm" runs the component with wasmtime (found on
 * PATH: `serve` for an HTTP component, `run` otherwise; the default runner's
 * stand-in without it); any other ref goes to the shell command of the longest
 * configured prefix (--runner 'ghcr.io/=sleep infinity') or the default
 * runner; anything else is refused with a one-line reason.
 */
#include "host_int.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lt_alloc.h"

lt_status lt__host_runners_add(lt__host_runners *r, const char *spec)
{
    const char *eq = strchr(spec, '=');
    char *prefix = NULL, *command = NULL;

    if (eq == NULL || eq == spec || eq[1] == '\0')
        return LT_FAIL(LT_ERR_INVALID, "runner '%s': expected PREFIX=COMMAND", spec);
    if (r->n == r->cap) {
        size_t ncap = r->cap ? r->cap * 2 : 4;
        lt__host_runner *nv = lt_realloc(r->v, ncap * sizeof(*nv));

        if (nv == NULL)
            return LT_ERR_NOMEM;
        r->v = nv;
        r->cap = ncap;
    }
    prefix = lt_strndup(spec, (size_t)(eq - spec));
    command = lt_strdup(eq + 1);
    if (prefix == NULL || command == NULL) {
        lt_free(prefix);
        lt_free(command);
        return LT_ERR_NOMEM;
    }
    r->v[r->n].prefix = prefix;
    r->v[r->n].command = command;
    r->n++;
    return LT_OK;
}

void lt__host_runners_cleanup(lt__host_runners *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->n; i++) {
        lt_free(r->v[i].prefix);
        lt_free(r->v[i].command);
    }
    lt_free(r->v);
    lt_free(r->default_cmd);
    lt_free(r->file_root);
    memset(r, 0, sizeof(*r));
}

/* True when path (already resolved) lies under root (resolved). */
static bool under_root(const char *path, const char *root)
{
    size_t n = strlen(root);

    while (n > 1 && root[n - 1] == '/')
        n--;
    return strncmp(path, root, n) == 0 && (path[n] == '/' || n == 1);
}

#define WASM_RUNTIME "wasmtime"
#define WASM_HTTP_EXPORT "wasi:http/incoming-handler"
#define WASM_SCAN_MAX (256u << 20) /* bytes of a component searched for the HTTP export */

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);

    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* The first executable `name` in $PATH into buf; false when there is none. */
static bool find_on_path(const char *name, char *buf, size_t n)
{
    const char *path = getenv("PATH");

    while (path != NULL && *path != '\0') {
        size_t len = strcspn(path, ":");
        int w = snprintf(buf, n, "%.*s/%s", (int)len, len ? path : ".", name);

        if (w > 0 && (size_t)w < n && access(buf, X_OK) == 0)
            return true;
        path += len + (path[len] == ':');
    }
    return false;
}

/* Does the component at path mention wasi:http/incoming-handler (an HTTP component, which
 * `wasmtime serve` runs)? Its name is in the component's type section as plain bytes. */
static bool is_http_component(const char *path)
{
    static const char needle[] = WASM_HTTP_EXPORT;
    const size_t m = sizeof(needle) - 1;
    char buf[65536 + sizeof(needle)];
    size_t keep = 0, total = 0, got;
    bool found = false;
    FILE *f = fopen(path, "rb");

    if (f == NULL)
        return false;
    while (!found && total < WASM_SCAN_MAX &&
           (got = fread(buf + keep, 1, sizeof(buf) - keep, f)) > 0) {
        size_t have = keep + got;

        found = memmem(buf, have, needle, m) != NULL;
        keep = have < m - 1 ? have : m - 1; /* a match across two reads */
        memmove(buf, buf + have - keep, keep);
        total += got;
    }
    fclose(f);
    return found;
}

/* A file:// .wasm component (path exists, is regular, within the root): wasmtime, or the
 * default runner's stand-in, or a refusal. */
static int resolve_wasm(const lt__host_runners *r, const char *ref, const char *path,
                        lt__host_plan *plan, char *msg, size_t msgsize)
{
    if (find_on_path(WASM_RUNTIME, plan->runtime, sizeof(plan->runtime))) {
        plan->path = plan->runtime;
        plan->wasm = path;
        plan->verb = is_http_component(path) ? "serve" : "run";
        return HRC(OK);
    }
    if (r->default_cmd != NULL) { /* no wasmtime here: the stand-in, as for an OCI image */
        plan->command = r->default_cmd;
        return HRC(OK);
    }
    snprintf(msg, msgsize, "'%s': a wasm component needs %s on PATH (none found)", ref,
             WASM_RUNTIME);
    return HRC(UNSUPPORTED);
}

static int resolve_file(const lt__host_runners *r, const char *ref, lt__host_plan *plan, char *msg,
                        size_t msgsize)
{
    const char *path = ref + strlen("file://");
    char real[PATH_MAX], rroot[PATH_MAX];
    struct stat sb;

    if (r->no_file) {
        snprintf(msg, msgsize, "file:// image refs are disabled on this host");
        return HRC(UNSUPPORTED);
    }
    if (path[0] != '/' || strlen(path) >= LT_MAX_PATH) {
        snprintf(msg, msgsize, "'%s': a file ref must be file:// followed by an absolute path",
                 ref);
        return HRC(INVALID);
    }
    if (stat(path, &sb) != 0) {
        snprintf(msg, msgsize, "'%s': %s", ref,
                 errno == ENOENT ? "no such file" : "cannot stat the file");
        return HRC(IMAGE_PULL_FAILED);
    }
    if (!S_ISREG(sb.st_mode)) {
        snprintf(msg, msgsize, "'%s': not a regular file", ref);
        return HRC(IMAGE_PULL_FAILED);
    }
    if (!ends_with(path, ".wasm") && access(path, X_OK) != 0) {
        snprintf(msg, msgsize, "'%s': the file is not executable", ref);
        return HRC(IMAGE_PULL_FAILED);
    }
    if (r->file_root != NULL) {
        if (realpath(path, real) == NULL || realpath(r->file_root, rroot) == NULL ||
            !under_root(real, rroot)) {
            snprintf(msg, msgsize, "'%s': outside the allowed file root", ref);
            return HRC(UNSUPPORTED);
        }
    }
    if (ends_with(path, ".wasm"))
        return resolve_wasm(r, ref, path, plan, msg, msgsize);
    plan->path = path;
    plan->command = NULL;
    return HRC(OK);
}

int lt__host_runner_resolve(const lt__host_runners *r, const char *ref, lt__host_plan *plan,
                            char *msg, size_t msgsize)
{
    const lt__host_runner *best = NULL;
    size_t best_len = 0;

    msg[0] = '\0';
    plan->path = plan->command = plan->wasm = plan->verb = NULL;
    if (ref == NULL || ref[0] == '\0') {
        snprintf(msg, msgsize, "empty image_ref");
        return HRC(INVALID);
    }
    if (strncmp(ref, "file://", 7) == 0)
        return resolve_file(r, ref, plan, msg, msgsize);
    for (size_t i = 0; i < r->n; i++) {
        size_t n = strlen(r->v[i].prefix);

        if (n > best_len && strncmp(ref, r->v[i].prefix, n) == 0) {
            best = &r->v[i];
            best_len = n;
        }
    }
    plan->path = NULL;
    if (best != NULL) {
        plan->command = best->command;
        return HRC(OK);
    }
    if (r->default_cmd != NULL) {
        plan->command = r->default_cmd;
        return HRC(OK);
    }
    snprintf(msg, msgsize,
             "no runner for image_ref '%.200s': this host runs file:// refs and the prefixes "
             "given with --runner (or every ref with --default-runner)",
             ref);
    return HRC(UNSUPPORTED);
}
