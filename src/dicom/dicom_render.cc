// dicom_render.cc - burned-in text (issue 11): every frame decoded through
// DCMTK's codecs (and ours for JPEG 2000, dicom_j2k.cc) and rendered to 8-bit grey as a viewer shows it (for
// OCR), and boxes of every frame blanked, compressed pixel data encoded
// again losslessly.
#include "config.h"

#include "dicom/dicom_int.h"

#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmdata/dcrleerg.h>
#include <dcmtk/dcmimage/diregist.h>
#include <dcmtk/dcmimgle/dcmimage.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpeg/djencode.h>
#include <dcmtk/dcmjpls/djdecode.h>
#include <dcmtk/dcmjpls/djencode.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

using namespace shim;

struct sl_dicom_render {
    DicomImage *img;    // grey, as a viewer shows it
    DicomImage *colour; // the colour image it was made from, or nullptr
    unsigned long frames;
    const unsigned char *rgb; // colour's output for frame rgb_frame
    unsigned long rgb_frame;
    bool rgb_grey; // every pixel of it has R = G = B
};

namespace
{

std::once_flag codecs_once;

// DCMTK's codec registries are global and not thread-safe: filled once.
// Decoders for RLE, JPEG (baseline, extended, lossless) and JPEG-LS;
// encoders for the lossless syntaxes the blanked pixels are written in.
void
register_codecs()
{
    std::call_once(codecs_once, [] {
        DcmRLEDecoderRegistration::registerCodecs();
        DcmRLEEncoderRegistration::registerCodecs();
        // Colour JPEG decoded to RGB, so blanking writes black.
        DJDecoderRegistration::registerCodecs(EDC_photometricInterpretation);
        DJEncoderRegistration::registerCodecs();
        DJLSDecoderRegistration::registerCodecs();
        DJLSEncoderRegistration::registerCodecs();
        register_j2k_decoder(); // OpenJPEG: DCMTK has none
    });
}

bool
is_jpeg2000(E_TransferSyntax x)
{
    return x == EXS_JPEG2000LosslessOnly || x == EXS_JPEG2000 ||
           x == EXS_JPEG2000MulticomponentLosslessOnly ||
           x == EXS_JPEG2000Multicomponent;
}

int
undecodable(struct sl_err *err, E_TransferSyntax x, const char *why)
{
    if (is_jpeg2000(x))
        return SL_ERR(err, SL_EDICOM,
                      "(7FE0,0010) Pixel Data: JPEG 2000 (%s): cannot "
                      "decode it%s%s",
                      DcmXfer(x).getXferID(), why && *why ? ": " : "",
                      why ? why : "");
    return SL_ERR(err, SL_EDICOM,
                  "(7FE0,0010) Pixel Data: cannot decode it (transfer "
                  "syntax %s): %s",
                  DcmXfer(x).getXferID(), why);
}

// Whether DCMTK writes x without losing anything, with an encoder of ours.
bool
lossless_encodable(E_TransferSyntax x)
{
    return x == EXS_RLELossless || x == EXS_JPEGLSLossless ||
           x == EXS_JPEGProcess14SV1 || x == EXS_JPEGProcess14;
}

// The darkest value of a sample of plane s, as a viewer shows it.
unsigned
darkest(const OFString &pi, unsigned s, unsigned stored, bool is_signed)
{
    const unsigned top = stored >= 32 ? 0xFFFFFFFFu : (1u << stored) - 1;
    if (pi == "MONOCHROME1")
        return is_signed ? top >> 1 : top;
    if (pi == "MONOCHROME2")
        return is_signed ? ~(top >> 1) : 0;
    if (pi == "YBR_FULL" && s > 0)
        return (top >> 1) + 1; // no colour: black is Y 0, Cb = Cr = mid
    return 0;
}

// The index of a PALETTE COLOR image's darkest entry (its luminance,
// ITU-R BT.601 weights), plus the descriptor's first mapped value: what
// blanked samples are set to, since index 0 can be any colour.
int
palette_darkest(DcmDataset *ds, unsigned *out, struct sl_err *err)
{
    static const DcmTagKey desc_tags[3] = {
        DCM_RedPaletteColorLookupTableDescriptor,
        DCM_GreenPaletteColorLookupTableDescriptor,
        DCM_BluePaletteColorLookupTableDescriptor
    };
    static const DcmTagKey data_tags[3] = {
        DCM_RedPaletteColorLookupTableData,
        DCM_GreenPaletteColorLookupTableData,
        DCM_BluePaletteColorLookupTableData
    };
    const Uint16 *lut[3] = { nullptr, nullptr, nullptr };
    unsigned long count[3] = { 0, 0, 0 }, entries = 0;
    Uint16 first = 0, bits = 16;

    for (int c = 0; c < 3; c++) {
        Uint16 n = 0;
        if (ds->findAndGetUint16(desc_tags[c], n, 0).bad() ||
            ds->findAndGetUint16Array(data_tags[c], lut[c], &count[c]).bad() ||
            lut[c] == nullptr || count[c] == 0)
            return SL_ERR(err, SL_EDICOM,
                          "(0028,1101-1203) Palette Color Lookup Tables: "
                          "missing or segmented, so the darkest entry is "
                          "unknown and text cannot be blanked");
        if (c == 0) {
            entries = n == 0 ? 65536UL : n;
            ds->findAndGetUint16(desc_tags[c], first, 1);
            ds->findAndGetUint16(desc_tags[c], bits, 2);
        }
    }
    unsigned long best = 0, best_lum = ~0UL;
    for (unsigned long i = 0; i < entries; i++) {
        unsigned long lum = 0;
        static const unsigned long weight[3] = { 299, 587, 114 };
        for (int c = 0; c < 3; c++) {
            unsigned long v;
            if (bits == 8 && count[c] * 2 >= entries &&
                count[c] < entries) // 8-bit entries, two to a word
                v = (lut[c][i / 2] >> (i % 2 ? 8 : 0)) & 0xFF;
            else if (i < count[c])
                v = bits == 8 ? lut[c][i] & 0xFF : lut[c][i] >> 8;
            else
                v = 255;
            lum += weight[c] * v;
        }
        if (lum < best_lum) {
            best_lum = lum;
            best = i;
        }
    }
    *out = static_cast<unsigned>(first + best);
    return SL_OK;
}

// Blanks the boxes in native YBR_FULL_422 pixel data (8 bits: Y Y Cb Cr
// for each pair of pixels along a row): every pair a box touches is set
// to black, Y 0 and no colour. A box is widened to whole pairs, since
// the pair shares its colour.
void
blank_422(Uint8 *data, unsigned long frame_bytes, long frames, Uint16 rows,
          Uint16 cols, const struct sl_dicom_box *boxes, size_t n)
{
    for (long fr = 0; fr < frames; fr++) {
        Uint8 *base = data + frame_bytes * static_cast<unsigned long>(fr);
        for (size_t b = 0; b < n; b++) {
            const sl_dicom_box &bx = boxes[b];
            for (unsigned long r = bx.y; r < bx.y + 0UL + bx.h && r < rows; r++)
                for (unsigned long c = bx.x & ~1UL;
                     c < bx.x + 0UL + bx.w && c < cols; c += 2) {
                    Uint8 *p = base + (r * cols + c) * 2;
                    p[0] = p[1] = 0;
                    p[2] = p[3] = 128;
                }
        }
    }
}

// Blanks the boxes in native pixel data held in memory.
int
blank_native(DcmDataset *ds, const struct sl_dicom_box *boxes, size_t n,
             struct sl_err *err)
{
    Uint16 rows = 0, cols = 0, bits = 0, stored = 0, spp = 1, planar = 0,
           rep = 0;
    long frames = 1;
    OFString pi;
    DcmElement *pd = nullptr;

