"""Generates the labelled de-identification evaluation corpus.

The identifiers come from Faker's own generators (names, street addresses, cities, phone
numbers, plates, VINs...), which the worker's detectors do not use; the sentences around them
are written here in many phrasings: narrative notes, multi-line headers, signatures, lists,
OCR-like noise. Non-identifiers that look like identifiers (eponyms, doses, vitals, lab ranges,
years alone, ages up to 89, codes) are mixed in, so precision is measured too.

Output: one JSON object per line, {"id", "text", "spans": [[start, end, category], ...]} with
offsets in Unicode code points. Same seed, same Faker version: the same corpus.

    python generate.py --seed 7321 --notes 1000 > corpus.jsonl
"""

import argparse
import json
import random
import sys

from faker import Faker

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]
ONES = ["", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


class Note:
    """A note assembled from plain text and labelled identifiers."""

    def __init__(self, rng, noisy):
        self.rng = rng
        self.noisy = noisy
        self.parts = []

    def t(self, s):
        self.parts.append((s, None))

    def p(self, category, s):
        self.parts.append((s, category))

    def build(self):
        text, spans = "", []
        for s, cat in self.parts:
            if self.noisy:
                s = ocr_noise(self.rng, s, cat is not None)
            if cat is not None and s:
                spans.append([len(text), len(text) + len(s), cat])
            text += s
        return text, spans


def ocr_noise(rng, s, phi):
    """Scanner-like damage: confused glyphs, lost or doubled spaces, case. Kept light on
    identifiers (a reader must still be able to tell what they were)."""
    rate = 0.01 if phi else 0.02
    out = []
    i = 0
    while i < len(s):
        c = s[i]
        r = rng.random()
        if r < rate:
            swap = {"l": "1", "O": "0", "o": "0", "I": "l", "S": "5", "B": "8", "e": "c", "i": "l", "m": "rn"}
            if c in swap:
                out.append(swap[c])
                i += 1
                continue
            if c == " " and not phi and rng.random() < 0.5:
                i += 1  # a lost space
                continue
            if c == " ":
                out.append("  ")
                i += 1
                continue
        out.append(c)
        i += 1
    return "".join(out)


def number_words(n):
    tens = {2: "twenty", 3: "thirty", 4: "forty", 5: "fifty", 6: "sixty", 7: "seventy", 8: "eighty", 9: "ninety"}
    if n >= 100:
        rest = n - 100
        return "one hundred" + ("" if rest == 0 else (" and " if rng_global.random() < 0.5 else " ") + number_words(rest))
    if n < 10:
        return ONES[n]
    if n < 20:
        return ["ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"][n - 10]
    t, o = divmod(n, 10)
    return tens[t] + ("" if o == 0 else "-" + ONES[o])


rng_global = random.Random(0)


class Gen:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.f = Faker("en_US")
        Faker.seed(seed)
        global rng_global
        rng_global = self.rng

    def pick(self, xs):
        return self.rng.choice(xs)

    def chance(self, p):
        return self.rng.random() < p

    # ---- identifiers ------------------------------------------------------------------------
    def first(self):
        return self.f.first_name()

    def last(self):
        return self.f.last_name()

    def date_obj(self):
        return self.f.date_between(start_date="-60y", end_date="today")

    def date(self, d=None):
        d = d or self.date_obj()
        m, day, y = d.month, d.day, d.year
        mon = MONTHS[m - 1]
        suffix = "th" if 11 <= day <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
        forms = [
            f"{m:02d}/{day:02d}/{y}",
            f"{m}/{day}/{y}",
            f"{m}/{day}/{y % 100:02d}",
            f"{y}-{m:02d}-{day:02d}",
            f"{day:02d}-{mon[:3]}-{y}",
            f"{day}-{mon[:3].upper()}-{y}",
            f"{day} {mon} {y}",
            f"{day} {mon[:3]} {y}",
            f"{mon} {day}, {y}",
            f"{mon[:3]} {day}, {y}",
            f"{mon[:3]}. {day}, {y}",
            f"{mon} {day}{suffix}, {y}",
            f"the {day}{suffix} of {mon}, {y}",
            f"{m:02d}-{day:02d}-{y}",
            f"{m}.{day}.{y}",
            f"{d.strftime('%A')}, {mon} {day}, {y}",
            f"{y}/{m:02d}/{day:02d}",
            f"{day}{mon[:3].upper()}{y}",
        ]
        return self.pick(forms)

    def partial_date(self):
        d = self.date_obj()
        mon = MONTHS[d.month - 1]
        return self.pick([f"{mon} {d.year}", f"{mon[:3]} {d.year}", f"{d.month:02d}/{d.year}", f"{mon} {d.day}", f"{d.month}/{d.day}", f"{mon[:3]} {d.day}"])

    def age90(self):
        n = self.rng.randint(90, 108)
        return n

    def phone(self):
        return self.pick([self.f.phone_number(), self.f.basic_phone_number(), self.f.phone_number()])

    def ssn(self):
        s = self.f.ssn()
        return self.pick([s, s.replace("-", " "), s.replace("-", ""), s])

    def mrn(self):
        return self.pick(
            [
                self.f.numerify("########"),
                self.f.numerify("#######"),
                self.f.bothify("?#######").upper(),
                self.f.numerify("MR-######"),
                self.f.numerify("##-###-###"),
                self.f.numerify("E#########"),
            ]
        )

    def plan(self):
        return self.pick(
            [self.f.bothify("???#########").upper(), self.f.bothify("W#########"), self.f.numerify("###########"), self.f.bothify("??-#######-##").upper()]
        )

    def account(self):
        return self.pick([self.f.numerify("##########"), self.f.numerify("ACC-########"), self.f.bban(), self.f.numerify("####-####-##")])

    def license(self):
        return self.pick(
            [
                self.f.bothify("?#######").upper(),
                self.f.bothify("??#######").upper(),
                self.f.numerify("MD######"),
                self.f.numerify("RN#######"),
                self.f.bothify("?###-####-####").upper(),
                self.f.numerify("#########"),
            ]
        )

    def vehicle(self):
        return self.pick([self.f.license_plate(), self.f.license_plate(), self.f.vin()])

    def device(self):
        return self.pick(
            [
                self.f.bothify("SN-####-???").upper(),
                self.f.bothify("??######").upper(),
                self.f.bothify("###-????-###").upper(),
                self.f.numerify("PJN######"),
                self.f.bothify("#??##-#####").upper(),
            ]
        )

    def other_id(self):
        return self.pick(
            [
                self.f.numerify("#####"),
                self.f.bothify("??-#####").upper(),
                self.f.bothify("#??##?").upper(),
                self.f.numerify("S##-####"),
                self.f.numerify("########"),
                self.f.bothify("CLM-######"),
            ]
        )

    def url(self):
        return self.pick([self.f.url(), self.f.url() + self.f.uri_path(), "www." + self.f.domain_name(), self.f.uri()])

    def ip(self):
        return self.pick([self.f.ipv4(), self.f.ipv4_private(), self.f.ipv6(), self.f.ipv4()])

    def zip(self):
        return self.pick([self.f.zipcode(), self.f.zipcode_plus4(), self.f.zipcode()])

    # ---- names in their many forms ----------------------------------------------------------
    def full_name(self, n):
        """Appends a person's name in one of its written forms; returns its surname."""
        first, last = self.first(), self.last()
        form = self.rng.randint(0, 9)
        if form <= 3:
            n.p("name", f"{first} {last}")
        elif form == 4:
            n.p("name", f"{first} {self.f.random_uppercase_letter()}. {last}")
        elif form == 5:
            n.p("name", last)
            n.t(", ")
            n.p("name", first)
        elif form == 6:
            n.p("name", f"{first[0]}. {last}")
        elif form == 7:
            n.p("name", f"{last.upper()}, {first.upper()}")
        elif form == 8:
            n.p("name", f"{first} {last}")
            n.t(self.pick([" Jr.", " Sr.", " III", ""]))
        else:
            n.p("name", f"{first} {self.last()}-{last}")
        return last

    # ---- pieces of notes --------------------------------------------------------------------
    def header(self, n):
        """A multi-line header, as printed on a form or a fax cover."""
        upper = self.chance(0.4)
        lab = (lambda s: s.upper()) if upper else (lambda s: s)
        n.t(lab(self.pick(["Patient", "Patient Name", "Name", "Pt"])) + ": ")
        first, last = self.first(), self.last()
        if self.chance(0.5):
            n.p("name", f"{last.upper()}, {first.upper()}" if upper else f"{last}, {first}")
        else:
            n.p("name", f"{first} {last}")
        n.t(self.pick(["    ", "\t", "   "]) + lab(self.pick(["DOB", "Date of Birth", "D.O.B."])) + ": ")
        n.p("date", self.date(self.f.date_of_birth(minimum_age=1, maximum_age=88)))
        n.t("\n" + lab(self.pick(["MRN", "MR#", "Med Rec #", "Medical Record No."])) + ": ")
        n.p("mrn", self.mrn())
        if self.chance(0.6):
            n.t(self.pick(["    ", "  |  ", "\t"]) + lab(self.pick(["Acct", "Account #", "Acct No.", "FIN"])) + ": ")
            n.p("account", self.account())
        n.t("\n" + lab(self.pick(["Address", "Addr", "Home address"])) + ": ")
        n.p("address", self.f.street_address())
        n.t("\n" + self.pick(["         ", "  ", ""]))
        n.p("city", self.f.city())
        n.t(", " + self.f.state_abbr() + " ")
        n.p("zip", self.zip())
        n.t("\n" + lab(self.pick(["Phone", "Tel", "Home phone", "Cell"])) + ": ")
        n.p("phone", self.phone())
        if self.chance(0.5):
            n.t("   " + lab("Fax") + ": ")
            n.p("fax", self.phone())
        if self.chance(0.5):
            n.t("\n" + lab(self.pick(["Insurance ID", "Member ID", "Policy #", "Subscriber ID"])) + ": ")
            n.p("health_plan", self.plan())
        n.t("\n" + lab(self.pick(["Date of service", "Visit date", "Admitted", "Encounter"])) + ": ")
        n.p("date", self.date())
        n.t("\n\n")

    def sentence(self, n):
        """One sentence of narrative, with identifiers or with look-alikes that are not."""
        k = self.rng.randint(0, 47)
        p, t = n.p, n.t
        if k == 0:
            t(self.pick(["He", "She", "The patient"]) + " " + self.pick(["lives at", "resides at", "is living at", "moved to"]) + " ")
            p("address", self.f.street_address())
            t(self.pick([", ", " in ", ", "]))
            p("city", self.f.city())
            if self.chance(0.6):
                t(", " + self.f.state_abbr())
            t(self.pick([" with her daughter.", " alone.", ".", " with family."]))
        elif k == 1:
            t(self.pick(["Home:", "Current address", "Mailing address:"]) + " ")
            p("address", self.f.street_address())
            t(", ")
            p("city", self.f.city())
            t(", " + self.f.state_abbr() + " ")
            p("zip", self.zip())
            t(".")
        elif k == 2:
            rel = self.pick(["Mother", "Father", "Wife", "Husband", "Daughter", "Son", "Sister", "Brother", "Guardian", "Niece", "Partner"])
            t(rel + " ")
            self.full_name(n)
            t(" (")
            p("phone", self.phone())
            t(") " + self.pick(["consents to treatment.", "was updated by phone.", "is the emergency contact.", "will drive home."]))
        elif k == 3:
            t(self.pick(["Per Dr.", "Discussed with Dr.", "Seen by Dr.", "Case reviewed with Dr."]) + " ")
            p("name", self.last())
            if self.chance(0.4):
                t(", ")
                p("name", self.first())
            t(self.pick([", continue current plan.", ", no changes.", "; agrees with plan.", "."]))
        elif k == 4:
            t(self.pick(["Referred by", "Referral from", "Consult requested by", "PCP:"]) + " ")
            self.full_name(n)
            t(self.pick([", license no. ", ", lic# ", ", NPI ", " (license "]))
            p("license", self.license())
            t(self.pick([".", ").", "."]))
        elif k == 5:
            age = self.age90()
            form = self.rng.randint(0, 7)
            pron = self.pick(["He", "She", "Patient"])
            # (before, the age as written, after); each drawn only when its form is chosen.
            forms = [
                lambda: (f"{pron} is ", str(age), " and " + self.pick(["lives independently.", "uses a walker.", "is hard of hearing."])),
                lambda: ("", f"{age}", self.pick([" y/o ", "-year-old ", " yo ", " year old ", "yo "]) + self.pick(["female", "male", "woman", "man", "F", "M"]) + " with CHF."),
                lambda: ("Aged ", str(age), ", presents with fatigue."),
                lambda: (f"{pron} is ", number_words(age), " years old."),
                lambda: ("Age: ", str(age), ""),
                lambda: ("A ", number_words(age), "-year-old veteran."),
                lambda: (f"{pron} turned ", str(age), " last month."),
                lambda: ("At age ", str(age), " she still gardens."),
            ]
            before, value, after = forms[form]()
            t(before)
            p("age", value)
            t(after)
        elif k == 6:
            t(self.pick(["Seen in clinic", "Discharged", "Admitted", "Last seen", "Surgery on", "Follow-up visit"]) + " ")
            p("date", self.date())
            t(self.pick([".", " without complications.", " for review.", "; stable."]))
        elif k == 7:
            t(self.pick(["Symptoms began in", "Last colonoscopy", "Prior admission", "Started insulin"]) + " ")
            p("date", self.partial_date())
            t(".")
        elif k == 8:
            t(self.pick(["Seen for", "Regarding", "Re:", "Follow-up of"]) + " ")
            lab = self.pick(["Case #", "Case ", "Ref ", "Ref# ", "Claim ", "Claim # ", "Accession ", "Accession # ", "Specimen ", "Order # ", "Requisition "])
            t(lab)
            p("other_id", self.other_id())
            t(self.pick([" follow-up.", ".", " results reviewed.", " pending."]))
        elif k == 9:
            t(self.pick(["Vehicle", "Car", "plate/VIN", "License plate", "Plate", "VIN"]) + " ")
            p("vehicle", self.vehicle())
            t(self.pick([" noted in the parking log.", " was involved in the collision.", ".", " towed from the scene."]))
        elif k == 10:
            t(self.pick(["Contact", "Call", "Reach her at", "Cell", "Pager"]) + " ")
            p("phone", self.phone())
            t(self.pick([" with questions.", ".", " after 5 pm."]))
        elif k == 11:
            t("Fax results to ")
            p("fax", self.phone())
            t(".")
        elif k == 12:
            t(self.pick(["Email", "E-mail:", "Portal message from", "Sent to"]) + " ")
            p("email", self.f.email())
            t(".")
        elif k == 13:
            t(self.pick(["SSN", "SS#", "Social Security number", "SSN:"]) + " ")
            p("ssn", self.ssn())
            t(" on file.")
        elif k == 14:
            t(self.pick(["Member ID", "Medicaid ID", "Policy number", "Plan ID", "Insurance ID #"]) + " ")
            p("health_plan", self.plan())
            t(".")
        elif k == 15:
            t(self.pick(["Account", "Acct", "Billing account", "Acct #"]) + " ")
            p("account", self.account())
            t(self.pick([" past due.", ".", " updated."]))
        elif k == 16:
            t(self.pick(["Pacemaker serial", "Device SN", "Insulin pump serial no.", "Implant serial number", "Serial #"]) + " ")
            p("device", self.device())
            t(" checked.")
        elif k == 17:
            t(self.pick(["See", "Results at", "Uploaded to", "Patient site"]) + " ")
            p("url", self.url())
            t(".")
        elif k == 18:
            t(self.pick(["Login from IP", "Accessed from", "Remote session from"]) + " ")
            p("ip", self.ip())
            t(".")
        elif k == 19:
            t(self.pick(["Driver's license", "DL#", "State ID", "Passport"]) + " ")
            p("license", self.license())
            t(" verified at registration.")
        elif k == 20:
            first = self.first()
            p("name", first)
            t(self.pick([" tolerated the procedure well.", " was seen today.", " reports better sleep.", " denies chest pain."]))
        elif k == 21:
            t(self.pick(["Mr.", "Mrs.", "Ms.", "Miss"]) + " ")
            p("name", self.last())
            t(self.pick([" was seen today.", " reports improvement.", " declined the vaccine.", " is here with family."]))
        elif k == 22:
            t(self.pick(["Spoke with", "Called", "Left a message for", "Met with"]) + " ")
            self.full_name(n)
            t(self.pick([", her son.", " about results.", ".", ", the caregiver."]))
        elif k == 23:
            t(self.pick(["Electronically signed by:", "Signed:", "Dictated by", "Attending:", "Cosigned by"]) + " ")
            self.full_name(n)
            t(self.pick([", MD", ", DO", ", NP", ", PA-C", ", RN", " MD"]) + " ")
            p("date", self.date())
            t(self.pick([" 14:22", " 09:05", "", " at 16:40"]) + ".")
        elif k == 24:
            t("Transferred from ")
            p("city", self.f.city())
            t(self.pick([" by ambulance.", " for higher level of care.", "."]))
        elif k == 25:
            t(self.pick(["Born in", "Grew up in", "Works in", "Travelled to"]) + " ")
            p("city", self.f.city())
            t(self.pick([".", ", " + self.f.state_abbr() + ".", " until 2010."]))
        elif k == 26:
            t("DOB ")
            p("date", self.date(self.f.date_of_birth(minimum_age=1, maximum_age=88)))
            t(", ")
            age = self.rng.randint(18, 89)
            t(f"{age} years old.")
        elif k == 27:
            t(self.pick(["Next appointment", "Return visit", "Scheduled for", "Recheck labs on"]) + " ")
            p("date", self.date())
            t(self.pick([" at 10:30.", ".", " with the same provider."]))
        elif k == 28:
            t("Emergency contact: ")
            self.full_name(n)
            t(", " + self.pick(["spouse", "daughter", "son", "friend"]) + ", ")
            p("phone", self.phone())
            t(".")
        elif k == 29:
            t("Home address on file: ")
            p("address", self.f.building_number() + " " + self.f.street_name())
            if self.chance(0.5):
                t(" ")
                p("address", self.f.secondary_address())
            t(self.pick([" in ", ", "]))
            p("city", self.f.city())
            t(".")
        elif k == 30:
            # Uncued full name in narrative.
            self.full_name(n)
            t(self.pick([" presented with cough.", " is followed for diabetes.", " arrived by EMS.", " was started on metformin."]))
        # ---- look-alikes that are not identifiers -------------------------------------------
        elif k == 31:
            t(self.pick(EPONYMS) + self.pick([" was diagnosed in 2015.", ", stable.", " is well controlled.", ", followed by neurology."]))
        elif k == 32:
            t(self.pick(MEDS) + f" {self.pick(['5', '10', '20', '40', '81', '500', '1000'])} mg " + self.pick(["daily", "BID", "TID", "q8h", "PRN", "at bedtime"]) + ".")
        elif k == 33:
            t(
                f"BP {self.rng.randint(95, 170)}/{self.rng.randint(55, 100)}, HR {self.rng.randint(50, 120)}, "
                f"RR {self.rng.randint(12, 24)}, T {self.rng.randint(96, 101)}.{self.rng.randint(0, 9)} F, SpO2 {self.rng.randint(88, 100)}%."
            )
        elif k == 34:
            t(f"Glucose {self.rng.randint(60, 300)} mg/dL (ref 70-99), creatinine 1.{self.rng.randint(0, 9)} (0.6-1.2), A1c {self.rng.randint(5, 11)}.{self.rng.randint(0, 9)}%.")
        elif k == 35:
            t(f"History of MI in {self.rng.randint(1975, 2024)}; CABG x{self.rng.randint(2, 4)} in {self.rng.randint(1975, 2024)}.")
        elif k == 36:
            t(f"{self.pick(['He', 'She'])} is {self.rng.randint(18, 89)} and works as a {self.f.job().lower()}.")
        elif k == 37:
            t(f"Strength {self.rng.randint(3, 5)}/5 in all extremities; {self.rng.randint(1, 3)}+ pitting edema; murmur grade {self.rng.randint(1, 4)}/6.")
        elif k == 38:
            t(f"Dx: {self.pick(ICD)}. Plan reviewed with the care team on {self.pick(['Ward 4', 'the ICU', '5 West', 'Cardiology'])}.")
        elif k == 39:
            t(f"Follow up in {self.rng.randint(1, 12)} {self.pick(['weeks', 'months', 'days'])}; repeat labs in {self.rng.randint(2, 6)} weeks.")
        elif k == 40:
            t(self.pick(PLAIN))
        elif k == 41:
            t(f"Room {self.rng.randint(100, 999)}, bed {self.pick(['A', 'B'])}. {self.pick(PLAIN)}")
        elif k == 42:
            t(f"Take {self.pick(['1/2', '1', '2'])} tab {self.pick(['q6h', 'daily', 'BID'])}; {self.rng.randint(1, 10)}/10 pain at rest.")
        elif k == 43:
            t(self.pick(["Mother", "Father", "Sister", "Brother"]) + " had " + self.pick(EPONYMS) + ".")
        elif k == 44:
            t(f"{self.pick(['Dose', 'Rate'])} {self.rng.randint(1, 12)}.{self.rng.randint(0, 9)} units/hr; WBC {self.rng.randint(3, 15)}.{self.rng.randint(0, 9)} K/uL, Hgb {self.rng.randint(8, 16)}.{self.rng.randint(0, 9)} g/dL.")
        elif k == 45:
            t(f"{self.pick(['In', 'Since', 'By'])} {self.rng.randint(1990, 2025)} {self.pick(['she quit smoking.', 'he retired.', 'the tremor worsened.'])}")
        elif k == 46:
            t(f"{self.pick(['Mild', 'Moderate', 'Severe'])} {self.pick(['aortic stenosis', 'mitral regurgitation', 'COPD', 'CKD stage 3'])}; EF {self.rng.randint(25, 65)}%.")
        else:
            t(self.pick(PLAIN))
        t(" ")

    def note(self, i):
        noisy = self.chance(0.2)
        n = Note(self.rng, noisy)
        if self.chance(0.55):
            self.header(n)
        title = self.pick(["HPI", "History of Present Illness", "Assessment and Plan", "Social History", "Progress Note", "Discharge Summary", "ED Note"])
        n.t(title + (":\n" if self.chance(0.7) else "\n"))
        for _ in range(self.rng.randint(8, 16)):
            self.sentence(n)
            if self.chance(0.2):
                n.t("\n")
        text, spans = n.build()
        return {"id": f"eval-{i:04d}", "text": text, "spans": spans}


EPONYMS = [
    "Parkinson's disease",
    "Alzheimer's dementia",
    "Hodgkin lymphoma",
    "Crohn's disease",
    "Cushing's syndrome",
    "Graves' disease",
    "Hashimoto's thyroiditis",
    "Bell's palsy",
    "Guillain-Barre syndrome",
    "Down syndrome",
    "Wilson's disease",
    "Addison's disease",
    "Raynaud's phenomenon",
    "Barrett's esophagus",
    "Meniere's disease",
    "Sjogren's syndrome",
    "Tourette syndrome",
    "Kaposi sarcoma",
    "Lou Gehrig's disease",
    "Huntington's disease",
    "a Foley catheter",
    "a positive Murphy's sign",
    "a Holter monitor",
    "a Whipple procedure",
    "Paget's disease",
    "Marfan syndrome",
    "Reiter's syndrome",
    "Tietze syndrome",
    "Dupuytren's contracture",
    "Osgood-Schlatter disease",
]
MEDS = ["Metformin", "Lisinopril", "Atorvastatin", "Aspirin", "Warfarin", "Apixaban", "Furosemide", "Levothyroxine", "Gabapentin", "Sertraline", "Amlodipine", "Prednisone"]
ICD = ["I10", "E11.9", "J44.1", "N18.3", "I48.91", "F32.A", "M54.5", "K21.9"]
PLAIN = [
    "No acute distress.",
    "Lungs clear to auscultation bilaterally.",
    "Abdomen soft, non-tender.",
    "Denies fever, chills or night sweats.",
    "Will continue to monitor.",
    "Patient verbalized understanding of the plan.",
    "Risks and benefits were discussed.",
    "Wound is clean, dry and intact.",
    "Ambulating with assistance.",
    "Tolerating a regular diet.",
    "Pain controlled on current regimen.",
    "Physical therapy to evaluate and treat.",
    "Chest X-ray: no infiltrate.",
    "EKG: normal sinus rhythm.",
    "Family at bedside.",
    "Code status: full code.",
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=7321)
    ap.add_argument("--notes", type=int, default=1000)
    args = ap.parse_args()
    g = Gen(args.seed)
    for i in range(args.notes):
        sys.stdout.write(json.dumps(g.note(i), ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
