"""Reasons in a marketer's words: "attended 2 webinars", "clicked 3 emails", "filled in a form".

Every activity type the rules may score and every program status they may name has its
phrase here; the rules file is checked against these tables, so a reason never falls
back to an API name such as `change_status_in_progression`.
"""

from __future__ import annotations

from dataclasses import dataclass

# The activity type that carries a program status change; scored by the new status
# (`engagement.program_statuses`), never as an activity of its own.
PROGRAM_STATUS_ACTIVITY = "change_status_in_progression"


@dataclass(frozen=True)
class Phrase:
    """A verb and the counted thing: "clicked" + ("an email", "emails")."""

    verb: str
    one: str
    many: str

    def say(self, count: int, many: str | None = None, one: str | None = None) -> str:
        if count == 1:
            return f"{self.verb} {one or self.one}"
        return f"{self.verb} {count} {many or self.many}"


# fct_engagement_events.activity_type (dbt seed marketo_activity_types) the rules may score
ACTIVITY_PHRASES: dict[str, Phrase] = {
    "open_email": Phrase("opened", "an email", "emails"),
    "click_email": Phrase("clicked", "an email", "emails"),
    "visit_webpage": Phrase("visited", "a web page", "web pages"),
    "click_link": Phrase("clicked", "a link on our site", "links on our site"),
    "fill_out_form": Phrase("filled in", "a form", "forms"),
    "download_content": Phrase("downloaded", "a document", "documents"),
    "register_for_webinar": Phrase("registered for", "a webinar", "webinars"),
    "attend_webinar": Phrase("attended", "a webinar", "webinars"),
    "view_personalized_content": Phrase("viewed", "personalised content", "personalised pages"),
    "click_personalized_call_to_action": Phrase("clicked", "a call to action", "calls to action"),
    "view_retargeting_ad": Phrase("saw", "an ad", "ads"),
    "click_retargeting_ad": Phrase("clicked", "an ad", "ads"),
    "receive_direct_mail": Phrase("received", "a mailing", "mailings"),
    "respond_to_direct_mail": Phrase("responded to", "a mailing", "mailings"),
    "register_for_event": Phrase("registered for", "an event", "events"),
    "attend_event": Phrase("attended", "an event", "events"),
    "visit_trade_show_booth": Phrase("visited our booth at", "a trade show", "trade shows"),
    "exchange_business_cards": Phrase("exchanged business cards at", "a meeting", "meetings"),
    "share_content": Phrase("shared", "our content", "our content"),
    "vote_in_poll": Phrase("voted in", "a poll", "polls"),
    "click_shared_link": Phrase("clicked", "a shared link", "shared links"),
    "unsubscribe_email": Phrase("unsubscribed from", "an email", "emails"),
    "email_bounced": Phrase("bounced", "an email", "emails"),
}
CAREERS_PAGES = Phrase("visited", "a careers page", "careers pages")

# What the programme was, by its channel (fct_engagement_events.channel): singular, plural
PROGRAM_NOUNS: dict[str, tuple[str, str]] = {
    "webinar": ("a webinar", "webinars"),
    "events": ("an event", "events"),
    "direct_mail": ("a mailing", "mailings"),
    "phone": ("a call", "calls"),
    "email": ("an email programme", "email programmes"),
    "content_download": ("a content programme", "content programmes"),
    "social": ("a social campaign", "social campaigns"),
    "web_personalization": ("a web campaign", "web campaigns"),
    "retargeting_ads": ("an ad campaign", "ad campaigns"),
}
OTHER_PROGRAM = ("a programme", "programmes")

# Marketo program statuses (the sandbox uses the first ten). `lead` says whether the lead
# did it: statuses set by sales or by the system (invited, sent, called, member) cannot
# earn points, a no-show cannot earn points either.
LEAD_ACTION = "lead"
NO_SHOW = "no_show"
BY_OTHERS = "by_others"


@dataclass(frozen=True)
class StatusMeaning:
    kind: str  # LEAD_ACTION, NO_SHOW or BY_OTHERS
    phrase: Phrase  # `one` / `many` are defaults when the channel has no noun

    @property
    def may_earn(self) -> bool:
        return self.kind == LEAD_ACTION


PROGRAM_STATUSES: dict[str, StatusMeaning] = {
    "Invited": StatusMeaning(BY_OTHERS, Phrase("was invited to", *OTHER_PROGRAM)),
    "Registered": StatusMeaning(LEAD_ACTION, Phrase("registered for", *OTHER_PROGRAM)),
    "Attended": StatusMeaning(LEAD_ACTION, Phrase("attended", *OTHER_PROGRAM)),
    "No Show": StatusMeaning(NO_SHOW, Phrase("missed", *OTHER_PROGRAM)),
    "Sent": StatusMeaning(BY_OTHERS, Phrase("was sent", *OTHER_PROGRAM)),
    "Responded": StatusMeaning(LEAD_ACTION, Phrase("responded to", *OTHER_PROGRAM)),
    "Called": StatusMeaning(BY_OTHERS, Phrase("was called", "once", "times")),
    "Connected": StatusMeaning(LEAD_ACTION, Phrase("talked to sales on", *OTHER_PROGRAM)),
    "Visited Booth": StatusMeaning(LEAD_ACTION, Phrase("visited our booth at", *OTHER_PROGRAM)),
    "Member": StatusMeaning(BY_OTHERS, Phrase("was added to", *OTHER_PROGRAM)),
    "Not in Program": StatusMeaning(BY_OTHERS, Phrase("was removed from", *OTHER_PROGRAM)),
    "Waitlisted": StatusMeaning(LEAD_ACTION, Phrase("joined the waiting list of", *OTHER_PROGRAM)),
    "Attended On-demand": StatusMeaning(
        LEAD_ACTION, Phrase("watched the recording of", *OTHER_PROGRAM)
    ),
    "Engaged": StatusMeaning(LEAD_ACTION, Phrase("engaged with", *OTHER_PROGRAM)),
    "Influenced": StatusMeaning(BY_OTHERS, Phrase("was influenced by", *OTHER_PROGRAM)),
}
# statuses whose programme noun does not come from the channel
_FIXED_NOUNS = {"Called", "Connected"}


def activity_phrase(activity: str, count: int) -> str:
    return ACTIVITY_PHRASES[activity].say(count)


def status_phrase(status: str, counts_by_channel: dict[str, int]) -> str:
    """E.g. "attended 2 webinars and an event", "talked to sales on 3 calls"."""
    meaning = PROGRAM_STATUSES[status]
    phrase = meaning.phrase
    if status == "Called":
        total = sum(counts_by_channel.values())
        return f"{phrase.verb} {'once' if total == 1 else f'{total} times'} by sales"
    if status in _FIXED_NOUNS:
        return phrase.say(sum(counts_by_channel.values()), "calls", "a call")
    parts = []
    for channel, count in sorted(counts_by_channel.items(), key=lambda kv: (-kv[1], kv[0])):
        one, many = PROGRAM_NOUNS.get(channel, OTHER_PROGRAM)
        parts.append(one if count == 1 else f"{count} {many}")
    return f"{phrase.verb} {' and '.join(parts)}"
