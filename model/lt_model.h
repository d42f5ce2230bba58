/*
 * lt_model.h - the application manifest model: parse a YAML or JSON OAM
 * manifest (wadm-compatible) into typed, read-only C structs, validate it with
 * every rule of wadm (same message texts) plus latticed's own rules, report
 * every error and warning at once with its location, serialise the model to
 * canonical JSON, and compute the ids wadm derives. Field reference:
 * docs/manifest.md.
 */
#ifndef LT_MODEL_H
#define LT_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lt_buf.h"
#include "lt_status.h"

/* ---------------------------------------------------------------------------------------------
 * Limits and constants
 * ------------------------------------------------------------------------------------------- */

#define LT_MODEL_MAX_NODES 200000u /**< default cap on document nodes, alias expansions counted */
#define LT_MODEL_MAX_DEPTH 64u     /**< default cap on nesting (same as LT_MAX_JSON_DEPTH) */

#define LT_MODEL_OAM_VERSION "core.oam.dev/v1beta1"
#define LT_MODEL_APP_KIND "Application"
#define LT_MODEL_ANN_VERSION "version"
#define LT_MODEL_ANN_DESCRIPTION "description"
#define LT_MODEL_ANN_SHARED "experimental.wasmcloud.dev/shared"
#define LT_MODEL_DEFAULT_LINK_NAME "default"
#define LT_MODEL_DEFAULT_WEIGHT 100u
#define LT_MODEL_SECRET_POLICY_TYPE "policy.secret.wasmcloud.dev/v1alpha1"

/* latticed extensions (docs/manifest.md, "Extensions"). wadm ignores all three. */
#define LT_MODEL_TRAIT_RESOURCES_TYPE "latticed.dev/resources" /**< component trait type */
#define LT_MODEL_POLICY_ROLLOUT_TYPE "latticed.dev/rollout"    /**< policy type */
#define LT_MODEL_LINK_COLOCATE_KEY "latticed.dev/colocate"     /**< key in link properties */

/* ---------------------------------------------------------------------------------------------
 * The model. Everything below is owned by the lt_model and read-only for callers; strings are
 * NUL-terminated UTF-8 and live as long as the model. Arrays come with a count.
 * ------------------------------------------------------------------------------------------- */

/** Where a model element came from: 1-based line/column (0 when unknown, e.g. JSON input) and
 *  the JSON path ("spec.components[1].traits[0]"). */
typedef struct {
    uint32_t line;
    uint32_t column;
    const char *path; /**< never NULL ("" for the document itself) */
} lt_model_loc;

typedef struct {
    const char *key;
    const char *value;
} lt_model_kv;

/** A string-to-string map, sorted by key (byte order), keys unique. */
typedef struct {
    const lt_model_kv *items;
    size_t count;
} lt_model_map;

/** A named configuration (`config` entries). */
typedef struct {
    const char *name;
    bool has_properties;     /**< false: external config, used by name as-is */
    lt_model_map properties; /**< wadm-managed config values (has_properties) */
    lt_model_loc loc;
} lt_model_config;

/** A secret reference; values are never in the manifest, only where to fetch them. */
typedef struct {
    const char *name;
    const char *policy; /**< name of a policy of type LT_MODEL_SECRET_POLICY_TYPE */
    const char *key;
    const char *field;   /**< NULL when absent */
    const char *version; /**< NULL when absent */
    lt_model_loc loc;
} lt_model_secret;

typedef struct {
    const char *name;
    lt_model_map requirements; /**< host labels that must all match (empty: any host) */
    bool has_weight;           /**< weight given explicitly (else LT_MODEL_DEFAULT_WEIGHT) */
    uint64_t weight;           /**< effective weight */
    lt_model_loc loc;
} lt_model_spread;

/** spreadscaler / daemonscaler properties. */
typedef struct {
    uint64_t instances; /**< `instances` or its alias `replicas` */
    const lt_model_spread *spreads;
    size_t spread_count;
} lt_model_scaler;

/** Co-location preference of a link (extension key LT_MODEL_LINK_COLOCATE_KEY). */
typedef enum {
    LT_MODEL_COLOCATE_UNSET = 0, /**< not given: the scheduler's default (preferred) */
    LT_MODEL_COLOCATE_NONE,      /**< place independently */
    LT_MODEL_COLOCATE_PREFERRED, /**< same host as the target when a host fits both */
    LT_MODEL_COLOCATE_REQUIRED,  /**< only hosts that can run source and target together */
} lt_model_colocate;

