//! Places: street addresses (a house number, a street name and any USPS street suffix, with
//! directions and unit forms), PO boxes, cities (after an address, before a state, after words
//! that say where, or in the US places dictionary) and ZIP codes.

use crate::lexicon;
use crate::patterns::re;
use crate::{Category, Span};
use regex::Regex;
use std::sync::LazyLock;

pub(crate) const STATES: &str = "AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|PR|GU|VI|AS|MP|FM|MH|PW|AA|AE|AP";
const STATE_NAMES: &str = "Alabama|Alaska|Arizona|Arkansas|California|Colorado|Connecticut|Delaware|Florida|Georgia|Hawaii|Idaho|Illinois|Indiana|Iowa|Kansas|Kentucky|Louisiana|Maine|Maryland|Massachusetts|Michigan|Minnesota|Mississippi|Missouri|Montana|Nebraska|Nevada|New Hampshire|New Jersey|New Mexico|New York|North Carolina|North Dakota|Ohio|Oklahoma|Oregon|Pennsylvania|Rhode Island|South Carolina|South Dakota|Tennessee|Texas|Utah|Vermont|Virginia|Washington|West Virginia|Wisconsin|Wyoming|Puerto Rico";

/// The street suffixes of USPS Publication 28 (appendix C1), names and standard abbreviations.
const SUFFIXES: &str = "Alley|Aly|Annex|Anx|Arcade|Arc|Avenue|Ave|Av|Bayou|Byu|Beach|Bch|Bend|Bnd|Bluffs?|Blfs?|Bottom|Btm|Boulevard|Blvd|Branch|Br|Bridge|Brg|Brooks?|Brks?|Burgs?|Bgs?|Bypass|Byp|Camp|Cp|Canyon|Cyn|Cape|Cpe|Causeway|Cswy|Centers?|Ctrs?|Ctr|Circles?|Cirs?|Cliffs?|Clfs?|Club|Clb|Commons?|Cmns?|Corners?|Cors?|Course|Crse|Courts?|Cts?|Coves?|Cvs?|Creek|Crk|Crescent|Cres|Crest|Crst|Crossing|Xing|Crossroads?|Xrds?|Curve|Curv|Dale|Dl|Dam|Dm|Divide|Dv|Drives?|Drs?|Estates?|Ests?|Expressway|Expy|Extensions?|Exts?|Falls?|Fls|Ferry|Fry|Fields?|Flds?|Flats?|Flts?|Fords?|Frds?|Forest|Frst|Forges?|Frgs?|Forks?|Frks?|Fort|Ft|Freeway|Fwy|Gardens?|Gdns?|Gateway|Gtwy|Glens?|Glns?|Greens?|Grns?|Groves?|Grvs?|Harbors?|Hbrs?|Haven|Hvn|Heights|Hts|Highway|Hwy|Hills?|Hls?|Hollow|Holw|Inlet|Inlt|Islands?|Iss?|Isle|Junctions?|Jcts?|Keys?|Kys?|Knolls?|Knls?|Lakes?|Lks?|Land|Landing|Lndg|Lane|Ln|Lights?|Lgts?|Loaf|Lf|Locks?|Lcks?|Lodge|Ldg|Loop|Mall|Manors?|Mnrs?|Meadows?|Mdws?|Mews|Mills?|Mls?|Mission|Msn|Motorway|Mtwy|Mount|Mt|Mountains?|Mtns?|Neck|Nck|Orchard|Orch|Oval|Overpass|Opas|Parks?|Parkways?|Pkwys?|Pass|Passage|Psge|Path|Pike|Pines?|Pnes?|Place|Pl|Plains?|Plns?|Plaza|Plz|Points?|Pts?|Ports?|Prts?|Prairie|Pr|Radial|Radl|Ramp|Ranch|Rnch|Rapids?|Rpds?|Rest|Rst|Ridges?|Rdgs?|River|Riv|Roads?|Rds?|Route|Rte|Row|Rue|Run|Shoals?|Shls?|Shores?|Shrs?|Skyway|Skwy|Springs?|Spgs?|Spurs?|Squares?|Sqs?|Station|Sta|Stravenue|Stra|Stream|Strm|Streets?|Sts?|Summit|Smt|Terrace|Ter|Throughway|Trwy|Trace|Trce|Track|Trak|Trafficway|Trfy|Trail|Trl|Trailer|Trlr|Tunnel|Tunl|Turnpike|Tpke|Underpass|Upas|Unions?|Uns?|Valleys?|Vlys?|Viaduct|Via|Views?|Vws?|Villages?|Vlgs?|Ville|Vl|Vista|Vis|Walks?|Wall|Ways?|Wells?|Wls?";
const DIRECTION: &str = r"(?:N|S|E|W|NE|NW|SE|SW|North|South|East|West|Northeast|Northwest|Southeast|Southwest)\.?";
/// A word of a street or place name; OCR may have turned a letter into a digit ("Sh0al").
const WORD: &str = r"(?:[A-Z][A-Za-z0-9'’.-]*[A-Za-z0-9]|[A-Z])";
const UNIT: &str = r"(?i:apt|apartment|suite|ste|unit|bldg|building|fl|floor|rm|room|dept|lot|trlr|trailer|spc|space|ofc|office|box|no)\.?\s*#?\s*[A-Za-z]?\d[A-Za-z0-9-]*|#\s*[A-Za-z]?\d[A-Za-z0-9-]*";

