#!/usr/bin/env python3
"""Writes the sandbox's sample corpus into assets/sandbox-corpus: synthetic clinical notes as
text, PDFs with a text layer, scanned images (PNG, TIFF, JPEG) and files that must fail (empty,
corrupt, encrypted, unsupported). Every name, number and address in them is made up.

Needs ImageMagick (/usr/bin/convert) and qpdf only when regenerating; the files are committed.
"""
import os
import subprocess
import zipfile
import zlib

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "assets", "sandbox-corpus")

NOTES = {
    "discharge-summary-gonzalez.txt": """DISCHARGE SUMMARY
Patient: Maria Gonzalez          MRN: 00482913
DOB: 04/17/1931                  Admitted: 03/14/2023   Discharged: March 20, 2023
Address: 12 Elm Street, Springfield, MA 01103
Phone: (413) 555-0199    Fax: 413-555-0100
Member ID: XQH449201     Account number 88120033

Ms. Gonzalez is a 92 year old woman admitted with community-acquired pneumonia.
She was treated with ceftriaxone and azithromycin and improved steadily.
Her daughter Lucia Gonzalez (lucia.gonzalez@mail.example.com) will stay with her.
Follow-up with Dr. Okafor on 2023-04-03 at the Springfield clinic.

Electronically signed: Chidi Okafor, MD
""",
    "progress-note-nguyen.txt": """PROGRESS NOTE  Date of service: 11/02/2024
Patient: Nguyen, Thanh   Medical record number 7730-2291
Seen with Dr. Abernathy for diabetes follow-up.
Hemoglobin A1c 7.4%, up from 6.9% in July 2024. BP 132/84.
Mr. Nguyen works as a bus driver; driver's license N5521834.
Insulin pump serial IP-88213-K checked; portal https://portal.example.org/patient/55102.
Plan: increase basal rate, recheck in 3 months. Call 617-555-0134 with questions.
""",
    "ed-triage-zelinsky.txt": """EMERGENCY DEPARTMENT TRIAGE
Name: Tomasz Zelinsky    Age: 47    SSN 219-09-9999
Arrived 9/30/2024 by private vehicle after a low-speed collision; VIN 1HGCM82633A004352.
Lives in Chicopee with his wife Brygida. Home: 88 Old Mill Road, Chicopee, MA 01020.
Claim number CLM2024-7781 opened. Remote interpreter connected from 10.42.7.19.
Complaint: neck pain, no loss of consciousness. Zelinsky denies numbness.
""",
}

PDF_PAGES = {
    "referral-letter-patel.pdf": [[
        "Referral letter - 05/06/2024",
        "Patient: Priya Patel    MRN: 55018274",
        "Address: 410 Beacon Street, Boston, MA 02115",
        "Dear Dr. Lindqvist,",
        "I am referring Ms. Patel, a 58 year old teacher, for evaluation",
        "of exertional dyspnea. Echo on April 2, 2024 showed EF 45%.",
        "Reach her at 617-555-0177 or priya.patel@mail.example.com.",
        "Sincerely, Samuel Whitaker, MD",
    ]],
    "cardiology-consult-haddad.pdf": [
        [
            "Cardiology consult - page 1",
            "Patient: Hamid Haddad   MRN: 66120983   DOB: 12/01/1948",
            "Pacemaker serial PM-44102-Q interrogated on 2024-08-19.",
            "Mr. Haddad reports palpitations at night.",
        ],
        [
            "Cardiology consult - page 2",
            "Plan: Holter monitor; follow-up with Dr. Rasmussen on 09/02/2024.",
            "Health plan ID: HP-7718200. Contact his son Yusuf Haddad at 508-555-0123.",
        ],
    ],
}

SCAN = [
    "CLINIC NOTE (scanned)",
    "Patient: Olga Thorvaldsen",
    "MRN: 90817265",
    "Visit: 02/11/2024",
    "Phone: 781-555-0142",
    "Ms. Thorvaldsen reports knee pain",
    "after a fall on February 3, 2024.",
    "Seen by Dr. Castellanos.",
]


def pdf(pages):
    """A minimal PDF with a Helvetica text layer, one content stream per page."""
    objs = []

    def add(body):
        objs.append(body)
        return len(objs)

    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    pages_id = len(objs) + 1 + 2 * len(pages)  # filled in below
    kids = []
    for lines in pages:
        text = "BT /F1 12 Tf 14 TL 72 740 Td\n" + "".join(
            "(%s) Tj T*\n" % l.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") for l in lines
        ) + "ET"
        data = zlib.compress(text.encode("latin-1"))
        content = add(b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream")
        kids.append(add(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>" % (pages_id, font, content)))
    assert add(b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(b"%d 0 R" % k for k in kids), len(kids))) == pages_id
    catalog = add(b"<< /Type /Catalog /Pages %d 0 R >>" % pages_id)
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, catalog, xref)
    return bytes(out)


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, text in NOTES.items():
        with open(os.path.join(OUT, name), "w") as f:
            f.write(text)
    for name, pages in PDF_PAGES.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(pdf(pages))
    # A scan: black text on off-white, slightly rotated, with noise, as a scanner makes it.
    png = os.path.join(OUT, "scanned-note-thorvaldsen.png")
    subprocess.run(
        ["/usr/bin/convert", "-size", "1100x620", "xc:#f4f1ea", "-font", "DejaVu-Sans", "-pointsize", "30", "-fill", "black",
         "-annotate", "+40+60", "\n".join(SCAN), "-rotate", "0.6", "-attenuate", "0.08", "+noise", "Gaussian",
         "-colorspace", "Gray", "-colors", "8", "-depth", "8", png],
        check=True,
    )
    subprocess.run(["/usr/bin/convert", png, "-compress", "group4", "-monochrome", os.path.join(OUT, "fax-scan-thorvaldsen.tiff")], check=True)
    subprocess.run(["/usr/bin/convert", png, "-quality", "70", os.path.join(OUT, "phone-photo-thorvaldsen.jpg")], check=True)
    # Failures: each must end in quarantine with its reason.
    open(os.path.join(OUT, "empty-upload.txt"), "wb").close()
    good = pdf(PDF_PAGES["referral-letter-patel.pdf"])
    with open(os.path.join(OUT, "corrupt-truncated.pdf"), "wb") as f:
        f.write(good[: len(good) // 3])
    with open(os.path.join(OUT, "corrupt-image.png"), "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + bytes((i * 37) % 251 for i in range(2000)))
    plain = os.path.join(OUT, ".plain.pdf")
    with open(plain, "wb") as f:
        f.write(good)
    subprocess.run(["qpdf", "--encrypt", "user-secret", "owner-secret", "256", "--", plain, os.path.join(OUT, "encrypted-lab-report.pdf")], check=True)
    os.remove(plain)
    with zipfile.ZipFile(os.path.join(OUT, "unsupported-letter.docx"), "w") as z:
        z.writestr("word/document.xml", "<w:document/>")


if __name__ == "__main__":
    main()
