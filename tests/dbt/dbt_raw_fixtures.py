"""A small raw world for the dbt project: the raw_* tables of docs/contracts.md.

A few dozen leads, contacts and activities with the edge cases the marts must
handle: the same record in two dlt loads, mixed-case and full-width e-mails,
Japanese company legal forms, deleted Salesforce leads, archived HubSpot
contacts, duplicate Marketo leads, records without a usable address, unknown
activity types and activities of a lead that was never loaded. Plus a handful of
records for every other raw table (Marketo programs, e-mails and deletions, HubSpot
companies, owners and associations, the Salesforce objects, dropped files), again
with overlapping loads, soft deletes and columns dlt has not created yet.

Run it by hand to fill a warehouse for `dbt build`:

    python tests/dbt/dbt_raw_fixtures.py --duckdb .nurture/warehouse.duckdb
    python tests/dbt/dbt_raw_fixtures.py --postgres nurture_dev
"""

from __future__ import annotations

import argparse
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

LOAD_1 = "1717200000.100000"
LOAD_2 = "1717977600.200000"
LOAD_3 = "1718841600.300000"
BASE = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
CHANGED_LEAD_ID = 1011  # Jane Doe, known to Marketo only
ORPHAN_LEAD_ID = 424242  # activities of a lead that was never loaded
UNKNOWN_TYPE_GUID = "guid-extra-0"

Columns = list[tuple[str, str]]
TSTZ = "timestamp with time zone"
DLT_COLUMNS: Columns = [("_dlt_load_id", "varchar"), ("_dlt_id", "varchar")]


def _text(*names: str) -> Columns:
    return [(name, "varchar") for name in names]


def _sfdc(*fields: tuple[str, str], deletable: bool = True) -> Columns:
    """A Salesforce object table: Id, its fields, the audit columns every object has."""
    audit = [("created_date", TSTZ), ("system_modstamp", TSTZ)]
    return [
        ("id", "varchar"),
        *fields,
        *audit,
        *([("is_deleted", "boolean")] if deletable else []),
        *DLT_COLUMNS,
    ]


# the columns of every raw_files kind table; no _dlt_id (loaded as Arrow pages)
FILE_ROW_COLUMNS: Columns = [
    ("file_sha256", "varchar"),
    ("row_number", "bigint"),
    *_text("company", "department", "title", "last_name", "first_name", "full_name"),
    *_text("last_name_kana", "first_name_kana", "email", "phone", "mobile", "postal_code"),
    *_text("address", "url"),
    ("met_on", "date"),
    *_text("event_name", "owner", "note", "extra"),
    ("_dlt_load_id", "varchar"),
]

TABLES: dict[str, Columns] = {
    "raw_marketo.leads": [
        ("id", "bigint"),
        ("email", "varchar"),
        ("first_name", "varchar"),
        ("last_name", "varchar"),
        ("company", "varchar"),
        ("title", "varchar"),
        ("industry", "varchar"),
        ("number_of_employees", "bigint"),
        ("lead_source", "varchar"),
        ("unsubscribed", "boolean"),
        ("email_invalid", "boolean"),
        ("created_at", "timestamp with time zone"),
        ("updated_at", "timestamp with time zone"),
        ("_dlt_load_id", "varchar"),
        ("_dlt_id", "varchar"),
    ],
    "raw_marketo.activities": [
        ("marketo_guid", "varchar"),
        ("id", "bigint"),
        ("lead_id", "bigint"),
        ("activity_date", "timestamp with time zone"),
        ("activity_type_id", "bigint"),
        ("campaign_id", "bigint"),
        ("primary_attribute_value_id", "bigint"),
        ("primary_attribute_value", "varchar"),
        # attribute columns dlt has seen so far; referrer_url, form_name, ... are not
        # there yet, which staging must tolerate
        ("mailing_id", "bigint"),
        ("link", "varchar"),
        ("webpage_url", "varchar"),
        ("variant", "varchar"),
        ("campaign_run_id", "bigint"),
        ("channel", "varchar"),
        ("_dlt_load_id", "varchar"),
        ("_dlt_id", "varchar"),
    ],
    "raw_hubspot.contacts": [
        ("id", "varchar"),
        ("email", "varchar"),
        ("firstname", "varchar"),
        ("lastname", "varchar"),
        ("company", "varchar"),
        ("jobtitle", "varchar"),
        ("industry", "varchar"),
        ("lifecyclestage", "varchar"),
        ("hs_lead_status", "varchar"),
        ("hubspot_owner_id", "varchar"),
        ("createdate", "timestamp with time zone"),
        ("lastmodifieddate", "timestamp with time zone"),
        ("archived", "boolean"),
        ("_dlt_load_id", "varchar"),
        ("_dlt_id", "varchar"),
    ],
    "raw_salesforce.leads": [
        ("id", "varchar"),
        ("email", "varchar"),
        ("first_name", "varchar"),
        ("last_name", "varchar"),
        ("company", "varchar"),
        ("title", "varchar"),
        ("industry", "varchar"),
        ("status", "varchar"),
        ("lead_source", "varchar"),
        ("owner_id", "varchar"),
        ("is_converted", "boolean"),
        ("is_deleted", "boolean"),
        ("created_date", "timestamp with time zone"),
        ("system_modstamp", "timestamp with time zone"),
        ("_dlt_load_id", "varchar"),
        ("_dlt_id", "varchar"),
    ],
    "raw_marketo.deleted_leads": [
        ("lead_id", "bigint"),
        ("id", "bigint"),
        ("marketo_guid", "varchar"),
        ("activity_date", TSTZ),
        ("activity_type_id", "bigint"),
        ("primary_attribute_value_id", "bigint"),
        ("primary_attribute_value", "varchar"),
        ("merged_into_lead_id", "bigint"),
        *DLT_COLUMNS,
    ],
    # no status or workspace yet: empty in every program so far (schema drift)
    "raw_marketo.programs": [
        ("id", "bigint"),
        *_text("name", "type", "channel", "tag_content_type"),
        ("created_at", TSTZ),
        ("updated_at", TSTZ),
        ("start_date", TSTZ),
        ("end_date", TSTZ),
        *DLT_COLUMNS,
    ],
    "raw_marketo.emails": [
        ("id", "bigint"),
        *_text("name", "subject"),
        ("program_id", "bigint"),
        *_text("status", "description"),
        ("created_at", TSTZ),
        ("updated_at", TSTZ),
        ("is_open_tracking_disabled", "boolean"),
        *DLT_COLUMNS,
    ],
    "raw_hubspot.companies": [
        ("id", "varchar"),
        *_text("name", "domain", "industry"),
        ("numberofemployees", "bigint"),
        *_text("city", "country", "lifecyclestage", "hubspot_owner_id"),
        ("createdate", TSTZ),
        ("hs_lastmodifieddate", TSTZ),
        ("hs_object_id", "varchar"),
        ("archived", "boolean"),
        ("archived_at", TSTZ),
        *DLT_COLUMNS,
    ],
    "raw_hubspot.owners": [
        ("id", "varchar"),
        *_text("email", "first_name", "last_name"),
        ("user_id", "bigint"),
        ("created_at", TSTZ),
        ("updated_at", TSTZ),
        ("archived", "boolean"),
        *DLT_COLUMNS,
    ],
    "raw_hubspot.contact_company_associations": [
        ("contact_id", "varchar"),
        ("company_id", "varchar"),
        ("association_type_id", "bigint"),
        *_text("association_category", "association_label"),
        *DLT_COLUMNS,
    ],
    "raw_salesforce.contacts": _sfdc(
        *_text("account_id", "email", "first_name", "last_name", "title", "department"),
        *_text("lead_source", "owner_id"),
    ),
    "raw_salesforce.accounts": _sfdc(
        *_text("name", "website", "industry"), ("number_of_employees", "bigint"), *_text("owner_id")
    ),
    "raw_salesforce.opportunities": _sfdc(
        *_text("account_id", "name", "stage_name"),
        ("amount", "double precision"),
        ("close_date", "date"),
        ("is_closed", "boolean"),
        ("is_won", "boolean"),
        ("probability", "double precision"),
        *_text("lead_source", "owner_id"),
    ),
    "raw_salesforce.opportunity_history": _sfdc(
        *_text("opportunity_id", "stage_name"),
        ("amount", "double precision"),
        ("close_date", "date"),
        ("probability", "double precision"),
    ),
    "raw_salesforce.opportunity_contact_roles": _sfdc(
        *_text("opportunity_id", "contact_id", "role"), ("is_primary", "boolean")
    ),
    # no task yet: the table exists, empty (docs/contracts.md)
    "raw_salesforce.tasks": _sfdc(
        *_text("who_id", "subject", "description", "status", "priority"),
        ("activity_date", "date"),
        *_text("owner_id"),
    ),
    "raw_salesforce.campaigns": _sfdc(
        *_text("name", "type"),
        ("start_date", "date"),
        ("end_date", "date"),
        ("is_active", "boolean"),
    ),
    "raw_salesforce.campaign_members": _sfdc(
        *_text("campaign_id", "lead_id", "contact_id", "status"), ("has_responded", "boolean")
    ),
    "raw_salesforce.users": _sfdc(
        *_text("name", "first_name", "last_name", "email", "title"),
        ("is_active", "boolean"),
        deletable=False,
    ),
    # field history has no SystemModstamp (its rows are never modified); none loaded yet
    "raw_salesforce.lead_history": [
        ("id", "varchar"),
        *_text("lead_id", "field", "old_value", "new_value"),
        ("created_date", TSTZ),
        ("is_deleted", "boolean"),
        *DLT_COLUMNS,
    ],
    "raw_files.trade_show": FILE_ROW_COLUMNS,
    # an export without the free-form columns: no extra yet
    "raw_files.business_cards": [c for c in FILE_ROW_COLUMNS if c[0] != "extra"],
    "raw_files.imported_files": [
        ("sha256", "varchar"),
        *_text("name", "kind", "encoding"),
        ("rows", "bigint"),
        ("quarantined", "bigint"),
        ("imported_at", TSTZ),
        *_text("run_id"),
        ("_dlt_load_id", "varchar"),
        ("_dlt_id", "varchar"),
    ],
}

