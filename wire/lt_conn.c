/*
 * lt_conn.c - NATS connection set-up shared by latticed, latticectl and hosts.
 */
#include "lt_conn.h"

#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lt_alloc.h"
#include "lt_log.h"
#include "lt_time.h"

lt_status lt_conn_status(natsStatus s)
{
    switch (s) {
    case NATS_OK:
        return LT_OK;
    case NATS_TIMEOUT:
        return LT_ERR_TIMEOUT;
    case NATS_NO_MEMORY:
        return LT_ERR_NOMEM;
    case NATS_NOT_FOUND:
        return LT_ERR_NOT_FOUND;
    case NATS_INVALID_ARG:
    case NATS_INVALID_SUBJECT:
    case NATS_INVALID_SUBSCRIPTION:
        return LT_ERR_INVALID;
    case NATS_CONNECTION_CLOSED:
    case NATS_DRAINING:
        return LT_ERR_CLOSED;
    case NATS_MAX_PAYLOAD:
        return LT_ERR_TOO_BIG;
    default:
        return LT_ERR_TRANSPORT;
    }
}

static bool set(const char *s)
{
    return s != NULL && s[0] != '\0';
}

static lt_status check_readable(const char *what, const char *path)
{
    if (set(path) && access(path, R_OK) != 0)
        return LT_FAIL(LT_ERR_INVALID, "%s file '%s' is not readable", what, path);
    return LT_OK;
}

lt_status lt_conn_config_check(const lt_conn_config *cfg)
{
    lt_status st;

    if (set(cfg->creds_file) && (set(cfg->jwt_file) || set(cfg->nkey)))
        return LT_FAIL(LT_ERR_INVALID,
                       "a creds file conflicts with a JWT or nkey (--nats-creds / --creds)");
    if (set(cfg->jwt_file) && set(cfg->nkey))
        return LT_FAIL(LT_ERR_INVALID, "--nats-jwt conflicts with --nats-nkey");
    if ((set(cfg->jwt_file) || set(cfg->nkey)) && !set(cfg->seed_file))
        return LT_FAIL(LT_ERR_INVALID, "a JWT or nkey needs its seed file (--nats-seed / --seed)");
    if (set(cfg->seed_file) && !set(cfg->jwt_file) && !set(cfg->nkey))
        return LT_FAIL(LT_ERR_INVALID, "a seed file needs a JWT or nkey (--nats-nkey / --nkey)");
    if (set(cfg->tls_cert) != set(cfg->tls_key))
        return LT_FAIL(LT_ERR_INVALID, "a TLS client certificate and key go together "
                                       "(--nats-tls-cert/--nats-tls-key, --tls-cert/--tls-key)");
    if ((st = check_readable("creds", cfg->creds_file)) != LT_OK ||
        (st = check_readable("JWT", cfg->jwt_file)) != LT_OK ||
        (st = check_readable("seed", cfg->seed_file)) != LT_OK ||
        (st = check_readable("TLS CA", cfg->tls_ca)) != LT_OK ||
        (st = check_readable("TLS certificate", cfg->tls_cert)) != LT_OK ||
        (st = check_readable("TLS key", cfg->tls_key)) != LT_OK)
        return st;
    return LT_OK;
}

/* One URL (not NUL-terminated) with any user:password@ part replaced, appended at *pos. */
static void redact_one(const char *start, size_t len, char *out, size_t outsize, size_t *pos)
{
    const char *scheme = memchr(start, ':', len);
    const char *at = NULL;
    size_t pre = 0, i;
    int w;

    for (i = len; i > 0 && at == NULL; i--) /* the last '@': a password may hold one */
        if (start[i - 1] == '@')
            at = start + i - 1;

    if (*pos >= outsize)
        return;
    if (at != NULL) {
        if (scheme != NULL && scheme < at && (size_t)(start + len - scheme) >= 3 &&
            memcmp(scheme, "://", 3) == 0)
            pre = (size_t)(scheme + 3 - start);
        w = snprintf(out + *pos, outsize - *pos, "%.*s***@%.*s", (int)pre, start,
                     (int)(len - (size_t)(at + 1 - start)), at + 1);
    } else {
        w = snprintf(out + *pos, outsize - *pos, "%.*s", (int)len, start);
    }
    if (w > 0)
        *pos += (size_t)w;
}

void lt_conn_redact_url(const char *url, char *out, size_t outsize)
{
    const char *p = url ? url : LT_CONN_DEFAULT_URL;
    size_t pos = 0;

    if (outsize == 0)
        return;
    out[0] = '\0';
    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);

        redact_one(p, len, out, outsize, &pos);
        if (end == NULL || pos + 1 >= outsize)
            break;
        out[pos++] = ',';
        out[pos] = '\0';
        p = end + 1;
    }
}

