/* config_check.c - the checks on sluice.xml that need the whole file,
 * made after the walk has loaded it and the defaults are filled: unique
 * ids, references between jobs, sources and targets, folders, profiles,
 * the quarantine's place and the pseudonym key's length. */
#include <config.h> /* autoconf's, not config/config.h */

#include <stdlib.h>
#include <arpa/inet.h>
#include <string.h>

#include "config/config_int.h"

/* ---- checks on the whole file ----------------------------------------- */

/* The profiles sluice has built in; anything else is a site profile file. */
static const char *const builtin_profiles[] = { "basic", "longitudinal",
                                                "safe-harbor" };

static int
is_builtin_profile(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof(builtin_profiles) / sizeof(builtin_profiles[0]); i++)
        if (strcmp(name, builtin_profiles[i]) == 0)
            return 1;
    return 0;
}

struct named {
    const char *id;
    const char *element;
    int line;
};

static int
named_cmp(const void *a, const void *b)
{
    const struct named *x = a, *y = b;
    return (x->line > y->line) - (x->line < y->line);
}

static void
check_ids(struct loader *L)
{
    const struct sl_config *cfg = L->cfg;
    struct named *all;
    size_t n = 0, i, j;

    all = sl_calloc(cfg->nsources + cfg->ntargets + cfg->njobs, sizeof(*all));
    for (i = 0; i < cfg->nsources; i++)
        all[n++] = (struct named){ cfg->sources[i].id, "source",
                                   cfg->sources[i].line };
    for (i = 0; i < cfg->ntargets; i++)
        all[n++] = (struct named){ cfg->targets[i].id, "target",
                                   cfg->targets[i].line };
    for (i = 0; i < cfg->njobs; i++)
        all[n++] =
            (struct named){ cfg->jobs[i].id, "job", cfg->jobs[i].node.line };
    qsort(all, n, sizeof(*all), named_cmp);
    for (i = 0; i < n; i++) {
        if (all[i].id == NULL)
            continue;
        for (j = 0; j < i; j++) {
            if (all[j].id && strcmp(all[i].id, all[j].id) == 0) {
                config_problem_add(
                    L, all[i].line,
                    "id '%s' is already used by the <%s> on line %d", all[i].id,
                    all[j].element, all[j].line);
                break;
            }
        }
    }
    free(all);
}

unsigned
sl_config_target_takes(const char *type)
{
    /* The same list as the pipeline's registry (test_registry checks). */
    if (type == NULL)
        return 0;
    if (strcmp(type, "fhir-files") == 0 || strcmp(type, "fhir-store") == 0)
        return SL_TAKES_FHIR;
    if (strcmp(type, "dicom-folder") == 0 || strcmp(type, "dicom-store") == 0 ||
        strcmp(type, "stow-rs") == 0)
        return SL_TAKES_DICOM;
    return 0;
}

/* True when type is one the option table lists for element. */
static int
known_kind(const char *element, const char *type)
{
    const struct sl_opt *o = sl_opt_find(element, NULL, "type");

    return type != NULL && o != NULL && config_word_in(type, o->choices);
}

/* Checks the ids one attribute of <push> names; takes: the kinds of
 * item the attribute promises (0: any), what: their name in messages. */
static void
check_push_refs(struct loader *L, int line, const char *attr,
                const struct sl_strv *ids, unsigned takes, const char *what)
{
    size_t i, k;

    for (i = 0; i < ids->n; i++) {
        const char *id = ids->v[i];
        const struct sl_conf_node *t = sl_config_target(L->cfg, id);

        for (k = 0; k < i; k++)
            if (strcmp(ids->v[k], id) == 0)
                break;
        if (k < i) {
            config_problem_add(L, line, "<push %s>: target '%s' is named twice",
                               attr, id);
            continue;
        }
        if (t == NULL) {
            if (sl_config_source(L->cfg, id) != NULL)
                config_problem_add(L, line,
                                   "<push %s>: '%s' is a source, not a target",
                                   attr, id);
            else
                config_problem_add(L, line, "<push %s>: no target with id '%s'",
                                   attr, id);
            continue;
        }
        if (!known_kind("target", t->type))
            continue; /* the schema has reported the type */
        if (takes && (sl_config_target_takes(t->type) & takes) == 0)
            config_problem_add(
                L, line,
                "<push %s>: target '%s' is of type '%s', which does "
                "not take %s",
                attr, id, t->type ? t->type : "(none)", what);
    }
}