    if (ds->findAndGetUint16(DCM_Rows, rows).bad() ||
        ds->findAndGetUint16(DCM_Columns, cols).bad() ||
        ds->findAndGetUint16(DCM_BitsAllocated, bits).bad() ||
        ds->findAndGetElement(DCM_PixelData, pd).bad() || pd == nullptr)
        return SL_ERR(err, SL_EDICOM,
                      "(7FE0,0010) Pixel Data: no native image to blank");
    if (ds->findAndGetUint16(DCM_BitsStored, stored).bad() || stored == 0 ||
        stored > bits)
        stored = bits;
    ds->findAndGetUint16(DCM_SamplesPerPixel, spp);
    ds->findAndGetUint16(DCM_PlanarConfiguration, planar);
    ds->findAndGetUint16(DCM_PixelRepresentation, rep);
    ds->findAndGetLongInt(DCM_NumberOfFrames, frames);
    ds->findAndGetOFString(DCM_PhotometricInterpretation, pi);
    if (frames < 1)
        frames = 1;
    const bool ybr422 = pi == "YBR_FULL_422";
    if ((bits != 8 && bits != 16) || spp < 1 || spp > 4 ||
        pi.compare(0, 7, "YBR_PAR") == 0 ||
        (ybr422 && (bits != 8 || spp != 3 || planar != 0 || cols % 2 != 0)))
        return SL_ERR(err, SL_EDICOM,
                      "(0028,0004) Photometric Interpretation / (0028,0100) "
                      "Bits Allocated: layout not supported for blanking");
    const unsigned long bpp = bits / 8;
    const unsigned long plane = static_cast<unsigned long>(rows) * cols;
    const unsigned long frame_bytes = ybr422 ? plane * 2 : plane * spp * bpp;
    unsigned palette_black = 0;
    Uint8 *data = nullptr;
    bool words = false;
    int rc;
    if (pi == "PALETTE COLOR" &&
        (rc = palette_darkest(ds, &palette_black, err)) != SL_OK)
        return rc;
    rc = native_pixels(pd, frame_bytes, frames, &data, &words, err);
    if (rc != SL_OK)
        return rc;
    if (ybr422) {
        blank_422(data, frame_bytes, frames, rows, cols, boxes, n);
        return SL_OK;
    }
    // 16 bits: OW words are in the host's order in memory; OB bytes are
    // little endian (as mask_in_memory() reads them).
    const bool host_words = words && bits == 16;
    for (unsigned s = 0; s < spp; s++) {
        const unsigned v =
            (pi == "PALETTE COLOR" ? palette_black
                                   : darkest(pi, s, stored, rep == 1)) &
            (bits == 8 ? 0xFFu : 0xFFFFu);
        for (long fr = 0; fr < frames; fr++) {
            Uint8 *base = data + frame_bytes * static_cast<unsigned long>(fr);
            for (size_t b = 0; b < n; b++) {
                const sl_dicom_box &bx = boxes[b];
                for (unsigned long r = bx.y; r < bx.y + 0UL + bx.h && r < rows;
                     r++)
                    for (unsigned long c = bx.x;
                         c < bx.x + 0UL + bx.w && c < cols; c++) {
                        const unsigned long idx =
                            planar == 1 && spp > 1 ? s * plane + r * cols + c
                                                   : (r * cols + c) * spp + s;
                        Uint8 *p = base + idx * bpp;
                        if (bpp == 1) {
                            *p = static_cast<Uint8>(v);
                        } else if (host_words) {
                            Uint16 w16 = static_cast<Uint16>(v);
                            std::memcpy(p, &w16, 2);
                        } else {
                            p[0] = static_cast<Uint8>(v & 0xFF);
                            p[1] = static_cast<Uint8>(v >> 8);
                        }
                    }
            }
        }
    }
    return SL_OK;
}

} // namespace

