/* stage_deid.c - the <deid> stage: FHIR resources and DICOM instances
 * de-identified by the job's profile with the job's key, so that a
 * patient's records and images get the same pseudonyms and date shift.
 * `sluice deid` and `sluice run` both use it.
 *
 * Options (attributes of its node, paths already resolved):
 *   profile     built-in name or site profile file
 *   explain     where to write, at the end, each rule's element paths and
 *               tags and how often ("-": standard output)
 *   provenance  "yes": a Provenance for the resources delivered
 *   reid-map    the encrypted re-identification map to append to (with
 *               the job's reid key) */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deid/dicom_deid.h"
#include "deid/fhir.h"
#include "fhir/jtape.h"
#include "deid/profile.h"
#include "dicom/dicom.h"
#include "keys/keys.h"
#include "pipeline/stage_deid.h"

struct sl_stage_deid {
    const struct sl_keys *keys; /* the run's */
    struct sl_profile_chain *chain;
    struct sl_fhir_deid *fhir;
    struct sl_dicom_deid *dicom;
    char *workdir; /* de-identified DICOM copies wait here for the sink */
    char *describe;
    char fingerprint[16];
    char *explain; /* a path, "-", or NULL */
    int provenance;
    char recorded[32]; /* the Provenance's time: one for the whole run */
    struct sl_provenance_maker prov;
    struct sl_reid_writer *reid; /* thread-safe, or NULL */
    atomic_int saw_dicom;
    atomic_int dicom_ready; /* DCMTK's dictionary is loaded */
    long pid;               /* names the temporary files */
};

static void
deid_free(void *ctx)
{
    struct sl_stage_deid *s = ctx;

    if (s == NULL)
        return;
    sl_reid_close(s->reid, NULL); /* after a failure: what was written */
    sl_fhir_deid_free(s->fhir);
    sl_dicom_deid_free(s->dicom);
    sl_profile_chain_free(s->chain);
    free(s->workdir);
    free(s->describe);
    free(s->explain);
    free(s);
}

static char *
deid_describe(void *ctx)
{
    struct sl_stage_deid *s = ctx;
    /* which profile and key de-identified this run: for the privacy
     * officer (never the key itself, only its fingerprint) */
    json_t *d = json_pack("{ss ss}", "profile", s->describe, "key",
                          s->fingerprint);
    char *dj = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);

    json_decref(d);
    return dj;
}

/* ---- the re-identification map ---- */

/* The pair of one Patient MRN (val may be NULL or empty). */
static int
reid_mrn(struct sl_stage_deid *s, const char *val, struct sl_err *err)
{
    char ps[SL_PSEUDONYM_LEN + 1];

    if (val == NULL || *val == '\0')
        return SL_OK;
    sl_keys_pseudonym(s->keys, SL_KD_IDENTIFIER, val, strlen(val), ps);
    return sl_reid_add(s->reid, "Patient.identifier(MR)", val, ps, err);
}

/* A Patient's MRN identifier values (type MR) and the pseudonym the FHIR
 * engine gives them (the same derivation). */
static int
reid_fhir(struct sl_stage_deid *s, const json_t *res, struct sl_err *err)
{
    const json_t *ids = json_object_get(res, "identifier");
    size_t i, j;
    int rc;

    if (strcmp(json_string_value(json_object_get(res, "resourceType")),
               "Patient") != 0)
        return SL_OK;
    for (i = 0; i < json_array_size(ids); i++) {
        const json_t *x = json_array_get(ids, i);
        const json_t *codes =
            json_object_get(json_object_get(x, "type"), "coding");
        const char *val = json_string_value(json_object_get(x, "value"));
        int mr = 0;

        for (j = 0; j < json_array_size(codes); j++) {
            const char *code = json_string_value(
                json_object_get(json_array_get(codes, j), "code"));
            mr |= code != NULL && strcmp(code, "MR") == 0;
        }
        if (mr && (rc = reid_mrn(s, val, err)) != SL_OK)
            return rc;
    }
    return SL_OK;
}

/* The same from a tape. */
static int
reid_fhir_tape(struct sl_stage_deid *s, const struct sl_jtape *t,
               struct sl_err *err)
{
    size_t ids = sl_jt_get(t, SL_JT_ROOT, "identifier"), x;
    int rc;

