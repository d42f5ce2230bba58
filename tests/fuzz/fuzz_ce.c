/*
 * fuzz_ce.c - libFuzzer target for wire/lt_ce. The input is read as a NATS
 * message: "Key: value" header lines up to the first empty line, then the
 * body. It is decoded with lt_ce_from_msg, and the whole input also with
 * lt_ce_from_json. A failure must leave the lt_ce empty and say why. A
 * success must re-encode in binary mode and decode to the same event, and
 * its JSON encoding (when one exists) must be a fixed point of
 * decode+encode. Any violation aborts. Built with libFuzzer under
 * -Dfuzz=true, and with tests/fuzz/lt_fuzz_driver.c as a smoke test.
 */
#include <nats/nats.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "latticed/host/v1/host.pb-c.h"
#include "lt_alloc.h"
#include "lt_ce.h"
#include "lt_limits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_LINES 80

#define CHECK(cond, what)          \
    do {                           \
        if (!(cond))               \
            die((what), __LINE__); \
    } while (0)

static void die(const char *what, int line)
{
    fprintf(stderr, "fuzz_ce.c:%d: %s (last error: %s)\n", line, what, lt_error_message());
    abort();
}

static bool same_str(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/*
 * Two decoded events carry the same attributes and data. With time_filled, a
 * missing time in a was filled with "now" (lt_ce_to_msg): b just needs one.
 */
static bool same_event(const lt_ce_event *a, const lt_ce_event *b, bool time_filled)
{
    if (!same_str(a->specversion, b->specversion) || !same_str(a->type, b->type) ||
        !same_str(a->source, b->source) || !same_str(a->id, b->id) ||
        (time_filled && a->time == NULL ? b->time == NULL : !same_str(a->time, b->time)) ||
        !same_str(a->subject, b->subject) || !same_str(a->datacontenttype, b->datacontenttype) ||
        !same_str(a->dataschema, b->dataschema) || a->data_len != b->data_len ||
        (a->data_len > 0 && memcmp(a->data, b->data, a->data_len) != 0) ||
        a->ext_count != b->ext_count)
        return false;
    for (size_t i = 0; i < a->ext_count; i++) {
        bool found = false;

        for (size_t j = 0; j < b->ext_count && !found; j++)
            found = strcmp(a->ext[i].name, b->ext[j].name) == 0 &&
                    strcmp(a->ext[i].value, b->ext[j].value) == 0;
        if (!found)
            return false;
    }
    return true;
}

static void check_failure(lt_status st, const lt_ce *ce)
{
    CHECK(st == LT_ERR_INVALID || st == LT_ERR_PARSE || st == LT_ERR_TOO_BIG ||
              st == LT_ERR_UNSUPPORTED,
          "unexpected status for bad input");
    CHECK(ce->mem == NULL && ce->ev.id == NULL && ce->ev.data == NULL,
          "a failed decode left data behind");
    CHECK(lt_error_message()[0] != '\0', "a failed decode gave no reason");
}

/* The JSON encoding of ev, when it has one, decodes and re-encodes to itself. */
static void check_json(const lt_ce *ce)
{
    char *j1 = NULL, *j2 = NULL;
    size_t n1 = 0, n2 = 0;
    lt_status st = lt_ce_to_json(&j1, &n1, &ce->ev);
    lt_ce again;

    if (st != LT_OK) {
        /* Binary-mode JSON data is not checked on receipt, so it may not parse. */
        CHECK(ce->datatype == LT_CE_DATA_JSON && (st == LT_ERR_PARSE || st == LT_ERR_TOO_BIG),
              "a valid event does not encode");
        CHECK(j1 == NULL, "failed encode returned text");
        return;
    }
    lt_ce_init(&again);
    CHECK(lt_ce_from_json(&again, j1, n1) == LT_OK, "our JSON encoding does not decode");
    CHECK(lt_ce_to_json(&j2, &n2, &again.ev) == LT_OK, "a re-decoded event does not encode");
    CHECK(n1 == n2 && memcmp(j1, j2, n1) == 0, "JSON encoding is not a fixed point");
    if (ce->datatype != LT_CE_DATA_JSON)
        CHECK(same_event(&ce->ev, &again.ev, false), "JSON round trip changed the event");
    lt_ce_cleanup(&again);
    lt_free(j1);
    lt_free(j2);
}

/* A decoded event re-encodes in binary mode to the same event. */
static void check_success(const lt_ce *ce)
{
    natsMsg *m = NULL;
    lt_ce again;
    ProtobufCMessage *pm = NULL;
    lt_status st;

    CHECK(ce->ev.specversion != NULL && strcmp(ce->ev.specversion, "1.0") == 0, "specversion");
    CHECK(ce->ev.id != NULL && ce->ev.id[0] != '\0', "id");
    CHECK(ce->ev.source != NULL && ce->ev.type != NULL, "source/type");
    CHECK(ce->ev.data_len <= LT_MAX_MESSAGE, "data over the limit");
    CHECK(ce->ev.ext_count <= LT_CE_MAX_EXTENSIONS, "too many extensions");
    CHECK(lt_ce_validate(&ce->ev) == LT_OK, "a decoded event does not validate");
    CHECK(lt_ce_to_msg(&m, "fuzz.out", &ce->ev) == LT_OK, "a decoded event does not encode");
    lt_ce_init(&again);
    CHECK(lt_ce_from_msg(&again, m) == LT_OK, "our binary encoding does not decode");
    CHECK(same_event(&ce->ev, &again.ev, true), "binary round trip changed the event");
    CHECK(!ce->has_time || (again.time_sec == ce->time_sec && again.time_nsec == ce->time_nsec),
          "time changed");
    lt_ce_cleanup(&again);
    natsMsg_Destroy(m);
    check_json(ce);
    st = lt_ce_unpack(ce, &latticed__host__v1__heartbeat__descriptor, &pm);
    CHECK((st == LT_OK) == (pm != NULL), "unpack status and result disagree");
    if (pm != NULL)
        protobuf_c_message_free_unpacked(pm, NULL);
}

/* Header lines up to the first empty line, then the body. */
static natsMsg *build_msg(const char *in, size_t size)
{
    natsMsg *m = NULL;
    const char *p = in, *end = in + size, *body = end;
    char *line = NULL;
    int nlines = 0;

    for (const char *q = in; q + 1 < end; q++) {
        if (q[0] == '\n' && q[1] == '\n') {
            body = q + 2;
            break;
        }
    }
    if (natsMsg_Create(&m, "fuzz.in", NULL, body, (int)(end - body)) != NATS_OK)
        return NULL;
    line = malloc((size_t)(body - in) + 1);
    if (line == NULL)
        return m;
    while (p < body && nlines++ < MAX_LINES) {
        const char *nl = memchr(p, '\n', (size_t)(body - p));
        size_t len = (size_t)((nl != NULL ? nl : body) - p);
        char *colon;

        memcpy(line, p, len);
        line[len] = '\0';
        p += len + 1;
        colon = strchr(line, ':');
        if (colon == NULL || colon == line)
            continue;
        *colon = '\0';
        if (colon[1] == ' ')
            colon++;
        if (natsMsgHeader_Add(m, line, colon + 1) != NATS_OK)
            continue;
    }
    free(line);
    return m;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool opened;
    natsMsg *m;
    lt_ce ce;
    lt_status st;

    if (!opened) {
        CHECK(nats_Open(-1) == NATS_OK, "nats_Open");
        opened = true;
    }
    lt_ce_init(&ce);
    m = build_msg((const char *)data, size);
    if (m != NULL) {
        lt_error_clear();
        st = lt_ce_from_msg(&ce, m);
        if (st == LT_OK)
            check_success(&ce);
        else
            check_failure(st, &ce);
        lt_ce_cleanup(&ce);
        natsMsg_Destroy(m);
    }
    lt_error_clear();
    st = lt_ce_from_json(&ce, data, size);
    if (st == LT_OK)
        check_success(&ce);
    else
        check_failure(st, &ce);
    lt_ce_cleanup(&ce);
    return 0;
}
