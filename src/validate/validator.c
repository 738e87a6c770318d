/* validator.c - the validator: R4 core (generated tables) plus the
 * conformance resources loaded from files, folders and FHIR packages
 * (.tgz: a gzip'd tar read here member by member, never unpacked to
 * disk), and sl_validate_resource, which walks a resource against R4 and
 * then against each profile that applies. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "validate/val_profile.h"
#include "validate/val_walk.h"

struct sl_validator *
sl_validator_new(void)
{
    return sl_calloc(1, sizeof(struct sl_validator));
}

void
sl_validator_set_unknown_extensions(struct sl_validator *v, int sev)
{
    v->unknown_ext_error = sev == SL_SEV_ERROR;
}

void
sl_validator_set_security_checks(struct sl_validator *v, int on)
{
    v->security_checks = on != 0;
}

void
sl_validator_set_no_example_urls(struct sl_validator *v, int on)
{
    v->no_example_urls = on != 0;
}

void
sl_validator_set_terminology(struct sl_validator *v, sl_val_member_fn fn,
                             void *ud)
{
    v->member = fn;
    v->member_ud = ud;
}

void
sl_validator_free(struct sl_validator *v)
{
    size_t i;

    if (v == NULL)
        return;
    for (i = 0; i < v->ndefs; i++)
        json_decref(v->defs[i]);
    free(v->defs);
    sl_strv_free(&v->profiles);
    sl_strv_free(&v->type_profiles);
    free(v);
}

const json_t *
sl_val_def_find(const struct sl_validator *v, const char *rtype,
                const char *url)
{
    size_t i, ul;
    const char *bar = strchr(url, '|');
    const json_t *any = NULL;

    ul = bar ? (size_t)(bar - url) : strlen(url);
    for (i = 0; i < v->ndefs; i++) {
        const json_t *d = v->defs[i];
        const char *u = json_string_value(json_object_get(d, "url"));
        const char *ver = json_string_value(json_object_get(d, "version"));
        if (u && strlen(u) == ul && strncmp(u, url, ul) == 0 &&
            (rtype == NULL ||
             strcmp(json_string_value(json_object_get(d, "resourceType")),
                    rtype) == 0)) {
            /* url|version: that version when it is loaded (|0.2 names
             * the 0.2.x releases too) */
            if (bar == NULL ||
                (ver && (strcmp(ver, bar + 1) == 0 ||
                         (strncmp(ver, bar + 1, strlen(bar + 1)) == 0 &&
                          ver[strlen(bar + 1)] == '.'))))
                return d;
            if (any == NULL)
                any = d;
        }
    }
    return any;
}

int
sl_validator_load_json(struct sl_validator *v, const json_t *doc,
                       const char *name, struct sl_err *err)
{
    const char *rt = json_string_value(json_object_get(doc, "resourceType"));
    const json_t *en;
    size_t i;

    if (rt == NULL) /* SL_ENOTFOUND: a folder or package skips it */
        return SL_ERR(err, SL_ENOTFOUND, "%s: not a FHIR resource (no "
                      "resourceType)", name);
    if (strcmp(rt, "Bundle") == 0) {
        json_array_foreach(json_object_get(doc, "entry"), i, en) {
            const json_t *r = json_object_get(en, "resource");
            int rc;
            if (r && (rc = sl_validator_load_json(v, r, name, err)) != SL_OK)
                return rc;
        }
        return SL_OK;
    }
    if (strcmp(rt, "StructureDefinition") != 0 &&
        strcmp(rt, "ValueSet") != 0 && strcmp(rt, "CodeSystem") != 0 &&
        strcmp(rt, "Questionnaire") != 0 &&
        strcmp(rt, "ImplementationGuide") != 0)
        return SL_OK; /* other resources of a package are not needed */
    if (!json_is_string(json_object_get(doc, "url"))) {
        if (strcmp(rt, "StructureDefinition") == 0)
            return SL_ERR(err, SL_EPARSE, "%s: a %s without a url", name,
                          rt);
        return SL_OK; /* nothing can name it */
    }
    if (strcmp(rt, "StructureDefinition") == 0) {
        int rc = sl_val_sd_check(doc, name, err);
        if (rc != SL_OK)
            return rc;
    }
    if (v->ndefs == v->capdefs) {
        v->capdefs = v->capdefs ? 2 * v->capdefs : 16;
        v->defs = sl_realloc(v->defs, v->capdefs * sizeof(*v->defs));
    }
    if (strcmp(rt, "StructureDefinition") == 0) {
        json_t *copy = json_deep_copy(doc);
        sl_val_sd_fill_ids(copy);
        v->defs[v->ndefs++] = copy;
    } else {
        v->defs[v->ndefs++] = json_incref((json_t *)doc);
    }
    return SL_OK;
}

