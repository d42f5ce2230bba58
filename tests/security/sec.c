/*
 * sec.c - the security tests' harness (see sec.h).
 */
#include "sec.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nats/nats.h>

#include "lt_alloc.h"
#include "lt_nkeys.h"

static const char app_yaml[] = "apiVersion: core.oam.dev/v1beta1\n"
                               "kind: Application\n"
                               "metadata:\n"
                               "  name: secapp\n"
                               "  annotations:\n"
                               "    version: v1\n"
                               "spec:\n"
                               "  components:\n"
                               "    - name: comp\n"
                               "      type: component\n"
                               "      properties:\n"
                               "        image: ghcr.io/example/sec-comp:0.1.0\n"
                               "      traits:\n"
                               "        - type: spreadscaler\n"
                               "          properties:\n"
                               "            instances: 2\n";

static const char *env_bin(const char *name)
{
    const char *b = getenv(name);

    ck_assert_msg(b != NULL && b[0] != '\0', "%s not set", name);
    return b;
}

const char *sec_path(const sec *s, const char *name)
{
    static char ring[16][768];
    static unsigned next;
    char *out = ring[next++ % 16];

    snprintf(out, sizeof(ring[0]), "%s/%s", s->dir, name);
    return out;
}

const char *sec_write(const sec *s, const char *name, const char *text)
{
    const char *p = sec_path(s, name);

    ck_assert_int_eq(lt_test_write_file(p, text, strlen(text)), LT_OK);
    return p;
}

static void run_ok(const sec *s, const char *const *argv)
{
    lt_test_cmd c = { .argv = argv, .cwd = s->dir, .timeout_ms = 60000 };
    lt_test_cmd_result r;

    ck_assert_int_eq(lt_test_run(&c, &r), LT_OK);
    ck_assert_msg(r.exit_code == 0, "%s failed (%d): %s", argv[0], r.exit_code, r.err);
    lt_test_cmd_result_cleanup(&r);
}

/* A key and a certificate signed by ca (NULL: self-signed, a CA). */
static void make_cert(const sec *s, const char *name, const char *cn, const char *ca,
                      const char *ext)
{
    char key[64], csr[64], pem[64], cakey[64], capem[64], subj[128], extf[64];

    snprintf(key, sizeof(key), "%s.key", name);
    snprintf(csr, sizeof(csr), "%s.csr", name);
    snprintf(pem, sizeof(pem), "%s.pem", name);
    snprintf(subj, sizeof(subj), "/CN=%s", cn);
    if (ca == NULL) {
        const char *argv[] = {
            "openssl", "req",     "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes",  "-keyout", key,     "-out",    pem,  "-days",    "2",
            "-subj",   subj,      NULL
        };
        run_ok(s, argv);
        return;
    }
    snprintf(cakey, sizeof(cakey), "%s.key", ca);
    snprintf(capem, sizeof(capem), "%s.pem", ca);
    snprintf(extf, sizeof(extf), "%s.ext", name);
    sec_write(s, extf, ext);
    {
        const char *req[] = { "openssl", "req",      "-newkey",
                              "ec",      "-pkeyopt", "ec_paramgen_curve:P-256",
                              "-nodes",  "-keyout",  key,
                              "-out",    csr,        "-subj",
                              subj,      NULL };
        const char *sign[] = { "openssl", "x509", "-req",   "-in", csr,
                               "-CA",     capem,  "-CAkey", cakey, "-CAcreateserial",
                               "-out",    pem,    "-days",  "2",   "-extfile",
                               extf,      NULL };
        run_ok(s, req);
        run_ok(s, sign);
    }
}

/*
 * A test that fails ends at once (Check's _exit), leaving its directory: directories are named
 * lt-sec-<pid>-XXXXXX and those of dead processes are removed by the next sec_init.
 */