static void
check_jobs(struct loader *L)
{
    const struct sl_config *cfg = L->cfg;
    size_t i, k;
    const char *rb;

    for (i = 0; i < cfg->njobs; i++) {
        const struct sl_job *j = &cfg->jobs[i];
        const struct job_lines *jl = &L->jl[i];

        /* A job without <pull> is the schema's to report. */
        for (k = 0; k < j->from.n; k++) {
            const char *id = j->from.v[k];
            if (sl_config_source(cfg, id) != NULL)
                continue;
            if (sl_config_target(cfg, id) != NULL)
                config_problem_add(
                    L, jl->pull, "<pull from>: '%s' is a target, not a source",
                    id);
            else
                config_problem_add(L, jl->pull,
                                   "<pull from>: no source with id '%s'", id);
        }
        if (jl->push > 0 && j->push.n == 0)
            config_problem_add(L, jl->push,
                               "<push> needs to=\"TARGET ...\" (or the older "
                               "fhir=\"TARGET\" and dicom=\"TARGET\")");
        check_push_refs(L, jl->push, "to", &jl->to, 0, NULL);
        check_push_refs(L, jl->push, "fhir", &jl->fhir, SL_TAKES_FHIR,
                        "FHIR resources");
        check_push_refs(L, jl->push, "dicom", &jl->dicom, SL_TAKES_DICOM,
                        "DICOM instances");
        if (j->deid_profile) {
            const char *p = j->deid_profile;
            if (strchr(p, '/') == NULL && !sl_str_has_suffix(p, ".xml")) {
                if (!is_builtin_profile(p))
                    config_problem_add(
                        L, jl->deid,
                        "no built-in de-id profile '%s' (built-in: "
                        "basic, longitudinal, safe-harbor; a site "
                        "profile is a path to an .xml file)",
                        p);
            } else if (!sl_path_exists(p)) {
                config_problem_add(L, jl->deid,
                                   "de-id profile %s does not exist", p);
            }
            for (k = 0; k < j->nstages; k++) {
                const struct sl_conf_node *n = &j->stages[k];
                if (strcmp(n->element, "deid") != 0)
                    continue;
                if ((sl_conf_get(n, "reid-map") == NULL) !=
                    (sl_conf_get(n, "reid-key") == NULL))
                    config_problem_add(L, n->line,
                                       "<deid> reid-map and reid-key "
                                       "go together");
                /* the engine checks the rest (length) when the job runs */
                if ((rb = sl_conf_get(n, "reference-base")) != NULL &&
                    ((strncmp(rb, "https://", 8) != 0 &&
                      strncmp(rb, "http://", 7) != 0) ||
                     strpbrk(rb, "?# \"") != NULL))
                    config_problem_add(L, n->line,
                                       "<deid reference-base> wants an "
                                       "absolute http:// or https:// URL "
                                       "without query or fragment");
            }
            if (L->cfg->pseudonym_key == NULL &&
                !config_schema_rejected(L, jl->deid))
                config_problem_add(
                    L, jl->deid,
                    "job '%s' de-identifies, so the configuration "
                    "needs <keys pseudonym=\"file:PATH\"/> (or "
                    "env:NAME); make a key with 'sluice keygen'",
                    j->id);
        }
    }
}

/* Whether the path of url (after the host) matches pattern, where '*'
 * stands for one non-empty path segment; a trailing '/' is ignored. */
