"""Slot vocabularies of the Nimbus Drive demo and the samplers that fill an intent's placeholders.

A sampler draws the *primary* slots named in the prompts (a plan, a device, a folder, ...) and derives the facts a
response needs from them (the plan's storage, the device's settings steps, ...), so a response is a function of
the prompt alone.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

PRODUCT = "Nimbus Drive"

Slots = dict[str, str]

PLAN_ORDER: tuple[str, ...] = ("Basic", "Plus", "Pro", "Business", "Enterprise")
PLANS: dict[str, dict[str, str]] = {
    "Basic": {
        "price": "nothing",
        "price_short": "$0",
        "storage": "15 GB",
        "upload": "2 GB",
        "trash_days": "30",
        "grace": "14",
        "support": "email support within two business days",
    },
    "Plus": {
        "price": "$2.99 a month",
        "price_short": "$2.99",
        "storage": "200 GB",
        "upload": "10 GB",
        "trash_days": "30",
        "grace": "30",
        "support": "email and chat support",
    },
    "Pro": {
        "price": "$9.99 a month",
        "price_short": "$9.99",
        "storage": "2 TB",
        "upload": "50 GB",
        "trash_days": "90",
        "grace": "30",
        "support": "chat support around the clock",
    },
    "Business": {
        "price": "$15 per user a month",
        "price_short": "$15 per user",
        "storage": "5 TB per user",
        "upload": "100 GB",
        "trash_days": "180",
        "grace": "60",
        "support": "phone and chat support around the clock",
    },
    "Enterprise": {
        "price": "a custom yearly price",
        "price_short": "your contract price",
        "storage": "unlimited storage",
        "upload": "250 GB",
        "trash_days": "365",
        "grace": "90",
        "support": "a dedicated account manager",
    },
}
DEVICES: dict[str, dict[str, str]] = {
    "Windows laptop": {
        "settings_steps": "right-click the Nimbus icon in the system tray and choose Settings",
        "install": "Download the Windows installer from the Nimbus website",
    },
    "MacBook": {
        "settings_steps": "click the Nimbus icon in the menu bar and choose Preferences",
        "install": "Download the Mac app from the Nimbus website",
    },
    "Linux desktop": {
        "settings_steps": "open the Nimbus panel from your application menu and choose Settings",
        "install": "Install the nimbus package from our download page",
    },
    "iPhone": {
        "settings_steps": "open the Nimbus app and tap Account",
        "install": "Get the Nimbus app from the App Store",
    },
    "Android phone": {
        "settings_steps": "open the Nimbus app and tap the menu in the top left corner",
        "install": "Get the Nimbus app from Google Play",
    },
    "iPad": {
        "settings_steps": "open the Nimbus app and tap the gear in the sidebar",
        "install": "Get the Nimbus app from the App Store",
    },
    "Chromebook": {
        "settings_steps": "open the Nimbus web app and click the gear icon",
        "install": "Install the Nimbus app from Google Play",
    },
}
DESKTOPS: tuple[str, ...] = ("Windows laptop", "MacBook", "Linux desktop")
MOBILES: tuple[str, ...] = ("iPhone", "Android phone", "iPad")
FILES: dict[str, str] = {
    "PDF": "PDFs",
    "photo": "photos",
    "video": "videos",
    "spreadsheet": "spreadsheets",
    "presentation": "presentations",
    "ZIP archive": "ZIP archives",
    "Word document": "Word documents",
    "voice memo": "voice memos",
}
FOLDERS: tuple[str, ...] = (
    "Projects",
    "Invoices",
    "Photos 2025",
    "Team Docs",
    "Taxes",
    "Family",
    "Backups",
    "Client Files",
    "Recipes",
    "Research",
)
# (as the customer says it, as the assistant says it)
PEOPLE: tuple[tuple[str, str], ...] = (
    ("my manager", "your manager"),
    ("a client", "the client"),
    ("my sister", "your sister"),
    ("a contractor", "the contractor"),
    ("my accountant", "your accountant"),
    ("a coworker", "your coworker"),
    ("my landlord", "your landlord"),
    ("my teacher", "your teacher"),
)
CITIES: tuple[str, ...] = (
    "Berlin",
    "Lagos",
    "Toronto",
    "Sydney",
    "Mumbai",
    "Madrid",
    "Seoul",
    "Chicago",
    "Nairobi",
    "Lima",
)
MONTHS: tuple[str, ...] = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
PAYMENT_METHODS: tuple[str, ...] = ("Visa card", "Mastercard", "Discover card", "PayPal account", "bank account")
DISCOUNTS: dict[str, tuple[str, str]] = {
    "students": ("50%", "a current student card"),
    "teachers": ("30%", "a school staff ID"),
    "nonprofits": ("40%", "proof of nonprofit registration"),
    "startups": ("20%", "a company registration less than two years old"),
}
ERROR_CODES: dict[str, tuple[str, str]] = {
    "E101": ("your session has expired", "sign out of the app and sign back in"),
    "E204": ("a file name contains characters that are not allowed", "remove colons and question marks from the name"),
    "E309": ("a file is larger than the upload limit of your plan", "split the file or upgrade your plan"),
    "E412": ("another app has the file open and locked", "close the other app and try again"),
    "E503": ("our servers are busy for a moment", "wait a few minutes and let sync retry on its own"),
    "E620": ("your storage is full", "empty the Trash or upgrade your plan"),
}
EMAIL_KINDS: tuple[str, ...] = ("work", "school", "personal", "new", "family")
LANGUAGES: tuple[str, ...] = ("Spanish", "German", "French", "Japanese", "Portuguese", "Korean", "Hindi", "Italian")
PHISHING_TOPICS: tuple[str, ...] = (
    "an unpaid invoice",
    "a storage warning",
    "a shared file",
    "a password expiry",
    "a prize draw",
)
REGIONS: dict[str, str] = {
    "Europe": "from 8:00 to 18:00 Central European time",
    "North America": "from 7:00 to 19:00 Eastern time",
    "Asia Pacific": "from 9:00 to 17:00 Singapore time",
    "Latin America": "from 8:00 to 17:00 Brasilia time",
    "Africa": "from 8:00 to 17:00 West Africa time",
}
SPEEDS: tuple[str, ...] = ("1", "2", "5", "10", "20", "50")
LINK_DAYS: tuple[str, ...] = ("3", "7", "14", "30", "60", "90")
ATTEMPTS: tuple[str, ...] = ("3", "5", "6", "10")

OPENERS: tuple[str, ...] = ("", "", "", "", "Hi,", "Hello,", "Hi there,", "Hey,", "Quick question:", "Good morning,")
CLOSERS: tuple[str, ...] = ("", "", "", "", "Thanks!", "Thank you.", "Thanks in advance.", "Any help is appreciated.")


def _plan_facts(plan: str, suffix: str = "") -> Slots:
    return {f"{key}{suffix}": value for key, value in PLANS[plan].items()}


def _device(rng: random.Random, choices: Sequence[str]) -> Slots:
    device = rng.choice(list(choices))
    return {"device": device, **DEVICES[device]}


def _person(rng: random.Random) -> Slots:
    said, answered = rng.choice(PEOPLE)
    return {"person": said, "person_r": answered, "person_r_cap": answered[0].upper() + answered[1:]}


def _upgrade(rng: random.Random) -> Slots:
    low = rng.randrange(0, 3)
    high = rng.randrange(low + 1, 4)
    plan_a, plan_b = PLAN_ORDER[low], PLAN_ORDER[high]
    return {"plan_a": plan_a, "plan_b": plan_b, **_plan_facts(plan_b, "_b")}


def _downgrade(rng: random.Random) -> Slots:
    high = rng.randrange(1, 4)
    low = rng.randrange(0, high)
    plan_a, plan_b = PLAN_ORDER[high], PLAN_ORDER[low]
    return {"plan_a": plan_a, "plan_b": plan_b, **_plan_facts(plan_b, "_b")}


def _next_plan(rng: random.Random) -> Slots:
    index = rng.randrange(0, 4)
    plan, following = PLAN_ORDER[index], PLAN_ORDER[index + 1]
    return {"plan": plan, **_plan_facts(plan), "next_plan": following, "next_storage": PLANS[following]["storage"]}


def _choice(key: str, values: Sequence[str]) -> Callable[[random.Random], Slots]:
    return lambda rng: {key: rng.choice(list(values))}


# Each sampler fills the placeholders named in its first element (which appear in every prompt of an intent) and
# derives the others from them.
SAMPLERS: dict[str, tuple[tuple[str, ...], Callable[[random.Random], Slots]]] = {
    "device": (("device",), lambda rng: _device(rng, list(DEVICES))),
    "desktop": (("device",), lambda rng: _device(rng, DESKTOPS)),
    "mobile": (("device",), lambda rng: _device(rng, MOBILES)),
    "plan": (("plan",), lambda rng: (lambda p: {"plan": p, **_plan_facts(p)})(rng.choice(PLAN_ORDER))),
    "paid_plan": (("plan",), lambda rng: (lambda p: {"plan": p, **_plan_facts(p)})(rng.choice(PLAN_ORDER[1:4]))),
    "next_plan": (("plan",), _next_plan),
    "upgrade": (("plan_a", "plan_b"), _upgrade),
    "downgrade": (("plan_a", "plan_b"), _downgrade),
    "file": (("file",), _choice("file", list(FILES))),
    "files": (("files",), _choice("files", list(FILES.values()))),
    "folder": (("folder",), _choice("folder", FOLDERS)),
    "person": (("person",), _person),
    "city": (("city",), _choice("city", CITIES)),
    "month": (("month",), _choice("month", MONTHS)),
    "method": (("method",), _choice("method", PAYMENT_METHODS)),
    "group": (
        ("group",),
        lambda rng: (lambda g: {"group": g, "percent": DISCOUNTS[g][0], "proof": DISCOUNTS[g][1]})(
            rng.choice(list(DISCOUNTS))
        ),
    ),
    "code": (
        ("code",),
        lambda rng: (lambda c: {"code": c, "meaning": ERROR_CODES[c][0], "fix": ERROR_CODES[c][1]})(
            rng.choice(list(ERROR_CODES))
        ),
    ),
    "speed": (("n",), _choice("n", SPEEDS)),
    "days": (("days",), _choice("days", LINK_DAYS)),
    "attempts": (("n",), _choice("n", ATTEMPTS)),
    "email_kind": (("kind",), _choice("kind", EMAIL_KINDS)),
    "language": (("language",), _choice("language", LANGUAGES)),
    "phishing": (("thing",), _choice("thing", PHISHING_TOPICS)),
    "region": (("region",), lambda rng: (lambda r: {"region": r, "hours": REGIONS[r]})(rng.choice(list(REGIONS)))),
}
