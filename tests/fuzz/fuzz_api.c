/*
 * fuzz_api.c - libFuzzer target for the untrusted-input side of the API
 * (api/: lt__api_parse, what lt_api_handle does before it reads the store).
 * The input is a request: the subject up to the first newline, the
 * Content-Type up to the second (an empty line: no header), then the body.
 * A refused request must come with wadm's error reply ({"result":"error",
 * "message":...}, bounded, serialisable and re-readable as the same JSON);
 * an accepted one must name a valid lattice, an operation the subject spells,
 * and hold exactly the body its operation takes: a bounded {"version"} value,
 * or a valid manifest whose canonical JSON is within the store's limits and
 * parses back to itself. Any violation aborts. Built with libFuzzer under
 * -Dfuzz=true, and with tests/fuzz/lt_fuzz_driver.c as a smoke test.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"
#include "lt_alloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PREFIX "wadm.api"
#define MAX_REQUEST 2048u /* so inputs of a few KiB reach the size check too */
/* lt__api_err formats at most 4095 bytes; JSON escapes a byte in at most 6. */
#define MAX_ERROR_TEXT (6u * 4096u + 64u)

#define CHECK(cond, what)          \
    do {                           \
        if (!(cond))               \
            die((what), __LINE__); \
    } while (0)

static const char *cur_subject; /* for the failure message */

static void die(const char *what, int line)
{
    fprintf(stderr, "fuzz_api.c:%d: %s (subject '%s', last error: %s)\n", line, what,
            cur_subject != NULL ? cur_subject : "", lt_error_message());
    abort();
}

/* The subject words of each operation, and whether it takes a name. */
static const struct {
    const char *word;
    bool named;
} ops[] = {
    [LT__OP_PUT] = { "put", false },          [LT__OP_APPLY] = { "apply", false },
    [LT__OP_LIST] = { "get", false },         [LT__OP_LIST_BARE] = { "list", false },
    [LT__OP_GET] = { "get", true },           [LT__OP_VERSIONS] = { "versions", true },
    [LT__OP_DEL] = { "del", true },           [LT__OP_DEPLOY] = { "deploy", true },
    [LT__OP_UNDEPLOY] = { "undeploy", true }, [LT__OP_ROLLBACK] = { "rollback", true },
    [LT__OP_STATUS] = { "status", true },     [LT__OP_HISTORY] = { "history", true },
};

