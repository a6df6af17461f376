"""Salesforce-style 18-character record ids (key prefix, pod, sequence, case-safe suffix)."""

from __future__ import annotations

PREFIX = {
    "Lead": "00Q",
    "Contact": "003",
    "Account": "001",
    "Opportunity": "006",
    "OpportunityHistory": "008",
    "OpportunityContactRole": "00K",
    "User": "005",
    "Task": "00T",
    "LeadHistory": "017",
    "Campaign": "701",
    "CampaignMember": "00v",
    "Job": "750",  # Bulk API 2.0 jobs (not an sObject)
}
_SUFFIX_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def _suffix(id15: str) -> str:
    out = []
    for block in range(3):
        bits = 0
        for i, ch in enumerate(id15[block * 5 : block * 5 + 5]):
            if "A" <= ch <= "Z":
                bits |= 1 << i
        out.append(_SUFFIX_CHARS[bits])
    return "".join(out)


def sf_id(sobject: str, seq: int) -> str:
    """The record id of the seq-th record of an sObject; ids sort like their sequence."""
    id15 = f"{PREFIX[sobject]}5g{seq:010d}"
    return id15 + _suffix(id15)


def sf_ids(sobject: str, seqs) -> list[str]:
    prefix = PREFIX[sobject]
    suffix = _suffix(f"{prefix}5g0000000000")  # digits never change the suffix
    return [f"{prefix}5g{int(s):010d}{suffix}" for s in seqs]


def sf_seq(record_id: str) -> int:
    return int(record_id[5:15])
