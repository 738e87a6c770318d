/* cmd_timeline.c - sluice timeline: one table of a patient's (or every
 * patient's) events from de-identified FHIR and DICOM outputs, in time
 * order. The command line is a contract:
 *
 *   sluice timeline [--patient PSEUDONYM] INPUT... -o OUT
 *
 * FHIR files (.json Bundles or resources, .ndjson, gzipped or not) give
 * one event per clinical resource (its time, code, value); DICOM files
 * give one event per series (its date and time, modality, number of
 * instances). The patient of a FHIR event is its subject's Patient id;
 * a DICOM PatientID that is the identifier of a FHIR Patient (the MRN
 * pseudonym is both after `sluice deid`) joins that patient. Times with
 * an offset are put in UTC (precision kept), so that events sort by the
 * instant; dates without a time sort before the times of their day.
 *
 * Memory stays bounded: events are kept as short lines, sorted in runs
 * of at most RUN_BYTES written to a private folder beside OUT, then
 * merged. Nothing printed comes from the data: inputs are named by
 * number, lines by number. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <zlib.h>

#include "cli/cli.h"
#include "cli/timeline.h"
#include "dicom/dicom.h"
#include "sources/gz_lines.h"

#define RUN_BYTES (32u << 20)

/* ---- the events: lines "patient \t time \t source \t type \t system \t
 * code \t display \t value \t unit", sorted as text ---------------------- */

