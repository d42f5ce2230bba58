/*
 * plan_instances.c - lt_sched_instances_json: every instance of one app as the leader
 * knows it (`latticectl instances`): what the hosts report (state, restarts, start time,
 * the last error they gave) and the starts sent that no host reports yet.
 */
#include <stdlib.h>
#include <string.h>

#include "lt_alloc.h"
#include "lt_sched_plan.h"
#include "lt_time.h"
#include "sched_int.h"

typedef struct {
    const char *id, *comp, *comp_id, *version, *host, *state, *message, *last_error;
    uint32_t restarts;
    int64_t started_s;
    bool current;
} inst_row;

static const char *state_word(int st, bool stopping)
{
    if (stopping)
        return "stopping";
    switch (st) {
    case LATTICED__HOST__V1__INSTANCE_STATE__INSTANCE_STATE_STARTING:
        return "starting";
    case LATTICED__HOST__V1__INSTANCE_STATE__INSTANCE_STATE_RUNNING:
        return "running";
    case LATTICED__HOST__V1__INSTANCE_STATE__INSTANCE_STATE_STOPPING:
        return "stopping";
    case LATTICED__HOST__V1__INSTANCE_STATE__INSTANCE_STATE_STOPPED:
        return "stopped";
    case LATTICED__HOST__V1__INSTANCE_STATE__INSTANCE_STATE_FAILED:
        return "failed";
    default:
        return "unknown";
    }
}

static int row_cmp(const void *a, const void *b)
{
    const inst_row *x = a, *y = b;
    int c = strcmp(x->comp, y->comp);

    if (c == 0)
        c = strcmp(x->host, y->host);
    if (c == 0)
        c = strcmp(x->id, y->id);
    return c;
}

static bool is_current(const sched_app *a, const char *comp, const char *digest)
{
    const spec_comp *c;

    if (!a->deployed || a->spec == NULL || (c = lt__sched_spec_find(a->spec, comp)) == NULL)
        return false;
    return strcmp(c->digest, digest) == 0;
}

static lt_status row_json(const inst_row *r, lt_buf *out)
{
    char ts[LT_TIME_TEXT_MAX] = "";

    if (r->started_s > 0)
        (void)lt_time_format(r->started_s, 0, LT_TIME_FRAC_AUTO, ts);
    LT_IGNORE(lt_buf_appends(out, "{\"id\":"));
    LT_IGNORE(lt_buf_json_str(out, r->id));
    LT_IGNORE(lt_buf_appends(out, ",\"component\":"));
    LT_IGNORE(lt_buf_json_str(out, r->comp));
    LT_IGNORE(lt_buf_appends(out, ",\"component_id\":"));
    LT_IGNORE(lt_buf_json_str(out, r->comp_id));
    LT_IGNORE(lt_buf_appends(out, ",\"version\":"));
    LT_IGNORE(lt_buf_json_str(out, r->version));
    LT_IGNORE(lt_buf_appends(out, ",\"host\":"));
    LT_IGNORE(lt_buf_json_str(out, r->host));
    LT_IGNORE(lt_buf_appendf(out, ",\"state\":\"%s\",\"restarts\":%u,\"started_at\":", r->state,
                             r->restarts));
    LT_IGNORE(lt_buf_json_str(out, ts));
    LT_IGNORE(lt_buf_appends(out, ",\"message\":"));
    LT_IGNORE(lt_buf_json_str(out, r->message));
    LT_IGNORE(lt_buf_appends(out, ",\"last_error\":"));
    LT_IGNORE(lt_buf_json_str(out, r->last_error));
    return lt_buf_appendf(out, ",\"current\":%s}", r->current ? "true" : "false");
}

lt_status lt_sched_instances_json(const lt_sched *s, const char *app, lt_buf *out)
{
    const sched_app *a = app != NULL ? lt_map_get(&s->apps, app) : NULL;
    inst_row *rows = NULL;
    const sched_obs *o;
    const sched_start *st;
    size_t n = 0, i;
    lt_status rc = LT_OK;

    if (a != NULL) {
        rows = lt_calloc(a->n_obs + a->n_starts + 1, sizeof(*rows));
        if (rows == NULL)
            return LT_FAIL(LT_ERR_NOMEM, "instance rows");
        for (o = a->obs_head; o != NULL && n < a->n_obs + a->n_starts; o = o->app_next, n++) {
            rows[n] = (inst_row){ o->id,
                                  o->comp,
                                  o->comp_id,
                                  o->version,
                                  o->host->id,
                                  state_word(o->state, o->stop_sent != 0),
                                  o->message,
                                  o->last_error != NULL ? o->last_error : "",
                                  o->restarts,
                                  o->started_s,
                                  is_current(a, o->comp, o->digest) };
        }
        for (st = a->starts; st != NULL && n < a->n_obs + a->n_starts; st = st->next) {
            const spec_comp *c = a->spec != NULL ? lt__sched_spec_find(a->spec, st->comp) : NULL;

            rows[n++] = (inst_row){ st->id,
                                    st->comp,
                                    c != NULL ? c->id : "",
                                    a->spec != NULL ? a->spec->version : "",
                                    st->host->id,
                                    st->running ? "running" : "starting",
                                    "",
                                    "",
                                    0,
                                    0,
                                    true };
        }
        qsort(rows, n, sizeof(*rows), row_cmp);
    }
    LT_IGNORE(lt_buf_appends(out, "{\"lattice\":"));
    LT_IGNORE(lt_buf_json_str(out, s->lattice));
    LT_IGNORE(lt_buf_appends(out, ",\"app\":"));
    LT_IGNORE(lt_buf_json_str(out, app != NULL ? app : ""));
    LT_IGNORE(lt_buf_appends(out, ",\"version\":"));
    LT_IGNORE(
        lt_buf_json_str(out, a != NULL && a->deployed && a->spec != NULL ? a->spec->version : ""));
    rc = lt_buf_appendf(out, ",\"found\":%s,\"instances\":[", a != NULL ? "true" : "false");
    for (i = 0; i < n && rc == LT_OK; i++) {
        size_t mark = out->len;

        if (i > 0)
            LT_IGNORE(lt_buf_appendc(out, ','));
        rc = row_json(&rows[i], out);
        if (rc == LT_ERR_TOO_BIG || out->len + 32 > out->max) {
            lt_buf_truncate(out, mark); /* more than one message: say so */
            rc = LT_OK;
            break;
        }
    }
    if (rc == LT_OK)
        rc = lt_buf_appendf(out, "],\"truncated\":%s}", i < n ? "true" : "false");
    lt_free(rows);
    return rc;
}
