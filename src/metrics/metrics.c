/* metrics.c - the daemon's metrics and their HTTP endpoint (metrics.h). */
#include "config.h"

#include "metrics/metrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <jansson.h>
#include <microhttpd.h>

/* One series: its metric family and its label set, already rendered. */
struct series {
    char *family;
    char *labels; /* {a="b",...} or "" */
    double v;
};

static const double buckets[] = { 1, 5, 15, 60, 300, 900, 3600, 14400 };
#define NBUCKETS (sizeof(buckets) / sizeof(buckets[0]))
/* a stage's or a target's time in one run */
static const double part_buckets[] = { 0.01, 0.1, 1, 10, 60, 300, 1800,
                                       7200 };
#define NPART_BUCKETS (sizeof(part_buckets) / sizeof(part_buckets[0]))

struct sl_metrics {
    struct MHD_Daemon *httpd;
    pthread_mutex_t mu;
    struct series *s;
    size_t n;
    int ready;
};

/* Prometheus label value escaping: backslash, quote, newline. */
static void
label(struct sl_buf *b, const char *k, const char *v, int first)
{
    sl_buf_addf(b, "%s%s=\"", first ? "" : ",", k);
    for (; v && *v; v++) {
        if (*v == '\\' || *v == '"')
            sl_buf_addf(b, "\\%c", *v);
        else if (*v == '\n')
            sl_buf_adds(b, "\\n");
        else
            sl_buf_addf(b, "%c", *v);
    }
    sl_buf_adds(b, "\"");
}

/* {k1="v1",k2="v2"}: pairs of strings, NULL-terminated. */
static char *
labels(const char *k, ...)
{
    struct sl_buf b;
    va_list ap;
    int first = 1;

    sl_buf_init(&b);
    sl_buf_adds(&b, "{");
    va_start(ap, k);
    while (k) {
        const char *v = va_arg(ap, const char *);
        label(&b, k, v, first);
        first = 0;
        k = va_arg(ap, const char *);
    }
    va_end(ap);
    sl_buf_adds(&b, "}");
    return sl_buf_steal(&b);
}

/* The series, made when missing; called with mu held. */
static struct series *
get(struct sl_metrics *m, const char *family, char *lab)
{
    size_t i;

    for (i = 0; i < m->n; i++)
        if (strcmp(m->s[i].family, family) == 0 &&
            strcmp(m->s[i].labels, lab) == 0) {
            free(lab);
            return &m->s[i];
        }
    m->s = sl_realloc(m->s, (m->n + 1) * sizeof(*m->s));
    m->s[m->n].family = sl_strdup(family);
    m->s[m->n].labels = lab;
    m->s[m->n].v = 0;
    return &m->s[m->n++];
}

void
sl_metrics_ready(struct sl_metrics *m, int ready)
{
    if (m == NULL)
        return;
    pthread_mutex_lock(&m->mu);
    m->ready = ready;
    pthread_mutex_unlock(&m->mu);
}

void
sl_metrics_run_start(struct sl_metrics *m, const char *job)
{
    if (m == NULL)
        return;
    pthread_mutex_lock(&m->mu);
    get(m, "sluice_run_in_progress", labels("job_id", job, (char *)NULL))->v = 1;
    get(m, "sluice_run_items", labels("job_id", job, (char *)NULL))->v = 0;
    get(m, "sluice_run_quarantined", labels("job_id", job, (char *)NULL))->v = 0;
    pthread_mutex_unlock(&m->mu);
}

void
sl_metrics_run_progress(struct sl_metrics *m, const char *job,
                        unsigned long long items,
                        unsigned long long quarantined)
{
    if (m == NULL)
        return;
    pthread_mutex_lock(&m->mu);
    get(m, "sluice_run_items", labels("job_id", job, (char *)NULL))->v = (double)items;
    get(m, "sluice_run_quarantined", labels("job_id", job, (char *)NULL))->v =
        (double)quarantined;
    pthread_mutex_unlock(&m->mu);
}

/* One observation of a histogram whose series are labelled job_id and,
 * when k is not NULL, k="v"; called with mu held. */
