// dicom_pixels.cc - native pixel data: the check that it holds what its
// geometry says, and blanking regions of burned-in text.
#include "config.h"

#include "dicom/dicom_int.h"

#include <cstring>

using namespace shim;

namespace
{

// findAndGetLongInt(DCM_NumberOfFrames, frames): 0 when absent (most
// instances), without a search through the dataset for it.
void
frames_of(struct sl_dicom_file *f, long &frames)
{
    if (top_element(f, DCM_NumberOfFrames) == nullptr)
        frames = 0;
    else
        f->ff->getDataset()->findAndGetLongInt(DCM_NumberOfFrames, frames);
}

} // namespace

extern "C" int
sl_dicom_file_check_pixels(struct sl_dicom_file *f, struct sl_err *err)
{
    try {
        DcmDataset *ds = f->ff->getDataset();
        DcmElement *pd = nullptr;
        Uint16 rows = 0, cols = 0, bits = 0, spp = 1;
        long frames = 1;

        if (DcmXfer(ds->getOriginalXfer()).isEncapsulated() ||
            (pd = top_element(f, DCM_PixelData)) == nullptr)
            return SL_OK;
        if (!top_uint16(f, DCM_Rows, rows) ||
            !top_uint16(f, DCM_Columns, cols) ||
            !top_uint16(f, DCM_BitsAllocated, bits))
            return SL_OK; // no geometry to check against
        top_uint16(f, DCM_SamplesPerPixel, spp);
        frames_of(f, frames);
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
        if (!top_uint16(f, DCM_Rows, rows) ||
            !top_uint16(f, DCM_Columns, cols) ||
            !top_uint16(f, DCM_BitsAllocated, bits) ||
            (pd = top_element(f, DCM_PixelData)) == nullptr)
            return SL_ERR(err, SL_EDICOM,
                          "(7FE0,0010) Pixel Data: no native image to blank");
        top_uint16(f, DCM_SamplesPerPixel, spp);
        top_uint16(f, DCM_PlanarConfiguration, planar);
        frames_of(f, frames);
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
        bool words = false;
        int rc = native_pixels(pd, frame_bytes, frames, &data, &words, err);
        if (rc != SL_OK)
            return rc;
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

namespace shim
{

int
native_pixels(DcmElement *pd, unsigned long frame_bytes, long frames,
              Uint8 **out, bool *words, struct sl_err *err)
{
    Uint8 *data = nullptr;
    OFCondition got;

    *words = pd->getTag().getEVR() == EVR_OW || pd->getVR() == EVR_OW;
    if (*words) {
        Uint16 *w = nullptr;
        got = pd->getUint16Array(w);
        data = reinterpret_cast<Uint8 *>(w);
    } else {
        got = pd->getUint8Array(data);
    }
    if (got.bad() || data == nullptr ||
        pd->getLength() < frame_bytes * static_cast<unsigned long>(frames))
        return SL_ERR(err, SL_EDICOM,
                      "(7FE0,0010) Pixel Data: shorter than Rows x Columns "
                      "x Samples x frames");
    *out = data;
    return SL_OK;
}

namespace
{

// The mask of 16-bit samples as plain operations the compiler can turn
// into vector code (the generic sl_pixel_mask::apply shifts by variable
// amounts and branches: five times slower on a CT slice): v & keep, and
// for signed samples the bits above High Bit filled from the sign bit.
struct mask16 {
    uint16_t keep, fill;
    unsigned sign_shift;
    bool is_signed;

    explicit mask16(const sl_pixel_mask &m)
        : keep(static_cast<uint16_t>(((1u << m.stored) - 1) << m.low)),
          fill(static_cast<uint16_t>(0xFFFFu << (m.low + m.stored))),
          sign_shift(m.low + m.stored - 1), is_signed(m.is_signed)
    {
    }
    uint16_t operator()(uint16_t v) const
    {
        uint16_t r = static_cast<uint16_t>(v & keep);
        if (is_signed)
            r = static_cast<uint16_t>(
                r | (fill & static_cast<uint16_t>(-((v >> sign_shift) & 1))));
        return r;
    }
};

inline uint16_t
load16(const unsigned char *p, bool big)
{
    return big ? static_cast<uint16_t>(p[0] << 8 | p[1])
               : static_cast<uint16_t>(p[1] << 8 | p[0]);
}

inline void
store16(unsigned char *p, uint16_t v, bool big)
{
    p[big ? 0 : 1] = static_cast<unsigned char>(v >> 8);
    p[big ? 1 : 0] = static_cast<unsigned char>(v & 0xFF);
}

} // namespace

void
mask_pixels(unsigned char *p, unsigned long long n, const sl_pixel_mask &m,
            bool big)
{
    // Eight bytes at a time: four 16-bit samples (or eight 8-bit ones) as
    // lanes of one word, with the constants laid out in the data's byte
    // order, so that no lane carries into the next: v & keep, and for
    // signed samples fill (the bits above High Bit) where the sign bit is
    // set. The same result as sl_pixel_mask::apply on each sample.
    const unsigned top = m.low + m.stored; // the first bit above High Bit
    const unsigned keep = ((1u << m.stored) - 1) << m.low;
    const unsigned fill = (0xFFFFu << top) & ((1u << m.bits) - 1);
    uint64_t keep64 = 0, one64 = 0, lane_fill = fill;
    unsigned sign_at = top - 1; // where the sign bit is in a lane

    if (m.bits == 8) {
        keep64 = 0x0101010101010101ULL * keep;
        one64 = 0x0101010101010101ULL;
    } else {
        // A sample in the other byte order than the host's, read as a
        // lane, has its bytes swapped: so have the constants, and the
        // sign bit moves by 8.
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        const bool swap = !big;
#else
        const bool swap = big;
#endif
        unsigned k = swap ? ((keep >> 8) | (keep << 8)) & 0xFFFF : keep;
        unsigned f = swap ? ((fill >> 8) | (fill << 8)) & 0xFFFF : fill;
        if (swap)
            sign_at = (sign_at + 8) % 16;
        keep64 = 0x0001000100010001ULL * k;
        lane_fill = f;
        one64 = 0x0001000100010001ULL;
    }
    // Each lane's sign bit, moved to the lane's bit 0: s = (w >> sign_at)
    // & one64 (bits shifted in from the next lane are masked off). Then
    // (s << lane) - s is all ones in the negative lanes and nothing
    // elsewhere (no borrow crosses a lane: each term is a whole lane),
    // and & fill64 leaves the bits above High Bit.
    const unsigned lane = m.bits == 8 ? 8 : 16;
    const uint64_t fill64 = one64 * lane_fill;
    unsigned long long i = 0;
    // 16 bytes at a time as two 64-bit lanes of a vector (GCC and clang
    // vector extensions: SSE2 or NEON code, plain words elsewhere).
    typedef uint64_t v2 __attribute__((vector_size(16)));
    const v2 k2 = { keep64, keep64 }, f2 = { fill64, fill64 },
             o2 = { one64, one64 };
    if (m.is_signed) {
        for (; i + 16 <= n; i += 16) {
            v2 w;
            std::memcpy(&w, p + i, 16);
            v2 sg = (w >> sign_at) & o2;
            w = (w & k2) | (((sg << lane) - sg) & f2);
            std::memcpy(p + i, &w, 16);
        }
        for (; i + 8 <= n; i += 8) {
            uint64_t w;
            std::memcpy(&w, p + i, 8);
            uint64_t sg = (w >> sign_at) & one64;
            w = (w & keep64) | (((sg << lane) - sg) & fill64);
            std::memcpy(p + i, &w, 8);
        }
    } else {
        for (; i + 16 <= n; i += 16) {
            v2 w;
            std::memcpy(&w, p + i, 16);
            w &= k2;
            std::memcpy(p + i, &w, 16);
        }
        for (; i + 8 <= n; i += 8) {
            uint64_t w;
            std::memcpy(&w, p + i, 8);
            w &= keep64;
            std::memcpy(p + i, &w, 8);
        }
    }
    // The rest, sample by sample (an odd last byte of 16-bit samples is
    // left as it is).
    if (m.bits == 8) {
        for (; i < n; i++)
            p[i] = static_cast<unsigned char>(m.apply(p[i]));
        return;
    }
    const mask16 f(m);
    for (; i + 1 < n; i += 2)
        store16(p + i, f(load16(p + i, big)), big);
}

int
mask_in_memory(struct sl_dicom_file *f, struct sl_err *err)
{
    DcmDataset *ds = f->ff->getDataset();
    DcmElement *pd = top_element(f, DCM_PixelData);

    if (pd == nullptr)
        return SL_OK;
    const Uint32 len = pd->getLength();
    if (len == 0 || len == DCM_UndefinedLength)
        return SL_OK;
    if (pd->getVR() == EVR_OW) {
        // Words in memory are in the host's byte order, whatever the
        // transfer syntax; 8-bit samples get the same mask in each byte.
        Uint16 *words = nullptr;
        if (pd->getUint16Array(words).bad() || words == nullptr)
            return SL_ERR(err, SL_EDICOM,
                          "(7FE0,0010) Pixel Data: cannot read it to clear "
                          "the bits outside Bits Stored");
        const unsigned long n = len / 2;
        if (f->mask.bits == 16) {
            const mask16 m(f->mask);
            for (unsigned long i = 0; i < n; i++)
                words[i] = m(words[i]);
        } else {
            mask_pixels(reinterpret_cast<unsigned char *>(words), n * 2,
                        f->mask, false);
        }
    } else {
        // OB: the bytes as written, 16-bit samples little endian (an OB
        // pixel data of 16 bits is only read in little endian syntaxes).
        Uint8 *bytes = nullptr;
        if (f->mask.bits == 16 && DcmXfer(ds->getOriginalXfer()).isBigEndian())
            return SL_ERR(err, SL_EDICOM,
                          "(7FE0,0010) Pixel Data: OB of 16 bits in big "
                          "endian, cannot clear the bits outside Bits "
                          "Stored");
        if (pd->getUint8Array(bytes).bad() || bytes == nullptr)
            return SL_ERR(err, SL_EDICOM,
                          "(7FE0,0010) Pixel Data: cannot read it to clear "
                          "the bits outside Bits Stored");
        mask_pixels(bytes, len, f->mask, false);
    }
    f->pixels_changed = true; // written through DCMTK from now on
    f->mask.on = false;       // done
    return SL_OK;
}

} // namespace shim

extern "C" int
sl_dicom_file_mask_unused_bits(struct sl_dicom_file *f, int *masked,
                               struct sl_err *err)
{
    if (masked != nullptr)
        *masked = 0;
    try {
        DcmDataset *ds = f->ff->getDataset();
        DcmElement *pd = nullptr;
        Uint16 bits = 0, stored = 0, high = 0, rep = 0;

        if (DcmXfer(ds->getOriginalXfer()).isEncapsulated() ||
            (pd = top_element(f, DCM_PixelData)) == nullptr ||
            !top_uint16(f, DCM_BitsAllocated, bits) ||
            !top_uint16(f, DCM_BitsStored, stored) ||
            !top_uint16(f, DCM_HighBit, high))
            return SL_OK;
        top_uint16(f, DCM_PixelRepresentation, rep);
        if ((bits != 8 && bits != 16) || stored == 0 || stored >= bits ||
            high >= bits || high + 1 < stored)
            return SL_OK;
        f->mask.on = true;
        f->mask.bits = bits;
        f->mask.stored = stored;
        f->mask.low = high + 1u - stored;
        f->mask.is_signed = rep == 1;
        if (masked != nullptr)
            *masked = 1;
        // Pixel data already in memory (small, or blanked) is masked now;
        // pixel data left on disk when it is copied (dicom_save.cc).
        if (f->pixels_changed || pd->valueLoaded())
            return mask_in_memory(f, err);
        return SL_OK;
    } catch (...) {
        return fail_exception(err);
    }
}
