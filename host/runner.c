/*
 * runner.c - how the reference host runs an image_ref: "file:///path" execs
 * that file; any other ref goes to the shell command of the longest
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
    if (access(path, X_OK) != 0) {
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
