/*
 * lctl_select.h - label selectors for `hosts -l` and `list -l` (kubectl's
 * `-l, --selector`): `key=value`, `key==value`, `key!=value`, `key` (has the
 * label) and `!key` (has not), comma-separated, all must hold. Also `list -l`,
 * which reads each app's manifest labels (cmd_select.c).
 */
#ifndef LCTL_SELECT_H
#define LCTL_SELECT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "lctl_api.h"

/** A parsed selector (lctl_select_parse); zero-initialised is empty and matches everything. */
typedef struct {
    struct lctl_select_req *reqs;
    size_t n;
} lctl_select;

/** The configuration of a command that takes -l: the API's first (lctl_api_parse fills it). */
typedef struct {
    lctl_api_cfg api;
    const char *selector;
} lctl_select_cfg;

/* clang-format off */
#define LCTL_OPT_SELECTOR(help)                                                                   \
    { "selector", 'l', NULL, LT_OPT_STRING, "SELECTOR", NULL, help,                              \
      offsetof(lctl_select_cfg, selector), 0, 0 }
/* clang-format on */

/**
 * Parse text ("k=v,k2!=v2,k3,!k4"). 0, or LCTL_EXIT_USAGE after a line on stderr naming the
 * bad requirement. text NULL or "": the empty selector.
 */
int lctl_select_parse(const char *text, lctl_select *out);

/** Do labels (a JSON object of strings; NULL = none) satisfy every requirement? */
bool lctl_select_match(const lctl_select *sel, const json_t *labels);

/** Free. NULL-safe. */
void lctl_select_free(lctl_select *sel);

/**
 * `list` (also with -l): model.get, and with a selector keep only the apps whose manifest
 * (the deployed version, else the latest) has matching metadata.labels, one model.get per app;
 * -o json then prints the filtered list in the reply's shape. tbl prints the table. Exit code.
 */
int lctl_select_list(const lctl_command *cmd, int argc, char **argv, void (*tbl)(lctl_client *c));

#endif
