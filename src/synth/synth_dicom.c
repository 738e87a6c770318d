/* synth_dicom.c - one synthetic patient's DICOM study, written through the
 * DCMTK shim: fake PHI in the usual places, a private element that hides
 * the MRN, and a small 12-bit image per instance. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dicom/dicom.h"
#include "synth/synth_int.h"

/* ---- DICOM --------------------------------------------------------------- */

struct synth_attr {
    uint16_t g, e;
    const char *v;
};

/* A 64x64 12-bit image: a gradient, a bright disc that moves with the
 * instance number, and noise, so every instance differs. */
static void
pixels_make(uint16_t *px, int rows, int cols, uint64_t seed, int n)
{
    struct synth_rng r;
    int y, x;
    int cy = rows / 2, cx = cols / 4 + (n * 7) % (cols / 2);

    synth_rng_seed(&r, seed, (uint64_t)n);
    for (y = 0; y < rows; y++)
        for (x = 0; x < cols; x++) {
            long v = 200 + (long)(x + y) * 1200 / (rows + cols);
            int dy = y - cy, dx = x - cx;
            if (dx * dx + dy * dy < (rows / 6) * (rows / 6))
                v += 1800;
            v += (long)synth_rng_below(&r, 120);
            px[y * cols + x] = (uint16_t)(v > 4095 ? 4095 : v);
        }
}

