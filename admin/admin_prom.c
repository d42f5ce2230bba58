/*
 * admin_prom.c - the Prometheus text exposition format 0.0.4 writer: HELP and
 * TYPE lines, samples with escaped label values, cumulative histograms.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lt_admin.h"

static void escape(lt_buf *out, const char *s, bool quotes)
{
    for (; *s != '\0'; s++) {
        if (*s == '\\')
            LT_IGNORE(lt_buf_appends(out, "\\\\"));
        else if (*s == '\n')
            LT_IGNORE(lt_buf_appends(out, "\\n"));
        else if (*s == '"' && quotes)
            LT_IGNORE(lt_buf_appends(out, "\\\""));
        else
            LT_IGNORE(lt_buf_appendc(out, *s));
    }
}

void lt_admin_prom_family(lt_buf *out, const char *name, const char *type, const char *help)
{
    LT_IGNORE(lt_buf_appendf(out, "# HELP %s ", name));
    escape(out, help, false);
    LT_IGNORE(lt_buf_appendf(out, "\n# TYPE %s %s\n", name, type));
}

static void value(lt_buf *out, double v)
{
    if (isnan(v))
        LT_IGNORE(lt_buf_appends(out, "NaN"));
    else if (isinf(v))
        LT_IGNORE(lt_buf_appends(out, v > 0 ? "+Inf" : "-Inf"));
    else if (v == floor(v) && fabs(v) < 1e15)
        LT_IGNORE(lt_buf_appendf(out, "%.0f", v));
    else {
        char t[40];

        /* %.15g unless it does not read back as v (then %.17g): 0.001 stays 0.001 */
        snprintf(t, sizeof(t), "%.15g", v);
        if (strtod(t, NULL) != v)
            snprintf(t, sizeof(t), "%.17g", v);
        LT_IGNORE(lt_buf_appends(out, t));
    }
}

/* name{labels[,le="x"]} */
static void series(lt_buf *out, const char *name, const char *suffix, const lt_admin_label *labels,
                   size_t n, const char *le)
{
    LT_IGNORE(lt_buf_appendf(out, "%s%s", name, suffix));
    if (n == 0 && le == NULL)
        return;
    LT_IGNORE(lt_buf_appendc(out, '{'));
    for (size_t i = 0; i < n; i++) {
        LT_IGNORE(lt_buf_appendf(out, "%s%s=\"", i ? "," : "", labels[i].name));
        escape(out, labels[i].value != NULL ? labels[i].value : "", true);
        LT_IGNORE(lt_buf_appendc(out, '"'));
    }
    if (le != NULL)
        LT_IGNORE(lt_buf_appendf(out, "%sle=\"%s\"", n ? "," : "", le));
    LT_IGNORE(lt_buf_appendc(out, '}'));
}

void lt_admin_prom_sample(lt_buf *out, const char *name, const lt_admin_label *labels, size_t n,
                          double v)
{
    series(out, name, "", labels, n, NULL);
    LT_IGNORE(lt_buf_appendc(out, ' '));
    value(out, v);
    LT_IGNORE(lt_buf_appendc(out, '\n'));
}

void lt_admin_prom_hist(lt_buf *out, const char *name, const lt_admin_label *labels, size_t n,
                        const lt_hist_snap *h)
{
    char le[32];

    for (size_t i = 0; i <= h->n; i++) {
        lt_buf lb;

        lt_buf_init_on(&lb, le, sizeof(le), sizeof(le) - 1);
        if (i < h->n)
            value(&lb, h->bounds[i]);
        else
            LT_IGNORE(lt_buf_appends(&lb, "+Inf"));
        series(out, name, "_bucket", labels, n, lb.ptr);
        LT_IGNORE(lt_buf_appendf(out, " %llu\n", (unsigned long long)h->cumulative[i]));
        lt_buf_cleanup(&lb);
    }
    series(out, name, "_sum", labels, n, NULL);
    LT_IGNORE(lt_buf_appendc(out, ' '));
    value(out, h->sum);
    LT_IGNORE(lt_buf_appendc(out, '\n'));
    series(out, name, "_count", labels, n, NULL);
    LT_IGNORE(lt_buf_appendf(out, " %llu\n", (unsigned long long)h->count));
}
