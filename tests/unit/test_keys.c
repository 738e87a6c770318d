/* test_keys.c - key loading and derivations, checked against values
 * computed independently (Python's hmac module, see the comments). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "keys/keys.h"

static struct sl_keys *
key32(void)
{
    struct sl_keys *k = NULL;
    assert_int_equal(sl_keys_from_bytes("kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk", 32,
                                        &k, NULL),
                     SL_OK);
    return k;
}

/* Expected values: key b'k'*32,
 *   hmac.new(key, b'identifier\0MRN-0001', sha256) -> base32, lower, [:26]
 *   uid: "2.25." + decimal of the first 16 bytes, big-endian
 *   date shift: -(1 + first 4 bytes % 365) */
static void
test_known_answers(void **state)
{
    struct sl_keys *k = key32();
    char out[SL_UID_MAX + 1];
    (void)state;
    sl_keys_pseudonym(k, SL_KD_IDENTIFIER, "MRN-0001", 8, out);
    assert_string_equal(out, "dzjkv2uhr4esursnopyxrkl7l7");
    sl_keys_uid(k, "1.2.3.4", out);
    assert_string_equal(out, "2.25.60284828632483152761139245340568590047");
    assert_int_equal(sl_keys_date_shift(k, "MRN-0001", 1, 365), -163);
    sl_keys_free(k);
}

static void
test_domains_separate(void **state)
{
    struct sl_keys *k = key32();
    char a[32], b[32];
    (void)state;
    sl_keys_pseudonym(k, SL_KD_IDENTIFIER, "123", 3, a);
    sl_keys_pseudonym(k, SL_KD_RESOURCE_ID, "123", 3, b);
    assert_string_not_equal(a, b);
    assert_int_equal(strlen(a), SL_PSEUDONYM_LEN);
    assert_int_equal(strspn(a, "abcdefghijklmnopqrstuvwxyz234567"),
                     SL_PSEUDONYM_LEN);
    sl_keys_free(k);
}

static void
test_uid_shape(void **state)
{
    struct sl_keys *k = key32();
    char out[SL_UID_MAX + 1], uid[64];
    int i;
    (void)state;
    for (i = 0; i < 200; i++) {
        snprintf(uid, sizeof(uid), "1.2.840.99.%d", i);
        sl_keys_uid(k, uid, out);
        assert_int_equal(strncmp(out, "2.25.", 5), 0);
        assert_true(strlen(out) <= 5 + 39 && strlen(out) >= 5 + 30);
        assert_true(out[5] != '0');
        assert_int_equal(strspn(out + 5, "0123456789"), strlen(out) - 5);
    }
    sl_keys_free(k);
}

static void
test_date_shift_range(void **state)
{
    struct sl_keys *k = key32();
    char id[32];
    int i, d, seen_min = 0, seen_max = -100000;
    (void)state;
    for (i = 0; i < 2000; i++) {
        snprintf(id, sizeof(id), "P%d", i);
        d = sl_keys_date_shift(k, id, 10, 20);
        assert_true(d <= -10 && d >= -20);
        if (d < seen_min)
            seen_min = d;
        if (d > seen_max)
            seen_max = d;
    }
    assert_int_equal(seen_min, -20);
    assert_int_equal(seen_max, -10);
    sl_keys_free(k);
}

static void
test_key_file(void **state)
{
    char path[] = "/tmp/sluice-key.XXXXXX";
    struct sl_keys *k1 = NULL, *k2 = key32();
    struct sl_err err;
    char a[32], b[32];
    int fd;
    (void)state;
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk\n", 33), 33);
    close(fd);
    /* the trailing newline is not part of the key */
    assert_int_equal(sl_keys_load_file(path, &k1, &err), SL_OK);
    sl_keys_pseudonym(k1, SL_KD_IDENTIFIER, "x", 1, a);
    sl_keys_pseudonym(k2, SL_KD_IDENTIFIER, "x", 1, b);
    assert_string_equal(a, b);
    sl_keys_free(k1);
    k1 = NULL;
    /* too short: an error naming the file, never the bytes */
    fd = open(path, O_WRONLY | O_TRUNC);
    assert_int_equal(write(fd, "shortsecret\n", 12), 12);
    close(fd);
    assert_int_equal(sl_keys_load_file(path, &k1, &err), SL_EKEY);
    assert_null(k1);
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, "at least 32"));
    assert_null(strstr(err.msg, "shortsecret"));
    unlink(path);
    sl_keys_fingerprint(k2, a, sizeof(a));
    assert_int_equal(strlen(a), 8);
    sl_keys_free(k2);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_answers),
        cmocka_unit_test(test_domains_separate),
        cmocka_unit_test(test_uid_shape),
        cmocka_unit_test(test_date_shift_range),
        cmocka_unit_test(test_key_file),
    };
    return cmocka_run_group_tests_name("keys", tests, NULL, NULL);
}
