#!/usr/bin/env python3
"""freetext_gen.py - writes the free-text test set of the detectors
(tests/data/freetext/sentences.txt): synthetic sentences in the styles of
clinical notes, every identifier in them marked {kind:text}, and
sentences that must come out unchanged (drug names, anatomy, eponyms,
measurements). Deterministic: the same seed writes the same file.

    python3 tests/tools/freetext_gen.py [--seed N] [--count N] > FILE

Everything here is made up for sluice: names, numbers, addresses and
hosts are invented (example.org, 555 numbers, documentation IP ranges).
"""
import argparse
import random

GIVEN = ["John", "Mary", "Robert", "Patricia", "Michael", "Linda", "David",
         "Barbara", "James", "Susan", "Maria", "Jose", "Carlos", "Ana",
         "Wei", "Mei", "Priya", "Rahul", "Fatima", "Ahmed", "Olga", "Ivan",
         "Jennifer", "Thomas", "Karen", "Daniel", "Nancy", "Kevin", "Helen",
         "Grace", "Mark", "Will", "Rose", "Joy", "Frank", "Dolores",
         "Augusta", "Ada", "Bernard", "Lucille", "Raymond", "Esther"]
SURNAME = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia",
           "Miller", "Davis", "Rodriguez", "Martinez", "Hernandez", "Lopez",
           "Wilson", "Anderson", "Taylor", "Moore", "Young", "King",
           "Nguyen", "Patel", "Kowalski", "Schneider", "Okafor", "Nakamura",
           "Lovelace", "Fitzgerald", "Baker", "Hill", "Green", "Walker",
           "Castillo", "Chen", "Goldberg", "Olsen", "Romano", "Sullivan"]
STREETS = ["Elm Street", "Oak Avenue", "Maple Drive", "Cedar Lane",
           "Lakeview Road", "Washington Blvd", "Pine Court", "Hillside Terrace"]
STATES = ["MA", "NY", "CA", "TX", "OH", "WA", "IL", "PA"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July",
          "August", "September", "October", "November", "December"]

# sentences that must survive untouched
SURVIVE = [
    "Parkinson disease, on carbidopa-levodopa 25/100 three times daily.",
    "History of Hodgkin lymphoma, in remission since chemotherapy.",
    "Babinski sign negative bilaterally; reflexes 2+ and symmetric.",
    "Graves disease treated with methimazole 10 mg daily.",
    "Crohn disease flare, started prednisone 40 mg.",
    "Alzheimer dementia, MMSE 18 of 30.",
    "Bell palsy on the left, improving.",
    "Foley catheter removed, voiding spontaneously.",
    "Glasgow Coma Scale 15, alert and oriented.",
    "Apgar scores 8 and 9 at one and five minutes.",
    "Metformin 500 mg twice daily with meals.",
    "Lisinopril 10 mg once daily for hypertension.",
    "Tylenol 650 mg every 6 hours as needed for pain.",
    "Continue Coumadin, INR goal 2 to 3.",
    "Atorvastatin 40 mg at bedtime.",
    "Stenosis of the left anterior descending artery.",
    "HbA1c 7.2%, eGFR 58, potassium 4.1.",
    "BP 128/82, HR 76, SpO2 97% on room air.",
    "Mark the incision site before surgery.",
    "Will follow up in 2 weeks.",
    "Brown sputum for three days, no fever.",
    "Young adult with asthma, uses albuterol as needed.",
    "White count 12.3, platelets 250,000.",
    "ICD-10 E11.9, type 2 diabetes without complications.",
    "CD4 count 350, viral load undetectable.",
    "Stage IIIA non-small cell lung cancer.",
    "Vitamin D 2000 IU daily and B12 injections monthly.",
    "Take 1/2 tablet at night.",
    "COVID-19 PCR negative.",
    "Ejection fraction 55%, no wall motion abnormality.",
    "Troponin 0.04, repeat in 6 hours.",
    "Cushing syndrome ruled out by dexamethasone suppression test.",
    "Kaposi sarcoma lesions on the lower extremities.",
    "Huntington disease in the family history.",
    "Raynaud phenomenon in both hands.",
    "Homans sign negative, calves soft.",
    "Romberg test positive.",
    "Hospital day 3, tolerating a regular diet.",
    "Grade 2 diastolic dysfunction.",
    "Hemoglobin 13.5 g/dL, MCV 88.",
    "LOINC 2345-7 glucose 104 mg/dL.",
    "Chest X-ray: no acute cardiopulmonary process.",
    "MRI brain without contrast: no acute infarct.",
    "Heparin drip at 18 units/kg/hr.",
    "Insulin glargine 20 units at bedtime.",
    "A 67-year-old with COPD, aged 45 at diagnosis.",
    "Down syndrome with atrioventricular septal defect repaired in infancy.",
    "Wilson disease on zinc acetate.",
    "Patient denies chest pain, shortness of breath or palpitations.",
    "Plan: CBC, BMP and lipid panel in 3 months.",
    "MR Brain without contrast, MS protocol.",
    "DR screening negative; metoprolol SR 50 mg.",
]