static int
cmp_line(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorts the lines in memory and writes them as one run file. */
static int
spill(struct tl *t, struct sl_err *err)
{
    char *path;
    FILE *f;
    size_t i;

    if (t->lines.n == 0)
        return SL_OK;
    qsort(t->lines.v, t->lines.n, sizeof(*t->lines.v), cmp_line);
    path = sl_asprintf("%s/run%zu", t->tmpdir, t->nruns);
    f = fopen(path, "w");
    free(path);
    if (f == NULL)
        return SL_ERR(err, SL_EIO, "cannot write a run file of the timeline "
                      "(%s)", strerror(errno));
    for (i = 0; i < t->lines.n; i++)
        fprintf(f, "%s\n", t->lines.v[i]);
    if (fclose(f) != 0)
        return SL_ERR(err, SL_EIO, "cannot write a run file of the timeline "
                      "(%s)", strerror(errno));
    t->nruns++;
    sl_strv_free(&t->lines);
    memset(&t->lines, 0, sizeof(t->lines));
    t->bytes = 0;
    return SL_OK;
}

static void
add_clean(struct sl_buf *b, const char *s, int last)
{
    for (; s && *s; s++)
        sl_buf_addc(b, *s == '\t' || *s == '\n' || *s == '\r' ? ' ' : *s);
    if (!last)
        sl_buf_addc(b, '\t');
}

int
tl_event(struct tl *t, const char *patient, const char *time,
         const char *source, const char *type, const char *system,
         const char *code, const char *display, const char *value,
         const char *unit)
{
    char norm[64];
    struct sl_buf b;
    struct sl_err err = {0};

    if (patient == NULL || time == NULL)
        return SL_OK;
    if (sl_term_time_utc(time, norm, sizeof(norm)) >= 0)
        time = norm;
    sl_buf_init(&b);
    add_clean(&b, patient, 0);
    add_clean(&b, time, 0);
    add_clean(&b, source, 0);
    add_clean(&b, type, 0);
    add_clean(&b, system, 0);
    add_clean(&b, code, 0);
    add_clean(&b, display, 0);
    add_clean(&b, value, 0);
    add_clean(&b, unit, 1);
    t->bytes += b.len + sizeof(char *);
    sl_strv_push_owned(&t->lines, sl_buf_steal(&b));
    if (t->bytes > t->run_bytes && spill(t, &err) != SL_OK) {
        sl_log(SL_LOG_ERROR, "%s", err.msg);
        return SL_EIO;
    }
    return SL_OK;
}

/* ---- output -------------------------------------------------------------- */

static const char *const cols[] = {"patient", "time", "source", "type",
                                   "system", "code", "display", "value",
                                   "unit"};

static void
csv_field(FILE *f, const char *s, size_t n)
{
    size_t i;
    int quote = 0;

    for (i = 0; i < n; i++)
        quote |= s[i] == ',' || s[i] == '"';
    if (!quote) {
        fwrite(s, 1, n, f);
        return;
    }
    fputc('"', f);
    for (i = 0; i < n; i++) {
        if (s[i] == '"')
            fputc('"', f);
        fputc(s[i], f);
    }
    fputc('"', f);
}

static int
is_number(const char *s, size_t n)
{
    json_t *j;
    int ok;

    if (n == 0 || n > 40)
        return 0;
    j = json_loadb(s, n, JSON_DECODE_ANY, NULL);
    ok = json_is_number(j);
    json_decref(j);
    return ok;
}

/* One event line to out, if its patient is wanted. */
static void
put(struct tl *t, FILE *out, const char *line)
{
    const char *f[9];
    size_t n[9], k;
    const char *p = line;

    for (k = 0; k < 9; k++) {
        const char *tab = strchr(p, '\t');
        f[k] = p;
        n[k] = tab ? (size_t)(tab - p) : strcspn(p, "\n");
        p = tab ? tab + 1 : p + n[k];
    }
    if (t->patient != NULL && !tl_patient_wanted(t, f[0], n[0]))
        return;
    t->written++;
    if (t->csv) {
        for (k = 0; k < 9; k++) {
            if (k)
                fputc(',', out);
            csv_field(out, f[k], n[k]);
        }
        fputc('\n', out);
        return;
    }
    fputc('{', out);
    for (k = 0; k < 9; k++) {
        if (n[k] == 0)
            continue;
        if (k)
            fputc(',', out);
        fprintf(out, "\"%s\":", cols[k]);
        if (k == 7 && is_number(f[k], n[k])) {
            fwrite(f[k], 1, n[k], out);
            continue;
        }
        {
            json_t *s = json_stringn(f[k], n[k]);
            char *d = s ? json_dumps(s, JSON_ENCODE_ANY) : NULL;
            fputs(d ? d : "\"\"", out);
            free(d);
            json_decref(s);
        }
    }
    fputs("}\n", out);
}

/* Merges the sorted runs into out. */
static int
merge(struct tl *t, FILE *out, struct sl_err *err)
{
    FILE **in = sl_calloc(t->nruns, sizeof(*in));
    char **cur = sl_calloc(t->nruns, sizeof(*cur));
    size_t *cap = sl_calloc(t->nruns, sizeof(*cap));
    size_t i, best;
    int rc = SL_OK;

    for (i = 0; i < t->nruns; i++) {
        char *path = sl_asprintf("%s/run%zu", t->tmpdir, i);
        in[i] = fopen(path, "r");
        free(path);
        if (in[i] == NULL) {
            rc = SL_ERR(err, SL_EIO, "cannot read a run file of the "
                        "timeline (%s)", strerror(errno));
            goto out;
        }
        if (getline(&cur[i], &cap[i], in[i]) < 0) {
            free(cur[i]);
            cur[i] = NULL;
        }
    }
    for (;;) {
        best = t->nruns;
        for (i = 0; i < t->nruns; i++)
            if (cur[i] && (best == t->nruns || strcmp(cur[i], cur[best]) < 0))
                best = i;
        if (best == t->nruns)
            break;
        put(t, out, cur[best]);
        if (getline(&cur[best], &cap[best], in[best]) < 0) {
            free(cur[best]);
            cur[best] = NULL;
        }
    }
out:
    for (i = 0; i < t->nruns; i++) {
        if (in[i])
            fclose(in[i]);
        free(cur[i]);
    }
    free(in);
    free(cur);
    free(cap);
    return rc;
}

static void
tmp_remove(struct tl *t)
{
    size_t i;

    if (t->tmpdir == NULL)
        return;
    for (i = 0; i < t->nruns; i++) {
        char *path = sl_asprintf("%s/run%zu", t->tmpdir, i);
        unlink(path);
        free(path);
    }
    rmdir(t->tmpdir);
}

/* ---- the command ------------------------------------------------------- */

static int
exec_timeline(const struct cli_cmd *self, struct cli_global *g, int argc,
              char **argv)
{
    static const struct option opts[] = {
        {"patient", required_argument, NULL, 'p'},
        {"output", required_argument, NULL, 'o'},
        {"format", required_argument, NULL, 'f'},
        {NULL, 0, NULL, 0},
    };
    struct sl_err err = {0};
    struct tl t;
    const char *outpath = NULL, *format = NULL;
    char *tmpout = NULL;
    FILE *out = NULL;
    int c, rc = SL_OK, ex, i, fd;

    (void)g;
    memset(&t, 0, sizeof(t));
    t.run_bytes = RUN_BYTES;
    {
        /* for the tests: small runs, so that merging is exercised */
        const char *rb = getenv("SLUICE_TIMELINE_RUN_BYTES");
        long v;
        if (rb && sl_parse_long(rb, 1, RUN_BYTES, &v) == 0)
            t.run_bytes = (size_t)v;
    }
    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":p:o:f:", opts, NULL)) != -1) {
        switch (c) {
        case 'p': t.patient = optarg; break;
        case 'o': outpath = optarg; break;
        case 'f': format = optarg; break;
        case ':':
            return cli_usage_error(self, "%s needs a value", argv[optind - 1]);
        default:
            return cli_usage_error(self, "unknown option %s",
                                   argv[optind - 1]);
        }
    }
    if (outpath == NULL || optind >= argc)
        return cli_usage_error(self, "-o and at least one INPUT are needed");
    if (format == NULL)
        format = sl_str_has_suffix(outpath, ".csv") ? "csv" : "ndjson";
    if (strcmp(format, "csv") != 0 && strcmp(format, "ndjson") != 0)
        return cli_usage_error(self, "--format is csv or ndjson");
    t.csv = strcmp(format, "csv") == 0;
    for (i = optind; i < argc; i++)
        if (!sl_path_exists(argv[i]))
            return cli_usage_error(self, "input %d does not exist",
                                   i - optind + 1);
    if (sl_path_exists(outpath))
        return cli_usage_error(self, "-o: the output file exists (remove it "
                                     "or choose another)");
    /* run files and the output beside OUT, private, renamed at the end */
    {
        char *dir = sl_path_dir(outpath);
        char *tmpl = sl_asprintf("%s/.timeline-XXXXXX", dir);
        free(dir);
        t.tmpdir = mkdtemp(tmpl) ? tmpl : NULL;
        if (t.tmpdir == NULL) {
            free(tmpl);
            rc = SL_ERR(&err, SL_EIO, "cannot make a folder beside the "
                        "output (%s)", strerror(errno));
            goto fail;
        }
    }
    if ((rc = tl_read_inputs(&t, (const char *const *)argv + optind,
                             argc - optind, &err)) != SL_OK ||
        (rc = tl_dicom_flush(&t)) != SL_OK || (rc = spill(&t, &err)) != SL_OK)
        goto fail;
    tmpout = sl_asprintf("%s/out", t.tmpdir);
    fd = sl_open_new(tmpout, 0644);
    out = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (out == NULL) {
        rc = SL_ERR(&err, SL_EIO, "cannot write the output (%s)",
                    strerror(errno));
        goto fail;
    }
    if (t.csv) {
        for (i = 0; i < 9; i++)
            fprintf(out, "%s%s", i ? "," : "", cols[i]);
        fputc('\n', out);
    }
    if ((rc = merge(&t, out, &err)) != SL_OK)
        goto fail;
    if (fclose(out) != 0) {
        out = NULL;
        rc = SL_ERR(&err, SL_EIO, "cannot write the output (%s)",
                    strerror(errno));
        goto fail;
    }
    out = NULL;
    if (rename(tmpout, outpath) != 0) {
        rc = SL_ERR(&err, SL_EIO, "cannot move the output in place (%s)",
                    strerror(errno));
        goto fail;
    }
    fprintf(stderr, "sluice timeline: %llu events written, %llu inputs "
                    "skipped\n",
            (unsigned long long)t.written, (unsigned long long)t.skipped);
    ex = t.skipped ? SL_EXIT_QUARANTINED : SL_EXIT_OK;
    goto out;
