/* config.h - the sluice.xml configuration: loading, checking, lookup.
 *
 * Every option is described once, in the option table (config_opts.c):
 * the parser checks values against it, fills defaults from it,
 * `sluice check-config --options` prints it and docs/configuration.md is
 * generated from it. */
#ifndef SL_CONFIG_H
#define SL_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include "common/common.h"
#include "item/item.h"

#define SL_CONFIG_NS "urn:sluice:config:1"

/* The shortest pseudonym key sluice accepts, in bytes (design: keys). */
#define SL_KEY_MIN_BYTES 32

enum sl_opt_type {
    SL_OPT_STRING,
    SL_OPT_INT,
    SL_OPT_BOOL,
    SL_OPT_ENUM,   /* one of opt->choices (space separated) */
    SL_OPT_PATH,   /* a path, relative to the config file's folder */
    SL_OPT_SECRET, /* env:NAME or file:PATH only; never logged */
    SL_OPT_IDREFS, /* space-separated ids of other elements */
    SL_OPT_CRON,   /* a five-field cron expression (added after 1.0) */
};

/* One row of the option table: an attribute of an element. */
struct sl_opt {
    const char *element; /* "source", "target", "job", "pull", ... */
    const char *kind;    /* source/target type it applies to, or NULL */
    const char *name;    /* attribute name */
    enum sl_opt_type type;
    const char *def;     /* default, or NULL when required/absent */
    int required;
    long min, max;       /* bounds for SL_OPT_INT */
    const char *choices; /* for SL_OPT_ENUM */
    const char *doc;
};

/* The option table, terminated by a row whose name is NULL. */
extern const struct sl_opt sl_opt_table[];

/* The row for attribute name of element (kind: the element's type
 * attribute, or NULL); rows that apply to every kind match any kind.
 * NULL when the table has no such attribute. */
const struct sl_opt *sl_opt_find(const char *element, const char *kind,
                                 const char *name);

/* One configured element (<source>, <target>, <job> and the job's steps)
 * with its attributes after defaults were applied. The attributes of a
 * child element appear with its name as prefix: <auth type="basic"> in a
 * <source> gives "auth.type"; the text of <resources> is in text. */
struct sl_conf_node {
    char *element; /* element name */
    char *id;      /* id attribute, or NULL */
    char *type;    /* type attribute, or NULL */
    int line;      /* line in the config file */
    size_t nattr;
    char **names;
    char **values;
    char *text; /* text content (e.g. <resources>), trimmed, or NULL */
};

struct sl_job {
    struct sl_conf_node node;   /* the <job> element itself */
    char *id;
    char *schedule;             /* cron expression or NULL */
    char *timezone;             /* zone of the schedule, NULL: local */
    char *missed;               /* "once" or "skip" */
    long jitter;                /* seconds, 0 to 3600 */
    struct sl_strv from;        /* source ids of <pull from=""> */
    char *since;                /* "checkpoint" or "all" */
    char *deid_profile;         /* <deid profile=""> resolved, or NULL */
    struct sl_strv translate;   /* map files, resolved */
    struct sl_strv validate;    /* profile dirs/files, resolved */
    /* Target ids of <push>, in order, each once: to="" first, then
     * fhir="" and dicom="" (the older form, which names the kind). */
    struct sl_strv push;
    /* The processing steps (<deid>, <translate>, <validate>) in the order
     * the job lists them, with their attributes after defaults. */
    size_t nstages;
    struct sl_conf_node *stages;
    char *bundle;               /* "transaction", "batch" or "none" */
    long bundle_size;
};

struct sl_config {
    char *path;     /* the file loaded */
    char *base_dir; /* its folder: relative paths resolve against it */
    char *state_path;
    char *quarantine_dir;
    char *quarantine_key; /* secret reference (env:/file:), or NULL */
    int quarantine_encrypt_required;
    long quarantine_retention_days; /* 0: kept until purged by hand */
    char *pseudonym_key; /* the secret reference (env:/file:), not a key */
    char *audit_key;     /* the same for the audit trail's HMAC, or NULL */
    size_t nsources, ntargets, njobs;
    struct sl_conf_node *sources;
    struct sl_conf_node *targets;
    struct sl_job *jobs;
};

/* Loads and checks path: schema (conf/sluice.xsd), option table, then
 * semantic checks (unknown or duplicate ids, missing files, literal
 * secrets). On failure err names the file and line. All problems found are
 * also printed one per line to stderr when report is non-zero.
 * On success *out owns the config; free with sl_config_free(). */
int sl_config_load(const char *path, int report, struct sl_config **out,
                   struct sl_err *err);
void sl_config_free(struct sl_config *cfg);

const struct sl_job *sl_config_job(const struct sl_config *cfg,
                                   const char *id);
const struct sl_conf_node *sl_config_source(const struct sl_config *cfg,
                                            const char *id);
const struct sl_conf_node *sl_config_target(const struct sl_config *cfg,
                                            const char *id);

/* Appends attribute name = value (both copied) to n. */
void sl_conf_node_add(struct sl_conf_node *n, const char *name,
                      const char *value);
/* Frees what a node holds (not the node itself). */
void sl_conf_node_clear(struct sl_conf_node *n);

/* Attribute lookup (defaults already applied); NULL when absent. */
const char *sl_conf_get(const struct sl_conf_node *n, const char *name);
long sl_conf_get_long(const struct sl_conf_node *n, const char *name,
                      long def);
/* A path attribute resolved against the config's folder; caller frees. */
char *sl_conf_get_path(const struct sl_config *cfg,
                       const struct sl_conf_node *n, const char *name);

/* Reads a secret given as env:NAME or file:PATH (file bytes, a trailing
 * newline removed). *out is owned by the caller and must be freed with
 * sl_freezero(*out, *len). Errors never include the secret. */
int sl_secret_read(const char *ref, const char *base_dir, char **out,
                   size_t *len, struct sl_err *err);

/* Item kinds a target type takes, as bits (SL_TAKES_* of item.h); 0 for
 * a type this build does not know. The pipeline's registry
 * (pipeline/registry.c) is the list of types; test_registry checks that
 * the two agree. */
unsigned sl_config_target_takes(const char *type);

/* Writes the option table as Markdown (for docs/configuration.md). */
void sl_config_print_options(FILE *f);

/* Checks a five-field cron expression (minute hour day-of-month month
 * day-of-week; numbers, '*', ranges, lists and steps). On failure returns
 * SL_ECONFIG with a message naming the bad field. */
int sl_cron_check(const char *expr, struct sl_err *err);

#endif
