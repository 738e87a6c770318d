/* config_int.h - what the files that load sluice.xml share: the loader's
 * state, its list of problems, and the few functions one file calls in
 * another. Private to src/config/. */
#ifndef SL_CONFIG_INT_H
#define SL_CONFIG_INT_H

#include <stddef.h>

#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "config/config.h"

struct problem {
    int line;   /* 0: about the whole file */
    size_t seq; /* keeps the order of problems on one line */
    char *msg;  /* "FILE:LINE: message" */
};

/* What a job's steps looked like, for the checks after the walk. */
struct job_lines {
    int pull, deid, push;
    /* which <push> attribute named each target: checked after the walk */
    struct sl_strv to, fhir, dicom;
};

struct loader {
    const char *path; /* as given: messages name the file this way */
    struct sl_config *cfg;
    struct problem *probs;
    size_t nprobs, capprobs;
    int *schema_lines; /* lines the schema rejected */
    size_t nschema, capschema;
    int in_schema;  /* the problems being added come from libxml2 */
    int last_facet; /* line of the last facet error, to drop its echo */
    struct job_lines *jl;
    size_t njl;
    int quarantine_line;
    int keys_line;
};

#if LIBXML_VERSION >= 21200
#define SL_XMLERR const xmlError *
#else
#define SL_XMLERR xmlErrorPtr
#endif

/* config_problems.c: problems, libxml2's messages, the schema */

/* Adds "FILE:LINE: message" (line 0: about the whole file) unless the
 * schema already rejected that line or the same message is there. */
void config_problem_add(struct loader *L, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* True when the schema rejected something on line. */
int config_schema_rejected(const struct loader *L, int line);
/* qsort order of problems: by line, then as they came. */
int config_problem_cmp(const void *a, const void *b);
/* libxml2's structured error handler; ctx is the loader. */
void config_xml_error(void *ctx, SL_XMLERR e);
/* Validates doc against sluice.xsd; the problems go to L. */
void config_schema_validate(struct loader *L, xmlDoc *doc);

/* config_load.c */

/* True when word is one of the space-separated words of list. */
int config_word_in(const char *word, const char *list);

/* config_check.c: the checks that need the whole file, after the walk
 * and the defaults. */
void config_check_file(struct loader *L);

/* config_secret.c */

/* True when s is a valid environment variable name. */
int config_env_name_valid(const char *s);

#endif