static int
dicom_instance_write(const struct synth_patient *p, int si, int ii,
                     const char *path, struct sl_err *err)
{
    enum { ROWS = 64, COLS = 64 };
    const struct synth_series *s = &p->series[si];
    struct sl_dicom_builder *b = sl_dicom_builder_new();
    char pname[128], refname[128], birth[16], date[16], time[16], age[16];
    char seriesno[16], instno[16], pos[64], loc[16];
    char issuer[64];
    uint16_t *px = NULL;
    int ct = strcmp(p->proc->modality, "CT") == 0;
    size_t i;
    int rc;

    snprintf(pname, sizeof(pname), "%s^%s%s%s", p->family, p->given,
             p->middle ? "^" : "", p->middle ? p->middle : "");
    snprintf(refname, sizeof(refname), "%s^%s", p->ref_family, p->ref_given);
    snprintf(birth, sizeof(birth), "%04d%02d%02d", p->birth.y, p->birth.m,
             p->birth.d);
    snprintf(date, sizeof(date), "%04d%02d%02d", p->visit.y, p->visit.m,
             p->visit.d);
    snprintf(time, sizeof(time), "%02d%02d%02d", p->hh, p->mm, p->ss);
    snprintf(age, sizeof(age), "%03dY", p->age_at_study);
    snprintf(seriesno, sizeof(seriesno), "%d", si + 1);
    snprintf(instno, sizeof(instno), "%d", ii + 1);
    snprintf(pos, sizeof(pos), "-160\\-160\\%d", -ii * 5);
    snprintf(loc, sizeof(loc), "%d", -ii * 5);
    /* the MRN system's OID, without "urn:oid:" */
    snprintf(issuer, sizeof(issuer), "%s",
             SL_SYNTH_MRN_SYSTEM + strlen("urn:oid:"));
    {
        const struct synth_attr attrs[] = {
            { 0x0008, 0x0005, "ISO_IR 100" },
            { 0x0008, 0x0008, "ORIGINAL\\PRIMARY\\AXIAL" },
            { 0x0008, 0x0012, date },
            { 0x0008, 0x0013, time },
            { 0x0008, 0x0016, p->proc->sop_class },
            { 0x0008, 0x0018, s->inst[ii].uid },
            { 0x0008, 0x0020, date },
            { 0x0008, 0x0021, date },
            { 0x0008, 0x0023, date },
            { 0x0008, 0x0030, time },
            { 0x0008, 0x0031, time },
            { 0x0008, 0x0033, time },
            { 0x0008, 0x0050, p->accession },
            { 0x0008, 0x0060, p->proc->modality },
            { 0x0008, 0x0070, "SLUICE Synthetic Imaging" },
            { 0x0008, 0x0080, p->institution },
            { 0x0008, 0x0090, refname },
            { 0x0008, 0x1030, p->proc->display },
            { 0x0008, 0x103E, s->desc },
            { 0x0010, 0x0010, pname },
            { 0x0010, 0x0020, p->mrn },
            { 0x0010, 0x0021, issuer },
            { 0x0010, 0x0030, birth },
            { 0x0010, 0x0040, p->sex },
            { 0x0010, 0x1010, age },
            { 0x0018, 0x0015, p->proc->body_part },
            { 0x0018, 0x0050, "5" },
            { 0x0020, 0x000D, p->study_uid },
            { 0x0020, 0x000E, s->uid },
            { 0x0020, 0x0010, p->accession + 3 },
            { 0x0020, 0x0011, seriesno },
            { 0x0020, 0x0013, instno },
            { 0x0020, 0x0032, pos },
            { 0x0020, 0x0037, "1\\0\\0\\0\\1\\0" },
            { 0x0020, 0x0052, p->frame_uid },
            { 0x0020, 0x1041, loc },
            { 0x0028, 0x0004, "MONOCHROME2" },
            { 0x0028, 0x0030, "0.7\\0.7" },
        };
        for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++)
            if ((rc = sl_dicom_builder_set_string(b, attrs[i].g, attrs[i].e,
                                                  attrs[i].v, err)) != SL_OK)
                goto out;
    }
    if (ct) {
        if ((rc = sl_dicom_builder_set_string(b, 0x0018, 0x0060, "120", err)) !=
                SL_OK ||
            (rc = sl_dicom_builder_set_string(b, 0x0028, 0x1052, "-1024",
                                              err)) != SL_OK ||
            (rc = sl_dicom_builder_set_string(b, 0x0028, 0x1053, "1", err)) !=
                SL_OK)
            goto out;
    } else if ((rc = sl_dicom_builder_set_string(b, 0x0018, 0x0087, "1.5",
                                                 err)) != SL_OK) {
        goto out;
    }
    {
        const struct {
            uint16_t e, v;
        } us[] = { { 0x0002, 1 },  { 0x0010, ROWS }, { 0x0011, COLS },
                   { 0x0100, 16 }, { 0x0101, 12 },   { 0x0102, 11 },
                   { 0x0103, 0 } };
        for (i = 0; i < sizeof(us) / sizeof(us[0]); i++)
            if ((rc = sl_dicom_builder_set_u16(b, 0x0028, us[i].e, us[i].v,
                                               err)) != SL_OK)
                goto out;
    }
    /* The requested procedure as a code sequence. */
    if ((rc = sl_dicom_builder_seq_add_item(b, 0x0008, 0x1032, err)) != SL_OK ||
        (rc = sl_dicom_builder_seq_set_string(b, 0x0008, 0x1032, 0x0008, 0x0100,
                                              p->proc->loinc, err)) != SL_OK ||
        (rc = sl_dicom_builder_seq_set_string(b, 0x0008, 0x1032, 0x0008, 0x0102,
                                              "LN", err)) != SL_OK ||
        (rc = sl_dicom_builder_seq_set_string(b, 0x0008, 0x1032, 0x0008, 0x0104,
                                              p->proc->display, err)) != SL_OK)
        goto out;
    /* Private elements, one of which hides an identifier, as vendors'
     * private groups often do. */
    if ((rc = sl_dicom_builder_set_private(b, 0x0011, SL_SYNTH_PRIVATE_CREATOR,
                                           0x01, "LO", "synthetic test data",
                                           err)) != SL_OK ||
        (rc = sl_dicom_builder_set_private(b, 0x0011, SL_SYNTH_PRIVATE_CREATOR,
                                           0x02, "LO", p->mrn, err)) != SL_OK)
        goto out;
    px = sl_malloc(sizeof(*px) * ROWS * COLS);
    pixels_make(px, ROWS, COLS, p->pixel_seed + (uint64_t)si * 1000, ii + 1);
    if ((rc = sl_dicom_builder_set_pixels16(b, px, ROWS * COLS, err)) != SL_OK)
        goto out;
    rc = sl_dicom_builder_save(b, path, err);
out:
    free(px);
    sl_dicom_builder_free(b);
    return rc;
}

int
synth_dicom_study_write(const char *dicom_dir, const struct synth_patient *p,
                        struct sl_err *err)
{
    char name[32];
    char *study_dir, *series_dir = NULL, *path = NULL;
    int rc = SL_OK, si, ii;

    snprintf(name, sizeof(name), "%06ld", p->index);
    study_dir = sl_path_join(dicom_dir, name);
    for (si = 0; si < p->nseries; si++) {
        snprintf(name, sizeof(name), "%d", si + 1);
        free(series_dir);
        series_dir = sl_path_join(study_dir, name);
        if ((rc = sl_mkdir_p(series_dir, err)) != SL_OK)
            goto out;
        for (ii = 0; ii < p->series[si].ninst; ii++) {
            snprintf(name, sizeof(name), "%d.dcm", ii + 1);
            free(path);
            path = sl_path_join(series_dir, name);
            if ((rc = dicom_instance_write(p, si, ii, path, err)) != SL_OK) {
                sl_err_prefix(err,
                              "patient %ld series %d instance %d: ", p->index,
                              si + 1, ii + 1);
                goto out;
            }
        }
    }
out:
    free(path);
    free(series_dir);
    free(study_dir);
    return rc;
}
