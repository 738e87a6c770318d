/* config_opts.c - the option table: every attribute of sluice.xml, its
 * type, bounds, default and documentation, described once (Redis style).
 * The loader checks values and fills defaults from it, `sluice
 * check-config --options` prints it, and docs/configuration.md is that
 * output, so the three cannot disagree. */
#include <config.h> /* autoconf's, not config/config.h */

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "common/cron.h"
#include "config/config.h"

#define NOB 0, 0 /* no bounds */

/* element, kind, name, type, default, required, min, max, choices, doc.
 * Rows with a NULL kind apply to every type of the element. */
const struct sl_opt sl_opt_table[] = {
    /* <keys> */
    { "keys", NULL, "pseudonym", SL_OPT_SECRET, NULL, 0, NOB, NULL,
      "The pseudonym key (at least 32 bytes; `sluice keygen` makes one). "
      "Pseudonyms, new UIDs and date shifts are derived from it." },
    { "keys", NULL, "audit", SL_OPT_SECRET, NULL, 0, NOB, NULL,
      "The audit key (at least 32 bytes, `sluice keygen`): every record of "
      "the audit trail carries an HMAC with it, so that `sluice audit "
      "verify` can tell a forged trail from the real one. Keep it apart "
      "from the state store." },
    /* <state> */
    { "state", NULL, "path", SL_OPT_PATH, "sluice-state.db", 0, NOB, NULL,
      "SQLite file holding checkpoints, runs, the quarantine index and the "
      "audit trail." },
    /* <quarantine> */
    { "quarantine", NULL, "path", SL_OPT_PATH, "quarantine", 0, NOB, NULL,
      "Folder for items held back with their reasons. It still holds "
      "patient data, so it must not lie inside a target folder." },
    { "quarantine", NULL, "key", SL_OPT_SECRET, NULL, 0, NOB, NULL,
      "The quarantine key (at least 32 bytes, `sluice keygen`): items' "
      "content, their input paths and DICOM copies are encrypted at rest "
      "with it (AES-256-GCM); `sluice quarantine show --content` and "
      "replay need it." },
    { "quarantine", NULL, "encrypt", SL_OPT_ENUM, "auto", 0, NOB,
      "auto required",
      "`required`: the configuration is refused without `key`, so that no "
      "patient data is ever quarantined in the clear; `auto`: encrypted "
      "when there is a key." },
    { "quarantine", NULL, "retention-days", SL_OPT_INT, "0", 0, 0, 36500,
      NULL,
      "Quarantined items older than this many days are deleted by "
      "`sluice quarantine purge` and by `sluice daemon` once a day; 0 "
      "keeps them until purged by hand." },
    /* <source> */
    { "source", NULL, "id", SL_OPT_STRING, NULL, 1, NOB, NULL,
      "Name of the source, unique among sources, targets and jobs." },
    { "source", NULL, "type", SL_OPT_ENUM, NULL, 1, NOB,
      "fhir-files dicom-folder fhir-bulk fhir-rest dimse dicomweb "
      "dicom-listener",
      "Kind of source: files, a DICOM folder, a FHIR server searched "
      "through its REST API (`fhir-rest`) or exported by FHIR Bulk Data "
      "`$export` (`fhir-bulk`; both docs/connectors.md), or a PACS by "
      "C-FIND and C-GET (`dimse`, docs/pacs.md) or by QIDO-RS and WADO-RS "
      "(`dicomweb`, docs/dicomweb.md), or studies pushed to sluice's own "
      "C-STORE SCP (`dicom-listener`, docs/pacs.md)." },
    { "source", "fhir-files", "path", SL_OPT_PATH, NULL, 1, NOB, NULL,
      "Folder read recursively for NDJSON (`.ndjson`) and Bundle (`.json`) "
      "files; it must exist." },
    { "source", "fhir-files", "follow-symlinks", SL_OPT_ENUM, "no", 0, NOB,
      "yes no",
      "`no`: a symbolic link in the folder is quarantined by its position "
      "and never read (a link in an export can point anywhere, a key file "
      "among others); `yes`: links are followed, a loop once." },
    { "source", "dicom-folder", "path", SL_OPT_PATH, NULL, 1, NOB, NULL,
      "Folder read recursively for DICOM files; it must exist." },
    { "source", "dicom-folder", "follow-symlinks", SL_OPT_ENUM, "no", 0, NOB,
      "yes no",
      "As for `fhir-files`: links in the folder are not followed unless "
      "`yes`." },
    { "source", "fhir-rest", "base", SL_OPT_STRING, NULL, 1, NOB, NULL,
      "Base URL of the FHIR server (`http://` or `https://`). Each type of "
      "`<resources>` is searched, page by page following the `next` "
      "links; a job with `<pull since=\"checkpoint\">` reads only what "
      "changed since its last finished run (docs/connectors.md)." },
    { "source", "fhir-rest", "page-size", SL_OPT_INT, "100", 0, 1, 10000,
      NULL, "Resources per page asked of the server (`_count`)." },
    { "source", "fhir-rest", "overlap", SL_OPT_INT, "300", 0, 0, 86400,
      NULL, "Seconds before the last run's newest `meta.lastUpdated` that "
      "an incremental search starts from (servers' clocks and commits are "
      "not atomic); what it brings again (same type, id and "
      "`meta.versionId`) is skipped." },
    { "source", "fhir-rest", "include", SL_OPT_STRING, NULL, 0, NOB, NULL,
      "`_include` values, space separated (`Observation:subject`); each is "
      "added to the search of the type it names before the colon." },
    { "source", "fhir-rest", "revinclude", SL_OPT_STRING, NULL, 0, NOB, NULL,
      "`_revinclude` values, space separated (`Provenance:target`), added "
      "to every search." },
    { "source", "fhir-rest", "search", SL_OPT_STRING, NULL, 0, NOB, NULL,
      "More search parameters, space separated, each `Type?name=value&...` "
      "(`Observation?category=laboratory`): added to that type's search as "
      "written (percent-encode what needs it)." },
    { "source", "fhir-rest", "patients", SL_OPT_PATH, NULL, 0, NOB, NULL,
      "A file of Patient ids (`123` or `Patient/123`, one a line, `#` "
      "comments): each type is searched per patient (`patient=`, `_id=` "
      "for Patient)." },
    { "source", "fhir-rest", "group", SL_OPT_STRING, NULL, 0, NOB, NULL,
      "The id of a Group on the server whose Patient members are the "
      "patient list, read when the run starts." },
    { "source", "fhir-rest", "everything", SL_OPT_ENUM, "no", 0, NOB,
      "yes no auto",
      "`yes`: with a patient list, `Patient/ID/$everything` per patient "
      "(with `_since` when incremental) instead of the searches by type; "
      "`auto`: that when the server's CapabilityStatement (`/metadata`) "
      "lists the operation, else the searches by type." },
    { "source", "fhir-rest", "deletes", SL_OPT_ENUM, "none", 0, NOB,
      "none history",
      "`history`: an incremental run also reads each type's `_history` "
      "since the last run and passes on the resources deleted since, "
      "which a `fhir-store` target deletes and a `fhir-files` target "
      "records in `deleted.ndjson`; `none`: deletions are not seen." },
    { "source", "fhir-rest", "ca-file", SL_OPT_PATH, NULL, 0, NOB, NULL,
      "As for a `fhir-store` target: the CAs to trust for `https://`." },
    { "source", "fhir-rest", "timeout", SL_OPT_INT, "300", 0, 1, 86400,
      NULL, "Seconds one request may take before it is tried again." },
    { "source", "fhir-rest", "max-attempts", SL_OPT_INT, "5", 0, 1, 100,
      NULL, "Tries of one request that gets 429, 5xx or no answer; then "
      "the run stops and the next run resumes where it stopped." },
    { "source", "dimse", "host", SL_OPT_STRING, NULL, 1, NOB, NULL,
      "Host name or address of the PACS (docs/pacs.md)." },
    { "source", "dimse", "port", SL_OPT_INT, "104", 0, 1, 65535, NULL,
      "Its DICOM port." },
    { "source", "dimse", "called-ae", SL_OPT_STRING, NULL, 1, NOB, NULL,
      "Its AE title." },
    { "source", "dimse", "calling-ae", SL_OPT_STRING, "SLUICE", 0, NOB, NULL,
      "The AE title sluice calls from; the PACS must allow it to query and "
      "retrieve." },
    { "source", "dimse", "retrieve", SL_OPT_ENUM, "c-get", 0, NOB,
      "c-get c-move",
      "How studies are retrieved: `c-get` (the instances come back on "
      "sluice's own association; nothing listens); `c-move` (the PACS "
      "sends them to sluice's own storage SCP, AE title `calling-ae` on "
      "`listen-port`, which listens only for the time of each move and "
      "takes only associations from `called-ae`)." },
    { "source", "dimse", "listen-port", SL_OPT_INT, NULL, 0, 1, 65535, NULL,
      "With `retrieve=\"c-move\"`: the port sluice's storage SCP listens "
      "on; the PACS must know `calling-ae` at this host and port." },
    { "source", "dimse", "listen-address", SL_OPT_STRING, "127.0.0.1", 0,
      NOB, NULL,
      "With `retrieve=\"c-move\"`: the IPv4 address that storage SCP "
      "listens on (the one the PACS reaches sluice at); `0.0.0.0` for "
      "every interface." },
    { "source", "dimse", "study-date", SL_OPT_STRING, NULL, 0, NOB, NULL,
      "Studies of these dates only: a DICOM date or range, `20240101`, "
      "`20240101-20241231`, `20240101-` (C-FIND Study Date)." },
    { "source", "dimse", "modality", SL_OPT_STRING, NULL, 0, NOB, NULL,
      "Studies holding this modality only (C-FIND Modalities in Study, "
      "e.g. `CT`)." },
    { "source", "dimse", "patient-ids", SL_OPT_PATH, NULL, 0, NOB, NULL,
      "File of patient ids, one a line: the studies of these patients only "
      "(one C-FIND each). Patient data: never printed. Or `source:ID`: the "
      "ids of the Patient resources that FHIR source `ID` of the same job "
      "yields (see `patient-id-system`; docs/pacs.md)." },
    { "source", "dimse", "patient-id-system", SL_OPT_STRING, NULL, 0, NOB,
      NULL,
      "With `patient-ids=\"source:ID\"`: the system of the Patient "
      "identifier that is the PACS's PatientID; without it, the identifier "
      "of type MR (v2-0203)." },
    { "source", "dimse", "accession-numbers", SL_OPT_PATH, NULL, 0, NOB,
      NULL,
      "File of accession numbers, one a line: the studies with these "
      "accession numbers only (one C-FIND each, Accession Number). Not "
      "with `patient-ids`. Patient data: never printed." },
    { "source", "dimse", "studies", SL_OPT_PATH, NULL, 0, NOB, NULL,
      "A cohort: an NDJSON file (plain or gzip) of FHIR ImagingStudy "
      "resources, such as a FHIR pull of the same cohort wrote; exactly "
      "their studies are pulled, each found by its Study Instance UID "
      "(identifier system `urn:dicom:uid`) or else its accession number "
      "(identifier type ACSN). Not with `patient-ids` or "
      "`accession-numbers`. Or `source:ID`: the ImagingStudy resources "
      "that FHIR source `ID` of the same job yields, before de-"
      "identification (docs/pacs.md)." },
    { "source", "dimse", "overlap-days", SL_OPT_INT, "1", 0, 0, 3650, NULL,
      "In a job pulling `since=\"checkpoint\"`: days before the StudyDate "
      "of the newest study the last finished run took that the next run "
      "asks for again (studies stored late); the studies it took in those "
      "days are not taken again." },
    { "source", "dimse", "tls-ca-file", SL_OPT_PATH, NULL, 0, NOB, NULL,
      "DICOM TLS: the PEM file of the CAs the PACS's certificate must chain "
      "to; given, every association is TLS (BCP 195 profile), the "
      "certificate checked (docs/pacs.md)." },
    { "source", "dimse", "tls-cert-file", SL_OPT_PATH, NULL, 0, NOB, NULL,
      "DICOM TLS: sluice's own certificate (PEM), for the PACS when it asks "
      "for a client certificate; with `tls-key-file`. With `retrieve=\"c-"
      "move\"` it also makes the PACS's association to sluice TLS." },
    { "source", "dimse", "tls-key-file", SL_OPT_PATH, NULL, 0, NOB, NULL,
      "DICOM TLS: the private key (PEM, not encrypted) of `tls-cert-file`; "
      "keep it readable by sluice only." },
    { "source", "dimse", "timeout", SL_OPT_INT, "30", 0, 1, 3600, NULL,
      "Seconds to connect, to negotiate and to wait for each answer." },
    { "source", "dimse", "max-attempts", SL_OPT_INT, "5", 0, 1, 100, NULL,
      "Tries of a C-FIND, and of a study's C-GET while instances it listed "
      "are missing; then the run stops (no answer) or the missing ones are "
      "reported in the quarantine." },
    { "source", "dicomweb", "base", SL_OPT_STRING, NULL, 1, NOB, NULL,
      "The DICOMweb root of the PACS (`http://` or `https://`, e.g. "
      "`https://pacs/dicom-web`): studies are searched by QIDO-RS "
      "(`BASE/studies`) and retrieved by WADO-RS, instances streamed to "
      "disk (docs/dicomweb.md). An `<auth>` inside authenticates to it." },
    { "source", "dicomweb", "study-date", SL_OPT_STRING, NULL, 0, NOB, NULL,
      "As for `dimse`: a DICOM date or range (QIDO-RS `StudyDate`)." },
    { "source", "dicomweb", "modality", SL_OPT_STRING, NULL, 0, NOB, NULL,
      "Studies holding this modality only (`ModalitiesInStudy`)." },
    { "source", "dicomweb", "patient-ids", SL_OPT_PATH, NULL, 0, NOB, NULL,
      "File of patient ids, one a line: one search each (`PatientID`). "
      "Patient data: never printed. Or `source:ID`, as for `dimse`: the "
      "ids of the Patient resources FHIR source `ID` of the job yields." },
    { "source", "dicomweb", "patient-id-system", SL_OPT_STRING, NULL, 0, NOB,
      NULL, "As for `dimse`: with `patient-ids=\"source:ID\"`, the system "
      "of the Patient identifier that is the PatientID (else type MR)." },
    { "source", "dicomweb", "studies", SL_OPT_STRING, NULL, 0, NOB, NULL,
      "`source:ID`: the studies that the ImagingStudy resources FHIR "
      "source `ID` of the job yields name (one search each, by "
      "`StudyInstanceUID`, else `AccessionNumber`; docs/pacs.md). Not with "
      "`patient-ids` or `accession-numbers`." },
    { "source", "dicomweb", "accession-numbers", SL_OPT_PATH, NULL, 0, NOB,
      NULL, "File of accession numbers, one a line: one search each "
      "(`AccessionNumber`); not with `patient-ids`. Never printed." },
    { "source", "dicomweb", "page-size", SL_OPT_INT, "100", 0, 1, 10000,
      NULL, "Results per QIDO-RS page asked (`limit`; pages follow by "
      "`offset`)." },
    { "source", "dicomweb", "ca-file", SL_OPT_PATH, NULL, 0, NOB, NULL,
      "As for a `fhir-store` target: the CAs to trust for `https://`." },
    { "source", "dicomweb", "timeout", SL_OPT_INT, "300", 0, 1, 86400, NULL,
      "Seconds one request (a whole study's retrieve too) may take before "
      "it is tried again." },
    { "source", "dicomweb", "max-attempts", SL_OPT_INT, "5", 0, 1, 100, NULL,
      "Tries of one request that gets 429, 5xx or no answer (then the run "
      "stops and resumes later), and of a study while instances QIDO-RS "
      "listed are missing (then they are reported in the quarantine)." },
    { "source", "dicom-listener", "ae-title", SL_OPT_STRING, "SLUICE", 0,
      NOB, NULL, "The AE title sluice answers as (docs/pacs.md)." },
    { "source", "dicom-listener", "port", SL_OPT_INT, NULL, 1, 1, 65535,
      NULL, "The port it listens on, for the time of a run." },
    { "source", "dicom-listener", "address", SL_OPT_STRING, "127.0.0.1", 0,
      NOB, NULL, "The IPv4 address it listens on; `0.0.0.0` for every "
      "interface." },
    { "source", "dicom-listener", "allow", SL_OPT_STRING, NULL, 1, NOB, NULL,
      "Who may send, space separated, each `AE@ADDRESS` (`PACS@10.1.2.3`): "
      "an association from another AE title or address is refused and "
      "logged." },
    { "source", "dicom-listener", "max-associations", SL_OPT_INT, "4", 0, 1,
      64, NULL, "Associations at once (one thread each); more are refused "
      "until one ends." },
    { "source", "dicom-listener", "sop-classes", SL_OPT_STRING, NULL, 0, NOB,
      NULL, "Storage SOP classes accepted, space separated, by UID or "
      "DCMTK's name (`CTImageStorage`); default: every storage class." },
    { "source", "dicom-listener", "transfer-syntaxes", SL_OPT_STRING, NULL,
      0, NOB, NULL, "Transfer syntaxes accepted, space separated: `explicit`, "
      "`implicit`, `deflated`, `jpeg-baseline`, `jpeg-extended`, "
      "`jpeg-lossless`, `jpeg-ls-lossless`, `jpeg-ls`, `jpeg2000-lossless`, "
      "`jpeg2000`, `rle`, a UID or DCMTK's name; default: all of these but "
      "`jpeg-ls`." },
    { "source", "dicom-listener", "quiet-time", SL_OPT_INT, "10", 0, 1,
      86400, NULL, "Seconds without a new instance of a study after which "
      "the study counts as complete." },
    { "source", "dicom-listener", "idle-exit", SL_OPT_INT, "0", 0, 0,
      31536000, NULL, "End the run once nothing has come for this many "
      "seconds (no association open, every study complete); `0`: listen "
      "until the run is stopped (SIGTERM)." },
    { "source", "dicom-listener", "timeout", SL_OPT_INT, "30", 0, 1, 3600,
      NULL, "Seconds to wait for each message of an open association." },
    { "source", "dicom-listener", "tls-cert-file", SL_OPT_PATH, NULL, 0, NOB,
      NULL,
      "DICOM TLS: sluice's certificate (PEM); given, every association is "
      "TLS (BCP 195 profile), with `tls-key-file` and `tls-ca-file` "
      "(docs/pacs.md)." },
    { "source", "dicom-listener", "tls-key-file", SL_OPT_PATH, NULL, 0, NOB,
      NULL,
      "DICOM TLS: the private key (PEM, not encrypted) of `tls-cert-file`; "
      "keep it readable by sluice only." },
    { "source", "dicom-listener", "tls-ca-file", SL_OPT_PATH, NULL, 0, NOB,
      NULL,
      "DICOM TLS: the PEM file of the CAs a sender's client certificate "
      "must chain to (a sender without one is refused)." },
    { "source", "fhir-bulk", "base", SL_OPT_STRING, NULL, 1, NOB, NULL,
      "Base URL of the FHIR server that offers `$export` (`http://` or "
      "`https://`); an `<auth>` inside authenticates to it "
      "(docs/connectors.md)." },
    { "source", "fhir-bulk", "level", SL_OPT_ENUM, "system", 0, NOB,
      "system patient group",
      "`system`: `[base]/$export`; `patient`: `[base]/Patient/$export`; "
      "`group`: `[base]/Group/[group]/$export`." },
    { "source", "fhir-bulk", "group", SL_OPT_STRING, NULL, 0, NOB, NULL,
      "The Group's id, for `level=\"group\"`." },
    { "source", "fhir-bulk", "types", SL_OPT_STRING, NULL, 0, NOB, NULL,
      "Resource types to export (`_type`), space separated; default: "
      "what the server exports." },
    { "source", "fhir-bulk", "type-filter", SL_OPT_STRING, NULL, 0, NOB,
      NULL, "`_typeFilter` queries (`Observation?category=laboratory`), "
      "space separated; each is sent as its own `_typeFilter`." },
    { "source", "fhir-bulk", "since", SL_OPT_STRING, NULL, 0, NOB, NULL,
      "`_since` of the first export (a FHIR instant, "
      "`2024-01-31T00:00:00Z`). Later runs of a job pulling "
      "`since=\"checkpoint\"` ask for changes since the last finished "
      "run's `transactionTime`." },
    { "source", "fhir-bulk", "output-format", SL_OPT_STRING,
      "application/fhir+ndjson", 0, NOB, NULL,
      "`_outputFormat` asked for (NDJSON; the files may come gzipped)." },
    { "source", "fhir-bulk", "downloads", SL_OPT_INT, "2", 0, 1, 16, NULL,
      "Output files downloaded at once (each into a private folder in "
      "`$TMPDIR`, at most this many plus one ahead of the pipeline)." },
    { "source", "fhir-bulk", "max-wait", SL_OPT_INT, "86400", 0, 1, 604800,
      NULL, "Seconds to wait for the server to finish the export before "
      "the run fails (it resumes with the same export)." },
    { "source", "fhir-bulk", "ca-file", SL_OPT_PATH, NULL, 0, NOB, NULL,
      "As for `fhir-store`." },
    { "source", "fhir-bulk", "timeout", SL_OPT_INT, "300", 0, 1, 86400,
      NULL, "Seconds one request (a file download too) may take before it "
      "is tried again." },
    { "source", "fhir-bulk", "max-attempts", SL_OPT_INT, "5", 0, 1, 100,
      NULL, "Tries of one request that gets 429, 5xx or no answer (a reset "
      "or a truncated file); then the run stops and resumes later." },
    /* <target> */
    { "target", NULL, "id", SL_OPT_STRING, NULL, 1, NOB, NULL,
      "Name of the target, unique among sources, targets and jobs." },
    { "target", NULL, "type", SL_OPT_ENUM, NULL, 1, NOB,
      "fhir-files dicom-folder fhir-store dicom-store stow-rs",
      "Kind of target: files, a DICOM folder, a FHIR server (docs/"
      "connectors.md) or a DICOM node by C-STORE (docs/pacs.md) or STOW-RS "
      "(docs/dicomweb.md)." },
    { "target", "fhir-files", "path", SL_OPT_PATH, NULL, 1, NOB, NULL,
      "Folder the FHIR output is written to (created when missing)." },
    { "target", "fhir-files", "format", SL_OPT_ENUM, "ndjson", 0, NOB,
      "ndjson bundle",
      "`ndjson`: one file per resource type, one resource per line; "
      "`bundle`: FHIR Bundle files." },
    { "target", "fhir-files", "bundle-size", SL_OPT_INT, "200", 0, 1, 100000,
      NULL, "Resources per Bundle file when format is `bundle`." },
    { "target", "dicom-folder", "path", SL_OPT_PATH, NULL, 1, NOB, NULL,
      "Folder the de-identified DICOM files are written to (created when "
      "missing)." },
    { "target", "dicom-folder", "layout", SL_OPT_ENUM, "patient/study/series",
      0, NOB, "patient/study/series flat folders dicomdir zip",
      "`patient/study/series`: PatientID/StudyUID/SeriesUID/SOPUID.dcm; "
      "`flat`: all files in one folder (both as before: any instance, "
      "a counts-only manifest.json). With a manifest (manifest.json and "
      "manifest.csv: studies, series, counts, new UIDs, method, SHA-256 "
      "per file) and de-identified instances only, the others quarantined: "
      "`folders`: PATIENT/study-UID/MOD-SERIESUID/SOPUID.dcm, the manifests "
      "rewritten over everything delivered at the end of each run; "
      "`dicomdir`: a DICOMDIR media set, brought up to date at the end of "
      "each run; "
      "`zip`: RUN-ID.zip per run with that run's new instances and their "
      "manifests. See docs/deid.md, Export." },
    { "target", "fhir-store", "base", SL_OPT_STRING, NULL, 1, NOB, NULL,
      "Base URL of the FHIR store (`http://` or `https://`). Each resource "
      "is sent as an idempotent `PUT Type/id`, so a re-run never "
      "duplicates (docs/connectors.md)." },
    { "target", "fhir-store", "bundle", SL_OPT_ENUM, "transaction", 0, NOB,
      "transaction batch none",
      "`transaction` or `batch`: resources go in Bundles of `bundle-size` "
      "entries (a refused transaction is split in halves until the "
      "refused resource is found); `none`: one request per resource." },
    { "target", "fhir-store", "bundle-size", SL_OPT_INT, "50", 0, 1, 1000,
      NULL, "Resources per transaction or batch Bundle." },
    { "target", "fhir-store", "ca-file", SL_OPT_PATH, NULL, 0, NOB, NULL,
      "PEM file of the certificate authorities to trust for `https://` "
      "(default: the system's). TLS peers are always verified." },
    { "target", "fhir-store", "timeout", SL_OPT_INT, "300", 0, 1, 86400,
      NULL, "Seconds one request may take before it is tried again." },
    { "target", "fhir-store", "max-attempts", SL_OPT_INT, "5", 0, 1, 100,
      NULL, "Tries of one request that gets 429, 5xx or no answer; then "
      "its resources are quarantined (429, 5xx) or the run stops (no "
      "answer)." },
    { "target", "fhir-store", "flavour", SL_OPT_ENUM, "generic", 0, NOB,
      "generic google azure aws-healthlake",
      "The kind of server, checked against `base` and `<auth>`: `google` "
      "(Cloud Healthcare API: `base` ends in `projects/P/locations/L/"
      "datasets/D/fhirStores/S/fhir`, `<auth type=\"google-service-"
      "account\">`), `azure` (Health Data Services: `<auth type=\"client-"
      "credentials\">` from Microsoft Entra, `scope` `BASE/.default` unless "
      "given), `aws-healthlake` (`base` ends in `datastore/ID/r4`, `<auth "
      "type=\"aws-sigv4\">` with service `healthlake`); `generic`: any FHIR "
      "server (docs/connectors.md)." },
    { "target", "fhir-store", "concurrency", SL_OPT_INT, "1", 0, 1, 64, NULL,
      "Bundles (or resources, with `bundle=\"none\"`) in flight at once. "
      "Above 1, a Bundle may reach the server before an earlier one: a "
      "server that checks references between Bundles may refuse it." },
    { "target", "fhir-store", "conditional", SL_OPT_ENUM, "none", 0, NOB,
      "none identifier",
      "`identifier`: a resource with an `identifier` is sent as a "
      "conditional create (`POST` with `ifNoneExist` on its first "
      "identifier) instead of a `PUT` by id, so a resource the server "
      "already holds under another id is not copied; the server then "
      "chooses the id and references to it within the Bundle go through "
      "its `urn:uuid` fullUrl." },
    { "target", "dicom-store", "host", SL_OPT_STRING, NULL, 1, NOB, NULL,
      "Host name or address of the DICOM node that receives the "
      "de-identified instances by C-STORE (docs/pacs.md)." },
    { "target", "dicom-store", "port", SL_OPT_INT, "104", 0, 1, 65535, NULL,
      "Its DICOM port." },
    { "target", "dicom-store", "called-ae", SL_OPT_STRING, NULL, 1, NOB, NULL,
      "Its AE title (1 to 16 characters)." },
    { "target", "dicom-store", "calling-ae", SL_OPT_STRING, "SLUICE", 0, NOB,
      NULL, "The AE title sluice calls from; the node must know it." },
    { "target", "dicom-store", "convert", SL_OPT_ENUM, "lossless", 0, NOB,
      "lossless never",
      "Each instance is offered in its own transfer syntax. `lossless`: "
      "when the node does not accept it for the SOP class, the instance is "
      "sent uncompressed (decoded losslessly); `never`: it is quarantined "
      "instead. Nothing is ever encoded lossily." },
    { "target", "dicom-store", "tls-ca-file", SL_OPT_PATH, NULL, 0, NOB, NULL,
      "DICOM TLS: the PEM file of the CAs the node's certificate must chain "
      "to; given, every association is TLS (BCP 195 profile), the "
      "certificate checked (docs/pacs.md)." },
    { "target", "dicom-store", "tls-cert-file", SL_OPT_PATH, NULL, 0, NOB, NULL,
      "DICOM TLS: sluice's own certificate (PEM), for the node when it asks "
      "for a client certificate; with `tls-key-file`." },
    { "target", "dicom-store", "tls-key-file", SL_OPT_PATH, NULL, 0, NOB, NULL,
      "DICOM TLS: the private key (PEM, not encrypted) of `tls-cert-file`; "
      "keep it readable by sluice only." },
    { "target", "dicom-store", "timeout", SL_OPT_INT, "30", 0, 1, 3600, NULL,
      "Seconds to connect, to negotiate an association and to wait for a "
      "C-STORE response." },
    { "target", "dicom-store", "max-attempts", SL_OPT_INT, "5", 0, 1, 100,
      NULL, "Tries of one instance when the node cannot be reached or the "
      "association breaks; then the run stops (nothing is quarantined for "
      "an outage). A C-STORE answered with a failure status is not tried "
      "again: the instance is quarantined with the status." },
    { "target", "dicom-store", "skip-existing", SL_OPT_ENUM, "yes", 0, NOB,
      "yes no",
      "`yes`: the instances the node already holds (one C-FIND at image "
      "level per study) are not sent again, so a re-run sends only what is "
      "missing; a node that takes no C-FIND gets every instance. `no`: "
      "every instance is sent." },
    { "target", "stow-rs", "base", SL_OPT_STRING, NULL, 1, NOB, NULL,
      "The DICOMweb root of the node (`http://` or `https://`): instances "
      "are sent by STOW-RS (`POST BASE/studies`), several in one "
      "multipart/related request (docs/dicomweb.md). An `<auth>` inside "
      "authenticates to it." },
    { "target", "stow-rs", "chunk-size", SL_OPT_INT, "16", 0, 1, 1024, NULL,
      "MiB of instances per STOW-RS request (an instance larger than that "
      "goes alone); a request is also sent at every checkpoint." },
    { "target", "stow-rs", "skip-existing", SL_OPT_ENUM, "yes", 0, NOB,
      "yes no",
      "`yes`: the instances the node already holds (one QIDO-RS listing "
      "per study) are not sent again, so a re-run sends only what is "
      "missing; `no`: every instance is sent." },
    { "target", "stow-rs", "ca-file", SL_OPT_PATH, NULL, 0, NOB, NULL,
      "As for `fhir-store`." },
    { "target", "stow-rs", "timeout", SL_OPT_INT, "300", 0, 1, 86400, NULL,
      "Seconds one request may take before it is tried again." },
    { "target", "stow-rs", "max-attempts", SL_OPT_INT, "5", 0, 1, 100, NULL,
      "Tries of one request that gets 429, 5xx or no answer; then the run "
      "stops (nothing is quarantined for an outage). Instances the node "
      "refuses (its FailedSOPSequence, or a 4xx) are quarantined." },
    /* <auth>, in a fhir-rest source or a fhir-store target */
    { "auth", NULL, "type", SL_OPT_ENUM, NULL, 1, NOB,
      "basic bearer client-credentials smart-backend aws-sigv4 mtls "
      "google-service-account",
      "How sluice authenticates to the server (docs/connectors.md has an "
      "example of each); `mtls`: a client certificate only." },
    { "auth", "basic", "user", SL_OPT_STRING, NULL, 1, NOB, NULL,
      "User name for HTTP Basic authentication." },
    { "auth", "basic", "password", SL_OPT_SECRET, NULL, 1, NOB, NULL,
      "Password for HTTP Basic authentication." },
    { "auth", "bearer", "token", SL_OPT_SECRET, NULL, 1, NOB, NULL,
      "A fixed bearer token." },
    { "auth", "client-credentials", "client-id", SL_OPT_STRING, NULL, 1, NOB,
      NULL, "OAuth 2.0 client id." },
    { "auth", "client-credentials", "client-secret", SL_OPT_SECRET, NULL, 1,
      NOB, NULL,
      "OAuth 2.0 client secret, sent to the token endpoint as HTTP Basic "
      "(`client_secret_basic`)." },
    { "auth", "client-credentials", "token-url", SL_OPT_STRING, NULL, 1, NOB,
      NULL, "OAuth 2.0 token endpoint." },
    { "auth", "client-credentials", "scope", SL_OPT_STRING, NULL, 0, NOB, NULL,
      "Scopes to request, space separated." },
    { "auth", "client-credentials", "ca-file", SL_OPT_PATH, NULL, 0, NOB,
      NULL,
      "CA certificates (PEM) the token endpoint's certificate must chain "
      "to, instead of the system's." },
    { "auth", "smart-backend", "client-id", SL_OPT_STRING, NULL, 1, NOB, NULL,
      "SMART Backend Services client id." },
    { "auth", "smart-backend", "key", SL_OPT_SECRET, NULL, 1, NOB, NULL,
      "Private key (PEM) that signs the client assertion." },
    { "auth", "smart-backend", "token-url", SL_OPT_STRING, NULL, 1, NOB, NULL,
      "Token endpoint of the authorization server." },
    { "auth", "smart-backend", "scope", SL_OPT_STRING, NULL, 0, NOB, NULL,
      "Scopes to request, space separated (e.g. `system/Patient.rs`)." },
    { "auth", "smart-backend", "kid", SL_OPT_STRING, NULL, 1, NOB, NULL,
      "Key id of the key in the JWKS registered with the server; sent as "
      "the client assertion's `kid` header. The key's type chooses the "
      "algorithm: RSA signs RS384, EC P-384 signs ES384." },
    { "auth", "smart-backend", "ca-file", SL_OPT_PATH, NULL, 0, NOB, NULL,
      "As for `client-credentials`." },
    { "auth", "aws-sigv4", "region", SL_OPT_STRING, NULL, 1, NOB, NULL,
      "AWS region of the service, e.g. `us-east-1`." },
    { "auth", "aws-sigv4", "service", SL_OPT_STRING, "healthlake", 0, NOB,
      NULL, "AWS service name signed into every request." },
    { "auth", "aws-sigv4", "access-key-id", SL_OPT_SECRET, NULL, 1, NOB, NULL,
      "AWS access key id." },
    { "auth", "aws-sigv4", "secret-access-key", SL_OPT_SECRET, NULL, 1, NOB,
      NULL, "AWS secret access key." },
    { "auth", "aws-sigv4", "session-token", SL_OPT_SECRET, NULL, 0, NOB, NULL,
      "AWS session token of temporary credentials, sent as "
      "`x-amz-security-token`." },
    { "auth", "google-service-account", "key", SL_OPT_SECRET, NULL, 1, NOB,
      NULL,
      "The service account's JSON key file (`file:PATH`), as the Cloud "
      "console makes it; its RSA key signs the RS256 JWT exchanged for a "
      "token." },
    { "auth", "google-service-account", "token-url", SL_OPT_STRING, NULL, 0,
      NOB, NULL,
      "Token endpoint (default: the key file's `token_uri`)." },
    { "auth", "google-service-account", "scope", SL_OPT_STRING,
      "https://www.googleapis.com/auth/cloud-healthcare", 0, NOB, NULL,
      "Scopes signed into the JWT, space separated." },
    { "auth", "google-service-account", "ca-file", SL_OPT_PATH, NULL, 0, NOB,
      NULL, "As for `client-credentials`." },
    { "auth", NULL, "client-cert", SL_OPT_PATH, NULL, 0, NOB, NULL,
      "Client certificate (PEM) for mutual TLS, with any auth type; "
      "required for `mtls`." },
    { "auth", NULL, "client-key", SL_OPT_PATH, NULL, 0, NOB, NULL,
      "Private key (PEM) of the client certificate; required with "
      "`client-cert`." },
    { "auth", NULL, "client-key-password", SL_OPT_SECRET, NULL, 0, NOB, NULL,
      "Password of an encrypted `client-key`." },
    /* <job> */
    { "job", NULL, "id", SL_OPT_STRING, NULL, 1, NOB, NULL,
      "Name of the job (`sluice run ID`), unique among sources, targets and "
      "jobs." },
    { "job", NULL, "schedule", SL_OPT_CRON, NULL, 0, NOB, NULL,
      "When `sluice daemon` runs the job: minute hour day-of-month month "
      "day-of-week, with names (`jan`, `mon`) and steps (`*/15`), or "
      "`@hourly`, `@daily`, `@weekly`, `@monthly`, `@yearly`. Without it the "
      "job runs only when asked." },
    { "job", NULL, "timezone", SL_OPT_STRING, NULL, 0, NOB, NULL,
      "Time zone of the schedule, a name of the system's time zone "
      "database (`Europe/Berlin`, `UTC`); without it the machine's. "
      "Daylight-saving changes are handled as cron does: a fixed time the "
      "clocks skip runs right after the change, one they repeat runs once." },
    { "job", NULL, "missed", SL_OPT_ENUM, "once", 0, NOB, "once skip",
      "What `sluice daemon` does with runs of the schedule missed while it "
      "was not running: `once`: one run when it starts; `skip`: none, the "
      "job waits for its next time." },
    { "job", NULL, "jitter", SL_OPT_INT, "0", 0, 0, 3600, NULL,
      "Seconds: each scheduled run starts up to this much later, at random, "
      "so that many gateways on one schedule do not reach a server at "
      "once." },
    { "pull", NULL, "from", SL_OPT_IDREFS, NULL, 1, NOB, NULL,
      "Ids of the sources to read, space separated." },
    { "pull", NULL, "since", SL_OPT_ENUM, "checkpoint", 0, NOB,
      "checkpoint all",
      "`checkpoint`: only what is new since the last successful run; "
      "`all`: everything." },
    { "deid", NULL, "profile", SL_OPT_STRING, NULL, 1, NOB, NULL,
      "A built-in profile (`basic`, `longitudinal`, `safe-harbor`) or the "
      "path of a site profile (`.xml`); a site profile must exist." },
    { "deid", NULL, "explain", SL_OPT_PATH, NULL, 0, NOB, NULL,
      "Where to write, when the run finishes, each rule's element paths "
      "and DICOM tags and how many times it applied (never values), as "
      "`sluice deid --explain` prints it; `-` for standard output." },
    { "deid", NULL, "provenance", SL_OPT_ENUM, "no", 0, NOB, "yes no",
      "`yes`: a FHIR Provenance naming the profile chain and sluice for "
      "the resources delivered, as `sluice deid --provenance`." },
    { "deid", NULL, "reference-base", SL_OPT_STRING, NULL, 0, NOB, NULL,
      "The base URL (`https://research.example.org/fhir`) that absolute "
      "FHIR references and Bundle `fullUrl`s get in place of the base of "
      "the server they came from, whose name is never kept. Without it, "
      "absolute references become relative (`Patient/<pseudonym>`) and "
      "absolute `fullUrl`s `urn:uuid:` of a UUID made of the resource's "
      "pseudonymous id. An absolute `http://` or `https://` URL without "
      "query or fragment." },
    { "deid", NULL, "reid-map", SL_OPT_PATH, NULL, 0, NOB, NULL,
      "An encrypted re-identification map to append original -> pseudonym "
      "pairs to (PatientID, Study/Series/SOP Instance UID, "
      "AccessionNumber, FHIR Patient MRNs); read it with `sluice reid`. "
      "Needs `reid-key`." },
    { "deid", NULL, "reid-key", SL_OPT_SECRET, NULL, 0, NOB, NULL,
      "The map's key (`env:NAME` or `file:PATH`, at least 32 bytes, not "
      "the pseudonym key)." },
    { "translate", NULL, "maps", SL_OPT_PATH, NULL, 0, NOB, NULL,
      "Terminology maps, space separated: FHIR R4 ConceptMap files "
      "(`.json`), CSV maps (`.csv`) or the names of shipped maps "
      "(`lab-local-to-loinc`); see docs/terminology.md. Needed unless "
      "`server` or `units` is given." },
    { "translate", NULL, "policy", SL_OPT_ENUM, "add", 0, NOB, "add replace",
      "`add`: the target coding goes beside the original; `replace`: in "
      "its place." },
    { "translate", NULL, "unmapped", SL_OPT_ENUM, "keep", 0, NOB,
      "keep quarantine drop",
      "A coding of a mapped system that no map translates: `keep` it "
      "(with an `unmapped` finding), `quarantine` the resource, or `drop` "
      "the coding." },
    { "translate", NULL, "elements", SL_OPT_STRING, NULL, 0, NOB, NULL,
      "Element paths whose Codings and CodeableConcepts are translated, "
      "space separated (`Observation.component.code`). Default: "
      "`Observation.code Observation.valueCodeableConcept Condition.code "
      "Procedure.code MedicationRequest.medicationCodeableConcept "
      "DiagnosticReport.code`." },
    { "translate", NULL, "target", SL_OPT_STRING, NULL, 0, NOB, NULL,
      "Only translate into this system (`http://loinc.org`), as "
      "`$translate`'s `targetsystem`." },
    { "translate", NULL, "units", SL_OPT_PATH, NULL, 0, NOB, NULL,
      "A unit conversion table (`.csv`) or the name of a shipped one "
      "(`units-si`, `units-conventional`): Observation Quantities of the "
      "analytes it names are converted to its UCUM units in exact decimal "
      "arithmetic, keeping the original's significant digits." },
    { "translate", NULL, "units-original", SL_OPT_ENUM, "no", 0, NOB,
      "yes no",
      "`yes`: each converted Quantity keeps its original in an extension "
      "(`urn:sluice:fhir:StructureDefinition:original-quantity`)." },
    { "translate", NULL, "times", SL_OPT_ENUM, "keep", 0, NOB, "keep utc",
      "`utc`: every dateTime and instant with a time and an offset "
      "becomes the same instant in UTC, precision kept "
      "(`2024-03-01T00:30:00.25+01:00` -> `2024-02-29T23:30:00.25Z`); "
      "dates and times without an offset are left as they are." },
    { "translate", NULL, "server", SL_OPT_STRING, NULL, 0, NOB, NULL,
      "The FHIR base URL of a terminology server whose ConceptMap "
      "`remote-map` is asked (`ConceptMap/$translate`) after the local "
      "maps; needs `remote-map` and `remote-source`. A coding it could not "
      "translate sends its resource to the quarantine." },
    { "translate", NULL, "remote-map", SL_OPT_STRING, NULL, 0, NOB, NULL,
      "The canonical url of the ConceptMap on `server`." },
    { "translate", NULL, "remote-source", SL_OPT_STRING, NULL, 0, NOB, NULL,
      "The source systems `remote-map` translates, space separated: only "
      "codings of these systems are sent." },
    { "translate", NULL, "cache", SL_OPT_PATH, NULL, 0, NOB, NULL,
      "An SQLite file keeping the server's answers across runs (made when "
      "missing); without it they are kept in memory for the run." },
    { "translate", NULL, "cache-ttl", SL_OPT_INT, "86400", 0, 1, 315360000, NULL,
      "Seconds an answer of the server is kept." },
    { "translate", NULL, "batch", SL_OPT_INT, "50", 0, 0, 1000, NULL,
      "Codings asked in one batch Bundle of `$translate` calls; 0: one "
      "request a coding." },
    { "validate", NULL, "profiles", SL_OPT_PATH, NULL, 0, NOB, NULL,
      "Profiles every FHIR resource is also validated against, space "
      "separated: StructureDefinition files (`.json`, `.xml`), canonical "
      "URLs of profiles in an `ig`, or folders of profiles (each applied to "
      "the resources of its type). Without it, resources are validated against "
      "FHIR R4 and the profiles their `meta.profile` names; see "
      "docs/validation.md." },
    { "validate", NULL, "ig", SL_OPT_PATH, NULL, 0, NOB, NULL,
      "Implementation guides, space separated: folders of JSON "
      "conformance resources or FHIR packages (`.tgz`); their profiles, "
      "ValueSets and CodeSystems become known." },
    { "validate", NULL, "on-error", SL_OPT_ENUM, "quarantine", 0, NOB,
      "quarantine warn",
      "A resource with validation errors: `quarantine` it (the reason "
      "names the first error's element) or `warn` (findings only, the "
      "resource goes on)." },
    { "validate", NULL, "unknown-extensions", SL_OPT_ENUM, "warning", 0, NOB,
      "warning error",
      "An extension whose definition is not loaded (neither R4 core nor an "
      "`ig`): a `warning` (\"could not check\") or an `error` (the resource "
      "is invalid); as `sluice validate --unknown-extensions`." },
    { "validate", NULL, "security-checks", SL_OPT_ENUM, "no", 0, NOB,
      "no yes",
      "`yes`: a string holding HTML markup (`<script>`, `<img>`, ...) is an "
      "error; as `sluice validate --security-checks`." },
    { "validate", NULL, "example-urls", SL_OPT_ENUM, "allow", 0, NOB,
      "allow error",
      "`error`: a `uri`, `url` or `canonical` on an example domain "
      "(example.org, example.com, ...) is an error; as `sluice validate "
      "--no-example-urls`." },
    { "validate", NULL, "terminology-server", SL_OPT_STRING, NULL, 0, NOB,
      NULL,
      "A FHIR terminology server's base URL: a required or extensible "
      "binding, or an invariant's `memberOf()`, whose ValueSet cannot be "
      "expanded from what is loaded is asked of it "
      "(`ValueSet/$validate-code`, answers cached for the run). The server "
      "down or not knowing the ValueSet: a warning \"could not check\", "
      "never a silent pass. A server that wants authentication gets an "
      "`<auth>` child, as `<translate>`'s." },
    { "push", NULL, "to", SL_OPT_IDREFS, NULL, 0, NOB, NULL,
      "Ids of the targets that receive the job's items, space separated. "
      "Each target takes the kinds of item its type takes (`fhir-files` "
      "and `fhir-store`: FHIR resources; `dicom-folder`: DICOM instances) "
      "and gets every such item, exactly once." },
    { "push", NULL, "fhir", SL_OPT_IDREFS, NULL, 0, NOB, NULL,
      "The older form: ids of targets that receive FHIR resources (a "
      "`fhir-files` or `fhir-store` target); checked to take them." },
    { "push", NULL, "dicom", SL_OPT_IDREFS, NULL, 0, NOB, NULL,
      "The older form: ids of targets that receive DICOM instances (a "
      "`dicom-folder` target); checked to take them." },
    { "push", NULL, "bundle", SL_OPT_ENUM, "transaction", 0, NOB,
      "transaction batch none",
      "How resources are grouped when posted to a FHIR store." },
    { "push", NULL, "size", SL_OPT_INT, "200", 0, 1, 100000, NULL,
      "Resources per transaction or batch posted to a FHIR store." },
    { NULL, NULL, NULL, SL_OPT_STRING, NULL, 0, NOB, NULL, NULL },
};

