/* dicom_media.c - the dicom-folder sink with layout "folders", "dicomdir"
 * or "zip": the layouts and manifests of `sluice export-dicom`
 * (src/sinks/export.c) for jobs, exactly once across crashes and across
 * scheduled runs.
 *
 * folders   PATH/PATIENT/study-UID/MOD-SERIESUID/SOPUID.dcm, and
 *           PATH/manifest.json, manifest.csv over everything delivered.
 * dicomdir  PATH/P0000001/S0000001/R0000001/I0000001, PATH/DICOMDIR and
 *           the manifests, over everything delivered.
 * zip       PATH/RUN-ID.zip per run: the instances that run delivered
 *           (folders names) and their manifests.
 *
 * Only de-identified instances (Patient Identity Removed (0012,0062) =
 * YES) are delivered; others are quarantined, so a manifest never lists
 * an original value and never claims a de-identification that did not
 * happen.
 *
 * Bookkeeping lives beside the state store, never in the delivered
 * folder: STATEDIR/sinks/TARGET-ID/journal.tsv lists every instance
 * delivered (one line each, de-identified values only, written before
 * the file), and, for zip, STATEDIR/sinks/TARGET-ID/RUN-ID/ holds the
 * run's instances until the next run opens the target. checkpoint() fsyncs the
 * journal and returns its length; open() with that state deletes the
 * files of the journal lines after it and truncates it, so whatever was
 * delivered after the last committed checkpoint is delivered again,
 * exactly once. finish() writes the manifests, the DICOMDIR or the zip
 * under temporary names and renames them, so none is ever seen half
 * written; it may run again after a crash and writes the same.
 *
 * A layout behind the dicom-folder sink: dicom_folder.c opens and drives
 * it, and it calls nothing of dicom_folder.c (file helpers: sink_files.c). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "dicom/dicom.h"
#include "sinks/sinks_int.h"

#define JOURNAL_MAGIC  "sluice-dicom-folder-journal 1"
#define JOURNAL_FIELDS 9

struct dicom_media {
    const char *id; /* target id, owned by the config */
    enum sl_export_layout layout;
    char *root;    /* the delivered folder */
    char *book;    /* STATEDIR/sinks/ID: journal and staging */
    char *journal; /* book/journal.tsv */
    char *stage;   /* zip: book/RUN-ID, this run's instances */
    char *run_id;
    int sync_each;
    FILE *jf;
    struct sl_export all; /* every instance in the journal, in order */
    uint64_t written, unchanged;
    /* A resume deleted files: the DICOMDIR may describe a name that will
     * hold another instance, so it is made again rather than added to. */
    int rolled_back;
};