static bool blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* host[:port] after scheme and user info: a host, and a port 1..65535 if given. */
static bool host_port_ok(const char *hp)
{
    const char *colon = strrchr(hp, ':');
    const char *close = strrchr(hp, ']');
    unsigned long port = 0;
    const char *d;

    if (colon == NULL || (close != NULL && close > colon))
        return hp[0] != '\0';
    if (colon == hp || colon[1] == '\0')
        return false;
    for (d = colon + 1; *d != '\0'; d++) {
        if (*d < '0' || *d > '9' || port > 65535)
            return false;
        port = port * 10 + (unsigned long)(*d - '0');
    }
    return port >= 1 && port <= 65535;
}

static lt_status check_url(const char *u)
{
    const char *rest = strstr(u, "://");
    const char *at;
    char shown[256];
    size_t i;

    for (i = 0; u[i] != '\0'; i++)
        if (blank(u[i]))
            break;
    if (rest != NULL) {
        size_t sl = (size_t)(rest - u);

        if (!((sl == 4 && strncmp(u, "nats", 4) == 0) || (sl == 3 && strncmp(u, "tls", 3) == 0)))
            goto bad;
        rest += 3;
    } else {
        rest = u;
    }
    at = strrchr(rest, '@');
    if (at != NULL)
        rest = at + 1;
    if (u[i] == '\0' && strchr(rest, '/') == NULL && host_port_ok(rest))
        return LT_OK;
bad:
    lt_conn_redact_url(u, shown, sizeof(shown));
    return LT_FAIL(LT_ERR_INVALID, "bad NATS URL '%s' (want nats://host:port or tls://host:port)",
                   shown);
}

lt_status lt_conn_split_urls(const char *list, char *buf, size_t bufsize, const char **urls,
                             size_t max, size_t *n)
{
    size_t len = strlen(list), i, count = 0;
    char *p, *end, *e;
    lt_status st;

    *n = 0;
    if (len + 1 > bufsize)
        return LT_FAIL(LT_ERR_INVALID, "NATS URL list longer than %zu bytes", bufsize - 1);
    memcpy(buf, list, len + 1);
    for (p = buf;; p = end + 1) {
        end = strchr(p, ',');
        if (end != NULL)
            *end = '\0';
        while (blank(*p))
            p++;
        for (e = p + strlen(p); e > p && blank(e[-1]); e--)
            e[-1] = '\0';
        if (*p == '\0')
            return LT_FAIL(LT_ERR_INVALID, "empty entry in the NATS URL list");
        if (count == max)
            return LT_FAIL(LT_ERR_INVALID, "more than %zu NATS URLs in the list", max);
        st = check_url(p);
        if (st != LT_OK)
            return st;
        for (i = 0; i < count; i++)
            if (strcmp(urls[i], p) == 0)
                break;
        if (i == count) /* a repeated URL is harmless: keep one */
            urls[count++] = p;
        if (end == NULL)
            break;
    }
    *n = count;
    return LT_OK;
}

static void on_disconnected(natsConnection *nc, void *closure)
{
    const lt_conn_events *ev = closure;

    if (natsConnection_IsClosed(nc))
        return; /* our own shutdown, not an outage */
    LT_WARN("nats", "disconnected from NATS; reconnecting");
    if (ev->disconnected)
        ev->disconnected(ev->arg);
}

static void on_reconnected(natsConnection *nc, void *closure)
{
    const lt_conn_events *ev = closure;

    LT_INFO("nats", "reconnected to NATS");
    if (ev->reconnected)
        ev->reconnected(ev->arg);
}

static void on_closed(natsConnection *nc, void *closure)
{
    const lt_conn_events *ev = closure;

    if (ev->closed)
        ev->closed(ev->arg);
}

/* An asynchronous error the server reported (a permissions violation, a slow consumer): one
 * line, so an operator sees what the account layout refuses. */
static void on_async_error(natsConnection *nc, natsSubscription *sub, natsStatus err, void *closure)
{
    const char *text = NULL;

    (void)closure;
    if (nc == NULL || natsConnection_GetLastError(nc, &text) == NATS_OK)
        text = NULL; /* the connection's own record of the server's -ERR, if any */
    LT_WARN("nats", "%s%s%s%s", natsStatus_GetText(err),
            text != NULL && text[0] != '\0' ? ": " : "", text != NULL ? text : "",
            sub != NULL && err == NATS_SLOW_CONSUMER ? " (a subscription falls behind)" : "");
}

