/* dicom_folder.c - the dicom-folder source: every DICOM Part-10 file under
 * a folder, recognised by content (not by name), in sorted path order.
 *
 * Configuration: path (the folder, required).
 *
 * Each DICOM file becomes an SL_ITEM_DICOM item left on disk; a file that
 * cannot be read (truncated, broken, missing UIDs) becomes an SL_ITEM_BAD
 * item for quarantine and the run goes on; other files are skipped and
 * counted. Items are named "file N" (N is the 1-based index in the sorted
 * list), never by path. The checkpoint is "<N>\t<relative path>": on
 * resume the source skips the first N files when the N-th is still that
 * path, else it resumes after that path's place in the sorted list (files
 * were added or removed in between). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "dicom/dicom.h"
#include "sources/sources.h"

struct dicom_folder_src {
    const char *id;        /* source id, owned by the config */
    char *root;            /* the folder */
    struct sl_strv files;  /* dir-relative paths, sorted */
    size_t next;           /* index of the next file to look at */
    unsigned long skipped; /* files that are not DICOM */
    int reported;          /* the end-of-folder line was logged */
    int follow;            /* follow-symlinks="yes" */
};

static void
src_close(void *vctx)
{
    struct dicom_folder_src *s = vctx;

    if (s == NULL)
        return;
    free(s->root);
    sl_strv_free(&s->files);
    free(s);
}

/* The index of the first file to produce after checkpoint cp. */
static size_t
resume_index(const struct dicom_folder_src *s, const char *cp)
{
    const char *tab = strchr(cp, '\t');
    const char *rel;
    char *num;
    long n;
    size_t i;

    if (tab == NULL)
        return 0;
    rel = tab + 1;
    num = sl_strndup(cp, (size_t)(tab - cp));
    if (sl_parse_long(num, 1, 2147483647L, &n) == SL_OK &&
        (size_t)n <= s->files.n && strcmp(s->files.v[n - 1], rel) == 0) {
        free(num);
        return (size_t)n;
    }
    free(num);
    /* The list changed since the checkpoint: go on after where that path
     * sorts, whether it is still there or not. */
    for (i = 0; i < s->files.n; i++)
        if (strcmp(s->files.v[i], rel) > 0)
            break;
    return i;
}

static int
src_open(const struct sl_config *cfg, const struct sl_conf_node *node,
         const char *checkpoint, void **ctx, struct sl_err *err)
{
    struct dicom_folder_src *s = NULL;
    const char *id = node && node->id ? node->id : "dicom-folder";
    int line = node ? node->line : 0;
    char msg[256];
    int rc;

    s = sl_calloc(1, sizeof(*s));
    s->id = id;
    s->root = sl_conf_get_path(cfg, node, "path");
    if (s->root == NULL) {
        rc = SL_ERR(err, SL_ECONFIG,
                    "line %d: source '%s' "
                    "(dicom-folder) needs a path attribute",
                    line, id);
        goto out;
    }
    if (!sl_path_is_dir(s->root)) {
        rc = SL_ERR(err, SL_EIO,
                    "source '%s' (line %d): its path is not a "
                    "readable folder",
                    id, line);
        goto out;
    }
    if (sl_dicom_init(msg, sizeof(msg)) != 0) {
        rc = SL_ERR(err, SL_EDICOM, "source '%s': %s", id, msg);
        goto out;
    }
    s->follow = sl_conf_get(node, "follow-symlinks") != NULL &&
                strcmp(sl_conf_get(node, "follow-symlinks"), "yes") == 0;
    if ((rc = sl_dir_walk_links(s->root, s->follow, &s->files, err)) !=
        SL_OK) {
        /* sl_dir_walk names the folder; say which source instead. */
        rc = SL_ERR(err, rc,
                    "source '%s' (line %d): cannot list its "
                    "folder",
                    id, line);
        goto out;
    }
    if (checkpoint != NULL && *checkpoint != '\0')
        s->next = resume_index(s, checkpoint);
    sl_log(SL_LOG_DEBUG, "source %s: %zu files, starting at file %zu", id,
           s->files.n, s->next + 1);
    *ctx = s;
    s = NULL; /* the caller owns it now */
    rc = SL_OK;
out:
    src_close(s);
    return rc;
}