typedef struct {
    const char *name;          /**< effective link name ("default" when not given) */
    bool name_explicit;        /**< `name` was written */
    const char *wit_namespace; /**< `namespace` */
    const char *wit_package;   /**< `package` */
    const char *const *interfaces;
    size_t interface_count;
    const char *target; /**< name of the target component in this manifest ("" if absent) */
    const lt_model_config *target_config;
    size_t target_config_count;
    const lt_model_secret *target_secrets;
    size_t target_secret_count;
    bool has_source; /**< `source` (or deprecated `source_config`) was written */
    const lt_model_config *source_config;
    size_t source_config_count;
    const lt_model_secret *source_secrets;
    size_t source_secret_count;
    lt_model_colocate colocate; /**< extension */
} lt_model_link;

/** Per-instance resource requests (extension trait LT_MODEL_TRAIT_RESOURCES_TYPE). */
typedef struct {
    uint64_t memory_bytes; /**< 0 when not requested */
    uint32_t cpu_millis;   /**< millicores; 0 when not requested */
} lt_model_resources;

typedef enum {
    LT_MODEL_TRAIT_SPREADSCALER = 0,
    LT_MODEL_TRAIT_DAEMONSCALER,
    LT_MODEL_TRAIT_LINK,
    LT_MODEL_TRAIT_RESOURCES, /**< latticed extension */
    LT_MODEL_TRAIT_CUSTOM,    /**< anything else: kept as opaque JSON, never acted upon */
} lt_model_trait_kind;

/** How wadm's untagged decoding reads a trait's properties, whatever its type says. */
typedef enum {
    LT_MODEL_SHAPE_CUSTOM = 0,
    LT_MODEL_SHAPE_LINK,
    LT_MODEL_SHAPE_SCALER,
} lt_model_shape;

typedef struct {
    const char *type;         /**< as written ("spreadscaler", "link", "my-trait") */
    lt_model_trait_kind kind; /**< what latticed acts upon (type and shape agree) */
    lt_model_shape shape;
    lt_model_scaler scaler;       /**< valid when shape == LT_MODEL_SHAPE_SCALER */
    lt_model_link link;           /**< valid when shape == LT_MODEL_SHAPE_LINK */
    lt_model_resources resources; /**< valid when kind == LT_MODEL_TRAIT_RESOURCES */
    /** properties as canonical compact JSON (sorted keys) when kind is CUSTOM or RESOURCES,
     *  else NULL */
    const char *properties_json;
    lt_model_loc loc;
} lt_model_trait;

typedef enum {
    LT_MODEL_COMPONENT = 0, /**< `type: component` (alias `actor`): a Wasm component */
    LT_MODEL_CAPABILITY,    /**< `type: capability`: a capability provider */
} lt_model_kind;

typedef struct {
    const char *name;
    lt_model_kind kind;
    const char *image;            /**< NULL for a shared reference */
    const char *explicit_id;      /**< `properties.id`, NULL when absent */
    const char *shared_app;       /**< `properties.application.name`, NULL when absent */
    const char *shared_component; /**< `properties.application.component` */
    const lt_model_config *config;
    size_t config_count;
    const lt_model_secret *secrets;
    size_t secret_count;
    bool has_traits; /**< `traits` was written (possibly empty) */
    const lt_model_trait *traits;
    size_t trait_count;
    const char *id; /**< the id wadm computes (explicit id, else `{app}-{name}` normalised) */
    const lt_model_resources *resources; /**< extension; NULL when not requested */
    lt_model_loc loc;
} lt_model_component;

typedef struct {
    const char *name;
    const char *type;
    lt_model_map properties;
    lt_model_loc loc;
} lt_model_policy;

/** Rollout policy (extension policy type LT_MODEL_POLICY_ROLLOUT_TYPE). */
typedef struct {
    bool set;                 /**< a rollout policy was given */
    bool percent;             /**< max_unavailable is a percentage */
    uint32_t max_unavailable; /**< instances, or percent (0..100) */
} lt_model_rollout;

typedef struct lt_model {
    const char *api_version;
    const char *kind;
    const char *name;
    lt_model_map annotations;
    lt_model_map labels;
    const char *version;     /**< annotation `version`, NULL when absent (borrowed from map) */
    const char *description; /**< annotation `description`, NULL when absent */
    bool shared;             /**< annotation experimental.wasmcloud.dev/shared parses as true */
    const lt_model_component *components;
    size_t component_count;
    const lt_model_policy *policies;
    size_t policy_count;
    lt_model_rollout rollout; /**< extension */
    struct lt__arena *arena_; /**< private */
} lt_model;

