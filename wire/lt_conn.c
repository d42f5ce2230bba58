/*
 * lt_conn.c - NATS connection set-up shared by latticed, latticectl and hosts.
 */
#include "lt_conn.h"

#include <string.h>
#include <unistd.h>

#include "lt_log.h"

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

void lt_conn_redact_url(const char *url, char *out, size_t outsize)
{
    const char *start = url ? url : LT_CONN_DEFAULT_URL;
    const char *end = strchr(start, ',');
    const char *scheme = strstr(start, "://");
    const char *at;
    size_t len = end ? (size_t)(end - start) : strlen(start);
    size_t pre = 0;

    if (outsize == 0)
        return;
    at = memrchr(start, '@', len); /* the last one: a password may hold an unencoded '@' */
    if (at != NULL) {
        pre = scheme != NULL && scheme < at ? (size_t)(scheme + 3 - start) : 0;
        snprintf(out, outsize, "%.*s***@%.*s", (int)pre, start,
                 (int)(len - (size_t)(at + 1 - start)), at + 1);
        return;
    }
    snprintf(out, outsize, "%.*s", (int)len, start);
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
        strcat(out, ")");
}

lt_status lt_conn_connect(natsConnection **new_nc, const lt_conn_config *cfg,
                          const lt_conn_events *events)
{
    natsOptions *opts = NULL;
    natsConnection *nc = NULL;
    char shown[256], why[512];
    lt_status st;
    natsStatus s;

    st = lt_conn_config_check(cfg);
    if (st != LT_OK)
        return st;
    if (natsOptions_Create(&opts) != NATS_OK)
        return LT_ERR_NOMEM;
    s = natsOptions_SetURL(opts, set(cfg->url) ? cfg->url : LT_CONN_DEFAULT_URL);
    if (s != NATS_OK) {
        st = LT_FAIL(LT_ERR_INVALID, "bad NATS URL: %s", natsStatus_GetText(s));
        goto out;
    }
    if (set(cfg->name))
        natsOptions_SetName(opts, cfg->name);
    natsOptions_SetTimeout(opts, cfg->timeout_ms > 0 ? cfg->timeout_ms : 5000);
    if (cfg->no_reconnect) {
        natsOptions_SetAllowReconnect(opts, false);
    } else {
        natsOptions_SetMaxReconnect(opts, -1);
        natsOptions_SetReconnectWait(opts, 1000);
        natsOptions_SetReconnectJitter(opts, 100, 1000);
        natsOptions_SetReconnectBufSize(opts, 8 * 1024 * 1024);
    }
    st = apply_security(opts, cfg);
    if (st != LT_OK)
        goto out;
    if (events != NULL) {
        natsOptions_SetDisconnectedCB(opts, on_disconnected, (void *)events);
        natsOptions_SetReconnectedCB(opts, on_reconnected, (void *)events);
        natsOptions_SetClosedCB(opts, on_closed, (void *)events);
    }
    s = natsConnection_Connect(&nc, opts);
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
    return st;
}
