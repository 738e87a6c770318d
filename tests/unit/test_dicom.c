/* test_dicom.c - the DCMTK shim: probe, summary, truncated files and the
 * builder, on files written in a scratch folder. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <glob.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/common.h"
#include "dicom/dicom.h"

#define STUDY_UID  "2.25.1111"
#define SERIES_UID "2.25.2222"
#define SOP_UID    "2.25.3333"
#define PATIENT_ID "MRN-SECRET-42"

static char scratch[] = "/tmp/sluice-test-dicom.XXXXXX";

static char *
scratch_path(const char *name)
{
    return sl_path_join(scratch, name);
}

/* Writes a small CT instance; skip is the one required UID to leave out
 * (0 for none). */
static void
write_instance(const char *path, uint16_t skip_elem)
{
    struct sl_dicom_builder *b = sl_dicom_builder_new();
    struct sl_err err = { 0 };
    uint16_t px[64 * 64];
    size_t i;

    for (i = 0; i < 64 * 64; i++)
        px[i] = (uint16_t)(i * 7 % 4096);
    assert_int_equal(sl_dicom_builder_set_string(
                         b, 0x0008, 0x0016, "1.2.840.10008.5.1.4.1.1.2", &err),
                     SL_OK);
    if (skip_elem != 0x0018)
        assert_int_equal(
            sl_dicom_builder_set_string(b, 0x0008, 0x0018, SOP_UID, &err),
            SL_OK);
    if (skip_elem != 0x000D)
        assert_int_equal(
            sl_dicom_builder_set_string(b, 0x0020, 0x000D, STUDY_UID, &err),
            SL_OK);
    if (skip_elem != 0x000E)
        assert_int_equal(
            sl_dicom_builder_set_string(b, 0x0020, 0x000E, SERIES_UID, &err),
            SL_OK);
    assert_int_equal(
        sl_dicom_builder_set_string(b, 0x0010, 0x0020, PATIENT_ID, &err),
        SL_OK);
    assert_int_equal(
        sl_dicom_builder_set_string(b, 0x0010, 0x0010, "Doe^Jane", &err),
        SL_OK);
    assert_int_equal(sl_dicom_builder_set_string(b, 0x0008, 0x0060, "CT", &err),
                     SL_OK);
    assert_int_equal(
        sl_dicom_builder_set_string(b, 0x0008, 0x0020, "20240131", &err),
        SL_OK);
    assert_int_equal(sl_dicom_builder_set_u16(b, 0x0028, 0x0010, 64, &err),
                     SL_OK);
    assert_int_equal(sl_dicom_builder_set_u16(b, 0x0028, 0x0011, 64, &err),
                     SL_OK);
    assert_int_equal(sl_dicom_builder_set_u16(b, 0x0028, 0x0100, 16, &err),
                     SL_OK);
    assert_int_equal(sl_dicom_builder_set_private(b, 0x0011, "SLUICE SYNTH",
                                                  0x01, "LO", "synthetic",
                                                  &err),
                     SL_OK);
    assert_int_equal(sl_dicom_builder_set_private(b, 0x0011, "SLUICE SYNTH",
                                                  0x02, "DS", "1.5", &err),
                     SL_OK);
    assert_int_equal(sl_dicom_builder_seq_add_item(b, 0x0008, 0x1032, &err),
                     SL_OK);
    assert_int_equal(sl_dicom_builder_seq_set_string(b, 0x0008, 0x1032, 0x0008,
                                                     0x0100, "24627-2", &err),
                     SL_OK);
    assert_int_equal(sl_dicom_builder_set_pixels16(b, px, 64 * 64, &err),
                     SL_OK);
    assert_int_equal(sl_dicom_builder_save(b, path, &err), SL_OK);
    sl_dicom_builder_free(b);
}

static void
truncate_by(const char *path, off_t by)
{
    struct stat st;

    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(truncate(path, st.st_size - by), 0);
}

static int
setup(void **state)
{
    char msg[256];

    (void)state;
    if (mkdtemp(scratch) == NULL)
        return -1;
    return sl_dicom_init(msg, sizeof(msg));
}