static void sweep_stale(void)
{
    const char *tmp = getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";
    DIR *d = opendir(tmp);
    struct dirent *e;

    while (d != NULL && (e = readdir(d)) != NULL) {
        char path[1024];
        long pid;

        if (strncmp(e->d_name, "lt-sec-", 7) != 0 || sscanf(e->d_name + 7, "%ld-", &pid) != 1 ||
            pid <= 0 || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        snprintf(path, sizeof(path), "%s/%s", tmp, e->d_name);
        LT_IGNORE(lt_test_rmtree(path));
    }
    if (d != NULL)
        closedir(d);
}

void sec_init(sec *s, bool certs)
{
    char prefix[64];

    memset(s, 0, sizeof(*s));
    sweep_stale();
    snprintf(prefix, sizeof(prefix), "lt-sec-%ld", (long)getpid());
    ck_assert_int_eq(lt_test_tmpdir(&s->dir, prefix), LT_OK);
    sec_write(s, "app.yaml", app_yaml);
    if (!certs)
        return;
    make_cert(s, "ca", "lt-sec-test-ca", NULL, NULL);
    make_cert(s, "other-ca", "lt-sec-untrusted-ca", NULL, NULL);
    make_cert(s, "server", "localhost", "ca",
              "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
    make_cert(s, "client", "lt-sec-client", "ca", "extendedKeyUsage=clientAuth\n");
}

void sec_server(sec *s, const char *config, bool info_probe)
{
    lt_natsrv_opts o = { .config_text = NULL, .info_probe = info_probe };
    size_t cap = strlen(config) * 2 + 4096, n = 0;
    char *text = lt_malloc(cap);
    const char *p = config;

    ck_assert_ptr_nonnull(text);
    while (*p != '\0') { /* @SEC@ -> the harness dir; @DIR@ is left to lt_natsrv */
        if (strncmp(p, "@SEC@", 5) == 0) {
            n += (size_t)snprintf(text + n, cap - n, "%s", s->dir);
            p += 5;
        } else {
            text[n++] = *p++;
        }
        ck_assert_uint_lt(n + 1024, cap);
    }
    text[n] = '\0';
    o.config_text = text;
    if (lt_natsrv_start(&s->srv, &o) != LT_OK)
        ck_abort_msg("nats-server did not start: %s\n%s", lt_error_message(), text);
    lt_free(text);
}

const char *sec_url(const sec *s, const char *userpass)
{
    static char ring[8][256];
    static unsigned next;
    char *out = ring[next++ % 8];

    snprintf(out, sizeof(ring[0]), "nats://%s%s127.0.0.1:%d", userpass ? userpass : "",
             userpass ? "@" : "", lt_natsrv_port(s->srv));
    return out;
}

sec_proc *sec_spawn(sec *s, const char *name, const char *const *argv)
{
    sec_proc *p;
    pid_t parent = getpid(), pid;
    char log[64];

    ck_assert_uint_lt(s->n_procs, SEC_MAX_PROCS);
    p = &s->procs[s->n_procs++];
    snprintf(log, sizeof(log), "%s-%zu.log", name, s->n_procs);
    snprintf(p->log, sizeof(p->log), "%s", sec_path(s, log));
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int fd = open(p->log, O_WRONLY | O_CREAT | O_APPEND, 0600);

        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(1);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
        }
        lt_test_close_fds_from(3);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    p->pid = pid;
    p->alive = true;
    return p;
}

bool sec_wait_exit(sec_proc *p, int64_t timeout_ms)
{
    int64_t deadline = lt_test_now_ms() + timeout_ms;
    int status;

    while (p->alive) {
        pid_t r = waitpid(p->pid, &status, WNOHANG);

        if (r == p->pid) {
            p->alive = false;
            p->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            break;
        }
        if (lt_test_now_ms() > deadline)
            return false;
        lt_test_sleep_ms(20);
    }
    return true;
}

int sec_stop(sec_proc *p)
{
    if (!p->alive)
        return p->exit_code;
    kill(p->pid, SIGTERM);
    if (!sec_wait_exit(p, 15000)) {
        kill(p->pid, SIGKILL);
        ck_assert(sec_wait_exit(p, 15000));
    }
    return p->exit_code;
}

char *sec_log(const sec_proc *p)
{
    char *text = NULL;

    if (lt_test_read_file(p->log, 64u << 20, &text, NULL) != LT_OK)
        text = lt_strdup("");
    ck_assert_ptr_nonnull(text);
    return text;
}

static size_t add_args(const char **argv, size_t n, size_t cap, const char *const *more)
{
    for (size_t i = 0; more != NULL && more[i] != NULL; i++) {
        ck_assert_uint_lt(n + 1, cap);
        argv[n++] = more[i];
    }
    return n;
}

sec_proc *sec_latticed(sec *s, const char *const *conn)
{
    static const char *const timings[] = { "--host-interval-ms",
                                           "500",
                                           "--warmup-ms",
                                           "800",
                                           "--lease-ttl-ms",
                                           "2000",
                                           "--command-timeout-ms",
                                           "5000",
                                           "--host-timeout-ms",
                                           "2500",
                                           "--log-level",
                                           "debug",
                                           NULL };
    const char *argv[64];
    size_t n = 0;

    argv[n++] = env_bin("LATTICED_BIN");
    n = add_args(argv, n, 64, timings);
    n = add_args(argv, n, 64, conn);
    argv[n] = NULL;
    return sec_spawn(s, "latticed", argv);
}

sec_proc *sec_hosts(sec *s, const char *prefix, int count, const char *const *conn)
{
    char num[16];
    const char *argv[64];
    size_t n = 0;

    snprintf(num, sizeof(num), "%d", count);
    argv[n++] = env_bin("LATTICED_HOST_BIN");
    {
        const char *const fixed[] = {
            "--simulate", num,           "--id-prefix", prefix, "--heartbeat-interval",
            "500ms",      "--log-level", "debug",       NULL
        };
        n = add_args(argv, n, 64, fixed);
    }
    n = add_args(argv, n, 64, conn);
    argv[n] = NULL;
    return sec_spawn(s, prefix, argv);
}

int sec_ctl(sec *s, const char *const *conn, const char *const *args, lt_test_cmd_result *res)
{
    const char *argv[64];
    size_t n = 0;
    lt_test_cmd c = { .argv = argv, .cwd = s->dir, .timeout_ms = 60000 };

    argv[n++] = env_bin("LATTICECTL_BIN");
    n = add_args(argv, n, 64, args);
    n = add_args(argv, n, 64, conn);
    argv[n] = NULL;
    ck_assert_int_eq(lt_test_run(&c, res), LT_OK);
    return res->exit_code;
}

void sec_apply_deployed(sec *s, const char *const *ctl_conn)
{
    const char *const apply[] = { "apply", "-f", "app.yaml", "--timeout", "5", NULL };
    const char *const status[] = { "status", "secapp", "-o", "json", "--timeout", "5", NULL };
    int64_t deadline = lt_test_now_ms() + 60000;
    lt_test_cmd_result r;
    bool ok = false;

    while (!ok && lt_test_now_ms() < deadline) { /* latticed may still be starting */
        ok = sec_ctl(s, ctl_conn, apply, &r) == 0;
        if (!ok && lt_test_now_ms() + 500 >= deadline) {
            sec_dump(s);
            ck_abort_msg("apply failed (%d): %s%s", r.exit_code, r.out, r.err);
        }
        lt_test_cmd_result_cleanup(&r);
        if (!ok)
            lt_test_sleep_ms(300);
    }
    ck_assert(ok);
    ok = false;
    deadline = lt_test_now_ms() + 60000;
    while (!ok && lt_test_now_ms() < deadline) {
        ok = sec_ctl(s, ctl_conn, status, &r) == 0 &&
             strstr(r.out, "\"type\":\"deployed\"") != NULL; /* not the key "deployed" */
        if (!ok && lt_test_now_ms() + 300 >= deadline) {
            sec_dump(s);
            ck_abort_msg("secapp not deployed: %s%s", r.out, r.err);
        }
        lt_test_cmd_result_cleanup(&r);
        if (!ok)
            lt_test_sleep_ms(200);
    }
}

size_t sec_lines(const char *text)
{
    size_t n = 0;
    const char *p = text;

    while (*p != '\0') {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);

        if (len > 0)
            n++;
        p += len + (nl ? 1 : 0);
    }
    return n;
}

