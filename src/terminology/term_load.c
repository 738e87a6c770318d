/* term_load.c - reading maps: FHIR R4 ConceptMap (JSON) and the CSV form
 *
 *   source system,source code,target system,target code,target display,relationship
 *
 * one mapping a line (RFC 4180 quoting; a first line naming the columns,
 * blank lines and lines starting with '#' are skipped). A system may
 * carry a version as "system|version", as FHIR canonical references do.
 * relationship is an R4 ConceptMap equivalence code. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "terminology/term_int.h"

#define CSV_FIELDS 6

/* ---- CSV ---- */

/* Splits one line (without its end) into fields; returns the number of
 * fields, or -1 with *why set. Fields point into buf (unquoted in place). */
static int
csv_split(char *line, char **f, int max, const char **why)
{
    char *r = line, *w;
    int n = 0;

    for (;;) {
        if (n == max) {
            *why = "too many fields";
            return -1;
        }
        f[n++] = w = r;
        if (*r == '"') {
            r++;
            for (;;) {
                if (*r == '\0') {
                    *why = "a quoted field is not closed";
                    return -1;
                }
                if (*r == '"' && r[1] == '"') {
                    *w++ = '"';
                    r += 2;
                } else if (*r == '"') {
                    r++;
                    break;
                } else {
                    *w++ = *r++;
                }
            }
            if (*r != ',' && *r != '\0') {
                *why = "text after a closing quote";
                return -1;
            }
        } else {
            while (*r != ',' && *r != '\0') {
                if (*r == '"') {
                    *why = "a quote inside an unquoted field";
                    return -1;
                }
                *w++ = *r++;
            }
        }
        if (*r == '\0') {
            *w = '\0';
            return n;
        }
        *w = '\0';
        r++; /* the comma */
    }
}

/* "system|version" split in place; *version NULL when none. */
static int
split_system(char *s, char **version)
{
    char *bar = strchr(s, '|');

    *version = NULL;
    if (bar != NULL) {
        *bar = '\0';
        *version = bar + 1;
        if (**version == '\0')
            return 0;
    }
    return term_system_ok(s);
}

static int
csv_line(const char *name, long lineno, char *line, int *header_done,
         struct sl_term_map *m, struct sl_err *err)
{
    static const char *const cols[CSV_FIELDS] = {
        "source system", "source code",    "target system",
        "target code",   "target display", "relationship",
    };
    char *f[CSV_FIELDS], *sv, *tv, where[32];
    const char *why = NULL;
    int n, rel, k;

    n = csv_split(line, f, CSV_FIELDS, &why);
    if (n < 0)
        return SL_ERR(err, SL_ECONFIG, "%s:%ld: broken CSV line: %s", name,
                      lineno, why);
    if (!*header_done) {
        *header_done = 1;
        if (strncasecmp(f[0], "source", 6) == 0)
            return SL_OK; /* the column names */
    }
    if (n != CSV_FIELDS)
        return SL_ERR(err, SL_ECONFIG, "%s:%ld: broken CSV line: %d fields, "
                      "expected %d (source system, source code, target "
                      "system, target code, target display, relationship)",
                      name, lineno, n, CSV_FIELDS);
    for (k = 0; k < CSV_FIELDS; k++)
        if (f[k][0] == '\0' && k != 4 && !(k == 3 && strcmp(f[5],
                                                            "unmatched") == 0))
            return SL_ERR(err, SL_ECONFIG, "%s:%ld: %s is empty", name,
                          lineno, cols[k]);
    if (!split_system(f[0], &sv))
        return SL_ERR(err, SL_ECONFIG, "%s:%ld: source system \"%s\" is not "
                      "a system URI (http://..., urn:oid:...)", name, lineno,
                      f[0]);
    if (!split_system(f[2], &tv))
        return SL_ERR(err, SL_ECONFIG, "%s:%ld: target system \"%s\" is not "
                      "a system URI (http://..., urn:oid:...)", name, lineno,
                      f[2]);
    if ((rel = sl_term_rel_parse(f[5])) < 0)
        return SL_ERR(err, SL_ECONFIG, "%s:%ld: unknown relationship \"%s\" "
                      "(an R4 equivalence: equivalent, equal, wider, "
                      "subsumes, narrower, specializes, inexact, relatedto, "
                      "unmatched, disjoint)", name, lineno, f[5]);
    snprintf(where, sizeof(where), "line %ld", lineno);
    term_group_add(term_group_get(m, f[0], sv, f[2], tv), f[1],
                   f[3][0] ? f[3] : NULL, f[4][0] ? f[4] : NULL,
                   (enum sl_term_rel)rel, where);
    return SL_OK;
}

