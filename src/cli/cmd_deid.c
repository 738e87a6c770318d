/* cmd_deid.c - sluice deid: de-identifies FHIR and DICOM files with one
 * key, so that a patient's FHIR record and images keep the same
 * pseudonyms and date shift. The command line is a contract:
 *
 *   sluice deid [--profile NAME|FILE] --key-file KEYFILE -o OUTDIR
 *               [--quarantine QDIR] [--explain] [--provenance]
 *               [--reid-map FILE --reid-key-file KEY2] INPUT...
 *
 * Output names never come from input names: FHIR files become
 * OUTDIR/fhir/NNNNNN.json|.ndjson|.ndjson.gz (same kind as the input), DICOM
 * instances OUTDIR/dicom/PATIENT/STUDY/SERIES/SOP.dcm named by pseudonyms
 * and new UIDs. What cannot be made safe goes to QDIR (never inside
 * OUTDIR) with a reason file; nothing printed comes from the data. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <zlib.h>

#include "cli/cli.h"
#include "common/hash.h"
#include "config/config.h"
#include "deid/dicom_deid.h"
#include "deid/fhir.h"
#include "fhir/jtape.h"
#include "deid/profile.h"
#include "dicom/dicom.h"
#include "keys/keys.h"
#include "sinks/sinks.h"
#include "sources/sources.h"

enum in_kind {
    IN_OTHER,
    IN_JSON,
    IN_NDJSON,
    IN_NDJSON_GZ,
    IN_DICOM,
    IN_NOT_DICOM /* named .dcm, but not DICOM by its content */
};

struct input {
    char *path; /* never printed */
    enum in_kind kind;
};

struct deid_run {
    const char *outdir, *qdir;
    struct sl_keys *keys;
    struct sl_reid_writer *reid; /* --reid-map, else NULL; thread-safe */
    struct sl_profile_chain *chain;
    struct sl_fhir_deid *fhir;
    struct sl_dicom_deid *dicom;
    void *dicom_sink;
    struct sl_conf_node sink_node;
    size_t nin;
    struct input *in;
    unsigned long n_out, n_quarantined, n_skipped, n_fhir_files, n_dicom;
    unsigned long *fhir_no; /* output number of each FHIR input */
    int provenance;         /* --provenance: one Provenance per FHIR output */
    char recorded[32];      /* its time: one for the whole run */
    /* both passes run on --jobs threads: */
    pthread_mutex_t mu;     /* counters, the DICOM sink, the next input */
    size_t *order;          /* inputs, the largest first: the threads end
                               together; results do not depend on it */
    size_t next;            /* next input to take, in order */
    int learning;           /* pass 1 */
    /* DICOM outputs placed: hash of the new SOP Instance UID -> input
     * number + 1 (0: free), so that of two inputs with one UID and
     * different bytes the earlier input wins, whatever the threads do */
    struct owner { uint64_t h; size_t input1; } *owners;
    size_t owners_cap, owners_n;
    int failed;
    struct sl_err ferr;
};

static void
count(struct deid_run *r, unsigned long *field)
{
    pthread_mutex_lock(&r->mu);
    (*field)++;
    pthread_mutex_unlock(&r->mu);
}

static enum in_kind
kind_of(const char *path)
{
    int is_dicom = 0;

    if (sl_str_has_suffix(path, ".ndjson.gz"))
        return IN_NDJSON_GZ;
    if (sl_str_has_suffix(path, ".ndjson"))
        return IN_NDJSON;
    if (sl_str_has_suffix(path, ".json"))
        return IN_JSON;
    if (sl_dicom_file_probe(path, &is_dicom, NULL) == SL_OK && is_dicom)
        return IN_DICOM;
    if (sl_dicom_named_as_dicom(path))
        return IN_NOT_DICOM;
    return IN_OTHER;
}

static int
collect_inputs(struct deid_run *r, int argc, char **argv, struct sl_err *err)
{
    int i;

    for (i = 0; i < argc; i++) {
        struct sl_strv files = {0};
        size_t j;
        int rc;

        if (!sl_path_exists(argv[i]))
            return SL_ERR(err, SL_EUSAGE, "input %d does not exist", i + 1);
        if (sl_path_is_dir(argv[i])) {
            if ((rc = sl_dir_walk(argv[i], &files, err)) != SL_OK) {
                sl_strv_free(&files);
                return rc;
            }
            for (j = 0; j < files.n; j++) {
                char *p = sl_path_join(argv[i], files.v[j]);
                r->in = sl_realloc(r->in, (r->nin + 1) * sizeof(*r->in));
                r->in[r->nin].path = p;
                r->in[r->nin].kind = kind_of(p);
                r->nin++;
            }
            sl_strv_free(&files);
        } else {
            r->in = sl_realloc(r->in, (r->nin + 1) * sizeof(*r->in));
            r->in[r->nin].path = sl_strdup(argv[i]);
            r->in[r->nin].kind = kind_of(argv[i]);
            r->nin++;
        }
    }
    return SL_OK;
}

/* Writes QDIR/ID.EXT (the item) and QDIR/ID.reason.txt (why, where from).
 * The reason file keeps the original path for the operator. */
static int
quarantine(struct deid_run *r, const char *id, const char *ext,
           const void *data, size_t len, const char *copy_from,
           size_t input_no, const char *pos, const char *reason,
           struct sl_err *err)
{
    char *name = sl_asprintf("%s%s", id, ext), *p = sl_path_join(r->qdir, name);
    char *rname = sl_asprintf("%s.reason.txt", id);
    char *rp = sl_path_join(r->qdir, rname);
    char *text = sl_asprintf("item: %s\nposition: %s\nreason: %s\n"
                             "input: %s\n",
                             id, pos, reason, r->in[input_no].path);
    int rc;

    if ((rc = sl_mkdir_p(r->qdir, err)) != SL_OK)
        goto out;
    if (copy_from)
        rc = sl_file_copy(copy_from, p, 1, err);
    else
        rc = sl_file_write_atomic(p, data, len, err);
    if (rc == SL_OK)
        rc = sl_file_write_atomic(rp, text, strlen(text), err);
    if (rc == SL_OK) {
        count(r, &r->n_quarantined);
        sl_log(SL_LOG_WARN, "quarantined %s (%s): %s", id, pos, reason);
    }
out:
    free(name);
    free(p);
    free(rname);
    free(rp);
    sl_freezero(text, strlen(text));
    return rc;
}