static void
observe(struct sl_metrics *m, const char *family, const char *job,
        const char *k, const char *v, double x, const double *b, size_t nb)
{
    char name[128], le[32];
    size_t i;

    snprintf(name, sizeof(name), "%s_bucket", family);
    for (i = 0; i <= nb; i++) {
        struct series *s;
        if (i < nb)
            snprintf(le, sizeof(le), "%g", b[i]);
        else
            snprintf(le, sizeof(le), "+Inf");
        s = get(m, name,
                k ? labels("job_id", job, k, v, "le", le, (char *)NULL)
                  : labels("job_id", job, "le", le, (char *)NULL));
        if (i == nb || x <= b[i])
            s->v += 1;
    }
    snprintf(name, sizeof(name), "%s_sum", family);
    get(m, name, k ? labels("job_id", job, k, v, (char *)NULL)
                   : labels("job_id", job, (char *)NULL))
        ->v += x;
    snprintf(name, sizeof(name), "%s_count", family);
    get(m, name, k ? labels("job_id", job, k, v, (char *)NULL)
                   : labels("job_id", job, (char *)NULL))
        ->v += 1;
}

/* Counters per source or target id from the run summary's
 * {id: [items, bytes, errors, seconds, retries]}; called with mu held. */
static void
part_counters(struct sl_metrics *m, const char *job, const json_t *parts,
              const char *kind)
{
    char items[64], bytes[64], errors[64], retries[64];
    const char *id;
    json_t *a;

    snprintf(items, sizeof(items), "sluice_%s_items_total", kind);
    snprintf(bytes, sizeof(bytes), "sluice_%s_bytes_total", kind);
    snprintf(errors, sizeof(errors), "sluice_%s_errors_total", kind);
    snprintf(retries, sizeof(retries), "sluice_%s_retries_total", kind);
    json_object_foreach((json_t *)parts, id, a) {
        get(m, items, labels("job_id", job, kind, id, (char *)NULL))->v +=
            (double)json_integer_value(json_array_get(a, 0));
        get(m, bytes, labels("job_id", job, kind, id, (char *)NULL))->v +=
            (double)json_integer_value(json_array_get(a, 1));
        get(m, errors, labels("job_id", job, kind, id, (char *)NULL))->v +=
            (double)json_integer_value(json_array_get(a, 2));
        get(m, retries, labels("job_id", job, kind, id, NULL))->v +=
            (double)json_integer_value(json_array_get(a, 4));
    }
}

void
sl_metrics_run_end(struct sl_metrics *m, const char *job, const char *status,
                   double seconds, const char *summary_json)
{
    json_t *sum, *v, *o;
    const char *type;
    size_t i;

    if (m == NULL)
        return;
    sum = summary_json ? json_loads(summary_json, 0, NULL) : NULL;
    pthread_mutex_lock(&m->mu);
    get(m, "sluice_run_in_progress", labels("job_id", job, (char *)NULL))->v = 0;
    get(m, "sluice_runs_total", labels("job_id", job, "status", status, (char *)NULL))
        ->v += 1;
    if (strcmp(status, "finished") == 0)
        get(m, "sluice_last_success_timestamp_seconds",
            labels("job_id", job, (char *)NULL))
            ->v = (double)time(NULL);
    observe(m, "sluice_run_duration_seconds", job, NULL, NULL, seconds,
            buckets, NBUCKETS);
    json_object_foreach(json_object_get(sum, "stages"), type, v) {
        double x = json_number_value(json_array_get(v, 3));
        if (strncmp(type, "write ", 6) == 0)
            observe(m, "sluice_target_write_seconds", job, "target",
                    type + 6, x, part_buckets, NPART_BUCKETS);
        else
            observe(m, "sluice_stage_seconds", job, "stage", type, x,
                    part_buckets, NPART_BUCKETS);
    }
    part_counters(m, job, json_object_get(sum, "sources"), "source");
    part_counters(m, job, json_object_get(sum, "targets"), "target");
    json_object_foreach(json_object_get(sum, "types"), type, v) {
        get(m, "sluice_items_total",
            labels("job_id", job, "type", type, "outcome", "read", (char *)NULL))
            ->v += (double)json_integer_value(json_array_get(v, 0));
        get(m, "sluice_items_total",
            labels("job_id", job, "type", type, "outcome", "delivered", (char *)NULL))
            ->v += (double)json_integer_value(json_array_get(v, 1));
        get(m, "sluice_items_total",
            labels("job_id", job, "type", type, "outcome", "quarantined", (char *)NULL))
            ->v += (double)json_integer_value(json_array_get(v, 2));
    }
    json_array_foreach(json_object_get(sum, "findings"), i, o) {
        get(m, "sluice_findings_total",
            labels("job_id", job, "stage",
                   json_string_value(json_object_get(o, "stage")), "code",
                   json_string_value(json_object_get(o, "code")), "severity",
                   json_string_value(json_object_get(o, "severity")), (char *)NULL))
            ->v += (double)json_integer_value(json_object_get(o, "n"));
    }
    pthread_mutex_unlock(&m->mu);
    json_decref(sum);
}