int
term_load_csv(const char *name, const char *data, size_t len,
              struct sl_term_map *m, struct sl_err *err)
{
    size_t pos = 0;
    long lineno = 0;
    int header_done = 0, rc = SL_OK;
    char *line = NULL;

    if (memchr(data, '\0', len) != NULL)
        return SL_ERR(err, SL_ECONFIG, "%s: a NUL byte: not a CSV text file",
                      name);
    while (pos < len && rc == SL_OK) {
        const char *nl = memchr(data + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - data) : len, l = end - pos;

        lineno++;
        free(line);
        line = sl_strndup(data + pos, l);
        pos = end + 1;
        if (l > 0 && line[l - 1] == '\r')
            line[--l] = '\0';
        if (l == 0 || line[0] == '#')
            continue;
        rc = csv_line(name, lineno, line, &header_done, m, err);
    }
    free(line);
    if (rc == SL_OK && m->ng == 0)
        rc = SL_ERR(err, SL_ECONFIG, "%s: no mapping (an empty map)", name);
    return rc;
}

/* ---- ConceptMap JSON ---- */

/* A string member; *out NULL when absent. Wrong type: an error. */
static int
opt_str(const char *name, const json_t *o, const char *key, const char *path,
        const char **out, struct sl_err *err)
{
    const json_t *v = json_object_get(o, key);

    *out = NULL;
    if (v == NULL)
        return SL_OK;
    if (!json_is_string(v) || json_string_length(v) == 0)
        return SL_ERR(err, SL_ECONFIG, "%s: %s%s%s: not a non-empty string",
                      name, path, *path ? "." : "", key);
    *out = json_string_value(v);
    return SL_OK;
}

static int
req_str(const char *name, const json_t *o, const char *key, const char *path,
        const char *what, const char **out, struct sl_err *err)
{
    int rc = opt_str(name, o, key, path, out, err);

    if (rc == SL_OK && *out == NULL)
        rc = SL_ERR(err, SL_ECONFIG, "%s: %s.%s: missing (%s)", name, path,
                    key, what);
    return rc;
}

static int
opt_array(const char *name, const json_t *o, const char *key,
          const char *path, const json_t **out, struct sl_err *err)
{
    *out = json_object_get(o, key);
    if (*out != NULL && !json_is_array(*out))
        return SL_ERR(err, SL_ECONFIG, "%s: %s.%s: not an array", name, path,
                      key);
    return SL_OK;
}

static int
json_unmapped(const char *name, const json_t *u, const char *path,
              struct term_group *g, struct sl_err *err)
{
    const char *mode, *code, *display, *url;
    char p[64];
    int rc;

    snprintf(p, sizeof(p), "%s.unmapped", path);
    if (!json_is_object(u))
        return SL_ERR(err, SL_ECONFIG, "%s: %s: not an object", name, p);
    if ((rc = req_str(name, u, "mode", p, "provided, fixed or other-map",
                      &mode, err)) != SL_OK ||
        (rc = opt_str(name, u, "code", p, &code, err)) != SL_OK ||
        (rc = opt_str(name, u, "display", p, &display, err)) != SL_OK ||
        (rc = opt_str(name, u, "url", p, &url, err)) != SL_OK)
        return rc;
    if (strcmp(mode, "provided") == 0) {
        g->unmapped = TERM_UNMAPPED_PROVIDED;
    } else if (strcmp(mode, "fixed") == 0) {
        if (code == NULL)
            return SL_ERR(err, SL_ECONFIG, "%s: %s.code: missing (mode fixed "
                          "needs the code to give)", name, p);
        g->unmapped = TERM_UNMAPPED_FIXED;
        g->unmapped_code = sl_strdup(code);
        g->unmapped_display = display ? sl_strdup(display) : NULL;
    } else if (strcmp(mode, "other-map") == 0) {
        if (url == NULL)
            return SL_ERR(err, SL_ECONFIG, "%s: %s.url: missing (mode "
                          "other-map needs the other map's url)", name, p);
        g->unmapped = TERM_UNMAPPED_OTHER_MAP;
        g->unmapped_url = sl_strdup(url);
    } else {
        return SL_ERR(err, SL_ECONFIG, "%s: %s.mode: unknown mode \"%s\" "
                      "(provided, fixed or other-map)", name, p, mode);
    }
    return SL_OK;
}