# (first, last, company as each system spells it (sfdc, hubspot, marketo), title, industry, email)
PEOPLE: list[tuple[str, str, tuple[str, str, str], str, str, str]] = [
    (
        "太郎",
        "山田",
        ("株式会社山田商事", "山田商事（株）", "山田商事㈱"),
        "営業部長",
        "商社",
        "taro.yamada@yamada-shoji.co.jp",
    ),
    (
        "花子",
        "佐藤",
        ("（株）佐藤製作所", "株式会社 佐藤製作所", "佐藤製作所"),
        "課長",
        "製造",
        "hanako.sato@sato-ss.co.jp",
    ),
    (
        "一郎",
        "鈴木",
        ("鈴木物産株式会社", "鈴木物産(株)", "鈴木物産 株式会社"),
        "Director",
        "商社",
        "ichiro@suzuki-bussan.jp",
    ),
    (
        "美咲",
        "高橋",
        ("有限会社高橋商店", "高橋商店", "（有）高橋商店"),
        "店長",
        "小売",
        "misaki@takahashi-shoten.jp",
    ),
    (
        "健",
        "田中",
        ("田中システムズ株式会社", "田中システムズ", "ＴＡＮＡＫＡシステムズ"),
        "CTO",
        "IT",
        "ken.tanaka@tanaka-sys.co.jp",
    ),
    (
        "直子",
        "伊藤",
        ("Ito Consulting Co., Ltd.", "Ito Consulting", "ITO CONSULTING CO.,LTD."),
        "VP Marketing",
        "コンサルティング",
        "naoko.ito@ito-consulting.com",
    ),
    (
        "翔",
        "渡辺",
        ("ワタナベ電機(株)", "ワタナベ電機株式会社", "ワタナベ電機"),
        "主任",
        "製造",
        "sho.watanabe@watanabe-denki.co.jp",
    ),
    (
        "さくら",
        "中村",
        ("中村ホールディングス株式会社", "中村HD", "中村ホールディングス"),
        "部長",
        "金融",
        "sakura@nakamura-hd.co.jp",
    ),
    (
        "大輔",
        "小林",
        ("Kobayashi Trading Inc.", "Kobayashi Trading, Inc.", "KOBAYASHI TRADING"),
        "Manager",
        "商社",
        "daisuke@kobayashi-trading.com",
    ),
    (
        "由美",
        "加藤",
        ("合同会社加藤ラボ", "加藤ラボ", "加藤ラボ合同会社"),
        "代表",
        "IT",
        "yumi.kato@kato-lab.jp",
    ),
    (
        "John",
        "Smith",
        ("Acme Corporation", "Acme Corp.", "ACME Inc."),
        "Head of Sales",
        "Software",
        "john.smith@acme.com",
    ),
    (
        "Jane",
        "Doe",
        ("Globex Inc.", "Globex", "Globex, Inc."),
        "CMO",
        "Software",
        "jane.doe@globex.com",
    ),
    (
        "Bob",
        "Lee",
        ("Initech Co., Ltd.", "Initech", "Initech Co Ltd"),
        "Engineer",
        "IT",
        "bob.lee@initech.com",
    ),
    (
        "Alice",
        "Wong",
        ("Umbrella Corporation", "Umbrella", "Umbrella Corp"),
        "VP Operations",
        "Pharma",
        "alice.wong@umbrella.com",
    ),
    (
        "Carlos",
        "Diaz",
        ("Hooli LLC", "Hooli", "Hooli, LLC"),
        "Analyst",
        "Internet",
        "carlos@hooli.com",
    ),
    (
        "Mei",
        "Chen",
        ("Soylent Limited", "Soylent", "Soylent Ltd."),
        "Director",
        "Food",
        "mei.chen@soylent.com",
    ),
    (
        "陽子",
        "松本",
        ("株式会社松本工業", "松本工業", "松本工業株式会社"),
        "課長",
        "製造",
        "yoko.matsumoto@matsumoto-kk.jp",
    ),
    (
        "誠",
        "井上",
        ("井上建設株式会社", "井上建設", "井上建設㈱"),
        "部長",
        "建設",
        "makoto.inoue@inoue-kensetsu.jp",
    ),
    (
        "Emma",
        "Brown",
        ("Stark Industries", "Stark Industries Inc", "STARK INDUSTRIES"),
        "Buyer",
        "Manufacturing",
        "emma.brown@stark.com",
    ),
    (
        "Liam",
        "Davis",
        ("Wayne Enterprises", "Wayne Enterprises", "Wayne Enterprises Inc."),
        "Director",
        "Finance",
        "liam.davis@wayne.com",
    ),
    (
        "拓也",
        "木村",
        ("木村物流株式会社", "木村物流", "木村物流(株)"),
        "主任",
        "物流",
        "takuya.kimura@kimura-logi.jp",
    ),
    (
        "恵",
        "林",
        ("林不動産株式会社", "林不動産", "林不動産"),
        "営業",
        "不動産",
        "megumi.hayashi@hayashi-re.jp",
    ),
    (
        "Olivia",
        "Clark",
        ("Cyberdyne Systems Corp.", "Cyberdyne", "Cyberdyne Systems"),
        "CISO",
        "Security",
        "olivia.clark@cyberdyne.io",
    ),
    (
        "Noah",
        "Lewis",
        ("Tyrell Corporation", "Tyrell", "Tyrell Corp."),
        "Researcher",
        "Biotech",
        "noah.lewis@tyrell.com",
    ),
]