static int
teardown(void **state)
{
    char *cmd = sl_asprintf("rm -rf '%s'", scratch);
    int rc;

    (void)state;
    rc = system(cmd);
    free(cmd);
    return rc == 0 ? 0 : -1;
}

static void
test_probe(void **state)
{
    char *dcm = scratch_path("probe.dcm"), *txt = scratch_path("probe.txt");
    char *none = scratch_path("missing");
    struct sl_err err = { 0 };
    int is = -1;
    FILE *f;

    (void)state;
    write_instance(dcm, 0);
    f = fopen(txt, "w");
    assert_non_null(f);
    fputs("{\"resourceType\": \"Patient\"}\n", f);
    fclose(f);

    assert_int_equal(sl_dicom_file_probe(dcm, &is, &err), SL_OK);
    assert_int_equal(is, 1);
    assert_int_equal(sl_dicom_file_probe(txt, &is, &err), SL_OK);
    assert_int_equal(is, 0);
    assert_int_equal(sl_dicom_file_probe(none, &is, &err), SL_EIO);
    assert_null(strstr(err.msg, none)); /* never the path */
    free(dcm);
    free(txt);
    free(none);
}

/* The probe a source runs before handing an instance on: a link is
 * reported without being opened (O_NOFOLLOW, no lstat first), and the
 * descriptor of a DICOM file is kept for the reader, which reads the
 * same instance through it as through the path. */
static void
test_probe_fd(void **state)
{
    char *dcm = scratch_path("probefd.dcm"), *link = scratch_path("link.dcm");
    char *txt = scratch_path("probefd.txt");
    struct sl_dicom_file *f = NULL;
    struct sl_err err = { 0 };
    int is = -1, is_link = -1, fd = -2;
    char *uid = NULL;
    FILE *t;

    (void)state;
    write_instance(dcm, 0);
    assert_int_equal(symlink(dcm, link), 0);
    t = fopen(txt, "w");
    assert_non_null(t);
    fputs("not DICOM\n", t);
    fclose(t);

    /* a link to a DICOM file: not read through */
    assert_int_equal(sl_dicom_file_probe_fd(link, SL_PROBE_NOFOLLOW, &is,
                                            &is_link, &fd, &err),
                     SL_OK);
    assert_int_equal(is_link, 1);
    assert_int_equal(is, 0);
    assert_int_equal(fd, -1);
    /* followed when asked */
    assert_int_equal(sl_dicom_file_probe_fd(link, 0, &is, &is_link, &fd, &err),
                     SL_OK);
    assert_int_equal(is_link, 0);
    assert_int_equal(is, 1);
    assert_true(fd >= 0);
    close(fd);
    /* not DICOM: no descriptor left open */
    assert_int_equal(sl_dicom_file_probe_fd(txt, SL_PROBE_NOFOLLOW, &is,
                                            &is_link, &fd, &err),
                     SL_OK);
    assert_int_equal(is, 0);
    assert_int_equal(fd, -1);
    /* DICOM: the descriptor goes to the reader */
    assert_int_equal(sl_dicom_file_probe_fd(dcm, SL_PROBE_NOFOLLOW, &is,
                                            &is_link, &fd, &err),
                     SL_OK);
    assert_int_equal(is, 1);
    assert_true(fd >= 0);
    assert_int_equal(sl_dicom_file_open_fd(fd, dcm, &f, NULL, &err), SL_OK);
    assert_int_equal(sl_dicom_file_get(f, 0x0008, 0x0018, &uid), SL_OK);
    assert_non_null(uid);
    assert_true(strlen(uid) > 0);
    free(uid);
    sl_dicom_file_free(f); /* closes fd */
    assert_int_equal(fcntl(fd, F_GETFD), -1);
    free(dcm);
    free(link);
    free(txt);
}

/* What a walk hands out, one line an element, for test_walk_only. */
struct seen {
    struct sl_buf b;
    int filter; /* keep only what walk_only is asked for */
};