static int
load_text(struct sl_validator *v, const char *text, size_t len,
          const char *name, struct sl_err *err)
{
    json_error_t je;
    json_t *doc = json_loadb(text, len, 0, &je);
    int rc;

    if (doc == NULL)
        return SL_ERR(err, SL_EPARSE, "%s: line %d column %d: %s", name,
                      je.line, je.column, je.text);
    rc = sl_validator_load_json(v, doc, name, err);
    json_decref(doc);
    return rc;
}

int
sl_validator_load_file(struct sl_validator *v, const char *path,
                       struct sl_err *err)
{
    char *text = NULL;
    size_t len = 0;
    int rc;

    if (sl_str_has_suffix(path, ".xml")) {
        json_t *doc = NULL;
        if ((rc = sl_val_xml_read(path, &doc, err)) != SL_OK)
            return rc;
        rc = sl_validator_load_json(v, doc, path, err);
        json_decref(doc);
        return rc;
    }
    if ((rc = sl_file_read(path, &text, &len, err)) != SL_OK)
        return rc;
    rc = load_text(v, text, len, path, err);
    free(text);
    return rc;
}

/* An octal field of a tar header. */
static long long
tar_num(const unsigned char *p, size_t n)
{
    long long x = 0;
    size_t i;

    for (i = 0; i < n && (p[i] == ' ' || p[i] == '0'); i++)
        ;
    for (; i < n && p[i] >= '0' && p[i] <= '7'; i++)
        x = x * 8 + (p[i] - '0');
    return x;
}

int
sl_val_load_tgz_mem(struct sl_validator *v, gzFile gz, const char *name,
                    struct sl_err *err)
{
    unsigned char h[512];
    char member[256 + 1];
    int rc = SL_OK, zeros = 0;

    for (;;) {
        int got = gzread(gz, h, sizeof(h));
        long long size, pad;
        char *body;
        size_t i;
        if (got == 0)
            break;
        if (got != (int)sizeof(h))
            return SL_ERR(err, SL_EPARSE, "%s: truncated tar header", name);
        for (i = 0; i < sizeof(h) && h[i] == 0; i++)
            ;
        if (i == sizeof(h)) {
            if (++zeros == 2)
                break;
            continue;
        }
        memcpy(member, h, 100);
        member[100] = '\0';
        size = tar_num(h + 124, 12);
        if (size < 0 || size > 256LL * 1024 * 1024)
            return SL_ERR(err, SL_EPARSE, "%s: %s: a member of %lld bytes",
                          name, member, size);
        pad = (512 - size % 512) % 512;
        if ((h[156] == '0' || h[156] == '\0') &&
            sl_str_has_suffix(member, ".json") &&
            !strstr(member, "package.json") &&
            !strstr(member, ".index.json")) {
            body = sl_malloc((size_t)size + 1);
            if (gzread(gz, body, (unsigned)size) != size) {
                free(body);
                return SL_ERR(err, SL_EPARSE, "%s: %s: truncated", name,
                              member);
            }
            {
                char *where = sl_asprintf("%s: %s", name, member);
                rc = load_text(v, body, (size_t)size, where, err);
                free(where);
                if (rc == SL_ENOTFOUND)
                    rc = SL_OK; /* not FHIR: not for the validator */
            }
            free(body);
            if (rc != SL_OK)
                return rc;
            size = 0;
        }
        while (size + pad > 0) {
            char skip[4096];
            long long n = size + pad > (long long)sizeof(skip)
                              ? (long long)sizeof(skip)
                              : size + pad;
            if (gzread(gz, skip, (unsigned)n) != n)
                return SL_ERR(err, SL_EPARSE, "%s: %s: truncated", name,
                              member);
            if (size >= n) {
                size -= n;
            } else {
                pad -= n - size;
                size = 0;
            }
        }
    }
    return rc;
}

int
sl_validator_load_ig(struct sl_validator *v, const char *path,
                     struct sl_err *err)
{
    struct stat st;
    struct sl_strv files = {0};
    size_t i;
    int rc = SL_OK;

    if (stat(path, &st) != 0)
        return SL_ERR(err, SL_EUSAGE, "%s: no such IG folder or package",
                      path);
    if (S_ISDIR(st.st_mode)) {
        if ((rc = sl_dir_walk(path, &files, err)) != SL_OK)
            return rc;
        sl_strv_sort(&files);
        for (i = 0; i < files.n && rc == SL_OK; i++) {
            const char *f = files.v[i], *base = strrchr(f, '/');
            char *full;
            base = base ? base + 1 : f;
            if ((!sl_str_has_suffix(f, ".json") &&
                 !sl_str_has_suffix(f, ".xml")) ||
                strcmp(base, "package.json") == 0 || base[0] == '.')
                continue;
            full = f[0] == '/' ? sl_strdup(f) : sl_path_join(path, f);
            rc = sl_validator_load_file(v, full, err);
            if (rc == SL_ENOTFOUND)
                rc = SL_OK; /* not FHIR (a config, an index): skipped */
            free(full);
        }
        sl_strv_free(&files);
        return rc;
    }
    {
        gzFile gz = gzopen(path, "rb");
        if (gz == NULL)
            return SL_ERR(err, SL_EIO, "%s: cannot open", path);
        rc = sl_val_load_tgz_mem(v, gz, path, err);
        gzclose(gz);
    }
    return rc;
}

