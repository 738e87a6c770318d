/* pacs_work.c - the work folder, study order, checkpoint and items of a
 * source that retrieves studies from a PACS (pacs_work.h). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/hash.h"
#include "sources/dimse_cohort.h"
#include "sources/pacs_work.h"

void
sl_pacs_work_rm(const char *dir, int files)
{
    DIR *d = opendir(dir);
    struct dirent *e;

    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        char *p;
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        p = sl_path_join(dir, e->d_name);
        if (sl_path_is_dir(p))
            sl_pacs_work_rm(p, files);
        else if (files)
            unlink(p);
        free(p);
    }
    closedir(d);
    rmdir(dir);
}

int
sl_pacs_work_new(const struct sl_config *cfg, const char *prefix, char **dir,
                 struct sl_err *err)
{
    char *sp = sl_path_resolve(
        cfg->base_dir, cfg->state_path ? cfg->state_path : "sluice-state.db");
    char *sd = sl_path_dir(sp), *base = sl_path_join(sd, "work"), *tmpl;
    size_t plen = strlen(prefix);
    struct dirent *e;
    DIR *d;
    int rc = SL_OK;

    free(sp);
    free(sd);
    if ((rc = sl_mkdir_private(base, "work folder", err)) != SL_OK) {
        free(base);
        return rc;
    }
    /* what a killed run left: folders of a process that is gone */
    d = opendir(base);
    while (d != NULL && (e = readdir(d)) != NULL) {
        long pid = 0;
        if (strncmp(e->d_name, prefix, plen) == 0 && e->d_name[plen] == '-' &&
            sscanf(e->d_name + plen + 1, "%ld-", &pid) == 1 && pid > 0 &&
            kill((pid_t)pid, 0) != 0 && errno == ESRCH) {
            char *p = sl_path_join(base, e->d_name);
            sl_pacs_work_rm(p, 1);
            free(p);
        }
    }
    if (d != NULL)
        closedir(d);
    tmpl = sl_asprintf("%s/%s-%ld-XXXXXX", base, prefix, (long)getpid());
    free(base);
    if (mkdtemp(tmpl) == NULL) {
        free(tmpl);
        return SL_ERR(err, SL_EIO,
                      "cannot make a folder in the work "
                      "folder");
    }
    *dir = tmpl;
    return SL_OK;
}

int
sl_pacs_read_list(const char *file, const char *what, struct sl_strv *out,
                  struct sl_err *err)
{
    char *text = NULL, why[160];
    size_t len, before = out->n, i;
    struct sl_strv ids = { 0 };
    int rc;

    if (sl_file_read(file, &text, &len, err) != SL_OK)
        return SL_ERR(err, SL_ECONFIG, "cannot read its %s file", what);
    rc = dimse_list_parse(text, len, strcmp(what, "accession-numbers") == 0,
                          &ids, why, sizeof(why));
    sl_freezero(text, len);
    if (rc != SL_OK)
        return SL_ERR(err, SL_ECONFIG, "its %s file, %s", what, why);
    for (i = 0; i < ids.n; i++)
        sl_strv_push_owned(out, ids.v[i]);
    free(ids.v);
    if (out->n == before)
        return SL_ERR(err, SL_ECONFIG, "its %s file lists nothing", what);
    return SL_OK;
}

static int
cmp_str(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "");
}

static int
cmp_study(const void *va, const void *vb)
{
    const struct sl_dicom_study *a = va, *b = vb;
    int c;

    if ((c = cmp_str(a->date, b->date)) != 0)
        return c;
    if ((c = cmp_str(a->time, b->time)) != 0)
        return c;
    return strcmp(a->uid, b->uid);
}

void
sl_pacs_studies_sort(struct sl_dicom_study *st, size_t *n)
{
    size_t i, k;

    if (*n > 1) /* none: st may be NULL */
        qsort(st, *n, sizeof(*st), cmp_study);
    for (i = k = 0; i < *n; i++) {
        if (k > 0 && strcmp(st[k - 1].uid, st[i].uid) == 0) {
            free(st[i].uid);
            free(st[i].date);
            free(st[i].time);
            continue;
        }
        st[k++] = st[i];
    }
    *n = k;
}

void
sl_pacs_resume_at(const char *id, const struct sl_dicom_study *studies,
                  size_t n, const char *checkpoint, size_t *next, size_t *skip)
{
    uint64_t h = 0;
    size_t j = 0, i;

    if (sscanf(checkpoint, "%" SCNx64 ":%zu", &h, &j) != 2)
        return;
    for (i = 0; i < n; i++)
        if (sl_fnv1a64(studies[i].uid) == h)
            break;
    if (i < n) {
        *next = i;
        *skip = j;
    } else {
        sl_log(SL_LOG_WARN,
               "source '%s': the study of the checkpoint is no "
               "longer found: starting again from the first (targets keep "
               "one copy of each instance)",
               id);
    }
}