static int
path_like(const char *url, const char *pattern)
{
    const char *p = strstr(url, "://");

    if (p == NULL)
        return 0;
    p += 3;
    p += strcspn(p, "/");
    for (;;) {
        while (*p == '/' && *pattern == '/')
            p++, pattern++;
        if (*pattern == '\0')
            return *p == '\0';
        if (*pattern == '*') {
            size_t n = strcspn(p, "/?#");
            if (n == 0)
                return 0;
            p += n;
            pattern++;
        } else if (*p == *pattern) {
            p++, pattern++;
        } else {
            return 0;
        }
    }
}

/* flavour= of a fhir-store: the base URL and <auth> each cloud needs
 * (docs/connectors.md). */
static void
check_flavour(struct loader *L, const struct sl_conf_node *t)
{
    const char *fl = sl_conf_get(t, "flavour");
    const char *base = sl_conf_get(t, "base");
    const char *auth = sl_conf_get(t, "auth.type");
    const char *id = t->id ? t->id : "";
    const char *want = NULL, *path = NULL;

    if (fl == NULL || strcmp(fl, "generic") == 0 || base == NULL)
        return;
    if (strcmp(fl, "google") == 0) {
        want = "google-service-account";
        path = "/*/projects/*/locations/*/datasets/*/fhirStores/*/fhir";
        if (!path_like(base, path))
            path = "/projects/*/locations/*/datasets/*/fhirStores/*/fhir";
    } else if (strcmp(fl, "azure") == 0) {
        want = "client-credentials";
    } else if (strcmp(fl, "aws-healthlake") == 0) {
        want = "aws-sigv4";
        path = "/datastore/*/r4";
        if (sl_conf_get(t, "auth.service") != NULL &&
            strcmp(sl_conf_get(t, "auth.service"), "healthlake") != 0)
            config_problem_add(L, t->line,
                               "target '%s': flavour \"aws-healthlake\" "
                               "signs for service healthlake, not %s",
                               id, sl_conf_get(t, "auth.service"));
    }
    if (want != NULL && (auth == NULL || strcmp(auth, want) != 0))
        config_problem_add(L, t->line,
                           "target '%s': flavour \"%s\" needs <auth "
                           "type=\"%s\">",
                           id, fl, want);
    if (path != NULL && !path_like(base, path))
        config_problem_add(L, t->line,
                           "target '%s': flavour \"%s\": base must end in "
                           "%s",
                           id, fl,
                           strcmp(fl, "google") == 0
                               ? "projects/PROJECT/locations/LOCATION/"
                                 "datasets/DATASET/fhirStores/STORE/fhir"
                               : "datastore/DATASTORE-ID/r4");
}

/* A DICOM AE title: 1 to 16 characters of the default repertoire, no
 * backslash, not only spaces (PS3.5 6.2, VR AE). */
static void
check_ae(struct loader *L, const struct sl_conf_node *n, const char *attr)
{
    const char *v = sl_conf_get(n, attr);
    size_t i, len, blank = 0;

    if (v == NULL)
        return;
    len = strlen(v);
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c < 0x20 || c > 0x7e || c == '\\')
            break;
        blank += c == ' ';
    }
    if (len == 0 || len > 16 || i < len || blank == len)
        config_problem_add(L, n->line,
                           "%s '%s': %s must be an AE title: 1 to 16 "
                           "printable ASCII characters, no backslash",
                           n->element ? n->element : "target",
                           n->id ? n->id : "", attr);
}

/* DICOM TLS files of a dimse source or a dicom-store target: they exist,
 * and a certificate comes with its key. */
