/* profile.h - de-identification profile documents: finding them, parsing
 * them and resolving their `extends` chain. The FHIR and DICOM engines
 * compile their own sections (<fhir>, <dicom>) from the chain.
 *
 * A profile document (schema: profiles/deid/profile.xsd):
 *
 *   <profile xmlns="urn:sluice:deid:1" name="site-x" version="3"
 *            extends="basic">            <!-- optional: a name or a file -->
 *     <description>…</description>
 *     <fhir> … FHIR rules (see src/deid/fhir.h) … </fhir>
 *     <dicom> … DICOM options and rules (see src/deid/dicom_deid.h) … </dicom>
 *   </profile>
 *
 * Built-in names (basic, longitudinal, safe-harbor) are files NAME.xml in
 * the profile folder: $SLUICE_PROFILE_DIR, else the source tree's
 * profiles/deid (uninstalled builds), else $(pkgdatadir)/profiles/deid.
 * A name with a '/' or ending in .xml is a file path; its `extends` is
 * resolved against its own folder first, then as a built-in name. */
#ifndef SL_DEID_PROFILE_H
#define SL_DEID_PROFILE_H

#include <libxml/tree.h>

#include "common/common.h"

#define SL_DEID_NS "urn:sluice:deid:1"
#define SL_DEID_MAX_CHAIN 8

/* One document of the chain. */
struct sl_profile_doc {
    char *path;      /* file it came from (may be shown: not patient data) */
    char *name;      /* name attribute */
    char *version;   /* version attribute */
    xmlDoc *doc;
    xmlNode *fhir;   /* the <fhir> element, or NULL */
    xmlNode *dicom;  /* the <dicom> element, or NULL */
};

/* The chain from the root base (docs[0]) to the profile asked for
 * (docs[n - 1]): later documents override earlier ones. */
struct sl_profile_chain {
    size_t n;
    struct sl_profile_doc docs[SL_DEID_MAX_CHAIN];
};

/* Finds and loads name_or_path with its extends chain. Every document is
 * checked against the schema; errors name the file and line. On success
 * *out owns the chain; free with sl_profile_chain_free. */
int sl_profile_chain_load(const char *name_or_path,
                          struct sl_profile_chain **out, struct sl_err *err);
void sl_profile_chain_free(struct sl_profile_chain *c);

/* "basic 1 <- site-x 3": the chain as names and versions, for reports,
 * De-identification Method (0012,0063) and the audit trail. Caller frees. */
char *sl_profile_chain_describe(const struct sl_profile_chain *c);

/* Where built-in profiles are looked for (caller frees). */
char *sl_profile_dir(void);

#endif
