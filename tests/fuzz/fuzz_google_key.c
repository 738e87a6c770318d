/* fuzz_google_key.c - fuzz target for the Google service account key file
 * of <auth type="google-service-account"> (src/http/auth_google.c): the
 * input is the key file's bytes, read by auth_google_load() as sluice
 * reads the file when a google target opens. The file is a secret: an
 * error must never quote it. */
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
    a->kind = AUTH_GOOGLE;
    rc = auth_google_load(a, (const char *)data, size, &err);
    if (rc == SL_OK) {
        /* what the token request needs is all there */
        FUZZ_ASSERT(a->key != NULL && a->client_id != NULL && a->kid != NULL &&
                    a->token_url != NULL);
        FUZZ_ASSERT(strcmp(a->alg, "RS256") == 0);
    } else {
        FUZZ_ASSERT(err.msg[0] != '\0');
        /* the message names fields and places, never a value: it holds
         * none of the input's strings of 8 bytes or more */
        FUZZ_ASSERT(strstr(err.msg, "PRIVATE KEY") == NULL);
        if (size >= 8 && memchr(data, '\0', size) == NULL) {
            char *in = sl_strndup((const char *)data, size);
            /* a long run of the input's own bytes in the message would be
             * a quote */
            FUZZ_ASSERT(size < 24 || strstr(err.msg, in + size - 24) == NULL);
            free(in);
        }
    }
    sl_http_auth_free(a);
    return 0;
}
