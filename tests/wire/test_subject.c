/*
 * test_subject.c - the named subjects of wire/lt_subject: each builder's exact string (these
 * are wire facts, the same as docs/host.md, docs/protocol.md and docs/api.md state), what a
 * too-small buffer gives, and that the consumers' parsers take apart what the producers build.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "lt_limits.h"
#include "lt_subject.h"
#include "lt_testutil.h"

START_TEST(test_host_subjects)
{
    char s[LT_MAX_SUBJECT];

    ck_assert_int_eq(lt_subject_host_event(s, sizeof(s), "lattice", "default", "NHOST1",
                                           "host.heartbeat"),
                     LT_OK);
    ck_assert_str_eq(s, "lattice.default.evt.h.NHOST1.host.heartbeat");
    ck_assert_int_eq(lt_subject_events(s, sizeof(s), "lattice", LT_SUBJECT_ANY), LT_OK);
    ck_assert_str_eq(s, "lattice.*.evt.>");
    ck_assert_int_eq(lt_subject_host_command(s, sizeof(s), "lattice", "default", "NHOST1", "start"),
                     LT_OK);
    ck_assert_str_eq(s, "lattice.default.host.NHOST1.start");
    ck_assert_int_eq(lt_subject_host_command(s, sizeof(s), "lattice", "default", "NHOST1",
                                             LT_SUBJECT_ANY),
                     LT_OK);
    ck_assert_str_eq(s, "lattice.default.host.NHOST1.*");
    ck_assert_int_eq(lt_subject_inventory(s, sizeof(s), "lattice", "default"), LT_OK);
    ck_assert_str_eq(s, "lattice.default.inventory");
    ck_assert_int_eq(lt_subject_hosts(s, sizeof(s), "lattice", "default"), LT_OK);
    ck_assert_str_eq(s, "lattice.default.hosts");
    ck_assert_int_eq(lt_subject_hosts(s, sizeof(s), "my.pfx", LT_SUBJECT_ANY), LT_OK);
    ck_assert_str_eq(s, "my.pfx.*.hosts");
    ck_assert_int_eq(lt_subject_plan(s, sizeof(s), "lattice", "default"), LT_OK);
    ck_assert_str_eq(s, "lattice.default.plan");
    ck_assert_int_eq(lt_subject_instances(s, sizeof(s), "my.pfx", LT_SUBJECT_ANY), LT_OK);
    ck_assert_str_eq(s, "my.pfx.*.instances");
}
END_TEST

START_TEST(test_control_plane_subjects)
{
    char s[LT_MAX_SUBJECT];

    ck_assert_int_eq(lt_subject_cp_event(s, sizeof(s), LT_SUBJECT_LATTICE_PREFIX, "default",
                                         "app.deployed"),
                     LT_OK);
    ck_assert_str_eq(s, "lattice.default.evt.cp.app.deployed");
    ck_assert_int_eq(lt_subject_cp_events(s, sizeof(s), LT_SUBJECT_LATTICE_PREFIX, "default"),
                     LT_OK);
    ck_assert_str_eq(s, "lattice.default.evt.cp.>");
    ck_assert_int_eq(lt_subject_cp_events(s, sizeof(s), "lattice", LT_SUBJECT_ANY), LT_OK);
    ck_assert_str_eq(s, "lattice.*.evt.cp.>");
    ck_assert_int_eq(lt_subject_app_status(s, sizeof(s), LT_SUBJECT_STATUS_PREFIX, "default",
                                           "hello"),
                     LT_OK);
    ck_assert_str_eq(s, "wadm.status.default.hello");
}
END_TEST

START_TEST(test_api_subjects)
{
    char s[LT_MAX_SUBJECT];

    ck_assert_int_eq(lt_subject_api(s, sizeof(s), LT_SUBJECT_API_PREFIX, "default", "deploy",
                                    "hello"),
                     LT_OK);
    ck_assert_str_eq(s, "wadm.api.default.model.deploy.hello");
    ck_assert_int_eq(lt_subject_api(s, sizeof(s), LT_SUBJECT_API_PREFIX, "default", "list", NULL),
                     LT_OK);
    ck_assert_str_eq(s, "wadm.api.default.model.list");
    ck_assert_int_eq(lt_subject_api_all(s, sizeof(s), LT_SUBJECT_API_PREFIX), LT_OK);
    ck_assert_str_eq(s, "wadm.api.>");
}
END_TEST

START_TEST(test_too_small)
{
    char s[25];

    /* "lattice.default.inventory" is 25 bytes: one short of its NUL. */
    ck_assert_int_eq(lt_subject_inventory(s, sizeof(s), "lattice", "default"), LT_ERR_TOO_BIG);
    ck_assert_str_eq(s, "");
    ck_assert_int_eq(lt_subject_inventory(s, sizeof(s), "lattice", "defaul"), LT_OK);
    ck_assert_str_eq(s, "lattice.defaul.inventory");
    ck_assert_int_eq(lt_subject_api(s, sizeof(s), "wadm.api", "default", "deploy", "hello"),
                     LT_ERR_TOO_BIG);
    ck_assert_str_eq(s, "");
}
END_TEST