/// Suffixes as written in an address: Title case or capitals ("Street", "ST", "Burgs").
fn suffixes() -> String {
    SUFFIXES.split('|').flat_map(|s| [s.to_string(), s.to_uppercase()]).collect::<Vec<_>>().join("|")
}

static STREET: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"\b\d{{1,6}}[A-Za-z]?(?:-\d{{1,5}})?[ \t]+(?:{DIRECTION}[ \t]+)?(?:(?:{WORD}|\d{{1,3}}(?:st|nd|rd|th|ST|ND|RD|TH))[ \t]+){{1,4}}(?:{})\b\.?(?:[ \t]+{DIRECTION}(?:[ \t]|,|$))?(?:,?[ \t]+(?:{UNIT}))?",
        suffixes()
    ))
});
/// A street without a number after a word that says it is where someone lives.
static STREET_CONTEXT: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"\b(?i:lives on|lives at|living on|resides on|resides at|moved to|address is|home on)\s+((?:{WORD}[ \t]+){{1,3}}(?:{})\b\.?)",
        suffixes()
    ))
});
/// A unit alone ("Apt. 164", "Suite 625"), as part of an address written in pieces.
static UNIT_ALONE: LazyLock<Regex> = LazyLock::new(|| re(r"\b(?:Apt|APT|Apartment|APARTMENT|Suite|SUITE|Ste|STE)\.?\s*#?\s*[A-Za-z]?\d+[A-Za-z]?\b"));
static ZIP_STATE: LazyLock<Regex> = LazyLock::new(|| re(&format!(r"\b(?:{STATES}|{STATE_NAMES}),?\s+(\d{{5}}(?:-\d{{4}})?)\b")));
static ZIP_LABEL: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)\b(?:zip(?:\s*code)?|postal code)\s*[:#]?\s*(\d{5}(?:-\d{4})?)\b"));
static PO_BOX: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)\b(?:P\.?\s?O\.?\s*Box|Post Office Box)\s+\d+\b"));

/// A place name of one to three words.
const PLACE: &str = r"(?:(?:Lake|Port|North|South|East|West|New|Fort|Ft\.|Mount|Mt\.|Saint|St\.|San|Santa|Los|Las|El|La|Grand|Glen|Palm|Bay|Cedar|Spring|Oak|Green)[ \t]+)?[A-Z][A-Za-z'’.-]*[a-z](?:[ -][A-Z][A-Za-z'’.-]*[a-z]){0,2}|[A-Z][A-Z'’.-]*[A-Z](?:[ -][A-Z][A-Z'’.-]*[A-Z]){0,2}";
/// Right after a street address: ", Lake Lindaport", " in Schultzhaven", or on the next line.
static AFTER_STREET: LazyLock<Regex> =
    LazyLock::new(|| re(&format!(r"^(,\s*|\s+in\s+|\s*\n\s*)({PLACE})(,?\s+(?:{STATES}|{STATE_NAMES})\b|\s+\d{{5}}\b)?")));
