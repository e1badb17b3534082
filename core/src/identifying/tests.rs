//! The detector's table: each row is a letter's text and every stretch the
//! detector must flag in it, for one case's protected terms. Rows with
//! nothing to flag are the everyday sentences it must leave alone.

use super::Rule::{
    EmailAddress, FullName, PhoneNumber, Postcode, SchoolName, SocialMedia, StreetAddress, WebLink,
};
use super::{Detector, ProtectedTerm, Rule, TermKind};

const TERM: Rule = Rule::ProtectedTerm;
const NEAR: Rule = Rule::NearProtectedTerm;

fn case_terms() -> Vec<ProtectedTerm> {
    let term = |kind, text: &str| ProtectedTerm {
        kind,
        text: text.to_owned(),
    };
    vec![
        term(TermKind::Surname, "Baker"),
        term(TermKind::FirstName, "Amelia"),
        term(TermKind::School, "Oakfield Primary School"),
        term(TermKind::Town, "Reading"),
        term(TermKind::Club, "Tiger Cubs"),
        term(TermKind::FirstName, "Zoë"),
        term(TermKind::Surname, "Pemberton"),
        term(TermKind::Surname, "Carter"),
    ]
}

const TABLE: &[(&str, &[(Rule, &str)])] = &[
    // Protected terms, in any case and without accents.
    ("We hope Baker is well.", &[(TERM, "Baker")]),
    ("BAKER FAMILY", &[(TERM, "BAKER")]),
    ("say hi to amelia from me", &[(TERM, "amelia")]),
    ("Zoe loves her new bike", &[(TERM, "Zoe")]),
    ("HAPPY BIRTHDAY ZOË", &[(TERM, "ZOË")]),
    ("We moved near Reading last year", &[(TERM, "Reading")]),
    (
        "Good luck at Tiger Cubs on Saturday",
        &[(TERM, "Tiger Cubs")],
    ),
    ("the tiger cubs trophy", &[]),
    ("Is that the Baker's dog?", &[(TERM, "Baker")]),
    ("She loves oakfield", &[(TERM, "oakfield")]),
    (
        "Oakfield Primary School had a fair",
        &[
            (TERM, "Oakfield Primary School"),
            (SchoolName, "Oakfield Primary School"),
        ],
    ),
    // One edit from a term of five letters or more.
    ("Is that the Pembertons' dog?", &[(NEAR, "Pembertons")]),
    ("say hello to Pemberten", &[(NEAR, "Pemberten")]),
    ("and Pmeberton too", &[(NEAR, "Pmeberton")]),
    ("the Bakr family", &[(NEAR, "Bakr")]),
    ("we like Reeding", &[(NEAR, "Reeding")]),
    ("her friends at Oakfeild", &[(NEAR, "Oakfeild")]),
    ("Tigre Cubs on Friday", &[(NEAR, "Tigre Cubs")]),
    // Full names ending in a protected surname.
    (
        "I hope Amelia Baker likes it",
        &[
            (TERM, "Amelia"),
            (FullName, "Amelia Baker"),
            (TERM, "Baker"),
        ],
    ),
    (
        "Give my love to Mrs Baker",
        &[(FullName, "Mrs Baker"), (TERM, "Baker")],
    ),
    (
        "Thank Jack baker for the photos",
        &[(FullName, "Jack baker"), (TERM, "baker")],
    ),
    (
        "Dr Baker said so",
        &[(FullName, "Dr Baker"), (TERM, "Baker")],
    ),
    (
        "ask Mr. Pemberton",
        &[(FullName, "Mr. Pemberton"), (TERM, "Pemberton")],
    ),
    (
        "to Amelia Rose Baker",
        &[
            (TERM, "Amelia"),
            (FullName, "Amelia Rose Baker"),
            (TERM, "Baker"),
        ],
    ),
    (
        "love to Smith-Baker",
        &[(FullName, "Smith-Baker"), (TERM, "Baker")],
    ),
    ("auntie bakr", &[(FullName, "auntie bakr"), (NEAR, "bakr")]),
    // Postcodes.
    ("We live at RG1 2AB now", &[(Postcode, "RG1 2AB")]),
    ("post it to rg1 2ab", &[(Postcode, "rg1 2ab")]),
    ("SW1A1AA", &[(Postcode, "SW1A1AA")]),
    ("near CF10 3AT.", &[(Postcode, "CF10 3AT")]),
    ("M1 1AE", &[(Postcode, "M1 1AE")]),
    // Addresses in lower case or with "The".
    (
        "we live at 12 elm road now",
        &[(StreetAddress, "12 elm road")],
    ),
    ("at 4 The Crescent", &[(StreetAddress, "4 The Crescent")]),
    ("7 The Green", &[(StreetAddress, "7 The Green")]),
    // Phone numbers.
    (
        "ring 07700 900123 any time",
        &[(PhoneNumber, "07700 900123")],
    ),
    ("or +44 7700 900123", &[(PhoneNumber, "+44 7700 900123")]),
    ("home (0118) 496 0000", &[(PhoneNumber, "(0118) 496 0000")]),
    (
        "+44 (0)20 7946 0000",
        &[(PhoneNumber, "+44 (0)20 7946 0000")],
    ),
    ("020-7946-0000", &[(PhoneNumber, "020-7946-0000")]),
    (
        "Call 01632 960983 after tea",
        &[(PhoneNumber, "01632 960983")],
    ),
    ("07700900123", &[(PhoneNumber, "07700900123")]),
    ("Tel:07700 900123", &[(PhoneNumber, "07700 900123")]),
    ("0044 7700 900123", &[(PhoneNumber, "0044 7700 900123")]),
    // Email, links and social media.
    (
        "email jo.bloggs@example.co.uk please",
        &[(EmailAddress, "jo.bloggs@example.co.uk")],
    ),
    (
        "see https://example.org/family!",
        &[(WebLink, "https://example.org/family")],
    ),
    (
        "photos at www.example.com/photos.",
        &[(WebLink, "www.example.com/photos")],
    ),
    (
        "our page example.co.uk/news",
        &[(WebLink, "example.co.uk/news")],
    ),
    ("follow @jess_99 for pictures", &[(SocialMedia, "@jess_99")]),
    ("my snap is jess_99", &[(SocialMedia, "snap is jess_99")]),
    (
        "Add me on Snapchat: Jessie",
        &[(SocialMedia, "Snapchat: Jessie")],
    ),
    (
        "my Roblox username is Blaze_99",
        &[(SocialMedia, "Roblox username is Blaze_99")],
    ),
    // Street addresses.
    ("at 12 Elm Grove", &[(StreetAddress, "12 Elm Grove")]),
    ("We live on Elm Road now", &[(StreetAddress, "Elm Road")]),
    (
        "Flat 3, 45 Station Road",
        &[(StreetAddress, "45 Station Road")],
    ),
    ("7b Church Lane", &[(StreetAddress, "7b Church Lane")]),
    (
        "they moved to 10 High Street",
        &[(StreetAddress, "10 High Street")],
    ),
    (
        "They live in Heol y Bont",
        &[(StreetAddress, "Heol y Bont")],
    ),
    (
        "past Willow Crescent",
        &[(StreetAddress, "Willow Crescent")],
    ),
    // Schools, in English and Welsh.
    (
        "at St Mary's Catholic Primary School",
        &[(SchoolName, "St Mary's Catholic Primary School")],
    ),
    (
        "She started at Westfield Academy",
        &[(SchoolName, "Westfield Academy")],
    ),
    (
        "she goes to Little Acorns Pre-School",
        &[(SchoolName, "Little Acorns Pre-School")],
    ),
    (
        "Riverside Community College",
        &[(SchoolName, "Riverside Community College")],
    ),
    (
        "in Ysgol Gynradd Pen y Bryn",
        &[(SchoolName, "Ysgol Gynradd Pen y Bryn")],
    ),
    (
        "mae hi yn Ysgol Glan Ceubal",
        &[(SchoolName, "Ysgol Glan Ceubal")],
    ),
    (
        "Hillside junior school",
        &[(SchoolName, "Hillside junior school")],
    ),
    // Several at once.
    (
        "Write to 14 Oak Avenue, Reading RG4 7AB",
        &[
            (StreetAddress, "14 Oak Avenue"),
            (TERM, "Reading"),
            (Postcode, "RG4 7AB"),
        ],
    ),
    // Invisible characters inside a word or number.
    ("Love to Car\u{200B}ter", &[(TERM, "Car\u{200B}ter")]),
    ("Ba\u{AD}ker family", &[(TERM, "Ba\u{AD}ker")]),
    (
        "hi Am\u{200C}el\u{200D}ia",
        &[(TERM, "Am\u{200C}el\u{200D}ia")],
    ),
    ("\u{FEFF}Carter\u{2060}!", &[(TERM, "Carter")]),
    ("Pember\u{200B}ten", &[(NEAR, "Pember\u{200B}ten")]),
    (
        "We live at CF36\u{200B} 5AB",
        &[(Postcode, "CF36\u{200B} 5AB")],
    ),
    (
        "ring 077\u{2060}00 900\u{200B}123",
        &[(PhoneNumber, "077\u{2060}00 900\u{200B}123")],
    ),
    (
        "jo\u{200B}@example.co.uk",
        &[(EmailAddress, "jo\u{200B}@example.co.uk")],
    ),
    // Full-width and mathematical letters and digits.
    ("Dear Ｃａｒｔｅｒ", &[(TERM, "Ｃａｒｔｅｒ")]),
    ("𝐀𝐦𝐞𝐥𝐢𝐚 says hi", &[(TERM, "𝐀𝐦𝐞𝐥𝐢𝐚")]),
    (
        "call ０７７００ ９００１２３",
        &[(PhoneNumber, "０７７００ ９００１２３")],
    ),
    (
        "call ０７７００　９００１２３",
        &[(PhoneNumber, "０７７００　９００１２３")],
    ),
    ("post to ＲＧ１ ２ＡＢ", &[(Postcode, "ＲＧ１ ２ＡＢ")]),
    (
        "Ｍｒｓ Ｂａｋｅｒ",
        &[(FullName, "Ｍｒｓ Ｂａｋｅｒ"), (TERM, "Ｂａｋｅｒ")],
    ),
    // Terms split into pieces or spelt out a letter at a time.
    ("Love to Car-ter", &[(TERM, "Car-ter")]),
    ("C.a.r.t.e.r says hi", &[(TERM, "C.a.r.t.e.r")]),
    ("say hi to C a r t e r", &[(TERM, "C a r t e r")]),
    ("C. A. R. T. E. R.", &[(TERM, "C. A. R. T. E. R")]),
    ("b-a-k-e-r", &[(TERM, "b-a-k-e-r")]),
    ("Am_el_ia", &[(TERM, "Am_el_ia")]),
    ("at Oak-field", &[(TERM, "Oak-field")]),
    ("Z o e", &[(TERM, "Z o e")]),
    ("T.i.g.e.r C.u.b.s", &[(TERM, "T.i.g.e.r C.u.b.s")]),
    ("#TigerCubs", &[(TERM, "TigerCubs")]),
    ("P e m b e r t e n", &[(NEAR, "P e m b e r t e n")]),
    (
        "Mrs C a r t e r",
        &[(FullName, "Mrs C a r t e r"), (TERM, "C a r t e r")],
    ),
    (
        "Amelia Car-ter",
        &[
            (TERM, "Amelia"),
            (FullName, "Amelia Car-ter"),
            (TERM, "Car-ter"),
        ],
    ),
    // Phone numbers with other separators.
    ("07700.900.123", &[(PhoneNumber, "07700.900.123")]),
    ("07700-900-123", &[(PhoneNumber, "07700-900-123")]),
    ("home 0118.496.0000", &[(PhoneNumber, "0118.496.0000")]),
    (
        "ring 0 7 7 0 0 9 0 0 1 2 3 soon",
        &[(PhoneNumber, "0 7 7 0 0 9 0 0 1 2 3")],
    ),
    (
        "0.7.7.0.0.9.0.0.1.2.3",
        &[(PhoneNumber, "0.7.7.0.0.9.0.0.1.2.3")],
    ),
    (
        "+44 (0) 7700 900123",
        &[(PhoneNumber, "+44 (0) 7700 900123")],
    ),
    ("+44(0)7700900123", &[(PhoneNumber, "+44(0)7700900123")]),
    (
        "+44 (0) 7 7 0 0 9 0 0 1 2 3",
        &[(PhoneNumber, "+44 (0) 7 7 0 0 9 0 0 1 2 3")],
    ),
    // Must not flag.
    ("We went to the baker for bread", &[]),
    ("Mum baked a cake", &[]),
    ("Bakers make bread", &[]),
    ("I have been reading lots of books", &[]),
    ("The heading was bold", &[]),
    ("We saw tiger cubs at the zoo", &[]),
    ("We had a lovely time on 12/03/2024", &[]),
    ("It cost £1,250.50 in total", &[]),
    ("The match starts at 10:30", &[]),
    ("He was born in 2019 and is 7", &[]),
    ("Take 0.5 ml twice a day", &[]),
    ("The score was 3 - 0 to us", &[]),
    ("I got 100% in my test", &[]),
    ("Only 0 to 10 of them came on 01 05 2025", &[]),
    ("We were at school today", &[]),
    ("Sunday School was fun", &[]),
    ("Primary school starts soon", &[]),
    ("My Secondary School has a field", &[]),
    ("We watched the Academy Awards", &[]),
    ("We walked down the road", &[]),
    ("We walked through Hyde Park", &[]),
    ("a trip down Memory Lane", &[]),
    ("The High Street was busy", &[]),
    ("We watched YouTube videos on 12th May", &[]),
    ("He loves Roblox and Minecraft", &[]),
    ("e.g. apples, i.e. fruit, etc.", &[]),
    ("Version 3.5 came out", &[]),
    ("The A1 road was closed", &[]),
    ("Room B1 2nd floor", &[]),
    ("yn yr ysgol heddiw", &[]),
    ("Ffordd o fyw", &[]),
    ("I am 10 Years Old", &[]),
    ("Road trips are fun", &[]),
    ("Meet me @ 5pm", &[]),
    ("on 01-05-2025 10:30", &[]),
    ("I scored 2 goals down the road", &[]),
    ("she ran 5 miles along the lane", &[]),
    ("we have 3 dogs on our street", &[]),
    ("my 3 best friends walk home", &[]),
    ("Lottery numbers 01 12 23 34 45 49", &[]),
    ("Scores were 0-1 0-2 1-1 2-3 0-0", &[]),
    ("see you @3pm", &[]),
    ("we stayed @home", &[]),
    ("shopping on the High St", &[]),
    ("WE LIVE CLOSE BY", &[]),
    ("SHE LOVES SCHOOL", &[]),
    ("She starts Big School in September", &[]),
    ("Had a great day.Me and Dad", &[]),
    ("Xbox i.e. the new one", &[]),
    // Dashes, curly apostrophes, no-break spaces and other separators.
    ("Love to Car\u{2013}ter", &[(TERM, "Car\u{2013}ter")]),
    ("Love to Car\u{2019}ter", &[(TERM, "Car\u{2019}ter")]),
    ("Love to Car*ter", &[(TERM, "Car*ter")]),
    ("Love to Car/ter", &[(TERM, "Car/ter")]),
    (
        "ring 07700\u{a0}900123",
        &[(PhoneNumber, "07700\u{a0}900123")],
    ),
    (
        "ring 07700\u{2011}900\u{2011}123",
        &[(PhoneNumber, "07700\u{2011}900\u{2011}123")],
    ),
    (
        "ring 07700\u{2013}900123",
        &[(PhoneNumber, "07700\u{2013}900123")],
    ),
    ("ring 0118/496/0000 soon", &[(PhoneNumber, "0118/496/0000")]),
    ("ring 07700_900_123", &[(PhoneNumber, "07700_900_123")]),
    ("ring 07700\n900123", &[(PhoneNumber, "07700\n900123")]),
    ("ring ⁰⁷⁷⁰⁰ ⁹⁰⁰¹²³", &[(PhoneNumber, "⁰⁷⁷⁰⁰ ⁹⁰⁰¹²³")]),
    ("ring ٠٧٧٠٠ ٩٠٠١٢٣", &[(PhoneNumber, "٠٧٧٠٠ ٩٠٠١٢٣")]),
    ("we are at LS6-2AB now", &[(Postcode, "LS6-2AB")]),
    ("we are at LS6.2AB now", &[(Postcode, "LS6.2AB")]),
    // Letters of other forms and scripts that look Latin.
    ("Love to ᴄᴀʀᴛᴇʀ", &[(TERM, "ᴄᴀʀᴛᴇʀ")]),
    ("Love to \u{421}arter", &[(TERM, "\u{421}arter")]),
    ("Love to Ⓒⓐⓡⓣⓔⓡ", &[(TERM, "Ⓒⓐⓡⓣⓔⓡ")]),
    ("Love to 🄲🄰🅁🅃🄴🅁", &[(TERM, "🄲🄰🅁🅃🄴🅁")]),
    ("Love to 🇨🇦🇷🇹🇪🇷", &[(TERM, "🇨🇦🇷🇹🇪🇷")]),
    // Must not flag: ordinary text in other scripts and forms.
    ("Привет из дома, целую", &[]),
    ("Καλημέρα από όλους μας", &[]),
    ("It is 5\u{2013}10 minutes away, don\u{2019}t worry", &[]),
    ("Meet at 10\u{a0}am on 01/02/2026", &[]),
    ("We won 2\u{2013}1 on Saturday", &[]),
    ("I'm sure it's fine and/or better", &[]),
    ("we have ² cats 🇬🇧", &[]),
    // Must not flag: hidden characters and wide forms in ordinary text.
    ("We went to the ba\u{AD}ker for bread", &[]),
    ("Happy\u{200B}birthday to you", &[]),
    ("👨\u{200D}👩\u{200D}👧 our family ❤\u{FE0F}", &[]),
    ("ｓｅｅ ｙｏｕ ｓｏｏｎ", &[]),
    ("ｗｅ ｗｅｎｔ ｔｏ ｔｈｅ ｂａｋｅｒ", &[]),
    ("On １２/０３/２０２４ it cost £１０.５０", &[]),
    // Must not flag: hyphens, initials and letters that spell no term.
    ("It is well-known and up-to-date", &[]),
    ("J. R. R. Tolkien wrote it", &[]),
    ("We sang A B C D E F G", &[]),
    ("I am re-reading it", &[]),
    ("a T-shirt, an x-ray and a U-turn", &[]),
    ("P.S. love you lots", &[]),
    ("the B.B.C. news", &[]),
    ("she is well-read", &[]),
    ("Bake-off was on", &[]),
    ("Car park, car-wash", &[]),
    ("C a r", &[]),
    // Must not flag: digits that are not a phone number.
    ("I can count 0 1 2 3 4 5 6 7 8 9", &[]),
    ("count 0 1 2 3 4 5 6 7 8 9 10 11", &[]),
    ("on 01.05.2025 at 07.30", &[]),
    ("Version 0.12.3 is out", &[]),
    ("scores 1 0 7 7 0 0 9 0 0 1 2 3 4", &[]),
    ("Scores 0 1 0-2 1 1", &[]),
    ("0.5.1 or 0 . 7", &[]),
];