    if (strcmp(sl_jt_str(t, sl_jt_get(t, SL_JT_ROOT, "resourceType")),
               "Patient") != 0 ||
        ids == 0 || t->n[ids].type != SL_JT_ARRAY)
        return SL_OK;
    for (x = sl_jt_first(t, ids); x; x = sl_jt_next(t, ids, x)) {
        size_t codes = sl_jt_get(t, sl_jt_get(t, x, "type"), "coding"), k;
        const char *val = sl_jt_str(t, sl_jt_get(t, x, "value"));
        int mr = 0;

        if (codes && t->n[codes].type == SL_JT_ARRAY)
            for (k = sl_jt_first(t, codes); k; k = sl_jt_next(t, codes, k)) {
                const char *code = sl_jt_str(t, sl_jt_get(t, k, "code"));
                mr |= code != NULL && strcmp(code, "MR") == 0;
            }
        if (mr && (rc = reid_mrn(s, val, err)) != SL_OK)
            return rc;
    }
    return SL_OK;
}

/* The pairs of one de-identified instance. */
static int
reid_dicom(struct sl_stage_deid *s, const struct sl_dicom_deid_info *info,
           struct sl_err *err)
{
    const struct {
        const char *kind, *orig, *pseudo;
    } p[] = {
        {"PatientID", info->orig_patient, info->patient},
        {"StudyInstanceUID", info->orig_study_uid, info->study_uid},
        {"SeriesInstanceUID", info->orig_series_uid, info->series_uid},
        {"SOPInstanceUID", info->orig_sop_uid, info->sop_uid},
        {"AccessionNumber", info->orig_accession, info->accession},
    };
    size_t i;
    int rc;

    for (i = 0; i < sizeof(p) / sizeof(p[0]); i++)
        if (p[i].orig != NULL && p[i].orig[0] != '\0' &&
            (rc = sl_reid_add(s->reid, p[i].kind, p[i].orig,
                              p[i].pseudo != NULL ? p[i].pseudo : "", err)) !=
                SL_OK)
            return rc;
    return SL_OK;
}

/* ---- the learning pass ---- */

static int
learn_one(struct sl_stage_deid *s, json_t *res, long rank, struct sl_err *err)
{
    const json_t *rt = json_object_get(res, "resourceType");
    int rc;

    if (!json_is_object(res) || !json_is_string(rt) ||
        json_string_length(rt) == 0)
        return SL_OK; /* no resource: teaches nothing */
    rc = sl_fhir_deid_learn_at(s->fhir, res, rank, err);
    if (rc == SL_OK && s->reid)
        rc = reid_fhir(s, res, err);
    return rc;
}

/* This thread's learning kept back until the end of its chunk
 * (deid_learn_flush): the engine's lock once a chunk, not twice a
 * resource, so that the learning threads do not queue for it. */
static _Thread_local struct sl_fhir_learn_batch *tl_batch;
static _Thread_local struct sl_fhir_deid *tl_batch_of;

static void
deid_learn_flush(void *ctx)
{
    (void)ctx;
    if (tl_batch != NULL) {
        sl_fhir_deid_learn_flush(tl_batch_of, tl_batch);
        sl_fhir_learn_batch_free(tl_batch);
        tl_batch = NULL;
        tl_batch_of = NULL;
    }
}

/* Every patient of the job's FHIR items, so that each resource finds its
 * patient (and free text can be scrubbed) whatever the order. An NDJSON
 * line still raw is read by the fast scanner. */
