/* report_html.c - a run's report as one self-contained HTML page: no
 * external assets, charts as inline SVG, print styles. Made from what the
 * state store keeps of the run (its summary, its quarantined items'
 * reasons, its audit records) and of the job's recent runs. Nothing in it
 * is patient data: counts, types, codes, reasons, ids, times. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli/report.h"
#include "state/quarantine.h"
#include "state/state.h"

/* ---- writing --------------------------------------------------------------- */

static void
esc(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '&':
            fputs("&amp;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        default:
            fputc(*s, f);
        }
    }
}

struct bar {
    char *label;
    double v[3]; /* up to three stacked parts */
};

static const char *const colours[3] = { "#2f6f9f", "#c0392b", "#9aa5ad" };

/* A horizontal bar chart, each bar of up to nparts stacked parts. */
static void
bar_chart_d(FILE *f, const char *title, const char *const *parts, int nparts,
            const struct bar *b, size_t n, int dec)
{
    double max = 0;
    size_t i;
    int p, w = 760, row = 22, left = 330, h;

    for (i = 0; i < n; i++) {
        double t = 0;
        for (p = 0; p < nparts; p++)
            t += b[i].v[p];
        if (t > max)
            max = t;
    }
    h = (int)n * row + (nparts > 1 ? 40 : 10);
    fprintf(f, "<figure><figcaption>");
    esc(f, title);
    fprintf(f, "</figcaption>\n<svg class=\"chart\" role=\"img\" "
               "xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
               "height=\"%d\" viewBox=\"0 0 %d %d\"><title>",
            w, h, w, h);
    esc(f, title);
    fputs("</title>\n", f);
    if (n == 0)
        fprintf(f, "<text x=\"0\" y=\"16\" class=\"none\">none</text>\n");
    for (i = 0; i < n; i++) {
        double x = left;
        int y = (int)i * row;
        fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\"><title>",
                left - 6, y + 15);
        esc(f, b[i].label);
        fputs("</title>", f);
        if (strlen(b[i].label) > 48) {
            /* long reasons: the start shows, all of it on hover */
            char *s = sl_strndup(b[i].label, 45);
            esc(f, s);
            fputs("...", f);
            free(s);
        } else {
            esc(f, b[i].label);
        }
        fputs("</text>", f);
        for (p = 0; p < nparts; p++) {
            double bw = max > 0 ? b[i].v[p] / max * (w - left - 70) : 0;
            if (bw > 0)
                fprintf(f, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" "
                           "height=\"16\" fill=\"%s\"><title>%s: %.*f"
                           "</title></rect>",
                        x, y + 3, bw, colours[p], parts[p], dec, b[i].v[p]);
            x += bw;
        }
        fprintf(f, "<text x=\"%.1f\" y=\"%d\">", x + 4, y + 15);
        for (p = 0; p < nparts; p++)
            fprintf(f, "%s%.*f", p ? " / " : "", dec, b[i].v[p]);
        fputs("</text>\n", f);
    }
    for (p = 0; p < nparts && nparts > 1; p++)
        fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" "
                   "fill=\"%s\"/><text x=\"%d\" y=\"%d\">%s</text>",
                left + p * 130, h - 16, colours[p], left + p * 130 + 14,
                h - 7, parts[p]);
    fputs("</svg></figure>\n", f);
}

static void
bar_chart(FILE *f, const char *title, const char *const *parts, int nparts,
          const struct bar *b, size_t n)
{
    bar_chart_d(f, title, parts, nparts, b, n, 0);
}

