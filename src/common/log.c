/* log.c - one line per message on stderr, as text or JSON. */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/common.h"

static enum sl_log_level log_min = SL_LOG_INFO;
static enum sl_log_format log_fmt = SL_LOGFMT_TEXT;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

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

static void
emit(enum sl_log_level level, const char *event, const char *msg,
     json_t *fields)
{
    char ts[32];

    if ((int)level < SL_LOG_DEBUG || level > SL_LOG_ERROR)
        level = SL_LOG_ERROR;
    sl_time_iso(ts, sizeof(ts));
    pthread_mutex_lock(&log_lock);
    if (log_fmt == SL_LOGFMT_JSON) {
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
    if (log_fmt == SL_LOGFMT_JSON)
        emit(level, event, NULL, o);
    else
        emit(level, NULL, text.data, NULL);
    json_decref(o);
    sl_buf_free(&text);
}