/* What each element is for, in the order the reference lists them. */
static const struct {
    const char *element;
    const char *where;
    const char *doc;
} elements[] = {
    { "keys", "in `<sluice>`, at most once",
      "Where the secret keys come from." },
    { "state", "in `<sluice>`, at most once", "The state store." },
    { "quarantine", "in `<sluice>`, at most once",
      "Where items that fail a check are held." },
    { "source", "in `<sluice>`, any number",
      "Where data comes from. A `fhir-rest`, `fhir-bulk` or `dicomweb` "
      "source may hold one `<auth>`; a `fhir-rest` source also one `<resources>` "
      "(resource types, space separated)." },
    { "target", "in `<sluice>`, any number",
      "Where de-identified data goes. A `fhir-store` or `stow-rs` target "
      "may hold one `<auth>`." },
    { "auth", "in a `fhir-rest`, `fhir-bulk` or `dicomweb` source or a "
      "`fhir-store` or `stow-rs` target",
      "Credentials; every secret is `env:NAME` or `file:PATH`." },
    { "job", "in `<sluice>`, any number",
      "A pipeline: `<pull>`, then its stages in the order they run "
      "(`<deid>` at most once, `<translate>` and `<validate>` any number, "
      "in any order: a `<validate>` before `<deid>` checks what was "
      "pulled, one after it what is pushed), then `<push>`." },
    { "pull", "in `<job>`, once", "What the job reads." },
    { "deid", "in `<job>`, at most once", "The de-identification profile." },
    { "translate", "in `<job>`, any number",
      "Terminology maps to apply, each element with its own policy." },
    { "validate", "in `<job>`, any number",
      "FHIR validation against R4 and profiles." },
    { "push", "in `<job>`, at most once", "Where the job delivers." },
};