START_TEST(test_host_event_parse)
{
    char s[LT_MAX_SUBJECT], lattice[LT_SUBJECT_TOKEN_BUF], host[LT_SUBJECT_HOST_BUF];
    const char *type = NULL;

    ck_assert_int_eq(lt_subject_host_event(s, sizeof(s), "my.pfx", "prod", "NHOST1",
                                           "instance.started"),
                     LT_OK);
    ck_assert(lt_subject_host_event_parse("my.pfx", s, lattice, host, &type));
    ck_assert_str_eq(lattice, "prod");
    ck_assert_str_eq(host, "NHOST1");
    ck_assert_str_eq(type, "instance.started");
    /* Hosts of earlier releases: no host id. */
    ck_assert(lt_subject_host_event_parse("lattice", "lattice.default.evt.host.heartbeat", lattice,
                                          host, &type));
    ck_assert_str_eq(lattice, "default");
    ck_assert_str_eq(host, "");
    ck_assert_str_eq(type, "host.heartbeat");
    /* The control plane's own events parse as a type the scheduler does not know. */
    ck_assert(lt_subject_host_event_parse("lattice", "lattice.default.evt.cp.app.deployed", lattice,
                                          host, &type));
    ck_assert_str_eq(type, "cp.app.deployed");
    ck_assert(!lt_subject_host_event_parse("lattice", "other.default.evt.h.N.host.heartbeat",
                                           lattice, host, &type));
    ck_assert(!lt_subject_host_event_parse("lattice", "latticex.default.evt.host.heartbeat",
                                           lattice, host, &type));
    ck_assert(!lt_subject_host_event_parse("lattice", "lattice.default.host.N.start", lattice, host,
                                           &type));
    ck_assert(!lt_subject_host_event_parse("lattice", "lattice..evt.host.heartbeat", lattice, host,
                                           &type));
    ck_assert(
        !lt_subject_host_event_parse("lattice", "lattice.default.evt.h.N", lattice, host, &type));
    ck_assert(!lt_subject_host_event_parse("lattice", "lattice.default.evt.h..host.heartbeat",
                                           lattice, host, &type));
    ck_assert(
        !lt_subject_host_event_parse("lattice", "lattice.default.evt.", lattice, host, &type));
    /* A host id over LT_MAX_HOST_ID bytes is refused, one of exactly that size is not. */
    {
        char id[LT_MAX_HOST_ID + 2];

        memset(id, 'h', LT_MAX_HOST_ID);
        id[LT_MAX_HOST_ID] = '\0';
        ck_assert_int_eq(lt_subject_host_event(s, sizeof(s), "lattice", "default", id,
                                               "host.heartbeat"),
                         LT_OK);
        ck_assert(lt_subject_host_event_parse("lattice", s, lattice, host, &type));
        ck_assert_str_eq(host, id);
        id[LT_MAX_HOST_ID] = 'h';
        id[LT_MAX_HOST_ID + 1] = '\0';
        ck_assert_int_eq(lt_subject_host_event(s, sizeof(s), "lattice", "default", id,
                                               "host.heartbeat"),
                         LT_OK);
        ck_assert(!lt_subject_host_event_parse("lattice", s, lattice, host, &type));
    }
}
END_TEST

START_TEST(test_host_command_parse)
{
    char s[LT_MAX_SUBJECT], host[LT_SUBJECT_HOST_BUF];
    const char *verb = NULL;

    ck_assert_int_eq(lt_subject_host_command(s, sizeof(s), "lattice", "default", "NHOST1",
                                             "inventory"),
                     LT_OK);
    ck_assert(lt_subject_host_command_parse("lattice", "default", s, host, &verb));
    ck_assert_str_eq(host, "NHOST1");
    ck_assert_str_eq(verb, "inventory");
    ck_assert(!lt_subject_host_command_parse("lattice", "other", s, host, &verb));
    ck_assert(!lt_subject_host_command_parse("lat", "default", s, host, &verb));
    ck_assert(!lt_subject_host_command_parse("lattice", "default", "lattice.default.inventory",
                                             host, &verb));
    ck_assert(!lt_subject_host_command_parse("lattice", "default", "lattice.default.host.N", host,
                                             &verb));
    ck_assert(!lt_subject_host_command_parse("lattice", "default", "lattice.default.host.N.", host,
                                             &verb));
}
END_TEST

START_TEST(test_split_lattice)
{
    char lattice[LT_SUBJECT_TOKEN_BUF];
    const char *rest = NULL;

    ck_assert(lt_subject_split_lattice("lattice", "lattice.default.hosts", lattice, sizeof(lattice),
                                       &rest));
    ck_assert_str_eq(lattice, "default");
    ck_assert_str_eq(rest, "hosts");
    ck_assert(
        !lt_subject_split_lattice("lattice", "lattice.default", lattice, sizeof(lattice), &rest));
    ck_assert(!lt_subject_split_lattice("lattice", "lattice.too-long.hosts", lattice, 8, &rest));
    ck_assert(lt_subject_split_lattice("lattice", "lattice.fits7ch.hosts", lattice, 8, &rest));
}
END_TEST

static Suite *subject_suite(void)
{
    Suite *s = suite_create("subject");

    lt_test_tcase(s, "names", 0,
                  (const TTest *const[]){ test_host_subjects, test_control_plane_subjects,
                                          test_api_subjects, test_too_small, test_host_event_parse,
                                          test_host_command_parse, test_split_lattice, NULL });
    return s;
}

int main(void)
{
    return lt_test_run_suite(subject_suite());
}
