// dicom.cc - the shim over DCMTK. Every exported function catches all
// exceptions: nothing unwinds into C. Error messages name tags (number and
// dictionary name) and problems, never values and never the input path.
#include "config.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>
#include <dcmtk/dcmdata/dcpxitem.h>
#include <dcmtk/oflog/oflog.h>

#include <sys/stat.h>

#include <cctype>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>

#include "dicom/dicom.h"

namespace
{

// DCMTK logs parse warnings to stderr on its own, and some of them quote
// attribute values: keep it silent and report through sl_err instead.
void
quiet_dcmtk()
{
    static std::once_flag once;
    std::call_once(once, [] { OFLog::configure(OFLogger::OFF_LOG_LEVEL); });
}

// "(7FE0,0010) Pixel Data" for a tag: the dictionary keyword split into
// words ("SOPInstanceUID" -> "SOP Instance UID").
void
tag_text(const DcmTagKey &key, char *buf, size_t len)
{
    DcmTag tag(key);
    const char *kw = tag.getTagName();
    char name[96];
    size_t o = 0;

    if (kw == nullptr || std::strcmp(kw, DcmTag_ERROR_TagName) == 0)
        kw = key.isPrivate() ? "private attribute" : "unknown attribute";
    for (size_t i = 0; kw[i] != '\0' && o + 2 < sizeof(name); i++) {
        unsigned char c = static_cast<unsigned char>(kw[i]);
        unsigned char prev = i > 0 ? static_cast<unsigned char>(kw[i - 1]) : 0;
        unsigned char next = static_cast<unsigned char>(kw[i + 1]);
        if (i > 0 && std::isupper(c) &&
            (std::islower(prev) || std::isdigit(prev) ||
             (std::isupper(prev) && std::islower(next))))
            name[o++] = ' ';
        name[o++] = static_cast<char>(c);
    }
    name[o] = '\0';
    std::snprintf(buf, len, "(%04X,%04X) %s", key.getGroup(), key.getElement(),
                  name);
}

char *
dup_or_null(const char *s)
{
    if (s == nullptr || *s == '\0')
        return nullptr;
    return sl_strdup(s);
}

// Reads a string attribute of the top-level dataset; NULL when absent,
// empty or not a string.
char *
get_string(DcmItem *ds, const DcmTagKey &key)
{
    OFString v;

    if (ds->findAndGetOFStringArray(key, v, OFFalse).bad())
        return nullptr;
    return dup_or_null(v.c_str());
}

// Bytes of an element header in the file: tag, VR and length.
unsigned long long
header_length(DcmObject *o, bool explicit_vr)
{
    if (!explicit_vr)
        return 8;
    return DcmVR(o->getVR()).usesExtendedLengthEncoding() ? 12 : 8;
}

unsigned long long element_file_length(DcmObject *o, bool explicit_vr,
                                       bool *known);

// Bytes of a sequence or pixel item in the file, from its length field or,
// when undefined, from its content and delimiter.
unsigned long long
item_file_length(DcmItem *it, bool explicit_vr, bool *known)
{
    Uint32 lf = it->getLengthField();
    unsigned long long sum = 8;

    if (lf != DCM_UndefinedLength)
        return sum + lf;
    for (unsigned long i = 0; i < it->card(); i++)
        sum += element_file_length(it->getElement(i), explicit_vr, known);
    return sum + 8; // item delimitation item
}

// Bytes an element occupies in the file, computed from the length fields
// DCMTK read (not from the values, which it may have padded). Sets *known
// to false for an encoding it cannot account for.
unsigned long long
element_file_length(DcmObject *o, bool explicit_vr, bool *known)
{
    Uint32 lf = o->getLengthField();
    unsigned long long sum = header_length(o, explicit_vr);

    if (lf != DCM_UndefinedLength)
        return sum + lf;
    if (o->ident() == EVR_SQ) {
        auto *sq = static_cast<DcmSequenceOfItems *>(o);
        for (unsigned long i = 0; i < sq->card(); i++)
            sum += item_file_length(sq->getItem(i), explicit_vr, known);
        return sum + 8; // sequence delimitation item
    }
    if (o->ident() == EVR_PixelData) {
        auto *pd = static_cast<DcmPixelData *>(o);
        const DcmRepresentationParameter *param = nullptr;
        DcmPixelSequence *seq = nullptr;
        E_TransferSyntax rep;
        pd->getOriginalRepresentationKey(rep, param);
        if (pd->getEncapsulatedRepresentation(rep, param, seq).good() &&
            seq != nullptr) {
            for (unsigned long i = 0; i < seq->card(); i++) {
                DcmPixelItem *pi = nullptr;
                if (seq->getItem(pi, i).bad() || pi == nullptr) {
                    *known = false;
                    return sum;
                }
                sum += 8 + pi->getLengthField();
            }
            return sum + 8;
        }
    }
    *known = false;
    return sum;
}

// Walks the top-level dataset in file order adding up the lengths read,
// and finds the first element whose value would end past the end of the
// file: DCMTK skips values longer than the read limit without checking
// that the bytes are there, so a truncated pixel data element loads
// "fine". Returns true with the tag in *bad when such an element exists.
bool
find_truncated(DcmFileFormat &ff, E_TransferSyntax xfer, off_t file_size,
               DcmTagKey *bad)
{
    DcmMetaInfo *meta = ff.getMetaInfo();
    DcmDataset *ds = ff.getDataset();
    const bool explicit_vr = DcmXfer(xfer).isExplicitVR();
    // 128-byte preamble and "DICM", then the meta group (always explicit
    // little endian), then the dataset.
    unsigned long long pos = 132;
    bool known = true;

    // A deflated dataset is smaller on disk than its encoded length, and
    // DCMTK inflates it whole (nothing is skipped): a cut shows as a
    // failed load instead.
    if (xfer == EXS_DeflatedLittleEndianExplicit || ds == nullptr)
        return false;
    if (meta != nullptr) {
        for (unsigned long i = 0; i < meta->card(); i++)
            pos += element_file_length(meta->getElement(i), true, &known);
    }
    for (unsigned long i = 0; i < ds->card() && known; i++) {
        DcmElement *e = ds->getElement(i);
        pos += element_file_length(e, explicit_vr, &known);
        if (known && pos > static_cast<unsigned long long>(file_size)) {
            *bad = e->getTag();
            return true;
        }
    }
    return false;
}

// The last element of the dataset that DCMTK parsed, to say where a parse
// error happened.
bool
last_parsed(DcmFileFormat &ff, DcmTagKey *key)
{
    DcmDataset *ds = ff.getDataset();

    if (ds != nullptr && ds->card() > 0) {
        *key = ds->getElement(ds->card() - 1)->getTag();
        return true;
    }
    return false;
}

int
summary_read(const char *path, struct sl_dicom_summary **out,
             struct sl_err *err)
{
    struct stat st;
    char tag[128];
    int is_dicom = 0;
    int rc;