/* A line chart of the job's runs, oldest to newest. */
static void
line_chart(FILE *f, const char *title, const double *v, const char *const *x,
           size_t n, const char *unit)
{
    int w = 640, h = 180, l = 50, b = 30;
    double max = 0;
    size_t i;

    for (i = 0; i < n; i++)
        if (v[i] > max)
            max = v[i];
    fprintf(f, "<figure><figcaption>");
    esc(f, title);
    fprintf(f, "</figcaption>\n<svg class=\"chart\" role=\"img\" "
               "xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
               "height=\"%d\" viewBox=\"0 0 %d %d\"><title>",
            w, h, w, h);
    esc(f, title);
    fprintf(f, "</title><line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
               "stroke=\"#555\"/><text x=\"0\" y=\"12\">%.0f %s</text>",
            l, h - b, w - 10, h - b, max, unit);
    if (n > 0) {
        fputs("<polyline fill=\"none\" stroke=\"#2f6f9f\" stroke-width=\"2\" "
              "points=\"",
              f);
        for (i = 0; i < n; i++)
            fprintf(f, "%.1f,%.1f ",
                    l + (n > 1 ? (double)i / (double)(n - 1) : 0.5) *
                            (w - l - 20),
                    (h - b) - (max > 0 ? v[i] / max : 0) * (h - b - 20));
        fputs("\"/>", f);
        for (i = 0; i < n; i++) {
            double cx = l + (n > 1 ? (double)i / (double)(n - 1) : 0.5) *
                                (w - l - 20);
            double cy = (h - b) - (max > 0 ? v[i] / max : 0) * (h - b - 20);
            fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" "
                       "fill=\"#2f6f9f\"><title>",
                    cx, cy);
            esc(f, x[i]);
            fprintf(f, ": %.1f %s</title></circle>", v[i], unit);
        }
        fprintf(f, "<text x=\"%d\" y=\"%d\">", l, h - 8);
        esc(f, x[0]);
        fprintf(f, "</text><text x=\"%d\" y=\"%d\" text-anchor=\"end\">",
                w - 10, h - 8);
        esc(f, x[n - 1]);
        fputs("</text>", f);
    }
    fputs("</svg></figure>\n", f);
}

/* ---- what the store holds -------------------------------------------------- */

struct audit_rows {
    const char *run;
    FILE *f;
};

static int
audit_row(void *ud, const struct sl_audit_rec *r)
{
    struct audit_rows *a = ud;

    if (r->run_id == NULL || strcmp(r->run_id, a->run) != 0)
        return 0;
    fputs("<tr><td>", a->f);
    esc(a->f, r->time);
    fputs("</td><td>", a->f);
    esc(a->f, r->action);
    fputs("</td><td>", a->f);
    esc(a->f, r->user);
    fputs("@", a->f);
    esc(a->f, r->host);
    fputs("</td><td><code>", a->f);
    esc(a->f, r->details ? r->details : "");
    fputs("</code></td></tr>\n", a->f);
    return 0;
}

/* A quarantine reason without its position ("file 2 line 7: "), so that
 * items failing the same way group together. */
static char *
reason_class(const char *reason)
{
    const char *p = reason ? reason : "?", *c = strstr(p, ": ");

    if (c && (strncmp(p, "file ", 5) == 0 || strncmp(p, "in", 2) == 0))
        p = c + 2;
    return sl_strndup(p, strlen(p) > 90 ? 90 : strlen(p));
}

static void
add_count(struct bar **v, size_t *n, const char *label, int part, double k)
{
    size_t i;

    for (i = 0; i < *n; i++)
        if (strcmp((*v)[i].label, label) == 0)
            break;
    if (i == *n) {
        *v = sl_realloc(*v, (*n + 1) * sizeof(**v));
        memset(&(*v)[i], 0, sizeof(**v));
        (*v)[i].label = sl_strdup(label);
        (*n)++;
    }
    (*v)[i].v[part] += k;
}

static void
bars_free(struct bar *v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        free(v[i].label);
    free(v);
}


static int
bar_cmp_desc(const void *a, const void *b)
{
    double x = ((const struct bar *)a)->v[0] + ((const struct bar *)a)->v[1] +
               ((const struct bar *)a)->v[2];
    double y = ((const struct bar *)b)->v[0] + ((const struct bar *)b)->v[1] +
               ((const struct bar *)b)->v[2];

    if (x != y)
        return x < y ? 1 : -1;
    return strcmp(((const struct bar *)a)->label,
                  ((const struct bar *)b)->label);
}