static int
deid_learn(void *ctx, struct sl_item *it, struct sl_err *err)
{
    struct sl_stage_deid *s = ctx;
    int rc = SL_OK;

    if (it->kind != SL_ITEM_FHIR)
        return SL_OK;
    if (it->tape != NULL) { /* the pipeline read the line */
        const char *rt =
            sl_jt_str(it->tape, sl_jt_get(it->tape, SL_JT_ROOT, "resourceType"));
        /* a line that is no resource teaches nothing (the main pass
         * quarantines it) */
        if (rt == NULL || *rt == '\0')
            return SL_OK;
        if (tl_batch_of != s->fhir)
            deid_learn_flush(NULL); /* another engine's: not mixed */
        if (tl_batch == NULL) {
            tl_batch = sl_fhir_learn_batch_new();
            tl_batch_of = s->fhir;
        }
        rc = sl_fhir_deid_learn_tape_batch(s->fhir, it->tape, it->rank,
                                           tl_batch, err);
        if (rc == SL_OK && s->reid)
            rc = reid_fhir_tape(s, it->tape, err);
        return rc;
    }
    /* learned now: what was kept back comes first, in the input's order */
    deid_learn_flush(NULL);
    if (it->resource == NULL && it->text != NULL)
        sl_item_parse(it); /* the tape reader was unsure: jansson */
    if (it->resource == NULL)
        return SL_OK;
    if (it->whole) {
        /* a Bundle is learned whole, so that its entries' fullUrls
         * (urn:uuid: of resources without ids) name them (issue 10);
         * the re-identification map takes it entry by entry */
        const json_t *rt = json_object_get(it->resource, "resourceType");
        const json_t *entries = json_object_get(it->resource, "entry");
        size_t i;
        if (json_is_string(rt) &&
            strcmp(json_string_value(rt), "Bundle") == 0 &&
            json_is_array(entries)) {
            rc = sl_fhir_deid_learn_at(s->fhir, it->resource, it->rank, err);
            for (i = 0; i < json_array_size(entries) && rc == SL_OK && s->reid;
                 i++) {
                json_t *res = json_object_get(json_array_get(entries, i),
                                              "resource");
                if (json_is_object(res) &&
                    json_is_string(json_object_get(res, "resourceType")))
                    rc = reid_fhir(s, res, err);
            }
            return rc;
        }
    }
    if (it->full_url != NULL && json_is_object(it->resource) &&
        json_is_string(json_object_get(it->resource, "resourceType"))) {
        /* an entry the source took out of its Bundle: learned with its
         * fullUrl, which references of other entries may name */
        json_t *b = json_pack("{s:s, s:s, s:[{s:s, s:O}]}", "resourceType",
                              "Bundle", "type", "collection", "entry",
                              "fullUrl", it->full_url, "resource",
                              it->resource); /* "O": not stolen */
        rc = sl_fhir_deid_learn_at(s->fhir, b, it->rank, err);
        json_decref(b);
        if (rc == SL_OK && s->reid)
            rc = reid_fhir(s, it->resource, err);
        return rc;
    }
    return learn_one(s, it->resource, it->rank, err);
}

/* ---- Provenance ---- */

static json_t *
make_provenance(void *ctx, const json_t *targets)
{
    struct sl_stage_deid *s = ctx;

    return sl_fhir_deid_provenance(s->fhir, targets, s->recorded);
}

/* Appends to targets the reference of a de-identified resource as the
 * output names it ("Type/id", or without id its urn:uuid fullUrl; since
 * absolute fullUrls become urn:uuid: too, the id comes first). */
static void
add_target(json_t *targets, const char *fullurl, const json_t *res)
{
    char *ref;

    if ((ref = sl_resource_ref(res)) != NULL) {
        json_array_append_new(targets, json_string(ref));
        free(ref);
    } else if (fullurl && strncmp(fullurl, "urn:uuid:", 9) == 0) {
        json_array_append_new(targets, json_string(fullurl));
    }
}

/* A whole document's Provenance: a Bundle gets it as one more entry
 * (POSTed in a transaction or batch); a lone resource as the item's
 * companion, which the target writes beside it. */
static void
add_provenance(struct sl_stage_deid *s, struct sl_item *it)
{
    json_t *doc = it->resource, *targets = json_array(), *prov, *entries,
           *entry;
    const char *btype;
    size_t i;

    if (strcmp(json_string_value(json_object_get(doc, "resourceType")),
               "Bundle") != 0) {
        add_target(targets, NULL, doc);
        json_decref(it->companion);
        it->companion = make_provenance(s, targets);
        json_decref(targets);
        return;
    }
    entries = json_object_get(doc, "entry");
    for (i = 0; i < json_array_size(entries); i++) {
        const json_t *e = json_array_get(entries, i);
        add_target(targets, json_string_value(json_object_get(e, "fullUrl")),
                   json_object_get(e, "resource"));
    }
    prov = make_provenance(s, targets);
    json_decref(targets);
    if (prov == NULL)
        return;
    btype = json_string_value(json_object_get(doc, "type"));
    entry = json_pack("{s:o}", "resource", prov); /* "o" steals prov */
    if (btype &&
        (strcmp(btype, "transaction") == 0 || strcmp(btype, "batch") == 0))
        json_object_set_new(
            entry, "request",
            json_pack("{s:s, s:s}", "method", "POST", "url", "Provenance"));
    if (!json_is_array(entries)) {
        entries = json_array();
        json_object_set_new(doc, "entry", entries); /* steals entries */
    }
    json_array_append_new(entries, entry); /* steals entry */
}

/* ---- set-up ---- */

/* Removes what a killed run left in the work folder: copies named after a
 * process that no longer exists (another job may share the folder). */
static void
clean_workdir(const char *workdir)
{
    /* read the folder itself: sl_dir_walk skips hidden names, and the
     * temporary outputs are .deid-PID-N.tmp */
    DIR *d = opendir(workdir);
    struct dirent *e;

    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        long pid = 0;
        if ((sscanf(e->d_name, ".deid-%ld-", &pid) == 1 ||
             sscanf(e->d_name, "deid-%ld-", &pid) == 1) &&
            pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH)
            (void)unlinkat(dirfd(d), e->d_name, 0);
    }
    closedir(d);
}