    if ((rc = sl_dicom_file_probe(path, &is_dicom, err)) != SL_OK)
        return rc;
    if (!is_dicom)
        return SL_ERR(err, SL_EDICOM,
                      "not a DICOM Part-10 file "
                      "(no DICM prefix)");
    if (stat(path, &st) != 0)
        return SL_ERR(err, SL_EIO, "cannot stat: %s", std::strerror(errno));

    DcmFileFormat ff;
    // Values longer than 4 KiB (pixel data, big private blobs) stay on
    // disk: the summary needs only short attributes.
    OFCondition cond = ff.loadFile(OFFilename(path), EXS_Unknown, EGL_noChange,
                                   4096, ERM_autoDetect);
    if (cond.bad()) {
        DcmTagKey k;
        // A value cut short by the end of the file: name that element.
        if (ff.getDataset() != nullptr &&
            find_truncated(ff, ff.getDataset()->getOriginalXfer(), st.st_size,
                           &k)) {
            tag_text(k, tag, sizeof(tag));
            return SL_ERR(err, SL_EDICOM,
                          "%s: truncated (value shorter "
                          "than its declared length)",
                          tag);
        }
        if (last_parsed(ff, &k)) {
            tag_text(k, tag, sizeof(tag));
            if (cond == EC_StreamNotifyClient)
                return SL_ERR(err, SL_EDICOM,
                              "truncated after %s "
                              "(premature end of file)",
                              tag);
            return SL_ERR(err, SL_EDICOM, "cannot parse after %s: %s", tag,
                          cond.text());
        }
        return SL_ERR(err, SL_EDICOM, "cannot parse: %s", cond.text());
    }
    DcmDataset *ds = ff.getDataset();
    if (ds == nullptr)
        return SL_ERR(err, SL_EDICOM, "no dataset");

    DcmTagKey bad;
    if (find_truncated(ff, ds->getOriginalXfer(), st.st_size, &bad)) {
        tag_text(bad, tag, sizeof(tag));
        return SL_ERR(err, SL_EDICOM,
                      "%s: truncated (value shorter than "
                      "its declared length)",
                      tag);
    }

