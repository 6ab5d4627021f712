"""Example card content in every supported language (the same meeting), shared by the card tests."""

from __future__ import annotations

from datetime import UTC, datetime

from outreach.cards import CardSpec

MEETING_START = datetime(2025, 6, 14, 12, 0, tzinfo=UTC)  # 14:00 in Amsterdam (CEST)

# title, body, quote author: texts a volunteer would write (Tamazight, Somali and Tigrinya: drafts).
TEXTS: dict[str, tuple[str, str]] = {
    "nl": (
        "Samen in gesprek over gelijkwaardigheid en acceptatie",
        "Een open middag voor jongeren en ouders. Thee en hapjes staan klaar. Iedereen is welkom.",
    ),
    "tr": (
        "Eşitlik ve kabul üzerine birlikte sohbet",
        "Gençler ve aileler için açık bir buluşma. Çay ve ikramlarımız hazır. Herkes davetli.",
    ),
    "ar": (
        "حوار مفتوح حول المساواة والقبول في عائلاتنا",
        "لقاء مفتوح للشباب والأهل في Buurthuis De Pijp. الشاي والحلويات بانتظاركم. الجميع مرحَّب بهم.",
    ),
    "zgh": (
        "ⴰⵎⵙⴰⵡⴰⵍ ⵅⴼ ⵜⴰⵏⵎⵉⵔⵜ ⴷ ⵓⵙⵏⵓⵎⵎⵔ",
        "ⴰⵎⵢⴰⴳⴰⵔ ⵉⵍⵍⴰⵏ ⵉ ⵉⵏⵔⴰⵎⵏ ⴷ ⵉⵎⴰⵡⵍⴰⵏ. ⴰⵜⴰⵢ ⵉⵀⵢⵢⴰ. ⵎⵔⵃⴱⴰ ⵙ ⴽⵔⴰ ⵉⴳⴰⵏ.",
    ),
    "so": (
        "Wadahadal ku saabsan sinnaanta iyo aqbalaadda",
        "Kulan furan oo loogu talagalay dhalinyarada iyo waalidiinta. Shaah iyo cunto fudud ayaa diyaar ah.",
    ),
    "ti": ("ዘተ ብዛዕባ ማዕርነትን ተቐባልነትን", "ንመንእሰያትን ወለድን ክፉት ኣኼባ። ሻሂን መግብን ተዳልዩ ኣሎ። ኩሉ ሰብ እንቋዕ ብደሓን መጻእኩም።"),
    "en": (
        "Talking together about equality and acceptance",
        "An open afternoon for young people and parents. Tea and snacks are ready. Everyone is welcome.",
    ),
}
LANGUAGES = tuple(TEXTS)
TEMPLATES = ("announce", "reminder", "recap", "quote", "photo")
ORGANISATIONS = ("IOT", "Kezban", "FSAN", "SMN", "Mudawwanah", "HTIB", "VON", "Peer")

# Long, unbroken and mixed-script strings that must still stay inside their boxes.
WORST_CASE = {
    "nl": (
        "Gelijkwaardigheidsbevorderingsprogrammabijeenkomst " * 3
        + "met ouders, jongeren, professionals en vrijwilligers uit de hele regio Amsterdam-Zuidoost"
    ),
    "ar": (
        "لقاء " * 12
        + "Stichting Mudawwanah & Samenwerkingsverband Marokkaanse Nederlanders 2025-2030 "
        + "مع الشباب والأهل والمتطوعين " * 6
    ),
    "ti": "ዘተ ብዛዕባ ማዕርነትን ተቐባልነትን " * 10 + "Vluchtelingen-Organisaties Nederland",
}


def example_spec(
    template: str = "announce", language: str = "nl", organisation: str = "Peer", **changes: object
) -> CardSpec:
    title, body = TEXTS[language]
    values: dict[str, object] = {
        "template": template,
        "language": language,
        "title": title,
        "body": body,
        "organisation": organisation,
        "when": MEETING_START,
        "venue": "Buurthuis De Pijp",
        "city": "Amsterdam",
        "attendance": 42 if template == "recap" else None,
        "quote_by": "Fatima El Amrani" if template == "quote" else "",
    }
    values.update(changes)
    return CardSpec(**values)  # type: ignore[arg-type]
