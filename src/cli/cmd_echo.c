/* cmd_echo.c - sluice echo NODE: C-ECHO a DICOM node of the configuration
 * (a dicom-store target or a dimse source) and print what it accepts, so that
 * AE titles, ports and transfer syntaxes can be checked before a job runs;
 * for a DICOMweb server (a dicomweb source or a stow-rs target), a QIDO-RS
 * search for one study with the node's base, auth and TLS settings. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "config/config.h"
#include "dicom/dicom.h"
#include "http/auth.h"
#include "http/dicom_json.h"
#include "http/http.h"

#define ECHO_QIDO_MAX (4u * 1024 * 1024) /* the answer of a limit=1 search */

/* sluice echo of a DICOMweb server: GET {base}/studies?limit=1 with the
 * node's auth and ca-file, one try. Prints the HTTP status and how many
 * studies the answer held, never a value of them. */
static int
echo_dicomweb(const struct sl_config *cfg, const struct sl_conf_node *n,
              struct sl_err *err)
{
    static const char *const hdrs[] = { "Accept: application/dicom+json",
                                        NULL };
    static const char *const cap[] = { "Content-Type", NULL };
    static const char *const tags[] = { "0020000D" };
    struct sl_http_opts o = { 0 };
    struct sl_http_auth *auth = NULL;
    struct sl_http *http = NULL;
    struct sl_http_body b = { { 0 }, ECHO_QIDO_MAX };
    struct sl_http_req rq = { 0 };
    struct sl_http_resp rs = { 0 };
    struct sl_qido_rows rows = { 0 };
    char *ca = sl_conf_get_path(cfg, n, "ca-file"), *base = NULL;
    int rc;

    if (sl_conf_get(n, "base") == NULL) {
        rc = SL_ERR(err, SL_ECONFIG, "%s:%d: '%s' has no base", cfg->path,
                    n->line, n->id ? n->id : "?");
        goto out;
    }
    base = sl_strdup(sl_conf_get(n, "base"));
    while (*base && base[strlen(base) - 1] == '/')
        base[strlen(base) - 1] = '\0';
    o.base = base;
    o.ca_file = ca;
    o.timeout_ms = sl_conf_get_long(n, "timeout", 30) * 1000;
    o.max_attempts = 1; /* say what is wrong now, not after retries */
    if ((rc = sl_http_auth_new(cfg, n, &auth, err)) != SL_OK)
        goto out;
    o.auth = auth;
    if ((rc = sl_http_new(&o, &http, err)) != SL_OK)
        goto out;
    rq.method = "GET";
    rq.path = "studies?limit=1&includefield=0020000D";
    rq.headers = hdrs;
    rq.capture = cap;
    rq.sink = sl_http_collect;
    rq.sink_arg = &b;
    rq.restart = sl_http_collect_restart;
    if ((rc = sl_http_do(http, &rq, &rs, err)) != SL_OK) {
        /* SL_ENET: exit status 2, as a DICOM node that cannot be reached */
        sl_err_prefix(err, "DICOMweb server %s: QIDO-RS", base);
        goto out;
    }
    if (rs.status != 200 && rs.status != 204) {
        rc = SL_ERR(err, SL_ENET,
                    "DICOMweb server %s: QIDO-RS GET studies?limit=1: HTTP "
                    "%ld%s",
                    base, rs.status,
                    rs.status == 401 || rs.status == 403
                        ? " (does <auth> give access?)"
                    : rs.status == 404 ? " (is base the DICOMweb root, e.g. "
                                         "https://host/dicom-web?)"
                                       : "");
        goto out;
    }
    if (rs.status == 200 &&
        (rc = sl_qido_parse(b.buf.data ? b.buf.data : "", b.buf.len, tags, 1,
                            &rows, err)) != SL_OK) {
        sl_err_prefix(err,
                      "DICOMweb server %s: QIDO-RS answer is not DICOM "
                      "JSON",
                      base);
        rc = SL_ENET;
        goto out;
    }
    printf("%s: QIDO-RS GET %s/studies?limit=1: HTTP %ld, %s\n", n->id, base,
           rs.status, rs.captured[0] ? rs.captured[0] : "no Content-Type");
    printf("studies in the answer: %zu%s\n", rows.n,
           rows.n == 0 ? " (the server holds none this caller may see)" : "");
    rc = SL_OK;
out:
    sl_qido_rows_free(&rows);
    sl_buf_free(&b.buf);
    sl_http_resp_clear(&rs);
    sl_http_free(http);
    sl_http_auth_free(auth); /* after the client that borrows it */
    free(ca);
    free(base);
    return rc;
}

/* The node's peer from its configuration (defaults already applied). */
static int
peer_of(const struct sl_config *cfg, const struct sl_conf_node *n,
        struct sl_dicom_peer *p, struct sl_err *err)
{
    p->host = sl_conf_get(n, "host");
    p->port = (int)sl_conf_get_long(n, "port", 104);
    p->called_ae = sl_conf_get(n, "called-ae");
    p->calling_ae = sl_conf_get(n, "calling-ae");
    p->timeout = (int)sl_conf_get_long(n, "timeout", 30);
    p->tls_ca = sl_conf_get_path(cfg, n, "tls-ca-file");
    p->tls_cert = sl_conf_get_path(cfg, n, "tls-cert-file");
    p->tls_key = sl_conf_get_path(cfg, n, "tls-key-file");
    if (p->host == NULL || p->called_ae == NULL || p->calling_ae == NULL)
        return SL_ERR(err, SL_ECONFIG,
                      "%s:%d: '%s' has no host, called-ae "
                      "or calling-ae",
                      cfg->path, n->line, n->id ? n->id : "?");
    return SL_OK;
}