def name(r, form=None):
    g, s = r.choice(GIVEN), r.choice(SURNAME)
    form = form if form is not None else r.randrange(5)
    if form == 0:
        return g + " " + s
    if form == 1:
        return g + " " + r.choice("ABCDEFGHJKLMRST") + ". " + s
    if form == 2:
        return g[0] + ". " + s
    if form == 3:
        return s + ", " + g
    return g + " " + s


def date(r):
    y = r.randrange(1925, 2024)
    m = r.randrange(1, 13)
    d = r.randrange(1, 29)
    f = r.randrange(7)
    if f == 0:
        return "%04d-%02d-%02d" % (y, m, d)
    if f == 1:
        return "%02d/%02d/%04d" % (m, d, y)
    if f == 2:
        return "%d/%d/%04d" % (m, d, y)
    if f == 3:
        return "%02d.%02d.%04d" % (d, m, y)
    if f == 4:
        return "%s %d, %04d" % (MONTHS[m - 1], d, y)
    if f == 5:
        return "%d %s %04d" % (d, MONTHS[m - 1][:3], y)
    return "%s %04d" % (MONTHS[m - 1], y)


def phone(r):
    a, b, c = r.randrange(200, 990), 555, r.randrange(100, 200)
    f = r.randrange(5)
    if f == 0:
        return "(%03d) %03d-%04d" % (a, b, c)
    if f == 1:
        return "%03d-%03d-%04d" % (a, b, c)
    if f == 2:
        return "%03d.%03d.%04d" % (a, b, c)
    if f == 3:
        return "+1 %03d %03d %04d" % (a, b, c)
    return "+44 20 7946 %04d" % r.randrange(0, 1000)


def ssn(r):
    return "%03d-%02d-%04d" % (r.randrange(100, 900), r.randrange(10, 99),
                               r.randrange(1000, 9999))


def mrn(r):
    f = r.randrange(3)
    if f == 0:
        return "%08d" % r.randrange(10 ** 6, 10 ** 8)
    if f == 1:
        return "%s%07d" % (r.choice("ABKMX"), r.randrange(10 ** 6, 10 ** 7))
    return "%d" % r.randrange(100000, 999999)


def email(r):
    return "%s.%s@%s" % (r.choice(GIVEN).lower(), r.choice(SURNAME).lower(),
                         r.choice(["example.org", "mail.example.com",
                                   "example.net"]))


def url(r):
    return r.choice(["https://portal.example.org/patient/%d",
                     "http://www.example.com/chart?id=%d",
                     "www.example.net/records/%d"]) % r.randrange(1000, 99999)


def ip(r):
    return r.choice(["192.0.2.%d", "198.51.100.%d", "203.0.113.%d",
                     "10.20.30.%d"]) % r.randrange(1, 255)


def street(r):
    return "%d %s" % (r.randrange(1, 9999), r.choice(STREETS))


def zipc(r):
    return "%05d" % r.randrange(1000, 99950)


def age(r):
    return "%d" % r.randrange(90, 105)


def m(kind, text):
    return "{%s:%s}" % (kind, text)