static void
check_tls(struct loader *L, const struct sl_conf_node *n)
{
    static const char *const attrs[] = { "tls-ca-file", "tls-cert-file",
                                         "tls-key-file" };
    const char *what = strcmp(n->element ? n->element : "", "source") == 0
                           ? "source"
                           : "target";
    size_t i;

    for (i = 0; i < 3; i++) {
        char *p = sl_conf_get_path(L->cfg, n, attrs[i]);
        if (p != NULL && !sl_path_exists(p))
            config_problem_add(L, n->line, "%s '%s': %s %s does not exist",
                               what, n->id ? n->id : "", attrs[i], p);
        free(p);
    }
    if ((sl_conf_get(n, "tls-cert-file") != NULL) !=
        (sl_conf_get(n, "tls-key-file") != NULL))
        config_problem_add(L, n->line, "%s '%s': tls-cert-file and "
                           "tls-key-file go together", what,
                           n->id ? n->id : "");
    if (sl_conf_get(n, "tls-cert-file") != NULL &&
        sl_conf_get(n, "tls-ca-file") == NULL)
        config_problem_add(L, n->line, "%s '%s': tls-cert-file needs "
                           "tls-ca-file (TLS is on with tls-ca-file)", what,
                           n->id ? n->id : "");
}

/* A dicom-listener: its AE title, its address, and each allow entry an
 * AE title @ an IPv4 address (the peer's address is what is compared). */
static void
check_listener(struct loader *L, const struct sl_conf_node *s)
{
    const char *id = s->id ? s->id : "";
    const char *addr = sl_conf_get(s, "address");
    const char *w = sl_conf_get(s, "allow");
    struct in_addr in;
    size_t k = 0;

    check_ae(L, s, "ae-title");
    if (addr != NULL && inet_pton(AF_INET, addr, &in) != 1)
        config_problem_add(L, s->line, "source '%s': address must be an "
                           "IPv4 address (127.0.0.1; 0.0.0.0 for every "
                           "interface)", id);
    while (w != NULL && *w != '\0') {
        char buf[128];
        const char *at;
        size_t n;

        w += strspn(w, " \t\r\n");
        n = strcspn(w, " \t\r\n");
        if (n == 0)
            break;
        k++;
        snprintf(buf, sizeof(buf), "%.*s", (int)(n < 127 ? n : 127), w);
        at = strrchr(buf, '@');
        if (at == NULL || at == buf || at - buf > 16 ||
            inet_pton(AF_INET, at + 1, &in) != 1)
            config_problem_add(L, s->line, "source '%s': allow entry %zu "
                               "must be AE@ADDRESS, an AE title and the "
                               "IPv4 address it calls from "
                               "(MODALITY@10.1.2.3)", id, k);
        w += n;
    }
}

/* studies="source:ID" or patient-ids="source:ID" of a PACS source s: a
 * FHIR source ID that every job pulling from s pulls from too; the
 * attribute is then not a file. 1 when attr is such a reference. */
static int
check_cohort_ref(struct loader *L, const struct sl_conf_node *s,
                 const char *attr)
{
    const struct sl_config *cfg = L->cfg;
    const char *v = sl_conf_get(s, attr);
    const struct sl_conf_node *f;
    size_t j, k;

    if (v == NULL || strncmp(v, "source:", 7) != 0)
        return 0;
    f = sl_config_source(cfg, v + 7);
    if (f == NULL) {
        config_problem_add(L, s->line, "source '%s': %s=\"%s\": there is "
                           "no source '%s'", s->id ? s->id : "", attr, v,
                           v + 7);
        return 1;
    }
    if (f->type == NULL || (strcmp(f->type, "fhir-rest") != 0 &&
                            strcmp(f->type, "fhir-bulk") != 0 &&
                            strcmp(f->type, "fhir-files") != 0)) {
        config_problem_add(L, s->line, "source '%s': %s=\"%s\": source "
                           "'%s' is a %s source, not a FHIR source "
                           "(fhir-rest, fhir-bulk, fhir-files)",
                           s->id ? s->id : "", attr, v, v + 7,
                           f->type ? f->type : "?");
        return 1;
    }
    for (j = 0; j < cfg->njobs; j++) {
        const struct sl_job *job = &cfg->jobs[j];
        int has_s = 0, has_f = 0;
        for (k = 0; k < job->from.n; k++) {
            has_s |= s->id && strcmp(job->from.v[k], s->id) == 0;
            has_f |= strcmp(job->from.v[k], v + 7) == 0;
        }
        if (has_s && !has_f)
            config_problem_add(L, job->node.line, "job '%s': source '%s' "
                               "takes its cohort from source '%s', which "
                               "the job does not pull from",
                               job->id ? job->id : "", s->id, v + 7);
    }
    return 1;
}

