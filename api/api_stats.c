/*
 * api_stats.c - the API's request counters for the admin listener: requests
 * by operation and by the "result" word of the reply, and a latency histogram
 * per operation. Atomics only: worker threads count, /metrics reads.
 */
#include <stdatomic.h>
#include <string.h>

#include "api_int.h"

/* Indexed by lt__api_op, then "invalid". */
static const char *const op_names[LT_API_STAT_OPS] = {
    "put",    "apply",    "get_list", "list",   "get",     "versions", "del",
    "deploy", "undeploy", "rollback", "status", "history", "plan",     "invalid",
};

static const char *const result_names[LT_API_STAT_RESULTS] = {
    "success", "created", "newversion", "acknowledged", "deployed", "deleted",
    "noop",    "ok",      "notfound",   "error",        "other",
};

const char *lt_api_stat_op_name(size_t i)
{
    return i < LT_API_STAT_OPS ? op_names[i] : "";
}

const char *lt_api_stat_result_name(size_t i)
{
    return i < LT_API_STAT_RESULTS ? result_names[i] : "";
}

/* The index of the reply's result word: every reply object starts with it (json_pack with
 * JSON_PRESERVE_ORDER); the bare list is an array. */
static size_t result_of(const char *reply, size_t len)
{
    static const char key[] = "{\"result\":\"";
    const char *w, *end;

    if (len > 0 && reply[0] == '[')
        return 0;
    if (len < sizeof(key) - 1 || memcmp(reply, key, sizeof(key) - 1) != 0)
        return LT_API_STAT_RESULTS - 1;
    w = reply + sizeof(key) - 1;
    end = memchr(w, '"', len - (size_t)(w - reply));
    if (end == NULL)
        return LT_API_STAT_RESULTS - 1;
    for (size_t i = 0; i + 1 < LT_API_STAT_RESULTS; i++)
        if (strlen(result_names[i]) == (size_t)(end - w) &&
            memcmp(result_names[i], w, (size_t)(end - w)) == 0)
            return i;
    return LT_API_STAT_RESULTS - 1;
}

void lt__api_stats_note(lt__api_stats *st, const lt__api_req *r, const char *reply, size_t len,
                        int64_t t0_ns)
{
    size_t op = r->lattice != NULL && (size_t)r->op < LT_API_STAT_OPS - 1 ? (size_t)r->op
                                                                          : LT_API_STAT_OPS - 1;

    atomic_fetch_add_explicit(&st->requests[op][result_of(reply, len)], 1, memory_order_relaxed);
    lt_hist_observe_ns(&st->latency[op], lt_hist_now_ns() - t0_ns);
}

void lt__api_stats_read(lt__api_stats *st, lt_api_stats *out)
{
    for (size_t o = 0; o < LT_API_STAT_OPS; o++) {
        for (size_t r = 0; r < LT_API_STAT_RESULTS; r++)
            out->requests[o][r] = atomic_load_explicit(&st->requests[o][r], memory_order_relaxed);
        lt_hist_read(&st->latency[o], &out->latency[o]);
    }
}
