/* fhir_files.c - the fhir-files source: a folder (recursive) of FHIR R4
 * resources as .json files (a resource or a Bundle, whose entries become
 * items), .ndjson and .ndjson.gz (one resource a line, read as a stream).
 *
 * Position and checkpoint: files are taken in sorted order; an item's
 * position is "file N line L" or "file N entry E", its checkpoint
 * "N\tK\tRELPATH" where K counts the lines or entries of file N consumed
 * (2^64-1 when a bad item consumed the rest of file N). Resuming skips
 * files before N and the first K units of file N. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <zlib.h>

#include "sources/gz_lines.h"
#include "config/config.h"
#include "sources/sources.h"
#include "fhir/fhir_json.h"

/* A .json file is parsed whole: above this size it is refused (and
 * quarantined by position) rather than risking the memory bound. */
#define FHIR_JSON_MAX (512L * 1024 * 1024)
/* Bytes of a bad line kept in quarantine for the operator. */
#define FHIR_RAW_MAX (1024 * 1024)
/* K of a checkpoint "N\tK\tRELPATH" after a bad item that stands for the
 * rest of file N (unreadable, not JSON, a damaged gzip stream): resuming
 * from it goes on with file N+1. With K = the units read so far, as
 * before, a resume read the damage again and quarantined it twice. */
#define FHIR_FILE_DONE UINT64_MAX

enum file_kind { FK_OTHER, FK_JSON, FK_NDJSON };

struct fhir_src {
    const char *id;
    char *root;
    struct sl_strv files; /* relative paths, sorted */
    size_t fi;            /* index of the current file (0-based) */
    uint64_t skip;        /* units of file fi to skip (resume) */
    /* current file */
    int open;
    enum file_kind kind;
    gzFile gz;
    uint64_t unit; /* lines read or entries taken */
    json_t *bundle;
    size_t entry;
    struct sl_buf line;
    /* NDJSON bytes read from gz and not yet split into lines */
    struct sl_gz_lines rd;
    uint64_t nskipped_files;
    size_t number_base; /* added to file numbers in positions (the files
                           source reads each input alone: "number") */
    int no_checkpoints; /* "resumable"="no": items carry none */
    int follow;         /* follow-symlinks="yes" */
    int single;         /* path names one file: read it, link or not */
    char *origin;       /* the current file's path (for items: copied) */
    size_t origin_fi;   /* which file origin is of, + 1 (0: none) */
};

static enum file_kind
file_kind(const char *rel)
{
    if (sl_str_has_suffix(rel, ".ndjson") || sl_str_has_suffix(rel, ".ndjson.gz"))
        return FK_NDJSON;
    if (sl_str_has_suffix(rel, ".json") || sl_str_has_suffix(rel, ".json.gz"))
        return FK_JSON;
    return FK_OTHER;
}

/* The decimal digits of v, written backwards from end; returns where
 * they start. */