@dataclass
class RawWorld:
    """Rows per raw table, as dlt would have loaded them."""

    rows: dict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: {name: [] for name in TABLES}
    )

    def add(self, table: str, **values: Any) -> None:
        row = {column: values.get(column) for column, _ in TABLES[table]}
        row["_dlt_id"] = f"{table}:{len(self.rows[table])}"
        self.rows[table].append(row)

    def add_many(self, table: str, rows: Iterable[dict[str, Any]], **common: Any) -> None:
        for values in rows:
            self.add(table, **{**common, **values})

    def reload(self, table: str, key: str, value: Any, load_id: str, **changes: Any) -> None:
        """The record `key = value` delivered again by a later load, maybe changed."""
        row = next(row for row in reversed(self.rows[table]) if row[key] == value)
        self.add(table, **{**row, **changes, "_dlt_load_id": load_id})


def _email_variant(email: str, system: str, index: int) -> str:
    """The same address as each system tends to hold it."""
    if system == "salesforce":
        return email.upper() if index % 4 == 0 else email
    if system == "hubspot":
        local, domain = email.split("@")
        if index % 5 == 1:
            # typed on a Japanese IME: full-width characters and an ideographic space
            return (
                unicodedata.normalize("NFKC", email).translate(
                    {c: c + 0xFEE0 for c in range(0x21, 0x7F)}
                )
                + "\u3000"
            )
        return f"  {local.title()}@{domain.upper()} "
    return email if index % 3 else email.capitalize()


