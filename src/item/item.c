/* item.c - the unit of work that flows through a pipeline. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fhir/fhir_json.h"
#include "item/item.h"

struct sl_item *
sl_item_new(enum sl_item_kind kind)
{
    struct sl_item *it = sl_calloc(1, sizeof(*it));
    it->kind = kind;
    it->fd = -1;
    return it;
}

void
sl_item_free(struct sl_item *it)
{
    size_t i;

    if (it == NULL)
        return;
    free(it->pos);
    free(it->origin);
    free(it->checkpoint);
    free(it->rtype);
    json_decref(it->resource);
    sl_freezero(it->text, it->text_len);
    sl_freezero(it->out_json, it->out_json_len);
    free(it->ref);
    if (it->full_url)
        sl_freezero(it->full_url, strlen(it->full_url));
    free(it->path);
    if (it->fd >= 0)
        close(it->fd);
    if (it->tmp_path) {
        unlink(it->tmp_path);
        free(it->tmp_path);
    }
    free(it->reason);
    free(it->stage);
    sl_freezero(it->raw, it->raw_len);
    json_decref(it->companion);
    if (it->summary && it->summary_free)
        it->summary_free(it->summary);
    free(it->summary_why);
    for (i = 0; i < it->nfindings; i++) {
        free(it->findings[i].stage);
        free(it->findings[i].code);
        free(it->findings[i].where);
    }
    free(it->findings);
    free(it);
}

void
sl_item_finding(struct sl_item *it, const char *stage, enum sl_severity sev,
                const char *code, const char *where)
{
    struct sl_finding *f;

    it->findings =
        sl_realloc(it->findings, (it->nfindings + 1) * sizeof(*it->findings));
    f = &it->findings[it->nfindings++];
    f->stage = sl_strdup(stage ? stage : "?");
    f->severity = sev;
    f->code = sl_strdup(code ? code : "?");
    f->where = where ? sl_strdup(where) : NULL;
}

char *
sl_resource_ref(const json_t *res)
{
    const char *rt = json_string_value(json_object_get(res, "resourceType"));
    const char *id = json_string_value(json_object_get(res, "id"));

    return rt && id ? sl_asprintf("%s/%s", rt, id) : NULL;
}

const char *
sl_severity_name(enum sl_severity sev)
{
    switch (sev) {
    case SL_SEV_INFO:
        return "info";
    case SL_SEV_WARNING:
        return "warning";
    case SL_SEV_ERROR:
        return "error";
    }
    return "?";
}

int
sl_item_quarantine(struct sl_item *it, const char *stage, const char *fmt,
                   ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    free(it->reason);
    free(it->stage);
    it->reason = sl_strdup(msg);
    it->stage = sl_strdup(stage);
    sl_item_finding(it, stage, SL_SEV_ERROR, "quarantined", NULL);
    return SL_EQUARANTINE;
}

/* jansson's message without its " near '...'" part, which quotes data. */
static void
json_reason(const json_error_t *je, char *out, size_t len)
{
    const char *near = strstr(je->text, " near ");
    size_t n = near ? (size_t)(near - je->text) : strlen(je->text);

    snprintf(out, len, "%.*s", (int)n, je->text);
}

/* Turns it into a bad item: the reason, and the input kept as raw. */
static void
make_bad(struct sl_item *it, const char *reason, char *raw, size_t rawlen)
{
    it->kind = SL_ITEM_BAD;
    free(it->rtype);
    it->rtype = sl_strdup("unreadable");
    sl_item_quarantine(it, "read", "%s: %s", it->pos ? it->pos : "?", reason);
    if (raw != NULL && rawlen > 0) {
        if (rawlen > SL_ITEM_RAW_MAX)
            rawlen = SL_ITEM_RAW_MAX;
        it->raw = sl_strndup(raw, rawlen);
        it->raw_len = rawlen;
    }
}

void
sl_item_parse(struct sl_item *it)
{
    json_error_t je;
    json_t *res, *rt;

    if (it->kind != SL_ITEM_FHIR || it->resource != NULL || it->text == NULL)
        return;
    res = sl_fhir_json_loadb(it->text, it->text_len, JSON_REJECT_DUPLICATES,
                             &je);
    if (res == NULL) {
        char why[256], reason[320];
        json_reason(&je, why, sizeof(why));
        snprintf(reason, sizeof(reason), "malformed JSON at column %d: %s",
                 je.column, why);
        make_bad(it, reason, it->text, it->text_len);
        goto out;
    }
    rt = json_object_get(res, "resourceType");
    if (!json_is_object(res) || !json_is_string(rt) ||
        json_string_length(rt) == 0) {
        char *dump = json_dumps(res, JSON_COMPACT);
        make_bad(it, "not a FHIR resource: no resourceType", dump,
                 dump ? strlen(dump) : 0);
        free(dump);
        json_decref(res);
        goto out;
    }
    free(it->rtype);
    it->rtype = sl_strdup(json_string_value(rt));
    it->resource = res; /* the item takes the reference */
out:
    sl_freezero(it->text, it->text_len);
    it->text = NULL;
    it->text_len = 0;
}