/* "12.3 MB": bytes for people */
static void
put_bytes(FILE *f, double v)
{
    static const char *const u[] = { "B", "kB", "MB", "GB", "TB" };
    int i = 0;

    while (v >= 1000 && i < 4) {
        v /= 1000;
        i++;
    }
    fprintf(f, i ? "%.1f %s" : "%.0f %s", v, u[i]);
}

static void
not_recorded(FILE *f, const json_t *sum, const char *key)
{
    if (json_object_get(sum, key) == NULL)
        fputs("<p class=\"muted\">Not recorded for this run (made by an "
              "older sluice).</p>\n",
              f);
}

/* Time per stage (summed over the workers, so it can exceed the run's
 * time), then items and bytes per source and per target. */
static void
section_stages(FILE *f, const json_t *sum)
{
    static const char *const parts[] = { "seconds" };
    struct bar *b = NULL;
    size_t n = 0;
    const char *k;
    json_t *v;
    int t;

    fputs("<h2>Time per stage</h2>\n", f);
    not_recorded(f, sum, "stages");
    json_object_foreach(json_object_get(sum, "stages"), k, v)
        add_count(&b, &n, k, 0, json_number_value(json_array_get(v, 3)));
    bar_chart_d(f, "Seconds per stage (all workers) and per target's write",
                parts, 1, b, n, 2);
    bars_free(b, n);
    fputs("<h2>Sources and targets</h2>\n<table class=\"parts\"><thead><tr>"
          "<th></th><th>id</th><th>items</th><th>bytes</th><th>errors</th>"
          "<th>retries</th></tr></thead>\n",
          f);
    for (t = 0; t < 2; t++) {
        const char *what = t ? "targets" : "sources";
        json_object_foreach(json_object_get(sum, what), k, v) {
            fprintf(f, "<tr><td>%s</td><td>", t ? "target" : "source");
            esc(f, k);
            fprintf(f, "</td><td>%lld</td><td>",
                    (long long)json_integer_value(json_array_get(v, 0)));
            put_bytes(f, (double)json_integer_value(json_array_get(v, 1)));
            fprintf(f, "</td><td>%lld</td><td>%lld</td></tr>\n",
                    (long long)json_integer_value(json_array_get(v, 2)),
                    (long long)json_integer_value(json_array_get(v, 4)));
        }
    }
    fputs("</table>\n<p class=\"muted\">Bytes: what sources read as text or "
          "files (resources of Bundle files count none) and what the stages "
          "handed each target; errors: unreadable input, items a target "
          "refused; retries: requests tried again after a 429, a 5xx or a "
          "lost connection.</p>\n",
          f);
}

/* Items per second over the run, between the points of its timeline
 * (each attempt's start and each checkpoint, about every 2 s). */
static void
section_timeline(FILE *f, const json_t *sum)
{
    const json_t *tl = json_object_get(sum, "timeline");
    size_t n = json_array_size(tl), m = 0, i;
    double t0 = n ? json_number_value(json_array_get(json_array_get(tl, 0), 0))
                  : 0;
    double *v = sl_calloc(n + 1, sizeof(*v));
    char **xs = sl_calloc(n + 1, sizeof(*xs));

    not_recorded(f, sum, "timeline");
    for (i = 0; i + 1 < n; i++) {
        const json_t *a = json_array_get(tl, i), *b = json_array_get(tl, i + 1);
        double ta = json_number_value(json_array_get(a, 0));
        double tb = json_number_value(json_array_get(b, 0));
        double na = (double)json_integer_value(json_array_get(a, 1));
        double nb = (double)json_integer_value(json_array_get(b, 1));

        if (tb <= ta)
            continue;
        v[m] = nb >= na ? (nb - na) / (tb - ta) : 0;
        xs[m++] = tb - t0 < 120 ? sl_asprintf("+%.0f s", tb - t0)
                                : sl_asprintf("+%.1f min", (tb - t0) / 60);
    }
    if (m > 0)
        line_chart(f, "Items per second over this run, between checkpoints",
                   v, (const char *const *)xs, m, "items/s");
    else if (n > 0)
        fputs("<p class=\"muted\">The run was too short for a throughput "
              "curve (one checkpoint).</p>\n",
              f);
    for (i = 0; i < m; i++)
        free(xs[i]);
    free(xs);
    free(v);
}

