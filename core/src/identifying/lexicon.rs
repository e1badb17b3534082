//! Fixed word lists the rules consult. All entries are folded (lower case,
//! no accents).

use std::sync::OnceLock;

/// Everyday English words, one per line, sorted. A protected term that is
/// one of these is not flagged where it is written all in lower case ("the
/// baker" when the surname is Baker). A word that is one of these is never
/// taken for a misspelt protected term.
const EVERYDAY: &str = include_str!("everyday.txt");

/// Checks whether `folded` is an everyday English word.
pub(crate) fn is_everyday(folded: &str) -> bool {
    static WORDS: OnceLock<Vec<&'static str>> = OnceLock::new();
    let words = WORDS.get_or_init(|| {
        let mut words: Vec<_> = EVERYDAY.lines().map(str::trim).collect();
        words.sort_unstable();
        words
    });
    words.binary_search(&folded).is_ok()
}

/// Words that start or join sentences and are capitalised only because of
/// where they stand, never the first half of a name.
pub(crate) const FUNCTION_WORDS: &[&str] = &[
    "a",
    "about",
    "after",
    "all",
    "also",
    "an",
    "and",
    "are",
    "as",
    "at",
    "because",
    "before",
    "but",
    "by",
    "dear",
    "did",
    "do",
    "does",
    "for",
    "from",
    "had",
    "has",
    "have",
    "he",
    "hello",
    "her",
    "here",
    "hi",
    "his",
    "how",
    "i",
    "if",
    "in",
    "is",
    "it",
    "its",
    "last",
    "lots",
    "love",
    "me",
    "my",
    "next",
    "no",
    "not",
    "now",
    "of",
    "on",
    "or",
    "our",
    "she",
    "so",
    "that",
    "the",
    "their",
    "them",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "to",
    "today",
    "tomorrow",
    "was",
    "we",
    "went",
    "were",
    "what",
    "when",
    "where",
    "which",
    "while",
    "who",
    "why",
    "with",
    "yes",
    "yesterday",
    "you",
    "your",
];

/// Titles and family names for people that can stand before a surname.
pub(crate) const TITLES: &[&str] = &[
    "aunt", "auntie", "aunty", "dame", "dr", "grandad", "grandma", "granny", "lady", "lord",
    "master", "miss", "mr", "mrs", "ms", "mx", "nan", "nana", "nanny", "prof", "sir", "uncle",
];

/// Street words that follow a street's name and make it an address on
/// their own ("Elm Road").
pub(crate) const STREET_WORDS: &[&str] = &[
    "ave",
    "avenue",
    "boulevard",
    "close",
    "cres",
    "crescent",
    "lane",
    "mews",
    "rd",
    "road",
    "st",
    "street",
    "terrace",
];

/// Street words that also name other things ("Hyde Park", "Milky Way"), so
/// they make an address only after a house number.
pub(crate) const WEAK_STREET_WORDS: &[&str] = &[
    "court", "drive", "fields", "gardens", "green", "grove", "hill", "meadow", "meadows", "parade",
    "park", "place", "rise", "row", "square", "vale", "view", "walk", "way", "wharf",
];

/// Welsh street words, which come before the street's name ("Heol y
/// Bont").
pub(crate) const WELSH_STREET_WORDS: &[&str] =
    &["ffordd", "heol", "lon", "rhodfa", "stryd", "teras"];

/// Streets known across the country or from songs and television, named
/// without a house number in letters about anything but an address.
pub(crate) const FAMOUS_STREETS: &[&[&str]] = &[
    &["abbey", "road"],
    &["baker", "street"],
    &["carnaby", "street"],
    &["coronation", "street"],
    &["downing", "street"],
    &["easy", "street"],
    &["high", "st"],
    &["high", "street"],
    &["main", "st"],
    &["main", "street"],
    &["memory", "lane"],
    &["oxford", "street"],
    &["penny", "lane"],
    &["sesame", "street"],
    &["wall", "street"],
];

/// Words that end the name of a school or nursery.
pub(crate) const SCHOOL_WORDS: &[&str] = &["academy", "college", "nursery", "preschool", "school"];

/// Words that describe a school between its name and its kind ("Oakfield
/// Church of England Primary School").
pub(crate) const SCHOOL_QUALIFIERS: &[&str] = &[
    "c",
    "catholic",
    "ce",
    "church",
    "city",
    "community",
    "comprehensive",
    "e",
    "england",
    "first",
    "form",
    "free",
    "grammar",
    "high",
    "infant",
    "infants",
    "international",
    "junior",
    "methodist",
    "middle",
    "of",
    "pre",
    "prep",
    "preparatory",
    "primary",
    "rc",
    "secondary",
    "sixth",
    "special",
    "technology",
    "upper",
    "voluntary",
];

/// Capitalised words before "School" or "Academy" that name a kind of
/// school, not a particular one ("Sunday School", "Dance Academy").
pub(crate) const GENERIC_SCHOOLS: &[&str] = &[
    "art", "ballet", "big", "boarding", "business", "cookery", "dance", "drama", "driving", "film",
    "football", "forest", "holiday", "karate", "language", "law", "medical", "music", "my", "new",
    "night", "old", "police", "riding", "ski", "sports", "stage", "summer", "sunday", "swimming",
    "theatre",
];

/// Welsh words that can follow "Ysgol" before the school's name.
pub(crate) const WELSH_SCHOOL_WORDS: &[&str] = &[
    "bro", "feithrin", "gatholig", "gyfun", "gymraeg", "gynradd", "sant", "santes", "uwchradd",
    "y", "yr",
];

/// Social media and gaming services whose user names identify a person.
pub(crate) const PLATFORMS: &[&str] = &[
    "discord",
    "facebook",
    "fb",
    "insta",
    "instagram",
    "kik",
    "playstation",
    "psn",
    "roblox",
    "snap",
    "snapchat",
    "steam",
    "telegram",
    "threads",
    "tiktok",
    "twitch",
    "twitter",
    "whatsapp",
    "xbox",
    "youtube",
];

/// Words that introduce a user name whatever the service.
pub(crate) const HANDLE_WORDS: &[&str] = &["gamertag", "handle", "username"];

/// Top-level domains recognised in a link written without "www." or a
/// scheme ("oakfield.sch.uk").
pub(crate) const DOMAIN_ENDINGS: &[&str] = &[
    "app", "biz", "co", "com", "cymru", "dev", "eu", "ie", "info", "io", "ly", "me", "net", "org",
    "scot", "shop", "site", "tv", "uk", "wales",
];

/// Checks whether `list` contains `word`.
pub(crate) fn has(list: &[&str], word: &str) -> bool {
    list.contains(&word)
}