/* Apply credentials and TLS; each nats.c failure names the option. */
static lt_status apply_security(natsOptions *opts, const lt_conn_config *cfg)
{
    natsStatus s = NATS_OK;

    if (set(cfg->creds_file))
        s = natsOptions_SetUserCredentialsFromFiles(opts, cfg->creds_file, NULL);
    else if (set(cfg->jwt_file))
        s = natsOptions_SetUserCredentialsFromFiles(opts, cfg->jwt_file, cfg->seed_file);
    else if (set(cfg->nkey))
        s = natsOptions_SetNKeyFromSeed(opts, cfg->nkey, cfg->seed_file);
    if (s != NATS_OK)
        return LT_FAIL(LT_ERR_INVALID, "NATS credentials: %s", natsStatus_GetText(s));
    if (set(cfg->tls_ca)) {
        s = natsOptions_SetSecure(opts, true);
        if (s == NATS_OK)
            s = natsOptions_LoadCATrustedCertificates(opts, cfg->tls_ca);
        if (s != NATS_OK)
            return LT_FAIL(LT_ERR_INVALID, "NATS TLS CA '%s': %s", cfg->tls_ca,
                           natsStatus_GetText(s));
    }
    if (set(cfg->tls_cert)) {
        s = natsOptions_LoadCertificatesChain(opts, cfg->tls_cert, cfg->tls_key);
        if (s != NATS_OK)
            return LT_FAIL(LT_ERR_INVALID, "NATS TLS certificate '%s': %s", cfg->tls_cert,
                           natsStatus_GetText(s));
    }
    return LT_OK;
}

/*
 * One line saying why a connect failed: nats.c's status, its last error text
 * (the server's -ERR or the TLS verifier's reason, without the "(file.c:N): "
 * prefix; it names no credential), and a hint at the setting to check.
 */
static void connect_failure(natsStatus s, const lt_conn_config *cfg, char *out, size_t outsize)
{
    natsStatus last = NATS_OK;
    const char *detail = nats_GetLastError(&last);
    const char *hint = "";
    char clean[256] = "";
    size_t i;

    if (detail != NULL && detail[0] == '(') {
        const char *end = strstr(detail, "): ");

        detail = end != NULL ? end + 3 : detail;
    }
    if (detail != NULL && strcmp(detail, natsStatus_GetText(s)) != 0)
        snprintf(clean, sizeof(clean), "%s", detail);
    for (i = 0; clean[i] != '\0'; i++) /* one line, printable */
        if ((unsigned char)clean[i] < 0x20 || clean[i] == 0x7f)
            clean[i] = ' ';
    switch (s) {
    case NATS_SSL_ERROR:
        hint = set(cfg->tls_ca) ? "the server's certificate is not signed by the given TLS CA, "
                                  "or does not name the host of the URL"
                                : "the server requires TLS: give the CA bundle that signed "
                                  "its certificate";
        break;
    case NATS_PROTOCOL_ERROR:
        if (!set(cfg->tls_cert))
            hint = "the server closed the connection: a server requiring mutual TLS "
                   "refuses a client without a TLS certificate and key";
        break;
    case NATS_NOT_PERMITTED:
    case NATS_CONNECTION_AUTH_FAILED:
        hint = "the server refused the credentials: user/password, token, nkey or creds";
        break;
    case NATS_SECURE_CONNECTION_REQUIRED:
        hint = "the server requires TLS: give the CA bundle that signed its certificate";
        break;
    default:
        break;
    }
    snprintf(out, outsize, "%s%s%s%s%s", natsStatus_GetText(s), clean[0] ? ": " : "", clean,
             hint[0] ? " (" : "", hint);
    if (hint[0] != '\0' && strlen(out) + 2 <= outsize)
        memcpy(out + strlen(out), ")", 2);
}

/* Worth another try later: nobody answered (not a refusal of who we are). */
static bool retryable(natsStatus s)
{
    return s == NATS_NO_SERVER || s == NATS_TIMEOUT || s == NATS_IO_ERROR ||
           s == NATS_CONNECTION_CLOSED;
}

/* One attempt at every server of the list; again each second for cfg->connect_wait_ms. */
static natsStatus connect_waiting(natsConnection **nc, natsOptions *opts, const lt_conn_config *cfg)
{
    int64_t deadline = lt_time_mono_ms() + (cfg->connect_wait_ms > 0 ? cfg->connect_wait_ms : 0);
    bool told = false;
    char shown[512];
    natsStatus s;

    for (;;) {
        s = natsConnection_Connect(nc, opts);
        if (s == NATS_OK || !retryable(s) || lt_time_mono_ms() >= deadline)
            return s;
        if (!told) {
            lt_conn_redact_url(cfg->url, shown, sizeof(shown));
            LT_WARN("nats",
                    "no NATS server answers at %s (%s); trying again each second for up to %lld s",
                    shown, natsStatus_GetText(s), (long long)(cfg->connect_wait_ms / 1000));
            told = true;
        }
        for (int64_t until = lt_time_mono_ms() + 1000;
             lt_time_mono_ms() < until && lt_time_mono_ms() < deadline;) {
            struct timespec slice = { 0, 50 * 1000 * 1000 };

            if (cfg->keep_waiting != NULL && !cfg->keep_waiting(cfg->keep_waiting_arg))
                return s;
            nanosleep(&slice, NULL);
        }
    }
}

