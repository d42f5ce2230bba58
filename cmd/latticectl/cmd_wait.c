/*
 * cmd_wait.c - following an application's status: `apply --wait` and
 * `status NAME --wait-for deployed|undeployed` wait until the app gets there (subscribing
 * to wadm.status.{lattice}.{name} before asking model.status, so no change is missed; a quiet
 * spell asks again), showing progress live on a terminal or one timestamped line per change
 * otherwise; `status --watch` prints every change with its time until interrupted.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "lctl_api.h"
#include "wait_status.h"
#include "lt_alloc.h"
#include "lt_buf.h"
#include "lt_conn.h"
#include "lt_subject.h"
#include "lt_time.h"

#define REPOLL_MS 2000 /* ask model.status again after this long without a status message */
#define CONFIRM_MS 3000
#define FAILED_GRACE_MS 10000 /* "failed" for this long ends a wait (a start in backoff recovers) */
#define LINE_MAX_BYTES 4096

typedef struct {
    const char *name, *want, *version; /* version: NULL for any */
    FILE *out;                         /* progress: stdout in table mode, else stderr */
    bool tty;
    int drawn;                 /* lines of the live block on the terminal */
    char last[LINE_MAX_BYTES]; /* the last line printed (one line per change) */
    char *last_doc;            /* the last status shown, compact JSON (free) */
} waiter;

/* ---- progress -------------------------------------------------------------------------------- */

/* One line per change: "TIME NAME TYPE: message (version, R/D running); pending: ..." */
static void show_line(waiter *w, const json_t *st)
{
    char line[LINE_MAX_BYTES], ts[LT_TIME_TEXT_MAX];
    lt_buf b;

    lt_buf_init_on(&b, line, sizeof(line), sizeof(line) - 1);
    LT_IGNORE(lt_buf_appendf(&b, "%s ", w->name));
    lctl_status_summary(st, &b);
    {
        size_t mark = b.len;

        LT_IGNORE(lt_buf_appends(&b, "; pending: "));
        if (lctl_status_pending(st, &b, ", ") == 0)
            lt_buf_truncate(&b, mark);
    }
    if (strcmp(b.ptr, w->last) == 0) {
        lt_buf_cleanup(&b);
        return;
    }
    snprintf(w->last, sizeof(w->last), "%s", b.ptr);
    lt_time_format_now(ts);
    fprintf(w->out, "%s %s\n", ts, b.ptr);
    fflush(w->out);
    lt_buf_cleanup(&b);
}

/* One line of the live block, cut to the terminal's width so each takes one row. */
static void live_line(waiter *w, const char *fmt, ...) LT_PRINTF(2, 3);

