/* test_common_seal.c - sealing data at rest: blobs, files and text come
 * back as they went in with the right key; another key is told apart
 * (SL_EKEY) from damage (SL_EPARSE); a blob sealed for one use does not
 * open for another; a damaged file leaves no plaintext behind. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/seal.h"

static const char key[] = "0123456789abcdef0123456789abcdef";
static const char other[] = "fedcba9876543210fedcba9876543210";

static void
test_blob(void **state)
{
    static const char msg[] = "{\"resourceType\":\"Patient\",\"name\":"
                              "[{\"family\":\"Doe\"}]}";
    unsigned char *s = NULL, *p = NULL;
    size_t sn = 0, pn = 0;
    struct sl_err err = { 0 };

    (void)state;
    assert_int_equal(sl_seal(key, 32, "quarantine data", msg, strlen(msg), &s,
                             &sn, &err),
                     SL_OK);
    assert_int_equal(sn, strlen(msg) + SL_SEAL_OVERHEAD);
    assert_true(sl_sealed(s, sn));
    assert_null(memmem(s, sn, "Doe", 3));
    assert_int_equal(sl_unseal(key, 32, "quarantine data", s, sn, &p, &pn,
                               &err),
                     SL_OK);
    assert_int_equal(pn, strlen(msg));
    assert_memory_equal(p, msg, pn);
    sl_freezero(p, pn);
    /* another key: said so, nothing out */
    p = NULL;
    assert_int_equal(sl_unseal(other, 32, "quarantine data", s, sn, &p, &pn,
                               &err),
                     SL_EKEY);
    assert_null(p);
    /* another use of the same key */
    assert_int_equal(sl_unseal(key, 32, "quarantine origin", s, sn, &p, &pn,
                               &err),
                     SL_EPARSE);
    /* one bit changed, in the ciphertext and in the tag */
    s[SL_SEAL_HEADER + 3] ^= 1;
    assert_int_equal(sl_unseal(key, 32, "quarantine data", s, sn, &p, &pn,
                               &err),
                     SL_EPARSE);
    s[SL_SEAL_HEADER + 3] ^= 1;
    s[sn - 1] ^= 0x80;
    assert_int_equal(sl_unseal(key, 32, "quarantine data", s, sn, &p, &pn,
                               &err),
                     SL_EPARSE);
    free(s);
    /* a short key is refused */
    assert_int_equal(sl_seal(key, 16, "x", msg, 3, &s, &sn, &err), SL_EKEY);
}

static void
test_text(void **state)
{
    char *t = NULL, *back = NULL;
    struct sl_err err = { 0 };

    (void)state;
    assert_int_equal(sl_seal_text(key, 32, "origin",
                                  "/data/in/Doe^John/1.dcm", &t, &err),
                     SL_OK);
    assert_true(sl_sealed_text(t));
    assert_null(strstr(t, "Doe"));
    assert_int_equal(sl_unseal_text(key, 32, "origin", t, &back, &err),
                     SL_OK);
    assert_string_equal(back, "/data/in/Doe^John/1.dcm");
    free(back);
    assert_int_equal(sl_unseal_text(other, 32, "origin", t, &back, &err),
                     SL_EKEY);
    free(t);
    /* plain text passes through */
    assert_int_equal(sl_unseal_text(key, 32, "origin", "plain", &back, &err),
                     SL_OK);
    assert_string_equal(back, "plain");
    free(back);
}

static void
test_file(void **state)
{
    char dir[] = "/tmp/sluice-seal.XXXXXX", a[64], b[64], c[64];
    unsigned char *buf, *got;
    struct sl_err err = { 0 };
    struct stat st;
    size_t n = 200000 + 7, i;
    FILE *f;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(a, sizeof(a), "%s/plain", dir);
    snprintf(b, sizeof(b), "%s/sealed", dir);
    snprintf(c, sizeof(c), "%s/back", dir);
    buf = malloc(n);
    got = malloc(n);
    for (i = 0; i < n; i++)
        buf[i] = (unsigned char)(i * 7 + (i >> 8));
    f = fopen(a, "wb");
    assert_int_equal(fwrite(buf, 1, n, f), n);
    fclose(f);
    assert_int_equal(sl_seal_file(key, 32, "dicom", a, b, &err), SL_OK);
    assert_int_equal(stat(b, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal((size_t)st.st_size, n + SL_SEAL_OVERHEAD);
    assert_true(sl_sealed_file(b));
    assert_false(sl_sealed_file(a));
    assert_int_equal(sl_unseal_file(key, 32, "dicom", b, c, &err), SL_OK);
    f = fopen(c, "rb");
    assert_int_equal(fread(got, 1, n, f), n);
    fclose(f);
    assert_memory_equal(got, buf, n);
    unlink(c);
    assert_int_equal(sl_unseal_file(other, 32, "dicom", b, c, &err), SL_EKEY);
    assert_int_equal(access(c, F_OK), -1);
    /* truncated: fails, and no plaintext is left behind */
    assert_int_equal(truncate(b, (off_t)(n / 2)), 0);
    assert_int_equal(sl_unseal_file(key, 32, "dicom", b, c, &err), SL_EPARSE);
    assert_int_equal(access(c, F_OK), -1);
    unlink(a);
    unlink(b);
    rmdir(dir);
    free(buf);
    free(got);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blob),
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_file),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