extern "C" int
sl_dicom_render_open(struct sl_dicom_file *f, struct sl_dicom_render **out,
                     struct sl_err *err)
{
    DicomImage *img = nullptr;

    try {
        register_codecs();
        DcmDataset *ds = f->ff->getDataset();
        E_TransferSyntax x = ds->getOriginalXfer();
        DcmElement *pd = nullptr;
        if (ds->findAndGetElement(DCM_PixelData, pd).bad() || pd == nullptr)
            return SL_ERR(err, SL_ENOTFOUND, "(7FE0,0010) Pixel Data: none");
        // A palette that cannot say which entry is black is refused here,
        // with that reason, rather than as an image DCMTK cannot show.
        OFString pi;
        unsigned black = 0;
        int rc;
        if (ds->findAndGetOFString(DCM_PhotometricInterpretation, pi).good() &&
            pi == "PALETTE COLOR" &&
            (rc = palette_darkest(ds, &black, err)) != SL_OK)
            return rc;
        // All frames, from a copy: DCMTK decodes compressed pixel data in
        // the dataset it is given, which must stay as it was read for
        // writing (the copy is the image's and goes with it).
        img = new DicomImage(new DcmDataset(*ds), x,
                             CIF_TakeOverExternalDataset, 0UL, 0UL);
        if (img->getStatus() != EIS_Normal) {
            OFString why = DicomImage::getString(img->getStatus());
            delete img;
            if (is_jpeg2000(x)) {
                // DicomImage keeps the codec's reason to itself: decode a
                // copy to get OpenJPEG's
                DcmDataset copy(*ds);
                OFCondition c =
                    copy.chooseRepresentation(EXS_LittleEndianExplicit,
                                              nullptr);
                if (c.bad())
                    why = c.text();
            }
            return undecodable(err, x, why.c_str());
        }
        DicomImage *colour = nullptr;
        if (!img->isMonochrome()) {
            // Colour to grey (ITU-R BT.601 weights) before windowing; the
            // colour image is kept for the colour planes.
            DicomImage *grey = img->createMonochromeImage();
            colour = img;
            img = grey;
            if (img == nullptr || img->getStatus() != EIS_Normal) {
                delete img;
                delete colour;
                return undecodable(err, x, "cannot render colour to grey");
            }
        }
        auto *r = new sl_dicom_render;
        r->img = img;
        r->colour = colour;
        r->frames = img->getFrameCount();
        r->rgb = nullptr;
        r->rgb_frame = 0;
        *out = r;
        return SL_OK;
    } catch (...) {
        delete img;
        return fail_exception(err);
    }
}