static char *
digits_back(char *end, uint64_t v)
{
    do {
        *--end = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    return end;
}

/* "file F line L" into pos (at least 64 bytes), without printf: once
 * for every line of an export. */
static void
line_pos(char *pos, uint64_t file, uint64_t line)
{
    char a[24], b[24], *da = digits_back(a + sizeof(a), file),
                       *db = digits_back(b + sizeof(b), line);
    size_t na = (size_t)(a + sizeof(a) - da), nb = (size_t)(b + sizeof(b) - db);

    memcpy(pos, "file ", 5);
    memcpy(pos + 5, da, na);
    memcpy(pos + 5 + na, " line ", 6);
    memcpy(pos + 11 + na, db, nb);
    pos[11 + na + nb] = '\0';
}

/* The current file's path, for an item (a copy); joined once a file. */
static char *
origin_of(struct fhir_src *s)
{
    if (s->origin_fi != s->fi + 1) {
        free(s->origin);
        s->origin = sl_path_join(s->root, s->files.v[s->fi]);
        s->origin_fi = s->fi + 1;
    }
    return sl_strdup(s->origin);
}

/* "FILE\tUNIT\tNAME": where a resumed run starts (fhir_open). Made for
 * every item a job reads, so without printf. */
static char *
make_checkpoint(struct fhir_src *s)
{
    char a[24], b[24], *da, *db, *out;
    const char *name = s->files.v[s->fi];
    size_t na, nb, nn = strlen(name);

    if (s->no_checkpoints)
        return NULL;
    da = digits_back(a + sizeof(a), (uint64_t)(s->fi + 1));
    db = digits_back(b + sizeof(b), s->unit);
    na = (size_t)(a + sizeof(a) - da);
    nb = (size_t)(b + sizeof(b) - db);
    out = sl_malloc(na + nb + nn + 3);
    memcpy(out, da, na);
    out[na] = '\t';
    memcpy(out + na + 1, db, nb);
    out[na + 1 + nb] = '\t';
    memcpy(out + na + nb + 2, name, nn + 1);
    return out;
}

/* jansson's messages end with the offending token ("... near 'Smith'"):
 * cut it off so no patient data reaches a reason. */
static void
json_reason(const json_error_t *je, char *out, size_t len)
{
    const char *near = strstr(je->text, " near ");
    size_t n = near ? (size_t)(near - je->text) : strlen(je->text);

    snprintf(out, len, "%.*s", (int)n, je->text);
}

static struct sl_item *
bad_item(struct fhir_src *s, const char *pos, const char *reason,
         const char *raw, size_t rawlen)
{
    struct sl_item *it = sl_item_new(SL_ITEM_BAD);

    it->source = s->id;
    it->rank = (long)s->fi;
    it->pos = sl_strdup(pos);
    it->origin = origin_of(s);
    it->checkpoint = make_checkpoint(s);
    it->rtype = sl_strdup("unreadable");
    sl_item_quarantine(it, "read", "%s: %s", pos, reason);
    if (raw && rawlen > 0) {
        if (rawlen > FHIR_RAW_MAX)
            rawlen = FHIR_RAW_MAX;
        it->raw = sl_strndup(raw, rawlen);
        it->raw_len = rawlen;
    }
    return it;
}

static struct sl_item *
resource_item(struct fhir_src *s, json_t *res, const char *pos)
{
    struct sl_item *it;
    json_t *rt = json_object_get(res, "resourceType");

    if (!json_is_object(res) || !json_is_string(rt) ||
        json_string_length(rt) == 0) {
        char *dump = json_dumps(res, JSON_COMPACT);
        it = bad_item(s, pos, "not a FHIR resource: no resourceType", dump,
                      dump ? strlen(dump) : 0);
        free(dump);
        json_decref(res);
        return it;
    }
    it = sl_item_new(SL_ITEM_FHIR);
    it->source = s->id;
    it->rank = (long)s->fi;
    it->pos = sl_strdup(pos);
    it->origin = origin_of(s);
    it->checkpoint = make_checkpoint(s);
    it->rtype = sl_strdup(json_string_value(rt));
    it->resource = res; /* the item takes the reference */
    return it;
}

static void
close_file(struct fhir_src *s)
{
    if (s->gz)
        gzclose(s->gz);
    s->gz = NULL;
    json_decref(s->bundle);
    s->bundle = NULL;
    s->open = 0;
    s->unit = 0;
    s->entry = 0;
    sl_gz_lines_reset(&s->rd);
}

/* Reads one line of any length into s->line; 1 on a line, 0 at EOF,
 * -1 on a read error. Lines are split with memchr on what gzread gave,
 * not with gzgets: gzgets cannot say how much it read when a line holds a
 * NUL byte, and strlen() on its buffer then dropped the rest of that line
 * and glued the next line to it, losing a resource unseen (found by
 * fuzz_fhir_files). */
static int
read_line(struct fhir_src *s)
{
    return sl_gz_lines_next(s->gz, &s->rd, &s->line);
}

/* Opens file fi; returns a BAD item when it cannot be read. */
static struct sl_item *
open_file(struct fhir_src *s)
{
    char *full = sl_path_join(s->root, s->files.v[s->fi]);
    char pos[64];
    struct sl_item *bad = NULL;

    snprintf(pos, sizeof(pos), "file %zu", s->fi + 1 + s->number_base);
    s->kind = file_kind(s->files.v[s->fi]);
    s->unit = FHIR_FILE_DONE; /* for the checkpoint of a bad item */
    if (!s->follow && !s->single && sl_is_symlink(full)) {
        /* in a folder: reported by position, never read (a file given
         * by name is read: that is what was asked) */
        bad = bad_item(s, pos, SL_LINK_NOT_FOLLOWED, NULL, 0);
        goto out;
    }
    s->gz = gzopen(full, "rb");
    if (s->gz == NULL) {
        char why[128];
        snprintf(why, sizeof(why), "cannot open: %s", strerror(errno));
        bad = bad_item(s, pos, why, NULL, 0);
        goto out;
    }
    gzbuffer(s->gz, 128 * 1024);
    s->open = 1;
    if (s->kind == FK_JSON) {
        struct sl_buf b;
        char chunk[65536];
        json_error_t je;
        int n;

        sl_buf_init(&b);
        while ((n = gzread(s->gz, chunk, sizeof(chunk))) > 0) {
            sl_buf_add(&b, chunk, (size_t)n);
            if ((long)b.len > FHIR_JSON_MAX)
                break;
        }
        if (n < 0) {
            bad = bad_item(s, pos, "read error (corrupt gzip stream?)", NULL, 0);
        } else if ((long)b.len > FHIR_JSON_MAX) {
            bad = bad_item(s, pos, "JSON file larger than 512 MiB: split it "
                                   "or convert it to NDJSON", NULL, 0);
        } else {
            json_t *doc = sl_fhir_json_loadb(b.data, b.len, 0, &je);
            if (doc == NULL) {
                char why[256], reason[320];
                json_reason(&je, why, sizeof(why));
                snprintf(reason, sizeof(reason),
                         "malformed JSON at line %d column %d: %s", je.line,
                         je.column, why);
                bad = bad_item(s, pos, reason, b.data, b.len);
            } else {
                json_t *rt = json_object_get(doc, "resourceType");
                if (json_is_string(rt) &&
                    strcmp(json_string_value(rt), "Bundle") == 0 &&
                    json_is_array(json_object_get(doc, "entry"))) {
                    s->bundle = doc;
                } else {
                    /* a single resource: a one-entry "bundle" */
                    s->bundle = json_array();
                    json_array_append_new(s->bundle, doc);
                }
            }
        }
        sl_buf_free(&b);
        if (bad)
            close_file(s);
    }
out:
    s->unit = 0;
    free(full);
    return bad;
}

static int
fhir_next(void *ctx, struct sl_item **out, struct sl_err *err)
{
    struct fhir_src *s = ctx;
    char pos[96];

    (void)err;
    *out = NULL;
    while (s->fi < s->files.n) {
        if (!s->open) {
            struct sl_item *bad;
            if (s->skip == FHIR_FILE_DONE) {
                s->fi++; /* resumed after a bad item for this file */
                s->skip = 0;
                continue;
            }
            if (file_kind(s->files.v[s->fi]) == FK_OTHER) {
                s->nskipped_files++;
                sl_log(SL_LOG_DEBUG, "source %s: file %zu is not .json or "
                                     ".ndjson: skipped", s->id, s->fi + 1);
                s->fi++;
                continue;
            }
            if ((bad = open_file(s)) != NULL) {
                s->fi++;
                s->skip = 0;
                *out = bad;
                return SL_OK;
            }
        }
        if (s->kind == FK_NDJSON) {
            int r = read_line(s);
            if (r < 0) {
                snprintf(pos, sizeof(pos), "file %zu line %llu", s->fi + 1 + s->number_base,
                         (unsigned long long)s->unit + 1);
                s->unit = FHIR_FILE_DONE;
                *out = bad_item(s, pos, "read error (corrupt gzip stream?)",
                                NULL, 0);
                close_file(s);
                s->fi++;
                s->skip = 0;
                return SL_OK;
            }
            if (r == 0) {
                close_file(s);
                s->fi++;
                s->skip = 0;
                continue;
            }
            s->unit++;
            if (s->unit <= s->skip)
                continue;
            {
                const char *p = s->line.data;
                size_t n = s->line.len;
                struct sl_item *it;

                while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r'))
                    n--;
                if (strspn(p, " \t\r\n") >= n)
                    continue; /* blank line */
                line_pos(pos, s->fi + 1 + s->number_base, s->unit);
                /* Parsed on a worker thread (sl_item_parse), so that a
                 * run reads at the speed of its workers, not of one. */
                it = sl_item_new(SL_ITEM_FHIR);
                it->source = s->id;
                it->rank = (long)s->fi;
                it->pos = sl_strdup(pos);
                it->origin = origin_of(s);
                it->checkpoint = make_checkpoint(s);
                it->text = sl_strndup(p, n);
                it->text_len = n;
                *out = it;
                return SL_OK;
            }
        }
        /* FK_JSON: entries of a Bundle, or the one resource */
        {
            json_t *arr = json_is_array(s->bundle)
                              ? s->bundle
                              : json_object_get(s->bundle, "entry");
            json_t *e, *res;
            int is_bundle = !json_is_array(s->bundle);

            if (s->entry >= json_array_size(arr)) {
                close_file(s);
                s->fi++;
                s->skip = 0;
                continue;
            }
            e = json_array_get(arr, s->entry++);
            s->unit++;
            if (s->unit <= s->skip)
                continue;
            if (is_bundle) {
                snprintf(pos, sizeof(pos), "file %zu entry %zu", s->fi + 1 + s->number_base,
                         s->entry);
                res = json_object_get(e, "resource");
                if (res == NULL) {
                    *out = bad_item(s, pos, "Bundle entry has no resource",
                                    NULL, 0);
                    return SL_OK;
                }
            } else {
                snprintf(pos, sizeof(pos), "file %zu", s->fi + 1 + s->number_base);
                res = e;
            }
            *out = resource_item(s, json_incref(res), pos);
            if (is_bundle && (*out)->kind == SL_ITEM_FHIR) {
                /* what references by fullUrl name (issue 10): the
                 * de-identification rewrites them to Type/id */
                const char *fu =
                    json_string_value(json_object_get(e, "fullUrl"));
                (*out)->bundle_entry = 1;
                (*out)->full_url = fu ? sl_strdup(fu) : NULL;
            }
            return SL_OK;
        }
    }
    return SL_OK;
}

static void
fhir_close(void *ctx)
{
    struct fhir_src *s = ctx;

    if (s == NULL)
        return;
    close_file(s);
    if (s->nskipped_files)
        sl_log(SL_LOG_INFO, "source %s: %llu file(s) skipped: not .json or "
                            ".ndjson", s->id,
               (unsigned long long)s->nskipped_files);
    sl_strv_free(&s->files);
    free(s->origin);
    sl_buf_free(&s->line);
    free(s->root);
    free(s);
}

/* Parses "N\tK\tRELPATH" and positions s on it. */
static int
resume_at(struct fhir_src *s, const char *ck, struct sl_err *err)
{
    unsigned long long n = 0, k = 0;
    const char *rel;
    char *end;
    size_t i;

    n = strtoull(ck, &end, 10);
    if (*end != '\t')
        goto bad;
    k = strtoull(end + 1, &end, 10);
    if (*end != '\t')
        goto bad;
    rel = end + 1;
    if (n >= 1 && n <= s->files.n && strcmp(s->files.v[n - 1], rel) == 0) {
        s->fi = n - 1;
        s->skip = k;
        return SL_OK;
    }
    /* The folder changed since the checkpoint: find the file by name. */
    for (i = 0; i < s->files.n; i++) {
        if (strcmp(s->files.v[i], rel) == 0) {
            s->fi = i;
            s->skip = k;
            return SL_OK;
        }
    }
    return SL_ERR(err, SL_ESTATE,
                  "source %s: the file of the last checkpoint (file %llu) "
                  "is gone; cannot resume exactly-once",
                  s->id, n);
bad:
    return SL_ERR(err, SL_ESTATE, "source %s: unreadable checkpoint", s->id);
}

static int
fhir_open(const struct sl_config *cfg, const struct sl_conf_node *node,
          const char *checkpoint, void **ctx, struct sl_err *err)
{
    struct fhir_src *s = sl_calloc(1, sizeof(*s));
    int rc = SL_OK; /* a single file without a checkpoint sets nothing */

    s->id = node->id;
    /* for the files source; not in the option table */
    if (sl_conf_get(node, "number") != NULL)
        s->number_base = strtoul(sl_conf_get(node, "number"), NULL, 10) - 1;
    s->follow = sl_conf_get(node, "follow-symlinks") != NULL &&
                strcmp(sl_conf_get(node, "follow-symlinks"), "yes") == 0;
    s->no_checkpoints = sl_conf_get(node, "resumable") != NULL &&
                        strcmp(sl_conf_get(node, "resumable"), "no") == 0;
    s->root = sl_conf_get_path(cfg, node, "path");
    sl_buf_init(&s->line);
    if (s->root == NULL) {
        rc = SL_ERR(err, SL_ECONFIG, "source %s: no path", node->id);
        goto out;
    }
    if (sl_path_exists(s->root) && !sl_path_is_dir(s->root)) {
        /* one file: its folder is the root (sluice deid reads files) */
        s->single = 1;
        char *dir = sl_path_dir(s->root);
        const char *slash = strrchr(s->root, '/');
        sl_strv_push(&s->files, slash ? slash + 1 : s->root);
        free(s->root);
        s->root = dir;
    } else if ((rc = sl_dir_walk_links(s->root, s->follow, &s->files, err)) !=
               SL_OK) {
        sl_err_prefix(err, "source %s", node->id);
        goto out;
    }
    if (checkpoint && *checkpoint &&
        (rc = resume_at(s, checkpoint, err)) != SL_OK)
        goto out;
    *ctx = s;
    s = NULL;
out:
    fhir_close(s);
    return rc;
}

static void
fhir_progress(void *ctx, uint64_t *done, uint64_t *total)
{
    struct fhir_src *s = ctx;
    *done = s->fi;
    *total = s->files.n;
}

const struct sl_source_ops sl_source_fhir_files = {
    .type = "fhir-files",
    .open = fhir_open,
    .next = fhir_next,
    .close = fhir_close,
    .local = 1,
    .progress = fhir_progress,
};