static int
record(void *ctx, const struct sl_dicom_elem *e, int *op, const char **value)
{
    struct seen *s = ctx;
    const char *v = sl_dicom_elem_value(e);
    char line[256];
    uint32_t tag = ((uint32_t)e->group << 16) | e->elem;

    (void)value;
    *op = SL_DICOM_KEEP;
    if (s->filter && strncmp(e->vr, "PN", 2) != 0 && tag != 0x00100020 &&
        tag != 0x00080100 && tag != 0x00111002)
        return SL_OK;
    snprintf(line, sizeof(line), "%04X,%04X %d %04X,%04X %.2s %s %s\n",
             e->group, e->elem, e->depth, e->seq_group, e->seq_elem, e->vr,
             e->creator ? e->creator : "-", v ? v : "-");
    sl_buf_adds(&s->b, line);
    return SL_OK;
}

/* The read-only walk of a first pass hands out the same elements, with
 * the same fields (depth, enclosing sequence, private creator, value),
 * as a full walk does, in the same order, and changes nothing. */
static void
test_walk_only(void **state)
{
    static const uint32_t tags[] = { 0x00100020, 0x00080100, 0x00111002 };
    char *dcm = scratch_path("walk.dcm");
    struct sl_dicom_file *f = NULL;
    struct sl_err err = { 0 };
    struct seen full = { .filter = 1 }, only = { .filter = 0 };

    (void)state;
    write_instance(dcm, 0);
    sl_buf_init(&full.b);
    sl_buf_init(&only.b);
    assert_int_equal(sl_dicom_file_open(dcm, &f, NULL, &err), SL_OK);
    assert_int_equal(sl_dicom_file_walk(f, record, &full, &err), SL_OK);
    assert_int_equal(sl_dicom_file_walk_only(f, "PN", tags, 3, record, &only,
                                             &err),
                     SL_OK);
    assert_non_null(full.b.data);
    assert_non_null(only.b.data);
    assert_string_equal(only.b.data, full.b.data);
    /* the PN, the patient id, the code value at depth 1, the private one */
    assert_non_null(strstr(only.b.data, "0010,0010 0 0000,0000 PN"));
    assert_non_null(strstr(only.b.data, "0010,0020 0"));
    assert_non_null(strstr(only.b.data, "0008,0100 1 0008,1032 SH"));
    assert_non_null(strstr(only.b.data, "0011,1002 0 0000,0000 DS SLUICE SYNTH"));
    sl_dicom_file_free(f);
    sl_buf_free(&full.b);
    sl_buf_free(&only.b);
    free(dcm);
}

static void
test_summary(void **state)
{
    char *dcm = scratch_path("summary.dcm");
    struct sl_dicom_summary *s = NULL;
    struct sl_err err = { 0 };

    (void)state;
    write_instance(dcm, 0);
    assert_int_equal(sl_dicom_summary_read(dcm, &s, &err), SL_OK);
    assert_string_equal(s->study_uid, STUDY_UID);
    assert_string_equal(s->series_uid, SERIES_UID);
    assert_string_equal(s->sop_uid, SOP_UID);
    assert_string_equal(s->patient_id, PATIENT_ID);
    assert_string_equal(s->sop_class_uid, "1.2.840.10008.5.1.4.1.1.2");
    assert_string_equal(s->modality, "CT");
    assert_string_equal(s->study_date, "20240131");
    assert_string_equal(s->transfer_syntax, "1.2.840.10008.1.2.1");
    sl_dicom_summary_free(s);
    sl_dicom_summary_free(NULL);
    free(dcm);
}

static void
test_truncated_pixels(void **state)
{
    char *dcm = scratch_path("trunc.dcm");
    struct sl_dicom_summary *s = NULL;
    struct sl_err err = { 0 };

    (void)state;
    write_instance(dcm, 0);
    truncate_by(dcm, 1000);
    assert_int_equal(sl_dicom_summary_read(dcm, &s, &err), SL_EDICOM);
    print_message("# %s\n", err.msg);
    assert_null(s);
    assert_non_null(strstr(err.msg, "(7FE0,0010) Pixel Data"));
    assert_non_null(strstr(err.msg, "truncated"));
    assert_null(strstr(err.msg, dcm));
    assert_null(strstr(err.msg, PATIENT_ID));
    free(dcm);
}