const struct sl_opt *
sl_opt_find(const char *element, const char *kind, const char *name)
{
    const struct sl_opt *o;

    for (o = sl_opt_table; o->name != NULL; o++) {
        if (strcmp(o->element, element) != 0 || strcmp(o->name, name) != 0)
            continue;
        if (o->kind == NULL || (kind != NULL && strcmp(o->kind, kind) == 0))
            return o;
    }
    return NULL;
}

/* Markdown table cells must not contain '|' or line breaks. */
static void
put_cell(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '|')
            fputs("\\|", f);
        else if (*s == '\n')
            fputc(' ', f);
        else
            fputc(*s, f);
    }
}

static void
put_value(FILE *f, const struct sl_opt *o)
{
    const char *p, *q;

    switch (o->type) {
    case SL_OPT_STRING:
        fputs("text", f);
        break;
    case SL_OPT_INT:
        fprintf(f, "integer %ld..%ld", o->min, o->max);
        break;
    case SL_OPT_BOOL:
        fputs("`true` or `false`", f);
        break;
    case SL_OPT_ENUM:
        fputs("one of", f);
        for (p = o->choices; *p;) {
            q = strchr(p, ' ');
            if (q == NULL)
                q = p + strlen(p);
            fprintf(f, "%s `%.*s`", p == o->choices ? "" : ",", (int)(q - p),
                    p);
            p = *q ? q + 1 : q;
        }
        break;
    case SL_OPT_PATH:
        fputs("path", f);
        break;
    case SL_OPT_SECRET:
        fputs("secret: `env:NAME` or `file:PATH`", f);
        break;
    case SL_OPT_IDREFS:
        fputs("id(s)", f);
        break;
    case SL_OPT_CRON:
        fputs("cron expression", f);
        break;
    }
}