/* ---- journal ------------------------------------------------------------- */
static int
hex64(const char *s)
{
    size_t i;

    for (i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return s[64] == '\0';
}

/* A path made by sl_export_rel_make(): relative, [A-Za-z0-9._/-], no
 * empty, hidden, "." or ".." component. */
static int
rel_ok(const char *s)
{
    const char *p;

    if (*s == '\0' || strlen(s) > 1024)
        return 0;
    for (p = s; *p != '\0'; p++) {
        int ok = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                 (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' ||
                 *p == '-' || *p == '/';
        if (!ok)
            return 0;
        if ((p == s || p[-1] == '/') && (*p == '/' || *p == '.'))
            return 0;
    }
    return p[-1] != '/';
}

int
dicom_media_journal_parse(const char *line, struct sl_export_inst *x)
{
    char *f[JOURNAL_FIELDS] = { 0 };
    const char *p = line, *tab;
    size_t i;

    memset(x, 0, sizeof(*x));
    for (i = 0; i < JOURNAL_FIELDS; i++) {
        tab = strchr(p, '\t');
        if ((tab == NULL) != (i == JOURNAL_FIELDS - 1))
            goto bad;
        f[i] = tab ? sl_strndup(p, (size_t)(tab - p)) : sl_strdup(p);
        p = tab ? tab + 1 : p;
    }
    if (!rel_ok(f[0]) || !rel_ok(f[1]) || f[3][0] == '\0' || f[4][0] == '\0' ||
        f[5][0] == '\0' || !hex64(f[8]))
        goto bad;
    x->run = f[0];
    x->rel = f[1];
    x->patient = f[2];
    x->study = f[3];
    x->series = f[4];
    x->sop = f[5];
    /* empty: absent */
    x->modality = f[6][0] ? f[6] : NULL;
    x->method = f[7][0] ? f[7] : NULL;
    if (x->modality == NULL)
        free(f[6]);
    if (x->method == NULL)
        free(f[7]);
    memcpy(x->sha256, f[8], 65);
    free(f[8]);
    /* as sl_export_inst_read decides it */
    x->ours = x->method != NULL && strstr(x->method, "; sluice") != NULL;
    return 0;
bad:
    for (i = 0; i < JOURNAL_FIELDS; i++)
        free(f[i]);
    return -1;
}

/* A value as a journal field: tabs and line breaks become spaces. */
static void
field_add(struct sl_buf *b, const char *v)
{
    for (; v != NULL && *v != '\0'; v++)
        sl_buf_addc(b, *v == '\t' || *v == '\n' || *v == '\r' ? ' ' : *v);
}

static char *
journal_line(const struct sl_export_inst *x)
{
    const char *v[JOURNAL_FIELDS] = { x->run,      x->rel,    x->patient,
                                      x->study,    x->series, x->sop,
                                      x->modality, x->method, x->sha256 };
    struct sl_buf b;
    size_t i;

    sl_buf_init(&b);
    for (i = 0; i < JOURNAL_FIELDS; i++) {
        field_add(&b, v[i]);
        sl_buf_addc(&b, i + 1 < JOURNAL_FIELDS ? '\t' : '\n');
    }
    return sl_buf_steal(&b);
}

static char *
journal_header(const struct dicom_media *m)
{
    return sl_asprintf(JOURNAL_MAGIC "\t%s\t%s\n",
                       sl_export_layout_name(m->layout), m->root);
}

/* Where the instance x is delivered (zip: staged). Caller frees. */
static char *
inst_path(const struct dicom_media *m, const struct sl_export_inst *x)
{
    return sl_path_join(m->layout == SL_EXPORT_ZIP ? m->stage : m->root,
                        x->rel);
}

/* Loads the journal into m->all. keep < 0: every whole line; otherwise
 * the first keep bytes, and the files of the lines after them are
 * deleted (they were delivered after the last committed checkpoint and
 * come again). The file is cut to what was kept. A journal made for
 * another folder or layout is started afresh. */
static int
journal_load(struct dicom_media *m, long keep, struct sl_err *err)
{
    char *hdr = journal_header(m), *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long off = 0, good = 0, lineno = 0;
    FILE *f = fopen(m->journal, "r");
    int rc = SL_OK;

    if (f == NULL) {
        if (errno != ENOENT)
            rc = SL_ERR(err, SL_EIO, "target '%s': cannot read its journal: %s",
                        m->id, strerror(errno));
        goto out;
    }
    len = getline(&line, &cap, f);
    if (len <= 0 || strcmp(line, hdr) != 0) {
        if (len > 0)
            sl_log(SL_LOG_WARN,
                   "target '%s': the journal of delivered instances is for "
                   "another folder or layout: starting a new one",
                   m->id);
        goto cut;
    }
    off = good = (long)len;
    lineno = 1;
    while ((len = getline(&line, &cap, f)) > 0) {
        struct sl_export_inst x;
        lineno++;
        if (line[len - 1] != '\n')
            break; /* cut short by a crash: never covered by a checkpoint */
        line[len - 1] = '\0';
        if (dicom_media_journal_parse(line, &x) != 0) {
            rc = SL_ERR(err, SL_ESTATE,
                        "%s:%ld: malformed journal line (the journal lists "
                        "what target '%s' delivered; it is written only by "
                        "sluice)",
                        m->journal, lineno, m->id);
            goto out;
        }
        off += (long)len;
        if (keep >= 0 && off > keep) {
            /* Delivered after the last committed checkpoint: roll back. */
            char *p = inst_path(m, &x);
            unlink(p);
            m->rolled_back = 1;
            free(p);
            sl_export_inst_clear(&x);
            continue;
        }
        good = off;
        if (sl_export_add(&m->all, &x) != 0)
            sl_export_inst_clear(&x); /* listed twice: once is enough */
    }
    if (ferror(f))
        rc = SL_ERR(err, SL_EIO, "target '%s': cannot read its journal: %s",
                    m->id, strerror(errno));
cut:
    fclose(f);
    f = NULL;
    if (rc == SL_OK && truncate(m->journal, good) != 0)
        rc =
            SL_ERR(err, SL_EIO, "target '%s': cannot roll its journal back: %s",
                   m->id, strerror(errno));
    if (rc == SL_OK && good == 0) {
        sl_export_free(&m->all);
        sl_export_init(&m->all, m->layout);
    }
out:
    if (f != NULL)
        fclose(f);
    free(line);
    free(hdr);
    return rc;
}

/* ---- files --------------------------------------------------------------- */
/* 1 when base, at depth level under a folder this sink writes, is what
 * a crash left: a hidden temporary of sl_file_copy(), or at the top
 * manifest.*.tmp.PID (sl_file_write_atomic()), DICOMDIR.tmp (DCMTK) or
 * run-*.zip.XXXXXX (libzip). */
static int
stale_name(const char *base, int level)
{
    if (sinks_is_copy_tmp(base))
        return 1;
    if (level != 1)
        return 0;
    if (strncmp(base, "manifest.", 9) == 0 ||
        strncmp(base, "DICOMDIR.", 9) == 0)
        return strstr(base, ".tmp") != NULL;
    return strncmp(base, "run-", 4) == 0 && strstr(base, ".zip.") != NULL;
}

/* nftw callback: removes what a crash left. */
static int
rm_stale(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    if (flag == FTW_F && stale_name(path + ftw->base, ftw->level))
        unlink(path);
    return 0;
}

/* zip: the staging folders of other runs go. A run's staging stays
 * until then, because its zip is written again from it when the run
 * resumes after a crash between its last checkpoint and the moment it is
 * recorded as finished; a run with another id means that one is over (the
 * pipeline resumes an unfinished run before it starts another). */
static void
drop_old_stages(const struct dicom_media *m)
{
    DIR *d = opendir(m->book);
    struct dirent *de;

    if (d == NULL)
        return;
    while ((de = readdir(d)) != NULL) {
        char *p;
        if (strncmp(de->d_name, "run-", 4) != 0 ||
            strcmp(de->d_name, m->run_id) == 0)
            continue;
        p = sl_path_join(m->book, de->d_name);
        if (sl_path_is_dir(p))
            sinks_rm_tree(p);
        free(p);
    }
    closedir(d);
}

void
dicom_media_close(struct dicom_media *m)
{
    if (m == NULL)
        return;
    if (m->jf != NULL)
        fclose(m->jf);
    sl_export_free(&m->all);
    free(m->root);
    free(m->book);
    free(m->journal);
    free(m->stage);
    free(m->run_id);
    free(m);
}

int
dicom_media_open(const struct sl_config *cfg, const struct sl_conf_node *node,
                 enum sl_export_layout l, const char *root, int sync_each,
                 const char *run_id, const char *state,
                 struct dicom_media **out, struct sl_err *err)
{
    struct dicom_media *m = sl_calloc(1, sizeof(*m));
    const char *state_path =
        cfg && cfg->state_path ? cfg->state_path : "sluice-state.db";
    char *sp, *sd, *sinks, *name;
    long keep = -1;
    unsigned long long w = 0, u = 0;
    int rc;

    m->id = node && node->id ? node->id : "dicom-folder";
    m->layout = l;
    m->root = sl_strdup(root);
    m->run_id = sl_strdup(run_id ? run_id : "run");
    m->sync_each = sync_each;
    sl_export_init(&m->all, l);
    /* cfg NULL (tests): paths as given, the state in the current folder */
    sp = sl_path_resolve(cfg ? cfg->base_dir : NULL, state_path);
    sd = sl_path_dir(sp);
    sinks = sl_path_join(sd, "sinks");
    name = sl_export_name_safe("", m->id);
    m->book = sl_path_join(sinks, name);
    m->journal = sl_path_join(m->book, "journal.tsv");
    free(sp);
    free(sd);
    free(sinks);
    free(name);
    if (l == SL_EXPORT_ZIP)
        m->stage = sl_path_join(m->book, m->run_id);
    if ((rc = sl_mkdir_p(m->root, err)) != SL_OK ||
        (rc = sl_mkdir_p(m->book, err)) != SL_OK ||
        (m->stage && (rc = sl_mkdir_p(m->stage, err)) != SL_OK))
        goto out;
    if (state != NULL) {
        long jl = 0;
        if (sscanf(state, "journal=%ld written=%llu unchanged=%llu", &jl, &w,
                   &u) != 3 ||
            jl < 0) {
            rc = SL_ERR(err, SL_ESTATE,
                        "target '%s': the checkpoint does not come from "
                        "layout %s (was the layout changed during a run? "
                        "put it back to finish the run)",
                        m->id, sl_export_layout_name(l));
            goto out;
        }
        keep = jl;
        m->written = w;
        m->unchanged = u;
    }
    nftw(m->root, rm_stale, 16, FTW_PHYS);
    if (m->stage)
        nftw(m->stage, rm_stale, 16, FTW_PHYS);
    if ((rc = journal_load(m, keep, err)) != SL_OK)
        goto out;
    if (l == SL_EXPORT_DICOMDIR && m->all.n == 0) {
        /* Names are numbers here: new instances would take the names of
         * files this journal does not know. */
        char *dd = sl_path_join(m->root, "DICOMDIR");
        int there = sl_path_exists(dd);
        free(dd);
        if (there) {
            rc = SL_ERR(err, SL_ECONFIG,
                        "target '%s': %s holds a DICOMDIR media set that "
                        "this target did not deliver (or its journal in %s "
                        "is gone): point the target to a new or empty folder",
                        m->id, m->root, m->book);
            goto out;
        }
    }
    if (l == SL_EXPORT_ZIP)
        drop_old_stages(m);
    {
        /* appended to across resumes; never through a link at its name */
        int fd = open(m->journal,
                      O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC,
                      0640);
        m->jf = fd >= 0 ? fdopen(fd, "a") : NULL;
        if (fd >= 0 && m->jf == NULL)
            close(fd);
        if (m->jf != NULL)
            fseek(m->jf, 0, SEEK_END); /* ftell below: empty or not */
    }
    if (m->jf == NULL) {
        rc = SL_ERR(err, SL_EIO, "target '%s': cannot write its journal: %s",
                    m->id, strerror(errno));
        goto out;
    }
    if (ftell(m->jf) == 0) {
        char *h = journal_header(m);
        fputs(h, m->jf);
        free(h);
        if (fflush(m->jf) != 0 || sinks_fsync_path(m->journal) != 0) {
            rc =
                SL_ERR(err, SL_EIO, "target '%s': cannot write its journal: %s",
                       m->id, strerror(errno));
            goto out;
        }
    }
    *out = m;
    m = NULL; /* the caller owns it now */
    rc = SL_OK;
out:
    dicom_media_close(m);
    return rc;
}

/* Copies src to x's place, making its folders first. */
static int
deliver(struct dicom_media *m, const char *src, const struct sl_export_inst *x,
        struct sl_err *err)
{
    char *dst = inst_path(m, x), *dir = sl_path_dir(dst);
    int rc;

    rc = sinks_mkdir_durable(m->layout == SL_EXPORT_ZIP ? m->stage : m->root,
                             dir, m->sync_each, err);
    if (rc == SL_OK)
        rc = sl_file_copy(src, dst, m->sync_each, err);
    free(dir);
    free(dst);
    return rc;
}

int
dicom_media_put(struct dicom_media *m, struct sl_item *it, const char *src,
                struct sl_err *err)
{
    struct sl_export_inst x;
    struct sl_export_inst *d;
    struct sl_err rerr = { 0 };
    const char *refused = NULL;
    char *dst = NULL, *line = NULL, have[65];
    long at;
    int rc;

    rc = sl_export_inst_read(src, &x, &refused, &rerr);
    if (rc == SL_ENOMEM)
        return SL_ERR(err, rc, "%s", rerr.msg);
    if (rc != SL_OK)
        return sl_item_quarantine(it, "sink", "%s", rerr.msg);
    if (refused == sl_export_not_deid)
        /* The layouts with a manifest deliver de-identified instances
         * only: a copy job uses layout patient/study/series or flat. */
        return sl_item_quarantine(it, "sink",
                                  "%s: layout %s delivers de-identified "
                                  "instances only (add <deid> to the job)",
                                  refused, sl_export_layout_name(m->layout));
    if (refused != NULL)
        return sl_item_quarantine(it, "sink", "%s", refused);
    if ((rc = sl_export_sha256_file(src, x.sha256, err)) != SL_OK)
        goto fail;

    at = sl_export_find(&m->all, x.sop);
    if (at >= 0) {
        /* Delivered before (by an earlier run, or before a crash). */
        d = &m->all.v[at];
        if (strcmp(d->sha256, x.sha256) != 0) {
            rc = sl_item_quarantine(it, "sink",
                                    "duplicate SOP Instance UID (0008,0018) "
                                    "with different content");
            goto out;
        }
        m->unchanged++;
        dst = inst_path(m, d);
        /* Taken away from a folder by its reader: put back (a zip of an
         * earlier run is never rewritten). */
        if ((m->layout != SL_EXPORT_ZIP || strcmp(d->run, m->run_id) == 0) &&
            !sl_path_exists(dst) && (rc = deliver(m, src, d, err)) != SL_OK)
            goto fail;
        rc = SL_OK;
        goto out;
    }
    if (m->layout == SL_EXPORT_DICOMDIR &&
        sl_dicom_dicomdir_check(src, &rerr) != SL_OK) {
        /* Refused now rather than failing every end of run from here
         * on, when the DICOMDIR is written. */
        rc = sl_item_quarantine(it, "sink", "%s", rerr.msg);
        goto out;
    }
    x.run = sl_strdup(m->run_id);
    if (m->layout != SL_EXPORT_DICOMDIR) {
        /* Named by its UIDs: a file already there is this instance (a
         * copy from outside the journal) or another one claiming its SOP
         * Instance UID. */
        x.rel = sl_export_rel_make(&m->all, &x, 0);
        dst = inst_path(m, &x);
        if (sl_path_exists(dst)) {
            if ((rc = sl_export_sha256_file(dst, have, err)) != SL_OK)
                goto fail;
            if (strcmp(have, x.sha256) != 0) {
                rc = sl_item_quarantine(it, "sink",
                                        "duplicate SOP Instance UID "
                                        "(0008,0018) with different content");
                goto out;
            }
        }
    }
    sl_export_add(&m->all, &x); /* not there: checked above */
    d = &m->all.v[m->all.n - 1];
    if (d->rel == NULL)
        d->rel = sl_export_rel_make(&m->all, d, m->all.n);
    /* The journal line first: a crash after it and before the next
     * checkpoint deletes the file on resume, whatever the file's state. */
    line = journal_line(d);
    if (fputs(line, m->jf) == EOF || fflush(m->jf) != 0) {
        rc = SL_ERR(err, SL_EIO, "target '%s': cannot write its journal: %s",
                    m->id, strerror(errno));
        goto fail;
    }
    if ((rc = deliver(m, src, d, err)) != SL_OK)
        goto fail;
    m->written++;
    goto out;
fail:
    sl_err_prefix(err, "target '%s' item %s: ", m->id, it->pos ? it->pos : "?");
out:
    sl_export_inst_clear(&x);
    free(dst);
    free(line);
    return rc;
}

int
dicom_media_checkpoint(struct dicom_media *m, char **state, struct sl_err *err)
{
    long len;

    if (sinks_stream_sync(m->jf) != 0 || (len = ftell(m->jf)) < 0)
        return SL_ERR(err, SL_EIO, "target '%s': cannot sync its journal: %s",
                      m->id, strerror(errno));
    /* With sync_each every put() already fsynced its file and folder. */
    if (!m->sync_each && (sinks_syncfs(m->root) != 0 ||
                          (m->stage != NULL && sinks_syncfs(m->stage) != 0)))
        return SL_ERR(err, SL_EIO, "target '%s': cannot sync the folder: %s",
                      m->id, strerror(errno));
    *state = sl_asprintf("journal=%ld written=%" PRIu64 " unchanged=%" PRIu64,
                         len, m->written, m->unchanged);
    return SL_OK;
}

/* Copies instance x of m->all into e. */
static void
add_copy(struct sl_export *e, const struct sl_export_inst *x)
{
    struct sl_export_inst c;

    memset(&c, 0, sizeof(c));
    c.patient = x->patient ? sl_strdup(x->patient) : NULL;
    c.study = sl_strdup(x->study);
    c.series = sl_strdup(x->series);
    c.sop = sl_strdup(x->sop);
    c.modality = x->modality ? sl_strdup(x->modality) : NULL;
    c.method = x->method ? sl_strdup(x->method) : NULL;
    c.rel = sl_strdup(x->rel);
    c.run = sl_strdup(x->run);
    memcpy(c.sha256, x->sha256, sizeof(c.sha256));
    if (sl_export_add(e, &c) != 0)
        sl_export_inst_clear(&c);
}

/* Writes the manifests of e into the folder (atomically) or the zip. */
static int
write_manifests(struct dicom_media *m, const struct sl_export *e,
                struct sl_export_zip *z, struct sl_err *err)
{
    static const char *const names[2] = { "manifest.json", "manifest.csv" };
    struct sl_buf csv;
    char *json = NULL;
    int rc, i;

    sl_buf_init(&csv);
    rc = sl_export_manifests(e, m->run_id, &json, &csv, err);
    for (i = 0; i < 2 && rc == SL_OK; i++) {
        const char *data = i == 0 ? json : csv.data;
        size_t len = i == 0 ? strlen(json) : csv.len;
        if (z != NULL) {
            rc = sl_export_zip_add_data(z, names[i], data, len, err);
        } else {
            char *p = sl_path_join(m->root, names[i]);
            rc = sl_file_write_atomic(p, data, len, err);
            free(p);
        }
    }
    free(json);
    sl_buf_free(&csv);
    return rc;
}

static int
str_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The instances of e that root/DICOMDIR does not reference yet, in e's
 * order, into *out (caller frees the array; the strings are e's): their
 * number, or -1 when the DICOMDIR cannot be read or references a file
 * that is not in e, and must be made again. */
static long
dicomdir_missing(const char *root, const struct sl_export *e, const char ***out)
{
    struct sl_strv listed = { 0 };
    const char **rels = sl_calloc(e->n + 1, sizeof(*rels));
    const char **miss = sl_calloc(e->n + 1, sizeof(*miss));
    long n = 0;
    size_t i;

    if (sl_dicom_dicomdir_list(root, &listed, NULL) != SL_OK) {
        n = -1;
        goto out;
    }
    for (i = 0; i < e->n; i++)
        rels[i] = e->v[i].rel;
    qsort(rels, e->n, sizeof(*rels), str_cmp);
    sl_strv_sort(&listed);
    for (i = 0; i < listed.n && n >= 0; i++)
        if (bsearch(&listed.v[i], rels, e->n, sizeof(*rels), str_cmp) == NULL ||
            (i > 0 && strcmp(listed.v[i - 1], listed.v[i]) == 0))
            n = -1; /* gone from the folder, or listed twice */
    for (i = 0; i < e->n && n >= 0; i++)
        if (bsearch(&e->v[i].rel, listed.v, listed.n, sizeof(*listed.v),
                    str_cmp) == NULL)
            miss[n++] = e->v[i].rel;
out:
    if (n >= 0) {
        *out = miss;
        miss = NULL;
    }
    free(miss);
    free(rels);
    sl_strv_free(&listed);
    return n;
}

/* The DICOMDIR over e: the new instances appended when the DICOMDIR there
 * lists only instances of e, else made again. DCMTK writes it as
 * DICOMDIR.tmp beside the media and renames it: a reader sees the old one
 * or the whole new one. */
static int
write_dicomdir(struct dicom_media *m, const struct sl_export *e,
               struct sl_err *err)
{
    char *dd = sl_path_join(m->root, "DICOMDIR");
    const char **miss = NULL;
    long nmiss = -1;
    int rc = SL_OK;

    if (e->n == 0) {
        unlink(dd); /* nothing left to list */
        goto out;
    }
    if (!m->rolled_back && sl_path_exists(dd))
        nmiss = dicomdir_missing(m->root, e, &miss);
    if (nmiss == 0)
        goto out; /* up to date */
    if (nmiss > 0 &&
        sl_dicom_dicomdir_append(m->root, miss, (size_t)nmiss, NULL) == SL_OK) {
        sl_log(SL_LOG_INFO, "target '%s': DICOMDIR: %ld instances added", m->id,
               nmiss);
        goto synced;
    }
    sl_log(SL_LOG_INFO, "target '%s': DICOMDIR: made over %zu instances", m->id,
           e->n);
    if ((rc = sl_export_dicomdir(m->root, e, err)) != SL_OK)
        goto out;
synced:
    if (sinks_fsync_path(dd) != 0)
        rc = SL_ERR(err, SL_EIO, "cannot sync the DICOMDIR: %s",
                    strerror(errno));
out:
    free(miss);
    free(dd);
    return rc;
}

int
dicom_media_finish(struct dicom_media *m, struct sl_err *err)
{
    struct sl_export e;
    struct sl_export_zip *z = NULL;
    char *zpath = NULL;
    size_t i, missing = 0;
    int rc = SL_OK;

    sl_export_init(&e, m->layout);
    for (i = 0; i < m->all.n; i++) {
        const struct sl_export_inst *x = &m->all.v[i];
        char *p;
        if (m->layout == SL_EXPORT_ZIP && strcmp(x->run, m->run_id) != 0)
            continue; /* in the zip of its own run */
        p = inst_path(m, x);
        if (sl_path_exists(p))
            add_copy(&e, x);
        else
            missing++;
        free(p);
    }
    if (missing > 0)
        sl_log(SL_LOG_WARN,
               "target '%s': %zu delivered instances are no longer in the "
               "folder: left out of the manifest",
               m->id, missing);
    if (m->layout == SL_EXPORT_ZIP) {
        if (e.n == 0) {
            sinks_rm_tree(m->stage); /* nothing new: no zip, nothing staged */
            goto done;
        }
        zpath = sl_asprintf("%s/%s.zip", m->root, m->run_id);
        if ((rc = sl_export_zip_open(zpath, 0, &z, err)) != SL_OK)
            goto out;
        for (i = 0; i < e.n && rc == SL_OK; i++) {
            char *p = inst_path(m, &e.v[i]);
            rc = sl_export_zip_add_file(z, e.v[i].rel, p, e.v[i].sha256, err);
            free(p);
        }
        if (rc == SL_OK)
            rc = write_manifests(m, &e, z, err);
        if (rc == SL_OK)
            rc = sl_export_zip_close(z, err);
        else
            sl_export_zip_discard(z);
        if (rc == SL_OK && sinks_fsync_path(zpath) != 0)
            rc = SL_ERR(err, SL_EIO, "target '%s': cannot sync the folder: %s",
                        m->id, strerror(errno));
        goto out;
    }
    if (m->layout == SL_EXPORT_DICOMDIR &&
        (rc = write_dicomdir(m, &e, err)) != SL_OK)
        goto out;
    rc = write_manifests(m, &e, NULL, err);
done:
    if (rc == SL_OK && !m->sync_each && sinks_syncfs(m->root) != 0)
        rc = SL_ERR(err, SL_EIO, "target '%s': cannot sync the folder: %s",
                    m->id, strerror(errno));
out:
    if (rc != SL_OK)
        sl_err_prefix(err, "target '%s': ", m->id);
    else
        sl_log(SL_LOG_INFO,
               "target '%s' (%s): %" PRIu64 " instances delivered by this "
               "run, %" PRIu64 " delivered before; the manifests list %zu",
               m->id, sl_export_layout_name(m->layout), m->written,
               m->unchanged, e.n);
    free(zpath);
    sl_export_free(&e);
    return rc;
}
