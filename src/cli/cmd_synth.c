/* cmd_synth.c - sluice synth: synthetic FHIR bundles and DICOM studies
 * with fake PHI, for demos and tests. */
#include "config.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "synth/synth.h"

static int
exec_synth(const struct cli_cmd *self, struct cli_global *g, int argc,
           char **argv)
{
    static const struct option longopts[] = {
        { "patients", required_argument, NULL, 'n' },
        { "output", required_argument, NULL, 'o' },
        { "seed", required_argument, NULL, 's' },
        { "series", required_argument, NULL, 'S' },
        { "instances", required_argument, NULL, 'i' },
        { "no-dicom", no_argument, NULL, 'D' },
        { "shape", required_argument, NULL, 'H' },
        { "local-conditions", no_argument, NULL, 'L' },
        { NULL, 0, NULL, 0 },
    };
    struct sl_synth_opts opts;
    struct sl_synth_stats st;
    struct sl_err err = { 0 };
    const char *dir = NULL;
    int have_patients = 0, c, rc;
    double t0;
    long v;

    sl_synth_opts_init(&opts);
    opts.quiet = g->quiet;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":n:o:s:", longopts, NULL)) != -1) {
        switch (c) {
        case 'n':
            if (sl_parse_long(optarg, 1, SL_SYNTH_MAX_PATIENTS, &v) != SL_OK)
                return cli_usage_error(self,
                                       "--patients wants a number "
                                       "from 1 to %ld",
                                       SL_SYNTH_MAX_PATIENTS);
            opts.patients = v;
            have_patients = 1;
            break;
        case 'o':
            dir = optarg;
            break;
        case 's':
            if (sl_parse_long(optarg, 0, LONG_MAX, &v) != SL_OK)
                return cli_usage_error(self, "--seed wants a non-negative "
                                             "integer");
            opts.seed = (uint64_t)v;
            break;
        case 'S':
            if (sl_parse_long(optarg, 1, 16, &v) != SL_OK)
                return cli_usage_error(self, "--series wants a number from "
                                             "1 to 16");
            opts.series = (int)v;
            break;
        case 'i':
            if (sl_parse_long(optarg, 1, 64, &v) != SL_OK)
                return cli_usage_error(self, "--instances wants a number "
                                             "from 1 to 64");
            opts.instances = (int)v;
            break;
        case 'D':
            opts.write_dicom = 0;
            break;
        case 'L':
            opts.local_conditions = 1;
            break;
        case 'H':
            if (sl_synth_shape_parse(optarg, &opts.shape) != SL_OK)
                return cli_usage_error(self,
                                       "--shape wants default, transaction, "
                                       "collection, bulk or encounter-only");
            break;
        case ':':
            return cli_usage_error(self, "option %s needs a value",
                                   argv[optind - 1]);
        default:
            return cli_usage_error(self, "unknown option %s", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error(self, "unexpected argument %s", argv[optind]);
    if (!have_patients)
        return cli_usage_error(self, "--patients N is required");
    if (dir == NULL)
        return cli_usage_error(self, "-o DIR is required");

    t0 = sl_now();
    rc = sl_synth_run(dir, &opts, &st, &err);
    if (rc != SL_OK)
        return cli_fail(&err);
    printf("synth: %llu patients (%llu older than 89), %llu FHIR resources "
           "in %llu bundles, %llu studies, %llu series, %llu instances in "
           "%.1f s\n",
           (unsigned long long)st.patients, (unsigned long long)st.over_89,
           (unsigned long long)st.resources, (unsigned long long)st.patients,
           (unsigned long long)st.studies, (unsigned long long)st.series,
           (unsigned long long)st.instances, sl_now() - t0);
    return SL_EXIT_OK;
}

const struct cli_cmd cli_cmd_synth = {
    "synth",
    "--patients N -o DIR [--seed S] [--shape SHAPE]",
    "generate synthetic FHIR and DICOM data with fake PHI",
    "Writes realistic test data whose identifiers are fake but shaped like\n"
    "real ones (names, addresses, MRNs, SSNs in the never-issued 9xx area,\n"
    "555-01xx phone numbers, example.com mail, about 5% of patients over "
    "89).\n"
    "The same seed always gives byte-identical files.\n"
    "\n"
    "Options:\n"
    "  -n, --patients N   number of patients, 1 to 1000000 (required)\n"
    "  -o, --output DIR   output folder, created if needed (required)\n"
    "  -s, --seed S       random seed, a non-negative integer (default 1)\n"
    "      --series N     series per study, 1 to 16 (default 2)\n"
    "      --instances N  instances per series, 1 to 64 (default: 2 or 3)\n"
    "      --no-dicom     write the FHIR bundles only\n"
    "      --local-conditions\n"
    "                     code Conditions in the hospital's own list\n"
    "                     (http://hospital.example.org/condition-codes, what\n"
    "                     the shipped map condition-local-to-snomed\n"
    "                     translates) instead of SNOMED CT\n"
    "      --shape SHAPE  how the FHIR side is written, as real exports do:\n"
    "        default         collection Bundles, fullUrls on\n"
    "                        https://ehr.example.org/fhir, references Type/id\n"
    "        transaction     transaction Bundles (as Synthea writes them):\n"
    "                        urn:uuid: fullUrls, resources without ids,\n"
    "                        references by urn:uuid:\n"
    "        collection      collection Bundles with absolute fullUrls on\n"
    "                        https://ehr.example-hospital.org/fhir,\n"
    "                        references absolute and Type/id in turn\n"
    "        bulk            NDJSON, one file per resource type (the FHIR\n"
    "                        Bulk Data export shape)\n"
    "        encounter-only  as default, but Observation and DiagnosticReport\n"
    "                        reach their patient only through the Encounter\n"
    "      The patients, their values and the DICOM studies are the same in\n"
    "      every shape.\n"
    "\n"
    "Written:\n"
    "  DIR/fhir/bundle-NNNNNN.json  one FHIR R4 Bundle per\n"
    "      patient: Patient, Encounter, Condition (SNOMED CT), Observations\n"
    "      (LOINC and local lab codes), MedicationRequest (RxNorm),\n"
    "      DiagnosticReport and ImagingStudy, referencing each other as\n"
    "      Type/id (other forms: see --shape)\n"
    "  DIR/fhir/TYPE.ndjson         instead, with --shape bulk: every\n"
    "      patient's resources of TYPE, one a line\n"
    "  DIR/dicom/NNNNNN/S/I.dcm     the patient's study (CT or MR), series\n"
    "      S, instance I: Explicit VR Little Endian, 64x64 16-bit pixels,\n"
    "      PatientID = the MRN, UIDs matching the ImagingStudy\n"
    "File names are numbers, never derived from the fake PHI.\n",
    exec_synth,
};
