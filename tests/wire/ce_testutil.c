/*
 * ce_testutil.c - helpers shared by the CloudEvents tests: a sample event
 * with every attribute and two extensions, and a deep comparison of a
 * decoded event against the event it was encoded from.
 */
#include "ce_testutil.h"

#include <check.h>
#include <stdbool.h>
#include <string.h>

static void assert_str_eq_null(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        ck_assert_ptr_eq(a, b);
    else
        ck_assert_str_eq(a, b);
}

/* Every attribute and the data of a decoded event equal ev's. */
void assert_same_event(const lt_ce *ce, const lt_ce_event *ev)
{
    ck_assert_str_eq(ce->ev.specversion, "1.0");
    ck_assert_str_eq(ce->ev.type, ev->type);
    ck_assert_str_eq(ce->ev.source, ev->source);
    assert_str_eq_null(ce->ev.id, ev->id);
    assert_str_eq_null(ce->ev.time, ev->time);
    assert_str_eq_null(ce->ev.subject, ev->subject);
    assert_str_eq_null(ce->ev.datacontenttype, ev->datacontenttype);
    assert_str_eq_null(ce->ev.dataschema, ev->dataschema);
    ck_assert_uint_eq(ce->ev.data_len, ev->data_len);
    if (ev->data_len > 0)
        ck_assert_int_eq(memcmp(ce->ev.data, ev->data, ev->data_len), 0);
    ck_assert_uint_eq(ce->ev.ext_count, ev->ext_count);
    for (size_t i = 0; i < ev->ext_count; i++) {
        bool found = false;

        for (size_t j = 0; j < ce->ev.ext_count && !found; j++) {
            if (strcmp(ce->ev.ext[j].name, ev->ext[i].name) == 0) {
                ck_assert_str_eq(ce->ev.ext[j].value, ev->ext[i].value);
                found = true;
            }
        }
        ck_assert_msg(found, "extension %s lost", ev->ext[i].name);
    }
}

static const lt_ce_ext sample_ext[] = { { "traceparent", "00-abc-def-01" }, { "epoch", "42" } };

lt_ce_event sample_event(const void *data, size_t len, const char *ct)
{
    return (lt_ce_event){
        .type = "dev.latticed.host.heartbeat.v1",
        .source = "NHOST1",
        .id = "5c7e9a52-8f6e-4d3a-9b1c-2e4f6a8b0c1d",
        .time = "2024-05-01T10:00:00.5Z",
        .subject = "instance/abc",
        .datacontenttype = ct,
        .dataschema = "https://latticed.dev/schemas/heartbeat",
        .data = data,
        .data_len = len,
        .ext = sample_ext,
        .ext_count = 2,
    };
}