/* Makes the item of the file at index i (0-based), DICOM or bad. */
static int
make_item(struct dicom_folder_src *s, size_t i, char *full,
          struct sl_item **out, struct sl_err *err)
{
    struct sl_dicom_summary *sum = NULL;
    struct sl_err rerr = { 0 };
    struct sl_item *it;
    int rc;

    rc = sl_dicom_summary_read(full, &sum, &rerr);
    if (rc == SL_ENOMEM) {
        free(full);
        return SL_ERR(err, rc, "source '%s' file %zu: %s", s->id, i + 1,
                      rerr.msg);
    }
    it = sl_item_new(rc == SL_OK ? SL_ITEM_DICOM : SL_ITEM_BAD);
    it->source = s->id;
    it->rank = (long)i;
    it->pos = sl_asprintf("file %zu", i + 1);
    it->origin = full; /* the item owns it now */
    it->checkpoint = sl_asprintf("%zu\t%s", i + 1, s->files.v[i]);
    if (rc == SL_OK) {
        it->path = sl_strdup(full);
        it->rtype = sl_strdup(sum->modality ? sum->modality : "DICOM");
    } else {
        /* rerr never holds values or the path: it can be the reason. */
        it->rtype = sl_strdup("DICOM");
        sl_item_quarantine(it, "read", "%s", rerr.msg);
        sl_log(SL_LOG_DEBUG, "source %s: file %zu: unreadable DICOM: %s", s->id,
               i + 1, rerr.msg);
    }
    sl_dicom_summary_free(sum);
    *out = it;
    return SL_OK;
}

/* File i (path full, taken over) as an item for quarantine. */
static struct sl_item *
bad_item(const struct dicom_folder_src *s, size_t i, char *full,
         const char *reason)
{
    struct sl_item *it = sl_item_new(SL_ITEM_BAD);

    it->source = s->id;
    it->rank = (long)i;
    it->pos = sl_asprintf("file %zu", i + 1);
    it->origin = full;
    it->checkpoint = sl_asprintf("%zu\t%s", i + 1, s->files.v[i]);
    it->rtype = sl_strdup("DICOM");
    sl_item_quarantine(it, "read", "%s", reason);
    return it;
}

static int
src_next(void *vctx, struct sl_item **out, struct sl_err *err)
{
    struct dicom_folder_src *s = vctx;

    *out = NULL;
    while (s->next < s->files.n) {
        size_t i = s->next++;
        char *full = sl_path_join(s->root, s->files.v[i]);
        struct sl_err perr = { 0 };
        int is_dicom = 0;

        if (!s->follow && sl_is_symlink(full)) {
            /* reported by position; what it points to is never read */
            *out = bad_item(s, i, full, SL_LINK_NOT_FOLLOWED);
            return SL_OK;
        }
        if (sl_dicom_file_probe(full, &is_dicom, &perr) != SL_OK) {
            /* Listed but unreadable (permissions, a dangling link): the
             * operator must hear of it, so it goes to quarantine. */
            *out = bad_item(s, i, full, perr.msg);
            return SL_OK;
        }
        if (!is_dicom && sl_dicom_named_as_dicom(full)) {
            *out = bad_item(s, i, full, SL_DICOM_NOT_DICOM);
            return SL_OK;
        }
        if (!is_dicom) {
            s->skipped++;
            sl_log(SL_LOG_DEBUG, "source %s: file %zu is not DICOM, skipped",
                   s->id, i + 1);
            free(full);
            continue;
        }
        return make_item(s, i, full, out, err);
    }
    if (!s->reported) {
        s->reported = 1;
        if (s->skipped > 0)
            sl_log(SL_LOG_INFO, "source %s: %lu file%s skipped (not DICOM)",
                   s->id, s->skipped, s->skipped == 1 ? "" : "s");
    }
    return SL_OK;
}

static void
src_progress(void *ctx, uint64_t *done, uint64_t *total)
{
    struct dicom_folder_src *s = ctx;

    *done = s->next;
    *total = s->files.n;
}

const struct sl_source_ops sl_source_dicom_folder = {
    .type = "dicom-folder",
    .open = src_open,
    .next = src_next,
    .close = src_close,
    .local = 1,
    .progress = src_progress,
};