#define RULES_SHOWN 40

/* Actions per de-identification rule, the most used first. */
static void
section_rules(FILE *f, const json_t *sum)
{
    static const char *const parts[] = { "actions" };
    struct bar *b = NULL;
    size_t n = 0;
    const char *k;
    json_t *v;

    fputs("<h2>De-identification</h2>\n", f);
    not_recorded(f, sum, "rules");
    json_object_foreach(json_object_get(sum, "rules"), k, v)
        add_count(&b, &n, strncmp(k, "deid: ", 6) == 0 ? k + 6 : k, 0,
                  (double)json_integer_value(json_array_get(v, 0)));
    if (n)
        qsort(b, n, sizeof(*b), bar_cmp_desc);
    bar_chart(f, "De-identification actions per rule", parts, 1, b,
              n > RULES_SHOWN ? RULES_SHOWN : n);
    if (n > RULES_SHOWN)
        fprintf(f, "<p class=\"muted\">and %zu rules used less.</p>\n",
                n - RULES_SHOWN);
    bars_free(b, n);
}

/* Codes mapped, unmapped and untranslated per map (the translate stage's
 * findings "mapped:MAP"...), and values converted per unit table. */
static void
section_maps(FILE *f, const json_t *sum)
{
    static const char *const parts[] = { "mapped", "unmapped",
                                         "untranslated" };
    struct bar *b = NULL;
    size_t n = 0, i;
    json_t *o;

    fputs("<h2>Terminology</h2>\n", f);
    json_array_foreach(json_object_get(sum, "findings"), i, o) {
        const char *st = json_string_value(json_object_get(o, "stage"));
        const char *code = json_string_value(json_object_get(o, "code"));
        const char *c = code ? strchr(code, ':') : NULL;
        double k = (double)json_integer_value(json_object_get(o, "n"));
        int part;

        if (st == NULL || strcmp(st, "translate") != 0 || c == NULL)
            continue;
        if (strncmp(code, "mapped:", 7) == 0 ||
            strncmp(code, "converted:", 10) == 0)
            part = 0;
        else if (strncmp(code, "unmapped:", 9) == 0 ||
                 strncmp(code, "not-converted:", 14) == 0)
            part = 1;
        else
            part = 2;
        add_count(&b, &n, c + 1, part, k);
    }
    bar_chart(f, "Codes mapped and unmapped per map", parts, 3, b, n);
    bars_free(b, n);
}

/* Validation findings per profile and message: a chart, then the whole
 * messages in a table (the chart's labels are cut). */
static void
section_validation(FILE *f, const json_t *sum)
{
    static const char *const parts[] = { "error", "warning", "information" };
    struct bar *b = NULL;
    size_t n = 0, i;
    json_t *o;

    fputs("<h2>Validation</h2>\n", f);
    json_array_foreach(json_object_get(sum, "findings"), i, o) {
        const char *st = json_string_value(json_object_get(o, "stage"));
        const char *code = json_string_value(json_object_get(o, "code"));
        const char *sev = json_string_value(json_object_get(o, "severity"));

        if (st == NULL || strcmp(st, "validate") != 0 || code == NULL)
            continue;
        add_count(&b, &n, code,
                  sev && strcmp(sev, "error") == 0     ? 0
                  : sev && strcmp(sev, "warning") == 0 ? 1
                                                       : 2,
                  (double)json_integer_value(json_object_get(o, "n")));
    }
    if (n)
        qsort(b, n, sizeof(*b), bar_cmp_desc);
    bar_chart(f, "Validation findings per profile and message", parts, 3, b,
              n);
    if (n) {
        fputs("<table class=\"msgs\"><thead><tr><th>profile: message</th>"
              "<th>errors</th><th>warnings</th><th>information</th></tr>"
              "</thead>\n",
              f);
        for (i = 0; i < n; i++) {
            fputs("<tr><td>", f);
            esc(f, b[i].label);
            fprintf(f, "</td><td>%.0f</td><td>%.0f</td><td>%.0f</td></tr>\n",
                    b[i].v[0], b[i].v[1], b[i].v[2]);
        }
        fputs("</table>\n", f);
    }
    bars_free(b, n);
}