/* ---------------------------------------------------------------------------------------------
 * Diagnostics
 * ------------------------------------------------------------------------------------------- */

typedef enum {
    LT_MODEL_ERROR = 0, /**< refuses the manifest */
    LT_MODEL_WARNING,   /**< informative, never blocks */
} lt_model_level;

/** One finding. `code` says where the rule comes from:
 *  "syntax" (not well-formed YAML/JSON), "limit" (a hostile-input limit), "schema" (a field of
 *  the wrong type, missing or unknown: wadm refuses these at parse time), "wadm" (a rule of
 *  wadm's validator, message text identical to wadm's), "latticed" (latticed's own rules). */
typedef struct {
    lt_model_level level;
    const char *code;
    const char *message;
    const char *path; /**< JSON path, "" for the document */
    uint32_t line;    /**< 1-based; 0 when unknown (JSON input) */
    uint32_t column;
} lt_model_diag;

/** Every finding of one parse, in order: document errors first, then rules in wadm's order. */
typedef struct lt_model_report {
    const lt_model_diag *items;
    size_t count;
    size_t error_count;
    size_t warning_count;
    const char *source;            /**< source name given in the options ("<input>" by default) */
    struct lt__report_priv *priv_; /**< private */
} lt_model_report;

/* ---------------------------------------------------------------------------------------------
 * Parsing
 * ------------------------------------------------------------------------------------------- */

typedef enum {
    LT_MODEL_FORMAT_AUTO = 0, /**< JSON when the document starts with '{', else YAML */
    LT_MODEL_FORMAT_YAML,
    LT_MODEL_FORMAT_JSON,
} lt_model_format;

/** Parse options; zero-initialise and set what you need (0 means the default). */
typedef struct {
    lt_model_format format;
    const char *source_name; /**< used in locations ("app.yaml"); default "<input>" */
    size_t max_bytes;        /**< default LT_MAX_MANIFEST_BYTES */
    size_t max_depth;        /**< default LT_MODEL_MAX_DEPTH */
    size_t max_nodes;        /**< default LT_MODEL_MAX_NODES */
} lt_model_parse_opts;

/**
 * Parse and validate a manifest of len bytes (need not be NUL-terminated; data NULL is an
 * empty document). opts may be NULL for defaults.
 *
 * Returns LT_OK when the manifest is valid: *new_model receives it (free with lt_model_free).
 * Returns LT_ERR_INVALID when it has errors (LT_ERR_TOO_BIG when it is over max_bytes):
 * *new_model is set to NULL. In both cases *new_report (optional, may be NULL) receives every
 * error and warning (free with lt_model_report_free). LT_ERR_NOMEM: nothing is returned.
 */
LT_NODISCARD lt_status lt_model_parse(const void *data, size_t len, const lt_model_parse_opts *opts,
                                      lt_model **new_model, lt_model_report **new_report);

/** DESTRUCTOR. Free a model and everything it owns. NULL-safe. */
void lt_model_free(lt_model *m);

/** DESTRUCTOR. Free a report. NULL-safe. */
void lt_model_report_free(lt_model_report *r);

/** Message of the first error (what wadm's put replies with), or NULL if none. Borrowed. */
const char *lt_model_report_first_error(const lt_model_report *r);

/**
 * Append the location of d to out: "file:line:column" when a line is known (YAML), else the
 * JSON path (or "file" for a document-level finding without path). LT_ERR_TOO_BIG from out.
 */
LT_NODISCARD lt_status lt_model_diag_location(const lt_model_report *r, const lt_model_diag *d,
                                              lt_buf *out);

/**
 * Append the report as one JSON object to out:
 * {"valid":bool,"errors":[{"message","location","path","code","line"?,"column"?}…],
 *  "warnings":[…]}. LT_ERR_TOO_BIG from out, LT_ERR_NOMEM.
 */
LT_NODISCARD lt_status lt_model_report_to_json(const lt_model_report *r, lt_buf *out);

/* ---------------------------------------------------------------------------------------------
 * Canonical form
 * ------------------------------------------------------------------------------------------- */

#define LT_MODEL_JSON_PRETTY 0x1u /**< indent by 2 spaces (default: compact, one line) */