static void live_line(waiter *w, const char *fmt, ...)
{
    char line[LINE_MAX_BYTES];
    struct winsize ws;
    size_t cols = sizeof(line) - 1;
    va_list ap;

    if (ioctl(fileno(w->out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1)
        cols = ws.ws_col - 1u < cols ? ws.ws_col - 1u : cols;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    line[strlen(line) > cols ? cols : strlen(line)] = '\0';
    fprintf(w->out, "%s\n", line);
    w->drawn++;
}

/* The live block on a terminal: redrawn in place. */
static void show_live(waiter *w, const json_t *st)
{
    const json_t *comps = json_object_get(json_object_get(st, "latticed"), "components");
    lt_buf b;
    size_t i;
    json_t *c;

    lt_buf_init(&b, 1u << 16);
    lctl_status_summary(st, &b);
    if (w->drawn > 0)
        fprintf(w->out, "\033[%dA\033[J", w->drawn); /* up over the old block, clear below */
    w->drawn = 0;
    live_line(w, "%s: %s", w->name, b.ptr);
    if (json_array_size(comps) > 0)
        live_line(w, "  %-24s %-9s %s", "COMPONENT", "RUNNING", "STATUS");
    json_array_foreach (comps, i, c) {
        const json_t *cs = json_object_get(c, "status");
        const char *msg = lctl_str(cs, "message", "");
        char count[48];

        snprintf(count, sizeof(count), "%lld/%lld",
                 json_integer_value(json_object_get(c, "running")),
                 json_integer_value(json_object_get(c, "desired")));
        live_line(w, "  %-24s %-9s %s%s%s", lctl_str(c, "name", "?"), count,
                  lctl_str(cs, "type", ""), msg[0] ? ": " : "", msg);
    }
    json_array_foreach (json_object_get(st, "scalers"), i, c) { /* links not up yet */
        const json_t *cs = json_object_get(c, "status");
        const char *msg = lctl_str(cs, "message", "");

        if (strcmp(lctl_str(c, "kind", ""), "LinkScaler") != 0 ||
            strcmp(lctl_str(cs, "type", ""), "deployed") == 0)
            continue;
        live_line(w, "  link %s: %s%s%s", lctl_str(c, "name", "?"), lctl_str(cs, "type", ""),
                  msg[0] ? ": " : "", msg);
    }
    fflush(w->out);
    lt_buf_cleanup(&b);
}

static void show(waiter *w, const json_t *st)
{
    char *now = json_dumps(st, JSON_COMPACT | JSON_SORT_KEYS);

    if (now != NULL && w->last_doc != NULL && strcmp(now, w->last_doc) == 0) {
        free(now); /* the same status again (asked after a quiet spell): nothing to show */
        return;
    }
    free(w->last_doc);
    w->last_doc = now;
    if (w->tty)
        show_live(w, st);
    else
        show_line(w, st);
}

/* ---- the end --------------------------------------------------------------------------------- */

static void report_failed(const waiter *w, const json_t *st)
{
    const char *msg = lctl_str(json_object_get(st, "status"), "message", "");
    lt_buf b;
    size_t i;
    json_t *s;

    fprintf(stderr, "latticectl: %s failed (version %s)%s%s\n", w->name,
            lctl_status_version(st)[0] ? lctl_status_version(st) : "-", msg[0] ? ": " : "", msg);
    json_array_foreach (json_object_get(st, "scalers"), i, s) {
        const json_t *si = json_object_get(s, "status");

        if (strcmp(lctl_str(si, "type", ""), "deployed") != 0)
            fprintf(stderr, "  %s %s: %s%s%s\n", lctl_str(s, "kind", ""), lctl_str(s, "name", ""),
                    lctl_str(si, "type", ""), lctl_str(si, "message", "")[0] ? ": " : "",
                    lctl_str(si, "message", ""));
    }
    lt_buf_init(&b, 1u << 16);
    if (lctl_status_pending(st, &b, "\n  ") > 0)
        fprintf(stderr, "  %s\n", b.ptr);
    lt_buf_cleanup(&b);
}

static void report_timeout(const waiter *w, const json_t *st, const char *limit)
{
    lt_buf b;

    lt_buf_init(&b, 1u << 16);
    lctl_status_summary(st, &b);
    fprintf(stderr, "latticectl: %s is not %s%s%s after %s%s: still %s\n", w->name, w->want,
            w->version ? " at version " : "", w->version ? w->version : "", limit,
            strspn(limit, "0123456789") == strlen(limit) ? "s" : "", b.ptr);
    lt_buf_reset(&b);
    if (lctl_status_pending(st, &b, "\n  ") > 0)
        fprintf(stderr, "  pending:\n  %s\n", b.ptr);
    lt_buf_cleanup(&b);
}

/* The status document of the reply to model.status (a new reference), or NULL. */
static json_t *ask(lctl_client *c, const char *name, int *code)
{
    json_t *st;

    *code = lctl_request(c, "status", name, NULL, 0, NULL);
    if (*code != 0)
        return NULL;
    st = json_object_get(c->reply, "status");
    return json_is_object(st) ? json_incref(st) : NULL;
}

/* The scheduler publishes a status before its writer stores it: when a message said "there",
 * let model.status catch up (up to CONFIRM_MS), so a command run right after sees it too. */
static int confirm(lctl_client *c, const waiter *w)
{
    int64_t until = lt_time_mono_ms() + CONFIRM_MS;
    int code = 0;

    while (lt_time_mono_ms() < until) {
        json_t *st = ask(c, w->name, &code);
        int v = st != NULL ? lctl_status_verdict(st, w->want, w->version) : LCTL_WAIT_PENDING;

        json_decref(st);
        if (code != 0 || v == LCTL_WAIT_REACHED)
            return code;
        lt_time_sleep_ms(100);
    }
    return 0; /* the store lags: the published status is what latticed said */
}

int lctl_wait(lctl_client *c, const char *name, const char *want, const char *version,
              bool print_final)
{
    char subject[LT_MAX_SUBJECT];
    natsSubscription *sub = NULL;
    bool table = strcmp(c->cfg->output, "table") == 0;
    waiter w = { .name = name, .want = want, .version = version, .out = table ? stdout : stderr };
    int64_t limit = lctl_duration_ms(c->cfg->wait_timeout), deadline, quiet_since, failed_since = 0;
    json_t *st = NULL;
    int code = 0, v = LCTL_WAIT_PENDING;
    bool from_msg = false;

    w.tty =
        isatty(fileno(w.out)) == 1 && getenv("TERM") != NULL && strcmp(getenv("TERM"), "dumb") != 0;
    deadline = lt_time_mono_ms() + limit;
    if (lt_subject_app_status(subject, sizeof(subject), LT_SUBJECT_STATUS_PREFIX, c->cfg->lattice,
                              name) != LT_OK ||
        natsConnection_SubscribeSync(&sub, c->nc, subject) != NATS_OK ||
        natsConnection_Flush(c->nc) != NATS_OK) {
        fprintf(stderr, "latticectl: cannot subscribe to the status of %s\n", name);
        lt_conn_sub_free(c->nc, sub, LT_CONN_SETTLE_MS);
        return LCTL_EXIT_NET;
    }
    if ((st = ask(c, name, &code)) != NULL)
        show(&w, st), v = lctl_status_verdict(st, w.want, w.version);
    quiet_since = lt_time_mono_ms();
    /* "failed" ends the wait only once it held for FAILED_GRACE_MS: the scheduler also reports
     * it for a start in backoff that it retries, and for a moment without an eligible host. */
    while (code == 0 && lt_time_mono_ms() < deadline &&
           (v == LCTL_WAIT_PENDING ||
            (v == LCTL_WAIT_FAILED &&
             (failed_since == 0 || lt_time_mono_ms() - failed_since < FAILED_GRACE_MS)))) {
        int64_t left = deadline - lt_time_mono_ms();
        natsMsg *m = NULL;
        natsStatus ns = natsSubscription_NextMsg(&m, sub, left < 500 ? (left > 0 ? left : 1) : 500);
        json_t *next = NULL;

        if (ns == NATS_OK) {
            next = json_loadb(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), 0, NULL);
            natsMsg_Destroy(m);
            quiet_since = lt_time_mono_ms();
            from_msg = true;
        } else if (ns == NATS_TIMEOUT && lt_time_mono_ms() - quiet_since >= REPOLL_MS) {
            next = ask(c, name, &code); /* a change published before we subscribed */
            quiet_since = lt_time_mono_ms();
            from_msg = false;
        } else if (ns != NATS_TIMEOUT) {
            fprintf(stderr, "latticectl: lost the NATS connection: %s\n", natsStatus_GetText(ns));
            code = LCTL_EXIT_NET;
        }
        if (json_is_object(next)) {
            json_decref(st);
            st = next;
            show(&w, st);
            v = lctl_status_verdict(st, w.want, w.version);
        } else {
            json_decref(next);
        }
        if (v != LCTL_WAIT_FAILED)
            failed_since = 0;
        else if (failed_since == 0)
            failed_since = lt_time_mono_ms();
    }
    lt_conn_sub_free(c->nc, sub, LT_CONN_SETTLE_MS);
    if (code == 0 && v == LCTL_WAIT_REACHED && from_msg)
        code = confirm(c, &w);
    if (code == 0 && v == LCTL_WAIT_FAILED) {
        report_failed(&w, st);
        code = LCTL_EXIT_FAIL;
    } else if (code == 0 && v == LCTL_WAIT_PENDING) {
        json_t *none = json_object();

        report_timeout(&w, st != NULL ? st : none, c->cfg->wait_timeout);
        json_decref(none);
        code = LCTL_EXIT_FAIL;
    } else if (code == 0 && print_final) {
        lctl_print_doc(c->cfg, st, NULL);
    }
    json_decref(st);
    free(w.last_doc);
    return code;
}

int lctl_wait_applied(lctl_client *c)
{
    char *name = lt_strdup(lctl_str(c->reply, "name", "")),
         *version = lt_strdup(lctl_str(c->reply, "version", ""));
    int code;

    if (name == NULL || version == NULL || name[0] == '\0' || version[0] == '\0') {
        fprintf(stderr, "latticectl: the apply reply names no application and version to wait "
                        "for\n");
        code = LCTL_EXIT_FAIL;
    } else {
        code = lctl_wait(c, name, "deployed", version, false);
    }
    lt_free(name);
    lt_free(version);
    return code;
}

/* ---- status --watch -------------------------------------------------------------------------- */

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* The status lines of `status`, the first one prefixed. */
static void print_status(const json_t *status, const char *prefix)
{
    const json_t *info = json_object_get(status, "status");
    const char *msg = lctl_str(info, "message", "");
    size_t i;
    json_t *s;

    printf("%s%s%s%s\n", prefix, lctl_str(info, "type", "unknown"), msg[0] ? ": " : "", msg);
    json_array_foreach (json_object_get(status, "scalers"), i, s) {
        const json_t *si = json_object_get(s, "status");
        const char *sm = lctl_str(si, "message", "");

        printf("  %-14s %-28s %s%s%s\n", lctl_str(s, "kind", ""), lctl_str(s, "name", ""),
               lctl_str(si, "type", ""), sm[0] ? ": " : "", sm);
    }
}

/* One change of status --watch: the status lines behind the time (table), or the JSONPath of
 * the status document on one line. */
static void print_change(lctl_client *c, const json_t *st)
{
    char now[LT_TIME_TEXT_MAX], ts[LT_TIME_TEXT_MAX + 1];

    if (lctl_print_doc(c->cfg, st, NULL)) {
        putchar('\n');
        return;
    }
    lt_time_format_now(now);
    snprintf(ts, sizeof(ts), "%s ", now);
    print_status(st, ts);
}

int lctl_watch(lctl_client *c, const char *name, void (*table)(lctl_client *c))
{
    char subject[LT_MAX_SUBJECT];
    natsSubscription *sub = NULL;
    struct sigaction sa;
    bool plain = strcmp(c->cfg->output, "table") == 0 || c->cfg->jsonpath != NULL;
    int code = 0;

    /* Too long a name leaves subject "": the subscription below then fails and says so. */
    LT_IGNORE(lt_subject_app_status(subject, sizeof(subject), LT_SUBJECT_STATUS_PREFIX,
                                    c->cfg->lattice, name));
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (natsConnection_SubscribeSync(&sub, c->nc, subject) != NATS_OK ||
        natsConnection_Flush(c->nc) != NATS_OK) {
        fprintf(stderr, "latticectl: cannot subscribe to %s\n", subject);
        lt_conn_sub_free(c->nc, sub, LT_CONN_SETTLE_MS);
        return LCTL_EXIT_NET;
    }
    /* subscribed first, then asked: no change falls between the reply and the stream */
    code = lctl_request(c, "status", name, NULL, 0, NULL);
    if (code == 0 && plain && json_is_object(json_object_get(c->reply, "status")))
        print_change(c, json_object_get(c->reply, "status"));
    else if (code == 0)
        code = lctl_finish(c, table);
    fflush(stdout);
    while (code == 0 && !interrupted) {
        natsMsg *m = NULL;
        natsStatus ns = natsSubscription_NextMsg(&m, sub, 500);
        json_t *v;

        if (ns == NATS_TIMEOUT)
            continue;
        if (ns != NATS_OK) {
            fprintf(stderr, "latticectl: lost the NATS connection: %s\n", natsStatus_GetText(ns));
            code = LCTL_EXIT_NET;
            break;
        }
        v = json_loadb(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), 0, NULL);
        if (strcmp(c->cfg->output, "json") == 0) {
            printf("%.*s\n", natsMsg_GetDataLength(m), natsMsg_GetData(m));
        } else if (v != NULL && strcmp(c->cfg->output, "yaml") == 0) {
            printf("---\n");
            lctl_print_yaml(stdout, v);
        } else if (v != NULL) {
            print_change(c, v);
        }
        fflush(stdout);
        json_decref(v);
        natsMsg_Destroy(m);
    }
    lt_conn_sub_free(c->nc, sub, LT_CONN_SETTLE_MS);
    return code;
}