static void
peer_free(struct sl_dicom_peer *p)
{
    free((char *)p->tls_ca);
    free((char *)p->tls_cert);
    free((char *)p->tls_key);
}

static int
exec_echo(const struct cli_cmd *self, struct cli_global *g, int argc,
          char **argv)
{
    struct sl_err err = { 0 };
    struct sl_config *cfg = NULL;
    const struct sl_conf_node *n;
    struct sl_dicom_peer peer = { 0 };
    struct sl_strv acc = { 0 };
    char msg[256];
    int rc, why = 0;
    size_t i;

    if (argc != 2 || argv[1][0] == '-')
        return cli_usage_error(self, "one NODE is needed");
    if ((rc = sl_config_load(cli_config_path(g), 1, &cfg, &err)) != SL_OK)
        goto fail;
    n = sl_config_target(cfg, argv[1]);
    if (n == NULL || n->type == NULL ||
        (strcmp(n->type, "dicom-store") != 0 &&
         strcmp(n->type, "stow-rs") != 0))
        n = sl_config_source(cfg, argv[1]);
    if (n == NULL || n->type == NULL ||
        (strcmp(n->type, "dicom-store") != 0 && strcmp(n->type, "dimse") != 0 &&
         strcmp(n->type, "stow-rs") != 0 && strcmp(n->type, "dicomweb") != 0)) {
        rc = SL_ERR(&err, SL_EUSAGE,
                    "%s: no DICOM node '%s' (a target of "
                    "type dicom-store or stow-rs, or a source of type dimse "
                    "or dicomweb)",
                    cfg->path, argv[1]);
        goto fail;
    }
    if (strcmp(n->type, "stow-rs") == 0 || strcmp(n->type, "dicomweb") == 0) {
        if ((rc = echo_dicomweb(cfg, n, &err)) != SL_OK)
            goto fail;
        sl_config_free(cfg);
        return SL_EXIT_OK;
    }
    if ((rc = peer_of(cfg, n, &peer, &err)) != SL_OK)
        goto fail;
    if (sl_dicom_init(msg, sizeof(msg)) != 0) {
        rc = SL_ERR(&err, SL_EINTERNAL, "%s", msg);
        goto fail;
    }
    if ((rc = sl_dicom_echo(&peer, &acc, &why, &err)) != SL_OK)
        goto fail;
    printf("%s: C-ECHO to %s@%s:%d from %s: success\n", n->id, peer.called_ae,
           peer.host, peer.port, peer.calling_ae);
    printf("accepted presentation contexts (SOP class: transfer "
           "syntaxes):\n");
    for (i = 0; i < acc.n; i++)
        printf("  %s\n", acc.v[i]);
    sl_strv_free(&acc);
    peer_free(&peer);
    sl_config_free(cfg);
    return SL_EXIT_OK;
fail:
    sl_strv_free(&acc);
    peer_free(&peer);
    sl_config_free(cfg);
    return cli_fail(&err);
}

const struct cli_cmd cli_cmd_echo = {
    "echo",
    "NODE",
    "C-ECHO a configured DICOM node and list what it accepts",
    "Opens an association with the DICOM node NODE (a target of type\n"
    "dicom-store or a source of type dimse) using its host, port,\n"
    "called-ae, calling-ae and timeout, sends a C-ECHO, and lists the\n"
    "presentation contexts the node accepted: Verification; the Study Root\n"
    "query/retrieve models (FIND, GET, MOVE) a dimse source uses; and\n"
    "common storage SOP classes (CT, MR, CR, DX, MG, US, SC, enhanced\n"
    "CT/MR, PET, NM, XA), each with the transfer syntaxes it takes among\n"
    "Implicit and Explicit VR Little Endian, Deflated, JPEG Baseline, JPEG\n"
    "Lossless, JPEG-LS Lossless, JPEG 2000 Lossless and RLE Lossless.\n"
    "\n"
    "\n"
    "For a DICOMweb server (a source of type dicomweb or a target of type\n"
    "stow-rs), sends one QIDO-RS search, GET BASE/studies?limit=1, with the\n"
    "node's auth and ca-file, and prints the HTTP status, the Content-Type\n"
    "and how many studies the answer held (0 or 1; never their values).\n"
    "\n"
    "Exit status: 0 the node answered the C-ECHO (or the search); 1 usage\n"
    "or configuration error (no such node); 2 the echo failed: the\n"
    "connection was refused or the host unreachable, the node rejected the\n"
    "association (wrong called-ae, or calling-ae not known to it), no\n"
    "answer within timeout, or it does not accept Verification; for\n"
    "DICOMweb, an HTTP status other than 200 or 204 (401 or 403: check\n"
    "<auth>), or an answer that is not DICOM JSON. The message says which.\n",
    exec_echo,
};