static int
deid_create(const struct sl_stage_args *a, void **out, struct sl_err *err)
{
    struct sl_stage_deid *s = sl_calloc(1, sizeof(*s));
    const char *profile = sl_conf_get(a->node, "profile");
    const char *v;
    int rc;

    if (a->keys == NULL) {
        rc = SL_ERR(err, SL_ECONFIG, "%s:%d: job %s de-identifies, so the "
                    "configuration needs <keys pseudonym=\"file:...\"/>",
                    a->config_path, a->node->line, a->job_id);
        goto out;
    }
    s->keys = a->keys;
    sl_keys_fingerprint(s->keys, s->fingerprint, sizeof(s->fingerprint));
    if ((rc = sl_profile_chain_load(profile ? profile : "basic", &s->chain,
                                    err)) != SL_OK)
        goto out;
    s->describe = sl_profile_chain_describe(s->chain);
    if ((rc = sl_fhir_deid_new(s->chain, s->keys, &s->fhir, err)) != SL_OK)
        goto out;
    if ((v = sl_conf_get(a->node, "reference-base")) != NULL &&
        (rc = sl_fhir_deid_set_reference_base(s->fhir, v, err)) != SL_OK) {
        if (a->node->line > 0)
            sl_err_prefix(err, "%s:%d: <deid reference-base>", a->config_path,
                          a->node->line);
        else /* sluice deid */
            sl_err_prefix(err, "--reference-base");
        goto out;
    }
    if ((v = sl_conf_get(a->node, "explain")) != NULL)
        s->explain = sl_strdup(v);
    /* without explain, rule counts would only slow the run */
    sl_fhir_deid_set_explain(s->fhir, s->explain != NULL);
    v = sl_conf_get(a->node, "provenance");
    s->provenance = v != NULL && strcmp(v, "yes") == 0;
    sl_time_iso(s->recorded, sizeof(s->recorded));
    s->prov.ctx = s;
    s->prov.make = make_provenance;
    /* DCMTK's dictionary is loaded on the first DICOM item (deid_dicom):
     * a run of FHIR alone does not pay for it */
    if ((rc = sl_dicom_deid_new(s->chain, s->keys, &s->dicom, err)) != SL_OK)
        goto out;
    if ((v = sl_conf_get(a->node, "reid-map")) != NULL) {
        if (a->reid_key == NULL) {
            rc = SL_ERR(err, SL_ECONFIG, "%s:%d: <deid reid-map> needs "
                        "reid-key=\"file:...\" (or env:NAME)",
                        a->config_path, a->node->line);
            goto out;
        }
        if (sl_keys_equal(a->reid_key, a->keys)) {
            rc = SL_ERR(err, SL_EKEY, "%s:%d: the re-identification key "
                        "must differ from the pseudonym key (make one with "
                        "'sluice keygen')", a->config_path, a->node->line);
            goto out;
        }
        if ((rc = sl_reid_open(v, a->reid_key, &s->reid, err)) != SL_OK)
            goto out;
    }
    s->workdir = sl_strdup(a->workdir);
    s->pid = (long)getpid();
    clean_workdir(s->workdir);
    *out = s;
    s = NULL;
out:
    deid_free(s);
    return rc;
}

/* ---- the main pass ---- */

static void
summary_free(void *p)
{
    sl_dicom_summary_free(p);
}

static int
deid_dicom(struct sl_stage_deid *s, struct sl_item *it, struct sl_err *e2)
{
    struct sl_dicom_deid_info info = {0};
    char *name = sl_asprintf(".deid-%ld-%llu.tmp", s->pid,
                             (unsigned long long)it->seq);
    char *tmp = sl_path_join(s->workdir, name);
    char msg[200];
    int rc;

    free(name);
    if (!atomic_load(&s->dicom_ready)) {
        /* loads DCMTK's dictionary once (DCMTK locks it); an installation
         * without it stops the run: no DICOM item could pass */
        if (sl_dicom_init(msg, sizeof(msg)) != 0) {
            free(tmp);
            return SL_ERR(e2, SL_EDICOM, "%s", msg);
        }
        atomic_store(&s->dicom_ready, 1);
    }
    atomic_store(&s->saw_dicom, 1);
    info.want_originals = s->reid != NULL;
    info.want_written = 1;
    /* the source's descriptor, if it left one, is taken over */
    rc = sl_dicom_deid_file_fd(s->dicom, it->fd, it->path, tmp, &info, e2);
    it->fd = -1;
    if (rc == SL_OK) {
        /* a source's own copy (a file retrieved from a PACS) goes now */
        if (it->tmp_path != NULL)
            unlink(it->tmp_path);
        free(it->tmp_path);
        it->tmp_path = tmp; /* removed when the item is freed */
        tmp = NULL;
        /* the engine knows what it wrote: a target need not read it */
        it->summary_set = 1;
        it->summary = info.written;
        it->summary_free = summary_free;
        it->summary_why = info.written_why;
        info.written = NULL;
        info.written_why = NULL;
        if (s->reid)
            rc = reid_dicom(s, &info, e2);
    }
    if (tmp) {
        unlink(tmp);
        free(tmp);
    }
    sl_dicom_deid_info_clear(&info);
    return rc;
}

