/*
 * tmodel.h - build lt_model values in tests without the YAML parser: an app,
 * components, scalers with spreads, links, configs, shared references and
 * the latticed extensions. Everything is freed by tm_free.
 */
#ifndef LT_TMODEL_H
#define LT_TMODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "lt_model.h"

/** A new app (version may be NULL). */
lt_model *tm_app(const char *name, const char *version);
void tm_free(lt_model *m);
void tm_shared(lt_model *m);

/** Append a component (image NULL for a shared reference, see tm_ref). */
lt_model_component *tm_comp(lt_model *m, const char *name, const char *image, bool capability);
void tm_id(lt_model *m, lt_model_component *c, const char *explicit_id);
void tm_ref(lt_model_component *c, const char *app, const char *comp);
void tm_config(lt_model_component *c, const char *name, const char *key, const char *value);
void tm_resources(lt_model_component *c, uint64_t memory_bytes, uint32_t cpu_millis);

/** Add a spreadscaler (daemon=false) or daemonscaler trait. */
void tm_scaler(lt_model_component *c, bool daemon, uint64_t instances);
/** Add a spread to the component's scaler: requirements as "k=v,k=v" ("" for none). */
void tm_spread(lt_model_component *c, const char *name, uint64_t weight, const char *req);

/** Add a link trait from c to target; cfg "k=v" or NULL (source config). */
lt_model_link *tm_link(lt_model_component *c, const char *target, const char *ns, const char *pkg,
                       const char *iface, const char *src_cfg);
void tm_link_colocate(lt_model_link *l, lt_model_colocate co);
/** Give link l (a trait of c) a target config "k=v,k=v". */
void tm_link_target_config(lt_model_component *c, lt_model_link *l, const char *cfg);

#endif
