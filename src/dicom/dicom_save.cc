// dicom_save.cc - writing a file open for de-identification: DCMTK
// writes the dataset, and the pixel data, when unchanged, is appended
// from the input file as bytes.
#include "config.h"

#include "dicom/dicom_int.h"

#include <dcmtk/dcmdata/dcwcache.h>

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

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

// A buffer of each thread's own for pixel data read from the input to be
// masked, kept from one instance to the next: never zeroed, and freed
// when the thread ends.
unsigned char *
thread_buffer(size_t *cap)
{
    static thread_local std::unique_ptr<unsigned char[]> buf;

    *cap = 1 << 20; // even: samples never split
    if (!buf)
        buf.reset(new unsigned char[*cap]);
    return buf.get();
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
        // never through a link left at the name
        fd_ = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
                   0640);
        if (fd_ < 0)
            fail();
        buf_ = spare_buffer(SPARE_OUTPUT);
        buf_.clear(); // appended to
        buf_.reserve(cap);
    }
    ~fd_consumer() override
    {
        if (fd_ >= 0)
            close(fd_);
        keep_buffer(SPARE_OUTPUT, std::move(buf_));
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
    // Nothing waits on it: what is buffered goes out with the pixel data
    // (drain_with()) or when the file is finished.
    void flush() override {}

    // Writes what is buffered; the file's end is then at end().
    bool drain()
    {
        bool ok = put(buf_.data(), buf_.size());
        buf_.clear();
        return ok;
    }
    // Writes what is buffered and then n bytes from p, in one call when
    // the kernel takes them all.
    bool drain_with(const void *p, size_t n)
    {
        const char *q = static_cast<const char *>(p);

        if (status_.bad() || fd_ < 0)
            return false;
        if (!buf_.empty() && n > 0) {
            struct iovec iov[2];
            iov[0].iov_base = buf_.data();
            iov[0].iov_len = buf_.size();
            iov[1].iov_base = const_cast<char *>(q);
            iov[1].iov_len = n;
            ssize_t w;
            do
                w = ::writev(fd_, iov, 2);
            while (w < 0 && errno == EINTR);
            if (w < 0) {
                fail();
                return false;
            }
            end_ += w;
            size_t done = static_cast<size_t>(w);
            if (done < buf_.size()) {
                buf_.erase(buf_.begin(),
                           buf_.begin() + static_cast<ptrdiff_t>(done));
            } else {
                done -= buf_.size();
                buf_.clear();
                q += done;
                n -= done;
            }
        }
        return drain() && put(q, n);
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

// Where the pixel data element is to be copied from, and how.
struct tail_src {
    int fd = -1;                  // the input file
    unsigned long long off = 0;   // the element's offset in it
    unsigned long long len = 0;   // its bytes, header included (0: none)
    unsigned char *mem = nullptr; // the same bytes in memory, or nullptr
    unsigned hdr = 0;             // bytes of its header
    const sl_pixel_mask *mask = nullptr; // applied when on
    bool big = false; // 16-bit words big endian
};

// Appends the pixel data element of t.fd (t.len bytes from t.off, its
// header of t.hdr bytes first) to file with t.mask applied to each
// sample, in one pass: read a chunk, mask it, write it (a sample the
// mask leaves alone comes out as it was), so memory stays small whatever
// the size of the pixel data.
bool
copy_masked(const tail_src &t, fd_consumer &file)
{
    size_t cap;
    unsigned char *buf = thread_buffer(&cap);
    unsigned long long done = 0;

    if (t.fd < 0 || t.len < t.hdr)
        return false;
    while (done < t.len) {
        size_t want = t.len - done < cap ? static_cast<size_t>(t.len - done)
                                         : cap;
        size_t got = 0;
        while (got < want) {
            ssize_t n = pread(t.fd, buf + got, want - got,
                              static_cast<off_t>(t.off + done + got));
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                return false;
            got += static_cast<size_t>(n);
        }
        // The header is copied as it is; the value starts at hdr (even).
        unsigned long long skip = done < t.hdr ? t.hdr - done : 0;
        if (skip < want)
            mask_pixels(buf + skip, want - skip, *t.mask, t.big);
        // The first chunk goes out with the rest of the dataset.
        if (!file.drain_with(buf, want))
            return false;
        done += want;
    }
    return true;
}

// DcmFileFormat::saveFile(path, x, enc, glen, EPD_noChange, 0, 0,
// EWM_fileformat) through fd_stream, then the pixel data t (when t.len >
// 0) appended to the same file, through t.mask when it is on.
OFCondition
save_file(DcmFileFormat &ff, const char *path, E_TransferSyntax x,
          E_EncodingType enc, E_GrpLenEncoding glen, const tail_src &t,
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
    const bool masked = t.mask != nullptr && t.mask->on;
    bool ok = true;
    if (t.len > 0 && t.mem != nullptr) {
        // Already in memory (read with the rest of a small file): masked
        // there, and written with the dataset in one call.
        if (masked && t.len < t.hdr)
            ok = false;
        else if (masked)
            mask_pixels(t.mem + t.hdr, t.len - t.hdr, *t.mask, t.big);
        ok = ok && file.drain_with(t.mem, static_cast<size_t>(t.len));
    } else if (t.len > 0 && masked) {
        ok = copy_masked(t, file);
    } else if (t.len > 0) {
        // Nothing to look at in it: copied in the kernel.
        ok = file.drain() &&
             copy_range(t.fd, t.off, t.len, file.fd(), file.end());
    }
    if (!ok && file.status().good()) {
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
// offset and length in the input file, and *mem to its bytes when they
// are in memory already.
DcmElement *
pixel_tail(struct sl_dicom_file *f, E_TransferSyntax x,
           unsigned long long *offset, unsigned long long *len,
           unsigned char **mem)
{
    DcmDataset *ds = f->ff->getDataset();
    const DcmXfer xfer(x);

    *mem = nullptr;
    if (f->pixels_changed || !f->had_meta || f->src.empty() ||
        x == EXS_DeflatedLittleEndianExplicit || ds->card() == 0)
        return nullptr;
    DcmElement *pd = ds->getElement(ds->card() - 1);
    if (pd == nullptr || pd->getTag() != DCM_PixelData || f->pix_len < 8)
        return nullptr;
    const unsigned long long n = f->pix_len;
    // The tag must be where the lengths say.
    unsigned char tag[4];
    unsigned char *in = nullptr;
    if (f->pix_off >= f->buf_at &&
        f->pix_off - f->buf_at <= f->buf.size() &&
        n <= f->buf.size() - (f->pix_off - f->buf_at))
        in = reinterpret_cast<unsigned char *>(f->buf.data()) +
             (f->pix_off - f->buf_at);
    bool at = in != nullptr ||
              (f->src_fd >= 0 &&
               pread(f->src_fd, tag, 4, static_cast<off_t>(f->pix_off)) == 4);
    static const unsigned char le[4] = { 0xE0, 0x7F, 0x10, 0x00 };
    static const unsigned char be[4] = { 0x7F, 0xE0, 0x00, 0x10 };
    if (!at || std::memcmp(in != nullptr ? in : tag,
                           xfer.isBigEndian() ? be : le, 4) != 0)
        return nullptr;
    *offset = f->pix_off;
    *len = n;
    *mem = in;
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
        tail_src t;
        f->top_ok = false; // the pixel data goes out of the list and back
        unsigned long long offset = 0, len = 0;
        unsigned char *mem = nullptr;
        if (x == EXS_Unknown)
            x = EXS_LittleEndianExplicit;
        // Pixel data is appended from the input file as bytes when it can
        // be (the bulk of a large instance never goes through DCMTK).
        tail = pixel_tail(f, x, &offset, &len, &mem);
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
        if (tail != nullptr) {
            ds->remove(tail);
            t.fd = f->src_fd;
            t.off = offset;
            t.len = len;
            t.mem = mem;
            t.hdr = DcmXfer(x).isExplicitVR() ? 12 : 8;
            t.mask = &f->mask;
            t.big = mask_big;
        }
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
                                  EGL_withoutGL, t, &tail_ok);
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
