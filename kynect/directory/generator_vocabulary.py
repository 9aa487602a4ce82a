"""The made-up words of the synthetic directory: organization kinds, streets, languages, documents,
eligibility rules, holidays, and the county populations that weight where services are."""

# Approximate populations of Kentucky's largest counties; the rest count as 20,000 people.
COUNTY_POPULATION = {
    "Jefferson": 780_000,
    "Fayette": 320_000,
    "Kenton": 170_000,
    "Boone": 140_000,
    "Warren": 140_000,
    "Hardin": 110_000,
    "Daviess": 103_000,
    "Madison": 95_000,
    "Campbell": 93_000,
    "Bullitt": 83_000,
    "Christian": 72_000,
    "Oldham": 68_000,
    "McCracken": 67_000,
    "Pulaski": 65_000,
    "Laurel": 62_000,
    "Scott": 58_000,
    "Pike": 57_000,
    "Jessamine": 54_000,
    "Boyd": 48_000,
    "Hopkins": 45_000,
    "Henderson": 44_000,
    "Franklin": 51_000,
    "Shelby": 49_000,
    "Nelson": 47_000,
    "Whitley": 36_000,
}
DEFAULT_COUNTY_POPULATION = 20_000

ORGANIZATION_KINDS = [
    # (name pattern, tax status, share of organizations)
    ("{county} County Health Department", "government", 0.10),
    ("{place} Community Action Agency", "501(c)(3)", 0.12),
    ("{place} Food Bank", "501(c)(3)", 0.10),
    ("{place} Emergency Shelter", "501(c)(3)", 0.07),
    ("{place} First Baptist Church Outreach", "501(c)(3)", 0.10),
    ("{place} United Methodist Church Ministries", "501(c)(3)", 0.06),
    ("{place} Regional Medical Center", "501(c)(3)", 0.06),
    ("{county} County DCBS Office", "government", 0.08),
    ("{place} Legal Aid Society", "501(c)(3)", 0.05),
    ("{place} Public Library", "government", 0.06),
    ("{place} Adult Education Center", "government", 0.06),
    ("{place} Family Resource Center", "501(c)(3)", 0.08),
    ("{place} Transit Authority", "government", 0.06),
]
STREETS = [
    "Main St",
    "Broadway",
    "Maple Ave",
    "Church St",
    "Oak St",
    "Market St",
    "College St",
    "High St",
    "Walnut St",
    "Elm St",
    "Court St",
    "Mill St",
    "Pike St",
    "Lexington Rd",
    "Bypass Rd",
]
LANGUAGES = [
    ("English", "en"),
    ("Spanish", "es"),
    ("Arabic", "ar"),
    ("Swahili", "sw"),
    ("Nepali", "ne"),
    ("Vietnamese", "vi"),
    ("French", "fr"),
    ("American Sign Language", "ase"),
]
DOCUMENTS = [
    "Picture ID",
    "Proof of address",
    "Social Security card",
    "Proof of income",
    "Medicaid card (if applicable)",
    "Birth certificates for children",
]
ELIGIBILITY = [
    "Resident of {county} County",
    "Household income at or below 200% of the federal poverty level",
    "Age 60 or older",
    "Families with children under 18",
    "Veterans and their families",
    "Pregnant women and new parents",
    "No requirements: open to anyone",
]
HOLIDAYS = [
    (11, 26, "Thanksgiving Day"),
    (12, 25, "Christmas Day"),
    (1, 1, "New Year's Day"),
    (7, 4, "Independence Day"),
]
