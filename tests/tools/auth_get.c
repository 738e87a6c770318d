/* auth_get.c - a test driver for src/http/auth.h: builds the node of a
 * target from NAME=VALUE arguments (auth.type=bearer auth.token=env:T ...,
 * as the config loader stores an <auth>; `sluice check-config` tests the
 * loading itself) and makes requests to URL through it, printing one line per
 * request: the HTTP status and the body (the test servers answer with what they
 * saw: a client id, a certificate's name). Options, before CONFIG: -n N N
 * requests (default 1) -s SECONDS  sleep between requests -i
 * sl_http_auth_invalidate() between requests -d DATA     POST DATA instead of
 * GET -c CAFILE   the CA of an https URL -r          on a 401, invalidate and
 * retry once (as http.c will) Relative file: paths resolve against the current
 * folder. Exit status: 0 when every request was made (whatever its status), 2
 * with sluice's error message on stderr. */
#include <config.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "http/auth.h"

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
    if (arg != NULL) /* NULL: the body is not wanted */
        fwrite(p, size, n, (FILE *)arg);
    return size * n;
}

static int
one(struct sl_http_auth *a, const char *url, const char *data, const char *ca,
    FILE *out, long *status, struct sl_err *err)
{
    CURL *h = curl_easy_init();
    struct curl_slist *hdr = NULL;
    char ebuf[CURL_ERROR_SIZE] = "";
    char *canon = sl_http_auth_url(a, url); /* as http.c does */
    int rc;

    if ((rc = sl_http_auth_apply(a, h, &hdr, err)) != SL_OK)
        goto out;
    curl_easy_setopt(h, CURLOPT_URL, canon != NULL ? canon : url);
    if (data != NULL) {
        hdr = curl_slist_append(hdr, "Content-Type: application/fhir+json");
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, data);
    }
    if (ca != NULL)
        curl_easy_setopt(h, CURLOPT_CAINFO, ca);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
    if (curl_easy_perform(h) != CURLE_OK) {
        rc = SL_ERR(err, SL_ENET, "%s", ebuf);
        goto out;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
out:
    free(canon);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    return rc;
}

struct worker {
    struct sl_http_auth *a;
    const char *url;
    long n, ok;
    struct sl_err err;
    int rc;
};

static void *
work(void *arg)
{
    struct worker *w = arg;
    long i, status;

    for (i = 0; i < w->n; i++) {
        status = 0;
        if ((w->rc = one(w->a, w->url, NULL, NULL, NULL, &status, &w->err)) !=
            SL_OK)
            break;
        w->ok += status == 200;
    }
    return NULL;
}

/* THREADS threads through one auth at once. */
static int
threads(struct sl_http_auth *a, const char *url, long n, long nthreads,
        struct sl_err *err)
{
    struct worker w[16];
    pthread_t t[16];
    long i, ok = 0;
    int rc = SL_OK;

    if (nthreads < 1 || nthreads > 16)
        return SL_ERR(err, SL_EUSAGE, "-t takes 1 to 16");
    for (i = 0; i < nthreads; i++) {
        memset(&w[i], 0, sizeof(w[i]));
        w[i].a = a;
        w[i].url = url;
        w[i].n = n;
        pthread_create(&t[i], NULL, work, &w[i]);
    }
    for (i = 0; i < nthreads; i++) {
        pthread_join(t[i], NULL);
        ok += w[i].ok;
        if (w[i].rc != SL_OK && rc == SL_OK) {
            rc = w[i].rc;
            *err = w[i].err;
        }
    }
    printf("200 x %ld\n", ok);
    return rc;
}

int
main(int argc, char **argv)
{
    struct sl_http_auth *a = NULL;
    struct sl_conf_node node = { 0 };
    const char *data = NULL, *ca = NULL;
    struct sl_err err = { 0 };
    long n = 1, pause = 0, nthreads = 0, status, i;
    int c, inval = 0, retry = 0, rc;

    while ((c = getopt(argc, argv, "n:s:id:c:rt:")) != -1) {
        switch (c) {
        case 'n':
            n = strtol(optarg, NULL, 10);
            break;
        case 's':
            pause = strtol(optarg, NULL, 10);
            break;
        case 'i':
            inval = 1;
            break;
        case 'd':
            data = optarg;
            break;
        case 'c':
            ca = optarg;
            break;
        case 't':
            nthreads = strtol(optarg, NULL, 10);
            break;
        case 'r':
            retry = 1;
            break;
        default:
            return 1;
        }
    }
    if (argc - optind < 1) {
        fprintf(stderr, "usage: auth_get [-n N] [-s S] [-i] [-r] [-d DATA] "
                        "[-c CA] [-t THREADS] URL [auth.NAME=VALUE...]\n");
        return 1;
    }
    node.element = sl_strdup("target");
    node.line = 1;
    /* from the last: a later NAME=VALUE overrides an earlier one */
    for (i = argc - 1; i > optind; i--) {
        char *eq = strchr(argv[i], '=');
        if (eq == NULL)
            return 1;
        *eq = '\0';
        if (sl_conf_get(&node, argv[i]) == NULL)
            sl_conf_node_add(&node, argv[i], eq + 1);
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if ((rc = sl_http_auth_new(NULL, &node, &a, &err)) != SL_OK)
        goto out;
    if (nthreads > 0) {
        rc = threads(a, argv[optind], n, nthreads, &err);
        goto out;
    }
    for (i = 0; i < n; i++) {
        if (i > 0 && pause > 0)
            sleep((unsigned)pause);
        if (i > 0 && inval)
            sl_http_auth_invalidate(a);
        status = 0;
        if ((rc = one(a, argv[optind], data, ca, stdout, &status, &err)) !=
            SL_OK)
            goto out;
        if (status == 401 && retry) {
            printf(" 401, retrying\n");
            sl_http_auth_invalidate(a);
            if ((rc = one(a, argv[optind], data, ca, stdout, &status, &err)) !=
                SL_OK)
                goto out;
        }
        printf(" %ld\n", status);
    }
out:
    sl_http_auth_free(a);
    sl_conf_node_clear(&node);
    curl_global_cleanup();
    if (rc != SL_OK) {
        fprintf(stderr, "auth_get: %s\n", err.msg);
        return 2;
    }
    return 0;
}