/* One byte short is as truncated as a thousand. */
static void
test_truncated_one_byte(void **state)
{
    char *dcm = scratch_path("trunc1.dcm");
    struct sl_dicom_summary *s = NULL;
    struct sl_err err = { 0 };

    (void)state;
    write_instance(dcm, 0);
    truncate_by(dcm, 1);
    assert_int_equal(sl_dicom_summary_read(dcm, &s, &err), SL_EDICOM);
    assert_non_null(strstr(err.msg, "(7FE0,0010) Pixel Data: truncated"));
    free(dcm);
}

static void
test_truncated_header(void **state)
{
    char *dcm = scratch_path("cut.dcm");
    struct sl_dicom_summary *s = NULL;
    struct sl_err err = { 0 };

    (void)state;
    write_instance(dcm, 0);
    assert_int_equal(truncate(dcm, 300), 0); /* inside the dataset */
    assert_int_not_equal(sl_dicom_summary_read(dcm, &s, &err), SL_OK);
    assert_null(s);
    assert_true(err.msg[0] != '\0');
    assert_null(strstr(err.msg, dcm));
    free(dcm);
}

static void
test_missing_uid(void **state)
{
    char *dcm = scratch_path("nouid.dcm");
    struct sl_dicom_summary *s = NULL;
    struct sl_err err = { 0 };

    (void)state;
    write_instance(dcm, 0x000E);
    assert_int_equal(sl_dicom_summary_read(dcm, &s, &err), SL_EDICOM);
    print_message("# %s\n", err.msg);
    assert_non_null(strstr(err.msg, "(0020,000E) Series Instance UID"));
    free(dcm);
}

static void
test_not_dicom(void **state)
{
    char *txt = scratch_path("plain.txt");
    struct sl_dicom_summary *s = NULL;
    struct sl_err err = { 0 };
    FILE *f;

    (void)state;
    f = fopen(txt, "w");
    assert_non_null(f);
    fputs("hello\n", f);
    fclose(f);
    assert_int_equal(sl_dicom_summary_read(txt, &s, &err), SL_EDICOM);
    assert_null(s);
    free(txt);
}

/* Equal datasets give byte-identical files (synth relies on it). */
static void
test_builder_deterministic(void **state)
{
    char *a = scratch_path("a.dcm"), *b = scratch_path("b.dcm");
    char *da = NULL, *db = NULL;
    size_t la = 0, lb = 0;
    struct sl_err err = { 0 };

    (void)state;
    write_instance(a, 0);
    write_instance(b, 0);
    assert_int_equal(sl_file_read(a, &da, &la, &err), SL_OK);
    assert_int_equal(sl_file_read(b, &db, &lb, &err), SL_OK);
    assert_int_equal(la, lb);
    assert_memory_equal(da, db, la);
    /* 64x64x2 bytes of pixels plus the header */
    assert_true(la > 64 * 64 * 2);
    free(da);
    free(db);
    free(a);
    free(b);
}

static void
test_builder_errors(void **state)
{
    struct sl_dicom_builder *b = sl_dicom_builder_new();
    struct sl_err err = { 0 };

    (void)state;
    /* an even group is not private */
    assert_int_not_equal(
        sl_dicom_builder_set_private(b, 0x0010, "X", 1, "LO", "v", &err),
        SL_OK);
    assert_int_not_equal(sl_dicom_builder_seq_set_string(
                             b, 0x0008, 0x1032, 0x0008, 0x0100, "v", &err),
                         SL_OK);
    assert_non_null(strstr(err.msg, "(0008,1032)"));
    sl_dicom_builder_free(b);
    sl_dicom_builder_free(NULL);
}

/* The data dictionary sluice loads at start-up (its own reader of
 * DCMTK's text files) holds exactly what DCMTK's loader makes of the
 * installed files: every tag's name, VR, VM, ranges and private creator. */
