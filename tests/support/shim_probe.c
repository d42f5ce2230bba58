/*
 * shim_probe.c - the process test_shim preloads lt_shim into: connects to
 * the server given as argv[1], creates the memory KV bucket "probe" and runs
 * the operations of argv[2..] in order, printing one line per operation:
 *   put:KEY:VALUE   kvStore_PutString        -> "put KEY <status>"
 *   get:KEY         kvStore_Get              -> "get KEY <status> <value|->"
 *   last:KEY        js_GetLastMsg            -> "last KEY <status> <value|->"
 *   pub:KEY:VALUE   js_PublishMsg on $KV.probe.KEY -> "pub KEY <status>"
 *   touch:PATH / rm:PATH  create / remove a file (switches onfile rules)
 * and the elapsed milliseconds of each NATS operation after the status.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nats/nats.h>

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void run(jsCtx *js, kvStore *kv, char *op)
{
    char *arg = strchr(op, ':'), *val = NULL, subj[256];
    long long t0 = now_ms();
    natsStatus s = NATS_OK;
    kvEntry *e = NULL;
    natsMsg *m = NULL;
    const char *text = "-";

    if (arg == NULL)
        return;
    *arg++ = '\0';
    if ((val = strchr(arg, ':')) != NULL)
        *val++ = '\0';
    if (strcmp(op, "touch") == 0) {
        FILE *f = fopen(arg, "w");

        if (f != NULL)
            fclose(f);
        return;
    }
    if (strcmp(op, "rm") == 0) {
        unlink(arg);
        return;
    }
    snprintf(subj, sizeof(subj), "$KV.probe.%s", arg);
    if (strcmp(op, "put") == 0) {
        s = kvStore_PutString(NULL, kv, arg, val ? val : "");
    } else if (strcmp(op, "get") == 0) {
        s = kvStore_Get(&e, kv, arg);
        if (s == NATS_OK)
            text = kvEntry_ValueString(e);
    } else if (strcmp(op, "last") == 0) {
        s = js_GetLastMsg(&m, js, "KV_probe", subj, NULL, NULL);
        if (s == NATS_OK)
            text = natsMsg_GetData(m);
    } else if (strcmp(op, "pub") == 0) {
        s = natsMsg_Create(&m, subj, NULL, val, val ? (int)strlen(val) : 0);
        if (s == NATS_OK)
            s = js_PublishMsg(NULL, js, m, NULL, NULL);
        natsMsg_Destroy(m);
        m = NULL;
    }
    printf("%s %s %s %s %lld\n", op, arg, natsStatus_GetText(s),
           strcmp(op, "get") == 0 || strcmp(op, "last") == 0 ? text : "-", now_ms() - t0);
    kvEntry_Destroy(e);
    natsMsg_Destroy(m);
}

int main(int argc, char **argv)
{
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    kvStore *kv = NULL;
    kvConfig kc;

    if (argc < 2 || natsConnection_ConnectTo(&nc, argv[1]) != NATS_OK ||
        natsConnection_JetStream(&js, nc, NULL) != NATS_OK) {
        fprintf(stderr, "shim_probe: cannot connect\n");
        return 2;
    }
    kvConfig_Init(&kc);
    kc.Bucket = "probe";
    kc.StorageType = js_MemoryStorage;
    if (js_CreateKeyValue(&kv, js, &kc) != NATS_OK) {
        fprintf(stderr, "shim_probe: cannot create the bucket\n");
        return 2;
    }
    for (int i = 2; i < argc; i++)
        run(js, kv, argv[i]);
    fflush(stdout);
    kvStore_Destroy(kv);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    nats_Close();
    return 0;
}