static CITY_STATE: LazyLock<Regex> =
    LazyLock::new(|| re(&format!(r"\b({PLACE}),\s*(?:{STATES}|{STATE_NAMES})\b(?:\s+\d{{5}}(?:-\d{{4}})?|[.,;)]|\s*$|\s*\n)")));
/// "Phoenix, Arizona": a full state name needs nothing after it.
static CITY_STATE_NAME: LazyLock<Regex> = LazyLock::new(|| re(&format!(r"\b({PLACE}),\s*(?:{STATE_NAMES})\b")));
/// Words that say a place follows; the strong ones need no other sign that it is a city.
static CITY_CONTEXT: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"\b(?i:(lives in|living in|resides in|resident of|moved (?:here )?(?:from|to)|born in|grew up in|raised in|works in|working in|transferred (?:here )?from|transferred to|transfer from|relocated (?:from|to)|travell?ed to|trip to|visiting from|city of|town of|village of|hometown(?: of| is)?)|(from|in|to|near|outside|at|of))\s+({PLACE})"
    ))
});
/// Endings of US place names ("Kramerville", "Walkertown", "Christopherhaven").
const PLACE_ENDINGS: &[&str] = &[
    "ville", "ton", "town", "burg", "burgh", "borough", "boro", "port", "field", "ford", "haven", "land", "wood", "dale", "mouth", "stad", "berg",
    "bury", "chester", "fort", "side", "view", "shire", "furt", "mont", "ridge", "crest", "springs", "falls", "heights", "beach", "bridge", "brook",
    "hurst", "worth", "ham", "ley", "ington", "polis", "ia",
];
/// Words that follow an address or a preposition and are no place.
const NOT_PLACES: &[&str] = &[
    "Phone",
    "Tel",
    "Fax",
    "Cell",
    "Home",
    "Work",
    "Email",
    "Apt",
    "Suite",
    "Unit",
    "MRN",
    "DOB",
    "Insurance",
    "Member",
    "Patient",
    "The",
    "His",
    "Her",
    "Their",
    "This",
    "That",
    "Date",
    "Room",
    "Clinic",
    "Hospital",
    "Emergency",
    "Department",
    "Dr",
    "Mr",
    "Mrs",
    "Ms",
    "January",
    "February",
    "March",
    "April",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
    "ICU",
    "ED",
    "ER",
    "OR",
    "PACU",
    "NICU",
    "MICU",
    "SICU",
    "CCU",
    "CVICU",
    "PICU",
    "TICU",
    "SNF",
    "LTAC",
    "ECF",
    "EMS",
];

fn is_city_like(name: &str) -> bool {
    let last = name.rsplit([' ', '-']).next().unwrap_or(name).to_ascii_lowercase();
    lexicon::is_place(name) || PLACE_ENDINGS.iter().any(|e| last.len() > e.len() + 2 && last.ends_with(e))
}

fn rejected(name: &str) -> bool {
    let first = name.split([' ', '-']).next().unwrap_or(name);
    NOT_PLACES.iter().any(|w| w.eq_ignore_ascii_case(first) || w.eq_ignore_ascii_case(name))
}