static int
json_element(const char *name, const json_t *el, const char *path,
             struct term_group *g, struct sl_err *err)
{
    const json_t *targets, *t;
    const char *code, *tcode, *display, *eq;
    char p[96];
    size_t k;
    int rc, rel;

    if (!json_is_object(el))
        return SL_ERR(err, SL_ECONFIG, "%s: %s: not an object", name, path);
    if ((rc = req_str(name, el, "code", path, "the source code", &code,
                      err)) != SL_OK ||
        (rc = opt_array(name, el, "target", path, &targets, err)) != SL_OK)
        return rc;
    if (json_array_size(targets) == 0)
        term_group_add(g, code, NULL, NULL, SL_REL_UNMATCHED, NULL);
    json_array_foreach(targets, k, t)
    {
        snprintf(p, sizeof(p), "%s.target[%zu]", path, k);
        if (!json_is_object(t))
            return SL_ERR(err, SL_ECONFIG, "%s: %s: not an object", name, p);
        if ((rc = opt_str(name, t, "code", p, &tcode, err)) != SL_OK ||
            (rc = opt_str(name, t, "display", p, &display, err)) != SL_OK ||
            (rc = req_str(name, t, "equivalence", p, "an R4 ConceptMap needs "
                          "each target's equivalence", &eq, err)) != SL_OK)
            return rc;
        if ((rel = sl_term_rel_parse(eq)) < 0)
            return SL_ERR(err, SL_ECONFIG, "%s: %s.equivalence: unknown "
                          "relationship \"%s\" (equivalent, equal, wider, "
                          "subsumes, narrower, specializes, inexact, "
                          "relatedto, unmatched, disjoint)", name, p, eq);
        if (tcode == NULL && sl_term_rel_is_match((enum sl_term_rel)rel))
            return SL_ERR(err, SL_ECONFIG, "%s: %s.code: missing (only an "
                          "unmatched or disjoint target has no code)", name,
                          p);
        term_group_add(g, code, tcode, display, (enum sl_term_rel)rel, p);
    }
    return SL_OK;
}

static int
json_group(const char *name, const json_t *gr, size_t i,
           struct sl_term_map *m, struct sl_err *err)
{
    const char *src, *srcv, *tgt, *tgtv;
    const json_t *els, *el, *u;
    struct term_group *g;
    char p[32], pe[64];
    size_t k;
    int rc;

    snprintf(p, sizeof(p), "group[%zu]", i);
    if (!json_is_object(gr))
        return SL_ERR(err, SL_ECONFIG, "%s: %s: not an object", name, p);
    if ((rc = req_str(name, gr, "source", p, "the source system",
                      &src, err)) != SL_OK ||
        (rc = req_str(name, gr, "target", p, "the target system",
                      &tgt, err)) != SL_OK ||
        (rc = opt_str(name, gr, "sourceVersion", p, &srcv, err)) != SL_OK ||
        (rc = opt_str(name, gr, "targetVersion", p, &tgtv, err)) != SL_OK ||
        (rc = opt_array(name, gr, "element", p, &els, err)) != SL_OK)
        return rc;
    if (!term_system_ok(src))
        return SL_ERR(err, SL_ECONFIG, "%s: %s.source: \"%s\" is not a system "
                      "URI (http://..., urn:oid:...)", name, p, src);
    if (!term_system_ok(tgt))
        return SL_ERR(err, SL_ECONFIG, "%s: %s.target: \"%s\" is not a system "
                      "URI (http://..., urn:oid:...)", name, p, tgt);
    if (json_array_size(els) == 0)
        return SL_ERR(err, SL_ECONFIG, "%s: %s.element: missing or empty",
                      name, p);
    g = term_group_get(m, src, srcv, tgt, tgtv);
    if (g->ne > 0 || g->unmapped != TERM_UNMAPPED_NONE)
        return SL_ERR(err, SL_ECONFIG, "%s: %s: a second group from %s to %s "
                      "(one group per pair of systems and versions)", name, p,
                      src, tgt);
    json_array_foreach(els, k, el)
    {
        snprintf(pe, sizeof(pe), "%s.element[%zu]", p, k);
        if ((rc = json_element(name, el, pe, g, err)) != SL_OK)
            return rc;
    }
    if ((u = json_object_get(gr, "unmapped")) != NULL)
        return json_unmapped(name, u, p, g, err);
    return SL_OK;
}