def build_world() -> RawWorld:
    """The first two loads: every system, overlapping loads, edge cases."""
    world = RawWorld()
    for index, (first, last, companies, title, industry, email) in enumerate(PEOPLE):
        created = BASE + timedelta(days=index)
        marketo_id = 1000 + index
        # Marketo holds everyone but two sales-sourced leads
        if index not in (7, 16):
            world.add(
                "raw_marketo.leads",
                id=marketo_id,
                email=_email_variant(email, "marketo", index),
                first_name=first,
                last_name=last,
                company=companies[2],
                title=title,
                industry=industry,
                number_of_employees=50 * (index + 1),
                lead_source="Web" if index % 2 else "Trade Show",
                unsubscribed=index == 5,
                email_invalid=index == 9,
                created_at=created,
                updated_at=created + timedelta(hours=1),
                _dlt_load_id=LOAD_1,
            )
        if index % 3 != 2 and index != 16:
            world.add(
                "raw_hubspot.contacts",
                id=str(5000 + index),
                email=_email_variant(email, "hubspot", index),
                firstname=first,
                lastname=last,
                company=companies[1],
                jobtitle=None if index % 4 == 0 else title,
                industry=industry,
                lifecyclestage=[
                    "lead",
                    "marketingqualifiedlead",
                    "salesqualifiedlead",
                    "subscriber",
                ][index % 4],
                hs_lead_status="OPEN",
                hubspot_owner_id=str(70 + index % 3),
                createdate=created + timedelta(hours=2),
                lastmodifieddate=created + timedelta(hours=3),
                archived=index == 10,
                _dlt_load_id=LOAD_1,
            )
        if index % 2 == 0 or index in (7, 16):
            world.add(
                "raw_salesforce.leads",
                id=f"00Q5g00000{index:08d}AA",
                email=_email_variant(email, "salesforce", index),
                first_name=first,
                last_name=last,
                company=companies[0],
                title=title,
                industry=industry,
                status="Closed - Converted" if index == 4 else "Open - Not Contacted",
                lead_source="Partner",
                owner_id=f"0055g0000{index % 2}",
                is_converted=index == 4,
                # a deleted duplicate of a person others still hold, and a sales-only
                # lead deleted outright
                is_deleted=index in (2, 16),
                created_date=created + timedelta(hours=4),
                system_modstamp=created + timedelta(hours=5),
                _dlt_load_id=LOAD_1,
            )

    # load 2 overlaps load 1: changed records come again with a later updated time
    world.add(
        "raw_marketo.leads",
        id=1000,
        email="Taro.Yamada@Yamada-Shoji.co.jp",
        first_name="太郎",
        last_name="山田",
        company="山田商事㈱",
        title="取締役営業部長",
        industry="商社",
        number_of_employees=120,
        lead_source="Trade Show",
        unsubscribed=False,
        email_invalid=False,
        created_at=BASE,
        updated_at=BASE + timedelta(days=20),
        _dlt_load_id=LOAD_2,
    )
    world.add(
        "raw_hubspot.contacts",
        id="5001",
        email="hanako.sato@sato-ss.co.jp",
        firstname="花子",
        lastname="佐藤",
        company="株式会社 佐藤製作所",
        jobtitle="部長",
        industry="製造",
        lifecyclestage="salesqualifiedlead",
        hs_lead_status="IN_PROGRESS",
        hubspot_owner_id="71",
        createdate=BASE + timedelta(days=1),
        lastmodifieddate=BASE + timedelta(days=21),
        archived=False,
        _dlt_load_id=LOAD_2,
    )
    world.add(
        "raw_salesforce.leads",
        id="00Q5g0000000000000AA",
        email="TARO.YAMADA@YAMADA-SHOJI.CO.JP",
        first_name="太郎",
        last_name="山田",
        company="株式会社山田商事",
        title="取締役営業部長",
        industry="商社",
        status="Working - Contacted",
        lead_source="Partner",
        owner_id="00550000",
        is_converted=False,
        is_deleted=False,
        created_date=BASE,
        system_modstamp=BASE + timedelta(days=22),
        _dlt_load_id=LOAD_2,
    )
    # a second Marketo lead for an existing person (MA duplicate, other case)
    world.add(
        "raw_marketo.leads",
        id=2001,
        email="JOHN.SMITH@ACME.COM",
        first_name="John",
        last_name="Smith",
        company="Acme",
        title=None,
        industry=None,
        number_of_employees=None,
        lead_source="Webinar",
        unsubscribed=False,
        email_invalid=False,
        created_at=BASE + timedelta(days=30),
        updated_at=BASE + timedelta(days=30),
        _dlt_load_id=LOAD_2,
    )
    # no usable address: a person of its own each
    for marketo_id, email in ((2002, ""), (2003, "n/a")):
        world.add(
            "raw_marketo.leads",
            id=marketo_id,
            email=email,
            first_name="名無し",
            last_name="権兵衛",
            company="不明",
            unsubscribed=False,
            email_invalid=False,
            created_at=BASE + timedelta(days=31),
            updated_at=BASE + timedelta(days=31),
            _dlt_load_id=LOAD_2,
        )

    _add_activities(world, start=BASE + timedelta(days=40), load_id=LOAD_1, first_id=1, count=40)
    _add_activities(world, start=BASE + timedelta(days=45), load_id=LOAD_2, first_id=41, count=20)
    # activities re-delivered by overlapping pages/loads
    for row in list(world.rows["raw_marketo.activities"][:3]):
        world.add("raw_marketo.activities", **{**row, "_dlt_load_id": LOAD_2})
    # an unknown activity type (warned, kept as channel 'other'), a system event
    # (not a touch) and an activity of a lead never loaded (lead_id stays null)
    extra = [(9999, 1003), (22, 1004), (11, ORPHAN_LEAD_ID)]
    for offset, (type_id, lead_id) in enumerate(extra):
        world.add(
            "raw_marketo.activities",
            marketo_guid=f"guid-extra-{offset}",
            id=900 + offset,
            lead_id=lead_id,
            activity_date=BASE + timedelta(days=46, minutes=offset),
            activity_type_id=type_id,
            campaign_id=77,
            _dlt_load_id=LOAD_2,
        )
    _add_assets_and_crm_objects(world)
    _add_salesforce_objects(world)
    _add_files(world)
    _add_engagement_world(world)
    return world


# (marketo email id, program id, description): parsed into variant / creative / content type
EMAILS: Sequence[tuple[int, int, str | None]] = (
    (300, 500, "variant=A; creative=3; content_type=problem_solution"),
    (301, 500, "variant=b;creative=4;content_type=Service_Intro"),
    (302, 501, "content_type=problem_solution; creative=7; variant=A"),
    (303, 501, None),
)
# raw_salesforce.opportunities: id -> (stage path, final stage); the sandbox's STAGES/WON/LOST
OPPORTUNITIES: dict[str, tuple[tuple[str, ...], str]] = {
    "0065g000000001AAA": (("Prospecting", "Qualification"), "Closed Won"),
    "0065g000000002AAA": (("Prospecting",), "Closed Lost"),
    "0065g000000003AAA": (("Prospecting",), "Needs Analysis"),
}
FILES = {"trade_show": "a" * 64, "business_cards": "b" * 64, "rejected": "c" * 64}


