/* dicom_deid_run.c - a test driver for the DICOM engine until `sluice
 * deid` drives it: builds a profile chain by hand from profile documents
 * and de-identifies each input file into OUT_DIR/<n>.dcm.
 *
 * usage: dicom_deid_run [-e] -p PROFILE.xml [-p SITE.xml …] OUT_DIR IN…
 * Prints one line per input: "<n> ok <patient> <study> <series> <sop>",
 * "<n> quarantined <reason>" or "<n> error <message>". -e prints the
 * --explain text at the end. Exit 0 unless an error that is not a
 * quarantine happened (2) or the usage was wrong (1). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/parser.h>

#include "common/common.h"
#include "deid/dicom_deid.h"
#include "dicom/dicom.h"

static const char test_key[] = "sluice-test-key-0123456789abcdef-not-secret";

static int
load_doc(const char *path, struct sl_profile_doc *doc)
{
    xmlNode *root, *c;

    memset(doc, 0, sizeof(*doc));
    doc->doc = xmlReadFile(path, NULL, XML_PARSE_NONET);
    if (doc->doc == NULL || (root = xmlDocGetRootElement(doc->doc)) == NULL)
        return -1;
    doc->path = sl_strdup(path);
    for (c = root->children; c != NULL; c = c->next)
        if (c->type == XML_ELEMENT_NODE &&
            strcmp((const char *)c->name, "dicom") == 0)
            doc->dicom = c;
    {
        xmlChar *n = xmlGetProp(root, (const xmlChar *)"name");
        xmlChar *v = xmlGetProp(root, (const xmlChar *)"version");
        doc->name = n ? sl_strdup((const char *)n) : NULL;
        doc->version = v ? sl_strdup((const char *)v) : NULL;
        xmlFree(n);
        xmlFree(v);
    }
    return 0;
}

int
main(int argc, char **argv)
{
    struct sl_profile_chain chain;
    struct sl_dicom_deid *d = NULL;
    struct sl_keys *keys = NULL;
    struct sl_err err = { 0 };
    char msg[256];
    int opt, explain = 0, status = 0, i;
    size_t k;

    memset(&chain, 0, sizeof(chain));
    while ((opt = getopt(argc, argv, "ep:")) != -1) {
        switch (opt) {
        case 'e':
            explain = 1;
            break;
        case 'p':
            if (chain.n == SL_DEID_MAX_CHAIN ||
                load_doc(optarg, &chain.docs[chain.n]) != 0) {
                fprintf(stderr, "dicom_deid_run: cannot load a profile\n");
                return 1;
            }
            chain.n++;
            break;
        default:
            return 1;
        }
    }
    if (chain.n == 0 || argc - optind < 1) {
        fprintf(stderr, "usage: dicom_deid_run [-e] -p PROFILE.xml … OUT_DIR "
                        "IN…\n");
        return 1;
    }
    if (sl_dicom_init(msg, sizeof(msg)) != 0) {
        fprintf(stderr, "dicom_deid_run: %s\n", msg);
        return 2;
    }
    if (sl_keys_from_bytes(test_key, sizeof(test_key) - 1, &keys, &err) !=
            SL_OK ||
        sl_dicom_deid_new(&chain, keys, &d, &err) != SL_OK) {
        fprintf(stderr, "dicom_deid_run: %s\n", err.msg);
        status = 1;
        goto out;
    }
    for (i = optind + 1; i < argc; i++) {
        struct sl_dicom_deid_info info = { 0 };
        char *out = sl_asprintf("%s/%d.dcm", argv[optind], i - optind);
        int rc = sl_dicom_deid_file(d, argv[i], out, &info, &err);

        if (rc == SL_OK)
            printf("%d ok %s %s %s %s\n", i - optind,
                   info.patient ? info.patient : "-",
                   info.study_uid ? info.study_uid : "-",
                   info.series_uid ? info.series_uid : "-",
                   info.sop_uid ? info.sop_uid : "-");
        else if (rc == SL_EQUARANTINE)
            printf("%d quarantined %s\n", i - optind, err.msg);
        else {
            printf("%d error %s\n", i - optind, err.msg);
            status = 2;
        }
        sl_dicom_deid_info_clear(&info);
        free(out);
    }
    if (explain)
        sl_dicom_deid_explain(d, stdout);
out:
    sl_dicom_deid_free(d);
    sl_keys_free(keys);
    for (k = 0; k < chain.n; k++) {
        free(chain.docs[k].path);
        free(chain.docs[k].name);
        free(chain.docs[k].version);
        xmlFreeDoc(chain.docs[k].doc);
    }
    return status;
}