extern "C" void
sl_dicom_render_free(struct sl_dicom_render *r)
{
    if (r == nullptr)
        return;
    delete r->img;
    delete r->colour;
    delete r;
}

extern "C" unsigned long
sl_dicom_render_frames(const struct sl_dicom_render *r)
{
    return r->frames;
}

extern "C" int
sl_dicom_render_frame(struct sl_dicom_render *r, unsigned long i,
                      unsigned char **gray, unsigned *w, unsigned *h,
                      struct sl_err *err)
{
    try {
        DicomImage *img = r->img;
        if (i >= r->frames)
            return SL_ERR(err, SL_EINTERNAL, "frame %lu of %lu", i + 1,
                          r->frames);
        // The window a viewer starts with: the file's first window, else
        // its first VOI LUT, else the frame's minimum to maximum.
        if (img->getWindowCount() > 0)
            img->setWindow(0);
        else if (img->getVoiLutCount() > 0)
            img->setVoiLut(0);
        else
            img->setMinMaxWindow(0);
        const unsigned long cols = img->getWidth(), rows = img->getHeight();
        const void *px = img->getOutputData(8, i, 0);
        if (px == nullptr)
            return SL_ERR(err, SL_EDICOM,
                          "(7FE0,0010) Pixel Data: cannot render frame %lu",
                          i + 1);
        auto *buf = static_cast<unsigned char *>(std::malloc(cols * rows));
        if (buf == nullptr)
            return SL_ERR(err, SL_ENOMEM, "out of memory");
        std::memcpy(buf, px, cols * rows);
        img->deleteOutputData();
        *gray = buf;
        *w = static_cast<unsigned>(cols);
        *h = static_cast<unsigned>(rows);
        return SL_OK;
    } catch (...) {
        return fail_exception(err);
    }
}

extern "C" unsigned
sl_dicom_render_planes(const struct sl_dicom_render *r)
{
    return r->colour != nullptr ? 2 : 0;
}

extern "C" int
sl_dicom_render_plane(struct sl_dicom_render *r, unsigned long i,
                      unsigned plane, unsigned char **g, unsigned *w,
                      unsigned *h, struct sl_err *err)
{
    try {
        DicomImage *img = r->colour;
        if (img == nullptr || plane < 1 || plane > 2 || i >= r->frames)
            return SL_ERR(err, SL_EINTERNAL, "plane %u of frame %lu", plane,
                          i + 1);
        const unsigned long cols = img->getWidth(), rows = img->getHeight();
        // 8 bits a sample, R G B interleaved (planar configuration 0),
        // kept for the frame's other plane
        if (r->rgb == nullptr || r->rgb_frame != i) {
            img->deleteOutputData();
            r->rgb = static_cast<const unsigned char *>(
                img->getOutputData(8, i, 0));
            r->rgb_frame = i;
            r->rgb_grey = true;
            for (unsigned long k = 0; r->rgb && k < cols * rows; k++)
                if (r->rgb[3 * k] != r->rgb[3 * k + 1] ||
                    r->rgb[3 * k + 2] != r->rgb[3 * k + 1]) {
                    r->rgb_grey = false;
                    break;
                }
        }
        const unsigned char *px = r->rgb;
        if (px == nullptr)
            return SL_ERR(err, SL_EDICOM,
                          "(7FE0,0010) Pixel Data: cannot render frame %lu",
                          i + 1);
        if (r->rgb_grey) { // a grey picture stored in colour: nothing here
            *g = nullptr;
            *w = static_cast<unsigned>(cols);
            *h = static_cast<unsigned>(rows);
            return SL_OK;
        }
        auto *buf = static_cast<unsigned char *>(std::malloc(cols * rows));
        if (buf == nullptr)
            return SL_ERR(err, SL_ENOMEM, "out of memory");
        // R - Y or B - Y (BT.601 luma, as the grey frame), 128 for a grey
        // pixel: text whose colour has its background's luminance differs
        // from it here
        for (unsigned long k = 0; k < cols * rows; k++) {
            const int R = px[3 * k], G = px[3 * k + 1], B = px[3 * k + 2];
            const int Y = (299 * R + 587 * G + 114 * B + 500) / 1000;
            int v = 128 + (plane == 1 ? R : B) - Y;
            buf[k] = static_cast<unsigned char>(v < 0 ? 0 : v > 255 ? 255 : v);
        }
        *g = buf;
        *w = static_cast<unsigned>(cols);
        *h = static_cast<unsigned>(rows);
        return SL_OK;
    } catch (...) {
        return fail_exception(err);
    }
}

