//! A labelled synthetic corpus: clinical notes built from templates with every identifier's
//! position and category recorded, for measuring precision and recall per category and for
//! benchmarks. Deterministic for a seed. Its names, streets and cities are partly outside the
//! detectors' dictionaries, so context rules are measured too.

use crate::Category;

/// A note and the identifiers in it (byte offsets).
#[derive(Debug, Clone)]
pub struct LabelledNote {
    pub text: String,
    pub gold: Vec<(usize, usize, Category)>,
}

/// SplitMix64: small, fast, and good enough to vary templates.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
    fn digits(&mut self, n: usize) -> String {
        (0..n).map(|_| (b'0' + self.below(10) as u8) as char).collect()
    }
    fn letters(&mut self, n: usize) -> String {
        (0..n).map(|_| (b'A' + self.below(26) as u8) as char).collect()
    }
}

const GIVEN: &[&str] = &[
    "Maria",
    "James",
    "Linda",
    "Robert",
    "Priya",
    "Wei",
    "Fatima",
    "Carlos",
    "Olga",
    "Kwame",
    "Tomasz",
    "Brygida",
    "Siobhan",
    "Oluwaseun",
    "Anneliese",
    "Thandiwe",
    "Raimundo",
    "Ingrid",
    "Yusuf",
    "Marisol",
    "Elena",
    "Dmitri",
    "Nadia",
    "Hamid",
];
const FAMILY: &[&str] = &[
    "Gonzalez",
    "Nguyen",
    "Okafor",
    "Patel",
    "Kowalski",
    "Chen",
    "Hernandez",
    "Sullivan",
    "Zelinsky",
    "Quarles",
    "Vasquez-Lo",
    "Abara",
    "Thorvaldsen",
    "Mbeki",
    "Castellanos",
    "Haddad",
    "Lindgren",
    "O'Shea",
    "Takahashi",
    "Rasmussen",
    "Adeyemi",
    "Whitfield",
];
const STREETS: &[&str] = &["Elm", "Harbor View", "Old Mill", "Juniper", "Cortland", "Beacon", "Wexford", "Martin Luther King"];
const SUFFIX: &[&str] = &["Street", "St", "Avenue", "Ave", "Road", "Rd", "Lane", "Drive", "Blvd", "Court"];
const CITIES: &[(&str, &str)] = &[
    ("Springfield", "MA"),
    ("Boston", "MA"),
    ("Quincy", "MA"),
    ("Marblehead", "MA"),
    ("Albany", "NY"),
    ("Yonkers", "NY"),
    ("Chicago", "IL"),
    ("Naperville", "IL"),
    ("Austin", "TX"),
    ("Lubbock", "TX"),
    ("Tacoma", "WA"),
    ("Bellingham", "WA"),
];
const MONTHS: &[&str] = &["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
const CLINICAL: &[&str] = &[
    "Assessment: stable angina, well controlled on current therapy.",
    "Plan: continue metoprolol 25 mg twice daily and recheck lipids in 3 months.",
    "Review of systems negative for fever, chills or weight loss.",
    "Vitals: BP 128/82, HR 74, SpO2 97% on room air.",
    "Hemoglobin A1c 7.2%, up from 6.8% at the previous visit.",
    "Lungs clear to auscultation bilaterally; no murmurs.",
    "Diet and exercise counselling provided; questions answered.",
    "MRI of the lumbar spine shows mild degenerative disc disease at L4-L5.",
];

struct Builder {
    text: String,
    gold: Vec<(usize, usize, Category)>,
}

impl Builder {
    fn t(&mut self, s: &str) -> &mut Self {
        self.text.push_str(s);
        self
    }
    fn phi(&mut self, s: &str, c: Category) -> &mut Self {
        let start = self.text.len();
        self.text.push_str(s);
        self.gold.push((start, self.text.len(), c));
        self
    }
}

fn date(r: &mut Rng) -> String {
    let (y, m, d) = (2015 + r.below(10), 1 + r.below(12), 1 + r.below(28));
    match r.below(5) {
        0 => format!("{m}/{d}/{y}"),
        1 => format!("{m:02}/{d:02}/{y}"),
        2 => format!("{y}-{m:02}-{d:02}"),
        3 => format!("{} {d}, {y}", MONTHS[(m - 1) as usize]),
        _ => format!("{d} {} {y}", MONTHS[(m - 1) as usize]),
    }
}

fn phone(r: &mut Rng) -> String {
    let (a, b, c) = (200 + r.below(700), r.digits(3), r.digits(4));
    match r.below(3) {
        0 => format!("({a}) {b}-{c}"),
        1 => format!("{a}-{b}-{c}"),
        _ => format!("{a}.{b}.{c}"),
    }
}

/// One note of roughly `target` bytes.
pub fn note(r: &mut Rng, target: usize) -> LabelledNote {
    let mut b = Builder { text: String::new(), gold: Vec::new() };
    let (given, family) = (r.pick(GIVEN), r.pick(FAMILY));
    let (city, state) = CITIES[r.below(CITIES.len() as u64) as usize];
    let doctor = r.pick(FAMILY);
    b.t("Patient: ").phi(&format!("{given} {family}"), Category::Name).t("\n");
    b.t("MRN: ").phi(&r.digits(8), Category::Mrn).t("   DOB: ").phi(&date(r), Category::Date).t("\n");
    b.t("Address: ").phi(&format!("{} {} {}", 1 + r.below(9000), r.pick(STREETS), r.pick(SUFFIX)), Category::Address).t(", ");
    b.t("").phi(city, Category::City).t(&format!(", {state} ")).phi(&format!("{:05}", 1000 + r.below(98000)), Category::Zip).t("\n");
    b.t("Phone: ").phi(&phone(r), Category::Phone).t("  Fax: ").phi(&phone(r), Category::Fax).t("\n\n");
    let mut i = 0;
    while b.text.len() < target {
        match (i + r.below(19)) % 19 {
            0 => {
                b.phi(given, Category::Name).t(" is a ");
                // Only ages over 89 are identifiers.
                if r.below(3) == 0 {
                    b.phi(&(90 + r.below(15)).to_string(), Category::Age);
                } else {
                    b.t(&(40 + r.below(40)).to_string());
                }
                b.t("-year-old seen on ").phi(&date(r), Category::Date).t(". ")
            }
            1 => b.t("Seen with Dr. ").phi(doctor, Category::Name).t(" in clinic. "),
            2 => b.t("Mr. ").phi(family, Category::Name).t(" reports improved sleep. "),
            3 => b
                .t("Contact email ")
                .phi(&format!("{}.{}@mail.example.com", given.to_lowercase(), r.digits(3)), Category::Email)
                .t("; portal ")
                .phi(&format!("https://portal.example.org/p/{}", r.digits(6)), Category::Url)
                .t(". "),
            4 => b.t("SSN ").phi(&format!("{}-{}-{}", 100 + r.below(500), 10 + r.below(89), 1000 + r.below(8999)), Category::Ssn).t(" on file. "),
            5 => b
                .t("Member ID: ")
                .phi(&format!("{}{}", r.letters(3), r.digits(7)), Category::HealthPlan)
                .t(", account number ")
                .phi(&r.digits(9), Category::Account)
                .t(". "),
            6 => b.t("Driver's license ").phi(&format!("{}{}", r.letters(1), r.digits(7)), Category::License).t(" verified. "),
            7 => b.t("Pacemaker serial ").phi(&format!("PM-{}-{}", r.digits(5), r.letters(1)), Category::Device).t(" interrogated. "),
            8 => b
                .t("Vehicle VIN ")
                .phi(&format!("1{}{}", r.letters(4).replace(['I', 'O', 'Q'], "X"), r.digits(12)), Category::Vehicle)
                .t(" noted after the accident. "),
            9 => b.t("Remote session from ").phi(&format!("10.{}.{}.{}", r.below(255), r.below(255), 1 + r.below(250)), Category::Ip).t(". "),
            10 => b.t("Claim number ").phi(&format!("CLM{}-{}", r.digits(4), r.digits(4)), Category::OtherId).t(" submitted. "),
            11 => b.t("Her daughter ").phi(r.pick(GIVEN), Category::Name).t(" will drive her home. "),
            12 => b.t("Follow-up on ").phi(&date(r), Category::Date).t(" at the ").phi(city, Category::City).t(" clinic. "),
            // Harder forms: no title or label, digits without separators, a street without
            // a number, a city in running text.
            13 => b.t("Spoke by phone with ").phi(&format!("{} {}", r.pick(GIVEN), r.pick(FAMILY)), Category::Name).t(", a neighbour. "),
            14 => b.t("Tel ").phi(&format!("{}{}", 200 + r.below(700), r.digits(7)), Category::Phone).t(" (mobile). "),
            15 => {
                let (c, _) = CITIES[r.below(CITIES.len() as u64) as usize];
                b.t("Transferred from ").phi(c, Category::City).t(" General Hospital. ")
            }
            16 => b.t("She lives on ").phi(&format!("{} {}", r.pick(STREETS), r.pick(SUFFIX)), Category::Address).t(" with her sister. "),
            17 => b.t("Next visit on the ").phi(&format!("{}th of {}", 4 + r.below(20), MONTHS[r.below(12) as usize]), Category::Date).t(". "),
            _ => b.t(r.pick(CLINICAL)).t(" "),
        };
        i += 1;
        if i % 4 == 0 {
            b.t("\n");
        }
    }
    b.t("\nElectronically signed: ").phi(&format!("{} {}", r.pick(GIVEN), doctor), Category::Name).t(", MD\n");
    LabelledNote { text: b.text, gold: b.gold }
}

/// Per-category counts of a detector run against the gold labels.
/// Counts per category, as for any corpus (`eval`).
pub use crate::eval::Score;

/// Scores `detect` on `notes`, per category.
pub fn score(notes: &[LabelledNote]) -> std::collections::BTreeMap<Category, Score> {
    let mut out: std::collections::BTreeMap<Category, Score> = std::collections::BTreeMap::new();
    for n in notes {
        let found = crate::detect(&n.text);
        for &(s, e, c) in &n.gold {
            let sc = out.entry(c).or_default();
            sc.gold += 1;
            // Covered when every non-space byte of the gold span is inside some detected span.
            let covered = (s..e).all(|i| n.text.as_bytes()[i] == b' ' || found.iter().any(|f| f.start <= i && i < f.end));
            sc.found += covered as u64;
        }
        for f in &found {
            let sc = out.entry(f.category).or_default();
            sc.predicted += 1;
            sc.correct += n.gold.iter().any(|&(s, e, _)| f.start < e && s < f.end) as u64;
        }
    }
    out
}