def _add_assets_and_crm_objects(world: RawWorld) -> None:
    """Marketo programs, e-mails and deletions; HubSpot companies, owners, associations."""
    created = BASE + timedelta(days=38)
    world.add_many(
        "raw_marketo.programs",
        [
            {
                "id": 500,
                "name": "Nurture Mail Vol.1",
                "type": "Email",
                "channel": "Email Send",
                "tag_content_type": "problem_solution",
            },
            {"id": 501, "name": "Spring Webinar", "type": "Event", "channel": "Webinar"},
        ],
        created_at=created,
        updated_at=created,
        start_date=created,
        end_date=created + timedelta(days=30),
        _dlt_load_id=LOAD_1,
    )
    world.reload("raw_marketo.programs", "id", 501, LOAD_2, updated_at=created + timedelta(days=2))
    world.add_many(
        "raw_marketo.emails",
        [
            {
                "id": email_id,
                "name": f"Mail {email_id}",
                "program_id": program_id,
                "description": description,
            }
            for email_id, program_id, description in EMAILS
        ],
        subject="【ご案内】",
        status="approved",
        created_at=created,
        updated_at=created,
        is_open_tracking_disabled=False,
        _dlt_load_id=LOAD_1,
    )
    world.reload("raw_marketo.emails", "id", 300, LOAD_2, updated_at=created + timedelta(days=1))
    # 2001 (John Smith's second lead) merged into 1010; 2003 (no address) deleted
    world.add_many(
        "raw_marketo.deleted_leads",
        [
            {
                "lead_id": 2001,
                "id": 9001,
                "marketo_guid": "guid-del-0",
                "merged_into_lead_id": 1010,
            },
            {"lead_id": 2003, "id": 9002, "marketo_guid": "guid-del-1"},
        ],
        activity_date=BASE + timedelta(days=47),
        activity_type_id=37,
        _dlt_load_id=LOAD_1,
    )
    world.reload("raw_marketo.deleted_leads", "lead_id", 2001, LOAD_2)

    world.add_many(
        "raw_hubspot.companies",
        [
            {"id": "9001", "name": "山田商事（株）", "domain": "WWW.Yamada-Shoji.co.jp"},
            {"id": "9002", "name": "Acme Corp.", "domain": "acme.com", "numberofemployees": 800},
            # merged away: archived, kept as a soft delete
            {
                "id": "9003",
                "name": "Acme",
                "domain": "acme.com",
                "archived": True,
                "archived_at": created + timedelta(days=3),
            },
        ],
        hubspot_owner_id="70",
        createdate=created,
        hs_lastmodifieddate=created,
        archived=False,
        _dlt_load_id=LOAD_1,
    )
    world.reload(
        "raw_hubspot.companies",
        "id",
        "9002",
        LOAD_2,
        lifecyclestage="Customer",
        hs_lastmodifieddate=created + timedelta(days=5),
    )
    world.add_many(
        "raw_hubspot.owners",
        [
            {
                "id": str(70 + n),
                "email": f" Owner{n}@Example.com",
                "user_id": 800 + n,
                "first_name": "営業",
                "last_name": f"担当{n}",
                "archived": n == 2,
            }
            for n in range(3)
        ],
        created_at=BASE,
        updated_at=BASE,
        _dlt_load_id=LOAD_1,
    )
    world.reload("raw_hubspot.owners", "id", "70", LOAD_2)
    world.add_many(
        "raw_hubspot.contact_company_associations",
        [
            {
                "contact_id": "5000",
                "company_id": "9001",
                "association_type_id": 1,
                "association_label": "Primary",
            },
            {"contact_id": "5000", "company_id": "9001", "association_type_id": 279},
            {
                "contact_id": "5010",
                "company_id": "9002",
                "association_type_id": 1,
                "association_label": "Primary",
            },
            {"contact_id": "5010", "company_id": "9003", "association_type_id": 279},
        ],
        association_category="HUBSPOT_DEFINED",
        _dlt_load_id=LOAD_1,
    )


def _add_salesforce_objects(world: RawWorld) -> None:
    """Accounts to campaign members, each with an overlapping second load of one record."""
    stamp = BASE + timedelta(days=39)
    audit = {"created_date": stamp, "system_modstamp": stamp, "_dlt_load_id": LOAD_1}
    live = {**audit, "is_deleted": False}
    world.add_many(
        "raw_salesforce.users",
        [
            {
                "id": "00550000",
                "name": "営業 一郎",
                "email": "Sales1@Example.com",
                "is_active": True,
            },
            {
                "id": "00550001",
                "name": "営業 二郎",
                "email": "sales2@example.com",
                "is_active": False,
            },
        ],
        **audit,
    )
    world.add_many(
        "raw_salesforce.accounts",
        [
            {"id": "0015g000000001AAA", "name": "株式会社山田商事", "owner_id": "00550000"},
            {"id": "0015g000000002AAA", "name": "Acme Corporation", "number_of_employees": 800},
        ],
        **live,
    )
    world.add_many(
        "raw_salesforce.contacts",
        [
            {
                "id": "0035g000000001AAA",
                "account_id": "0015g000000001AAA",
                "email": " Taro.Yamada@Yamada-Shoji.co.jp",
                "last_name": "山田",
            },
            {
                "id": "0035g000000002AAA",
                "account_id": "0015g000000002AAA",
                "email": "john.smith@acme.com",
                "last_name": "Smith",
            },
            # deleted in Salesforce: kept, flagged
            {
                "id": "0035g000000003AAA",
                "account_id": "0015g000000002AAA",
                "email": "old@acme.com",
                "last_name": "Old",
                "is_deleted": True,
            },
        ],
        **live,
    )
    for number, (opp_id, (path, final)) in enumerate(OPPORTUNITIES.items(), start=1):
        closed = final.startswith("Closed")
        world.add(
            "raw_salesforce.opportunities",
            id=opp_id,
            account_id=f"0015g00000000{1 + number % 2}AAA",
            name=f"Deal {number}",
            stage_name=path[0],
            amount=1_200_000.0 * number,
            probability=10.0,
            close_date=(stamp + timedelta(days=30)).date(),
            is_closed=False,
            is_won=False,
            **live,
        )
        # load 2 brings the deal's later stage
        world.reload(
            "raw_salesforce.opportunities",
            "id",
            opp_id,
            LOAD_2,
            stage_name=final,
            is_closed=closed,
            is_won=final == "Closed Won",
            system_modstamp=stamp + timedelta(days=number),
        )
        world.add_many(
            "raw_salesforce.opportunity_history",
            [
                {"id": f"0085g{number:06d}{step}AAA", "stage_name": stage}
                for step, stage in enumerate((*path, final))
            ],
            opportunity_id=opp_id,
            amount=1_200_000.0 * number,
            **live,
        )
    world.add_many(
        "raw_salesforce.opportunity_contact_roles",
        [
            {
                "id": "00K5g000000001AAA",
                "opportunity_id": "0065g000000001AAA",
                "contact_id": "0035g000000001AAA",
                "role": "Decision Maker",
                "is_primary": True,
            },
            {
                "id": "00K5g000000002AAA",
                "opportunity_id": "0065g000000002AAA",
                "contact_id": "0035g000000002AAA",
                "role": "Evaluator",
                "is_primary": False,
            },
        ],
        **live,
    )
    world.add_many(
        "raw_salesforce.campaigns",
        [
            {
                "id": "7015g000000001AAA",
                "name": "Spring Webinar",
                "type": "Webinar",
                "is_active": True,
            },
            {
                "id": "7015g000000002AAA",
                "name": "Expo 2024",
                "type": "Trade Show",
                "is_active": False,
            },
        ],
        start_date=stamp.date(),
        **live,
    )
    world.add_many(
        "raw_salesforce.campaign_members",
        [
            {
                "id": "00v5g000000001AAA",
                "campaign_id": "7015g000000001AAA",
                "lead_id": "00Q5g0000000000000AA",
                "status": "Responded",
                "has_responded": True,
            },
            {
                "id": "00v5g000000002AAA",
                "campaign_id": "7015g000000002AAA",
                "contact_id": "0035g000000002AAA",
                "status": "Sent",
            },
        ],
        **live,
    )
    world.reload(
        "raw_salesforce.campaign_members",
        "id",
        "00v5g000000002AAA",
        LOAD_2,
        status="Responded",
        has_responded=True,
        system_modstamp=stamp + timedelta(days=2),
    )