static void
check_endpoints(struct loader *L)
{
    const struct sl_config *cfg = L->cfg;
    size_t i;

    for (i = 0; i < cfg->nsources; i++) {
        const struct sl_conf_node *s = &cfg->sources[i];
        char *path;

        if (s->type == NULL)
            continue;
        if (strcmp(s->type, "dicom-listener") == 0) {
            check_listener(L, s);
            check_tls(L, s);
            if (sl_conf_get(s, "tls-ca-file") != NULL &&
                sl_conf_get(s, "tls-cert-file") == NULL)
                config_problem_add(L, s->line,
                                   "source '%s': a dicom-listener with TLS "
                                   "needs tls-cert-file and tls-key-file "
                                   "(its own certificate)",
                                   s->id ? s->id : "");
            continue;
        }
        if (strcmp(s->type, "dimse") == 0) {
            check_tls(L, s);
            check_ae(L, s, "called-ae");
            check_ae(L, s, "calling-ae");
            if (sl_conf_get(s, "retrieve") != NULL &&
                strcmp(sl_conf_get(s, "retrieve"), "c-move") == 0 &&
                sl_conf_get(s, "listen-port") == NULL)
                config_problem_add(L, s->line,
                                   "source '%s': retrieve=\"c-move\" needs "
                                   "listen-port, where the PACS sends the "
                                   "instances", s->id ? s->id : "");
            {
                const char *la = sl_conf_get(s, "listen-address");
                struct in_addr in;
                if (la != NULL && inet_pton(AF_INET, la, &in) != 1)
                    config_problem_add(L, s->line,
                                       "source '%s': listen-address must "
                                       "be an IPv4 address (127.0.0.1; "
                                       "0.0.0.0 for every interface)",
                                       s->id ? s->id : "");
            }
            path = check_cohort_ref(L, s, "patient-ids")
                       ? NULL
                       : sl_conf_get_path(cfg, s, "patient-ids");
            if (path != NULL && !sl_path_exists(path))
                config_problem_add(L, s->line,
                                   "source '%s': patient-ids file %s does "
                                   "not exist", s->id ? s->id : "", path);
            free(path);
            path = sl_conf_get_path(cfg, s, "accession-numbers");
            if (path != NULL && !sl_path_exists(path))
                config_problem_add(L, s->line,
                                   "source '%s': accession-numbers file %s "
                                   "does not exist", s->id ? s->id : "",
                                   path);
            free(path);
            if ((sl_conf_get(s, "patient-ids") != NULL) +
                    (sl_conf_get(s, "accession-numbers") != NULL) +
                    (sl_conf_get(s, "studies") != NULL) > 1)
                config_problem_add(L, s->line,
                                   "source '%s': patient-ids, "
                                   "accession-numbers, studies: give one "
                                   "list", s->id ? s->id : "");
            path = check_cohort_ref(L, s, "studies")
                       ? NULL
                       : sl_conf_get_path(cfg, s, "studies");
            if (path != NULL && !sl_path_exists(path))
                config_problem_add(L, s->line,
                                   "source '%s': studies file %s does not "
                                   "exist", s->id ? s->id : "", path);
            free(path);
            continue;
        }
        if (strcmp(s->type, "dicomweb") == 0) {
            const char *b = sl_conf_get(s, "base");
            static const char *const lists[] = { "patient-ids",
                                                 "accession-numbers" };
            size_t k;
            if (b && strncmp(b, "http://", 7) != 0 &&
                strncmp(b, "https://", 8) != 0)
                config_problem_add(L, s->line, "source '%s': base must "
                                   "start with http:// or https://",
                                   s->id ? s->id : "");
            if (sl_conf_get(s, "patient-ids") &&
                sl_conf_get(s, "accession-numbers"))
                config_problem_add(L, s->line, "source '%s': patient-ids "
                                   "and accession-numbers: give one list",
                                   s->id ? s->id : "");
            if (sl_conf_get(s, "studies") &&
                (sl_conf_get(s, "patient-ids") ||
                 sl_conf_get(s, "accession-numbers")))
                config_problem_add(L, s->line, "source '%s': patient-ids, "
                                   "accession-numbers, studies: give one "
                                   "list", s->id ? s->id : "");
            if (sl_conf_get(s, "studies") != NULL &&
                !check_cohort_ref(L, s, "studies"))
                config_problem_add(L, s->line, "source '%s': studies of a "
                                   "dicomweb source is \"source:ID\", a FHIR "
                                   "source of the job", s->id ? s->id : "");
            for (k = 0; k < 2; k++) {
                if (k == 0 && check_cohort_ref(L, s, lists[k]))
                    continue;
                path = sl_conf_get_path(cfg, s, lists[k]);
                if (path != NULL && !sl_path_exists(path))
                    config_problem_add(L, s->line, "source '%s': %s file %s "
                                       "does not exist", s->id ? s->id : "",
                                       lists[k], path);
                free(path);
            }
            path = sl_conf_get_path(cfg, s, "ca-file");
            if (path != NULL && !sl_path_exists(path))
                config_problem_add(L, s->line, "source '%s': ca-file %s does "
                                   "not exist", s->id ? s->id : "", path);
            free(path);
            continue;
        }
        if (strcmp(s->type, "fhir-rest") == 0) {
            const char *b = sl_conf_get(s, "base");
            const char *ev = sl_conf_get(s, "everything");
            int pl = sl_conf_get(s, "patients") || sl_conf_get(s, "group");
            if (b && strncmp(b, "http://", 7) != 0 &&
                strncmp(b, "https://", 8) != 0)
                config_problem_add(L, s->line, "source '%s': base must "
                                   "start with http:// or https://",
                                   s->id ? s->id : "");
            if (sl_conf_get(s, "patients") && sl_conf_get(s, "group"))
                config_problem_add(L, s->line, "source '%s': patients and "
                                   "group: give one patient list",
                                   s->id ? s->id : "");
            if (ev && strcmp(ev, "yes") == 0 && !pl)
                config_problem_add(L, s->line, "source '%s': everything=\"yes\" "
                                   "needs a patient list (patients or group)",
                                   s->id ? s->id : "");
            else if ((s->text == NULL || *s->text == '\0') &&
                     !(ev && strcmp(ev, "yes") == 0))
                config_problem_add(L, s->line, "source '%s': no <resources>: "
                                   "name the resource types to search",
                                   s->id ? s->id : "");
            path = sl_conf_get_path(cfg, s, "patients");
            if (path && !sl_path_exists(path))
                config_problem_add(L, s->line, "source '%s': patient list %s "
                                   "does not exist", s->id ? s->id : "", path);
            free(path);
            continue;
        }
        path = sl_conf_get_path(cfg, s, "path");
        if (path == NULL)
            continue;
        if (!sl_path_exists(path))
            config_problem_add(L, s->line,
                               "source '%s': folder %s does not exist",
                               s->id ? s->id : "", path);
        else if (!sl_path_is_dir(path))
            config_problem_add(L, s->line, "source '%s': %s is not a folder",
                               s->id ? s->id : "", path);
        free(path);
    }
    for (i = 0; i < cfg->ntargets; i++) {
        const struct sl_conf_node *t = &cfg->targets[i];
        const char *base = sl_conf_get(t, "base");
        char *ca;

        if (t->type != NULL && strcmp(t->type, "dicom-store") == 0) {
            check_tls(L, t);
            check_ae(L, t, "called-ae");
            check_ae(L, t, "calling-ae");
            continue;
        }
        if (t->type == NULL || (strcmp(t->type, "fhir-store") != 0 &&
                                strcmp(t->type, "stow-rs") != 0))
            continue;
        if (base != NULL && strncmp(base, "http://", 7) != 0 &&
            strncmp(base, "https://", 8) != 0)
            config_problem_add(L, t->line,
                               "target '%s': base must start with http:// "
                               "or https://", t->id ? t->id : "");
        if (strcmp(t->type, "fhir-store") == 0)
            check_flavour(L, t);
        ca = sl_conf_get_path(cfg, t, "ca-file");
        if (ca != NULL && !sl_path_exists(ca))
            config_problem_add(L, t->line,
                               "target '%s': ca-file %s does not exist",
                               t->id ? t->id : "", ca);
        free(ca);
    }
}

