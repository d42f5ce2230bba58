/*
 * lctl_sched.h - the scheduler's latticectl commands: `hosts` (cmd_hosts.c)
 * and `events` (cmd_events.c), listed in the command table in main.c.
 */
#ifndef LCTL_SCHED_H
#define LCTL_SCHED_H

#include "lctl_api.h"

LCTL_DECLARE(hosts);
LCTL_DECLARE(events);

#endif