lt_status lt_conn_connect(natsConnection **new_nc, const lt_conn_config *cfg,
                          const lt_conn_events *events)
{
    natsOptions *opts = NULL;
    natsConnection *nc = NULL;
    char shown[512], why[512], *list = NULL;
    const char *urls[LT_CONN_MAX_SERVERS];
    size_t n_urls = 0;
    lt_status st;
    natsStatus s;

    st = lt_conn_config_check(cfg);
    if (st != LT_OK)
        return st;
    list = lt_malloc(LT_CONN_MAX_URL_LIST);
    if (list == NULL)
        return LT_ERR_NOMEM;
    st = lt_conn_split_urls(set(cfg->url) ? cfg->url : LT_CONN_DEFAULT_URL, list,
                            LT_CONN_MAX_URL_LIST, urls, LT_CONN_MAX_SERVERS, &n_urls);
    if (st != LT_OK)
        goto out;
    if (natsOptions_Create(&opts) != NATS_OK) {
        st = LT_ERR_NOMEM;
        goto out;
    }
    /* A server list, not SetURL: nats.c takes SetURL's string as one URL. The list is
     * shuffled (nats.c's default) so that clients spread over a cluster. */
    s = natsOptions_SetServers(opts, urls, (int)n_urls);
    if (s != NATS_OK) {
        st = LT_FAIL(LT_ERR_INVALID, "bad NATS URL list: %s", natsStatus_GetText(s));
        goto out;
    }
    if (set(cfg->name))
        natsOptions_SetName(opts, cfg->name);
    if (cfg->shared_delivery)
        natsOptions_UseGlobalMessageDelivery(opts, true);
    if (cfg->send_asap)
        natsOptions_SetSendAsap(opts, true);
    if (cfg->io_buf_size > 0)
        natsOptions_SetIOBufSize(opts, cfg->io_buf_size);
    natsOptions_SetTimeout(opts, cfg->timeout_ms > 0 ? cfg->timeout_ms : 5000);
    natsOptions_SetPingInterval(opts, cfg->ping_ms > 0 ? cfg->ping_ms : LT_CONN_DEFAULT_PING_MS);
    natsOptions_SetMaxPingsOut(opts, cfg->max_pings_out > 0 ? cfg->max_pings_out
                                                            : LT_CONN_DEFAULT_PINGS_OUT);
    if (cfg->no_reconnect) {
        natsOptions_SetAllowReconnect(opts, false);
    } else {
        natsOptions_SetMaxReconnect(opts, -1);
        natsOptions_SetReconnectWait(opts, 1000);
        natsOptions_SetReconnectJitter(opts, 100, 1000);
        /* nats.c 3.4.1: size 0 = no buffer; publishes fail with NATS_INSUFFICIENT_BUFFER
         * while reconnecting (checked against a real server, tests/wire/test_conn.c). */
        natsOptions_SetReconnectBufSize(opts, cfg->no_reconnect_buffer ? 0 : 8 * 1024 * 1024);
    }
    st = apply_security(opts, cfg);
    if (st != LT_OK)
        goto out;
    if (events != NULL) {
        natsOptions_SetDisconnectedCB(opts, on_disconnected, (void *)events);
        natsOptions_SetReconnectedCB(opts, on_reconnected, (void *)events);
        natsOptions_SetClosedCB(opts, on_closed, (void *)events);
    }
    natsOptions_SetErrorHandler(opts, on_async_error, NULL);
    s = connect_waiting(&nc, opts, cfg);
    if (s != NATS_OK) {
        lt_conn_redact_url(cfg->url, shown, sizeof(shown));
        connect_failure(s, cfg, why, sizeof(why));
        st = LT_FAIL(lt_conn_status(s) == LT_ERR_TIMEOUT ? LT_ERR_TIMEOUT : LT_ERR_TRANSPORT,
                     "cannot connect to NATS at %s: %s", shown, why);
        goto out;
    }
    *new_nc = nc;
    nc = NULL;
out:
    natsConnection_Destroy(nc);
    natsOptions_Destroy(opts);
    lt_free(list);
    return st;
}
