/* log.c - one line per message on stderr, as text or JSON; or one entry
 * per message in the systemd journal (its native datagram protocol, the
 * one sd_journal_send() speaks: no libsystemd needed). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "common/common.h"

static enum sl_log_level log_min = SL_LOG_INFO;
static enum sl_log_format log_fmt = SL_LOGFMT_TEXT;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int journal_fd = -1; /* connected datagram socket, or -1: stderr */

static const char *const level_names[] = {"debug", "info", "warning",
                                          "error"};

void
sl_log_setup(enum sl_log_level min, enum sl_log_format fmt)
{
    log_min = min;
    log_fmt = fmt;
}

enum sl_log_format
sl_log_get_format(void)
{
    return log_fmt;
}

int
sl_log_enabled(enum sl_log_level level)
{
    return level >= log_min;
}

int
sl_log_priority(enum sl_log_level level)
{
    /* syslog's numbers (LOG_DEBUG 7, LOG_INFO 6, LOG_WARNING 4, LOG_ERR 3) */
    switch (level) {
    case SL_LOG_DEBUG:
        return 7;
    case SL_LOG_INFO:
        return 6;
    case SL_LOG_WARN:
        return 4;
    default:
        return 3;
    }
}

int
sl_log_target_set(enum sl_log_target t, struct sl_err *err)
{
    struct sockaddr_un sa;
    int fd;

    pthread_mutex_lock(&log_lock);
    if (journal_fd >= 0)
        close(journal_fd);
    journal_fd = -1;
    pthread_mutex_unlock(&log_lock);
    if (t == SL_LOGTO_STDERR)
        return SL_OK;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", SL_JOURNAL_SOCKET);
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return SL_ERR(err, SL_EIO, "journal: cannot make a socket: %s",
                      strerror(errno));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        int e = errno;
        close(fd);
        return SL_ERR(err, SL_EIO,
                      "journal: cannot reach %s: %s (is systemd-journald "
                      "running? --log stderr writes to stderr)",
                      SL_JOURNAL_SOCKET, strerror(e));
    }
    pthread_mutex_lock(&log_lock);
    journal_fd = fd;
    pthread_mutex_unlock(&log_lock);
    return SL_OK;
}

/* One field of a journal entry: NAME=value, or for a value holding a
 * newline the binary form (NAME, newline, its length as 64-bit little
 * endian, the bytes), as the native protocol has it. */
static void
journal_field(struct sl_buf *b, const char *name, const char *v)
{
    size_t n = strlen(v ? v : ""), i;
    unsigned char len[8];

    if (v == NULL)
        v = "";
    if (memchr(v, '\n', n) == NULL) {
        sl_buf_addf(b, "%s=%s\n", name, v);
        return;
    }
    sl_buf_addf(b, "%s\n", name);
    for (i = 0; i < 8; i++)
        len[i] = (unsigned char)((uint64_t)n >> (8 * i));
    sl_buf_add(b, len, 8);
    sl_buf_add(b, v, n);
    sl_buf_adds(b, "\n");
}

/* A key of an event as a journal field name: SLUICE_ and the key in
 * capitals, anything but letters and digits as '_' (the protocol allows
 * A-Z, 0-9 and '_' only). */
static void
journal_key(char *out, size_t len, const char *k)
{
    size_t o = 0;

    o = (size_t)snprintf(out, len, "SLUICE_");
    for (; *k && o + 1 < len && o < 64; k++) {
        char c = *k;
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        else if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
            c = '_';
        out[o++] = c;
    }
    out[o] = '\0';
}

/* Sends one entry; called with log_lock held. 0, or -1 when the journal
 * did not take it (the caller writes the line to stderr). */
static int
journal_send(enum sl_log_level level, const char *event, const char *msg,
             json_t *fields)
{
    struct sl_buf b;
    const char *k;
    json_t *v;
    char prio[4], name[80];
    ssize_t w;

    sl_buf_init(&b);
    snprintf(prio, sizeof(prio), "%d", sl_log_priority(level));
    journal_field(&b, "PRIORITY", prio);
    journal_field(&b, "SYSLOG_IDENTIFIER", "sluice");
    journal_field(&b, "MESSAGE", msg ? msg : event ? event : "");
    if (event)
        journal_field(&b, "SLUICE_EVENT", event);
    json_object_foreach(fields, k, v) {
        journal_key(name, sizeof(name), k);
        journal_field(&b, name, json_string_value(v));
    }
    w = send(journal_fd, b.data, b.len, MSG_NOSIGNAL);
    sl_buf_free(&b);
    return w < 0 ? -1 : 0;
}

static void
emit(enum sl_log_level level, const char *event, const char *msg,
     json_t *fields)
{
    char ts[32];

    if ((int)level < SL_LOG_DEBUG || level > SL_LOG_ERROR)
        level = SL_LOG_ERROR;
    sl_time_iso(ts, sizeof(ts));
    pthread_mutex_lock(&log_lock);
    if (journal_fd >= 0 && journal_send(level, event, msg, fields) == 0) {
        /* the journal keeps the time, the host and the pid itself */
    } else if (log_fmt == SL_LOGFMT_JSON) {
        json_t *o = fields ? fields : json_object();
        char *line;

        json_object_set_new(o, "time", json_string(ts));
        json_object_set_new(o, "level", json_string(level_names[level]));
        if (event)
            json_object_set_new(o, "event", json_string(event));
        if (msg)
            json_object_set_new(o, "message", json_string(msg));
        line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (line) {
            fprintf(stderr, "%s\n", line);
            free(line);
        }
        if (fields == NULL)
            json_decref(o);
    } else {
        if (level >= SL_LOG_WARN)
            fprintf(stderr, "sluice: %s: %s\n", level_names[level],
                    msg ? msg : "");
        else
            fprintf(stderr, "sluice: %s\n", msg ? msg : "");
    }
    fflush(stderr);
    pthread_mutex_unlock(&log_lock);
}

void
sl_log(enum sl_log_level level, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;

    if (!sl_log_enabled(level))
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    emit(level, NULL, msg, NULL);
}

void
sl_log_event(enum sl_log_level level, const char *event, ...)
{
    struct sl_buf text;
    json_t *o;
    const char *k, *v;
    va_list ap;

    if (!sl_log_enabled(level))
        return;
    o = json_object();
    sl_buf_init(&text);
    sl_buf_adds(&text, event);
    va_start(ap, event);
    while ((k = va_arg(ap, const char *)) != NULL) {
        v = va_arg(ap, const char *);
        json_object_set_new(o, k, json_string(v ? v : ""));
        sl_buf_addf(&text, " %s=%s", k, v ? v : "");
    }
    va_end(ap);
    if (journal_fd >= 0)
        emit(level, event, text.data, o); /* MESSAGE is the text line */
    else if (log_fmt == SL_LOGFMT_JSON)
        emit(level, event, NULL, o);
    else
        emit(level, NULL, text.data, NULL);
    json_decref(o);
    sl_buf_free(&text);
}