/* --reid-map: the pair of one Patient MRN (val may be NULL or empty). */
static int
reid_mrn(struct deid_run *r, const char *val, struct sl_err *err)
{
    char ps[SL_PSEUDONYM_LEN + 1];

    if (val == NULL || *val == '\0')
        return SL_OK;
    sl_keys_pseudonym(r->keys, SL_KD_IDENTIFIER, val, strlen(val), ps);
    return sl_reid_add(r->reid, "Patient.identifier(MR)", val, ps, err);
}

/* --reid-map: a Patient's MRN identifier values (type MR) and the
 * pseudonym the FHIR engine gives them (the same derivation). */
static int
reid_fhir(struct deid_run *r, const json_t *res, struct sl_err *err)
{
    const json_t *ids = json_object_get(res, "identifier");
    size_t i, j;
    int rc;

    if (strcmp(json_string_value(json_object_get(res, "resourceType")),
               "Patient") != 0)
        return SL_OK;
    for (i = 0; i < json_array_size(ids); i++) {
        const json_t *x = json_array_get(ids, i);
        const json_t *codes = json_object_get(json_object_get(x, "type"),
                                              "coding");
        const char *val = json_string_value(json_object_get(x, "value"));
        int mr = 0;

        for (j = 0; j < json_array_size(codes); j++) {
            const char *code = json_string_value(
                json_object_get(json_array_get(codes, j), "code"));
            mr |= code != NULL && strcmp(code, "MR") == 0;
        }
        if (mr && (rc = reid_mrn(r, val, err)) != SL_OK)
            return rc;
    }
    return SL_OK;
}

/* --reid-map: the pairs of one de-identified instance. */
static int
reid_dicom(struct deid_run *r, const struct sl_dicom_deid_info *info,
           struct sl_err *err)
{
    const struct {
        const char *kind, *orig, *pseudo;
    } p[] = {
        { "PatientID", info->orig_patient, info->patient },
        { "StudyInstanceUID", info->orig_study_uid, info->study_uid },
        { "SeriesInstanceUID", info->orig_series_uid, info->series_uid },
        { "SOPInstanceUID", info->orig_sop_uid, info->sop_uid },
        { "AccessionNumber", info->orig_accession, info->accession },
    };
    size_t i;
    int rc;

    for (i = 0; i < sizeof(p) / sizeof(p[0]); i++)
        if (p[i].orig != NULL && p[i].orig[0] != '\0' &&
            (rc = sl_reid_add(r->reid, p[i].kind, p[i].orig,
                              p[i].pseudo != NULL ? p[i].pseudo : "", err)) !=
                SL_OK)
            return rc;
    return SL_OK;
}

/* Opens the fhir-files source on one input file. The node only lives for
 * the call: the source copies the path and keeps the literal id. */
static int
open_input(const char *path, void **src, struct sl_err *err)
{
    char *names[] = {(char *)"path"}, *values[] = {(char *)path};
    struct sl_conf_node node = {0};

    node.id = (char *)"input";
    node.nattr = 1;
    node.names = names;
    node.values = values;
    return sl_source_fhir_files.open(NULL, &node, NULL, src, err);
}

/* Pass 1 over one FHIR file: learn patients. */
static int
learn_file(struct deid_run *r, size_t i, struct sl_err *err)
{
    void *src = NULL;
    int rc;

    if ((rc = open_input(r->in[i].path, &src, err)) != SL_OK)
        return rc;
    for (;;) {
        struct sl_item *it = NULL;
        if ((rc = sl_source_fhir_files.next(src, &it, err)) != SL_OK || !it)
            break;
        if (it->kind == SL_ITEM_FHIR)
            rc = sl_fhir_deid_learn_at(r->fhir, it->resource, (long)i, err);
        if (rc == SL_OK && it->kind == SL_ITEM_FHIR && r->reid != NULL)
            rc = reid_fhir(r, it->resource, err);
        sl_item_free(it);
        if (rc != SL_OK)
            break;
    }
    sl_source_fhir_files.close(src);
    return rc;
}

/* ---- NDJSON read directly (both passes) ----
 * Lines are read as the fhir-files source reads them (gzread, split on
 * '\n', trailing CR/LF dropped, blank lines skipped) and each is scanned
 * into a tape (fhir/jtape.h): pass 1 learns from the tape, pass 2
 * builds the jansson document from it. A line the scanner leaves to
 * jansson is parsed by json_loadb as the source parses it, and a bad line
 * is reported with the source's words and positions. */

#define NDJ_RAW_MAX (1024 * 1024) /* bytes of a bad line kept, as the source */

struct ndj {
    gzFile gz;
    unsigned long unit; /* lines read */
    struct sl_buf line;
    struct sl_buf copy; /* the line, scanned (decoded in place) */
    struct sl_jtape tape;
    char rbuf[65536];
    size_t rpos, rlen;
};

static struct ndj *
ndj_open(const char *path)
{
    struct ndj *n = sl_calloc(1, sizeof(*n));

    sl_buf_init(&n->line);
    sl_buf_init(&n->copy);
    n->gz = gzopen(path, "rb");
    if (n->gz != NULL)
        gzbuffer(n->gz, 128 * 1024);
    return n;
}

static void
ndj_close(struct ndj *n)
{
    if (n == NULL)
        return;
    if (n->gz)
        gzclose(n->gz);
    /* they held patient data */
    if (n->line.data)
        sl_freezero(n->line.data, n->line.cap);
    if (n->copy.data)
        sl_freezero(n->copy.data, n->copy.cap);
    OPENSSL_cleanse(n->rbuf, sizeof(n->rbuf));
    sl_jtape_free(&n->tape);
    free(n);
}

/* One line into n->line: 1, 0 at the end, -1 on a read error (as the
 * source's read_line). */
static int
ndj_read(struct ndj *n)
{
    sl_buf_reset(&n->line);
    for (;;) {
        const char *p, *nl;
        size_t avail, take;

        if (n->rpos == n->rlen) {
            int got = gzread(n->gz, n->rbuf, sizeof(n->rbuf));
            int zerr;

            if (got < 0)
                return -1;
            if (got == 0) {
                gzerror(n->gz, &zerr);
                if (zerr != Z_OK)
                    return -1;
                return n->line.len > 0 ? 1 : 0;
            }
            n->rpos = 0;
            n->rlen = (size_t)got;
        }
        p = n->rbuf + n->rpos;
        avail = n->rlen - n->rpos;
        nl = memchr(p, '\n', avail);
        take = nl ? (size_t)(nl - p) + 1 : avail;
        sl_buf_add(&n->line, p, take);
        n->rpos += take;
        if (nl)
            return 1;
    }
}

/* The next resource line: 1 with *p, *len (the line without its end) and,
 * when the scanner took it, *scanned (n->tape holds it, its root an
 * object with a non-empty resourceType); 0 at the end; -1 on a read
 * error. Blank lines are skipped. */
