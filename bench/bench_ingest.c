/*
 * bench_ingest.c - heartbeat ingest rate of the scheduler core on one core:
 * 10,000 hosts with 10 managed instances each (100,000 instances of 1,000
 * deployed apps), then rounds of unchanged heartbeats fed to
 * lt_sched_on_heartbeat (the steady state), and rounds where one instance
 * per host changed state. Prints heartbeats per second. Not a test.
 *   bench_ingest [hosts] [instances-per-host] [rounds]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "google/protobuf/timestamp.pb-c.h"
#include "lt_sched.h"
#include "bench_build.h"

#define IS(x) LATTICED__HOST__V1__INSTANCE_STATE__INSTANCE_STATE_##x

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct {
    Latticed__Host__V1__Heartbeat hb;
    Latticed__Host__V1__Capacity cap;
    Google__Protobuf__Timestamp started;
    Latticed__Host__V1__Heartbeat__LabelsEntry label, *labelp;
    Latticed__Host__V1__Instance *inst, **instp;
    Latticed__Host__V1__Instance__AnnotationsEntry *ann, **annp;
    char id[32];
    char (*ids)[40];
    char (*apps)[16];
} host;

int main(int argc, char **argv)
{
    size_t nh = argc > 1 ? strtoul(argv[1], NULL, 10) : 10000;
    size_t ni = argc > 2 ? strtoul(argv[2], NULL, 10) : 10;
    int rounds = argc > 3 ? atoi(argv[3]) : 20;
    lt_sched_config cfg = { .lattice = "bench", .warmup_ms = -1 };
    lt_sched *s = NULL;
    host *hosts = calloc(nh, sizeof(*hosts));
    size_t h, i;
    int r;
    double t0, t;
    int64_t now = 1000;
    unsigned long long n = 0;

    if (lt_bench_require_release("bench_ingest") != 0)
        return 2;

    if (lt_sched_new(&s, &cfg, NULL, now) != LT_OK || hosts == NULL)
        return 1;
    for (h = 0; h < nh; h++) {
        host *x = &hosts[h];
        static const Latticed__Host__V1__Heartbeat hbi = LATTICED__HOST__V1__HEARTBEAT__INIT;
        static const Latticed__Host__V1__Capacity ci = LATTICED__HOST__V1__CAPACITY__INIT;
        static const Google__Protobuf__Timestamp ti = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
        static const Latticed__Host__V1__Heartbeat__LabelsEntry li =
            LATTICED__HOST__V1__HEARTBEAT__LABELS_ENTRY__INIT;

        x->hb = hbi;
        x->cap = ci;
        x->started = ti;
        x->label = li;
        snprintf(x->id, sizeof(x->id), "sim-%05zu", h);
        x->label.key = "zone";
        x->label.value = h % 3 == 0 ? "east" : h % 3 == 1 ? "west" : "moon";
        x->labelp = &x->label;
        x->started.seconds = 1700000000;
        x->hb.host_id = x->id;
        x->hb.n_labels = 1;
        x->hb.labels = &x->labelp;
        x->hb.capacity = &x->cap;
        x->hb.started_at = &x->started;
        x->hb.interval_ms = 5000;
        x->inst = calloc(ni, sizeof(*x->inst));
        x->instp = calloc(ni, sizeof(*x->instp));
        x->ann = calloc(ni * 4, sizeof(*x->ann));
        x->annp = calloc(ni * 4, sizeof(*x->annp));
        x->ids = calloc(ni, sizeof(*x->ids));
        x->apps = calloc(ni, sizeof(*x->apps));
        for (i = 0; i < ni; i++) {
            static const Latticed__Host__V1__Instance ii = LATTICED__HOST__V1__INSTANCE__INIT;
            static const Latticed__Host__V1__Instance__AnnotationsEntry ai =
                LATTICED__HOST__V1__INSTANCE__ANNOTATIONS_ENTRY__INIT;
            Latticed__Host__V1__Instance *in = &x->inst[i];
            size_t k;

            *in = ii;
            snprintf(x->ids[i], 40, "i-%08zx%08zx", h, i);
            snprintf(x->apps[i], 16, "app-%04zu", (h * ni + i) % 1000);
            in->instance_id = x->ids[i];
            in->state = IS(RUNNING);
            in->app_name = x->apps[i];
            in->app_version = "v1";
            in->component_name = "web";
            in->component_id = "web";
            in->image_ref = "ghcr.io/acme/web:1";
            in->spec_digest = "d0";
            for (k = 0; k < 4; k++) {
                x->ann[i * 4 + k] = ai;
                x->annp[i * 4 + k] = &x->ann[i * 4 + k];
            }
            x->ann[i * 4 + 0].key = LT_SCHED_ANN_MANAGED_BY;
            x->ann[i * 4 + 0].value = LT_SCHED_MANAGER;
            x->ann[i * 4 + 1].key = LT_SCHED_ANN_LATTICE;
            x->ann[i * 4 + 1].value = "bench";
            x->ann[i * 4 + 2].key = LT_SCHED_ANN_APP;
            x->ann[i * 4 + 2].value = x->apps[i];
            x->ann[i * 4 + 3].key = LT_SCHED_ANN_VERSION;
            x->ann[i * 4 + 3].value = "v1";
            in->n_annotations = 4;
            in->annotations = &x->annp[i * 4];
            x->instp[i] = in;
        }
        x->hb.n_instances = ni;
        x->hb.instances = x->instp;
    }
    /* First round: every host and instance is new. */
    t0 = now_s();
    for (h = 0; h < nh; h++) {
        hosts[h].hb.sequence++;
        if (lt_sched_on_heartbeat(s, hosts[h].id, &hosts[h].hb, now) != LT_OK)
            return 1;
    }
    t = now_s() - t0;
    printf("first heartbeats (all new): %zu hosts, %zu instances in %.3f s: %.0f heartbeats/s\n",
           nh, nh * ni, t, (double)nh / t);
    /* Steady state: unchanged heartbeats. */
    t0 = now_s();
    for (r = 0; r < rounds; r++) {
        now += 100;
        for (h = 0; h < nh; h++) {
            hosts[h].hb.sequence++;
            if (lt_sched_on_heartbeat(s, hosts[h].id, &hosts[h].hb, now) != LT_OK)
                return 1;
            n++;
        }
    }
    t = now_s() - t0;
    printf("steady heartbeats: %llu in %.3f s: %.0f heartbeats/s (%.0f instances/s)\n", n, t,
           (double)n / t, (double)n * (double)ni / t);
    /* One instance per host flips state each round (marks its app dirty). */
    n = 0;
    t0 = now_s();
    for (r = 0; r < rounds; r++) {
        now += 100;
        for (h = 0; h < nh; h++) {
            Latticed__Host__V1__Instance *in = &hosts[h].inst[(size_t)r % ni];

            in->state = in->state == IS(RUNNING) ? IS(STARTING) : IS(RUNNING);
            hosts[h].hb.sequence++;
            if (lt_sched_on_heartbeat(s, hosts[h].id, &hosts[h].hb, now) != LT_OK)
                return 1;
            n++;
        }
    }
    t = now_s() - t0;
    printf("changing heartbeats: %llu in %.3f s: %.0f heartbeats/s\n", n, t, (double)n / t);
    lt_sched_free(s);
    for (h = 0; h < nh; h++) {
        free(hosts[h].inst);
        free(hosts[h].instp);
        free(hosts[h].ann);
        free(hosts[h].annp);
        free(hosts[h].ids);
        free(hosts[h].apps);
    }
    free(hosts);
    return 0;
}