int
sl_validator_add_profile(struct sl_validator *v, const char *url_or_file,
                         struct sl_err *err)
{
    const json_t *sd;
    int rc;

    if (strstr(url_or_file, "://") || strncmp(url_or_file, "urn:", 4) == 0) {
        if (sl_val_def_find(v, "StructureDefinition", url_or_file) == NULL)
            return SL_ERR(err, SL_EUSAGE, "profile %s is not in the IGs "
                          "loaded: give its package with --ig", url_or_file);
        sl_strv_push(&v->profiles, url_or_file);
        return SL_OK;
    }
    if (sl_path_is_dir(url_or_file)) {
        /* a folder of profiles: each applies to the resources of its type */
        size_t from = v->ndefs, i;
        if ((rc = sl_validator_load_ig(v, url_or_file, err)) != SL_OK)
            return rc;
        for (i = from; i < v->ndefs; i++) {
            const char *d = json_string_value(
                json_object_get(v->defs[i], "derivation"));
            if (strcmp(json_string_value(json_object_get(v->defs[i],
                                                         "resourceType")),
                       "StructureDefinition") == 0 &&
                d && strcmp(d, "constraint") == 0)
                sl_strv_push(&v->type_profiles,
                             json_string_value(json_object_get(v->defs[i],
                                                               "url")));
        }
        return SL_OK;
    }
    if ((rc = sl_validator_load_file(v, url_or_file, err)) != SL_OK)
        return rc;
    sd = v->ndefs ? v->defs[v->ndefs - 1] : NULL;
    if (sd == NULL ||
        strcmp(json_string_value(json_object_get(sd, "resourceType")),
               "StructureDefinition") != 0)
        return SL_ERR(err, SL_EUSAGE, "%s: not a StructureDefinition",
                      url_or_file);
    sl_strv_push(&v->profiles, json_string_value(json_object_get(sd, "url")));
    return SL_OK;
}

void
sl_validate_resource(const struct sl_validator *v, const json_t *res,
                     struct sl_val_result *out)
{
    struct val_walk w = {v, out, 0, NULL, NULL};
    const json_t *mp, *p;
    size_t i;

    if (!json_is_object(res)) {
        sl_val_add(out, SL_SEV_ERROR, "structure", "R4", NULL,
                   "not a JSON object: a resource is one");
        return;
    }
    sl_val_walk_resource(&w, res, NULL, 1);
    for (i = 0; i < v->profiles.n; i++)
        sl_val_profile_check(v, res, v->profiles.v[i], out);
    for (i = 0; i < v->type_profiles.n; i++) {
        const json_t *sd = sl_val_def_find(v, "StructureDefinition",
                                           v->type_profiles.v[i]);
        const char *t = json_string_value(json_object_get(sd, "type"));
        const char *rt = json_string_value(json_object_get(res,
                                                           "resourceType"));
        if (t && rt && strcmp(t, rt) == 0)
            sl_val_profile_check(v, res, v->type_profiles.v[i], out);
    }
    /* the profiles an IG loaded declares global for this type */
    for (i = 0; i < v->ndefs; i++) {
        const json_t *g;
        size_t k;
        const char *rt = json_string_value(json_object_get(res,
                                                           "resourceType"));
        if (strcmp(json_string_value(json_object_get(v->defs[i],
                                                     "resourceType")),
                   "ImplementationGuide") != 0)
            continue;
        json_array_foreach(json_object_get(v->defs[i], "global"), k, g) {
            const char *t = json_string_value(json_object_get(g, "type"));
            const char *u = json_string_value(json_object_get(g, "profile"));
            if (t && u && rt && strcmp(t, rt) == 0)
                sl_val_profile_check(v, res, u, out);
        }
    }
    mp = json_object_get(json_object_get(res, "meta"), "profile");
    json_array_foreach(mp, i, p) {
        const char *url = json_string_value(p);
        size_t k;
        int dup = 0;
        if (url == NULL)
            continue;
        for (k = 0; k < v->profiles.n; k++)
            dup |= strcmp(v->profiles.v[k], url) == 0;
        if (!dup)
            sl_val_profile_check(v, res, url, out);
    }
}