static int
ndj_next(struct ndj *n, const char **p, size_t *len, int *scanned)
{
    for (;;) {
        int rl = ndj_read(n);
        const char *s;
        size_t m;

        if (rl <= 0)
            return rl;
        n->unit++;
        s = n->line.data;
        m = n->line.len;
        while (m > 0 && (s[m - 1] == '\n' || s[m - 1] == '\r'))
            m--;
        if (strspn(s, " \t\r\n") >= m)
            continue; /* blank line */
        sl_buf_reset(&n->copy);
        sl_buf_add(&n->copy, s, m);
        *scanned = 0;
        if (sl_jtape_parse(&n->tape, n->copy.data, m) &&
            n->tape.n[SL_JT_ROOT].type == SL_JT_OBJECT) {
            size_t rt = sl_jt_get(&n->tape, SL_JT_ROOT, "resourceType");
            *scanned = sl_jt_str(&n->tape, rt) != NULL && n->tape.n[rt].len > 0;
        }
        *p = s;
        *len = m;
        return 1;
    }
}

/* jansson's reading of a line the scanner left to it: the resource, or
 * NULL and why (the source's words: no patient data). */
static json_t *
ndj_jansson(const char *p, size_t len, char *why, size_t whylen)
{
    json_error_t je;
    json_t *res = json_loadb(p, len, JSON_REJECT_DUPLICATES, &je), *rt;

    if (res == NULL) {
        const char *near = strstr(je.text, " near ");
        char w[256];
        snprintf(w, sizeof(w), "%.*s",
                 (int)(near ? (size_t)(near - je.text) : strlen(je.text)),
                 je.text);
        snprintf(why, whylen, "malformed JSON at column %d: %s", je.column, w);
        return NULL;
    }
    rt = json_object_get(res, "resourceType");
    if (!json_is_object(res) || !json_is_string(rt) ||
        json_string_length(rt) == 0) {
        snprintf(why, whylen, "not a FHIR resource: no resourceType");
        return res; /* the caller quarantines it */
    }
    why[0] = '\0';
    return res;
}

/* --reid-map from a tape: as reid_fhir. */
static int
reid_fhir_tape(struct deid_run *r, const struct sl_jtape *t, struct sl_err *err)
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
        if (mr && (rc = reid_mrn(r, val, err)) != SL_OK)
            return rc;
    }
    return SL_OK;
}

/* Pass 1 over an NDJSON file: learn patients. Bad lines teach nothing
 * (pass 2 quarantines them). */
static int
learn_ndjson(struct deid_run *r, size_t i, struct sl_err *err)
{
    struct ndj *n = ndj_open(r->in[i].path);
    const char *p;
    size_t len;
    int scanned, rc = SL_OK;

    if (n->gz == NULL) { /* the source says why, as before */
        ndj_close(n);
        return learn_file(r, i, err);
    }
    while (rc == SL_OK && ndj_next(n, &p, &len, &scanned) > 0) {
        if (scanned) {
            rc = sl_fhir_deid_learn_tape(r->fhir, &n->tape, (long)i, err);
            if (rc == SL_OK && r->reid != NULL)
                rc = reid_fhir_tape(r, &n->tape, err);
        } else {
            char why[320];
            json_t *res = ndj_jansson(p, len, why, sizeof(why));
            if (res && why[0] == '\0') {
                rc = sl_fhir_deid_learn_at(r->fhir, res, (long)i, err);
                if (rc == SL_OK && r->reid != NULL)
                    rc = reid_fhir(r, res, err);
            }
            json_decref(res);
        }
    }
    ndj_close(n);
    return rc;
}

/* Appends to targets the reference of a de-identified resource as the
 * output names it ("Type/id"), when it has an id. */
static void
add_target(json_t *targets, const char *fullurl, const json_t *res)
{
    const char *type = json_string_value(json_object_get(res, "resourceType"));
    const char *id = json_string_value(json_object_get(res, "id"));

    if (fullurl && strncmp(fullurl, "urn:uuid:", 9) == 0) {
        json_array_append_new(targets, json_string(fullurl));
    } else if (type && id) {
        char *ref = sl_asprintf("%s/%s", type, id);
        json_array_append_new(targets, json_string(ref));
        free(ref);
    }
}

/* --provenance for a .json output: a Bundle gets the Provenance of its
 * entries as one more entry (POSTed in a transaction or batch); a lone
 * resource gets it in NAME.provenance.json beside it, written by the
 * caller (*extra). doc is the de-identified document. */