/**
 * Append the canonical JSON form of m to out: wadm's field names and order, empty optional
 * fields omitted, `actor` written `component`, `replicas` written `instances`, deprecated link
 * forms rewritten, maps sorted by key, custom trait properties with sorted keys. Parsing it
 * gives an equal model. LT_ERR_TOO_BIG from out, LT_ERR_NOMEM.
 */
LT_NODISCARD lt_status lt_model_to_json(const lt_model *m, unsigned flags, lt_buf *out);

/**
 * Set (or replace) annotation key=value, e.g. the version wadm's put assigns when none was
 * given; version/description/shared are updated. LT_ERR_NOMEM. Invalidates borrowed
 * annotation pointers.
 */
LT_NODISCARD lt_status lt_model_set_annotation(lt_model *m, const char *key, const char *value);

/* ---------------------------------------------------------------------------------------------
 * Lookups and ids
 * ------------------------------------------------------------------------------------------- */

/** The component named name, or NULL. Borrowed. */
const lt_model_component *lt_model_find_component(const lt_model *m, const char *name);

/** Value of key in map, or NULL. Borrowed. */
const char *lt_model_map_get(const lt_model_map *map, const char *key);

/**
 * wadm's compute_component_id without explicit id: lower(app) + "-" + lower(name), every
 * character other than ASCII letters and digits replaced by '_' ("hello-simple", "hello" ->
 * "hello_simple-hello"). Appends to out; LT_ERR_TOO_BIG from out.
 */
LT_NODISCARD lt_status lt_model_compute_id(const char *app, const char *name, lt_buf *out);

/** wadm rule 1: name matches ^[-\w]+$ (latticed: ASCII word characters only). */
bool lt_model_name_is_valid(const char *name);

/** wadm's OAM label/annotation key rule: `name` or `dns.prefix/name`. */
bool lt_model_label_key_is_valid(const char *key);

/**
 * Instances that may be unavailable at once while upgrading a scaler of `instances`
 * instances: the rollout policy's count, or its percentage rounded down but at least 1 when
 * the percentage is not 0; 25% when the manifest has no rollout policy (r->set false).
 */
uint64_t lt_model_rollout_max_unavailable(const lt_model_rollout *r, uint64_t instances);

/* ---------------------------------------------------------------------------------------------
 * The deploy check (deploy_check.c): may an app be deployed next to the lattice's others?
 * ------------------------------------------------------------------------------------------- */

/** A component of the app to deploy, as the deploy check sees it (borrowed strings). */
typedef struct {
    const char *name;
    const char *id; /**< explicit id it claims, NULL when none */
    lt_model_kind kind;
    const char *shared_app;       /**< a shared reference: the app it points at, else NULL */
    const char *shared_component; /**< ... and the component there */
} lt_model_deploy_comp;

/**
 * What the deploy check needs to know about the other deployed apps of the lattice. Each
 * caller answers from its own data (the API from the store, the scheduler from its specs).
 */
typedef struct {
    void *ctx;
    /** *app = the other deployed app that claims explicit id (borrowed), NULL when none. */
    lt_status (*id_owner)(void *ctx, const char *id, const char **app);
    /** *ok = app is a deployed shared app with a component of that name and kind. */
    lt_status (*shared_has)(void *ctx, const char *app, const char *component, lt_model_kind kind,
                            bool *ok);
} lt_model_deploy_env;

/**
 * wadm's deploy rules for an app of n comps: no explicit id another app claims
 * (`Component identifier '{id}' is already deployed in a different application '{app}'.`),
 * and every shared reference resolvable (`Application contains shared components that are
 * not deployed in other applications: ["name", ...]`). LT_OK when it may be deployed;
 * LT_ERR_REFUSED with wadm's message appended to why when not; a status of env otherwise.
 */
LT_NODISCARD lt_status lt_model_check_deploy(const lt_model_deploy_comp *comps, size_t n,
                                             const lt_model_deploy_env *env, lt_buf *why);

/**
 * The shared references of comps that env cannot resolve, as wadm's list text
 * (`["a", "b"]`) appended to names; *count gets how many (0: none, nothing appended).
 * LT_ERR_TOO_BIG when names is full, or a status of env.
 */
LT_NODISCARD lt_status lt_model_shared_missing(const lt_model_deploy_comp *comps, size_t n,
                                               const lt_model_deploy_env *env, lt_buf *names,
                                               size_t *count);

#endif
