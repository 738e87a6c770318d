// dicom.cc - the shim over DCMTK. Every exported function catches all
// exceptions: nothing unwinds into C. Error messages name tags (number and
// dictionary name) and problems, never values and never the input path.
#include "config.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>
#include <dcmtk/dcmdata/dcddirif.h>
#include <dcmtk/dcmdata/dcistrmf.h>
#include <dcmtk/dcmdata/dcwcache.h>
#include <dcmtk/dcmdata/dcpxitem.h>
#include <dcmtk/oflog/oflog.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <string>
#include <vector>

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

// The elements of an item or the items of a sequence, in order.
// getElement(i) and getItem(i) walk the list from its head each time
// (DcmList::seek_to), which made every loop over a dataset quadratic.
template <class C>
std::vector<DcmObject *>
children(C *c)
{
    std::vector<DcmObject *> v;

    v.reserve(c->card());
    for (DcmObject *o = c->nextInContainer(nullptr); o != nullptr;
         o = c->nextInContainer(o))
        v.push_back(o);
    return v;
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
    for (DcmObject *o : children(it))
        sum += element_file_length(o, explicit_vr, known);
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
        for (DcmObject *o : children(sq))
            sum += item_file_length(static_cast<DcmItem *>(o), explicit_vr,
                                    known);
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
        for (DcmObject *o : children(meta))
            pos += element_file_length(o, true, &known);
    }
    for (DcmObject *e : children(ds)) {
        if (!known)
            break;
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

// A dataset written without preamble or meta information (older
// writers, some PACS exports) starts with its lowest group: (0002,xxxx)
// or (0008,xxxx), little or big endian, then either an explicit VR or an
// implicit 32-bit length. Anything else is not taken for DICOM.
bool
looks_like_bare_dataset(const unsigned char *h, size_t n)
{
    static const char vrs[] = "AEASATCSDADSDTFLFDISLOLTOBODOFOLOVOWPNSH"
                              "SLSQSSSTSVTMUCUIULUNURUSUTUV";
    if (n < 8)
        return false;
    for (int big = 0; big < 2; big++) {
        unsigned g = big ? (h[0] << 8 | h[1]) : (h[0] | h[1] << 8);
        unsigned e = big ? (h[2] << 8 | h[3]) : (h[2] | h[3] << 8);
        if ((g != 0x0002 && g != 0x0008) || e > 0x00ff)
            continue;
        for (size_t i = 0; i + 1 < sizeof(vrs); i += 2)
            if (h[4] == vrs[i] && h[5] == vrs[i + 1])
                return true;
        // Implicit VR is little endian only; a first value is short.
        unsigned long len = (unsigned long)h[4] | (unsigned long)h[5] << 8 |
                            (unsigned long)h[6] << 16 | (unsigned long)h[7] << 24;
        if (!big && len < 0x10000)
            return true;
    }
    return false;
}

// A file read with pread through one buffer, under the contract of
// DCMTK's DcmFileProducer (size fixed when opened, reads and skips stop at
// it, putback within what was read): that producer asks stdio for the
// position at every element (ftello, feof), which was a fifth of the
// time spent on a small instance.
class pread_producer : public DcmProducer
{
  public:
    explicit pread_producer(const char *path)
    {
        struct stat st;

        fd_ = open(path, O_RDONLY | O_CLOEXEC);
        if (fd_ < 0 || fstat(fd_, &st) != 0) {
            errno_ = errno;
            stat_failed_ = fd_ >= 0;
            status_ = makeOFCondition(OFM_dcmdata, 18, OF_error,
                                      std::strerror(errno));
            return;
        }
        size_ = static_cast<offile_off_t>(st.st_size);
        buf_.resize(size_ > 0 && size_ < 65536 ? static_cast<size_t>(size_)
                                               : 65536);
    }
    // Why the constructor failed: errno, and whether open or fstat did.
    int open_errno() const { return errno_; }
    bool stat_failed() const { return stat_failed_; }
    offile_off_t size() const { return size_; }
    // Hands the descriptor over to the caller (the producer is spent).
    int release()
    {
        int fd = fd_;
        fd_ = -1;
        return fd;
    }
    // The first n bytes, read without moving; -1 on a read error, else
    // how many there were.
    ssize_t head(void *buf, size_t n)
    {
        ssize_t r;

        do
            r = pread(fd_, buf, n, 0);
        while (r < 0 && errno == EINTR);
        return r;
    }
    ~pread_producer() override
    {
        if (fd_ >= 0)
            close(fd_);
    }
    pread_producer(const pread_producer &) = delete;
    pread_producer &operator=(const pread_producer &) = delete;

    OFBool good() const override { return status_.good(); }
    OFCondition status() const override { return status_; }
    OFBool eos() override { return fd_ < 0 || pos_ >= size_; }
    offile_off_t avail() override
    {
        return status_.good() && fd_ >= 0 && pos_ < size_ ? size_ - pos_ : 0;
    }
    offile_off_t read(void *buf, offile_off_t buflen) override
    {
        auto *out = static_cast<char *>(buf);
        offile_off_t done = 0;

        if (status_.bad() || fd_ < 0 || buf == nullptr)
            return 0;
        while (done < buflen) {
            if (pos_ >= at_ && pos_ < at_ + len_) {
                offile_off_t n = at_ + len_ - pos_;
                if (n > buflen - done)
                    n = buflen - done;
                std::memcpy(out + done, buf_.data() + (pos_ - at_),
                            static_cast<size_t>(n));
                done += n;
                pos_ += n;
                continue;
            }
            ssize_t r;
            if (buflen - done >= static_cast<offile_off_t>(buf_.size())) {
                // A large value: straight into the caller's buffer.
                r = pread(fd_, out + done,
                          static_cast<size_t>(buflen - done), pos_);
                if (r > 0) {
                    done += r;
                    pos_ += r;
                    continue;
                }
            } else {
                r = pread(fd_, buf_.data(), buf_.size(), pos_);
                if (r > 0) {
                    at_ = pos_;
                    len_ = r;
                    continue;
                }
            }
            if (r < 0 && errno == EINTR)
                continue;
            break; // end of file (or an error: what was read so far)
        }
        return done;
    }
    offile_off_t skip(offile_off_t skiplen) override
    {
        offile_off_t n = 0;

        if (status_.good() && fd_ >= 0 && skiplen > 0) {
            n = size_ - pos_ < skiplen ? size_ - pos_ : skiplen;
            if (n < 0)
                n = 0;
            pos_ += n;
        }
        return n;
    }
    void putback(offile_off_t num) override
    {
        if (status_.good() && fd_ >= 0 && num > 0) {
            if (num <= pos_)
                pos_ -= num;
            else
                status_ = EC_PutbackFailed;
        }
    }

  private:
    int fd_ = -1, errno_ = 0;
    bool stat_failed_ = false;
    offile_off_t size_ = 0, pos_ = 0;
    offile_off_t at_ = 0, len_ = 0; // what buf_ holds
    std::vector<char> buf_;
    OFCondition status_ = EC_Normal;
};

// DcmInputFileStream over pread_producer: values left on disk are loaded
// later through the same DcmInputFileStreamFactory it would give.
class pread_stream : public DcmInputStream
{
  public:
    explicit pread_stream(const char *path)
        : DcmInputStream(&producer_), producer_(path), path_(path)
    {
    }
    pread_producer &producer() { return producer_; }
    DcmInputStreamFactory *newFactory() const override
    {
        // Not through a compression filter (deflate): no factory, the
        // values are read whole, as DcmInputFileStream does.
        if (currentProducer() != &producer_)
            return nullptr;
        return new DcmInputFileStreamFactory(OFFilename(path_.c_str()),
                                             tell());
    }

  private:
    pread_producer producer_;
    std::string path_;
};

// DcmFileFormat::loadFile(path, EXS_Unknown, EGL_noChange, maxReadLength,
// ERM_autoDetect) from in.
OFCondition
load_file(DcmFileFormat &ff, pread_stream &in, Uint32 max_read_length)
{
    OFCondition c = in.status();

    if (c.bad())
        return c;
    if ((c = ff.clear()).bad())
        return c;
    ff.transferInit();
    c = ff.read(in, EXS_Unknown, EGL_noChange, max_read_length);
    ff.transferEnd();
    return c;
}

// Loads path into ff with values over 4 KiB left on disk, and checks that
// it parsed completely and that no value runs past the end of the file.
// require_meta: refuse a file without the Part-10 "DICM" prefix.
int
load_checked(const char *path, DcmFileFormat &ff, bool require_meta,
             int *had_meta, unsigned long long *size, int *keep_fd,
             struct sl_err *err)
{
    unsigned char head[132];
    char tag[128];
    int is_dicom = 0;

    // One open for the prefix check (sl_dicom_file_probe's, with its
    // messages), the size and the parse.
    pread_stream in(path);
    if (in.status().bad() && !in.producer().stat_failed())
        return SL_ERR(err, SL_EIO, "cannot open: %s",
                      std::strerror(in.producer().open_errno()));
    if (in.status().good()) {
        ssize_t n = in.producer().head(head, sizeof(head));
        if (n < 0)
            return SL_ERR(err, SL_EIO, "read error");
        is_dicom = n == static_cast<ssize_t>(sizeof(head)) &&
                   std::memcmp(head + 128, "DICM", 4) == 0;
    }
    if (!is_dicom && require_meta)
        return SL_ERR(err, SL_EDICOM,
                      "not a DICOM Part-10 file "
                      "(no DICM prefix)");
    if (had_meta != nullptr)
        *had_meta = is_dicom;
    if (in.status().bad())
        return SL_ERR(err, SL_EIO, "cannot stat: %s",
                      std::strerror(in.producer().open_errno()));
    const off_t file_size = static_cast<off_t>(in.producer().size());
    if (size != nullptr)
        *size = static_cast<unsigned long long>(file_size);

    // Values longer than 4 KiB (pixel data, big private blobs) stay on
    // disk: they are copied through when written, never decoded.
    OFCondition cond = load_file(ff, in, 4096);
    if (cond.bad()) {
        DcmTagKey k;
        // A value cut short by the end of the file: name that element.
        if (ff.getDataset() != nullptr &&
            find_truncated(ff, ff.getDataset()->getOriginalXfer(), file_size,
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
    if (is_dicom &&
        find_truncated(ff, ds->getOriginalXfer(), file_size, &bad)) {
        tag_text(bad, tag, sizeof(tag));
        return SL_ERR(err, SL_EDICOM,
                      "%s: truncated (value shorter than "
                      "its declared length)",
                      tag);
    }
    if (keep_fd != nullptr)
        *keep_fd = in.producer().release();
    return SL_OK;
}

// The summary of what ff holds, with the checks a reader of it makes.
int
summary_of(DcmFileFormat &ff, struct sl_dicom_summary **out,
           struct sl_err *err)
{
    char tag[128];
    DcmDataset *ds = ff.getDataset();

    if (ds == nullptr)
        return SL_ERR(err, SL_EDICOM, "no dataset");

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

int
summary_read(const char *path, struct sl_dicom_summary **out,
             struct sl_err *err)
{
    int rc;

    DcmFileFormat ff;
    if ((rc = load_checked(path, ff, true, nullptr, nullptr, nullptr, err)) !=
        SL_OK)
        return rc;
    return summary_of(ff, out, err);
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
sl_dicom_named_as_dicom(const char *path)
{
    return sl_str_has_suffix(path, ".dcm") || sl_str_has_suffix(path, ".DCM") ||
           sl_str_has_suffix(path, ".dicom");
}

extern "C" int
sl_dicom_file_probe(const char *path, int *is_dicom, struct sl_err *err)
{
    unsigned char head[132];
    ssize_t n;
    int fd;

    // Plain C I/O only: nothing here can throw.
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return SL_ERR(err, SL_EIO, "cannot open: %s", std::strerror(errno));
    do
        n = pread(fd, head, sizeof(head), 0);
    while (n < 0 && errno == EINTR);
    close(fd);
    if (n < 0)
        return SL_ERR(err, SL_EIO, "read error");
    *is_dicom = (n == static_cast<ssize_t>(sizeof(head)) &&
                 std::memcmp(head + 128, "DICM", 4) == 0) ||
                looks_like_bare_dataset(head, static_cast<size_t>(n));
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

/* ---- reading and editing a file ---------------------------------------- */

struct sl_dicom_file {
    DcmFileFormat *ff;
    std::string src;         // the input file, for the pixel data fast path
    unsigned long long size; // its size when opened
    bool had_meta;
    bool pixels_changed; // blanked: the pixel data must be re-encoded
    unsigned long long pix_off, pix_len; // where it is in src (0: unknown)
    int src_fd; // src, open for reading (-1: not)
};

namespace
{

// Where the top-level pixel data element is in the input file, from the
// length fields read (before anything is changed).
void
locate_pixels(struct sl_dicom_file *f)
{
    DcmMetaInfo *meta = f->ff->getMetaInfo();
    DcmDataset *ds = f->ff->getDataset();
    E_TransferSyntax x = ds->getOriginalXfer();
    const bool explicit_vr = DcmXfer(x).isExplicitVR();
    unsigned long long pos = 132;
    bool known = true;

    if (!f->had_meta || x == EXS_DeflatedLittleEndianExplicit ||
        meta == nullptr)
        return;
    for (DcmObject *o : children(meta))
        pos += element_file_length(o, true, &known);
    for (DcmObject *e : children(ds)) {
        if (!known)
            break;
        unsigned long long n = element_file_length(e, explicit_vr, &known);
        if (known && e->getTag() == DCM_PixelData) {
            if (pos + n <= f->size) {
                f->pix_off = pos;
                f->pix_len = n;
            }
            return;
        }
        pos += n;
    }
}

} // namespace

namespace
{

int
fail_exception(struct sl_err *err)
{
    try {
        throw;
    } catch (const std::bad_alloc &) {
        return SL_ERR(err, SL_ENOMEM, "out of memory in DCMTK");
    } catch (...) {
        return SL_ERR(err, SL_EDICOM, "DCMTK failed");
    }
}

bool
is_string_vr(DcmEVR evr)
{
    switch (evr) {
    case EVR_AE:
    case EVR_AS:
    case EVR_CS:
    case EVR_DA:
    case EVR_DS:
    case EVR_DT:
    case EVR_IS:
    case EVR_LO:
    case EVR_LT:
    case EVR_PN:
    case EVR_SH:
    case EVR_ST:
    case EVR_TM:
    case EVR_UC:
    case EVR_UI:
    case EVR_UR:
    case EVR_UT:
        return true;
    default:
        return false;
    }
}

// What sl_dicom_elem_value needs: the element, and its value once read.
struct elem_impl {
    DcmElement *el;
    bool is_string;
    bool fetched;
    bool ok;
    OFString value;
};

struct walker {
    sl_dicom_visit_fn fn;
    void *ctx;
    struct sl_err *err;
    bool pixels_changed; // the top-level pixel data was edited
};

int walk_item(DcmItem *item, int depth, uint16_t sg, uint16_t se, walker &w);

// The private creators of an item's blocks, keyed (group << 8 | block),
// read before any element is changed.
struct creator_entry {
    uint32_t key;
    OFString name;
};

// A standard attribute written as UN (explicit VR files whose writer did
// not know it) is read with its dictionary VR when that VR is a string,
// so that its value can be seen, mapped and scanned like any other.
// Returns the element now in the item (el itself when left alone).
DcmElement *
un_to_dictionary_vr(DcmItem *item, DcmElement *el)
{
    DcmTagKey key = el->getTag();
    Uint8 *raw = nullptr;

    if (key.isPrivate() || key.getElement() == 0 || el->getLength() > 65536)
        return el;
    DcmTag dict(key);
    if (!is_string_vr(dict.getEVR()))
        return el;
    if (el->getUint8Array(raw).bad())
        return el;
    std::string v;
    if (raw != nullptr)
        v.assign(reinterpret_cast<const char *>(raw), el->getLength());
    while (!v.empty() && (v.back() == '\0' || v.back() == ' '))
        v.pop_back();
    DcmElement *ne = DcmItem::newDicomElement(key);
    if (ne == nullptr)
        return el;
    if (ne->putString(v.c_str()).bad() ||
        item->insert(ne, OFTrue /* replace the UN element */).bad()) {
        delete ne;
        return el;
    }
    return ne;
}

// Applies un_to_dictionary_vr through every sequence.
void
normalize_un(DcmItem *item)
{
    for (DcmObject *o : children(item)) {
        auto *el = static_cast<DcmElement *>(o);
        if (el->ident() == EVR_UN)
            el = un_to_dictionary_vr(item, el);
        if (el->ident() == EVR_SQ) {
            for (DcmObject *it : children(static_cast<DcmSequenceOfItems *>(el)))
                normalize_un(static_cast<DcmItem *>(it));
        }
    }
}

// Removes from item the elements of doomed (in the item's order) in one
// pass: DcmItem::remove(DcmObject *) searches from the head of the list,
// which made removing the private groups of an instance, often most of
// its elements, quadratic. Every element is taken off the head (O(1))
// and the others put back in order (DcmItem::insert looks from the tail:
// O(1) for tags in ascending order, which the list's are).
int
drop(DcmItem *item, const std::vector<DcmObject *> &doomed, walker &w)
{
    std::vector<DcmElement *> keep;
    size_t k = 0;
    int rc = SL_OK;

    keep.reserve(item->card());
    while (item->card() > 0) {
        DcmElement *el = item->remove(0UL);
        if (el == nullptr)
            break;
        if (k < doomed.size() && el == doomed[k]) {
            delete el;
            k++;
        } else {
            keep.push_back(el);
        }
    }
    for (DcmElement *el : keep) {
        if (item->insert(el, OFFalse, OFFalse).bad()) {
            delete el;
            rc = SL_ERR(w.err, SL_EDICOM, "cannot remove attributes");
        }
    }
    return rc;
}

int
walk_item(DcmItem *item, int depth, uint16_t sg, uint16_t se, walker &w)
{
    std::vector<creator_entry> creators;
    const std::vector<DcmObject *> els = children(item);
    std::vector<DcmObject *> doomed; // removed after the walk of this item
    int rc;

    for (DcmObject *o : els) {
        auto *el = static_cast<DcmElement *>(o);
        const DcmTagKey k = el->getTag();
        if ((k.getGroup() & 1) != 0 && k.getElement() >= 0x10 &&
            k.getElement() <= 0xFF) {
            OFString v;
            if (el->getOFStringArray(v).good())
                creators.push_back(
                    { (static_cast<uint32_t>(k.getGroup()) << 8) |
                          k.getElement(),
                      v });
        }
    }
    for (DcmObject *o : els) {
        auto *el = static_cast<DcmElement *>(o);
        const DcmTag &tag = el->getTag();
        const DcmEVR evr = el->ident();
        struct sl_dicom_elem e;
        const char *vrname;
        int op = SL_DICOM_KEEP;
        const char *nv = nullptr;

        std::memset(&e, 0, sizeof(e));
        e.group = tag.getGroup();
        e.elem = tag.getElement();
        e.depth = depth;
        e.seq_group = sg;
        e.seq_elem = se;
        if (evr == EVR_PixelData || evr == EVR_OverlayData)
            vrname = DcmVR(el->getVR()).getValidVRName();
        else
            vrname = DcmVR(evr).getValidVRName();
        if (vrname == nullptr || std::strlen(vrname) != 2)
            vrname = "UN";
        std::memcpy(e.vr, vrname, 2);
        if ((e.group & 1) != 0) {
            uint32_t key = 0;
            if (e.elem >= 0x10 && e.elem <= 0xFF)
                key = (static_cast<uint32_t>(e.group) << 8) | e.elem;
            else if (e.elem >= 0x1000)
                key = (static_cast<uint32_t>(e.group) << 8) | (e.elem >> 8);
            for (const creator_entry &c : creators)
                if (key != 0 && c.key == key)
                    e.creator = c.name.c_str();
        }
        elem_impl impl = { el, is_string_vr(evr), false, false, OFString() };
        e.impl = &impl;
        if (evr == EVR_SQ)
            e.items = static_cast<DcmSequenceOfItems *>(el)->card();
        if ((rc = w.fn(w.ctx, &e, &op, &nv)) != SL_OK)
            return rc;
        if (op != SL_DICOM_KEEP && depth == 0 && e.group == 0x7FE0 &&
            e.elem == 0x0010)
            w.pixels_changed = true;
        switch (op) {
        case SL_DICOM_REMOVE:
            doomed.push_back(el);
            continue;
        case SL_DICOM_CLEAR:
            if (evr == EVR_SQ)
                static_cast<DcmSequenceOfItems *>(el)->clear();
            else if (el->clear().bad())
                return SL_ERR(w.err, SL_EDICOM,
                              "(%04X,%04X): cannot empty the value", e.group,
                              e.elem);
            break;
        case SL_DICOM_SET:
            if (nv == nullptr || el->putString(nv).bad())
                return SL_ERR(w.err, SL_EDICOM,
                              "(%04X,%04X): cannot replace the value", e.group,
                              e.elem);
            break;
        default:
            if (evr == EVR_SQ) {
                for (DcmObject *it :
                     children(static_cast<DcmSequenceOfItems *>(el)))
                    if ((rc = walk_item(static_cast<DcmItem *>(it), depth + 1,
                                        e.group, e.elem, w)) != SL_OK)
                        return rc;
            }
            break;
        }
    }
    if (doomed.empty())
        return SL_OK;
    if (doomed.size() == 1) {
        delete item->remove(doomed[0]);
        return SL_OK;
    }
    return drop(item, doomed, w);
}

} // namespace

extern "C" int
sl_dicom_file_open(const char *path, struct sl_dicom_file **out, int *had_meta,
                   struct sl_err *err)
{
    DcmFileFormat *ff = nullptr;

    try {
        quiet_dcmtk();
        ff = new DcmFileFormat();
        int meta = 0;
        unsigned long long size = 0;
        int fd = -1;
        int rc = load_checked(path, *ff, false, &meta, &size, &fd, err);
        if (had_meta != nullptr)
            *had_meta = meta;
        if (rc != SL_OK) {
            delete ff;
            return rc;
        }
        normalize_un(ff->getDataset());
        auto *f = new sl_dicom_file();
        f->ff = ff;
        f->src = path;
        f->src_fd = fd;
        f->size = size;
        f->had_meta = meta != 0;
        f->pixels_changed = false;
        f->pix_off = f->pix_len = 0;
        locate_pixels(f);
        *out = f;
        return SL_OK;
    } catch (...) {
        delete ff;
        return fail_exception(err);
    }
}

extern "C" void
sl_dicom_file_free(struct sl_dicom_file *f)
{
    if (f == nullptr)
        return;
    try {
        if (f->src_fd >= 0)
            close(f->src_fd);
        delete f->ff;
        delete f;
    } catch (...) {
    }
}

extern "C" const char *
sl_dicom_file_xfer(const struct sl_dicom_file *f)
{
    try {
        DcmXfer x(f->ff->getDataset()->getOriginalXfer());
        return x.getXferID();
    } catch (...) {
        return "";
    }
}

extern "C" int
sl_dicom_file_is_encapsulated(const struct sl_dicom_file *f)
{
    try {
        DcmXfer x(f->ff->getDataset()->getOriginalXfer());
        return x.isEncapsulated() ? 1 : 0;
    } catch (...) {
        return 1;
    }
}

extern "C" int
sl_dicom_file_get(struct sl_dicom_file *f, uint16_t group, uint16_t elem,
                  char **out)
{
    try {
        OFString v;
        *out = nullptr;
        if (f->ff->getDataset()
                ->findAndGetOFStringArray(DcmTagKey(group, elem), v, OFFalse)
                .good())
            *out = sl_strdup(v.c_str());
        return SL_OK;
    } catch (...) {
        return fail_exception(nullptr);
    }
}

extern "C" int
sl_dicom_file_has(struct sl_dicom_file *f, uint16_t group, uint16_t elem)
{
    try {
        return f->ff->getDataset()->tagExists(DcmTagKey(group, elem)) ? 1 : 0;
    } catch (...) {
        return 0;
    }
}

extern "C" int
sl_dicom_file_put(struct sl_dicom_file *f, uint16_t group, uint16_t elem,
                  const char *value, struct sl_err *err)
{
    try {
        OFCondition c =
            f->ff->getDataset()->putAndInsertString(DcmTag(group, elem), value);
        if (c.bad())
            return cond_err(err, c, group, elem, "set");
        return SL_OK;
    } catch (...) {
        return fail_exception(err);
    }
}

extern "C" int
sl_dicom_file_delete(struct sl_dicom_file *f, uint16_t group, uint16_t elem)
{
    try {
        f->ff->getDataset()->findAndDeleteElement(DcmTagKey(group, elem));
        return SL_OK;
    } catch (...) {
        return fail_exception(nullptr);
    }
}

extern "C" int
sl_dicom_file_delete_group(struct sl_dicom_file *f, uint16_t group)
{
    try {
        DcmDataset *ds = f->ff->getDataset();
        unsigned long i = 0;
        while (i < ds->card()) {
            if (ds->getElement(i)->getGTag() == group)
                delete ds->remove(i);
            else
                i++;
        }
        return SL_OK;
    } catch (...) {
        return fail_exception(nullptr);
    }
}

extern "C" int
sl_dicom_file_add_code(struct sl_dicom_file *f, uint16_t sg, uint16_t se,
                       const char *value, const char *scheme,
                       const char *meaning, struct sl_err *err)
{
    try {
        DcmItem *it = nullptr;
        OFCondition c = f->ff->getDataset()->findOrCreateSequenceItem(
            DcmTagKey(sg, se), it, -2);
        if (c.good() && it != nullptr)
            c = it->putAndInsertString(DCM_CodeValue, value);
        if (c.good())
            c = it->putAndInsertString(DCM_CodingSchemeDesignator, scheme);
        if (c.good())
            c = it->putAndInsertString(DCM_CodeMeaning, meaning);
        if (c.bad() || it == nullptr)
            return cond_err(err, c, sg, se, "add a code to");
        return SL_OK;
    } catch (...) {
        return fail_exception(err);
    }
}

extern "C" int
sl_dicom_file_walk(struct sl_dicom_file *f, sl_dicom_visit_fn fn, void *ctx,
                   struct sl_err *err)
{
    try {
        walker w = { fn, ctx, err, false };
        int rc = walk_item(f->ff->getDataset(), 0, 0, 0, w);
        if (w.pixels_changed)
            f->pixels_changed = true;
        return rc;
    } catch (...) {
        return fail_exception(err);
    }
}

namespace
{

// Appends len bytes of src from offset to out (open for writing, not
// O_APPEND, which copy_file_range refuses), at its end out_off.
bool
copy_range(int in, unsigned long long offset, unsigned long long len, int out,
           off_t out_off)
{
    off_t off = static_cast<off_t>(offset);
    bool ok = in >= 0 && out >= 0 && out_off >= 0;
    std::vector<char> buf;

    while (ok && len > 0) {
        size_t chunk =
            len > (1ULL << 30) ? (1U << 30) : static_cast<size_t>(len);
        ssize_t n = copy_file_range(in, &off, out, &out_off, chunk, 0);
        if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL ||
                      errno == EOPNOTSUPP || errno == EBADF)) {
            // No in-kernel copy here: plain reads and writes.
            if (buf.empty())
                buf.resize(1 << 20);
            n = pread(in, buf.data(),
                      len < buf.size() ? static_cast<size_t>(len) : buf.size(),
                      off);
            if (n > 0) {
                ssize_t w =
                    pwrite(out, buf.data(), static_cast<size_t>(n), out_off);
                if (w != n) {
                    n = -1;
                } else {
                    off += n;
                    out_off += n;
                }
            }
        }
        if (n <= 0) {
            ok = false;
            break;
        }
        len -= static_cast<unsigned long long>(n);
    }
    return ok;
}

// The output file through one buffer and write(2), under the contract of
// DCMTK's DcmFileConsumer (always flushed, room for 2 GB at any time),
// kept open so that the pixel data can be appended to it: DCMTK's own
// consumer goes through stdio, a lock and a call per piece of every
// element.
class fd_consumer : public DcmConsumer
{
  public:
    explicit fd_consumer(const char *path)
    {
        fd_ = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
        if (fd_ < 0)
            fail();
        buf_.reserve(cap);
    }
    ~fd_consumer() override
    {
        if (fd_ >= 0)
            close(fd_);
    }
    fd_consumer(const fd_consumer &) = delete;
    fd_consumer &operator=(const fd_consumer &) = delete;

    OFBool good() const override { return status_.good(); }
    OFCondition status() const override { return status_; }
    OFBool isFlushed() const override { return OFTrue; }
    offile_off_t avail() const override { return 2147483647L; }
    offile_off_t write(const void *buf, offile_off_t buflen) override
    {
        const char *p = static_cast<const char *>(buf);

        if (status_.bad() || fd_ < 0 || buf == nullptr || buflen <= 0)
            return 0;
        if (buf_.size() + static_cast<size_t>(buflen) > cap && !drain())
            return 0;
        if (static_cast<size_t>(buflen) >= cap)
            return put(p, static_cast<size_t>(buflen)) ? buflen : 0;
        buf_.insert(buf_.end(), p, p + buflen);
        return buflen;
    }
    void flush() override { drain(); }

    // Writes what is buffered; the file's end is then at end().
    bool drain()
    {
        bool ok = put(buf_.data(), buf_.size());
        buf_.clear();
        return ok;
    }
    int fd() const { return fd_; }
    off_t end() const { return end_; }
    // Closes the file; false when anything failed.
    bool finish()
    {
        bool ok = drain() && status_.good();
        if (fd_ >= 0 && close(fd_) != 0) {
            if (ok)
                fail();
            ok = false;
        }
        fd_ = -1;
        return ok;
    }

  private:
    static constexpr size_t cap = 256 * 1024;

    void fail()
    {
        status_ =
            makeOFCondition(OFM_dcmdata, 19, OF_error, std::strerror(errno));
    }
    bool put(const char *p, size_t n)
    {
        while (status_.good() && n > 0) {
            ssize_t w = ::write(fd_, p, n);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                if (w == 0)
                    errno = EIO;
                fail();
                break;
            }
            p += w;
            n -= static_cast<size_t>(w);
            end_ += w;
        }
        return status_.good();
    }

    int fd_ = -1;
    off_t end_ = 0;
    std::vector<char> buf_;
    OFCondition status_ = EC_Normal;
};

class fd_stream : public DcmOutputStream
{
  public:
    explicit fd_stream(const char *path)
        : DcmOutputStream(&consumer_), consumer_(path)
    {
    }
    fd_consumer &consumer() { return consumer_; }

  private:
    fd_consumer consumer_;
};

// DcmFileFormat::saveFile(path, x, enc, glen, EPD_noChange, 0, 0,
// EWM_fileformat) through fd_stream, then the pixel data (tail_len bytes
// from tail_off of src, when tail_len > 0) appended to the same file.
OFCondition
save_file(DcmFileFormat &ff, const char *path, E_TransferSyntax x,
          E_EncodingType enc, E_GrpLenEncoding glen, int src,
          unsigned long long tail_off, unsigned long long tail_len,
          bool *tail_ok)
{
    DcmWriteCache wcache;
    fd_stream out(path);
    OFCondition c = out.status();

    *tail_ok = true;
    if (c.bad())
        return c;
    ff.transferInit();
    c = ff.write(out, x, enc, &wcache, glen, EPD_noChange, 0, 0, 0,
                 EWM_fileformat);
    ff.transferEnd();
    out.flush();
    if (c.bad())
        return c;
    fd_consumer &file = out.consumer();
    if (!file.drain())
        return file.status();
    if (tail_len > 0 &&
        !copy_range(src, tail_off, tail_len, file.fd(), file.end())) {
        *tail_ok = false;
        return EC_Normal;
    }
    if (!file.finish())
        return file.status();
    return EC_Normal;
}

// The pixel data element, when it can be copied from the input file as it
// is: the last element of the dataset and of the file, unchanged, in a
// transfer syntax written back as it was read (not deflated). Sets its
// offset and length in the input file.
DcmElement *
pixel_tail(struct sl_dicom_file *f, E_TransferSyntax x,
           unsigned long long *offset, unsigned long long *len)
{
    DcmDataset *ds = f->ff->getDataset();
    const DcmXfer xfer(x);

    if (f->pixels_changed || !f->had_meta || f->src.empty() ||
        x == EXS_DeflatedLittleEndianExplicit || ds->card() == 0)
        return nullptr;
    DcmElement *pd = ds->getElement(ds->card() - 1);
    if (pd == nullptr || pd->getTag() != DCM_PixelData || f->pix_len < 8)
        return nullptr;
    const unsigned long long n = f->pix_len;
    // The tag must be where the lengths say.
    unsigned char tag[4];
    bool at = f->src_fd >= 0 &&
              pread(f->src_fd, tag, 4, static_cast<off_t>(f->pix_off)) == 4;
    static const unsigned char le[4] = { 0xE0, 0x7F, 0x10, 0x00 };
    static const unsigned char be[4] = { 0x7F, 0xE0, 0x00, 0x10 };
    if (!at || std::memcmp(tag, xfer.isBigEndian() ? be : le, 4) != 0)
        return nullptr;
    *offset = f->pix_off;
    *len = n;
    return pd;
}

} // namespace

extern "C" int
sl_dicom_file_save(struct sl_dicom_file *f, const char *path,
                   struct sl_err *err)
{
    DcmElement *tail = nullptr;

    try {
        DcmDataset *ds = f->ff->getDataset();
        E_TransferSyntax x = ds->getOriginalXfer();
        unsigned long long offset = 0, len = 0;
        if (x == EXS_Unknown)
            x = EXS_LittleEndianExplicit;
        // Pixel data is appended from the input file as bytes when it can
        // be (the bulk of a large instance never goes through DCMTK).
        if ((tail = pixel_tail(f, x, &offset, &len)) != nullptr)
            ds->remove(tail);
        // A new DcmFileFormat around the same dataset: its meta header is
        // empty and its preamble zeroed, so nothing of the old ones
        // survives; values still on disk are read from the input file.
        ds = f->ff->getAndRemoveDataset();
        delete f->ff;
        f->ff = new DcmFileFormat(ds, OFFalse);
        // The meta header names the SOP class and instance of the dataset
        // (pixel data aside, which it does not depend on).
        bool tail_ok = true;
        OFCondition c = save_file(*f->ff, path, x, EET_UndefinedLength,
                                  EGL_withoutGL, f->src_fd, offset,
                                  tail != nullptr ? len : 0, &tail_ok);
        bool ok = c.good() && tail_ok;
        if (tail != nullptr) {
            f->ff->getDataset()->insert(tail, OFTrue);
            tail = nullptr;
        }
        if (!ok) {
            std::remove(path);
            return SL_ERR(err, SL_EDICOM, "cannot write the output: %s",
                          c.bad() ? c.text() : std::strerror(errno));
        }
        return SL_OK;
    } catch (...) {
        delete tail;
        std::remove(path);
        return fail_exception(err);
    }
}

extern "C" int
sl_dicom_file_summary(struct sl_dicom_file *f, struct sl_dicom_summary **out,
                      struct sl_err *err)
{
    try {
        return summary_of(*f->ff, out, err);
    } catch (...) {
        return fail_exception(err);
    }
}

extern "C" int
sl_dicom_file_check_pixels(struct sl_dicom_file *f, struct sl_err *err)
{
    try {
        DcmDataset *ds = f->ff->getDataset();
        DcmElement *pd = nullptr;
        Uint16 rows = 0, cols = 0, bits = 0, spp = 1;
        long frames = 1;

        if (DcmXfer(ds->getOriginalXfer()).isEncapsulated() ||
            ds->findAndGetElement(DCM_PixelData, pd, OFFalse).bad() ||
            pd == nullptr)
            return SL_OK;
        if (ds->findAndGetUint16(DCM_Rows, rows).bad() ||
            ds->findAndGetUint16(DCM_Columns, cols).bad() ||
            ds->findAndGetUint16(DCM_BitsAllocated, bits).bad())
            return SL_OK; // no geometry to check against
        ds->findAndGetUint16(DCM_SamplesPerPixel, spp);
        ds->findAndGetLongInt(DCM_NumberOfFrames, frames);
        if (frames < 1)
            frames = 1;
        if (spp < 1)
            spp = 1;
        // YBR_FULL_422 / YBR_PARTIAL_422 native: two chroma samples per
        // two pixels, so two samples a pixel instead of three.
        OFString pi;
        if (spp == 3 &&
            ds->findAndGetOFString(DCM_PhotometricInterpretation, pi).good() &&
            (pi == "YBR_FULL_422" || pi == "YBR_PARTIAL_422"))
            spp = 2;
        const unsigned long long need_bits =
            static_cast<unsigned long long>(rows) * cols * spp * bits *
            static_cast<unsigned long long>(frames);
        const unsigned long long need = (need_bits + 7) / 8;
        const Uint32 have = pd->getLength();
        if (have != DCM_UndefinedLength && have < need)
            return SL_ERR(err, SL_EDICOM,
                          "(7FE0,0010) Pixel Data: %lu bytes, shorter than "
                          "Rows x Columns x Samples x Bits Allocated x "
                          "Frames (%llu)",
                          static_cast<unsigned long>(have), need);
        return SL_OK;
    } catch (...) {
        return fail_exception(err);
    }
}

extern "C" int
sl_dicom_file_blank(struct sl_dicom_file *f, unsigned x, unsigned y, unsigned w,
                    unsigned h, struct sl_err *err)
{
    try {
        DcmDataset *ds = f->ff->getDataset();
        Uint16 rows = 0, cols = 0, bits = 0, spp = 1, planar = 0;
        long frames = 1;
        DcmElement *pd = nullptr;

        if (DcmXfer(ds->getOriginalXfer()).isEncapsulated())
            return SL_ERR(err, SL_EDICOM,
                          "(7FE0,0010) Pixel Data: compressed, cannot blank");
        if (ds->findAndGetUint16(DCM_Rows, rows).bad() ||
            ds->findAndGetUint16(DCM_Columns, cols).bad() ||
            ds->findAndGetUint16(DCM_BitsAllocated, bits).bad() ||
            ds->findAndGetElement(DCM_PixelData, pd).bad() || pd == nullptr)
            return SL_ERR(err, SL_EDICOM,
                          "(7FE0,0010) Pixel Data: no native image to blank");
        ds->findAndGetUint16(DCM_SamplesPerPixel, spp);
        ds->findAndGetUint16(DCM_PlanarConfiguration, planar);
        ds->findAndGetLongInt(DCM_NumberOfFrames, frames);
        if (frames < 1)
            frames = 1;
        if ((bits != 8 && bits != 16) || spp < 1 || spp > 4)
            return SL_ERR(err, SL_EDICOM,
                          "(7FE0,0010) Pixel Data: layout not supported "
                          "for blanking");
        const unsigned long bpp = bits / 8;
        const unsigned long frame_bytes =
            static_cast<unsigned long>(rows) * cols * spp * bpp;
        Uint8 *data = nullptr;
        // Loads the pixel data into memory: only for images a blanking
        // rule names.
        OFCondition got;
        if (pd->getTag().getEVR() == EVR_OW || pd->getVR() == EVR_OW) {
            Uint16 *words = nullptr;
            got = pd->getUint16Array(words);
            data = reinterpret_cast<Uint8 *>(words);
        } else {
            got = pd->getUint8Array(data);
        }
        if (got.bad() || data == nullptr ||
            pd->getLength() < frame_bytes * static_cast<unsigned long>(frames))
            return SL_ERR(err, SL_EDICOM,
                          "(7FE0,0010) Pixel Data: shorter than "
                          "Rows x Columns x frames");
        f->pixels_changed = true; // written through DCMTK from now on
        for (long fr = 0; fr < frames; fr++) {
            Uint8 *base = data + frame_bytes * static_cast<unsigned long>(fr);
            for (unsigned r = y; r < y + h && r < rows; r++)
                for (unsigned c = x; c < x + w && c < cols; c++) {
                    if (planar == 1 && spp > 1) {
                        for (unsigned s = 0; s < spp; s++)
                            std::memset(
                                base + ((static_cast<unsigned long>(s) * rows +
                                         r) *
                                            cols +
                                        c) *
                                           bpp,
                                0, bpp);
                    } else {
                        std::memset(
                            base + ((static_cast<unsigned long>(r) * cols + c) *
                                    spp) *
                                       bpp,
                            0, bpp * spp);
                    }
                }
        }
        return SL_OK;
    } catch (...) {
        return fail_exception(err);
    }
}

/* The settings of every DICOMDIR sluice makes or checks: missing type 1
 * keys invented (dcmmkdir +I), any transfer syntax. */
static void
dicomdir_setup(DicomDirInterface &dd)
{
    quiet_dcmtk();
    dd.disableTransferSyntaxCheck(OFFalse);
    dd.enableInventMode(OFTrue);
    /* DCMTK writes DICOMDIR.tmp and renames it; a DICOMDIR.BAK would be
     * one more file in a delivery, left there by a crash. */
    dd.disableBackupMode(OFFalse);
}

/* Adds the files to the DICOMDIR dd holds, then writes it. */
static int
dicomdir_fill(DicomDirInterface &dd, const char *root,
              const char *const *files, size_t n, struct sl_err *err)
{
    OFCondition c;

    for (size_t i = 0; i < n; i++) {
        c = dd.addDicomFile(OFFilename(files[i]), OFFilename(root));
        if (c.bad())
            return SL_ERR(err, SL_EDICOM, "DICOMDIR: cannot add file %zu: %s",
                          i + 1, c.text());
    }
    c = dd.writeDicomDir();
    if (c.bad())
        return SL_ERR(err, SL_EDICOM, "DICOMDIR: cannot write: %s", c.text());
    return SL_OK;
}

extern "C" int
sl_dicom_dicomdir_write(const char *root, const char *const *files, size_t n,
                        struct sl_err *err)
{
    try {
        DicomDirInterface dd;
        std::string path = std::string(root) + "/DICOMDIR";
        dicomdir_setup(dd);
        OFCondition c =
            dd.createNewDicomDir(DicomDirInterface::AP_GeneralPurpose,
                                 OFFilename(path.c_str()), "SLUICE");
        if (c.bad())
            return SL_ERR(err, SL_EDICOM, "DICOMDIR: cannot create: %s",
                          c.text());
        return dicomdir_fill(dd, root, files, n, err);
    } catch (...) {
        return fail_exception(err);
    }
}

extern "C" int
sl_dicom_dicomdir_append(const char *root, const char *const *files, size_t n,
                         struct sl_err *err)
{
    try {
        DicomDirInterface dd;
        std::string path = std::string(root) + "/DICOMDIR";
        dicomdir_setup(dd);
        OFCondition c = dd.appendToDicomDir(
            DicomDirInterface::AP_GeneralPurpose, OFFilename(path.c_str()));
        if (c.bad())
            return SL_ERR(err, SL_EDICOM, "DICOMDIR: cannot open: %s",
                          c.text());
        return dicomdir_fill(dd, root, files, n, err);
    } catch (...) {
        return fail_exception(err);
    }
}

extern "C" int
sl_dicom_dicomdir_list(const char *root, struct sl_strv *out,
                       struct sl_err *err)
{
    try {
        quiet_dcmtk();
        std::string path = std::string(root) + "/DICOMDIR";
        DcmFileFormat ff;
        DcmSequenceOfItems *seq = nullptr;
        OFCondition c = ff.loadFile(path.c_str());
        if (c.good())
            c = ff.getDataset()->findAndGetSequence(
                DCM_DirectoryRecordSequence, seq);
        if (c.bad() || seq == nullptr)
            return SL_ERR(err, SL_EDICOM, "DICOMDIR: cannot read: %s",
                          c.text());
        for (unsigned long i = 0; i < seq->card(); i++) {
            OFString id;
            if (seq->getItem(i)
                    ->findAndGetOFStringArray(DCM_ReferencedFileID, id)
                    .bad() ||
                id.empty())
                continue;
            std::string rel(id.c_str());
            for (char &ch : rel)
                if (ch == '\\')
                    ch = '/';
            sl_strv_push(out, rel.c_str());
        }
        return SL_OK;
    } catch (...) {
        return fail_exception(err);
    }
}

/* DicomDirInterface with its application profile chosen without a
 * DICOMDIR being made (selectApplicationProfile() is protected). */
struct dicomdir_checker : DicomDirInterface {
    OFCondition select(E_ApplicationProfile p)
    {
        return selectApplicationProfile(p);
    }
};

extern "C" int
sl_dicom_dicomdir_check(const char *path, struct sl_err *err)
{
    try {
        dicomdir_checker dd;
        dicomdir_setup(dd);
        OFCondition c = dd.select(DicomDirInterface::AP_GeneralPurpose);
        if (c.good())
            c = dd.checkDicomFile(OFFilename(path), OFFilename(), OFFalse);
        if (c.bad())
            return SL_ERR(err, SL_EDICOM, "DICOMDIR: cannot index it: %s",
                          c.text());
        return SL_OK;
    } catch (...) {
        return fail_exception(err);
    }
}

extern "C" const char *
sl_dicom_elem_value(const struct sl_dicom_elem *e)
{
    try {
        auto *impl = static_cast<elem_impl *>(e->impl);
        if (impl == nullptr || !impl->is_string)
            return nullptr;
        if (!impl->fetched) {
            impl->fetched = true;
            impl->ok = impl->el->getOFStringArray(impl->value).good();
        }
        return impl->ok ? impl->value.c_str() : nullptr;
    } catch (...) {
        return nullptr;
    }
}