static void
add_provenance(struct deid_run *r, json_t *doc, json_t **extra)
{
    json_t *targets = json_array(), *prov, *entries, *entry;
    const char *btype;
    size_t i;

    *extra = NULL;
    if (strcmp(json_string_value(json_object_get(doc, "resourceType")),
               "Bundle") != 0) {
        add_target(targets, NULL, doc);
        *extra = sl_fhir_deid_provenance(r->fhir, targets, r->recorded);
        json_decref(targets);
        return;
    }
    entries = json_object_get(doc, "entry");
    for (i = 0; i < json_array_size(entries); i++) {
        const json_t *e = json_array_get(entries, i);
        add_target(targets, json_string_value(json_object_get(e, "fullUrl")),
                   json_object_get(e, "resource"));
    }
    prov = sl_fhir_deid_provenance(r->fhir, targets, r->recorded);
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

static char *
item_id(size_t input_no, const char *pos)
{
    unsigned long line = 0, entry = 0;
    const char *l = strstr(pos, "line "), *e = strstr(pos, "entry ");

    if (l)
        line = strtoul(l + 5, NULL, 10);
    if (e)
        entry = strtoul(e + 6, NULL, 10);
    if (line)
        return sl_asprintf("in%06zu-line%06lu", input_no + 1, line);
    if (entry)
        return sl_asprintf("in%06zu-entry%06lu", input_no + 1, entry);
    return sl_asprintf("in%06zu", input_no + 1);
}

/* Writes text and a newline to f, or to zf when f is NULL (no printf: a
 * line is one resource, often kilobytes). */
static int
put_line(FILE *f, gzFile zf, const char *text)
{
    size_t n = strlen(text);

    if (f)
        return fwrite(text, 1, n, f) == n && putc('\n', f) != EOF ? SL_OK
                                                                  : SL_EIO;
    return (n == 0 || gzwrite(zf, text, (unsigned)n) == (int)n) &&
                   gzputc(zf, '\n') != -1
               ? SL_OK
               : SL_EIO;
}

/* Pass 2 over the lines of an NDJSON file opened as n: each line
 * de-identified and written to f (or zf), or quarantined. */
static int
deid_ndjson_lines(struct deid_run *r, size_t i, struct ndj *n, FILE *f,
                  gzFile zf, const char *tmp, json_t *targets,
                  unsigned long *written, struct sl_err *err)
{
    struct sl_buf text;
    const char *p;
    size_t len;
    int scanned, rl, rc = SL_OK;

    sl_buf_init(&text);
    while (rc == SL_OK && (rl = ndj_next(n, &p, &len, &scanned)) != 0) {
        struct sl_err e2 = {0};
        char pos[96], why[320], reason[1024], *id;
        json_t *res = NULL;
        int drc;

        if (rl < 0) { /* as the source: the rest of the file is lost */
            snprintf(pos, sizeof(pos), "file 1 line %lu", n->unit + 1);
            snprintf(reason, sizeof(reason), "%s: %s", pos,
                     "read error (corrupt gzip stream?)");
            id = item_id(i, pos);
            rc = quarantine(r, id, ".ndjson", "", 0, NULL, i, pos, reason, err);
            free(id);
            break;
        }
        why[0] = '\0';
        if (scanned)
            res = sl_jtape_to_json(&n->tape, SL_JT_ROOT);
        if (res == NULL)
            res = ndj_jansson(p, len, why, sizeof(why));
        if (why[0]) { /* a bad line: what the source would have said */
            char *dump = res ? json_dumps(res, JSON_COMPACT) : NULL;
            const char *raw = res ? dump : p;
            size_t rawlen = res ? (dump ? strlen(dump) : 0) : len;
            snprintf(pos, sizeof(pos), "file 1 line %lu", n->unit);
            snprintf(reason, sizeof(reason), "%s: %s", pos, why);
            if (rawlen > NDJ_RAW_MAX)
                rawlen = NDJ_RAW_MAX;
            id = item_id(i, pos);
            rc = quarantine(r, id, ".ndjson", raw ? raw : "", raw ? rawlen : 0,
                            NULL, i, pos, reason, err);
            free(id);
            free(dump);
            json_decref(res);
            continue;
        }
        sl_buf_reset(&text);
        drc = sl_fhir_deid_resource_json(r->fhir, res, &text, &e2);
        if (drc == SL_EQUARANTINE) {
            char *q = json_dumps(res, JSON_COMPACT);
            snprintf(pos, sizeof(pos), "file 1 line %lu", n->unit);
            id = item_id(i, pos);
            rc = quarantine(r, id, ".ndjson", q, strlen(q), NULL, i, pos,
                            e2.msg, err);
            free(id);
            sl_freezero(q, strlen(q));
        } else if (drc != SL_OK) {
            *err = e2;
            rc = drc;
        } else {
            if (f) {
                sl_buf_addc(&text, '\n');
                rc = fwrite(text.data, 1, text.len, f) == text.len ? SL_OK
                                                                   : SL_EIO;
            } else
                rc = put_line(NULL, zf, text.data);
            if (rc != SL_OK)
                SL_ERR(err, rc, "%s: write error", tmp);
            (*written)++;
            count(r, &r->n_out);
            if (targets)
                add_target(targets, NULL, res);
        }
        json_decref(res);
    }
    if (text.data)
        sl_freezero(text.data, text.cap);
    return rc;
}

/* Pass 2 over an NDJSON file (plain or gzip): line by line. */
static int
deid_ndjson(struct deid_run *r, size_t i, struct sl_err *err)
{
    int gz = r->in[i].kind == IN_NDJSON_GZ;
    char *name, *out, *tmp;
    gzFile zf = NULL;
    FILE *f = NULL;
    void *src = NULL;
    struct ndj *nd;
    unsigned long written = 0;
    json_t *targets = r->provenance ? json_array() : NULL;
    int rc;

    name = sl_asprintf("%06lu.ndjson%s", r->fhir_no[i], gz ? ".gz" : "");
    out = sl_path_join(r->outdir, "fhir");
    if ((rc = sl_mkdir_p(out, err)) != SL_OK) {
        free(name);
        free(out);
        return rc;
    }
    free(out);
    out = sl_path_join(r->outdir, "fhir");
    {
        char *o2 = sl_path_join(out, name);
        free(out);
        out = o2;
    }
    tmp = sl_asprintf("%s.part", out);
    if (gz)
        zf = gzopen(tmp, "wb");
    else
        f = fopen(tmp, "wb");
    if (zf == NULL && f == NULL) {
        rc = SL_ERR(err, SL_EIO, "%s: cannot create: %s", tmp, strerror(errno));
        goto out;
    }
    nd = ndj_open(r->in[i].path);
    if (nd->gz != NULL) {
        rc = deid_ndjson_lines(r, i, nd, f, zf, tmp, targets, &written, err);
        ndj_close(nd);
        goto provenance;
    }
    ndj_close(nd); /* the source says why, as before */
    if ((rc = open_input(r->in[i].path, &src, err)) != SL_OK)
        goto out;
    for (;;) {
        struct sl_item *it = NULL;
        struct sl_err e2 = {0};
        char *id, *text;
        int drc;

        if ((rc = sl_source_fhir_files.next(src, &it, err)) != SL_OK || !it)
            break;
        id = item_id(i, it->pos);
        if (it->kind != SL_ITEM_FHIR) {
            rc = quarantine(r, id, ".ndjson", it->raw ? it->raw : "",
                            it->raw ? it->raw_len : 0, NULL, i, it->pos,
                            it->reason, err);
        } else if ((drc = sl_fhir_deid_resource(r->fhir, it->resource, &e2)) ==
                   SL_EQUARANTINE) {
            text = json_dumps(it->resource, JSON_COMPACT);
            rc = quarantine(r, id, ".ndjson", text, strlen(text), NULL, i,
                            it->pos, e2.msg, err);
            sl_freezero(text, strlen(text));
        } else if (drc != SL_OK) {
            *err = e2;
            rc = drc;
        } else {
            text = json_dumps(it->resource, JSON_COMPACT);
            if (gz)
                rc = put_line(NULL, zf, text);
            else
                rc = put_line(f, NULL, text);
            if (rc != SL_OK)
                SL_ERR(err, rc, "%s: write error", tmp);
            free(text);
            written++;
            count(r, &r->n_out);
            if (targets)
                add_target(targets, NULL, it->resource);
        }
        free(id);
        sl_item_free(it);
        if (rc != SL_OK)
            break;
    }
provenance:
    if (rc == SL_OK && targets) {
        /* --provenance: one more line */
        json_t *prov = sl_fhir_deid_provenance(r->fhir, targets, r->recorded);
        if (prov) {
            char *text = json_dumps(prov, JSON_COMPACT);
            if (gz)
                rc = put_line(NULL, zf, text);
            else
                rc = put_line(f, NULL, text);
            if (rc != SL_OK)
                SL_ERR(err, rc, "%s: write error", tmp);
            free(text);
            json_decref(prov);
        }
    }
out:
    json_decref(targets);
    if (src)
        sl_source_fhir_files.close(src);
    if (zf && gzclose(zf) != Z_OK && rc == SL_OK)
        rc = SL_ERR(err, SL_EIO, "%s: write error", tmp);
    if (f && fclose(f) != 0 && rc == SL_OK)
        rc = SL_ERR(err, SL_EIO, "%s: write error", tmp);
    if (rc == SL_OK && written > 0 && rename(tmp, out) != 0)
        rc = SL_ERR(err, SL_EIO, "%s: cannot rename: %s", out, strerror(errno));
    if (rc != SL_OK || written == 0)
        unlink(tmp);
    free(tmp);
    free(out);
    free(name);
    return rc;
}

/* Pass 2 over a .json file: the resource or Bundle as a whole. */
static int
deid_json(struct deid_run *r, size_t i, struct sl_err *err)
{
    char *raw = NULL, *text = NULL, *name = NULL, *dir = NULL, *out = NULL;
    char *id = item_id(i, "");
    size_t len = 0;
    json_error_t je;
    json_t *doc = NULL, *extra = NULL;
    struct sl_err e2 = {0};
    char pos[32];
    int rc;

    snprintf(pos, sizeof(pos), "file %zu", i + 1);
    if ((rc = sl_file_read(r->in[i].path, &raw, &len, &e2)) != SL_OK) {
        rc = quarantine(r, id, ".reason-only", "", 0, NULL, i, pos,
                        "cannot read the file", err);
        goto out;
    }
    doc = json_loadb(raw, len, 0, &je);
    if (doc == NULL || !json_is_string(json_object_get(doc, "resourceType"))) {
        char why[160];
        const char *near = strstr(je.text, " near ");
        if (doc)
            snprintf(why, sizeof(why), "not a FHIR resource: no resourceType");
        else
            snprintf(why, sizeof(why), "malformed JSON at line %d column %d: "
                     "%.*s", je.line, je.column,
                     (int)(near ? (size_t)(near - je.text) : strlen(je.text)),
                     je.text);
        rc = quarantine(r, id, ".json", raw, len, NULL, i, pos, why, err);
        goto out;
    }
    rc = sl_fhir_deid_resource(r->fhir, doc, &e2);
    if (rc == SL_EQUARANTINE) {
        rc = quarantine(r, id, ".json", raw, len, NULL, i, pos, e2.msg, err);
        goto out;
    }
    if (rc != SL_OK) {
        *err = e2;
        goto out;
    }
    dir = sl_path_join(r->outdir, "fhir");
    if ((rc = sl_mkdir_p(dir, err)) != SL_OK)
        goto out;
    name = sl_asprintf("%06lu.json", r->fhir_no[i]);
    out = sl_path_join(dir, name);
    if (r->provenance)
        add_provenance(r, doc, &extra);
    if (extra) {
        /* a lone resource: its Provenance beside it */
        char *pname = sl_asprintf("%06lu.provenance.json", r->fhir_no[i]);
        char *pout = sl_path_join(dir, pname);
        char *ptext = json_dumps(extra, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
        rc = sl_file_write_atomic(pout, ptext, strlen(ptext), err);
        free(ptext);
        free(pout);
        free(pname);
        if (rc != SL_OK)
            goto out;
    }
    text = json_dumps(doc, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    rc = sl_file_write_atomic(out, text, strlen(text), err);
    if (rc == SL_OK)
        count(r, &r->n_out);
out:
    json_decref(extra);
    json_decref(doc);
    sl_freezero(raw, len);
    free(text);
    free(name);
    free(dir);
    free(out);
    free(id);
    return rc;
}

/* The slot of h (under r->mu); grows the table at three quarters. */
static struct owner *
owner_slot(struct deid_run *r, uint64_t h)
{
    size_t j;

    if (4 * (r->owners_n + 1) > 3 * r->owners_cap) {
        struct owner *old = r->owners;
        size_t oc = r->owners_cap;
        r->owners_cap = oc ? 2 * oc : 1024;
        r->owners = sl_calloc(r->owners_cap, sizeof(*r->owners));
        r->owners_n = 0;
        for (j = 0; j < oc; j++)
            if (old[j].input1 != 0) {
                struct owner *o = owner_slot(r, old[j].h);
                *o = old[j];
                r->owners_n++;
            }
        free(old);
    }
    for (j = h & (r->owners_cap - 1); r->owners[j].input1 != 0 &&
                                      r->owners[j].h != h;
         j = (j + 1) & (r->owners_cap - 1))
        ;
    return &r->owners[j];
}

/* Places instance i's output (under r->mu). Of two inputs whose outputs
 * share a SOP Instance UID with different bytes, the earlier input's is
 * kept: a later one is quarantined, an earlier one takes the place of
 * the later one, whose input number goes to *displaced (else SIZE_MAX)
 * for the caller to quarantine. */
static int
place_dicom(struct deid_run *r, size_t i, struct sl_item *it,
            const struct sl_dicom_deid_info *info, int *taken,
            size_t *displaced, struct sl_err *err)
{
    struct owner *o = NULL;
    int rc;

    *displaced = SIZE_MAX;
    rc = sl_sink_dicom_folder_place(r->dicom_sink, it, info->written,
                                    info->written_why, taken, err);
    if (info->written == NULL)
        return rc;
    o = owner_slot(r, sl_fnv1a64(info->written->sop_uid));
    if (rc == SL_OK && o->input1 == 0) {
        o->h = sl_fnv1a64(info->written->sop_uid);
        o->input1 = i + 1;
        r->owners_n++;
    } else if (rc == SL_EQUARANTINE && o->input1 > i + 1 &&
               it->reason != NULL && strcmp(it->reason, SL_SINK_DUPLICATE) == 0 &&
               sl_sink_dicom_folder_unplace(r->dicom_sink, info->written) == 0) {
        *displaced = o->input1 - 1;
        o->input1 = i + 1;
        r->n_out--; /* counted when it was placed */
        free(it->reason);
        free(it->stage);
        it->reason = it->stage = NULL;
        rc = sl_sink_dicom_folder_place(r->dicom_sink, it, info->written,
                                        info->written_why, taken, err);
    }
    return rc;
}

static int
deid_dicom(struct deid_run *r, size_t i, struct sl_err *err)
{
    struct sl_dicom_deid_info info = {0};
    struct sl_err e2 = {0};
    char *id = item_id(i, ""), *tmp = NULL;
    char pos[32];
    int rc, taken = 0;

    snprintf(pos, sizeof(pos), "file %zu", i + 1);
    /* OUTDIR was made before the threads started (qdir_outside). */
    tmp = sl_asprintf("%s/.deid-%ld-%zu.tmp", r->outdir, (long)getpid(), i);
    info.want_originals = r->reid != NULL;
    info.want_written = 1;
    rc = sl_dicom_deid_file(r->dicom, r->in[i].path, tmp, &info, &e2);
    if (rc == SL_EQUARANTINE) {
        rc = quarantine(r, id, ".dcm", NULL, 0, r->in[i].path, i, pos, e2.msg,
                        err);
    } else if (rc != SL_OK) {
        *err = e2;
    } else {
        struct sl_item *it = sl_item_new(SL_ITEM_DICOM);
        it->path = sl_strdup(tmp);
        it->pos = sl_strdup(pos);
        /* The engine knows what it wrote: the sink moves the file in
         * without reading or copying it again. */
        size_t displaced;
        pthread_mutex_lock(&r->mu);
        rc = place_dicom(r, i, it, &info, &taken, &displaced, err);
        pthread_mutex_unlock(&r->mu);
        if (displaced != SIZE_MAX) {
            char *did = item_id(displaced, "");
            char dpos[32];
            int drc;
            snprintf(dpos, sizeof(dpos), "file %zu", displaced + 1);
            drc = quarantine(r, did, ".dcm", NULL, 0, r->in[displaced].path,
                             displaced, dpos, SL_SINK_DUPLICATE, err);
            free(did);
            if (drc != SL_OK && rc == SL_OK)
                rc = drc;
        }
        if (rc == SL_EQUARANTINE)
            rc = quarantine(r, id, ".dcm", NULL, 0, r->in[i].path, i, pos,
                            it->reason, err);
        else if (rc == SL_OK)
            count(r, &r->n_out);
        if (rc == SL_OK && taken && r->reid != NULL)
            rc = reid_dicom(r, &info, err);
        sl_item_free(it);
    }
    count(r, &r->n_dicom);
    unlink(tmp); /* gone when moved into place */
    free(tmp);
    free(id);
    sl_dicom_deid_info_clear(&info);
    return rc;
}

static int
deid_one(struct deid_run *r, size_t i, struct sl_err *err)
{
    switch (r->in[i].kind) {
    case IN_JSON:
        return deid_json(r, i, err);
    case IN_NDJSON:
    case IN_NDJSON_GZ:
        return deid_ndjson(r, i, err);
    case IN_DICOM:
        return deid_dicom(r, i, err);
    case IN_NOT_DICOM: {
        /* Meant as DICOM, so not skipped: the operator must see it. */
        char *id = item_id(i, "");
        char pos[32];
        int rc;
        snprintf(pos, sizeof(pos), "file %zu", i + 1);
        rc = quarantine(r, id, ".dcm", NULL, 0, r->in[i].path, i, pos,
                        SL_DICOM_NOT_DICOM, err);
        free(id);
        return rc;
    }
    default:
        count(r, &r->n_skipped);
        sl_log(SL_LOG_INFO, "file %zu: neither FHIR nor DICOM: skipped", i + 1);
        return SL_OK;
    }
}

/* Pass 2 worker: takes inputs in turn until none is left or one failed.
 * Output names were fixed before, so the result does not depend on the
 * number of threads. */
static int
by_size_desc(const void *a, const void *b)
{
    const off_t *x = a, *y = b; /* {size, index} pairs */
    if (x[0] != y[0])
        return x[0] > y[0] ? -1 : 1;
    return x[1] < y[1] ? -1 : x[1] > y[1];
}

/* r->order: the inputs, the largest first (an input's size as stat sees
 * it; 0 when it cannot be read, which its pass reports). */
static void
order_inputs(struct deid_run *r)
{
    off_t *pairs = sl_calloc(r->nin ? r->nin * 2 : 1, sizeof(*pairs));
    size_t i;

    for (i = 0; i < r->nin; i++) {
        struct stat st;
        pairs[2 * i] = stat(r->in[i].path, &st) == 0 ? st.st_size : 0;
        pairs[2 * i + 1] = (off_t)i;
    }
    qsort(pairs, r->nin, 2 * sizeof(*pairs), by_size_desc);
    r->order = sl_calloc(r->nin ? r->nin : 1, sizeof(*r->order));
    for (i = 0; i < r->nin; i++)
        r->order[i] = (size_t)pairs[2 * i + 1];
    free(pairs);
}

static void *
deid_worker(void *arg)
{
    struct deid_run *r = arg;

    for (;;) {
        struct sl_err err = {0};
        size_t i;

        int rc;

        pthread_mutex_lock(&r->mu);
        if (r->failed || r->next >= r->nin) {
            pthread_mutex_unlock(&r->mu);
            return NULL;
        }
        i = r->order[r->next++];
        pthread_mutex_unlock(&r->mu);
        if (!r->learning)
            rc = deid_one(r, i, &err);
        else if (r->in[i].kind == IN_NDJSON || r->in[i].kind == IN_NDJSON_GZ)
            rc = learn_ndjson(r, i, &err);
        else if (r->in[i].kind == IN_JSON)
            rc = learn_file(r, i, &err);
        else
            rc = SL_OK;
        if (rc != SL_OK) {
            pthread_mutex_lock(&r->mu);
            if (!r->failed) {
                r->failed = 1;
                r->ferr = err;
            }
            pthread_mutex_unlock(&r->mu);
            return NULL;
        }
    }
}

/* OUTDIR and QDIR are new or empty: a second run into the same folder
 * would overwrite the first one's numbered outputs and leave a manifest
 * that no longer lists what is there. */
static int
new_or_empty(const char *dir, const char *what, struct sl_err *err)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int used = 0;

    if (d == NULL)
        return errno == ENOENT ? SL_OK
                               : SL_ERR(err, SL_EIO, "%s: %s", dir,
                                        strerror(errno));
    while (!used && (e = readdir(d)) != NULL)
        used = strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    if (used)
        return SL_ERR(err, SL_EUSAGE,
                      "%s: the %s folder is not empty: sluice deid writes "
                      "into a new or empty folder, so that what is there "
                      "is exactly this run's output (remove it or choose "
                      "another)",
                      dir, what);
    return SL_OK;
}

/* QDIR must not be OUTDIR or inside it: outputs are what gets delivered. */
static int
qdir_outside(const char *outdir, const char *qdir, struct sl_err *err)
{
    char ro[PATH_MAX], rq[PATH_MAX];
    size_t n;

    if (sl_mkdir_p(outdir, err) != SL_OK || sl_mkdir_p(qdir, err) != SL_OK)
        return SL_EIO;
    if (!realpath(outdir, ro) || !realpath(qdir, rq))
        return SL_ERR(err, SL_EIO, "cannot resolve the output folders");
    n = strlen(ro);
    if (strcmp(ro, rq) == 0 || (strncmp(ro, rq, n) == 0 && rq[n] == '/'))
        return SL_ERR(err, SL_EUSAGE, "the quarantine folder must not be "
                      "inside the output folder: the output is delivered, "
                      "the quarantine still holds patient data");
    return SL_OK;
}

static int
exec_deid(const struct cli_cmd *self, struct cli_global *g, int argc,
          char **argv)
{
    static const struct option opts[] = {
        {"profile", required_argument, NULL, 'p'},
        {"key-file", required_argument, NULL, 'k'},
        {"output", required_argument, NULL, 'o'},
        {"quarantine", required_argument, NULL, 'Q'},
        {"explain", no_argument, NULL, 'e'},
        {"reid-map", required_argument, NULL, 'M'},
        {"reid-key-file", required_argument, NULL, 'K'},
        {"provenance", no_argument, NULL, 'P'},
        {NULL, 0, NULL, 0},
    };
    struct deid_run r = {0};
    struct sl_err err = {0};
    const char *profile = "basic", *keyfile = NULL, *outdir = NULL;
    const char *reid_map = NULL, *reid_keyfile = NULL;
    struct sl_keys *reid_key = NULL;
    char *qdir = NULL, *dicom_out = NULL, *desc = NULL;
    int c, explain = 0, rc = SL_OK, has_fhir = 0, has_dicom = 0, ex;
    unsigned long nfhir = 0;
    char *names[] = {(char *)"path", (char *)"sync"}, *values[2];
    size_t i;
    char msg[256];

    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":p:k:o:Q:e", opts, NULL)) != -1) {
        switch (c) {
        case 'p': profile = optarg; break;
        case 'k': keyfile = optarg; break;
        case 'o': outdir = optarg; break;
        case 'Q': qdir = sl_strdup(optarg); break;
        case 'e': explain = 1; break;
        case 'M': reid_map = optarg; break;
        case 'K': reid_keyfile = optarg; break;
        case 'P': r.provenance = 1; break;
        case ':':
            free(qdir);
            return cli_usage_error(self, "%s needs a value", argv[optind - 1]);
        default:
            free(qdir);
            return cli_usage_error(self, "unknown option %s", argv[optind - 1]);
        }
    }
    if (keyfile == NULL || outdir == NULL || optind >= argc) {
        free(qdir);
        return cli_usage_error(self, "--key-file, -o and at least one INPUT "
                                     "are needed");
    }
    if ((reid_map == NULL) != (reid_keyfile == NULL)) {
        free(qdir);
        return cli_usage_error(self, "--reid-map and --reid-key-file go "
                                     "together");
    }
    if (qdir == NULL) {
        size_t n = strlen(outdir);
        while (n > 1 && outdir[n - 1] == '/')
            n--;
        qdir = sl_asprintf("%.*s.quarantine", (int)n, outdir);
    }
    r.outdir = outdir;
    r.qdir = qdir;
    sl_time_iso(r.recorded, sizeof(r.recorded));
    pthread_mutex_init(&r.mu, NULL);
    if ((rc = sl_keys_load_file(keyfile, &r.keys, &err)) != SL_OK)
        goto fail;
    if ((rc = sl_profile_chain_load(profile, &r.chain, &err)) != SL_OK)
        goto fail;
    if (reid_map != NULL) {
        if ((rc = sl_keys_load_file(reid_keyfile, &reid_key, &err)) != SL_OK)
            goto fail;
        if (sl_keys_equal(reid_key, r.keys)) {
            rc = SL_ERR(&err, SL_EKEY,
                        "%s: the re-identification key must differ from "
                        "the pseudonym key (make one with 'sluice keygen')",
                        reid_keyfile);
            goto fail;
        }
        if ((rc = sl_reid_open(reid_map, reid_key, &r.reid, &err)) != SL_OK)
            goto fail;
    }
    if ((rc = new_or_empty(outdir, "output", &err)) != SL_OK ||
        (rc = new_or_empty(qdir, "quarantine", &err)) != SL_OK ||
        (rc = qdir_outside(outdir, qdir, &err)) != SL_OK)
        goto fail;
    if ((rc = collect_inputs(&r, argc - optind, argv + optind, &err)) != SL_OK)
        goto fail;
    r.fhir_no = sl_calloc(r.nin ? r.nin : 1, sizeof(*r.fhir_no));
    for (i = 0; i < r.nin; i++) {
        int is_fhir = r.in[i].kind == IN_JSON || r.in[i].kind == IN_NDJSON ||
                      r.in[i].kind == IN_NDJSON_GZ;
        has_fhir |= is_fhir;
        has_dicom |= r.in[i].kind == IN_DICOM;
        if (is_fhir)
            r.fhir_no[i] = ++nfhir;
    }
    if ((rc = sl_fhir_deid_new(r.chain, r.keys, &r.fhir, &err)) != SL_OK)
        goto fail;
    sl_fhir_deid_set_explain(r.fhir, explain);
    if (has_dicom) {
        if (sl_dicom_init(msg, sizeof(msg)) != 0) {
            rc = SL_ERR(&err, SL_EDICOM, "%s", msg);
            goto fail;
        }
        if ((rc = sl_dicom_deid_new(r.chain, r.keys, &r.dicom, &err)) != SL_OK)
            goto fail;
        dicom_out = sl_path_join(outdir, "dicom");
        values[0] = dicom_out;
        values[1] = (char *)"end"; /* one syncfs at the end: a crash of a
                                      one-shot command means running it
                                      again */
        r.sink_node.id = (char *)"output";
        r.sink_node.nattr = 2;
        r.sink_node.names = names;
        r.sink_node.values = values;
        if ((rc = sl_sink_dicom_folder.open(NULL, &r.sink_node, "deid", NULL,
                                            &r.dicom_sink, &err)) != SL_OK)
            goto fail;
    }
    order_inputs(&r);
    /* pass 1: learn every patient across all FHIR inputs; pass 2:
     * de-identify. Both on --jobs threads. */
    for (r.learning = has_fhir; r.learning >= 0; r.learning--) {
        int nthreads = g->jobs > 0 ? g->jobs : 1, started = 0, t;
        pthread_t *th = sl_calloc((size_t)nthreads, sizeof(*th));
        r.next = 0;
        for (t = 0; t < nthreads; t++)
            if (pthread_create(&th[t], NULL, deid_worker, &r) == 0)
                started++;
        if (started == 0)
            deid_worker(&r);
        for (t = 0; t < started; t++)
            pthread_join(th[t], NULL);
        free(th);
        if (r.failed) {
            err = r.ferr;
            rc = err.code ? err.code : SL_EINTERNAL;
            goto fail;
        }
    }
    if (r.dicom_sink &&
        (rc = sl_sink_dicom_folder.finish(r.dicom_sink, &err)) != SL_OK)
        goto fail;
    if (r.reid != NULL) {
        rc = sl_reid_close(r.reid, &err);
        r.reid = NULL;
        if (rc != SL_OK)
            goto fail;
    }
    if (explain) {
        desc = sl_profile_chain_describe(r.chain);
        printf("profile chain: %s\n", desc);
        sl_fhir_deid_explain(r.fhir, stdout);
        if (r.dicom)
            sl_dicom_deid_explain(r.dicom, stdout);
    }
    fprintf(stderr, "sluice deid: %lu de-identified, %lu quarantined%s%s, "
                    "%lu skipped (neither FHIR nor DICOM)\n",
            r.n_out, r.n_quarantined, r.n_quarantined ? " in " : "",
            r.n_quarantined ? qdir : "", r.n_skipped);
    ex = r.n_quarantined ? SL_EXIT_QUARANTINED : SL_EXIT_OK;
    rmdir(qdir); /* made up front to check where it is; gone when empty */
    goto out;