int
term_load_json(const char *name, const char *data, size_t len,
               struct sl_term_map *m, struct sl_err *err)
{
    json_error_t je;
    json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
    const json_t *groups, *gr;
    const char *rt, *s;
    size_t i;
    int rc = SL_OK;

    if (root == NULL)
        return SL_ERR(err, SL_ECONFIG, "%s:%d:%d: not JSON: %s", name,
                      je.line, je.column, je.text);
    rt = json_string_value(json_object_get(root, "resourceType"));
    if (rt == NULL || strcmp(rt, "ConceptMap") != 0) {
        rc = SL_ERR(err, SL_ECONFIG, "%s: resourceType: not a ConceptMap",
                    name);
        goto out;
    }
    if ((rc = opt_str(name, root, "name", "", &s, err)) != SL_OK)
        goto out;
    if (s != NULL) {
        free(m->name);
        m->name = sl_strdup(s);
    }
    if ((rc = opt_str(name, root, "url", "", &s, err)) != SL_OK)
        goto out;
    m->url = s ? sl_strdup(s) : NULL;
    if ((rc = opt_str(name, root, "version", "", &s, err)) != SL_OK)
        goto out;
    m->version = s ? sl_strdup(s) : NULL;
    if ((rc = opt_array(name, root, "group", "ConceptMap", &groups, err)) !=
        SL_OK)
        goto out;
    if (json_array_size(groups) == 0) {
        rc = SL_ERR(err, SL_ECONFIG, "%s: group: missing or empty (a map "
                    "with no group maps nothing)", name);
        goto out;
    }
    json_array_foreach(groups, i, gr)
    {
        if ((rc = json_group(name, gr, i, m, err)) != SL_OK)
            goto out;
    }
out:
    json_decref(root);
    return rc;
}

/* ---- files and sets ---- */

/* The file name without folders and extension. */
static char *
base_name(const char *path)
{
    const char *b = strrchr(path, '/');
    char *n = sl_strdup(b ? b + 1 : path), *dot = strrchr(n, '.');

    if (dot != NULL && dot != n)
        *dot = '\0';
    return n;
}

int
sl_term_map_parse(const char *name, const char *data, size_t len, int csv,
                  struct sl_term_map **out, struct sl_err *err)
{
    struct sl_term_map *m = sl_calloc(1, sizeof(*m));
    int rc;

    m->name = base_name(name);
    rc = csv ? term_load_csv(name, data, len, m, err)
             : term_load_json(name, data, len, m, err);
    if (rc == SL_OK)
        rc = term_map_finish(m, name, err);
    if (rc == SL_OK) {
        *out = m;
        m = NULL;
    }
    sl_term_map_free(m);
    return rc;
}

int
sl_term_map_load(const char *path, struct sl_term_map **out,
                 struct sl_err *err)
{
    char *data = NULL;
    size_t len = 0;
    int rc, csv = sl_str_has_suffix(path, ".csv");

    if (!csv && !sl_str_has_suffix(path, ".json"))
        return SL_ERR(err, SL_ECONFIG, "%s: a map is a ConceptMap (.json) or "
                      "a CSV map (.csv)", path);
    if ((rc = sl_file_read(path, &data, &len, err)) != SL_OK)
        return rc;
    rc = sl_term_map_parse(path, data, len, csv, out, err);
    free(data);
    return rc;
}

int
sl_term_set_load(struct sl_term_set *s, const char *name_or_path,
                 struct sl_err *err)
{
    struct sl_term_map *m = NULL;
    char *dir, *p = NULL;
    int rc;

    if (strchr(name_or_path, '/') || sl_str_has_suffix(name_or_path, ".json") ||
        sl_str_has_suffix(name_or_path, ".csv")) {
        rc = sl_term_map_load(name_or_path, &m, err);
    } else {
        dir = sl_term_dir();
        p = sl_asprintf("%s/%s.json", dir, name_or_path);
        if (!sl_path_exists(p)) {
            free(p);
            p = sl_asprintf("%s/%s.csv", dir, name_or_path);
        }
        if (!sl_path_exists(p))
            rc = SL_ERR(err, SL_ECONFIG, "%s: no shipped map of that name in "
                        "%s (or give a .json or .csv file)", name_or_path,
                        dir);
        else
            rc = sl_term_map_load(p, &m, err);
        free(dir);
        free(p);
    }
    if (rc != SL_OK)
        return rc;
    return sl_term_set_add(s, m, err);
}