def _add_files(world: RawWorld) -> None:
    """A trade-show list imported twice, a business-card export and a rejected file."""
    imported = BASE + timedelta(days=41)
    world.add_many(
        "raw_files.imported_files",
        [
            {
                "sha256": FILES["trade_show"],
                "name": "expo.csv",
                "kind": "trade_show",
                "encoding": "cp932",
                "rows": 2,
            },
            {
                "sha256": FILES["business_cards"],
                "name": "cards.csv",
                "kind": "business_cards",
                "encoding": "utf-8-sig",
                "rows": 1,
            },
            {
                "sha256": FILES["rejected"],
                "name": "broken.csv",
                "kind": "trade_show",
                "quarantined": 1,
            },
        ],
        imported_at=imported,
        run_id="run-1",
        _dlt_load_id=LOAD_1,
    )
    # the same list dropped again: one row per file row all the same
    world.reload(
        "raw_files.imported_files",
        "sha256",
        FILES["trade_show"],
        LOAD_2,
        imported_at=imported + timedelta(days=1),
        run_id="run-2",
    )
    world.add_many(
        "raw_files.trade_show",
        [
            {
                "row_number": 2,
                "email": "taro.yamada@yamada-shoji.co.jp",
                "last_name": "山田",
                "postal_code": "0600001",
                "phone": "0312345678",
                "extra": '{"来場日": "2日目"}',
            },
            {"row_number": 3, "email": "new.person@example.jp", "full_name": "新規 太郎"},
        ],
        file_sha256=FILES["trade_show"],
        event_name="Expo 2024",
        met_on=imported.date(),
        _dlt_load_id=LOAD_1,
    )
    for row in list(world.rows["raw_files.trade_show"]):
        world.add("raw_files.trade_show", **{**row, "_dlt_load_id": LOAD_2})
    world.add(
        "raw_files.business_cards",
        file_sha256=FILES["business_cards"],
        row_number=2,
        email="hanako.sato@sato-ss.co.jp",
        company="（株）佐藤製作所",
        _dlt_load_id=LOAD_1,
    )


# (activity type id, program channel): touches on every channel
_ACTIVITY_CYCLE: Sequence[tuple[int, str | None]] = (
    (6, None),
    (7, None),
    (10, None),
    (11, None),
    (1, None),
    (1, "social"),
    (2, "webinar"),
    (2, None),
    (104, "Tradeshow"),
    (104, "direct_mail"),
    (400, None),
    (100004, None),
    (100007, None),
    (100010, None),
    (100003, None),
    (9, None),
    (8, None),
)


def _add_activities(
    world: RawWorld, start: datetime, load_id: str, first_id: int, count: int
) -> None:
    lead_ids = [1000 + i for i in range(len(PEOPLE)) if i not in (7, 16)] + [2001]
    for offset in range(count):
        activity_id = first_id + offset
        type_id, program_channel = _ACTIVITY_CYCLE[activity_id % len(_ACTIVITY_CYCLE)]
        is_email = type_id in (6, 7, 8, 9, 10, 11)
        world.add(
            "raw_marketo.activities",
            marketo_guid=f"guid-{activity_id:05d}",
            id=activity_id,
            lead_id=lead_ids[activity_id % len(lead_ids)],
            activity_date=start + timedelta(hours=3 * offset),
            activity_type_id=type_id,
            campaign_id=10 + activity_id % 4,
            primary_attribute_value_id=300 + activity_id % 4,
            primary_attribute_value="Nurture Mail Vol.1" if is_email else "Landing page",
            mailing_id=300 + activity_id % 4 if is_email else None,
            link="https://example.com/lp?utm_source=mail&email=x@example.com"
            if type_id == 11
            else None,
            webpage_url="https://example.com/pricing" if type_id == 1 else None,
            variant=("A", "B")[activity_id % 2] if is_email else None,
            campaign_run_id=40 + activity_id % 3 if is_email else None,
            channel=program_channel,
            _dlt_load_id=load_id,
        )


def late_load(world: RawWorld) -> RawWorld:
    """A third load: new activities, one late activity, and one re-delivered."""
    late = RawWorld()
    _add_activities(late, start=BASE + timedelta(days=50), load_id=LOAD_3, first_id=61, count=6)
    # happened before the lookback window of the newest event but arrived only now
    late.add(
        "raw_marketo.activities",
        marketo_guid="guid-late-0",
        id=990,
        lead_id=1001,
        activity_date=BASE + timedelta(days=35),
        activity_type_id=11,
        campaign_id=12,
        _dlt_load_id=LOAD_3,
    )
    late.add(
        "raw_marketo.activities",
        **{**world.rows["raw_marketo.activities"][5], "_dlt_load_id": LOAD_3},
    )
    # a person changes address: their older events, far outside the lookback
    # window, must follow them to the new lead_id
    changed = next(row for row in world.rows["raw_marketo.leads"] if row["id"] == CHANGED_LEAD_ID)
    late.add(
        "raw_marketo.leads",
        **{
            **changed,
            "email": "Jane.Doe@Globex.co.jp",
            "updated_at": BASE + timedelta(days=60),
            "_dlt_load_id": LOAD_3,
        },
    )
    return late


# ---------------------------------------------------------------- engagement marts
# Added for the engagement marts (int_email_sends ... mart_segment_response): a weekly
# A/B send of program 500 (e-mail 300 = variant A / creative 3, 301 = B / creative 4)
# whose variant A wears out (creative fatigue), with opens, clicks, landing-page
# sessions, a form fill, a late click, a bounce and an unsubscribe; plus an always-on
# social program without e-mails and its page visits.

ENGAGEMENT_PROGRAM_ID = 500
ENGAGEMENT_SOCIAL_PROGRAM_ID = 502
ENGAGEMENT_LEADS = (1000, 1001, 1002, 1003, 1004, 1006, 1008, 1010, 1011, 1012, 1013, 1014)
ENGAGEMENT_BOUNCED_LEAD = 1009  # hard-bounces on the first run, never mailed again
ENGAGEMENT_UNSUBSCRIBED_LEAD = 1014  # unsubscribes on run 4, not mailed on run 5
ENGAGEMENT_FIRST_SEND = BASE + timedelta(days=14, hours=1)
ENGAGEMENT_RUNS = 6
# clicks per run among each variant's six leads: A (creative 3) fades, B holds
_ENGAGEMENT_CLICKS = {"A": (4, 4, 3, 2, 1, 1), "B": (3, 3, 3, 3, 3, 3)}
ENGAGEMENT_SITE = "https://www.nurture.example"