fail:
    ex = cli_fail(&err);
out:
    if (r.dicom_sink)
        sl_sink_dicom_folder.close(r.dicom_sink);
    sl_fhir_deid_free(r.fhir);
    sl_dicom_deid_free(r.dicom);
    sl_profile_chain_free(r.chain);
    sl_reid_close(r.reid, NULL); /* after a failure: what was written */
    sl_keys_free(reid_key);
    sl_keys_free(r.keys);
    for (i = 0; i < r.nin; i++)
        free(r.in[i].path);
    free(r.in);
    free(r.fhir_no);
    free(r.order);
    free(r.owners);
    pthread_mutex_destroy(&r.mu);
    free(qdir);
    free(dicom_out);
    free(desc);
    return ex;
}

const struct cli_cmd cli_cmd_deid = {
    "deid",
    "[--profile NAME|FILE] --key-file KEYFILE -o OUTDIR [--quarantine QDIR] "
    "[--explain] [--provenance] [--reid-map FILE --reid-key-file KEY2] "
    "INPUT...",
    "de-identify FHIR and DICOM files with one key",
    "INPUT: files or folders (recursive): FHIR R4 .json resources or Bundles,\n"
    ".ndjson, .ndjson.gz; DICOM Part-10 files (and datasets without meta\n"
    "information), recognised by content. One key for everything: a\n"
    "patient's FHIR record and images get the same pseudonyms and the same\n"
    "date shift.\n"
    "\n"
    "Profiles (in profiles/deid/, schema-checked XML):\n"
    "  basic         the Safe Harbor list (45 CFR 164.514(b)(2)) for FHIR and\n"
    "                the PS3.15 Basic Profile for DICOM; identifiers become\n"
    "                keyed pseudonyms (HMAC-SHA256 of the value), dates the\n"
    "                year (DICOM: removed or dummied). Pseudonymisation over\n"
    "                the Safe Harbor list, NOT a 164.514(c) de-identification:\n"
    "                the pseudonyms are derived from identifiers\n"
    "  longitudinal  basic, with dates shifted by a per-patient number of\n"
    "                days from the key (DICOM: Retain Longitudinal Temporal\n"
    "                Information with Modified Dates)\n"
    "  safe-harbor   FHIR identifiers removed instead of pseudonymised, free\n"
    "                text removed (ids and UIDs stay keyed so references\n"
    "                resolve: use a throwaway key for no linkage); DICOM as\n"
    "                basic\n"
    "  A site profile extends one of them and overrides rules (FHIR paths and\n"
    "  data types; DICOM tags, private creators, VRs, 50xx/60xx, options such\n"
    "  as retain-uids or clean-structured-content, <pixels> rules).\n"
    "\n"
    "Options:\n"
    "  -p, --profile NAME|FILE  basic (default), longitudinal, safe-harbor,\n"
    "                           or a site profile that extends one of them\n"
    "  -k, --key-file FILE      the key: the file's bytes, one trailing newline\n"
    "                           ignored, at least 32 ('sluice keygen > FILE')\n"
    "  -o, --output OUTDIR      where de-identified data goes (a new or\n"
    "                           empty folder): OUTDIR/fhir (same kind as\n"
    "                           each input), OUTDIR/dicom\n"
    "                           (PATIENT/STUDY/SERIES/SOP.dcm, by pseudonyms)\n"
    "  -Q, --quarantine QDIR    what could not be made safe, each with a\n"
    "                           reason file (default OUTDIR.quarantine; never\n"
    "                           inside OUTDIR; new or empty)\n"
    "  -e, --explain            print, per rule, the element paths and tags it\n"
    "                           touched and how many times (never values)\n"
    "  -j, --jobs N             files de-identified at once (default: number\n"
    "                           of cores); the output does not depend on it\n"
    "      --provenance         add to each FHIR output a Provenance that\n"
    "                           names the profile chain and sluice, and\n"
    "                           targets the resources written: one more\n"
    "                           entry of a Bundle (POST in a transaction),\n"
    "                           one more line of NDJSON, or\n"
    "                           NNNNNN.provenance.json beside a resource\n"
    "  --reid-map FILE          also append original -> pseudonym pairs\n"
    "                           (PatientID, Study/Series/SOP Instance UID,\n"
    "                           AccessionNumber; FHIR Patient MRNs) to FILE,\n"
    "                           each encrypted with AES-256-GCM; off by\n"
    "                           default. Read it with 'sluice reid'\n"
    "  --reid-key-file KEY2     the map's key: at least 32 bytes and not the\n"
    "                           --key-file key\n"
    "\n"
    "Output names never come from input names. Nothing printed comes from\n"
    "the data: a quarantined item is named by its id; its reason file keeps\n"
    "the input path. Exit 0 when everything was de-identified, 3 when some\n"
    "items were quarantined.\n"
    "\n"
    "Methods, what Safe Harbor covers and what it does not, how pseudonyms\n"
    "and date shifts are derived, the DICOM options and pixel data: see\n"
    "docs/deid.md and sluice(1).\n",
    exec_deid,
};

