"""The report's words in Dutch (default) and English. Add a language by adding a dict."""

from __future__ import annotations

from outreach.harvest.definitions import UNCONFIRMED

NL = {
    "title": "Impactrapport",
    "programme": "Verandering van binnenuit",
    "period": "Periode",
    "organisation": "Organisatie",
    "all_organisations": "alle organisaties",
    "generated": "Gemaakt op",
    "key_figures": "Kerncijfers",
    "meetings_held": "Bijeenkomsten gehouden (periode)",
    "meetings_planned": "Nog gepland (periode)",
    "meetings_to_date": "Gehouden sinds de start",
    "target": "doel",
    "of_target": "van het doel",
    "of_alliance": "{share} van alle {n} van de alliantie; geen eigen plan ingesteld",
    "target_line": "doel: {target} bijeenkomsten",
    "other_meetings": "Trainingen en gemeentelijke sessies (periode)",
    "attendance": "Aanwezigen",
    "attendance_youth": "Jongeren ({young} jaar) aanwezig (offline geteld)",
    "posts_published": "Berichten gepubliceerd",
    "reach_total": "Bereik (gemeld door platforms)",
    "meetings": "Bijeenkomsten",
    "meetings_chart": "Gehouden gemeenschapsbijeenkomsten, cumulatief",
    "meetings_by_org_chart": "Gehouden bijeenkomsten per organisatie (periode)",
    "with_outcome": "bijeenkomsten met geregistreerde uitkomst",
    "by_gender": "Aanwezigen naar gender",
    "gender_woman": "vrouw", "gender_man": "man", "gender_other": "anders", "gender_unknown": "onbekend",
    "evaluation": "Gemiddelde evaluatie (1–10)",
    "posts": "Berichten",
    "posts_chart": "Gepubliceerde berichten per platform",
    "platform": "Platform",
    "platform_manual": "met de hand",
    "language": "Taal",
    "total": "Totaal",
    "reach_title": "Bereik en bereik onder jongeren",
    "reach_note": ("Jongerenbereik wordt per soort getoond en nooit opgeteld: <b>gemeten</b> (het platform "
                   "meldt leeftijd), <b>geschat</b> (bereik × aandeel jongeren onder de volgers, met bron en "
                   "datum), <b>offline</b> (aanwezigen bij bijeenkomsten) en <b>onbekend</b>. "
                   "Bereik is opgeteld over posts: wie meer posts zag, telt vaker mee; het is geen aantal "
                   "unieke mensen."),
    "reach": "Bereik",
    "views": "Weergaven", "watch_time": "Kijktijd (uren)", "no_data": "geen gegevens",
    "engagement": "Interacties",
    "youth_measured": "Jongeren gemeten",
    "youth_estimated": "Jongeren geschat",
    "youth_unknown": "Berichten zonder jongerencijfer",
    "youth_offline": "Jongeren offline (bijeenkomsten)",
    "n_posts": "berichten: {n}",
    "definition_change": ("{platform} telt vanaf {day} met \u2018{new}\u2019 in plaats van \u2018{old}\u2019: "
                          "cijfers van voor en na die datum meten niet hetzelfde (bron: definitietabel)."),
    "top_posts": "Best bereikte berichten",
    "published_at": "Gepubliceerd",
    "permalink": "Link",
    "youth": "Jongeren",
    "kind_measured": "gemeten", "kind_estimated": "geschat", "kind_unknown": "onbekend",
    "no_card": "geen afbeelding",
    "per_org": "Per organisatie",
    "held": "Gehouden",
    "planned": "Gepland",
    "none": "Geen gegevens in deze periode.",
    "methods": "Verantwoording",
    "share_of_alliance": "van alle gehouden bijeenkomsten van de alliantie (periode)",
    "org_chart": "Gehouden bijeenkomsten van {org} in deze periode, cumulatief",
    "m_intro": "Deze pagina is gemaakt uit de instellingen en de gegevens van dit rapport.",
    "m_youth": ("<b>Jong</b> betekent {young} jaar (instelling <i>[youth] young</i>); gemeten, geschat en offline "
                "jongerenbereik tellen allemaal dit bereik en worden nooit bij elkaar opgeteld."),
    "m_measured": "Gemeten jongerenbereik",
    "m_measured_none": "Geen platform heeft in deze periode jongerenbereik per bericht gemeten.",
    "m_measured_youtube": ("YouTube ({n} berichten): weergaven × het aandeel van de leeftijdsgroepen binnen {young} "
                           "jaar onder <i>ingelogde</i> kijkers (leeftijd opgegeven door de kijker, 13+), toegepast op "
                           "alle weergaven. YouTube Analytics loopt ongeveer twee dagen achter en geeft geen "
                           "leeftijden onder zijn eigen privacydrempel: dan is het cijfer onbekend, niet 0."),
    "m_measured_other": ("{platform} ({n} berichten): jongeren zoals het platform ze per bericht telt, volgens "
                         "zijn eigen leeftijdsgegevens en drempels."),
    "m_estimated": "Geschat jongerenbereik",
    "m_estimated_text": ("Bereik van het bericht × het aandeel {young} jaar in de leeftijdsverdeling van het account "
                         "op het moment dat het dichtst bij de publicatie ligt (een leeftijdsgroep die deels binnen "
                         "het bereik valt telt naar rato). Bronnen:"),
    "m_source": "Bron", "m_ages": "Leeftijd", "m_snapshots": "Leeftijdsverdelingen van – tot",
    "audience_follower_demographics": "volgers naar leeftijd",
    "audience_engaged_audience_demographics": "reageerders naar leeftijd",
    "m_offline": ("<b>Offline</b>: aanwezigen per leeftijdsgroep (13–17, 18–24, 25–34, 35+) uit de geregistreerde "
                  "uitkomsten van bijeenkomsten; een groep die deels binnen {young} jaar valt telt naar rato, "
                  "onbekende leeftijden tellen niet mee."),
    "m_definitions": "Gebruikte metriekdefinities",
    "m_definitions_text": ("Elke meting bewaart de definities waaronder het platform haar gaf "
                           "(definitietabel van outreach); bij \u2018" + UNCONFIRMED["nl"] + "\u2019 kon de "
                           "definitie niet aan de documentatie van het platform worden getoetst. In deze periode:"),
    "m_measure": "Meet", "m_name": "Naam bij het platform", "m_valid": "Geldig",
    "m_until_now": "heden", "m_unconfirmed": UNCONFIRMED["nl"],
    "m_unrecorded": ("metingen zonder vastgelegde definitie (van voor de definitietabel): de definities die "
                     "golden toen ze gedaan werden."), "m_none": "Geen metingen in deze periode.",
    "measure_reach": "bereik", "measure_views": "weergaven", "measure_likes": "likes",
    "measure_comments": "reacties", "measure_shares": "delingen", "measure_saves": "bewaard",
    "measure_clicks": "klikken", "measure_watch_time_s": "kijktijd",
    "measure_average_view_s": "gemiddelde kijkduur (niet opgeteld)",
    "method": "Verantwoording",
    "method_text": ("Aantallen personen onder {threshold} worden getoond als &lsquo;&lt;{threshold}&rsquo; "
                    "om kleine groepen te beschermen; &lsquo;&times;&rsquo; is een aantal dat daarom ook "
                    "verborgen is, zodat een &lsquo;&lt;{threshold}&rsquo; niet uit een totaal min de rest "
                    "volgt. Er worden geen gegevens van volgers of reageerders bewaard. Jong betekent {young} jaar. Tijden in {tz}. Gemaakt met outreach {version}."),
}