static void
test_dictionary_installed(void **state)
{
    glob_t g;
    char msg[256];
    size_t i;

    (void)state;
    assert_int_equal(glob("/usr/share/libdcmtk*/*.dic", 0, NULL, &g), 0);
    assert_true(g.gl_pathc >= 2); /* dicom.dic, private.dic at least */
    for (i = 0; i < g.gl_pathc; i++) {
        msg[0] = '\0';
        if (sl_dicom_dict_compare(g.gl_pathv[i], msg, sizeof(msg)) != 0)
            fail_msg("%s", msg);
    }
    globfree(&g);
}

/* The forms a dictionary may use, read the same both ways; a form the
 * fast reader does not take is refused (and left to DCMTK at start-up). */
static void
test_dictionary_forms(void **state)
{
    static const char good[] =
        "# comment\n"
        "   # indented comment\n"
        "\n"
        "(0008,0005)\tCS\tSpecificCharacterSet\t1-n\tDICOM\n"
        "(0008,0006)\tSQ\tLanguageCodeSequence\t1\r\n"
        "(0018,1149)\tIS\tFieldOfViewDimensions\t1-2\tDICOM  \n"
        "(0028,1050)\tDS\tWindowCenter\t1-n\tDICOM\n"
        "(0040,a0b0)\tUS\tReferencedWaveformChannels\t2-2n\tDICOM\n"
        "(0018,9219)\tSS\tTagAngleSecondAxis\tn\tDICOM\n"
        "(0020,3100-31FF)\tCS\tSourceImageIDs\t1-n\tDICOM/retired\n"
        "(6000-60FF,0010)\tUS\tOverlayRows\t1\tDICOM\n"
        "(7F00-o-7FFF,0010)\tox\tVariablePixelData\t1\tDICOM/retired\n"
        "(1000-u-1FFF,0000)\tUL\tSomeGroupLength\t1\tDICOM\n"
        "(0009,\"SIEMENS CSA HEADER\",10)\tLO\tCSAImageHeaderType\t1\tPrivateTag\n"
        "(0009,\"GEMS_IDEN_01\",1e)\tSH\tGenericSpecifics\t1\tPrivateTag\n"
        "(0029,\"X\",00-0f)\tOB\tRange\t1\n"
        "(0002,0001)\tOB\tFileMetaInformationVersion\n";
    static const char *bad[] = {
        "(0008,0005) \tCS\tSpecificCharacterSet\t1-n\tDICOM\n", /* space */
        "(0008,0005)\tQQ\tBadVR\t1\tDICOM\n",
        "(0008,0005)\tCS\tSpecificCharacterSet\t1-x\tDICOM\n",
        "(0008,0005)\tCS\tToo\tMany\tFields\tHere\n",
        "(0008,0005)\tCS\n",
        "(0009,\"\",10)\tLO\tEmptyCreator\t1\tPrivateTag\n",
        "(12345,0005)\tCS\tWideGroup\t1\tDICOM\n",
    };
    char *path = scratch_path("forms.dic");
    char msg[256];
    size_t i;

    (void)state;
    assert_int_equal(sl_file_write_atomic(path, good, strlen(good), NULL), SL_OK);
    msg[0] = '\0';
    if (sl_dicom_dict_compare(path, msg, sizeof(msg)) != 0)
        fail_msg("%s", msg);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(sl_file_write_atomic(path, bad[i], strlen(bad[i]), NULL),
                         SL_OK);
        assert_int_equal(sl_dicom_dict_compare(path, msg, sizeof(msg)), 2);
        assert_non_null(strstr(msg, "forms.dic"));
    }
    free(path);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_probe),
        cmocka_unit_test(test_probe_fd),
        cmocka_unit_test(test_walk_only),
        cmocka_unit_test(test_summary),
        cmocka_unit_test(test_truncated_pixels),
        cmocka_unit_test(test_truncated_one_byte),
        cmocka_unit_test(test_truncated_header),
        cmocka_unit_test(test_missing_uid),
        cmocka_unit_test(test_not_dicom),
        cmocka_unit_test(test_builder_deterministic),
        cmocka_unit_test(test_builder_errors),
        cmocka_unit_test(test_dictionary_installed),
        cmocka_unit_test(test_dictionary_forms),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
