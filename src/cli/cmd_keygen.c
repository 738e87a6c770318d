/* cmd_keygen.c - sluice keygen: a new random pseudonym key. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "cli/cli.h"

#define KEY_BYTES 32

static int
write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t r = write(fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static int
exec_keygen(const struct cli_cmd *self, struct cli_global *g, int argc,
            char **argv)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[KEY_BYTES];
    char text[2 * KEY_BYTES + 1];
    const char *outpath = NULL;
    int i, fd = STDOUT_FILENO, rc = SL_EXIT_RUNTIME;

    (void)g;
    for (i = 1; i < argc; i++) {
        if ((strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "--output") == 0) &&
            i + 1 < argc)
            outpath = argv[++i];
        else
            return cli_usage_error(self, "unexpected argument '%s'", argv[i]);
    }
    if (outpath == NULL && isatty(STDOUT_FILENO)) {
        /* a key on a screen is in its scroll-back, a recording, a
         * shoulder's view: write it to a file */
        fprintf(stderr, "sluice keygen: not writing a key to a terminal: "
                        "use -o FILE (or redirect to a file)\n");
        return SL_EXIT_USAGE;
    }
    if (outpath == NULL) {
        struct stat st;
        /* `sluice keygen > FILE`: the shell made FILE with its umask;
         * a key file is the owner's alone, as -o makes it */
        if (fstat(STDOUT_FILENO, &st) == 0 && S_ISREG(st.st_mode) &&
            st.st_uid == geteuid() && (st.st_mode & 077) != 0 &&
            fchmod(STDOUT_FILENO, st.st_mode & 0700) != 0) {
            fprintf(stderr, "sluice keygen: cannot make the key file private: "
                            "%s\n", strerror(errno));
            goto out;
        }
    }
    if (RAND_bytes(raw, sizeof(raw)) != 1) {
        fprintf(stderr, "sluice keygen: the system's random source failed\n");
        goto out;
    }
    for (i = 0; i < KEY_BYTES; i++) {
        text[2 * i] = hex[raw[i] >> 4];
        text[2 * i + 1] = hex[raw[i] & 15];
    }
    text[2 * KEY_BYTES] = '\n';
    if (outpath != NULL) {
        /* Never overwrite a key: data pseudonymised with it would lose
         * its link to everything pseudonymised later. */
        fd = open(outpath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0) {
            fprintf(stderr, "sluice keygen: %s: %s\n", outpath,
                    errno == EEXIST ? "already exists; not overwriting a key"
                                    : strerror(errno));
            goto out;
        }
    }
    if (write_all(fd, text, sizeof(text)) != 0 ||
        (outpath != NULL && fsync(fd) != 0)) {
        fprintf(stderr, "sluice keygen: cannot write the key: %s\n",
                strerror(errno));
        goto out;
    }
    rc = SL_EXIT_OK;
out:
    if (outpath != NULL && fd >= 0 && close(fd) != 0)
        rc = SL_EXIT_RUNTIME;
    OPENSSL_cleanse(raw, sizeof(raw));
    OPENSSL_cleanse(text, sizeof(text));
    return rc;
}

const struct cli_cmd cli_cmd_keygen = {
    "keygen",
    "[-o FILE]",
    "make a new random pseudonym key",
    "Prints 64 hexadecimal characters (32 bytes from the system's random\n"
    "source) and a newline. Keep the key secret and give it to sluice as\n"
    "<keys pseudonym=\"file:PATH\"/> or \"env:NAME\". The same key gives the\n"
    "same pseudonyms on every run and machine; a new key breaks that link.\n"
    "\n"
    "Options:\n"
    "  -o, --output FILE  write the key to FILE, created with mode 0600;\n"
    "                     an existing FILE is never overwritten\n"
    "\n"
    "Without -o the key goes to standard output, which must not be a\n"
    "terminal; a file it is redirected to is made readable by its owner\n"
    "only (mode 0600).\n",
    exec_keygen,
};
