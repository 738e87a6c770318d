/* fuzz_dicom_deid.c - fuzz target for the DICOM reader path: bytes go
 * through the shim (DCMTK's parser, the truncation check, the walk) and
 * the whole de-identification of one instance.
 *
 * With libFuzzer (clang -fsanitize=fuzzer -DSL_LIBFUZZER, linked like the
 * tests): LLVMFuzzerTestOneInput. Without it, a self-contained smoke
 * fuzzer that make check runs: it mutates the seed files given on the
 * command line deterministically (bit flips, byte runs, cuts, length
 * fields set to extremes) and fails on any status other than success or
 * quarantine; a crash fails the test by itself.
 *
 *   fuzz_dicom_deid [-n ROUNDS] PROFILE.xml SEED...
 * (SLUICE_PROFILE_DIR must point at profiles/deid.) */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/parser.h>

#include "common/common.h"
#include "deid/dicom_deid.h"
#include "dicom/dicom.h"

static const char fuzz_key[] = "fuzz-key-0123456789abcdef-0123456789abcdef";

static struct sl_dicom_deid *engine;
static struct sl_keys *keys;
static struct sl_profile_chain chain;
static char dir[] = "/tmp/sluice-fuzz.XXXXXX";

static int
setup(const char *profile)
{
    struct sl_err err = { 0 };
    char msg[256];
    xmlNode *root, *c;
    xmlDoc *doc;

    if (sl_dicom_init(msg, sizeof(msg)) != 0 || mkdtemp(dir) == NULL)
        return -1;
    doc = xmlReadFile(profile, NULL, XML_PARSE_NONET);
    if (doc == NULL || (root = xmlDocGetRootElement(doc)) == NULL)
        return -1;
    chain.n = 1;
    chain.docs[0].doc = doc;
    chain.docs[0].path = sl_strdup(profile);
    for (c = root->children; c != NULL; c = c->next)
        if (c->type == XML_ELEMENT_NODE &&
            strcmp((const char *)c->name, "dicom") == 0)
            chain.docs[0].dicom = c;
    if (sl_keys_from_bytes(fuzz_key, sizeof(fuzz_key) - 1, &keys, &err) !=
            SL_OK ||
        sl_dicom_deid_new(&chain, keys, &engine, &err) != SL_OK) {
        fprintf(stderr, "fuzz_dicom_deid: %s\n", err.msg);
        return -1;
    }
    return 0;
}

/* De-identifies one buffer; returns the engine's status. */
static int
one(const uint8_t *data, size_t len)
{
    struct sl_dicom_deid_info info = { 0 };
    struct sl_err err = { 0 };
    char *in = sl_path_join(dir, "in.dcm"), *out = sl_path_join(dir, "out.dcm");
    FILE *f = fopen(in, "wb");
    int rc = SL_EIO;

    if (f != NULL) {
        size_t w = fwrite(data, 1, len, f);
        int closed = fclose(f);
        if (w == len && closed == 0)
            rc = sl_dicom_deid_file(engine, in, out, &info, &err);
    }
    sl_dicom_deid_info_clear(&info);
    unlink(out);
    free(in);
    free(out);
    return rc;
}

#ifdef SL_LIBFUZZER
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *p = getenv("SLUICE_FUZZ_PROFILE");

    (void)argc;
    (void)argv;
    return setup(p != NULL ? p : "tests/data/deid/dicom/profiles/basic.xml");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)one(data, size);
    return 0;
}
#else

static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static uint64_t
next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* One deterministic mutation of buf (len bytes); returns the new length. */
static size_t
mutate(uint8_t *buf, size_t len)
{
    size_t i, n, at;

    if (len == 0)
        return 0;
    at = (size_t)(next() % len);
    switch (next() % 5) {
    case 0: /* bit flips */
        for (i = 0, n = 1 + next() % 8; i < n; i++)
            buf[next() % len] ^= (uint8_t)(1u << (next() % 8));
        break;
    case 1: /* a run of one byte */
        for (n = 1 + next() % 16; n > 0 && at < len; n--)
            buf[at++] = (uint8_t)next();
        break;
    case 2: /* cut */
        return at;
    case 3: /* a 32-bit length field set to an extreme */
        if (at + 4 <= len) {
            static const uint32_t extremes[] = { 0, 1, 0x7FFFFFFF, 0xFFFFFFFF,
                                                 0xFFFFFFFE };
            uint32_t v = extremes[next() % 5];
            memcpy(buf + at, &v, 4);
        }
        break;
    default: /* a 16-bit value set to an extreme (VR, length, tag) */
        if (at + 2 <= len) {
            uint16_t v = (uint16_t)(next() % 2 ? 0xFFFF : 0);
            memcpy(buf + at, &v, 2);
        }
        break;
    }
    return len;
}

int
main(int argc, char **argv)
{
    long rounds = 200;
    int opt, i, bad = 0;
    unsigned long ok = 0, quarantined = 0;

    while ((opt = getopt(argc, argv, "n:")) != -1) {
        if (opt != 'n' || sl_parse_long(optarg, 1, 1000000, &rounds) != SL_OK)
            return 1;
    }
    if (argc - optind < 2) {
        fprintf(stderr, "usage: fuzz_dicom_deid [-n ROUNDS] PROFILE SEED...\n");
        return 1;
    }
    if (setup(argv[optind]) != 0)
        return 1;
    for (i = optind + 1; i < argc; i++) {
        char *seed = NULL;
        size_t len = 0;
        long r;
        struct sl_err err = { 0 };

        if (sl_file_read(argv[i], &seed, &len, &err) != SL_OK) {
            fprintf(stderr, "fuzz_dicom_deid: seed %d: %s\n", i - optind,
                    err.msg);
            return 1;
        }
        for (r = 0; r < rounds; r++) {
            uint8_t *buf = sl_malloc(len + 1);
            size_t n;
            int rc;
            memcpy(buf, seed, len);
            n = mutate(buf, len);
            if (next() % 2)
                n = mutate(buf, n);
            rc = one(buf, n);
            if (rc == SL_OK)
                ok++;
            else if (rc == SL_EQUARANTINE)
                quarantined++;
            else {
                fprintf(stderr, "seed %d round %ld: status %s\n", i - optind, r,
                        sl_status_name(rc));
                bad++;
            }
            free(buf);
        }
        free(seed);
    }
    printf("%lu de-identified, %lu quarantined, %d other\n", ok, quarantined,
           bad);
    sl_dicom_deid_free(engine);
    sl_keys_free(keys);
    free(chain.docs[0].path);
    xmlFreeDoc(chain.docs[0].doc);
    rmdir(dir);
    return bad == 0 ? 0 : 2;
}
#endif