extern "C" void
sl_dicom_file_xfer(struct sl_dicom_file *f, char *xfer)
{
    const char *id =
        DcmXfer(f->ff->getDataset()->getOriginalXfer()).getXferID();
    std::snprintf(xfer, 65, "%s", id != nullptr ? id : "");
}

extern "C" int
sl_dicom_file_blank_boxes(struct sl_dicom_file *f,
                          const struct sl_dicom_box *boxes, size_t n,
                          char *xfer, int *changed, struct sl_err *err)
{
    try {
        register_codecs();
        DcmDataset *ds = f->ff->getDataset();
        const E_TransferSyntax orig = ds->getOriginalXfer();
        const bool compressed = DcmXfer(orig).isEncapsulated();
        DcmElement *el = nullptr;
        int rc;

        if (changed != nullptr)
            *changed = 0;
        if (compressed) {
            OFCondition c =
                ds->chooseRepresentation(EXS_LittleEndianExplicit, nullptr);
            if (c.bad() || !ds->canWriteXfer(EXS_LittleEndianExplicit, orig))
                return undecodable(err, orig, c.bad() ? c.text() : "");
        }
        if ((rc = blank_native(ds, boxes, n, err)) != SL_OK)
            return rc;
        f->pixels_changed = true; // written through DCMTK from now on
        if (ds->findAndGetElement(DCM_PixelData, el).good() && el != nullptr)
            // The compressed value read from the input still shows the
            // text: it must never be written.
            static_cast<DcmPixelData *>(el)
                ->removeAllButCurrentRepresentations();
        if (compressed) {
            // Lossless only: the input's syntax, else JPEG-LS lossless,
            // else RLE, else native.
            static const E_TransferSyntax fallback[] = {
                EXS_JPEGLSLossless, EXS_RLELossless, EXS_LittleEndianExplicit
            };
            std::vector<E_TransferSyntax> tries;
            if (lossless_encodable(orig))
                tries.push_back(orig);
            tries.insert(tries.end(), std::begin(fallback), std::end(fallback));
            bool done = false;
            for (E_TransferSyntax t : tries) {
                if (t != EXS_LittleEndianExplicit &&
                    (ds->chooseRepresentation(t, nullptr).bad() ||
                     !ds->canWriteXfer(t, EXS_LittleEndianExplicit)))
                    continue;
                if (t == EXS_LittleEndianExplicit &&
                    ds->chooseRepresentation(t, nullptr).bad())
                    break;
                if (ds->findAndGetElement(DCM_PixelData, el).good() &&
                    el != nullptr)
                    static_cast<DcmPixelData *>(el)
                        ->removeAllButCurrentRepresentations();
                ds->updateOriginalXfer();
                done = true;
                break;
            }
            if (!done)
                return SL_ERR(err, SL_EDICOM,
                              "(7FE0,0010) Pixel Data: blanked but cannot "
                              "be encoded again losslessly");
        }
        if (changed != nullptr)
            *changed = ds->getOriginalXfer() != orig;
        if (xfer != nullptr)
            sl_dicom_file_xfer(f, xfer);
        return SL_OK;
    } catch (...) {
        return fail_exception(err);
    }
}
