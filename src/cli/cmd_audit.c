/* cmd_audit.c - sluice audit verify | export: the audit trail of the state
 * store, checked (hash chain and HMACs) or written out as FHIR AuditEvent
 * resources (NDJSON) for a SIEM. Audit records hold ids, counts, profile
 * and key fingerprints, never patient data; so does the export. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "config/config.h"
#include "state/state.h"

static int
do_verify(struct sl_state *st, const struct sl_config *cfg)
{
    struct sl_audit_check ck;
    struct sl_err err = {0};
    char *key = NULL;
    size_t len = 0;
    int rc;

    if ((rc = cli_state_audit_key(cfg, &key, &len, &err)) != SL_OK)
        return cli_fail(&err);
    rc = sl_state_audit_verify(st, key, len, &ck, &err);
    sl_freezero(key, len);
    if (rc != SL_OK)
        return cli_fail(&err);
    if (ck.bad_id) {
        printf("audit trail BROKEN at record %lld (%s, %s): %s\n",
               (long long)ck.bad_id, ck.bad_time, ck.bad_action, ck.why);
        printf("%llu records before it are intact.\n",
               (unsigned long long)ck.records);
        return SL_EXIT_QUARANTINED;
    }
    printf("audit trail intact: %llu records chained", (unsigned long long)
           ck.records);
    if (ck.macs)
        printf(", %llu HMACs checked with the audit key", (unsigned long long)
               ck.macs);
    else
        printf(" (HMACs not checked: no <keys audit> in the configuration)");
    if (ck.legacy)
        printf("; %llu older records before the chain began, not covered",
               (unsigned long long)ck.legacy);
    printf(".\n");
    return SL_EXIT_OK;
}

/* One record as a FHIR R4 AuditEvent. */
static json_t *
audit_event(const struct sl_audit_rec *r)
{
    json_t *ev = json_object(), *details = json_array();
    char *id = sl_asprintf("sluice-audit-%lld", (long long)r->id);
    char *who = sl_asprintf("%s@%s", r->user ? r->user : "?",
                            r->host ? r->host : "?");

    json_object_set_new(ev, "resourceType", json_string("AuditEvent"));
    json_object_set_new(ev, "id", json_string(id));
    json_object_set_new(
        ev, "type",
        json_pack("{ss ss ss}", "system",
                  "http://dicom.nema.org/resources/ontology/DCM", "code",
                  "110100", "display", "Application Activity"));
    json_object_set_new(ev, "subtype",
                        json_pack("[{ss ss}]", "system",
                                  "urn:sluice:audit-action", "code",
                                  r->action ? r->action : "unknown"));
    json_object_set_new(ev, "action", json_string("E"));
    json_object_set_new(ev, "recorded", json_string(r->time ? r->time : ""));
    json_object_set_new(ev, "outcome", json_string("0"));
    json_object_set_new(
        ev, "agent",
        json_pack("[{s{ss} sb}]", "who", "display", who, "requestor", 1));
    json_object_set_new(
        ev, "source",
        json_pack("{ss s{ss} s[{ss ss ss}]}", "site",
                  r->host ? r->host : "?", "observer", "display",
                  "sluice " PACKAGE_VERSION, "type", "system",
                  "http://terminology.hl7.org/CodeSystem/security-source-type",
                  "code", "4", "display", "Application Server"));
    if (r->details)
        json_array_append_new(details, json_pack("{ss ss}", "type", "details",
                                                 "valueString", r->details));
    if (r->hash)
        json_array_append_new(details, json_pack("{ss ss}", "type", "hash",
                                                 "valueString", r->hash));
    if (r->prev_hash)
        json_array_append_new(details,
                              json_pack("{ss ss}", "type", "previous-hash",
                                        "valueString", r->prev_hash));
    if (r->mac)
        json_array_append_new(details, json_pack("{ss ss}", "type", "hmac",
                                                 "valueString", r->mac));
    {
        json_t *ent = json_pack(
            "{s{ss ss ss}}", "type", "system",
            "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code",
            "2", "display", "System Object");
        if (r->run_id)
            json_object_set_new(ent, "what",
                                json_pack("{s{ss ss}}", "identifier", "system",
                                          "urn:sluice:run", "value",
                                          r->run_id));
        if (r->job)
            json_object_set_new(ent, "name", json_string(r->job));
        if (json_array_size(details))
            json_object_set(ent, "detail", details);
        json_object_set_new(ev, "entity", json_pack("[o]", ent));
    }
    json_decref(details);
    free(id);
    free(who);
    return ev;
}

