/*
 * lctl_sched.h - the scheduler's latticectl commands: `hosts` (cmd_hosts.c),
 * `events` (cmd_events.c), `plan` (cmd_plan.c) and `instances` (cmd_instances.c), listed
 * in the command table in main.c.
 */
#ifndef LCTL_SCHED_H
#define LCTL_SCHED_H

#include "lctl_api.h"

LCTL_DECLARE(hosts);
LCTL_DECLARE(events);
LCTL_DECLARE(plan);
LCTL_DECLARE(instances);

/** plan's body, also run by `apply --dry-run` with apply's options (cmd_plan.c). */
int lctl_plan_run(const lctl_command *cmd, int argc, char **argv);

#endif
