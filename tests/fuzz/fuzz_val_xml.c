/* fuzz_val_xml.c - fuzz target for the reader of FHIR resources in XML
 * (src/validate/val_xml.c, sl_val_xml_read): what `sluice validate` and
 * the validator's loaders read from a .xml file a user gives (a resource,
 * a profile). The input is the file. Checked: an accepted file gives a
 * JSON object whose resourceType is the root element's name, which
 * serialises; a refused one gives nothing and a message that starts with
 * the file's name. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/common.h"
#include "fuzz.h"
#include "validate/validate.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sl_err err = { 0 };
    char *path = fuzz_util_write("in.xml", data, size);
    json_t *doc = NULL;
    int rc;

    rc = sl_val_xml_read(path, &doc, &err);
    if (rc == SL_OK) {
        const char *rt;
        char *s;

        FUZZ_ASSERT(json_is_object(doc));
        rt = json_string_value(json_object_get(doc, "resourceType"));
        FUZZ_ASSERT(rt != NULL && rt[0] != '\0');
        s = json_dumps(doc, JSON_COMPACT);
        FUZZ_ASSERT(s != NULL);
        free(s);
    } else {
        FUZZ_ASSERT(doc == NULL);
        FUZZ_ASSERT(strncmp(err.msg, path, strlen(path)) == 0 &&
                    err.msg[strlen(path)] == ':');
    }
    json_decref(doc);
    free(path);
    return 0;
}