struct export {
    FILE *f;
    unsigned long long n;
};

static int
export_one(void *ud, const struct sl_audit_rec *r)
{
    struct export *x = ud;
    json_t *ev = audit_event(r);
    char *s = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER);

    fputs(s, x->f);
    fputc('\n', x->f);
    free(s);
    json_decref(ev);
    x->n++;
    return 0;
}

static int
do_export(struct sl_state *st, const char *out)
{
    struct export x = {0};
    struct sl_err err = {0};
    int rc;

    x.f = out ? fopen(out, "w") : stdout;
    if (x.f == NULL) {
        SL_ERR(&err, SL_EIO, "%s: cannot write", out);
        return cli_fail(&err);
    }
    rc = sl_state_audit_scan(st, export_one, &x, &err);
    if (out && fclose(x.f) != 0 && rc == SL_OK)
        rc = SL_ERR(&err, SL_EIO, "%s: cannot write", out);
    if (rc != SL_OK)
        return cli_fail(&err);
    if (out)
        fprintf(stderr, "%llu AuditEvent resources written to %s\n", x.n,
                out);
    return SL_EXIT_OK;
}

static int
exec_audit(const struct cli_cmd *self, struct cli_global *g, int argc,
           char **argv)
{
    struct sl_config *cfg = NULL;
    struct sl_state *st = NULL;
    struct sl_err err = {0};
    const char *what, *state_path = NULL, *out = NULL;
    int i, ex;

    if (argc < 2)
        return cli_usage_error(self, "verify or export?");
    what = argv[1];
    if (strcmp(what, "verify") != 0 && strcmp(what, "export") != 0)
        return cli_usage_error(self, "unknown action '%s' (verify, export)",
                               what);
    for (i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--state") == 0 && i + 1 < argc)
            state_path = argv[++i];
        else if ((strcmp(argv[i], "-o") == 0 ||
                  strcmp(argv[i], "--output") == 0) &&
                 i + 1 < argc && strcmp(what, "export") == 0)
            out = argv[++i];
        else
            return cli_usage_error(self, "unknown argument '%s'", argv[i]);
    }
    if (cli_state_open(g, state_path, &cfg, &st, &err) != SL_OK)
        return cli_fail(&err);
    ex = strcmp(what, "verify") == 0 ? do_verify(st, cfg) : do_export(st, out);
    sl_state_close(st);
    sl_config_free(cfg);
    return ex;
}

const struct cli_cmd cli_cmd_audit = {
    "audit",
    "verify | export [-o FILE] [--state PATH]",
    "check the audit trail, or export it as FHIR AuditEvent resources",
    "The state store's audit trail is append-only and tamper-evident: each\n"
    "record carries the SHA-256 hash of its content and of the record\n"
    "before it, and, when the configuration has <keys audit=\"env:...|"
    "file:...\"/>,\n"
    "an HMAC with that key (docs/operations.md).\n"
    "\n"
    "  verify   checks the chain from the first record, and every HMAC\n"
    "           with the audit key of the configuration; names the first\n"
    "           broken record (edited, removed, inserted, forged)\n"
    "  export   writes every record as a FHIR R4 AuditEvent, one JSON per\n"
    "           line (NDJSON), to stdout or -o FILE, for the site's SIEM:\n"
    "           run, job, action, user and host, time, details (counts,\n"
    "           profile and key fingerprints) and the chain's hashes\n"
    "\n"
    "Options:\n"
    "      --state PATH  the state store to read (default: the\n"
    "                    configuration's; without the configuration, HMACs\n"
    "                    are not checked)\n"
    "  -o, --output FILE export to FILE\n"
    "\n"
    "Records hold no patient data, and neither does the export.\n"
    "Exit status: 0, 3 when verify finds the trail broken, 1 or 2 on\n"
    "errors.\n",
    exec_audit,
};
