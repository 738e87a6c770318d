// dicom_save.cc - writing a file open for de-identification: DCMTK
// writes the dataset, and the pixel data, when unchanged, is appended
// from the input file as bytes.
#include "config.h"

#include "dicom/dicom_int.h"

#include <dcmtk/dcmdata/dcwcache.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

using namespace shim;

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

// Whether f's mask changes any sample of the pixel data value of src
// (len bytes from offset, after a header of hdr bytes). Reading it once
// costs less than writing it through memory: most pixel data has nothing
// in its unused bits and is then copied in the kernel as before.
bool
needs_masking(int in, unsigned long long offset, unsigned long long len,
              unsigned hdr, const sl_pixel_mask &m, bool big)
{
    std::vector<unsigned char> buf(1 << 20); // even: samples never split
    unsigned long long at = hdr;

    if (in < 0 || len < hdr)
        return true; // copy_masked fails the same way
    while (at < len) {
        size_t want =
            len - at < buf.size() ? static_cast<size_t>(len - at) : buf.size();
        ssize_t n =
            pread(in, buf.data(), want, static_cast<off_t>(offset + at));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return true;
        if (n % 2 != 0 && static_cast<size_t>(n) < want)
            n--; // a short read: the odd byte comes again with the next
        if (pixels_need_mask(buf.data(), static_cast<unsigned long long>(n), m,
                             big))
            return true;
        at += static_cast<unsigned long long>(n);
    }
    return false;
}

// Appends the pixel data element of src (len bytes from offset, its
// header of hdr bytes first) to out at out_off with f's mask applied to
// each sample: read, masked and written a chunk at a time, so memory
// stays small whatever the size of the pixel data.
bool
copy_masked(int in, unsigned long long offset, unsigned long long len,
            unsigned hdr, const sl_pixel_mask &m, bool big, int out,
            off_t out_off)
{
    std::vector<unsigned char> buf(1 << 20); // even: samples never split
    unsigned long long done = 0;

    if (in < 0 || out < 0 || out_off < 0 || len < hdr)
        return false;
    while (done < len) {
        size_t want = len - done < buf.size() ? static_cast<size_t>(len - done)
                                              : buf.size();
        size_t got = 0;
        while (got < want) {
            ssize_t n = pread(in, buf.data() + got, want - got,
                              static_cast<off_t>(offset + done + got));
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                return false;
            got += static_cast<size_t>(n);
        }
        // The header is copied as it is; the value starts at hdr (even).
        unsigned long long skip = done < hdr ? hdr - done : 0;
        if (skip < want)
            mask_pixels(buf.data() + skip, want - skip, m, big);
        size_t put = 0;
        while (put < want) {
            ssize_t n = pwrite(out, buf.data() + put, want - put,
                               out_off + static_cast<off_t>(done + put));
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                return false;
            put += static_cast<size_t>(n);
        }
        done += want;
    }
    return true;
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
// from tail_off of src, when tail_len > 0) appended to the same file,
// through mask when it is on (mask_big: 16-bit words big endian).
OFCondition
save_file(DcmFileFormat &ff, const char *path, E_TransferSyntax x,
          E_EncodingType enc, E_GrpLenEncoding glen, int src,
          unsigned long long tail_off, unsigned long long tail_len,
          const sl_pixel_mask &mask, bool mask_big, bool *tail_ok)
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
    const unsigned hdr = DcmXfer(x).isExplicitVR() ? 12 : 8;
    const bool masked =
        mask.on && tail_len > 0 &&
        needs_masking(src, tail_off, tail_len, hdr, mask, mask_big);
    if (tail_len > 0 &&
        !(masked ? copy_masked(src, tail_off, tail_len, hdr, mask, mask_big,
                                file.fd(), file.end())
                  : copy_range(src, tail_off, tail_len, file.fd(),
                               file.end()))) {
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
        tail = pixel_tail(f, x, &offset, &len);
        bool mask_big = false;
        if (tail != nullptr && f->mask.on) {
            // Copied with the mask: OW words in the syntax's byte order;
            // OB of 16 bits in big endian is left to DCMTK (and refused).
            mask_big = DcmXfer(x).isBigEndian() && tail->getVR() == EVR_OW;
            if (f->mask.bits == 16 && DcmXfer(x).isBigEndian() &&
                tail->getVR() != EVR_OW)
                tail = nullptr;
        }
        if (tail == nullptr && f->mask.on) {
            int rc = mask_in_memory(f, err);
            if (rc != SL_OK)
                return rc;
        }
        if (tail != nullptr)
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
                                  tail != nullptr ? len : 0, f->mask,
                                  mask_big, &tail_ok);
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