EN = {
    "title": "Impact report",
    "programme": "Change from within",
    "period": "Period",
    "organisation": "Organisation",
    "all_organisations": "all organisations",
    "generated": "Generated",
    "key_figures": "Key figures",
    "meetings_held": "Meetings held (period)",
    "meetings_planned": "Still planned (period)",
    "meetings_to_date": "Held since the start",
    "target": "target",
    "of_target": "of the target",
    "of_alliance": "{share} of all {n} of the alliance; no plan of its own configured",
    "target_line": "target: {target} meetings",
    "other_meetings": "Trainings and municipal sessions (period)",
    "attendance": "Attendance",
    "attendance_youth": "Young people ({young}) attending (counted offline)",
    "posts_published": "Posts published",
    "reach_total": "Reach (as reported by platforms)",
    "meetings": "Meetings",
    "meetings_chart": "Community meetings held, cumulative",
    "meetings_by_org_chart": "Meetings held per organisation (period)",
    "with_outcome": "meetings with a recorded outcome",
    "by_gender": "Attendance by gender",
    "gender_woman": "woman", "gender_man": "man", "gender_other": "other", "gender_unknown": "unknown",
    "evaluation": "Mean evaluation (1–10)",
    "posts": "Posts",
    "posts_chart": "Published posts per platform",
    "platform": "Platform",
    "platform_manual": "by hand",
    "language": "Language",
    "total": "Total",
    "reach_title": "Reach and youth reach",
    "reach_note": ("Youth reach is shown per kind and never added up: <b>measured</b> (the platform reports "
                   "age), <b>estimated</b> (reach × the followers' youth share, with source and date), "
                   "<b>offline</b> (meeting attendance) and <b>unknown</b>. Reach is summed over posts: someone who saw "
                   "several posts counts more than once; it is not a number of unique people."),
    "reach": "Reach",
    "views": "Views", "watch_time": "Watch time (hours)", "no_data": "no data",
    "engagement": "Interactions",
    "youth_measured": "Youth measured",
    "youth_estimated": "Youth estimated",
    "youth_unknown": "Posts without a youth figure",
    "youth_offline": "Youth offline (meetings)",
    "n_posts": "posts: {n}",
    "definition_change": ("From {day}, {platform} counts \u2018{new}\u2019 instead of \u2018{old}\u2019: "
                          "figures before and after that date do not measure the same thing (source: definitions table)."),
    "top_posts": "Posts with the widest reach",
    "published_at": "Published",
    "permalink": "Link",
    "youth": "Youth",
    "kind_measured": "measured", "kind_estimated": "estimated", "kind_unknown": "unknown",
    "no_card": "no image",
    "per_org": "Per organisation",
    "held": "Held",
    "planned": "Planned",
    "none": "No data in this period.",
    "methods": "Method",
    "share_of_alliance": "of all meetings the alliance held (period)",
    "org_chart": "Meetings {org} held in this period, cumulative",
    "m_intro": "This page is generated from the settings and the data of this report.",
    "m_youth": ("<b>Young</b> means {young} years (setting <i>[youth] young</i>); measured, estimated and offline "
                "youth reach all count this range and are never added together."),
    "m_measured": "Measured youth reach",
    "m_measured_none": "No platform measured youth reach per post in this period.",
    "m_measured_youtube": ("YouTube ({n} posts): views × the share of age groups within {young} years among "
                           "<i>logged-in</i> viewers (age as the viewer declared it, 13+), applied to all views. "
                           "YouTube Analytics runs about two days behind and gives no ages below its own privacy "
                           "threshold: the figure is then unknown, not 0."),
    "m_measured_other": ("{platform} ({n} posts): young people as the platform counts them per post, by its own "
                         "age data and thresholds."),
    "m_estimated": "Estimated youth reach",
    "m_estimated_text": ("The post's reach × the share aged {young} in the account's age breakdown nearest to "
                         "publication (an age group partly inside the range counts pro rata). Sources:"),
    "m_source": "Source", "m_ages": "Ages", "m_snapshots": "Age breakdowns from – to",
    "audience_follower_demographics": "followers by age",
    "audience_engaged_audience_demographics": "engaged audience by age",
    "m_offline": ("<b>Offline</b>: attendees per age group (13–17, 18–24, 25–34, 35+) from the recorded meeting "
                  "outcomes; a group partly within {young} years counts pro rata, unknown ages do not count."),
    "m_definitions": "Metric definitions used",
    "m_definitions_text": ("Every measurement records the definitions the platform gave it under (outreach's "
                           "definitions table); \u2018" + UNCONFIRMED["en"] + "\u2019 means it could not be "
                           "checked against the platform's documentation. In this period:"),
    "m_measure": "Measures", "m_name": "Platform's name", "m_valid": "Valid",
    "m_until_now": "now", "m_unconfirmed": UNCONFIRMED["en"],
    "m_unrecorded": ("measurements without a recorded definition (from before the definitions table): the "
                     "definitions valid when they were taken."), "m_none": "No measurements in this period.",
    "measure_reach": "reach", "measure_views": "views", "measure_likes": "likes",
    "measure_comments": "comments", "measure_shares": "shares", "measure_saves": "saves",
    "measure_clicks": "clicks", "measure_watch_time_s": "watch time",
    "measure_average_view_s": "average view duration (not added up)",
    "method": "Method",
    "method_text": ("Counts of people below {threshold} are shown as &lsquo;&lt;{threshold}&rsquo; to protect "
                    "small groups; &lsquo;&times;&rsquo; is a count hidden as well, so that a "
                    "&lsquo;&lt;{threshold}&rsquo; cannot be worked out from a total minus the rest. "
                    "No data about followers or commenters is stored. Young means {young} "
                    "years. Times in {tz}. Made with outreach {version}."),
}

STRINGS: dict[str, dict[str, str]] = {"nl": NL, "en": EN}


def strings(language: str) -> dict[str, str]:
    try:
        return STRINGS[language]
    except KeyError:
        raise ValueError(f"report language {language!r} is not available "
                         f"(available: {', '.join(sorted(STRINGS))})") from None