void
sl_config_print_options(FILE *f)
{
    const struct sl_opt *o;
    size_t i;

    fprintf(f,
            "Generated by `sluice check-config --options` from the option "
            "table in\n`src/config/config_opts.c`. Namespace: `%s`.\n",
            SL_CONFIG_NS);
    for (i = 0; i < sizeof(elements) / sizeof(elements[0]); i++) {
        fprintf(f, "\n### `<%s>`\n\n%s Appears %s.\n\n", elements[i].element,
                elements[i].doc, elements[i].where);
        fputs("| attribute | for type | value | default | description |\n"
              "|---|---|---|---|---|\n",
              f);
        for (o = sl_opt_table; o->name != NULL; o++) {
            if (strcmp(o->element, elements[i].element) != 0)
                continue;
            fprintf(f, "| `%s` | %s | ", o->name, o->kind ? o->kind : "any");
            put_value(f, o);
            fputs(" | ", f);
            if (o->required)
                fputs("*required*", f);
            else if (o->def)
                fprintf(f, "`%s`", o->def);
            else
                fputs("-", f);
            fputs(" | ", f);
            put_cell(f, o->doc);
            fputs(" |\n", f);
        }
    }
}

/* ---- cron -------------------------------------------------------------- */

int
sl_cron_check(const char *expr, struct sl_err *err)
{
    struct sl_cron c;

    return sl_cron_parse(expr, &c, err);
}
