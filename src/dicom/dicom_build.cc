// dicom_build.cc - building synthetic instances (sluice synth, tests):
// a dataset set attribute by attribute, then written as Part-10.
#include "config.h"

#include "dicom/dicom_int.h"

#include <cstdio>
#include <cstdlib>
#include <new>

using namespace shim;

struct sl_dicom_builder {
    DcmFileFormat ff;
};

namespace
{

// The last item of a sequence, or nullptr.
DcmItem *
last_item(DcmDataset *ds, uint16_t sg, uint16_t se)
{
    DcmSequenceOfItems *seq = nullptr;

    if (ds->findAndGetSequence(DcmTagKey(sg, se), seq).bad() ||
        seq == nullptr || seq->card() == 0)
        return nullptr;
    return seq->getItem(seq->card() - 1);
}

} // namespace

extern "C" struct sl_dicom_builder *
sl_dicom_builder_new(void)
{
    try {
        quiet_dcmtk();
        return new sl_dicom_builder();
    } catch (...) {
        // As sl_malloc does: nothing sensible can continue without memory.
        std::fputs("sluice: out of memory\n", stderr);
        std::abort();
    }
}

extern "C" void
sl_dicom_builder_free(struct sl_dicom_builder *b)
{
    try {
        delete b;
    } catch (...) {
    }
}

extern "C" int
sl_dicom_builder_set_string(struct sl_dicom_builder *b, uint16_t group,
                            uint16_t elem, const char *value,
                            struct sl_err *err)
{
    try {
        OFCondition c =
            b->ff.getDataset()->putAndInsertString(DcmTag(group, elem), value);
        if (c.bad())
            return cond_err(err, c, group, elem, "set");
        return SL_OK;
    } catch (...) {
        return SL_ERR(err, SL_EDICOM, "DCMTK failed setting an attribute");
    }
}

extern "C" int
sl_dicom_builder_set_u16(struct sl_dicom_builder *b, uint16_t group,
                         uint16_t elem, uint16_t value, struct sl_err *err)
{
    try {
        OFCondition c =
            b->ff.getDataset()->putAndInsertUint16(DcmTag(group, elem), value);
        if (c.bad())
            return cond_err(err, c, group, elem, "set");
        return SL_OK;
    } catch (...) {
        return SL_ERR(err, SL_EDICOM, "DCMTK failed setting an attribute");
    }
}

extern "C" int
sl_dicom_builder_set_pixels16(struct sl_dicom_builder *b, const uint16_t *words,
                              size_t n, struct sl_err *err)
{
    try {
        if (n > 0x7FFFFFFFUL)
            return SL_ERR(err, SL_EDICOM, "(7FE0,0010) Pixel Data: too large");
        OFCondition c = b->ff.getDataset()->putAndInsertUint16Array(
            DCM_PixelData, words, static_cast<unsigned long>(n));
        if (c.bad())
            return cond_err(err, c, 0x7FE0, 0x0010, "set");
        return SL_OK;
    } catch (const std::bad_alloc &) {
        return SL_ERR(err, SL_ENOMEM, "out of memory setting pixel data");
    } catch (...) {
        return SL_ERR(err, SL_EDICOM, "DCMTK failed setting pixel data");
    }
}

extern "C" int
sl_dicom_builder_set_private(struct sl_dicom_builder *b, uint16_t group,
                             const char *creator, uint8_t offset,
                             const char *vr, const char *value,
                             struct sl_err *err)
{
    try {
        DcmDataset *ds = b->ff.getDataset();
        uint16_t block = 0;

        if ((group & 1) == 0 || group < 0x0009)
            return SL_ERR(err, SL_EUSAGE, "private group %04X is not odd",
                          group);
        DcmVR dvr(vr);
        if (dvr.getEVR() == EVR_UNKNOWN || dvr.getEVR() == EVR_SQ)
            return SL_ERR(err, SL_EUSAGE,
                          "unsupported VR for a private "
                          "attribute");
        // Find the block already reserved for this creator, else the
        // first free one: (gggg,0010)-(gggg,00FF) hold the creators.
        for (uint16_t e = 0x10; e <= 0xFF && block == 0; e++) {
            OFString have;
            if (ds->findAndGetOFString(DcmTagKey(group, e), have).good()) {
                if (have == creator)
                    block = e;
                continue;
            }
            OFCondition c =
                ds->putAndInsertString(DcmTag(group, e, EVR_LO), creator);
            if (c.bad())
                return cond_err(err, c, group, e, "reserve a private block");
            block = e;
        }
        if (block == 0)
            return SL_ERR(err, SL_EDICOM, "private group %04X is full", group);
        uint16_t elem = static_cast<uint16_t>((block << 8) | offset);
        DcmTag tag(group, elem, dvr);
        tag.setPrivateCreator(creator);
        OFCondition c = ds->putAndInsertString(tag, value);
        if (c.bad())
            return cond_err(err, c, group, elem, "set");
        return SL_OK;
    } catch (...) {
        return SL_ERR(err, SL_EDICOM,
                      "DCMTK failed setting a private "
                      "attribute");
    }
}

extern "C" int
sl_dicom_builder_seq_add_item(struct sl_dicom_builder *b, uint16_t sg,
                              uint16_t se, struct sl_err *err)
{
    try {
        DcmItem *item = nullptr;
        OFCondition c = b->ff.getDataset()->findOrCreateSequenceItem(
            DcmTagKey(sg, se), item, -2 /* append a new item */);
        if (c.bad())
            return cond_err(err, c, sg, se, "add an item to");
        return SL_OK;
    } catch (...) {
        return SL_ERR(err, SL_EDICOM, "DCMTK failed adding a sequence item");
    }
}

extern "C" int
sl_dicom_builder_seq_set_string(struct sl_dicom_builder *b, uint16_t sg,
                                uint16_t se, uint16_t group, uint16_t elem,
                                const char *value, struct sl_err *err)
{
    try {
        DcmItem *item = last_item(b->ff.getDataset(), sg, se);
        if (item == nullptr) {
            char tag[128];
            tag_text(DcmTagKey(sg, se), tag, sizeof(tag));
            return SL_ERR(err, SL_EUSAGE, "%s: no item to set in", tag);
        }
        OFCondition c = item->putAndInsertString(DcmTag(group, elem), value);
        if (c.bad())
            return cond_err(err, c, group, elem, "set");
        return SL_OK;
    } catch (...) {
        return SL_ERR(err, SL_EDICOM, "DCMTK failed setting an attribute");
    }
}

extern "C" int
sl_dicom_builder_save(struct sl_dicom_builder *b, const char *path,
                      struct sl_err *err)
{
    try {
        OFCondition c = b->ff.saveFile(
            OFFilename(path), EXS_LittleEndianExplicit, EET_ExplicitLength,
            EGL_recalcGL, EPD_withoutPadding);
        if (c.bad())
            return SL_ERR(err, SL_EDICOM, "cannot write DICOM file: %s",
                          c.text());
        return SL_OK;
    } catch (const std::bad_alloc &) {
        return SL_ERR(err, SL_ENOMEM, "out of memory writing DICOM");
    } catch (...) {
        return SL_ERR(err, SL_EDICOM, "DCMTK failed writing the file");
    }
}