/// Streets, units, PO boxes, and the cities right after a street.
pub(crate) fn detect_addresses(text: &str) -> Vec<Span> {
    let mut out = vec![];
    let span = |s, e, category| Span { start: s, end: e, category };
    for m in STREET.find_iter(text) {
        out.push(span(m.start(), m.end(), Category::Address));
        if let Some(c) = AFTER_STREET.captures(&text[m.end()..]) {
            let (sep, place) = (c.get(1).expect("always"), c.get(2).expect("always"));
            // On the next line, a city needs its state or ZIP after it ("Phone: ..." is not one).
            let confirmed = !sep.as_str().contains('\n') || c.get(3).is_some();
            if confirmed && !rejected(place.as_str()) && !lexicon::is_common(place.as_str()) {
                out.push(span(m.end() + place.start(), m.end() + place.end(), Category::City));
            }
        }
    }
    for c in STREET_CONTEXT.captures_iter(text) {
        let m = c.get(1).expect("always");
        out.push(span(m.start(), m.end(), Category::Address));
    }
    for r in [&*UNIT_ALONE, &*PO_BOX] {
        for m in r.find_iter(text) {
            out.push(span(m.start(), m.end(), Category::Address));
        }
    }
    for r in [&*ZIP_STATE, &*ZIP_LABEL] {
        for c in r.captures_iter(text) {
            let m = c.get(1).expect("always");
            out.push(span(m.start(), m.end(), Category::Zip));
        }
    }
    out
}

/// Cities: before a state, after a word that says where, or in the places dictionary.
pub(crate) fn detect_cities(text: &str) -> Vec<Span> {
    let mut out = vec![];
    let span = |s, e| Span { start: s, end: e, category: Category::City };
    for c in CITY_STATE.captures_iter(text).chain(CITY_STATE_NAME.captures_iter(text)) {
        let m = c.get(1).expect("always");
        if !rejected(m.as_str()) {
            out.push(span(m.start(), m.end()));
        }
    }
    for c in CITY_CONTEXT.captures_iter(text) {
        let m = c.get(3).expect("always");
        let name = m.as_str();
        if rejected(name) {
            continue;
        }
        let strong = c.get(1).is_some();
        let common = lexicon::is_common(name);
        let ok = if strong { !common || lexicon::is_place(name) && name.contains(' ') } else { !common && is_city_like(name) };
        if ok {
            out.push(span(m.start(), m.end()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::tests::only;
    use crate::Category::*;

    #[test]
    fn streets_with_any_usps_suffix_and_units() {
        assert_eq!(only("lives at 28186 Fitzgerald Burgs Apt. 164, Lake Lindaport, MA", Address), vec!["28186 Fitzgerald Burgs Apt. 164"]);
        assert_eq!(only("lives at 28186 Fitzgerald Burgs Apt. 164, Lake Lindaport, MA", City), vec!["Lake Lindaport"]);
        assert_eq!(only("resides at 4205 Simpson Turnpike Apt. 406 in Schultzhaven.", City), vec!["Schultzhaven"]);
        assert_eq!(only("ADDRESS: 07651 TROY SHOAL SUITE 137\n   South Jerry, NM 25775", Address), vec!["07651 TROY SHOAL SUITE 137"]);
        assert_eq!(only("ADDRESS: 07651 TROY SHOAL SUITE 137\n   South Jerry, NM 25775", City), vec!["South Jerry"]);
        assert_eq!(only("Address: 12 Elm Street\nPhone: 555", City), Vec::<String>::new());
        assert_eq!(only("at 9786 Timothy Summit Suite 625 today", Address), vec!["9786 Timothy Summit Suite 625"]);
    }

    #[test]
    fn cities_by_context_and_dictionary() {
        assert_eq!(only("Transferred from Kramerville by ambulance.", City), vec!["Kramerville"]);
        assert_eq!(only("Born in Port Christopher.", City), vec!["Port Christopher"]);
        assert_eq!(only("She works in Springfield now.", City), vec!["Springfield"]);
        assert_eq!(only("She flew in from Phoenix, Arizona on Monday.", City), vec!["Phoenix"]);
        assert_eq!(only("Transferred from Cardiology to the ward.", City), Vec::<String>::new());
        assert_eq!(only("Improved in Parkinson's clinic.", City), Vec::<String>::new());
    }
}