static int
deid_process(void *ctx, struct sl_item *it, struct sl_err *err)
{
    struct sl_stage_deid *s = ctx;
    struct sl_err e2 = {0};
    int rc = SL_OK;

    if (it->kind == SL_ITEM_FHIR && it->whole) {
        rc = sl_fhir_deid_resource(s->fhir, it->resource, &e2);
        if (rc == SL_OK && s->provenance)
            add_provenance(s, it);
    } else if (it->kind == SL_ITEM_FHIR) {
        struct sl_buf b;
        /* de-identified and serialised in one walk, the leak scan done
         * while writing: the targets write these bytes as they are */
        sl_buf_init(&b);
        sl_buf_reserve(&b, 4096); /* most resources: one allocation */
        rc = it->bundle_entry
                 ? sl_fhir_deid_entry_json(s->fhir, it->resource,
                                           it->full_url, &b, &e2)
                 : sl_fhir_deid_resource_json(s->fhir, it->resource, &b, &e2);
        sl_freezero(it->out_json, it->out_json_len);
        it->out_json = NULL;
        it->out_json_len = 0;
        if (rc == SL_OK) {
            it->out_json_len = b.len;
            it->out_json = sl_buf_steal(&b);
            if (s->provenance)
                it->provenance = &s->prov;
        } else {
            sl_freezero(b.data, b.cap);
        }
    } else if (it->kind == SL_ITEM_DICOM) {
        rc = deid_dicom(s, it, &e2);
    }
    if (rc == SL_EQUARANTINE)
        return sl_item_quarantine(it, "deid", "%s", e2.msg);
    if (rc != SL_OK)
        *err = e2;
    return rc;
}

/* The end of a finished run: the map closed, the explanation written. */
static int
deid_finish(void *ctx, struct sl_err *err)
{
    struct sl_stage_deid *s = ctx;
    FILE *f;
    int rc;

    if (s->reid != NULL) {
        rc = sl_reid_close(s->reid, err);
        s->reid = NULL;
        if (rc != SL_OK)
            return rc;
    }
    if (s->explain == NULL)
        return SL_OK;
    if (strcmp(s->explain, "-") == 0) {
        f = stdout;
    } else {
        /* a report, not patient data; still never written through a
         * link left at its name */
        int fd = open(s->explain,
                      O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
                      0640);
        f = fd >= 0 ? fdopen(fd, "w") : NULL;
        if (fd >= 0 && f == NULL)
            close(fd);
    }
    if (f == NULL)
        return SL_ERR(err, SL_EIO, "%s: cannot write the explanation: %s",
                      s->explain, strerror(errno));
    fprintf(f, "profile chain: %s\n", s->describe);
    sl_fhir_deid_explain(s->fhir, f);
    if (atomic_load(&s->saw_dicom))
        sl_dicom_deid_explain(s->dicom, f);
    if (f != stdout && fclose(f) != 0)
        return SL_ERR(err, SL_EIO, "%s: cannot write the explanation: %s",
                      s->explain, strerror(errno));
    return SL_OK;
}

static void
deid_rule_counts(void *ctx, void (*fn)(void *arg, const char *rule, uint64_t n),
                 void *arg)
{
    struct sl_stage_deid *s = ctx;

    sl_fhir_deid_rule_counts(s->fhir, fn, arg);
    if (atomic_load(&s->saw_dicom))
        sl_dicom_deid_rule_counts(s->dicom, fn, arg);
}

const struct sl_stage_ops sl_stage_deid = {
    .name = "deid",
    .learns = SL_TAKES_FHIR,
    .create = deid_create,
    .learn = deid_learn,
    .learn_flush = deid_learn_flush,
    .process = deid_process,
    .describe = deid_describe,
    .finish = deid_finish,
    .free = deid_free,
    .rule_counts = deid_rule_counts,
};