void sec_dump(const sec *s)
{
    for (size_t i = 0; i < s->n_procs; i++) {
        char *text = sec_log(&s->procs[i]);
        size_t len = strlen(text);

        fprintf(stderr, "==== %s (last 4000 bytes)\n%s\n", s->procs[i].log,
                len > 4000 ? text + len - 4000 : text);
        lt_free(text);
    }
    if (s->srv != NULL) {
        char *text = NULL;
        size_t len = 0;

        if (lt_test_read_file(lt_natsrv_log_path(s->srv), 64u << 20, &text, &len) == LT_OK)
            fprintf(stderr, "==== nats-server\n%s\n", len > 4000 ? text + len - 4000 : text);
        lt_free(text);
    }
}

void sec_cleanup(sec *s)
{
    for (size_t i = 0; i < s->n_procs; i++)
        if (s->procs[i].alive)
            (void)sec_stop(&s->procs[i]);
    if (s->srv != NULL)
        LT_IGNORE(lt_natsrv_stop(s->srv));
    if (s->dir != NULL) {
        LT_IGNORE(lt_test_rmtree(s->dir));
        lt_free(s->dir);
    }
    memset(s, 0, sizeof(*s));
}

/* ---- operator mode ---------------------------------------------------------------------- */

static json_t *claims(const char *sub, const char *name, json_t *nats)
{
    json_t *c = json_object();

    ck_assert_ptr_nonnull(c);
    ck_assert_ptr_nonnull(nats);
    json_object_set_new(c, "sub", json_string(sub));
    json_object_set_new(c, "name", json_string(name));
    json_object_set_new(c, "nats", nats);
    return c;
}

static char *sign(const lt_nkey *issuer, json_t *c)
{
    char *jwt = NULL;

    ck_assert_int_eq(lt_jwt_sign(issuer, c, &jwt), LT_OK);
    json_decref(c);
    return jwt;
}

