"""Campaign files (`campaigns/*.yaml`): validation, expansion into posts, idempotent loading.

    plan = plan_campaign("campaigns/voorjaar-2027.yaml", settings)     # raises CampaignError
    report = schedule_campaign(db, plan, now=datetime.now(UTC))        # one transaction
    print(report.summary()); print(*report.lines(), sep="\\n")

Campaign file format
--------------------
All times are local wall-clock times in `campaign.timezone`, written `YYYY-MM-DD HH:MM` (quote
them or not; outreach parses them itself). Ids are lowercase slugs (`iot-rotterdam-2027-03`).

    campaign:
      id: voorjaar-2027               # slug; the campaign's key in the database
      name: Voorjaar 2027
      timezone: Europe/Amsterdam      # default
      utm: true                       # tag links with utm_source/utm_medium/utm_campaign (default on)
      link: https://example.org/agenda   # default link of every post (optional)
      channels: [peer-mastodon, peer-bluesky]   # default channels of every rule
      approval: required              # required (default) | none

    organisations:                    # optional: codes beyond the alliance's seven
      MOV: Movisie

    meetings:
      - id: iot-rotterdam-2027-03
        kind: community               # community (counts toward the 700) | training | municipal
        organisation: IOT             # IOT, Kezban, FSAN, SMN, Mudawwanah, HTIB, VON (+ organisations:)
        community: Turkse Nederlanders
        city: Rotterdam
        venue: Wijkcentrum Feijenoord
        start: 2027-03-12 19:00
        end: "21:30"                  # a time (same day) or a full date and time
        languages: [nl, tr]           # the posts about this meeting are written in these
        themes: [gendergelijkheid]
        audience: jongeren 16-27
        link: https://example.org/agenda/iot-rotterdam   # optional, overrides campaign.link

    posts:
      - id: announce                  # relative: one post per meeting (× channel × language)
        at: {days: -7, time: "18:00"} # calendar days from the start, then the local clock time;
                                      # without `time` the meeting's own clock time is kept;
                                      # `hours:`/`minutes:` then add an exact offset
        kinds: [community]            # optional filters: kinds, meetings: [ids], organisations: [codes]
        text:                         # Jinja2 per language; unknown fields are errors
          nl: "Op {{ meeting.start | date }} om {{ meeting.start | time }} in {{ meeting.city }}. {{ link }}"
          tr: "..."
        card: announce                # card template (announce, reminder, recap, quote, photo) …
        # image: images/poster.jpg    # … or an image file, relative to this file
        alt_text: {nl: "...", tr: "..."}   # required per language when there is a card or image
        channels: [peer-mastodon, peer-instagram]   # default: campaign.channels
        approval: required            # default: campaign.approval
      - id: kickoff                   # absolute: one post
        at: 2027-03-01 10:00
        text: {nl: "..."}
      - id: weekly-tip                # recurring: one post per cron fire time in the local zone
        cron: "0 16 * * fri"          # minute hour day month weekday (names or crontab numbers)
        from: 2027-03-01              # dates or date-times; `until` is inclusive
        until: 2027-05-31
        text: {nl: "...", en: "..."}

Languages: a relative rule posts in each meeting's languages, other rules in the languages of
their `text`; `languages: [nl]` on a rule overrides that. A needed language without a text is an
error. Template variables: `meeting` (id, kind, organisation, organisation_name, community, city,
venue, start, end, languages, themes, audience, link; relative rules only), `campaign` (id, name,
link), `lang`, `link`, `due`. Filters: `date` (weekday day month in the post's language, or a
Babel pattern: `date("d MMMM")`), `time` ("19:30"), `datetime("full")`. With `utm` on, every URL
in the text and the link gets `utm_source=<platform>&utm_medium=social&utm_campaign=<campaign id>`
(a channel option `utm_source` overrides the source; URLs that already carry utm_source are kept).

Each post × channel × language becomes one database row; posts on `manual` channels and rules with
`approval: none` start approved, others wait for review.
"""

from __future__ import annotations

from outreach.planning.expand import campaign_files, plan_campaign, shift_to_now, validate_campaign
from outreach.planning.plan import CampaignInfo, Plan, PlannedMeeting, PlannedPost, format_plan
from outreach.planning.schedule import Action, Change, ScheduleReport, schedule_campaign
from outreach.planning.source import CampaignError, Problem

__all__ = [
    "Action",
    "CampaignError",
    "CampaignInfo",
    "Change",
    "Plan",
    "PlannedMeeting",
    "PlannedPost",
    "Problem",
    "ScheduleReport",
    "campaign_files",
    "format_plan",
    "plan_campaign",
    "schedule_campaign",
    "shift_to_now",
    "validate_campaign",
]