# templates: a function of the generator returning a marked sentence
TEMPLATES = [
    lambda r: "Patient %s seen in clinic today for diabetes follow-up." % m("name", name(r, 0)),
    lambda r: "Seen by Dr. %s for chest pain." % m("name", r.choice(SURNAME)),
    lambda r: "Discussed with %s, RN, who agrees with the plan." % m("name", name(r)),
    lambda r: "Daughter %s at bedside, updated on the plan." % m("name", r.choice(GIVEN[:30])),
    lambda r: "Mr. %s reports worsening dyspnea." % m("name", r.choice(SURNAME)),
    lambda r: "Mrs. %s was started on metformin 500 mg." % m("name", name(r, 0)),
    lambda r: "%s presented with fever and cough." % m("name", name(r)),
    lambda r: "Referred to Dr. %s in cardiology." % m("name", name(r, r.randrange(3))),
    lambda r: "DOB %s." % m("date", date(r)),
    lambda r: "Date of birth: %s; admitted %s." % (m("date", date(r)), m("date", date(r))),
    lambda r: "Seen on %s, next visit %s." % (m("date", date(r)), m("date", date(r))),
    lambda r: "Last colonoscopy %s showed two polyps." % m("date", date(r)),
    lambda r: "Surgery on %s was uncomplicated." % m("date", date(r)),
    lambda r: "Call %s with any questions." % m("phone", phone(r)),
    lambda r: "Home phone %s, cell %s." % (m("phone", phone(r)), m("phone", phone(r))),
    lambda r: "Fax results to %s." % m("phone", phone(r)),
    lambda r: "SSN %s on file." % m("natid", ssn(r)),
    lambda r: "Social security number %s verified." % m("natid", ssn(r)),
    lambda r: "MRN: %s." % m("id", mrn(r)),
    lambda r: "MRN %s, admitted to 4 West." % m("id", mrn(r)),
    lambda r: "Account number %s billed." % m("id", mrn(r)),
    lambda r: "Medical record number %s." % m("id", mrn(r)),
    lambda r: "Email %s for the portal." % m("email", email(r)),
    lambda r: "Patient prefers contact at %s." % m("email", email(r)),
    lambda r: "Results at %s." % m("url", url(r)),
    lambda r: "Logged in from %s at 09:14." % m("ip", ip(r)),
    lambda r: "Lives at %s, Springfield, %s %s." % (m("address", street(r)), r.choice(STATES), m("zip", zipc(r))),
    lambda r: "Address: %s, ZIP %s." % (m("address", street(r)), m("zip", zipc(r))),
    lambda r: "A %s-year-old woman with hypertension." % m("age", age(r)),
    lambda r: "%s year old man, aged %s at admission." % (m("age", age(r)), m("age", age(r))),
    lambda r: "The patient is %s yo and lives alone." % m("age", age(r)),
    lambda r: "Dr. %s called %s at %s on %s." % (m("name", r.choice(SURNAME)), m("name", name(r, 0)), m("phone", phone(r)), m("date", date(r))),
    lambda r: "%s, MRN %s, DOB %s, seen by Dr. %s." % (m("name", name(r, 0)), m("id", mrn(r)), m("date", date(r)), m("name", r.choice(SURNAME))),
    lambda r: "Wife %s can be reached at %s." % (m("name", name(r, 0)), m("phone", phone(r))),
    lambda r: "Parkinson disease diagnosed on %s by Dr. %s." % (m("date", date(r)), m("name", r.choice(SURNAME))),
    lambda r: "Metformin 500 mg started %s; HbA1c 7.9." % m("date", date(r)),
    lambda r: "Hodgkin lymphoma, treated at age 19; %s is her oncologist." % m("name", name(r, 0)),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=10)
    ap.add_argument("--count", type=int, default=400)
    a = ap.parse_args()
    r = random.Random(a.seed)
    print("# free-text test set: made by tests/tools/freetext_gen.py "
          "--seed %d --count %d; do not edit" % (a.seed, a.count))
    print("# {kind:text} marks an identifier; everything else must survive")
    for i in range(a.count):
        if i % 4 == 3:
            print(SURVIVE[(i // 4) % len(SURVIVE)])
        else:
            print(r.choice(TEMPLATES)(r))


if __name__ == "__main__":
    main()