static json_t *account_nats(void)
{
    return json_pack("{s:s,s:i,s:{s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:b,s:i,s:i,s:i,s:i}}", "type",
                     "account", "version", 2, "limits", "subs", -1, "data", -1, "payload", -1,
                     "imports", -1, "exports", -1, "conn", -1, "leaf", -1, "wildcards", 1,
                     "mem_storage", -1, "disk_storage", -1, "streams", -1, "consumer", -1);
}

static json_t *user_nats(void)
{
    return json_pack("{s:s,s:i,s:{},s:{},s:i,s:i,s:i}", "type", "user", "version", 2, "pub", "sub",
                     "subs", -1, "data", -1, "payload", -1);
}

char *sec_operator_config(sec *s, sec_secrets *out)
{
    lt_nkey op, sys, acc, user, rogue_acc, rogue_user;
    char *op_jwt, *sys_jwt, *acc_jwt, *user_jwt, *rogue_jwt, *conf;
    size_t cap;

    ck_assert_int_eq(lt_nkey_new(&op, 'O'), LT_OK);
    ck_assert_int_eq(lt_nkey_new(&sys, 'A'), LT_OK);
    ck_assert_int_eq(lt_nkey_new(&acc, 'A'), LT_OK);
    ck_assert_int_eq(lt_nkey_new(&user, 'U'), LT_OK);
    ck_assert_int_eq(lt_nkey_new(&rogue_acc, 'A'), LT_OK);
    ck_assert_int_eq(lt_nkey_new(&rogue_user, 'U'), LT_OK);
    op_jwt = sign(&op, claims(op.public_key, "lt-sec-operator",
                              json_pack("{s:s,s:i,s:s}", "type", "operator", "version", 2,
                                        "system_account", sys.public_key)));
    sys_jwt = sign(&op, claims(sys.public_key, "SYS",
                               json_pack("{s:s,s:i}", "type", "account", "version", 2)));
    acc_jwt = sign(&op, claims(acc.public_key, "LATTICE", account_nats()));
    user_jwt = sign(&acc, claims(user.public_key, "lattice-user", user_nats()));
    /* signed by an account the operator never signed: refused */
    rogue_jwt = sign(&rogue_acc, claims(rogue_user.public_key, "rogue", user_nats()));
    sec_write(s, "operator.jwt", op_jwt);
    ck_assert_int_eq(lt_creds_write(sec_path(s, "user.creds"), user_jwt, &user), LT_OK);
    ck_assert_int_eq(lt_creds_write(sec_path(s, "rogue.creds"), rogue_jwt, &rogue_user), LT_OK);
    cap = strlen(sys_jwt) + strlen(acc_jwt) + 1024;
    conf = lt_malloc(cap);
    ck_assert_ptr_nonnull(conf);
    snprintf(conf, cap,
             "operator: \"@SEC@/operator.jwt\"\n"
             "system_account: %s\n"
             "resolver: MEMORY\n"
             "resolver_preload: {\n  %s: \"%s\"\n  %s: \"%s\"\n}\n",
             sys.public_key, sys.public_key, sys_jwt, acc.public_key, acc_jwt);
    if (out != NULL) {
        snprintf(out->user_seed, sizeof(out->user_seed), "%s", user.seed);
        snprintf(out->rogue_seed, sizeof(out->rogue_seed), "%s", rogue_user.seed);
        /* the signature part of each JWT: unique to it */
        snprintf(out->user_jwt_sig, sizeof(out->user_jwt_sig), "%s", strrchr(user_jwt, '.') + 1);
        snprintf(out->rogue_jwt_sig, sizeof(out->rogue_jwt_sig), "%s", strrchr(rogue_jwt, '.') + 1);
    }
    lt_free(op_jwt);
    lt_free(sys_jwt);
    lt_free(acc_jwt);
    lt_free(user_jwt);
    lt_free(rogue_jwt);
    return conf;
}

void sec_operator_ready(sec *s)
{
    natsOptions *o = NULL;
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    jsAccountInfo *ai = NULL;
    jsErrCode jerr = 0;
    natsStatus st;

    ck_assert_int_eq(natsOptions_Create(&o), NATS_OK);
    ck_assert_int_eq(natsOptions_SetURL(o, sec_url(s, NULL)), NATS_OK);
    ck_assert_int_eq(natsOptions_SetUserCredentialsFromFiles(o, sec_path(s, "user.creds"), NULL),
                     NATS_OK);
    st = natsConnection_Connect(&nc, o);
    if (st == NATS_OK)
        st = natsConnection_JetStream(&js, nc, NULL);
    if (st == NATS_OK)
        st = js_GetAccountInfo(&ai, js, NULL, &jerr);
    if (st != NATS_OK) {
        sec_dump(s);
        ck_abort_msg("first login as user.creds: %s (%d) %s", natsStatus_GetText(st), (int)jerr,
                     nats_GetLastError(NULL));
    }
    jsAccountInfo_Destroy(ai);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    natsOptions_Destroy(o);
}
