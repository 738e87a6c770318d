#!/usr/bin/python3
"""ocr-recall.py - how much planted text `sluice inspect-pixels` finds
(issue 11): a fixed set of images, made here with ImageMagick and
Debian's DejaVu fonts and wrapped into DICOM with pydicom, each with
words planted at known places in sizes from 8 to 28 points, light on dark
and dark on light, on flat grey, gradients and speckle, some turned 90
degrees. A word counts as found when a box that inspect-pixels reports
covers the middle of its first and of its last character. Prints the
share found per kind of image and overall, and the words no box covered
(by kind, size and contrast, never the text). Measures; never fails.

Usage: ocr-recall.py SLUICE WORKDIR [SEED]
The fixtures are made by this script (no downloaded data); the fonts are
Debian's fonts-dejavu-core (Bitstream Vera licence)."""
import os, random, re, subprocess, sys, warnings
warnings.simplefilter("ignore")
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

sluice, work = sys.argv[1], sys.argv[2]
rnd = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 11)
FONTS = ["/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
         "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
         "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
         "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"]
FONTS = [f for f in FONTS if os.path.exists(f)]
os.makedirs(work, exist_ok=True)

def word():
    kind = rnd.random()
    if kind < 0.5:
        return "".join(rnd.choice("ABCDEFGHJKLMNPRSTUVWXYZ")
                       for _ in range(rnd.randint(4, 9)))
    if kind < 0.8:
        return "".join(rnd.choice("0123456789") for _ in range(rnd.randint(6, 9)))
    return "%04d/%02d/%02d" % (rnd.randint(1930, 2024), rnd.randint(1, 12),
                               rnd.randint(1, 28))

# (name, size, background, ink) - ink "light" or "dark"
KINDS = [
    ("us-gradient", (512, 512), "gradient:gray10-gray40", "light"),
    ("us-speckle", (640, 480), "speckle", "light"),
    ("sc-flat", (1024, 768), "xc:gray60", "dark"),
    ("sc-white", (1024, 768), "xc:white", "dark"),
    ("sc-black", (1024, 768), "xc:black", "light"),
    ("xa-gradient", (512, 512), "gradient:gray20-gray60", "light"),
    ("low-contrast", (800, 600), "xc:gray45", "light-grey"),
]
INK = {"light": ["white", "gray85", "yellow"], "dark": ["black", "gray15"],
       "light-grey": ["gray75"]}

def save(png, out, mod):
    data = subprocess.run(["convert", png, "-colorspace", "Gray", "-depth",
                           "8", "pgm:-"], capture_output=True, check=True).stdout
    parts = data.split(maxsplit=4)
    w, h = int(parts[1]), int(parts[2])
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    cls = "1.2.840.10008.5.1.4.1.1.7"
    ds.file_meta.MediaStorageSOPClassUID = cls
    ds.SOPClassUID = cls
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.Modality = mod
    ds.PatientName, ds.PatientID = "RECALL^TEST", "R0000001"
    ds.Rows, ds.Columns, ds.SamplesPerPixel = h, w, 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.PixelRepresentation = 0
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 8, 8, 7
    ds.PixelData = parts[4][:w * h]
    ds.is_little_endian, ds.is_implicit_VR = True, False
    ds.save_as(out, write_like_original=False)

planted = []  # (file, kind, pt, ink, rotated, points)
n_img = 0
for kind, (W, H), bg, ink in KINDS:
    for rep in range(4):
        n_img += 1
        name = "%s/%02d" % (work, n_img)
        args = ["convert", "-size", "%dx%d" % (W, H)]
        if bg == "speckle":
            args += ["xc:gray25", "-attenuate", "0.6", "+noise",
                     "Multiplicative", "-blur", "0x0.7"]
        else:
            args += [bg]
        # a grid of cells, one word per cell at most
        rows, cols = 6, 3
        words = []
        for r in range(rows):
            for c in range(cols):
                if rnd.random() < 0.55:
                    continue
                pt = rnd.choice([8, 9, 10, 11, 12, 14, 18, 22, 28])
                font = rnd.choice(FONTS)
                colour = rnd.choice(INK[ink])
                t = word()
                cw, ch = W // cols, H // rows
                x = c * cw + rnd.randint(4, max(5, cw // 4))
                y = r * ch + ch // 2 + pt // 2
                rotated = kind.startswith("xa") and c == cols - 1
                if rotated:
                    # down the side: the first character at the top
                    x = c * cw + cw // 2
                    y = r * ch + 4
                    if y + 0.62 * pt * len(t) > H:
                        continue
                    args += ["-font", font, "-pointsize", str(pt), "-fill",
                             colour, "-annotate", "90x90+%d+%d" % (x, y), t]
                else:
                    if x + 0.62 * pt * len(t) > (c + 1) * cw:
                        continue
                    args += ["-font", font, "-pointsize", str(pt), "-fill",
                             colour, "-annotate", "+%d+%d" % (x, y), t]
                words.append((t, pt, x, y, rotated, colour, font))
        args += ["-depth", "8", name + ".png"]
        subprocess.run(args, check=True)
        # the middle of the first and last characters, from the glyph
        # advance the font gives (measured on the rendered line)
        for t, pt, x, y, rotated, colour, font in words:
            m = subprocess.run(["convert", "-font", font, "-pointsize",
                                str(pt), "label:" + t, "-format", "%w", "info:"],
                               capture_output=True, text=True).stdout
            length = int(m) if m.strip().isdigit() else int(0.6 * pt * len(t))
            adv = length / len(t)
            if rotated:
                pts = [(x + int(0.35 * pt), y + int(adv / 2)),
                       (x + int(0.35 * pt), y + int(length - adv / 2))]
            else:
                pts = [(x + int(adv / 2), y - int(0.35 * pt)),
                       (x + int(length - adv / 2), y - int(0.35 * pt))]
            planted.append((name + ".dcm", kind, pt, colour, rotated, pts))
        save(name + ".png", name + ".dcm", "OT")

found = {}
for f in sorted({p[0] for p in planted}):
    out = subprocess.run([sluice, "inspect-pixels", f], capture_output=True,
                         text=True).stdout
    boxes = [tuple(map(int, m.groups())) for m in
             re.finditer(r"x (\d+) y (\d+) w (\d+) h (\d+)", out)]
    found[f] = boxes

def covered(boxes, px, py):
    return any(x <= px < x + w and y <= py < y + h for x, y, w, h in boxes)

tot = hit = 0
per = {}
missed = []
for f, kind, pt, colour, rotated, pts in planted:
    ok = all(covered(found[f], px, py) for px, py in pts)
    tot += 1
    hit += ok
    k = per.setdefault(kind, [0, 0])
    k[0] += ok
    k[1] += 1
    if not ok:
        missed.append("%s %dpt %s%s" % (kind, pt, colour,
                                          " rotated" if rotated else ""))
for kind, (h_, t_) in sorted(per.items()):
    print("%-14s %3d of %3d found (%.0f%%)" % (kind, h_, t_, 100.0 * h_ / t_))
print("all            %3d of %3d found (%.1f%%) in %d images" %
      (hit, tot, 100.0 * hit / tot, n_img))
for m in missed:
    print("missed:", m)