def _add_engagement_world(world: RawWorld) -> None:
    world.add(
        "raw_marketo.programs",
        id=ENGAGEMENT_SOCIAL_PROGRAM_ID,
        name="Social linkedin",
        type="Default",
        channel="Social",
        created_at=BASE,
        updated_at=BASE,
        start_date=BASE,
        end_date=BASE + timedelta(days=365),
        _dlt_load_id=LOAD_1,
    )
    sequence = iter(range(100_000))

    def activity(lead_id: int, at: datetime, type_id: int, **values: Any) -> None:
        number = next(sequence)
        world.add(
            "raw_marketo.activities",
            marketo_guid=f"guid-eng-{number:05d}",
            id=20_000 + number,
            lead_id=lead_id,
            activity_date=at,
            activity_type_id=type_id,
            _dlt_load_id=LOAD_1 if at < BASE + timedelta(days=35) else LOAD_2,
            **{"campaign_id": ENGAGEMENT_PROGRAM_ID, **values},
        )

    def visits(lead_id: int, start: datetime, pages: int, campaign_id: int, channel: str) -> None:
        query = f"utm_source=marketo&utm_medium={channel}&utm_campaign=c{campaign_id}"
        for page in range(pages):
            url = f"{ENGAGEMENT_SITE}/{'lp' if page == 0 else f'page-{page}'}"
            activity(
                lead_id,
                start + timedelta(minutes=2 * page),
                1,
                campaign_id=campaign_id,
                primary_attribute_value=url,
                webpage_url=f"{url}?{query}" if page == 0 else url,
                channel=channel,
            )

    unsubscribed_at: datetime | None = None
    for run in range(ENGAGEMENT_RUNS):
        sent_at = ENGAGEMENT_FIRST_SEND + timedelta(days=7 * run)
        leads = list(ENGAGEMENT_LEADS) + ([ENGAGEMENT_BOUNCED_LEAD] if run == 0 else [])
        for position, lead_id in enumerate(leads):
            if lead_id == ENGAGEMENT_UNSUBSCRIBED_LEAD and unsubscribed_at is not None:
                continue
            variant = "AB"[position % 2]
            mailing = 300 if variant == "A" else 301
            email = {
                "mailing_id": mailing,
                "variant": variant,
                "campaign_run_id": 700 + run,
                "primary_attribute_value_id": mailing,
                "primary_attribute_value": f"Mail {mailing}",
            }
            at = sent_at + timedelta(minutes=position)
            activity(lead_id, at, 6, **email)
            if lead_id == ENGAGEMENT_BOUNCED_LEAD:
                activity(lead_id, at + timedelta(minutes=1), 8, **email)
                continue
            activity(lead_id, at + timedelta(minutes=1), 7, **email)
            if lead_id == ENGAGEMENT_UNSUBSCRIBED_LEAD and run == 4:
                unsubscribed_at = at + timedelta(minutes=30)
                activity(lead_id, unsubscribed_at, 9, **email)
            if (position + run) % 4 == 3:
                continue
            opened_at = at + timedelta(hours=2)
            activity(lead_id, opened_at, 10, **email)
            if position // 2 < _ENGAGEMENT_CLICKS[variant][run]:
                clicked_at = opened_at + timedelta(minutes=5)
                activity(lead_id, clicked_at, 11, link=f"{ENGAGEMENT_SITE}/lp", **email)
                landing = clicked_at + timedelta(seconds=10)
                # a landing page and two more pages, a landing page and one more, or a
                # landing page alone and a second session of three pages two days later
                if position % 3 == 0:
                    visits(lead_id, landing, 3, ENGAGEMENT_PROGRAM_ID, "email")
                elif position % 3 == 1:
                    visits(lead_id, landing, 2, ENGAGEMENT_PROGRAM_ID, "email")
                else:
                    visits(lead_id, landing, 1, ENGAGEMENT_PROGRAM_ID, "email")
                    visits(lead_id, landing + timedelta(days=2), 3, ENGAGEMENT_PROGRAM_ID, "email")
            elif run == 1 and position == 11:
                # no click, but a form fill three days after the send: a response
                activity(lead_id, at + timedelta(days=3), 2, channel="webinar")
            elif run == 0 and position == 10:
                # a click eight days after the send: counted as a click, not a response
                activity(
                    lead_id,
                    at + timedelta(days=8),
                    11,
                    link=f"{ENGAGEMENT_SITE}/lp",
                    **email,
                )
    # page visits from the always-on social program (no e-mail, variant 'none')
    for offset, lead_id in enumerate(ENGAGEMENT_LEADS[:4]):
        start = ENGAGEMENT_FIRST_SEND + timedelta(days=3 + offset, hours=5)
        visits(lead_id, start, 2 + offset % 2, ENGAGEMENT_SOCIAL_PROGRAM_ID, "social")


# ---------------------------------------------------------------- expectations


def normalize_email(value: str | None) -> str | None:
    if value is None:
        return None
    text = unicodedata.normalize("NFKC", value).strip().lower()
    return text if re.fullmatch(r".+@.+", text) else None


def _latest(rows: Iterable[dict[str, Any]], key: str, updated: str) -> list[dict[str, Any]]:
    latest: dict[Any, dict[str, Any]] = {}
    for row in rows:
        current = latest.get(row[key])
        if current is None or (row[updated], row["_dlt_load_id"]) > (
            current[updated],
            current["_dlt_load_id"],
        ):
            latest[row[key]] = row
    return list(latest.values())


def expected_identity_keys(world: RawWorld) -> set[str]:
    """Normalised e-mails, plus "<source>:<id>" for records without one (MA, CRM, SFA
    records and dropped-file rows)."""
    keys: set[str] = set()
    for table, source, updated in (
        ("raw_salesforce.leads", "salesforce", "system_modstamp"),
        ("raw_hubspot.contacts", "hubspot", "lastmodifieddate"),
        ("raw_marketo.leads", "marketo", "updated_at"),
    ):
        for row in _latest(world.rows[table], "id", updated):
            keys.add(normalize_email(row["email"]) or f"{source}:{row['id']}")
    # people of dropped files (their e-mails are never empty)
    for table in ("raw_files.trade_show", "raw_files.business_cards"):
        keys.update(normalize_email(row["email"]) for row in world.rows.get(table, []))
    return keys


def expected_touch_ids(world: RawWorld) -> set[str]:
    """Every distinct activity that is not a system event (type 22 here), and one touch
    per person met in person (each distinct row of the dropped files: no person is on
    two files of one event here)."""
    activities = {
        row["marketo_guid"]
        for row in world.rows["raw_marketo.activities"]
        if row["activity_type_id"] != 22
    }
    met = {
        f"{kind}:{row['file_sha256']}:{row['row_number']}"
        for table, kind in (
            ("raw_files.trade_show", "trade_show"),
            ("raw_files.business_cards", "business_card"),
        )
        for row in world.rows.get(table, [])
        if row.get("email")
    }
    return activities | met