void
sl_metrics_quarantine_open(struct sl_metrics *m, unsigned long long n)
{
    if (m == NULL)
        return;
    pthread_mutex_lock(&m->mu);
    get(m, "sluice_quarantine_open_items", sl_strdup(""))->v = (double)n;
    pthread_mutex_unlock(&m->mu);
}

static const struct {
    const char *family, *type, *help;
} families[] = {
    { "sluice_up", "gauge", "1 while sluice daemon runs." },
    { "sluice_runs_total", "counter", "Runs that ended, by job and status." },
    { "sluice_run_in_progress", "gauge", "1 while a run of the job goes on." },
    { "sluice_run_items", "gauge",
      "Items read so far by the job's current or last run." },
    { "sluice_run_quarantined", "gauge",
      "Items quarantined so far by the job's current or last run." },
    { "sluice_items_total", "counter",
      "Items by job, resource type or modality, and outcome (read, "
      "delivered, quarantined)." },
    { "sluice_findings_total", "counter",
      "Findings of the stages by job, stage, code and severity." },
    { "sluice_run_duration_seconds", "histogram", "How long runs took." },
    { "sluice_stage_seconds", "histogram",
      "Time a stage (parse, deid, translate, validate) took in a run, "
      "summed over the workers." },
    { "sluice_target_write_seconds", "histogram",
      "Time the writes to a target took in a run." },
    { "sluice_source_items_total", "counter",
      "Items read per source (its id in the configuration)." },
    { "sluice_source_bytes_total", "counter",
      "Bytes read per source: raw text and DICOM files." },
    { "sluice_source_errors_total", "counter",
      "Unreadable items per source." },
    { "sluice_source_retries_total", "counter",
      "Requests a source tried again (HTTP 429, 5xx, connection failures)." },
    { "sluice_target_items_total", "counter",
      "Items delivered per target (its id in the configuration)." },
    { "sluice_target_bytes_total", "counter",
      "Bytes handed to each target." },
    { "sluice_target_errors_total", "counter",
      "Items a target refused (quarantined)." },
    { "sluice_target_retries_total", "counter",
      "Requests a target tried again (HTTP 429, 5xx, connection failures)." },
    { "sluice_last_success_timestamp_seconds", "gauge",
      "When a run of the job last finished (Unix time)." },
    { "sluice_quarantine_open_items", "gauge",
      "Items open in the quarantine." },
};

char *
sl_metrics_render(struct sl_metrics *m)
{
    struct sl_buf b;
    size_t f, i;

    sl_buf_init(&b);
    pthread_mutex_lock(&m->mu);
    for (f = 0; f < sizeof(families) / sizeof(families[0]); f++) {
        size_t fl = strlen(families[f].family);
        int any = strcmp(families[f].family, "sluice_up") == 0;
        for (i = 0; i < m->n && !any; i++)
            any = strncmp(m->s[i].family, families[f].family, fl) == 0;
        if (!any)
            continue;
        sl_buf_addf(&b, "# HELP %s %s\n# TYPE %s %s\n", families[f].family,
                    families[f].help, families[f].family, families[f].type);
        if (strcmp(families[f].family, "sluice_up") == 0)
            sl_buf_adds(&b, "sluice_up 1\n");
        for (i = 0; i < m->n; i++) {
            const char *name = m->s[i].family;
            /* a histogram's series are its family plus _bucket/_sum/
             * _count; other families match whole */
            if (strncmp(name, families[f].family, fl) != 0 ||
                (name[fl] != '\0' &&
                 strcmp(families[f].type, "histogram") != 0))
                continue;
            sl_buf_addf(&b, "%s%s %.17g\n", name, m->s[i].labels,
                        m->s[i].v);
        }
    }
    pthread_mutex_unlock(&m->mu);
    return sl_buf_steal(&b);
}

