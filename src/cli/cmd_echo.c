/* cmd_echo.c - sluice echo NODE: C-ECHO a DICOM node of the configuration
 * (a dicom-store target or a dimse source) and print what it accepts, so that
 * AE titles, ports and transfer syntaxes can be checked before a job runs. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "config/config.h"
#include "dicom/dicom.h"

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
    if (n == NULL || n->type == NULL || strcmp(n->type, "dicom-store") != 0)
        n = sl_config_source(cfg, argv[1]);
    if (n == NULL || n->type == NULL ||
        (strcmp(n->type, "dicom-store") != 0 &&
         strcmp(n->type, "dimse") != 0)) {
        rc = SL_ERR(&err, SL_EUSAGE,
                    "%s: no DICOM node '%s' (a target of "
                    "type dicom-store or a source of type dimse)",
                    cfg->path, argv[1]);
        goto fail;
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
    "Exit status: 0 the node answered the C-ECHO; 1 usage or configuration\n"
    "error (no such node); 2 the echo failed: the connection was refused\n"
    "or the host unreachable, the node rejected the association (wrong\n"
    "called-ae, or calling-ae not known to it), no answer within timeout,\n"
    "or it does not accept Verification. The message says which.\n",
    exec_echo,
};