fail:
    ex = cli_fail(&err);
out:
    if (out)
        fclose(out);
    if (tmpout) {
        unlink(tmpout);
        free(tmpout);
    }
    tmp_remove(&t);
    tl_free(&t);
    return ex;
}

const struct cli_cmd cli_cmd_timeline = {
    "timeline",
    "[--patient PSEUDONYM] [--format csv|ndjson] INPUT... -o OUT",
    "one table of each patient's events from FHIR and DICOM, in time order",
    "INPUT: files or folders (recursive) of de-identified FHIR R4 (.json\n"
    "resources or Bundles, .ndjson, gzipped or not) and DICOM files.\n"
    "Each clinical FHIR resource (Encounter, Observation, Condition,\n"
    "Procedure, MedicationRequest, MedicationAdministration,\n"
    "MedicationStatement, DiagnosticReport, ImagingStudy, Immunization,\n"
    "AllergyIntolerance) is one event: its time, code and value; each DICOM\n"
    "series is one event: its date and time, modality and number of\n"
    "instances. Events are sorted by patient, then time; times with an\n"
    "offset are given in UTC, precision kept.\n"
    "\n"
    "Options:\n"
    "  -p, --patient PSEUDONYM  only this patient: a Patient id, one of its\n"
    "                           identifiers (the MRN pseudonym) or a DICOM\n"
    "                           PatientID\n"
    "  -o, --output OUT         the table (a new file): CSV when it ends in\n"
    "                           .csv, else NDJSON\n"
    "  -f, --format csv|ndjson  the format, whatever OUT's name\n"
    "\n"
    "Columns: patient, time, source (fhir or dicom), type (resource type or\n"
    "modality), system, code, display, value, unit. A DICOM PatientID that\n"
    "is the identifier of a FHIR Patient is given as that Patient's id.\n"
    "An input that cannot be read (not JSON, not DICOM) is named by number\n"
    "and line on stderr and skipped; the others are read.\n"
    "\n"
    "Exit status: 0 done, 1 usage error, 2 runtime failure, 3 done but some\n"
    "inputs were skipped. See docs/terminology.md.\n",
    exec_timeline,
};