/* An absolute path without ".", ".." and repeated '/', lexically (the
 * folders need not exist yet). Caller frees. */
static char *
path_normal(const char *path)
{
    char *out = sl_malloc(strlen(path) + 2);
    size_t o = 0;
    const char *p = path;

    while (*p) {
        const char *e;
        size_t n;

        while (*p == '/')
            p++;
        e = p;
        while (*e && *e != '/')
            e++;
        n = (size_t)(e - p);
        if (n == 0 || (n == 1 && p[0] == '.')) {
            /* nothing */
        } else if (n == 2 && p[0] == '.' && p[1] == '.') {
            while (o > 0 && out[o - 1] != '/')
                o--;
            if (o > 0)
                o--; /* the '/' before the dropped part */
        } else {
            out[o++] = '/';
            memcpy(out + o, p, n);
            o += n;
        }
        p = e;
    }
    if (o == 0)
        out[o++] = '/';
    out[o] = '\0';
    return out;
}

/* True when path is dir or lies under it (both absolute). */
static int
path_within(const char *path, const char *dir)
{
    char *np = path_normal(path), *nd = path_normal(dir);
    size_t n = strlen(nd);
    int in;

    if (n == 1) /* "/" holds everything */
        in = 1;
    else
        in = strncmp(np, nd, n) == 0 && (np[n] == '\0' || np[n] == '/');
    free(np);
    free(nd);
    return in;
}