fn flagged(text: &str) -> Vec<(Rule, &str)> {
    let detector = Detector::new(&case_terms());
    detector
        .check(text)
        .iter()
        .map(|f| (f.rule, &text[f.start..f.end]))
        .collect()
}

#[test]
fn table_rows_flag_exactly_what_they_list() {
    let mut failures = Vec::new();
    for (text, expected) in TABLE {
        let found = flagged(text);
        if found != *expected {
            failures.push(format!(
                "{text:?}\n  expected {expected:?}\n     found {found:?}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} rows differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn welsh_school_term_leaves_welsh_words() {
    let term = ProtectedTerm {
        kind: TermKind::School,
        text: "Ysgol Gynradd Pen y Bryn".to_owned(),
    };
    let detector = Detector::new(&[term]);
    assert!(detector.check("yn yr ysgol gynradd heddiw").is_empty());
    let found = detector.check("mae hi yn Ysgol Gynradd Pen y Bryn");
    assert!(found.iter().any(|f| f.rule == TERM));
}

#[test]
fn decomposed_and_romanian_accents_fold() {
    let terms = [
        ProtectedTerm {
            kind: TermKind::FirstName,
            text: "Léa".to_owned(),
        },
        ProtectedTerm {
            kind: TermKind::FirstName,
            text: "Ștefan".to_owned(),
        },
    ];
    let detector = Detector::new(&terms);
    let text = "Le\u{301}a and Stefan";
    let found: Vec<_> = detector
        .check(text)
        .iter()
        .map(|f| &text[f.start..f.end])
        .collect();
    assert_eq!(found, ["Le\u{301}a", "Stefan"]);
}

#[test]
fn long_runs_stay_fast_enough_to_finish() {
    // Both shapes once took time that grew with the square of the length.
    let brackets = "(".repeat(40_000);
    let handles = "xbox:".repeat(8_000);
    let detector = Detector::new(&case_terms());
    assert!(detector.check(&brackets).is_empty());
    assert!(detector.check(&handles).len() <= 8_000);
}

#[test]
fn long_evasive_runs_give_correct_findings() {
    // Each text is about LETTER_MAX_BYTES (50,000) long, and nearly every
    // word in it could open a term written in pieces.
    let detector = Detector::new(&case_terms());
    let spans = |text: &str| -> Vec<(Rule, String)> {
        detector
            .check(text)
            .iter()
            .map(|f| (f.rule, text[f.start..f.end].to_owned()))
            .collect()
    };

    let letters = format!("{}C a r t e r", "a ".repeat(24_994));
    assert_eq!(letters.len(), 49_999);
    assert_eq!(spans(&letters), [(TERM, "C a r t e r".to_owned())]);

    let pieces = format!("{}Car-ter", "ab-".repeat(16_664));
    assert_eq!(spans(&pieces), [(TERM, "Car-ter".to_owned())]);

    let hidden = "B\u{200B}a\u{200B}k\u{200B}e\u{200B}r";
    let invisible = format!("{}{hidden}", "\u{200B}".repeat(16_660));
    assert_eq!(spans(&invisible), [(TERM, hidden.to_owned())]);

    let digits = "0 7 ".repeat(12_500);
    assert_eq!(digits.len(), 50_000);
    assert_eq!(spans(&digits), []);

    let dotted = "0.".repeat(25_000);
    assert_eq!(spans(&dotted), []);
}

#[test]
fn table_is_large_enough() {
    let quiet = TABLE
        .iter()
        .filter(|(_, expected)| expected.is_empty())
        .count();
    assert!(TABLE.len() >= 60, "{} rows", TABLE.len());
    assert!(quiet >= 20, "{quiet} must-not-flag rows");
}

#[test]
fn findings_name_the_term_they_matched() {
    let text = "Amelia Baker";
    let findings = Detector::new(&case_terms()).check(text);
    let terms: Vec<_> = findings.iter().map(|f| (f.rule, f.term)).collect();
    assert_eq!(
        terms,
        [(TERM, Some(1)), (FullName, Some(0)), (TERM, Some(0))]
    );
}

#[test]
fn blank_terms_and_empty_text_flag_nothing() {
    let blank = [ProtectedTerm {
        kind: TermKind::Other,
        text: " - ".to_owned(),
    }];
    assert!(Detector::new(&blank).check("a - b").is_empty());
    assert!(Detector::new(&case_terms()).check("").is_empty());
}

#[test]
fn positions_are_byte_offsets_in_text_with_accents() {
    let text = "Chère Zoë, à bientôt";
    let findings = Detector::new(&case_terms()).check(text);
    assert_eq!(findings.len(), 1);
    assert_eq!(&text[findings[0].start..findings[0].end], "Zoë");
}

#[test]
fn number_right_before_street_word_is_checked() {
    // Found by the property below: a house number followed at once by a
    // street word in odd case.
    for text in ["0 rD{", "12 rd", "4 ROAD"] {
        let findings = Detector::new(&case_terms()).check(text);
        for finding in findings {
            assert!(text.is_char_boundary(finding.start), "{text}");
        }
    }
}

proptest::proptest! {
    #[test]
    fn any_text_gives_findings_on_character_boundaries(text in "\\PC{0,160}") {
        let findings = Detector::new(&case_terms()).check(&text);
        for finding in findings {
            proptest::prop_assert!(finding.start < finding.end);
            proptest::prop_assert!(text.is_char_boundary(finding.start));
            proptest::prop_assert!(text.is_char_boundary(finding.end));
        }
    }

    #[test]
    fn hidden_and_wide_characters_keep_boundaries(
        text in "[a-eA-E0-9 .\\-_\\x{200B}\\x{AD}\\x{FEFF}\\x{FF21}-\\x{FF25}\\x{FF10}-\\x{FF19}]{0,120}",
    ) {
        let findings = Detector::new(&case_terms()).check(&text);
        for finding in findings {
            proptest::prop_assert!(finding.start < finding.end);
            proptest::prop_assert!(text.is_char_boundary(finding.start));
            proptest::prop_assert!(text.is_char_boundary(finding.end));
        }
    }

    #[test]
    fn dates_and_money_flag_nothing(
        day in 1u32..=28, month in 1u32..=12, year in 1990u32..=2030, pence in 0u32..=99,
    ) {
        let text = format!("On {day:02}/{month:02}/{year} it cost £{year},{pence:02}.{pence:02}");
        proptest::prop_assert!(Detector::new(&case_terms()).check(&text).is_empty());
    }
}