static const char style[] =
    "body{font:14px/1.4 system-ui,sans-serif;margin:2em auto;max-width:"
    "60em;color:#222;padding:0 1em}h1{font-size:1.5em;margin-bottom:.2em}"
    "h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ccc}"
    ".kpi{display:flex;gap:1em;flex-wrap:wrap}.kpi div{border:1px solid "
    "#ccc;border-radius:4px;padding:.5em 1em;min-width:7em}.kpi b{display:"
    "block;font-size:1.6em}svg.chart{max-width:100%;height:auto;font-size:"
    "12px}figure{margin:1em 0}figcaption{font-weight:600;margin-bottom:.3em}"
    "table{border-collapse:collapse;width:100%;font-size:12px}td,th{border:"
    "1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top}"
    "code{font-size:11px;word-break:break-all}.muted{color:#666}"
    ".parts td:nth-child(n+3),.msgs td:nth-child(n+2){text-align:right}"
    /* printed: A4 or Letter, black on white, charts scaled to the page
     * and never cut across pages, headings kept with what follows, table
     * heads repeated, the hover-only titles not needed */
    "@page{size:auto;margin:15mm 12mm}"
    "@media print{body{margin:0;max-width:none;padding:0;font-size:10pt;"
    "color:#000}h1{font-size:16pt}h2{font-size:12pt;break-after:avoid;"
    "page-break-after:avoid}figure,tr,.kpi{break-inside:avoid;"
    "page-break-inside:avoid}svg.chart{width:100%;height:auto}"
    "thead{display:table-header-group}.kpi div{border-color:#888}"
    "*{-webkit-print-color-adjust:exact;print-color-adjust:exact}}";

int
sl_report_write(struct sl_state *st, const char *run_id, FILE *f,
                struct sl_err *err)
{
    struct sl_run_rec *runs = NULL, *r = NULL;
    struct sl_qitem *q = NULL;
    struct bar *types = NULL, *finds = NULL, *reasons = NULL;
    size_t nruns = 0, nq = 0, ntypes = 0, nfinds = 0, nreasons = 0, i, k;
    json_t *sum = NULL, *o, *v;
    const char *key;
    int rc;