/* A refusal: exactly {"result":"error","message":<non-empty>}, printable and re-readable. */
static void check_error(json_t *reply, const lt__api_body *body)
{
    const char *msg = json_string_value(json_object_get(reply, "message"));
    const char *res = json_string_value(json_object_get(reply, "result"));
    char *text;
    json_t *again;

    CHECK(body->version == NULL && body->model == NULL && body->canon == NULL,
          "a refused request kept a parsed body");
    CHECK(json_is_object(reply) && json_object_size(reply) == 2, "error reply shape");
    CHECK(res != NULL && strcmp(res, "error") == 0, "error reply result");
    CHECK(msg != NULL && msg[0] != '\0', "error reply without a message");
    /* lt_api_handle's serialisation */
    text = json_dumps(reply, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
    CHECK(text != NULL, "error reply does not serialise");
    CHECK(strlen(text) <= MAX_ERROR_TEXT, "error reply is unbounded");
    again = json_loads(text, 0, NULL);
    CHECK(again != NULL && json_equal(again, reply), "error reply does not read back");
    json_decref(again);
    free(text);
}

/* The subject, rebuilt from what was parsed, is the subject. */
static void check_route(const lt__api_req *r)
{
    char want[LT_MAX_SUBJECT * 2];

    CHECK(r->op <= LT__OP_HISTORY, "operation out of range");
    CHECK(r->lattice != NULL && lt_store_name_is_valid(r->lattice), "invalid lattice accepted");
    CHECK((r->name != NULL) == ops[r->op].named, "name presence does not match the operation");
    if (r->name != NULL)
        CHECK(strlen(r->name) <= LT_MAX_TOKEN && strchr(r->name, '.') == NULL, "name token");
    /* handlers echo the name in replies (json_pack "s"): it must be valid UTF-8 */
    if (r->name != NULL) {
        json_t *s = json_string(r->name);

        CHECK(s != NULL, "name is not valid UTF-8");
        json_decref(s);
    }
    snprintf(want, sizeof(want), "%s.%s.model.%s%s%s", PREFIX, r->lattice, ops[r->op].word,
             r->name != NULL ? "." : "", r->name != NULL ? r->name : "");
    CHECK(strcmp(want, r->subject) == 0, "parsed route does not spell the subject");
}

/* A parsed manifest: valid, within the store's limits, canonical JSON stable. */
static void check_manifest(const lt__api_body *b)
{
    lt_model_parse_opts o = { .format = LT_MODEL_FORMAT_JSON, .max_bytes = b->canon_len + 1 };
    lt_model *m2 = NULL;
    lt_buf again;

    CHECK(b->model != NULL && b->canon != NULL && b->version == NULL, "put body incomplete");
    CHECK(b->model->name != NULL && lt_store_name_is_valid(b->model->name), "manifest name");
    CHECK(b->model->version != NULL && b->model->version[0] != '\0' &&
              strlen(b->model->version) <= LT_STORE_MAX_VERSION,
          "manifest version");
    CHECK(!b->assigned || strlen(b->model->version) == LT_STORE_ULID_LEN, "assigned version");
    CHECK(b->canon_len == strlen(b->canon) && b->canon_len <= LT_STORE_MAX_VALUE_BYTES,
          "canonical JSON size");
    CHECK(lt_model_parse(b->canon, b->canon_len, &o, &m2, NULL) == LT_OK,
          "canonical JSON does not parse");
    CHECK(m2->name != NULL && m2->version != NULL && strcmp(m2->name, b->model->name) == 0 &&
              strcmp(m2->version, b->model->version) == 0,
          "canonical JSON names another app or version");
    lt_buf_init(&again, LT_STORE_MAX_VALUE_BYTES);
    CHECK(lt_model_to_json(m2, 0, &again) == LT_OK && again.len == b->canon_len &&
              memcmp(again.ptr, b->canon, again.len) == 0,
          "canonical JSON is not stable");
    lt_buf_cleanup(&again);
    lt_model_free(m2);
}

static void check_body(const lt__api_req *r, const lt__api_body *b)
{
    switch (r->op) {
    case LT__OP_PUT:
    case LT__OP_APPLY:
        check_manifest(b);
        break;
    case LT__OP_GET:
    case LT__OP_DEL:
    case LT__OP_DEPLOY:
    case LT__OP_ROLLBACK:
        CHECK(b->model == NULL && b->canon == NULL, "a version body holds a manifest");
        /* handlers echo it in fixed-size messages: bounded (and UTF-8, from jansson) */
        CHECK(b->version == NULL || strlen(b->version) <= LT_STORE_MAX_VERSION, "version size");
        break;
    default:
        CHECK(b->model == NULL && b->canon == NULL && b->version == NULL,
              "an operation without a body kept one");
        break;
    }
}

/* Up to the next newline of [*p, end) as a NUL-terminated copy; NULL when no line is left. */
static char *line(const char **p, const char *end)
{
    const char *nl;
    char *s;

    if (*p >= end)
        return NULL;
    nl = memchr(*p, '\n', (size_t)(end - *p));
    if (nl == NULL)
        nl = end;
    s = malloc((size_t)(nl - *p) + 1);
    if (s == NULL)
        abort();
    memcpy(s, *p, (size_t)(nl - *p));
    s[nl - *p] = '\0';
    *p = nl < end ? nl + 1 : end;
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    char *subject = line(&p, end), *ct = line(&p, end);
    lt__api_req r = { 0 };
    lt__api_body body;
    json_t *reply = NULL;
    lt_status st;

    r.subject = cur_subject = subject != NULL ? subject : "";
    r.content_type = ct != NULL && ct[0] != '\0' ? ct : NULL;
    r.data = p; /* the rest: exactly end - p bytes, so overreads are caught */
    r.len = (size_t)(end - p);
    r.max_request = MAX_REQUEST;
    lt_error_clear();
    st = lt__api_parse(PREFIX, &r, &body, &reply);
    CHECK(st == LT_OK, "no reply and no request (out of memory?)");
    CHECK(r.body == &body, "request does not point at its body");
    if (reply != NULL) {
        check_error(reply, &body);
    } else {
        check_route(&r);
        check_body(&r, &body);
    }
    json_decref(reply);
    lt__api_body_cleanup(&body);
    CHECK(body.version == NULL && body.model == NULL && body.canon == NULL, "cleanup");
    free(subject);
    free(ct);
    return 0;
}
