/* fuzz_jwt_key.c - fuzz target for the private key file of
 * <auth type="smart-backend" key="file:..."> (src/http/auth_jwt.c,
 * auth_jwt_load_key): PEM, RSA of at least 2048 bits (RS384) or EC on
 * P-384 (ES384). The input is the file's bytes. Checked: a key that loads
 * has its algorithm, and signs a client assertion whose three parts are
 * base64url; a refusal names the attribute and never quotes the file (it
 * holds a private key). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "http/auth_int.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sl_http_auth *a = sl_calloc(1, sizeof(*a));
    struct sl_err err = { 0 };
    int rc;

    pthread_mutex_init(&a->lock, NULL);
    a->kind = AUTH_SMART_BACKEND;
    rc = auth_jwt_load_key(a, (const char *)data, size, "key", &err);
    if (rc == SL_OK) {
        char *jwt = NULL;
        size_t dots = 0, i;

        FUZZ_ASSERT(a->key != NULL);
        FUZZ_ASSERT(strcmp(a->alg, "RS384") == 0 ||
                    strcmp(a->alg, "ES384") == 0);
        a->client_id = sl_strdup("sluice");
        a->token_url = sl_strdup("http://127.0.0.1:1/token");
        a->kid = sl_strdup("k1");
        FUZZ_ASSERT(auth_jwt_assertion(a, &jwt, &err) == SL_OK);
        for (i = 0; jwt[i]; i++) {
            if (jwt[i] == '.')
                dots++;
            else
                FUZZ_ASSERT(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklm"
                                   "nopqrstuvwxyz0123456789-_",
                                   jwt[i]) != NULL);
        }
        FUZZ_ASSERT(dots == 2);
        sl_freezero(jwt, strlen(jwt));
    } else {
        FUZZ_ASSERT(a->key == NULL);
        FUZZ_ASSERT(strncmp(err.msg, "attribute 'key': ", 17) == 0);
        FUZZ_ASSERT(strstr(err.msg, "PRIVATE KEY") == NULL);
        FUZZ_ASSERT(strstr(err.msg, "MII") == NULL);
    }
    sl_http_auth_free(a);
    return 0;
}
