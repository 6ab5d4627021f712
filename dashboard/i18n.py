"""The dashboard's words in Dutch (default) and English: one dict per language, `t(key)` to look up."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from enum import StrEnum
from functools import lru_cache, partial

import streamlit as st
from babel import Locale
from babel.dates import format_date
from babel.numbers import format_decimal, format_percent

from outreach import analytics
from outreach.harvest.definitions import UNCONFIRMED


class Lang(StrEnum):
    NL = "nl"
    EN = "en"


NL: dict[str, str] = {
    "app.title": "Verandering van binnenuit",
    "lang.label": "Taal / Language",
    "nav.overview": "Overzicht", "nav.campaigns": "Campagnes", "nav.meetings": "Bijeenkomsten",
    "nav.communities": "Gemeenschappen & platforms", "nav.schedule": "Planning", "nav.planner": "Post maken",
    "nav.review": "Beoordelen", "nav.archive": "Archief",
    "auth.title": "Inloggen", "auth.user": "Gebruikersnaam", "auth.password": "Wachtwoord",
    "auth.submit": "Inloggen", "auth.failed": "Onbekende gebruiker of onjuist wachtwoord.",
    "auth.logout": "Uitloggen", "auth.as": "Ingelogd als {user} ({roles})",
    "auth.local": "Geen gebruikers ingesteld: het dashboard is alleen op deze computer bereikbaar "
                  "(127.0.0.1) en iedereen hier heeft alle rollen.",
    "auth.not_local": "Geen gebruikers ingesteld en het dashboard luistert niet alleen op 127.0.0.1. "
                      "Stel [dashboard.users] in of start met --server.address 127.0.0.1.",
    "auth.denied": "Je rol ({roles}) geeft geen toegang tot deze pagina.",
    "filter.period": "Periode", "filter.organisation": "Organisatie", "filter.community": "Gemeenschap",
    "filter.platform": "Platform", "filter.campaign": "Campagne", "filter.language": "Taal",
    "filter.all": "alle", "filter.30d": "laatste 30 dagen", "filter.90d": "laatste 90 dagen",
    "filter.12m": "laatste 12 maanden", "filter.share": "Deze weergave staat in de URL: kopieer de link om te delen.",
    "kind.measured": "gemeten", "kind.estimated": "geschat", "kind.offline": "offline (aanwezigen)",
    "kind.unknown": "onbekend",
    "ov.title": "Overzicht", "ov.meetings": "Bijeenkomsten gehouden", "ov.target": "van {target}",
    "ov.on_track": "op schema", "ov.behind": "achter op schema", "ov.expected": "volgens plan nu: {n}",
    "ov.posts": "Posts gepubliceerd", "ov.reach": "Totaal bereik",
    "ov.reach_sum": "opgeteld over posts: wie meer posts zag, telt vaker mee (geen unieke mensen)", "ov.youth": "Jongerenbereik",
    "ov.youth_share": "Aandeel jongeren", "ov.engagement": "Betrokkenheid", "ov.trend": "Verloop per maand",
    "ov.youth_note": "Soorten worden nooit opgeteld: gemeten (platform telt leeftijd), geschat (bereik × "
                     "jongerenaandeel van het account), offline (aanwezigen bij bijeenkomsten).",
    "ov.sources": "Best bereikte posts en de bron van hun jongerencijfer",
    "ov.src_measured": "{n} posts · door het platform gemeten bij ingelogde kijkers, ongeveer twee dagen "
                       "vertraagd, niets onder de privacydrempel van het platform",
    "platform.manual": "met de hand",
    "src.measured": "gemeten door {platform}",
    "src.measured.youtube": "gemeten door YouTube Analytics: ingelogde kijkers (13+), ongeveer twee dagen "
                            "vertraagd, geen cijfer onder de drempel van YouTube",
    "src.estimated": "geschat: bereik × {share} jongeren onder de {metric} ({day})",
    "src.unknown": "–",
    "audience.follower_demographics": "volgers", "audience.engaged_audience_demographics": "reageerders",
    "ov.src_estimated": "{n} posts · bereik × jongerenaandeel van het account",
    "ov.src_offline": "{n} bijeenkomsten · aanwezigheidslijsten",
    "ov.share_note": "jongerenbereik (gemeten + geschat) / bereik, over {n} posts met leeftijdsgegevens ({platforms})",
    "ov.basis": "interacties / bereik, over {n} posts die bereik melden ({platforms})",
    "ov.plan": "plan voor deze periode: {plan}",
    "ov.definition_change": "¹ {platform} telt {measure} vanaf {day} anders (het platform verving zijn maatstaf): "
                            "cijfers van voor en na die datum meten niet hetzelfde.",
    "ov.definition_names": "Naam bij het platform: \u2018{old}\u2019, vanaf {day} \u2018{new}\u2019.",
    "def.unconfirmed": UNCONFIRMED["nl"],
    "measure.reach": "het bereik", "measure.views": "de weergaven", "measure.likes": "de likes",
    "measure.comments": "de reacties", "measure.shares": "het aantal keer gedeeld",
    "measure.saves": "het aantal keer bewaard", "measure.clicks": "de klikken",
    "measure.watch_time_s": "de kijktijd", "measure.average_view_s": "de gemiddelde kijkduur",
    "privacy.hidden": "× = ook verborgen, zodat een aantal onder 10 niet uit het totaal min de rest te berekenen is.",
    "ov.share_of_alliance": "{share} van alle {n} bijeenkomsten van de alliantie in deze periode", "ov.none": "Nog geen gegevens voor deze selectie.",
    "col.post": "Post", "col.channel": "Kanaal", "col.platform": "Platform", "col.language": "Taal",
    "status.draft": "concept", "status.pending_review": "wacht op beoordeling", "status.approved": "ingepland",
    "status.rejected": "afgewezen", "status.publishing": "wordt geplaatst", "status.retrying": "probeert opnieuw",
    "status.published": "geplaatst", "status.failed": "mislukt", "status.manual_due": "met de hand plaatsen",
    "status.cancelled": "geannuleerd",
    "what.failed": "mislukt", "what.too_late": "te laat, niet geplaatst", "what.retrying": "probeert opnieuw", "what.manual_due": "met de hand plaatsen",
    "what.manual_overdue": "met de hand plaatsen (te laat)", "what.auth": "inloggen mislukt",
    "what.harvest_error": "cijfers ophalen mislukt", "what.rejected": "afgewezen",
    "what.token_expiring": "toegang verloopt", "what.manual_hint": "Plaats deze post met de hand en bevestig hem hier.",
    "what.tiktok_app": "afmaken in de TikTok-app", "what.tiktok_app_overdue": "afmaken in de TikTok-app (te laat)",
    "what.tiktok_app_hint": "Open de TikTok-app: maak de post af vanuit je inbox (of kijk of hij er al staat) "
                            "en bevestig hem hier met de link.",
    "col.status": "Status", "col.due": "Gepland (lokaal)", "col.reach": "Bereik", "col.youth": "Jongeren",
    "col.kind": "Soort", "col.source": "Bron", "col.link": "Link", "col.text": "Tekst",
    "col.meeting": "Bijeenkomst", "col.campaign": "Campagne", "col.posts": "Posts",
    "col.organisation": "Organisatie", "col.community": "Gemeenschap", "col.city": "Stad",
    "col.start": "Begin (lokaal)", "col.attendance": "Aanwezigen", "col.evaluation": "Evaluatie",
    "col.engagement": "Betrokkenheid", "col.watch_time": "Kijktijd (uren)", "col.detail": "Toelichting", "col.reason": "Reden", "col.who": "Wie",
    "col.when": "Wanneer", "decision.approved": "goedgekeurd", "decision.rejected": "afgewezen",
    "decision.confirmed": "met de hand geplaatst", "decision.revoked": "ingetrokken", "col.theme": "Thema", "col.alt": "alt-tekst", "col.decision": "Besluit", "col.published": "Gepubliceerd",
    "csv": "Download CSV", "choose": "Kies…", "chart.no_data": "geen gegevens",
    "camp.title": "Campagnes", "meet.title": "Bijeenkomsten", "meet.pick": "Bijeenkomst",
    "meet.posts": "Posts van deze bijeenkomst", "meet.outcome": "Uitkomst",
    "meet.no_outcome": "Nog geen aanwezigheid of evaluatie ingevoerd.",
    "comm.title": "Gemeenschappen & platforms", "comm.by": "Vergelijk per", "comm.best": "Posts die jongeren "
    "het best bereikten",
    "sched.title": "Planning", "sched.upcoming": "Komende posts", "sched.attention": "Vraagt aandacht",
    "sched.none": "Niets dat aandacht vraagt.", "sched.retry": "Opnieuw proberen", "sched.cancel": "Annuleren",
    "sched.confirm": "Handmatig geplaatst", "sched.permalink": "Link naar de geplaatste post",
    "sched.reach": "Bereik (optioneel)", "sched.done": "{n} post(s): {what}.",
    "sched.reschedule": "Verplaatsen", "sched.reschedule_help": "Een post uit een campagnebestand krijgt de tijd "
    "uit het bestand terug als dat opnieuw wordt ingeladen.", "sched.time": "Tijd",
    "plan.title": "Post maken", "plan.meeting": "Bijeenkomst", "plan.name": "Naam (uniek per bijeenkomst)",
    "plan.languages": "Talen", "plan.channels": "Kanalen", "plan.date": "Datum", "plan.time": "Tijd (lokaal)",
    "plan.card": "Kaart", "plan.no_card": "geen kaart", "plan.text": "Tekst ({lang})",
    "plan.alt": "Alt-tekst kaart ({lang})", "plan.link": "Link (optioneel)", "plan.preview": "Voorbeeld",
    "plan.ok": "Alles past binnen de limieten van de platforms.", "plan.save": "Opslaan en ter beoordeling",
    "plan.saved": "Opgeslagen: {summary}", "plan.no_meetings": "Er zijn nog geen bijeenkomsten.",
    "plan.found": "Gevonden: {n}", "plan.find": "Bijeenkomst zoeken", "plan.find_hint": "organisatie, stad, plek, gemeenschap of code",
    "plan.earlier": "Eerdere bijeenkomsten (meer dan {days} dagen geleden)",
    "plan.shown": "{shown} van {total} bijeenkomsten in de lijst: zoek om een andere te vinden.",
    "plan.none_found": "Geen bijeenkomst gevonden: zoek op iets anders, of zet eerdere bijeenkomsten aan of uit.",
    "plan.empty": "Nog geen tekst in: {languages} (schrijf ze, of haal de taal weg).",
    "plan.help": "Sjabloonvelden: {{ meeting.start | date }}, {{ meeting.city }}, {{ link }} …",
    "rev.title": "Beoordelen", "rev.none": "Niets te beoordelen.", "rev.approve": "Goedkeuren",
    "rev.reject": "Afwijzen", "rev.reason": "Reden (verplicht bij afwijzen)", "rev.done": "{what}",
    "rev.audit": "Logboek: wie deed wat",
    "rev.reason_needed": "schrijf bij afwijzen een reden (die ziet de schrijver).",
    "sched.upcoming_note": "Eerstvolgende eerst; tijden in {tz}.", "page.label": "Pagina",
    "page.count": "{shown} van {total} · pagina {page} van {pages}",
    "sched.all_on_page": "Alle {n} op deze pagina kiezen", "sched.choose": "Posts kiezen",
    "sched.retry_n": "Opnieuw proberen ({n})", "sched.cancel_n": "Annuleren ({n})",
    "sched.sure": "Weet je het zeker? {n} post(s) {what}.", "sched.yes": "Ja: {what}", "sched.no": "Terug",
    "check.too_long": "Te lang voor {platform}: {length} van de {max} tekens ({channel}, {language}). "
                      "Haal er {over} weg.",
    "check.alt_required": "De kaart heeft een alt-tekst nodig ({language}): beschrijf wat erop staat.",
    "check.template": "Sjabloon klopt niet ({language}): {detail}",
    "check.name": "Naam '{name}': gebruik kleine letters, cijfers, '-', '.' of '_'.",
    "check.no_language": "Kies minstens één taal.", "check.no_channel": "Kies minstens één kanaal.",
    "check.unknown_channel": "Kanaal {channel} bestaat niet (meer) in de instellingen.",
    "check.unknown_card": "Kaart {card} bestaat niet.",
    "plan.video": "Video (optioneel)",
    "plan.video_upload": "Of upload een video (mp4, mov, m4v, webm; tot {mb} MB)",
    "plan.upload_failed": "Dit bestand is niet bewaard: {name} is geen video die we kunnen lezen, of te groot.",
    "plan.video_desc": "Beschrijving van de video ({lang})",
    "plan.captions": "Ondertiteling {lang} (.srt of .vtt, optioneel)",
    "plan.captions_kept": "Ondertiteling {lang}: {name}",
    "plan.cover_frame": "Omslag: beeld op seconde (optioneel)", "plan.cover_card": "Omslag als kaart (optioneel)",
    "plan.option.share_to_feed": "{channel}: de Reel ook in de feed tonen",
    "plan.option.burn_captions": "{channel}: ondertiteling in het beeld zetten",
    "check.video_too_short": "Te kort voor {platform}: {seconds} s, minimaal {limit} s ({channel}).",
    "check.video_too_long": "Te lang voor {platform}: {seconds} s, hoogstens {limit} s ({channel}).",
    "check.video_too_large": "Te groot voor {platform}: {megabytes} MB, hoogstens {limit_mb} MB ({channel}).",
    "check.video_too_small": "Te klein voor {platform}: {megabytes} MB, minimaal {limit_mb} MB ({channel}).",
    "check.no_video": "{platform} kan (nog) geen video plaatsen ({channel}): kies een ander kanaal.",
    "check.video_missing": "De video is niet (meer) te vinden: kies hem opnieuw.",
    "check.video_unreadable": "Dit bestand is geen video die we kunnen lezen.",
    "check.video_outside": "Deze video staat niet in een toegestane map: kies er een uit de lijst of upload hem.",
    "check.video_description": "De video heeft een beschrijving nodig ({languages}): vertel wat erin te zien is.",
    "check.captions_missing": "Het ondertitelbestand ({language}) is niet (meer) te vinden.",
    "check.captions_error": "Het ondertitelbestand {file} ({language}) klopt niet op regel {line}: kijk daar "
                            "de tijden en de tekst na.",
    "check.captions_dropped": "{platform} neemt geen ondertitelbestanden aan ({channel}): daar is de "
                              "ondertiteling niet te zien. Zet hem in het beeld, of laat het zo.",
    "check.captions_too_large": "Het ondertitelbestand ({language}) is te groot voor {platform} ({channel}).",
    "check.captions_languages": "Ondertiteling in te veel talen voor {platform} ({channel}).",
    "check.burn_no_captions": "Geen ondertiteling in {languages} om in het beeld te zetten ({channel}).",
    "check.cover_after_end": "De omslag op {frame} s ligt na het einde van de video ({seconds} s).",
    "check.cover_frame": "{platform} neemt alleen een beeld uit de video als omslag ({channel}): kies een seconde.",
    "check.video_and_card": "Een post met een video heeft geen kaart: geef de video een omslag.",
    "plan.link_default": "Zonder link gebruikt {{{{ link }}}} die van de campagne: {link}",
    "plan.card_failed": "Voorbeeld van de kaart lukt niet: {error}",
    "arch.title": "Archief", "arch.from": "Van", "arch.to": "Tot en met",
    "arch.export": "Archief en rapport maken", "arch.download": "Download {name}",
    "arch.done": "Klaar: {path}",
    "err.action": "Niet gelukt: {error}",
    "err.config": "Het dashboard kan niet starten: de instellingen kloppen niet. Verbeter wat hieronder staat "
                  "en laad deze pagina opnieuw.",
    "err.database": "Het dashboard kan niet starten: de database is er nog niet of is verouderd. Doe wat "
                    "hieronder staat en laad deze pagina opnieuw.",
    "err.config_where": "Gevonden door dezelfde controle als `outreach validate` en `outreach run`:",
    "hint.failed": "Het platform weigerde de post na alle pogingen. Pas hem aan en probeer opnieuw, of annuleer.",
    "hint.too_late": "De bijeenkomst waarover deze post gaat was al begonnen, dus hij is niet geplaatst. "
                     "Plaats hem met de hand als hij nog zin heeft, of annuleer hem.",
    "hint.retrying": "Het platform antwoordde niet goed; er wordt vanzelf opnieuw geprobeerd.",
    "hint.auth": "Het platform weigerde de inloggegevens van dit kanaal: vernieuw de toegang.",
    "hint.harvest_error": "Cijfers ophalen lukte niet; er wordt later opnieuw geprobeerd.",
    "hint.rejected": "Afgewezen bij beoordeling", "hint.token_expiring": "De toegang verloopt over {days} dagen.",
    "hint.platform": "Melding van het platform (niet vertaald)",
    "action.line": "post {id} · {channel} · {language}: {before} → {after}",
    "plan.saved_counts": "{new} nieuw, {updated} gewijzigd, {again} opnieuw te beoordelen",
    "source.follower_demographics": "leeftijd van de volgers",
    "source.engaged_audience_demographics": "leeftijd van het betrokken publiek",
    "source.share": "{source}: {share} jongeren", "source.platform": "het platform", "rev.variant": "{language} · {channel}",
}

EN: dict[str, str] = {
    "app.title": "Change from within",
    "lang.label": "Taal / Language",
    "nav.overview": "Overview", "nav.campaigns": "Campaigns", "nav.meetings": "Meetings",
    "nav.communities": "Communities & platforms", "nav.schedule": "Schedule", "nav.planner": "Planner",
    "nav.review": "Review", "nav.archive": "Archive",
    "auth.title": "Log in", "auth.user": "User name", "auth.password": "Password", "auth.submit": "Log in",
    "auth.failed": "Unknown user or wrong password.", "auth.logout": "Log out",
    "auth.as": "Logged in as {user} ({roles})",
    "auth.local": "No users configured: the dashboard is reachable from this computer only (127.0.0.1) "
                  "and everyone here has every role.",
    "auth.not_local": "No users configured and the dashboard is not bound to 127.0.0.1 only. "
                      "Configure [dashboard.users] or start with --server.address 127.0.0.1.",
    "auth.denied": "Your role ({roles}) does not give access to this page.",
    "filter.period": "Period", "filter.organisation": "Organisation", "filter.community": "Community",
    "filter.platform": "Platform", "filter.campaign": "Campaign", "filter.language": "Language",
    "filter.all": "all", "filter.30d": "last 30 days", "filter.90d": "last 90 days",
    "filter.12m": "last 12 months", "filter.share": "This view is in the URL: copy the link to share it.",
    "kind.measured": "measured", "kind.estimated": "estimated", "kind.offline": "offline (attendance)",
    "kind.unknown": "unknown",
    "ov.title": "Overview", "ov.meetings": "Meetings held", "ov.target": "of {target}",
    "ov.on_track": "on track", "ov.behind": "behind schedule", "ov.expected": "expected by now: {n}",
    "ov.posts": "Posts published", "ov.reach": "Total reach",
    "ov.reach_sum": "summed over posts: someone who saw several posts counts more than once (not unique people)", "ov.youth": "Youth reach",
    "ov.youth_share": "Youth share", "ov.engagement": "Engagement rate", "ov.trend": "Trend per month",
    "ov.youth_note": "Kinds are never added up: measured (the platform counts age), estimated (reach × "
                     "the account's youth share), offline (meeting attendance).",
    "ov.sources": "Best-reaching posts and the source of their youth figure",
    "ov.src_measured": "{n} posts · measured by the platform among logged-in viewers, about two days behind, "
                       "nothing below the platform's privacy threshold",
    "platform.manual": "by hand",
    "src.measured": "measured by {platform}",
    "src.measured.youtube": "measured by YouTube Analytics: logged-in viewers (13+), about two days behind, "
                            "no figure below YouTube's threshold",
    "src.estimated": "estimated: reach × {share} young among the {metric} ({day})",
    "src.unknown": "–",
    "audience.follower_demographics": "followers", "audience.engaged_audience_demographics": "engaged audience",
    "ov.src_estimated": "{n} posts · reach × the account's youth share",
    "ov.src_offline": "{n} meetings · attendance lists",
    "ov.share_note": "youth reach (measured + estimated) / reach, over {n} posts with age data ({platforms})",
    "ov.basis": "interactions / reach, over {n} posts that report reach ({platforms})",
    "ov.plan": "plan for this period: {plan}",
    "ov.definition_change": "¹ From {day}, {platform} counts {measure} differently (the platform replaced its "
                            "measure): figures before and after that date do not measure the same thing.",
    "ov.definition_names": "The platform's name: \u2018{old}\u2019, from {day} \u2018{new}\u2019.",
    "def.unconfirmed": UNCONFIRMED["en"],
    "measure.reach": "reach", "measure.views": "views", "measure.likes": "likes", "measure.comments": "comments",
    "measure.shares": "shares", "measure.saves": "saves", "measure.clicks": "clicks",
    "measure.watch_time_s": "watch time", "measure.average_view_s": "average view duration",
    "privacy.hidden": "× = hidden as well, so that a count under 10 cannot be worked out from the total minus the rest.",
    "ov.share_of_alliance": "{share} of all {n} alliance meetings in this period", "ov.none": "No data for this selection yet.",
    "col.post": "Post", "col.channel": "Channel", "col.platform": "Platform", "col.language": "Language",
    "status.draft": "draft", "status.pending_review": "awaiting review", "status.approved": "scheduled",
    "status.rejected": "rejected", "status.publishing": "being posted", "status.retrying": "retrying",
    "status.published": "posted", "status.failed": "failed", "status.manual_due": "to post by hand",
    "status.cancelled": "cancelled",
    "what.failed": "failed", "what.too_late": "too late, not posted", "what.retrying": "retrying", "what.manual_due": "to post by hand",
    "what.manual_overdue": "to post by hand (late)", "what.auth": "login failed",
    "what.harvest_error": "fetching figures failed", "what.rejected": "rejected",
    "what.token_expiring": "access expiring", "what.manual_hint": "Post this by hand, then confirm it here.",
    "what.tiktok_app": "finish in the TikTok app", "what.tiktok_app_overdue": "finish in the TikTok app (late)",
    "what.tiktok_app_hint": "Open the TikTok app: finish the post from your inbox (or check whether it is already "
                            "there), then confirm it here with its link.",
    "col.status": "Status", "col.due": "Due (local)", "col.reach": "Reach", "col.youth": "Youth",
    "col.kind": "Kind", "col.source": "Source", "col.link": "Link", "col.text": "Text",
    "col.meeting": "Meeting", "col.campaign": "Campaign", "col.posts": "Posts",
    "col.organisation": "Organisation", "col.community": "Community", "col.city": "City",
    "col.start": "Starts (local)", "col.attendance": "Attendance", "col.evaluation": "Evaluation",
    "col.engagement": "Engagement", "col.watch_time": "Watch time (hours)", "col.detail": "Details", "col.reason": "Reason", "col.who": "Who",
    "col.when": "When", "decision.approved": "approved", "decision.rejected": "rejected",
    "decision.confirmed": "posted by hand", "decision.revoked": "revoked", "col.theme": "Theme", "col.alt": "alt text", "col.decision": "Decision", "col.published": "Published",
    "csv": "Download CSV", "choose": "Choose…", "chart.no_data": "no data",
    "camp.title": "Campaigns", "meet.title": "Meetings", "meet.pick": "Meeting",
    "meet.posts": "Posts about this meeting", "meet.outcome": "Outcome",
    "meet.no_outcome": "No attendance or evaluation recorded yet.",
    "comm.title": "Communities & platforms", "comm.by": "Compare by",
    "comm.best": "Posts that reached young people best",
    "sched.title": "Schedule", "sched.upcoming": "Upcoming posts", "sched.attention": "Needs attention",
    "sched.none": "Nothing needs attention.", "sched.retry": "Retry", "sched.cancel": "Cancel",
    "sched.confirm": "Posted by hand", "sched.permalink": "Link to the post", "sched.reach": "Reach (optional)",
    "sched.done": "{n} post(s): {what}.", "sched.reschedule": "Reschedule",
    "sched.reschedule_help": "A post from a campaign file gets the file's time back "
    "when the file is loaded again.", "sched.time": "Time",
    "plan.title": "Planner", "plan.meeting": "Meeting", "plan.name": "Name (unique per meeting)",
    "plan.languages": "Languages", "plan.channels": "Channels", "plan.date": "Date", "plan.time": "Time (local)",
    "plan.card": "Card", "plan.no_card": "no card", "plan.text": "Text ({lang})",
    "plan.alt": "Card alt text ({lang})", "plan.link": "Link (optional)", "plan.preview": "Preview",
    "plan.ok": "Everything fits the platforms' limits.", "plan.save": "Save and send to review",
    "plan.saved": "Saved: {summary}", "plan.no_meetings": "There are no meetings yet.",
    "plan.found": "Found: {n}", "plan.find": "Find a meeting", "plan.find_hint": "organisation, city, venue, community or code",
    "plan.earlier": "Earlier meetings (more than {days} days ago)",
    "plan.shown": "{shown} of {total} meetings in the list: search to find another.",
    "plan.none_found": "No meeting found: search for something else, or switch earlier meetings on or off.",
    "plan.empty": "No text yet in: {languages} (write it, or remove the language).",
    "plan.help": "Template fields: {{ meeting.start | date }}, {{ meeting.city }}, {{ link }} …",
    "rev.title": "Review", "rev.none": "Nothing to review.", "rev.approve": "Approve", "rev.reject": "Reject",
    "rev.reason": "Reason (required to reject)", "rev.done": "{what}",
    "rev.audit": "Audit trail: who did what",
    "rev.reason_needed": "write a reason to reject (the writer sees it).",
    "sched.upcoming_note": "Soonest first; times in {tz}.", "page.label": "Page",
    "page.count": "{shown} of {total} · page {page} of {pages}",
    "sched.all_on_page": "Choose all {n} on this page", "sched.choose": "Choose posts",
    "sched.retry_n": "Retry ({n})", "sched.cancel_n": "Cancel ({n})",
    "sched.sure": "Are you sure? {what} {n} post(s).", "sched.yes": "Yes: {what}", "sched.no": "Back",
    "check.too_long": "Too long for {platform}: {length} of {max} characters ({channel}, {language}). "
                      "Remove {over}.",
    "check.alt_required": "The card needs an alt text ({language}): describe what it shows.",
    "check.template": "Template problem ({language}): {detail}",
    "check.name": "Name '{name}': use lowercase letters, digits, '-', '.' or '_'.",
    "check.no_language": "Choose at least one language.", "check.no_channel": "Choose at least one channel.",
    "check.unknown_channel": "Channel {channel} is not (or no longer) in the settings.",
    "check.unknown_card": "Card {card} does not exist.",
    "plan.video": "Video (optional)",
    "plan.video_upload": "Or upload a video (mp4, mov, m4v, webm; up to {mb} MB)",
    "plan.upload_failed": "This file was not kept: {name} is not a video we can read, or too large.",
    "plan.video_desc": "Video description ({lang})",
    "plan.captions": "Captions {lang} (.srt or .vtt, optional)",
    "plan.captions_kept": "Captions {lang}: {name}",
    "plan.cover_frame": "Cover: frame at second (optional)", "plan.cover_card": "Cover drawn as a card (optional)",
    "plan.option.share_to_feed": "{channel}: also show the Reel in the feed",
    "plan.option.burn_captions": "{channel}: burn the captions into the picture",
    "check.video_too_short": "Too short for {platform}: {seconds} s, at least {limit} s ({channel}).",
    "check.video_too_long": "Too long for {platform}: {seconds} s, at most {limit} s ({channel}).",
    "check.video_too_large": "Too large for {platform}: {megabytes} MB, at most {limit_mb} MB ({channel}).",
    "check.video_too_small": "Too small for {platform}: {megabytes} MB, at least {limit_mb} MB ({channel}).",
    "check.no_video": "{platform} cannot publish video (yet) ({channel}): choose another channel.",
    "check.video_missing": "The video can no longer be found: choose it again.",
    "check.video_unreadable": "This file is not a video we can read.",
    "check.video_outside": "This video is not in an allowed folder: choose one from the list or upload it.",
    "check.video_description": "The video needs a description ({languages}): say what can be seen in it.",
    "check.captions_missing": "The caption file ({language}) can no longer be found.",
    "check.captions_error": "The caption file {file} ({language}) has a problem on line {line}: {detail}",
    "check.captions_dropped": "{platform} takes no caption files ({channel}): the captions will not be shown "
                              "there. Burn them into the picture, or leave it.",
    "check.captions_too_large": "The caption file ({language}) is too large for {platform} ({channel}).",
    "check.captions_languages": "Captions in too many languages for {platform} ({channel}).",
    "check.burn_no_captions": "No captions in {languages} to burn into the picture ({channel}).",
    "check.cover_after_end": "The cover at {frame} s is after the end of the video ({seconds} s).",
    "check.cover_frame": "{platform} takes only a frame of the video as its cover ({channel}): choose a second.",
    "check.video_and_card": "A post with a video has no card: give the video a cover.",
    "plan.link_default": "Without a link, {{{{ link }}}} is the campaign's: {link}",
    "plan.card_failed": "The card preview did not work: {error}",
    "arch.title": "Archive", "arch.from": "From", "arch.to": "Up to and including",
    "arch.export": "Build archive and report", "arch.download": "Download {name}", "arch.done": "Done: {path}",
    "err.action": "Did not work: {error}",
    "err.config": "The dashboard cannot start: the settings are not right. Correct what is shown below and "
                  "reload this page.",
    "err.database": "The dashboard cannot start: the database does not exist yet or is out of date. Do what "
                    "is shown below and reload this page.",
    "err.config_where": "Found by the same check as `outreach validate` and `outreach run`:",
    "hint.failed": "The platform refused the post after every attempt. Edit it and retry, or cancel it.",
    "hint.too_late": "The meeting this post is about had already begun, so it was not posted. Post it by "
                     "hand if it still makes sense, or cancel it.",
    "hint.retrying": "The platform did not answer properly; it is retried automatically.",
    "hint.auth": "The platform refused this channel's credentials: renew the access.",
    "hint.harvest_error": "Fetching figures did not work; it is retried later.",
    "hint.rejected": "Rejected in review", "hint.token_expiring": "Access expires in {days} days.",
    "hint.platform": "The platform's message (not translated)",
    "action.line": "post {id} · {channel} · {language}: {before} → {after}",
    "plan.saved_counts": "{new} new, {updated} changed, {again} to review again",
    "source.follower_demographics": "followers' ages",
    "source.engaged_audience_demographics": "engaged audience's ages",
    "source.share": "{source}: {share} young", "source.platform": "the platform", "rev.variant": "{language} · {channel}",
}

WORDS: dict[Lang, dict[str, str]] = {Lang.NL: NL, Lang.EN: EN}
# Babel's locale per interface language: numbers, percentages, dates and language names follow it.
LOCALES: dict[Lang, str] = {Lang.NL: "nl_NL", Lang.EN: "en_GB"}


LANG_KEY = "ui_lang"


def current() -> Lang:
    """The chosen language: the sidebar switch, else `?lang=` in the URL, else Dutch."""
    for value in (st.session_state.get(LANG_KEY), st.query_params.get("lang")):
        if value in (Lang.NL.value, Lang.EN.value):
            return Lang(value)
    return Lang.NL


def t(key: str, **values: object) -> str:
    """The word for `key` in the current language (the key itself when missing, so gaps show)."""
    text = WORDS[current()].get(key) or NL.get(key) or key
    return text.format(**values) if values else text


def number(value: float) -> str:
    """12.345 in Dutch, 12,345 in English."""
    return _decimal(value, LOCALES[current()])


def number_format() -> Callable[[float], str]:
    """`number` for the current language, the language looked up once (a table formats thousands of cells)."""
    return partial(_decimal, locale=LOCALES[current()])


@lru_cache(maxsize=8192)
def _decimal(value: float, locale: str) -> str:  # Babel takes ~0.1 ms a number; tables repeat their values
    return format_decimal(value, locale=locale)


def hours(value: float | None) -> str:
    """Watch time in hours with one decimal (1.234,5 / 1,234.5); "geen gegevens" / "no data" where the
    platform reports none (analytics' `watch_hours` says which)."""
    return t("chart.no_data") if value is None else format_decimal(value, "#,##0.0", locale=LOCALES[current()])


def one_decimal(value: float) -> str:
    """2,0 in Dutch, 2.0 in English (seconds of a video, megabytes)."""
    return format_decimal(value, "#,##0.0", locale=LOCALES[current()])


def percent(value: float | None) -> str:
    """20,6% in Dutch, 20.6% in English; "–" when there is no figure."""
    return "–" if value is None else format_percent(value, "#,##0.0%", locale=LOCALES[current()])


def month(day: date) -> str:
    """A chart's month label in the reader's language ("mrt 2027", "Mar 2027")."""
    return format_date(day, "MMM yyyy", locale=LOCALES[current()])


# Codes the community languages use that Babel (CLDR) has no name for: "ber" is the Berber family, which
# the alliance writes Tamazight in (CLDR names only single varieties: tzm, zgh, shi, rif, kab).
OTHER_LANGUAGES = {"ber": "Tamazight"}


def language_name(code: str) -> str:
    """"Turks" / "Turkish" for "tr"; the code itself only when neither Babel nor OTHER_LANGUAGES names it."""
    return Locale.parse(LOCALES[current()]).languages.get(code) or OTHER_LANGUAGES.get(code, code)


def status(code: str) -> str:
    """A post status in words ("ingepland" for "approved")."""
    return t(f"status.{code}")


def platform_name(platform: str) -> str:
    """"YouTube" for "youtube": the brand's spelling from its connector, the same in every language; a
    manual channel in the reader's language."""
    return t("platform.manual") if platform == "manual" else analytics.platform_name(platform)


# How a date picker writes its date, per language (Streamlit takes only these three patterns).
DATE_INPUTS: dict[Lang, str] = {Lang.NL: "DD-MM-YYYY", Lang.EN: "YYYY-MM-DD"}


def date_input_format() -> str:
    return DATE_INPUTS[current()]