def merged(*worlds: RawWorld) -> RawWorld:
    result = RawWorld()
    for world in worlds:
        for table, rows in world.rows.items():
            result.rows[table].extend(rows)
    return result


# ---------------------------------------------------------------- writing


class _Cursor(Protocol):
    def execute(self, query: str, params: Any = ...) -> Any: ...
    def executemany(self, query: str, params: Any) -> Any: ...


def create_tables(cursor: _Cursor) -> None:
    for table, columns in TABLES.items():
        schema = table.split(".")[0]
        cursor.execute(f"create schema if not exists {schema}")
        cursor.execute(f"drop table if exists {table}")
        ddl = ", ".join(f"{name} {data_type}" for name, data_type in columns)
        cursor.execute(f"create table {table} ({ddl})")


def insert_rows(cursor: _Cursor, world: RawWorld, placeholder: str) -> None:
    for table, rows in world.rows.items():
        if not rows:
            continue
        columns = [name for name, _ in TABLES[table]]
        marks = ", ".join([placeholder] * len(columns))
        cursor.executemany(
            f"insert into {table} ({', '.join(columns)}) values ({marks})",
            [tuple(row[column] for column in columns) for row in rows],
        )


def write_duckdb(path: str, world: RawWorld, *, create: bool = True) -> None:
    import duckdb

    with duckdb.connect(path) as connection:
        if create:
            create_tables(connection)
        insert_rows(connection, world, "?")


def write_postgres(conninfo: str, world: RawWorld, *, create: bool = True) -> None:
    import psycopg

    with psycopg.connect(conninfo, autocommit=True) as connection, connection.cursor() as cursor:
        if create:
            create_tables(cursor)
        insert_rows(cursor, world, "%s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--duckdb", metavar="PATH", help="DuckDB warehouse file to fill")
    target.add_argument("--postgres", metavar="DBNAME", help="PostgreSQL database to fill")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", default="5432")
    parser.add_argument("--user", default="postgres")
    args = parser.parse_args()
    world = build_world()
    if args.duckdb:
        write_duckdb(args.duckdb, world)
    else:
        write_postgres(
            f"host={args.host} port={args.port} user={args.user} dbname={args.postgres}", world
        )
    counts = {table: len(rows) for table, rows in world.rows.items()}
    print(f"raw tables written: {counts}")


# ---------------------------------------------------------------- people and sales marts
# (additive: the columns of the sales hand-off on raw_salesforce.leads, MQL hand-offs
# with sales' verdicts and Tasks, a converted lead linked to its opportunity, and touches
# before the opportunities were created, so mart_funnel's SLA, mart_ltv and
# mart_channel_attribution have data)

TABLES["raw_salesforce.leads"][-4:-4] = [
    ("number_of_employees", "bigint"),
    ("converted_date", "date"),
    *_text("converted_account_id", "converted_contact_id", "converted_opportunity_id"),
    ("nurture_lead_id__c", "varchar"),
]
# (person index, status, hours from the hand-off to sales' Task or None): met, breached
# (recycled after five days), never acted on (breached by the latest load)
HANDOFFS: Sequence[tuple[int, str, int | None]] = (
    (0, "Working - Contacted", 20),
    (6, "Recycled", 120),
    (8, "Open - Not Contacted", None),
)
# (marketo lead id, activity type, program channel, days after BASE): touches of the
# people behind the three opportunities (created BASE + 39 days)
PEOPLE_TOUCHES: Sequence[tuple[int, int, str | None, int]] = (
    (1000, 2, "webinar", 10),
    (1000, 11, None, 20),
    (1000, 1, "social", 30),
    (1010, 11, None, 25),
    (1004, 2, "webinar", 35),
    (1004, 11, None, 80),
)


def _lead_row(world: RawWorld, lead_id: str) -> dict[str, Any]:
    return next(r for r in reversed(world.rows["raw_salesforce.leads"]) if r["id"] == lead_id)


def _add_people_and_sales(world: RawWorld) -> None:
    import hashlib

    for task_number, (index, status, hours) in enumerate(HANDOFFS, start=1):
        lead_id = f"00Q5g00000{index:08d}AA"
        row = _lead_row(world, lead_id)
        handed_over = row["created_date"]
        world.reload(
            "raw_salesforce.leads",
            "id",
            lead_id,
            LOAD_2,
            status=status,
            nurture_lead_id__c=hashlib.md5(PEOPLE[index][5].encode()).hexdigest(),
            system_modstamp=row["system_modstamp"] + timedelta(days=1),
        )
        if hours is not None:
            acted = handed_over + timedelta(hours=hours)
            world.add(
                "raw_salesforce.tasks",
                id=f"00T5g0000000{task_number:02d}AAA",
                who_id=lead_id,
                subject="Call: accepted lead" if status.startswith("Working") else "Call",
                description="Sales verdict on a Nurture MQL",
                status="Completed",
                priority="Normal",
                activity_date=acted.date(),
                owner_id="00550000",
                created_date=acted,
                system_modstamp=acted,
                is_deleted=False,
                _dlt_load_id=LOAD_2,
            )
    # Ken Tanaka's converted lead became the open opportunity 3
    ken = "00Q5g0000000000004AA"
    world.reload(
        "raw_salesforce.leads",
        "id",
        ken,
        LOAD_2,
        converted_date=(BASE + timedelta(days=39)).date(),
        converted_opportunity_id="0065g000000003AAA",
        system_modstamp=_lead_row(world, ken)["system_modstamp"] + timedelta(days=1),
    )
    for offset, (lead_id, type_id, channel, days) in enumerate(PEOPLE_TOUCHES):
        world.add(
            "raw_marketo.activities",
            marketo_guid=f"guid-people-{offset:02d}",
            id=800 + offset,
            lead_id=lead_id,
            activity_date=BASE + timedelta(days=days),
            activity_type_id=type_id,
            campaign_id=10,
            primary_attribute_value="Nurture Mail Vol.1" if type_id == 11 else "Landing page",
            channel=channel,
            _dlt_load_id=LOAD_1,
        )


# the test modules import build_world: it now adds the section above to the base world
_build_base_world = build_world


def build_world() -> RawWorld:
    """The base world plus the people and sales section."""
    world = _build_base_world()
    _add_people_and_sales(world)
    return world


if __name__ == "__main__":
    main()