int
sl_pacs_list_study(const char *dir, struct sl_strv *files, struct sl_strv *uids,
                   struct sl_strv *bad, struct sl_err *err)
{
    struct sl_strv names = { 0 };
    size_t i;
    int rc;

    if ((rc = sl_dir_walk(dir, &names, err)) != SL_OK)
        return rc;
    for (i = 0; i < names.n; i++) {
        char *p = sl_path_join(dir, names.v[i]);
        struct sl_dicom_summary *sum = NULL;
        struct sl_err e = { 0 };
        if (sl_dicom_summary_read(p, &sum, &e) == SL_OK) {
            sl_strv_push_owned(files, p);
            sl_strv_push(uids, sum->sop_uid);
        } else {
            sl_strv_push_owned(bad, p);
        }
        sl_dicom_summary_free(sum);
    }
    sl_strv_free(&names);
    return SL_OK;
}

static int
cmp_strp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

size_t
sl_pacs_count_missing(const struct sl_strv *want, const struct sl_strv *have)
{
    struct sl_strv h = { 0 };
    size_t i, missing = 0;

    for (i = 0; i < have->n; i++)
        sl_strv_push(&h, have->v[i]);
    sl_strv_sort(&h);
    for (i = 0; i < want->n; i++)
        missing += h.n == 0 || bsearch(&want->v[i], h.v, h.n, sizeof(*h.v),
                                       cmp_strp) == NULL;
    sl_strv_free(&h);
    return missing;
}

void
sl_pacs_order(const struct sl_strv *files, const struct sl_strv *uids,
              struct sl_strv *out)
{
    char **pairs = sl_calloc(files->n ? files->n : 1, sizeof(*pairs));
    size_t i;

    for (i = 0; i < files->n; i++)
        pairs[i] = sl_asprintf("%s\t%s", uids->v[i], files->v[i]);
    if (files->n > 1)
        qsort(pairs, files->n, sizeof(*pairs), cmp_strp);
    for (i = 0; i < files->n; i++) {
        sl_strv_push(out, strchr(pairs[i], '\t') + 1);
        free(pairs[i]);
    }
    free(pairs);
}

struct sl_item *
sl_pacs_item(const char *id, size_t cur, uint64_t hash, const char *tail,
             const struct sl_strv *files, size_t *fi, char **missing)
{
    struct sl_item *it;

    if (*fi < files->n) {
        const char *f = files->v[(*fi)++];
        struct sl_dicom_summary *sum = NULL;
        struct sl_err e = { 0 };
        it = sl_item_new(SL_ITEM_DICOM);
        it->source = id;
        it->rank = (long)cur;
        it->pos = sl_asprintf("study %zu instance %zu", cur + 1, *fi);
        it->origin = sl_strdup(f);
        it->path = sl_strdup(f);
        it->tmp_path = sl_strdup(f); /* removed when the item is done */
        it->checkpoint = sl_asprintf("%016" PRIx64 ":%zu%s", hash, *fi, tail);
        if (sl_dicom_summary_read(f, &sum, &e) == SL_OK)
            it->rtype = sl_strdup(sum->modality ? sum->modality : "DICOM");
        else
            it->rtype = sl_strdup("DICOM");
        sl_dicom_summary_free(sum);
        return it;
    }
    it = sl_item_new(SL_ITEM_BAD);
    it->source = id;
    it->rank = (long)cur;
    it->pos = sl_asprintf("study %zu", cur + 1);
    it->origin = sl_asprintf("study %zu of source %s", cur + 1, id);
    it->checkpoint =
        sl_asprintf("%016" PRIx64 ":%zu%s", hash, files->n + 1, tail);
    it->rtype = sl_strdup("DICOM");
    sl_item_quarantine(it, "read", "%s", *missing);
    free(*missing);
    *missing = NULL;
    return it;
}

struct sl_item *
sl_pacs_problem_item(const char *id, const char *from, int patients,
                     const struct sl_strv *problems, size_t *pi)
{
    struct sl_item *it = sl_item_new(SL_ITEM_BAD);

    it->source = id;
    it->pos = sl_asprintf("%s entry %zu", from ? "cohort" : "studies file",
                          *pi + 1);
    it->origin = from ? sl_asprintf("cohort of source %s from source %s", id,
                                    from)
                      : sl_asprintf("studies file of source %s", id);
    it->rtype = sl_strdup(patients ? "Patient" : "ImagingStudy");
    sl_item_quarantine(it, "read", "%s", problems->v[*pi]);
    (*pi)++;
    it->checkpoint = sl_asprintf("problems:%zu", *pi);
    return it;
}