/* ---- HTTP ------------------------------------------------------------------ */

static enum MHD_Result
answer(void *cls, struct MHD_Connection *c, const char *url,
       const char *method, const char *version, const char *upload,
       size_t *upload_len, void **state)
{
    struct sl_metrics *m = cls;
    struct MHD_Response *r;
    const char *type = "text/plain; charset=utf-8";
    char *body;
    unsigned code = MHD_HTTP_OK;
    enum MHD_Result ret;
    int ready;

    (void)version;
    (void)upload;
    (void)upload_len;
    (void)state;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        body = sl_strdup("GET only\n");
        code = MHD_HTTP_METHOD_NOT_ALLOWED;
    } else if (strcmp(url, "/metrics") == 0) {
        body = sl_metrics_render(m);
        type = "text/plain; version=0.0.4; charset=utf-8";
    } else if (strcmp(url, "/healthz") == 0) {
        body = sl_strdup("ok\n");
    } else if (strcmp(url, "/readyz") == 0) {
        pthread_mutex_lock(&m->mu);
        ready = m->ready;
        pthread_mutex_unlock(&m->mu);
        body = sl_strdup(ready ? "ready\n" : "starting\n");
        code = ready ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE;
    } else {
        body = sl_strdup("not found: /metrics, /healthz, /readyz\n");
        code = MHD_HTTP_NOT_FOUND;
    }
    r = MHD_create_response_from_buffer(strlen(body), body,
                                        MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, "Content-Type", type);
    ret = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ret;
}

int
sl_metrics_start(const char *addr, struct sl_metrics **out,
                 struct sl_err *err)
{
    struct sockaddr_storage ss;
    struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
    struct sl_metrics *m;
    char host[128] = "127.0.0.1";
    const char *colon;
    long port;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD;

    memset(&ss, 0, sizeof(ss));
    if (addr[0] == '[') {
        const char *e = strchr(addr, ']');
        if (!e || e[1] != ':' || (size_t)(e - addr - 1) >= sizeof(host))
            goto bad;
        memcpy(host, addr + 1, (size_t)(e - addr - 1));
        host[e - addr - 1] = '\0';
        colon = e + 1;
    } else if ((colon = strrchr(addr, ':')) != NULL) {
        if ((size_t)(colon - addr) >= sizeof(host))
            goto bad;
        memcpy(host, addr, (size_t)(colon - addr));
        host[colon - addr] = '\0';
    } else {
        colon = addr - 1; /* a port alone */
    }
    if (sl_parse_long(colon + 1, 1, 65535, &port) != SL_OK)
        goto bad;
    if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons((unsigned short)port);
    } else if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((unsigned short)port);
        flags |= MHD_USE_IPv6;
    } else {
        goto bad;
    }
    m = sl_calloc(1, sizeof(*m));
    pthread_mutex_init(&m->mu, NULL);
    m->httpd = MHD_start_daemon(flags, (unsigned short)port, NULL, NULL,
                                answer, m, MHD_OPTION_SOCK_ADDR,
                                (struct sockaddr *)&ss,
                                MHD_OPTION_CONNECTION_LIMIT, 16U,
                                MHD_OPTION_CONNECTION_TIMEOUT, 10U,
                                MHD_OPTION_END);
    if (m->httpd == NULL) {
        pthread_mutex_destroy(&m->mu);
        free(m);
        return SL_ERR(err, SL_EIO, "metrics: cannot listen on %s (in use?)",
                      addr);
    }
    *out = m;
    return SL_OK;
bad:
    return SL_ERR(err, SL_ECONFIG,
                  "metrics: '%s' is not an address to listen on (such as "
                  "127.0.0.1:9464, [::1]:9464 or 9464)",
                  addr);
}

void
sl_metrics_stop(struct sl_metrics *m)
{
    size_t i;

    if (m == NULL)
        return;
    MHD_stop_daemon(m->httpd);
    for (i = 0; i < m->n; i++) {
        free(m->s[i].family);
        free(m->s[i].labels);
    }
    free(m->s);
    pthread_mutex_destroy(&m->mu);
    free(m);
}