/* Quarantine holds data that still identifies patients, and targets are
 * what gets delivered: one must never lie inside the other. */
static void
check_quarantine(struct loader *L)
{
    const struct sl_config *cfg = L->cfg;
    size_t i;

    for (i = 0; i < cfg->ntargets; i++) {
        const struct sl_conf_node *t = &cfg->targets[i];
        char *tp = sl_conf_get_path(cfg, t, "path");

        if (tp != NULL && path_within(cfg->quarantine_dir, tp))
            config_problem_add(
                L, L->quarantine_line ? L->quarantine_line : t->line,
                "the quarantine folder lies inside the folder of "
                "target '%s'; it holds data that still identifies "
                "patients and must stay out of what is delivered",
                t->id ? t->id : "");
        free(tp);
    }
}

/* The pseudonym key must be long enough to key HMAC-SHA256 soundly. It
 * is read only when its reference resolves (else that was reported), and
 * wiped at once. */
static void
check_key_length(struct loader *L)
{
    struct sl_err e;
    char *key = NULL;
    size_t len = 0;

    if (L->cfg->pseudonym_key == NULL || L->keys_line == 0 ||
        config_schema_rejected(L, L->keys_line))
        return;
    if (sl_secret_read(L->cfg->pseudonym_key, L->cfg->base_dir, &key, &len,
                       &e) != SL_OK)
        return; /* check_secret has said why */
    if (len < SL_KEY_MIN_BYTES)
        config_problem_add(L, L->keys_line,
                           "attribute 'pseudonym': the key is shorter than %d "
                           "bytes; make one with sluice keygen",
                           SL_KEY_MIN_BYTES);
    sl_freezero(key, len);
}

void
config_check_file(struct loader *L)
{
    check_ids(L);
    check_endpoints(L);
    check_jobs(L);
    check_quarantine(L);
    check_key_length(L);
}
