// dicom_read.cc - reading a file: the probe, loading with the checks
// that a value is not cut short, and the summary the pipeline routes by.
#include "config.h"

#include "dicom/dicom_int.h"

#include <dcmtk/dcmdata/dcistrmf.h>
#include <dcmtk/dcmdata/dcpxitem.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

using namespace shim;

namespace
{

// Reads a string attribute of the top-level dataset; NULL when absent,
// empty or not a string.
char *
get_string(DcmItem *ds, struct sl_dicom_file *f, const DcmTagKey &key)
{
    OFString v;

    if (f != nullptr) {
        DcmElement *el = top_element(f, key);
        if (el == nullptr || el->getOFStringArray(v, OFFalse).bad())
            return nullptr;
    } else if (ds->findAndGetOFStringArray(key, v, OFFalse).bad()) {
        return nullptr;
    }
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

} // namespace

namespace shim
{

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

} // namespace shim

namespace
{

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
    // Reads fd (taken over: closed with the producer) or, when fd is -1,
    // path opened here.
    pread_producer(const char *path, int fd)
    {
        struct stat st;

        fd_ = fd >= 0 ? fd : open(path, O_RDONLY | O_CLOEXEC);
        if (fd_ < 0 || fstat(fd_, &st) != 0) {
            errno_ = errno;
            stat_failed_ = fd_ >= 0;
            status_ = makeOFCondition(OFM_dcmdata, 18, OF_error,
                                      std::strerror(errno));
            return;
        }
        size_ = static_cast<offile_off_t>(st.st_size);
        buf_ = spare_buffer(SPARE_INPUT);
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
    // Reads the start of the file into the buffer (the parse reads it
    // from there: a file of up to 64 KiB is read whole, once) and points
    // *p at it; -1 on a read error, else how many bytes there were.
    ssize_t head(const unsigned char **p)
    {
        ssize_t r;

        do
            r = pread(fd_, buf_.data(), buf_.size(), 0);
        while (r < 0 && errno == EINTR);
        if (r >= 0) {
            at_ = 0;
            len_ = r;
        }
        *p = reinterpret_cast<const unsigned char *>(buf_.data());
        return r;
    }
    // Hands what the buffer holds over to the caller, with its offset in
    // the file.
    void take_buffer(std::vector<char> *out, unsigned long long *at)
    {
        buf_.resize(static_cast<size_t>(len_));
        out->swap(buf_);
        *at = static_cast<unsigned long long>(at_);
        buf_.clear();
        at_ = len_ = 0;
    }
    ~pread_producer() override
    {
        if (fd_ >= 0)
            close(fd_);
        keep_buffer(SPARE_INPUT, std::move(buf_));
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
    pread_stream(const char *path, int fd)
        : DcmInputStream(&producer_), producer_(path, fd), path_(path)
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

} // namespace

namespace shim
{

// Loads path into ff with values over 4 KiB left on disk, and checks that
// it parsed completely and that no value runs past the end of the file.
// require_meta: refuse a file without the Part-10 "DICM" prefix.
int
load_checked(const char *path, int fd, DcmFileFormat &ff, bool require_meta,
             int *had_meta, unsigned long long *size, int *keep_fd,
             std::vector<char> *keep_buf, unsigned long long *buf_at,
             struct sl_err *err)
{
    const unsigned char *head = nullptr;
    char tag[128];
    int is_dicom = 0;

    // One open for the prefix check (sl_dicom_file_probe's, with its
    // messages), the size and the parse; none when the caller's probe
    // left the file open (fd).
    pread_stream in(path, fd);
    if (in.status().bad() && !in.producer().stat_failed())
        return SL_ERR(err, SL_EIO, "cannot open: %s",
                      std::strerror(in.producer().open_errno()));
    if (in.status().good()) {
        ssize_t n = in.producer().head(&head);
        if (n < 0)
            return SL_ERR(err, SL_EIO, "read error");
        is_dicom = n >= 132 && std::memcmp(head + 128, "DICM", 4) == 0;
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
    if (keep_buf != nullptr && buf_at != nullptr)
        in.producer().take_buffer(keep_buf, buf_at);
    if (keep_fd != nullptr)
        *keep_fd = in.producer().release();
    return SL_OK;
}

// The summary of what ff holds, with the checks a reader of it makes.
int
summary_of(DcmFileFormat &ff, struct sl_dicom_file *f,
           struct sl_dicom_summary **out, struct sl_err *err)
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
        DcmElement *el = nullptr;
        OFCondition c = EC_TagNotFound;
        if (f == nullptr)
            c = ds->findAndGetOFString(k, v);
        else if ((el = top_element(f, k)) != nullptr)
            c = el->getOFString(v, 0);
        if (c.bad() || v.empty()) {
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
    s->patient_id = get_string(ds, f, DCM_PatientID);
    s->study_uid = get_string(ds, f, DCM_StudyInstanceUID);
    s->series_uid = get_string(ds, f, DCM_SeriesInstanceUID);
    s->sop_uid = get_string(ds, f, DCM_SOPInstanceUID);
    s->sop_class_uid = get_string(ds, f, DCM_SOPClassUID);
    s->modality = get_string(ds, f, DCM_Modality);
    s->study_date = get_string(ds, f, DCM_StudyDate);
    if (ff.getMetaInfo() != nullptr)
        s->transfer_syntax =
            get_string(ff.getMetaInfo(), nullptr, DCM_TransferSyntaxUID);
    *out = s;
    return SL_OK;
}

} // namespace shim

namespace
{

int
summary_read(const char *path, struct sl_dicom_summary **out,
             struct sl_err *err)
{
    int rc;

    DcmFileFormat ff;
    if ((rc = load_checked(path, -1, ff, true, nullptr, nullptr, nullptr, nullptr,
                           nullptr, err)) != SL_OK)
        return rc;
    return summary_of(ff, nullptr, out, err);
}

} // namespace

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
    try {
        return sl_str_has_suffix(path, ".dcm") ||
               sl_str_has_suffix(path, ".DCM") ||
               sl_str_has_suffix(path, ".dicom");
    } catch (...) {
        return 0;
    }
}

extern "C" int
sl_dicom_file_probe_fd(const char *path, int flags, int *is_dicom,
                       int *is_link, int *keep_fd, struct sl_err *err)
{
    unsigned char head[132];
    ssize_t n;
    int fd;

    try {
        // Plain C I/O only: nothing here is expected to throw.
        *is_dicom = 0;
        if (is_link != nullptr)
            *is_link = 0;
        if (keep_fd != nullptr)
            *keep_fd = -1;
        // O_NOFOLLOW: a link as the last component fails with ELOOP, so
        // no lstat() is needed first to keep from reading through one.
        fd = open(path, O_RDONLY | O_CLOEXEC |
                            ((flags & SL_PROBE_NOFOLLOW) ? O_NOFOLLOW : 0));
        if (fd < 0) {
            struct stat st;
            int e = errno;
            // ELOOP is also too many links on the way: lstat tells.
            if (e == ELOOP && is_link != nullptr && lstat(path, &st) == 0 &&
                S_ISLNK(st.st_mode)) {
                *is_link = 1;
                return SL_OK;
            }
            return SL_ERR(err, SL_EIO, "cannot open: %s", std::strerror(e));
        }
        do
            n = pread(fd, head, sizeof(head), 0);
        while (n < 0 && errno == EINTR);
        if (n < 0) {
            close(fd);
            return SL_ERR(err, SL_EIO, "read error");
        }
        *is_dicom = (n == static_cast<ssize_t>(sizeof(head)) &&
                     std::memcmp(head + 128, "DICM", 4) == 0) ||
                    looks_like_bare_dataset(head, static_cast<size_t>(n));
        // Kept for the reader of the instance (one open a file instead of
        // two), unless descriptors run high: items wait in the queue
        // with theirs, and a probe must never fail for want of one.
        if (*is_dicom && keep_fd != nullptr && fd < SL_PROBE_FD_MAX) {
            *keep_fd = fd;
            fd = -1;
        }
        if (fd >= 0)
            close(fd);
        return SL_OK;
    } catch (...) {
        return fail_exception(err);
    }
}

extern "C" int
sl_dicom_file_probe(const char *path, int *is_dicom, struct sl_err *err)
{
    return sl_dicom_file_probe_fd(path, 0, is_dicom, nullptr, nullptr, err);
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
    try {
        std::free(s->patient_id);
        std::free(s->study_uid);
        std::free(s->series_uid);
        std::free(s->sop_uid);
        std::free(s->sop_class_uid);
        std::free(s->modality);
        std::free(s->study_date);
        std::free(s->transfer_syntax);
        std::free(s);
    } catch (...) {
    }
}