    static const DcmTagKey required[] = { DCM_StudyInstanceUID,
                                          DCM_SeriesInstanceUID,
                                          DCM_SOPInstanceUID };
    for (const DcmTagKey &k : required) {
        OFString v;
        if (ds->findAndGetOFString(k, v).bad() || v.empty()) {
            tag_text(k, tag, sizeof(tag));
            return SL_ERR(err, SL_EDICOM,
                          "%s: required attribute missing "
                          "or empty",
                          tag);
        }
        // DCMTK keeps NUL bytes inside a value: a UID such as "\0\0@1.2"
        // is not empty to it but is "" as the C string the summary hands
        // out (found by fuzz_dicom), and "1.2\0x" would be cut to "1.2".
        if (std::strlen(v.c_str()) != v.length()) {
            tag_text(k, tag, sizeof(tag));
            return SL_ERR(err, SL_EDICOM,
                          "%s: required attribute holds a NUL byte", tag);
        }
    }

    auto *s = static_cast<struct sl_dicom_summary *>(
        sl_calloc(1, sizeof(struct sl_dicom_summary)));
    s->patient_id = get_string(ds, DCM_PatientID);
    s->study_uid = get_string(ds, DCM_StudyInstanceUID);
    s->series_uid = get_string(ds, DCM_SeriesInstanceUID);
    s->sop_uid = get_string(ds, DCM_SOPInstanceUID);
    s->sop_class_uid = get_string(ds, DCM_SOPClassUID);
    s->modality = get_string(ds, DCM_Modality);
    s->study_date = get_string(ds, DCM_StudyDate);
    if (ff.getMetaInfo() != nullptr)
        s->transfer_syntax =
            get_string(ff.getMetaInfo(), DCM_TransferSyntaxUID);
    *out = s;
    return SL_OK;
}

} // namespace

struct sl_dicom_builder {
    DcmFileFormat ff;
};

extern "C" int
sl_dicom_init(char *msg, unsigned long msglen)
{
    try {
        quiet_dcmtk();
        if (!dcmDataDict.isDictionaryLoaded()) {
            std::snprintf(msg, msglen,
                          "DCMTK data dictionary not loaded "
                          "(install dcmtk's dicom.dic or set DCMDICTPATH)");
            return -1;
        }
        return 0;
    } catch (...) {
        std::snprintf(msg, msglen, "DCMTK failed to initialise");
        return -1;
    }
}

extern "C" int
sl_dicom_file_probe(const char *path, int *is_dicom, struct sl_err *err)
{
    unsigned char head[132];
    std::FILE *f;
    size_t n;

    // Plain C I/O only: nothing here can throw.
    f = std::fopen(path, "rb");
    if (f == nullptr)
        return SL_ERR(err, SL_EIO, "cannot open: %s", std::strerror(errno));
    n = std::fread(head, 1, sizeof(head), f);
    if (n < sizeof(head) && std::ferror(f)) {
        std::fclose(f);
        return SL_ERR(err, SL_EIO, "read error");
    }
    std::fclose(f);
    *is_dicom = n == sizeof(head) && std::memcmp(head + 128, "DICM", 4) == 0;
    return SL_OK;
}

extern "C" int
sl_dicom_summary_read(const char *path, struct sl_dicom_summary **out,
                      struct sl_err *err)
{
    try {
        quiet_dcmtk();
        return summary_read(path, out, err);
    } catch (const std::bad_alloc &) {
        return SL_ERR(err, SL_ENOMEM, "out of memory reading DICOM");
    } catch (...) {
        return SL_ERR(err, SL_EDICOM, "DCMTK failed reading the file");
    }
}

extern "C" void
sl_dicom_summary_free(struct sl_dicom_summary *s)
{
    if (s == nullptr)
        return;
    std::free(s->patient_id);
    std::free(s->study_uid);
    std::free(s->series_uid);
    std::free(s->sop_uid);
    std::free(s->sop_class_uid);
    std::free(s->modality);
    std::free(s->study_date);
    std::free(s->transfer_syntax);
    std::free(s);
}

/* ---- builder ----------------------------------------------------------- */

namespace
{

int
cond_err(struct sl_err *err, const OFCondition &cond, uint16_t g, uint16_t e,
         const char *what)
{
    char tag[128];

    tag_text(DcmTagKey(g, e), tag, sizeof(tag));
    return SL_ERR(err, SL_EDICOM, "%s: cannot %s: %s", tag, what, cond.text());
}

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