    if ((rc = sl_state_runs_list(st, NULL, 0, &runs, &nruns, err)) != SL_OK)
        return rc;
    for (i = 0; i < nruns && r == NULL; i++)
        if (strcmp(runs[i].id, run_id) == 0)
            r = &runs[i];
    if (r == NULL) {
        sl_run_recs_free(runs, nruns);
        return SL_ERR(err, SL_ENOTFOUND, "no run %s in the state store",
                      run_id);
    }
    sum = r->summary ? json_loads(r->summary, 0, NULL) : NULL;
    json_object_foreach(json_object_get(sum, "types"), key, v) {
        add_count(&types, &ntypes, key, 0,
                  (double)json_integer_value(json_array_get(v, 1)));
        add_count(&types, &ntypes, key, 1,
                  (double)json_integer_value(json_array_get(v, 2)));
    }
    json_array_foreach(json_object_get(sum, "findings"), i, o) {
        const char *fst = json_string_value(json_object_get(o, "stage"));
        char *l;
        if (fst && (strcmp(fst, "translate") == 0 ||
                    strcmp(fst, "validate") == 0))
            continue; /* their own sections */
        l = sl_asprintf(
            "%s: %s", json_string_value(json_object_get(o, "stage")),
            json_string_value(json_object_get(o, "code")));
        add_count(&finds, &nfinds, l, 0,
                  (double)json_integer_value(json_object_get(o, "n")));
        free(l);
    }
    if ((rc = sl_state_quarantine_list(st, NULL, &q, &nq, err)) != SL_OK)
        goto out;
    for (i = 0; i < nq; i++) {
        char *c, *l;
        if (q[i].run_id == NULL || strcmp(q[i].run_id, run_id) != 0)
            continue;
        c = reason_class(q[i].reason);
        l = sl_asprintf("%s: %s", q[i].stage ? q[i].stage : "?", c);
        add_count(&reasons, &nreasons, l, 0, 1);
        free(c);
        free(l);
    }

    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
          "<meta name=\"viewport\" content=\"width=device-width\">"
          "<title>sluice run ",
          f);
    esc(f, r->id);
    fprintf(f, "</title><style>%s</style></head><body>\n", style);
    fputs("<h1>Run ", f);
    esc(f, r->id);
    fputs("</h1>\n<p class=\"muted\">job <b>", f);
    esc(f, r->job);
    fputs("</b> &middot; ", f);
    esc(f, r->status);
    fputs(" &middot; started ", f);
    esc(f, r->started);
    if (r->finished[0]) {
        fputs(", ended ", f);
        esc(f, r->finished);
    }
    fprintf(f, " &middot; %d attempt%s &middot; sluice %s</p>\n", r->attempts,
            r->attempts == 1 ? "" : "s", PACKAGE_VERSION);
    fprintf(f, "<div class=\"kpi\"><div><b>%llu</b>items in</div><div><b>"
               "%llu</b>delivered</div><div><b>%llu</b>quarantined</div>"
               "<div><b>%lld</b>skipped</div></div>\n",
            (unsigned long long)r->in, (unsigned long long)r->out,
            (unsigned long long)r->quarantined,
            (long long)json_integer_value(json_object_get(sum, "skipped")));

    fputs("<h2>Items by type</h2>\n", f);
    {
        static const char *const parts[] = { "delivered", "quarantined" };
        bar_chart(f, "Items by resource type or modality", parts, 2, types,
                  ntypes);
    }
    section_stages(f, sum);
    section_rules(f, sum);
    section_maps(f, sum);
    section_validation(f, sum);
    fputs("<h2>Other findings</h2>\n", f);
    {
        static const char *const parts[] = { "items" };
        bar_chart(f, "Findings of the other stages and targets, by stage and code",
                  parts, 1, finds, nfinds);
        fputs("<h2>Quarantine</h2>\n", f);
        bar_chart(f, "Quarantined items by stage and reason", parts, 1,
                  reasons, nreasons);
    }
    fputs("<h2>Throughput</h2>\n", f);
    section_timeline(f, sum);
    /* the job's runs, oldest first: throughput from run to run */
    {
        double *tp = sl_calloc(nruns + 1, sizeof(*tp));
        const char **xs = sl_calloc(nruns + 1, sizeof(*xs));
        size_t m = 0;

        for (k = nruns; k-- > 0 && m < 30;) {
            struct tm a, b;
            double secs;
            if (strcmp(runs[k].job, r->job) != 0 || !runs[k].finished[0])
                continue;
            memset(&a, 0, sizeof(a));
            memset(&b, 0, sizeof(b));
            if (!strptime(runs[k].started, "%Y-%m-%dT%H:%M:%SZ", &a) ||
                !strptime(runs[k].finished, "%Y-%m-%dT%H:%M:%SZ", &b))
                continue;
            secs = difftime(timegm(&b), timegm(&a));
            tp[m] = (double)runs[k].in / (secs < 1 ? 1 : secs);
            xs[m++] = runs[k].started;
        }
        line_chart(f, "Items per second, the job's recent runs", tp, xs, m,
                   "items/s");
        free(tp);
        free(xs);
    }
    fputs("<h2>Audit trail of the run</h2>\n<table><tr><th>time</th><th>"
          "action</th><th>by</th><th>details</th></tr>\n",
          f);
    {
        struct audit_rows a = { run_id, f };
        rc = sl_state_audit_scan(st, audit_row, &a, err);
    }
    fputs("</table>\n<p class=\"muted\">This report holds counts, types, "
          "codes, reasons and ids, never patient data. Made by <code>sluice "
          "report</code> from the state store.</p>\n</body></html>\n",
          f);
out:
    sl_quarantine_items_free(q, nq);
    bars_free(types, ntypes);
    bars_free(finds, nfinds);
    bars_free(reasons, nreasons);
    json_decref(sum);
    sl_run_recs_free(runs, nruns);
    return rc;
}
