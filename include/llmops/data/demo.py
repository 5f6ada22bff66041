"""Deterministic demo data: a support assistant for "Nimbus Drive", a fictional cloud-storage product.

Each *intent* has several prompt paraphrases and one canonical response template. Slots (plan, device, file type,
folder, ...) appear in every paraphrase of an intent, and the response is a function of the intent and those slots
(plus facts looked up from them, e.g. a plan's storage), so a tiny model can learn the mapping from the prompt alone.

:func:`generate_demo_dataset` writes ``train.jsonl`` (clean rows plus planted defects, shuffled), ``eval.jsonl``
(clean held-out rows) and ``manifest.json`` (what was planted where). :func:`generate_prod_logs` writes request logs in
the serving layout, optionally drifted towards topics the training data never covers. Everything is seeded: the same
seed gives byte-identical files.

Command line: ``python -m llmops.data.demo --out DIR [--prod-logs N --drift X]``.
"""

from __future__ import annotations

import json
import random
import string
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmops.data.dedup import content_key, normalize_text
from llmops.data.schema import PROD_LOG_COLUMNS, TRAIN_COLUMNS
from llmops.fsutil import atomic_write_bytes

if TYPE_CHECKING:
    from llmops.config import DemoDataConfig

SOURCE = "demo"
PRODUCT = "Nimbus Drive"
DEFAULT_PROD_START = datetime(2026, 1, 1, tzinfo=UTC)
# Planted oversized fields: above the default contract limits (2000 / 4000 characters).
OVERSIZED_PROMPT_CHARS = 2600
OVERSIZED_RESPONSE_CHARS = 4800
_MAX_DRAWS = 200

Slots = dict[str, str]

# ---------------------------------------------------------------------------------------------------------------
# Slot vocabularies and the facts derived from them
# ---------------------------------------------------------------------------------------------------------------
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


@dataclass(frozen=True)
class Intent:
    """One kind of support question.

    Attributes:
        name: intent id.
        category: one of the allowed categories.
        samplers: keys of :data:`SAMPLERS` that fill the slots.
        prompts: paraphrases; each names every primary slot of the samplers.
        response: the canonical answer template.
    """

    name: str
    category: str
    samplers: tuple[str, ...]
    prompts: tuple[str, ...]
    response: str


INTENTS: tuple[Intent, ...] = (
    # account -------------------------------------------------------------------------------------------------
    Intent(
        "reset_password",
        "account",
        ("device",),
        (
            "How do I reset my Nimbus Drive password on my {device}?",
            "I forgot my Nimbus Drive password. How can I reset it from my {device}?",
            "I can't remember my password, what are the steps to reset it on the {device}?",
            "What is the way to set a new password for Nimbus Drive using my {device}?",
            "I need a new password for my account and I only have my {device} with me.",
        ),
        "To reset your password on your {device}, {settings_steps}, then choose Sign-in and security and Reset "
        "password. We email you a reset link that works for 30 minutes.",
    ),
    Intent(
        "change_email",
        "account",
        ("email_kind",),
        (
            "How do I change the email on my Nimbus account to my {kind} address?",
            "I want to sign in with my {kind} email address instead of the old one.",
            "Can I switch the email address of my Nimbus Drive account to a {kind} one?",
            "Please help me update my account email so it uses my {kind} address.",
        ),
        "Open Settings, then Account, then Email address, and enter your {kind} address. We send a confirmation "
        "message to the {kind} address, and your sign-in email changes as soon as you confirm it.",
    ),
    Intent(
        "close_account",
        "account",
        ("plan",),
        (
            "How do I permanently close my Nimbus Drive {plan} account?",
            "I want to delete my {plan} account for good, how does that work?",
            "What happens to my files if I close my {plan} account on Nimbus Drive?",
            "Please tell me how to cancel and delete my {plan} account completely.",
            "Is there a way to remove my whole {plan} account and all my data?",
        ),
        "You can close your {plan} account under Settings, Account, Close account. Your files stay recoverable "
        "for {grace} days after closing, and after that they are deleted permanently.",
    ),
    Intent(
        "account_locked",
        "account",
        ("attempts", "device"),
        (
            "My account got locked after {n} wrong password attempts on my {device}.",
            "I typed the wrong password {n} times on my {device} and now Nimbus Drive says my account is locked.",
            "Locked out of Nimbus after {n} failed sign-ins on the {device}, what do I do now?",
            "Why is my account blocked? I tried my password {n} times on my {device}.",
        ),
        "After {n} failed sign-ins we lock the account for 15 minutes to protect it. Wait 15 minutes, then sign "
        "in again on your {device} or reset your password from the sign-in screen.",
    ),
    Intent(
        "app_language",
        "account",
        ("language",),
        (
            "How do I change the Nimbus Drive app language to {language}?",
            "Can I use Nimbus Drive in {language} instead of English?",
            "Where do I switch the interface language of the app to {language}?",
            "My app shows everything in English but I want {language}, how do I change it?",
        ),
        "Nimbus Drive is available in {language}. Go to Settings, then Preferences, then Language, pick {language} "
        "and restart the app to apply it.",
    ),
    # billing -------------------------------------------------------------------------------------------------
    Intent(
        "upgrade_plan",
        "billing",
        ("upgrade",),
        (
            "How do I upgrade my Nimbus Drive plan from {plan_a} to {plan_b}?",
            "I would like to move my account from the {plan_a} plan to {plan_b}.",
            "What does it cost to switch my subscription from {plan_a} to {plan_b}?",
            "Can I go from {plan_a} up to the {plan_b} plan right now?",
        ),
        "To move from {plan_a} to {plan_b}, open Settings, Billing, Change plan and select {plan_b}. {plan_b} "
        "costs {price_b} and includes {storage_b}; you only pay the difference for the current month.",
    ),
    Intent(
        "downgrade_plan",
        "billing",
        ("downgrade",),
        (
            "How can I downgrade my subscription from {plan_a} to {plan_b}?",
            "I want to switch my account down from {plan_a} to {plan_b}.",
            "Is it possible to go back from {plan_a} to the cheaper {plan_b} plan?",
            "Please move me from the {plan_a} plan to {plan_b} at the end of the month.",
        ),
        "You can downgrade from {plan_a} to {plan_b} under Settings, Billing, Change plan. The change starts at "
        "your next billing date, and {plan_b} includes {storage_b}, so move files first if you use more than that.",
    ),
    Intent(
        "cancel_subscription",
        "billing",
        ("paid_plan",),
        (
            "How do I cancel my Nimbus Drive {plan} subscription?",
            "Please stop my {plan} plan from renewing next month.",
            "I don't want to be billed for {plan} anymore, how do I cancel it?",
            "Where is the option to cancel the {plan} subscription in the app?",
        ),
        "Go to Settings, Billing and choose Cancel subscription. Your {plan} features stay active until the end "
        "of the paid period, then your account moves to the free Basic plan with 15 GB.",
    ),
    Intent(
        "double_charge",
        "billing",
        ("paid_plan", "month"),
        (
            "I was charged twice for my {plan} plan in {month}, can you fix it?",
            "There are two {plan} payments on my card for {month}, please fix this.",
            "Why did you bill me two times for the {plan} subscription in {month}?",
            "My bank shows a duplicate {plan} charge from {month}, what happened?",
        ),
        "Sorry about the double charge for {plan} in {month}. We refund the extra payment of {price_short} "
        "automatically within 5 to 7 business days, so you do not need to do anything.",
    ),
    Intent(
        "download_invoice",
        "billing",
        ("month",),
        (
            "Where can I download my Nimbus Drive invoice for {month}?",
            "I need the {month} receipt from Nimbus Drive for my company expenses.",
            "How do I get a PDF invoice for the payment I made in {month}?",
            "Can you send me the bill for my Nimbus subscription from {month}?",
        ),
        "Open Settings, Billing, Payment history and find the {month} payment. Click Download invoice to get a "
        "PDF; you can add a company name and tax ID before downloading.",
    ),
    Intent(
        "payment_method",
        "billing",
        ("method",),
        (
            "How do I change my Nimbus payment method to a {method}?",
            "I want to pay for my subscription with my {method} from now on.",
            "Can I replace the card on file with a {method} for my Nimbus plan?",
            "Please help me switch my Nimbus Drive billing to my {method}.",
        ),
        "Go to Settings, Billing, Payment method and choose Add {method}. Once it is verified, set the {method} "
        "as default; the old method is removed after the next successful charge.",
    ),
    Intent(
        "discount",
        "billing",
        ("group",),
        (
            "Do you offer a discount on Nimbus Drive for {group}?",
            "Is there cheaper pricing on paid plans for {group}?",
            "I heard Nimbus Drive has a deal for {group}, how do I get it?",
            "What discount can {group} get on the paid Nimbus plans?",
        ),
        "Yes, {group} get {percent} off any paid plan. Apply under Settings, Billing, Discounts and upload "
        "{proof}; approval usually takes two business days.",
    ),
    Intent(
        "plan_price",
        "billing",
        ("plan",),
        (
            "How much does the Nimbus Drive {plan} plan cost per month?",
            "What is the price of the {plan} plan and what do I get?",
            "Tell me the monthly cost and the storage of the {plan} plan.",
            "Is the {plan} plan expensive, and what is included in it?",
        ),
        "The {plan} plan costs {price} and includes {storage}, uploads up to {upload} per file, and {support}.",
    ),
    # sync ----------------------------------------------------------------------------------------------------
    Intent(
        "sync_stuck",
        "sync",
        ("files", "device"),
        (
            "My {files} are stuck syncing on my {device}, what should I do?",
            "Why won't my {files} finish syncing on the {device}?",
            "Sync has been frozen for hours for the {files} on my {device}.",
            "Nimbus keeps showing syncing for my {files} on my {device} and nothing happens.",
        ),
        "If {files} are stuck on your {device}, {settings_steps}, pause sync, wait ten seconds and resume it. If "
        "the {files} still do not move, sign out and sign back in to rebuild the sync index.",
    ),
    Intent(
        "selective_sync",
        "sync",
        ("folder", "desktop"),
        (
            "How do I stop syncing the {folder} folder to my {device}?",
            "I don't want the {folder} folder on my {device} anymore but want to keep it online.",
            "Can I exclude the {folder} folder from sync on my {device}?",
            "My {device} is running out of disk, can {folder} stay only in the cloud?",
        ),
        "On your {device}, {settings_steps}, open Selective sync and untick {folder}. The {folder} folder is "
        "removed from the {device} but stays safe online and on your other devices.",
    ),
    Intent(
        "conflicted_copy",
        "sync",
        ("folder",),
        (
            "I keep seeing conflicted copy files in my {folder} folder, why?",
            "Why are there files named conflicted copy inside the {folder} folder?",
            "What should I do about the conflicted copies appearing in {folder}?",
            "Nimbus made strange duplicate files called conflicted copy in {folder}.",
        ),
        "A conflicted copy appears when the same file in {folder} was edited on two devices before they synced. "
        "Open both versions, keep the one you want and delete the other; no edit is lost.",
    ),
    Intent(
        "offline_access",
        "sync",
        ("folder", "mobile"),
        (
            "How do I make the {folder} folder available offline on my {device}?",
            "I need the {folder} folder on my {device} without internet, how do I do that?",
            "Can I keep the {folder} folder offline on my {device} for a long flight?",
            "Is there a way to open {folder} on my {device} when I have no connection?",
        ),
        "On your {device}, open the Nimbus app, press and hold {folder} and choose Make available offline. The "
        "files in {folder} download now and stay updated whenever you are online.",
    ),
    Intent(
        "bandwidth_limit",
        "sync",
        ("speed", "desktop"),
        (
            "Can I limit the Nimbus upload speed to {n} MB/s on my {device}?",
            "Nimbus uses all my bandwidth, how do I cap uploads at {n} MB/s on the {device}?",
            "How do I set an upload limit of {n} MB/s in the app on my {device}?",
            "Please tell me how to keep uploads under {n} MB/s on my {device}.",
        ),
        "Yes. On your {device}, {settings_steps}, open Network and set Upload rate to Limit to {n} MB/s. The "
        "limit applies right away and you can switch back to Automatic at any time.",
    ),
    Intent(
        "sync_error",
        "sync",
        ("code",),
        (
            "Nimbus Drive sync shows error {code}, what does it mean?",
            "I'm getting error code {code} when Nimbus Drive tries to sync.",
            "What is Nimbus Drive error {code} and how do I fix it?",
            "My files won't sync and the app just says {code}, what now?",
        ),
        "Error {code} means {meaning}. To fix it, {fix}. If error {code} comes back after that, send us the log "
        "from Settings, Help, Export log.",
    ),
    Intent(
        "mobile_data",
        "sync",
        ("mobile",),
        (
            "How do I stop Nimbus from syncing over mobile data on my {device}?",
            "Can I make my {device} upload photos to Nimbus only on Wi-Fi?",
            "Nimbus Drive is eating my data plan on my {device}, can I limit it to Wi-Fi?",
            "I want camera uploads on my {device} to wait for Wi-Fi, how?",
        ),
        "On your {device}, {settings_steps}, open Camera uploads and data, then turn off Use mobile data. Uploads "
        "then wait until your {device} is on Wi-Fi.",
    ),
    # sharing -------------------------------------------------------------------------------------------------
    Intent(
        "share_folder",
        "sharing",
        ("folder", "person"),
        (
            "How do I share the {folder} folder with {person}?",
            "I want {person} to see my {folder} folder, how do I set that up?",
            "What is the best way to give {person} access to the {folder} folder?",
            "Can I share {folder} with {person} who does not have Nimbus Drive?",
        ),
        "Right-click {folder}, choose Share and invite {person_r} by email. {person_r_cap} can open {folder} in a "
        "browser without an account, and you can change the access level at any time.",
    ),
    Intent(
        "link_expiry",
        "sharing",
        ("file", "days"),
        (
            "Can I make a shared link to a {file} expire after {days} days?",
            "How do I set a {days} day expiry on the shared link to my {file}?",
            "I want the link to my {file} to stop working in {days} days, is that possible?",
            "Is there a setting so my {file} link expires after {days} days?",
        ),
        "Yes. When you create the link to your {file}, open Link settings, turn on Expiry and set it to {days} "
        "days. After {days} days the link stops working; expiry needs the Plus plan or higher.",
    ),
    Intent(
        "remove_access",
        "sharing",
        ("person", "folder"),
        (
            "How do I stop {person} from seeing my {folder} folder?",
            "I need to remove {person} from the shared {folder} folder today.",
            "Please help me take away access for {person} to the {folder} folder.",
            "Can I unshare the {folder} folder so {person} cannot open it anymore?",
        ),
        "Open {folder}, click Share, find {person_r} in the member list and choose Remove. {person_r_cap} loses "
        "access right away, and copies they already downloaded stay on their device.",
    ),
    Intent(
        "shared_storage",
        "sharing",
        ("person",),
        (
            "Does a folder shared with me by {person} count against my storage?",
            "If {person} shares a big folder with me, does it use my Nimbus space?",
            "Will the files that {person} shares with me fill up my Nimbus storage?",
            "I joined a shared folder from {person}, does that reduce my free space?",
        ),
        "Folders that {person_r} shares with you count against your storage once you add them to your Drive. "
        "Files you only open from the shared link do not use any of your space.",
    ),
    Intent(
        "view_only",
        "sharing",
        ("person", "file"),
        (
            "How do I give {person} view-only access to my {file}?",
            "I want {person} to read my {file} but not edit it, how?",
            "Can {person} see my {file} on Nimbus without being able to change it?",
            "What permission should I pick so {person} can only view the {file}?",
        ),
        "Share the {file} with {person_r} and set the permission to Can view. {person_r_cap} can open and comment "
        "on the {file} but cannot edit, move or delete it.",
    ),
    Intent(
        "transfer_ownership",
        "sharing",
        ("folder", "person"),
        (
            "How can I transfer ownership of the {folder} folder to {person}?",
            "I am leaving the team, can {person} become the owner of {folder}?",
            "Please explain how to make {person} the owner of my {folder} folder.",
            "Is it possible to hand over the {folder} folder to {person} completely?",
        ),
        "Open the sharing settings of {folder}, find {person_r} and choose Make owner. {person_r_cap} needs a "
        "Nimbus account, and {folder} then counts against their storage instead of yours.",
    ),
    # security ------------------------------------------------------------------------------------------------
    Intent(
        "enable_2fa",
        "security",
        ("device",),
        (
            "How do I turn on two-step verification for Nimbus on my {device}?",
            "I want to add two-factor authentication to my account using my {device}.",
            "Can I secure my Nimbus Drive account with a verification code on my {device}?",
            "Where do I enable 2FA for my Nimbus account on the {device}?",
        ),
        "On your {device}, {settings_steps}, open Security and turn on Two-step verification. Scan the code with "
        "an authenticator app, then save the ten backup codes somewhere safe.",
    ),
    Intent(
        "suspicious_login",
        "security",
        ("city",),
        (
            "I got an alert about a Nimbus sign-in from {city}, but I was not there.",
            "Someone logged into my Nimbus Drive account from {city}, what should I do?",
            "Why does my account show an active session in {city}? That was not me.",
            "Was my Nimbus account hacked? I see a login from {city} I don't recognize.",
        ),
        "If the sign-in from {city} was not you, go to Settings, Security, Sessions and sign out the {city} "
        "session. Then change your password and turn on two-step verification.",
    ),
    Intent(
        "encryption",
        "security",
        ("files",),
        (
            "Are my {files} encrypted when I store them on Nimbus Drive?",
            "How safe are the {files} I keep in my Nimbus Drive account?",
            "Is encryption used for my {files} both at rest and in transit?",
            "Can anyone at Nimbus read the {files} that I upload?",
        ),
        "Yes. Your {files} are encrypted with AES-256 while stored and with TLS while they travel. For extra "
        "protection, put sensitive {files} in the Vault folder, which needs a second unlock.",
    ),
    Intent(
        "lost_device",
        "security",
        ("device",),
        (
            "I lost my {device}, how do I protect the files in my Nimbus account?",
            "My {device} was stolen and it is still signed in to Nimbus Drive.",
            "How can I remotely sign out of Nimbus on my lost {device}?",
            "Someone took my {device}, can I wipe the Nimbus files from it?",
        ),
        "Sign in on the Nimbus website, open Settings, Security, Devices, select your {device} and choose Remote "
        "sign-out. The Nimbus files on the {device} are removed the next time it goes online.",
    ),
    Intent(
        "phishing",
        "security",
        ("phishing",),
        (
            "I got an email about {thing} asking me to log in, is it really from Nimbus?",
            "Is this message about {thing} a scam? It wants my Nimbus password.",
            "A suspicious email claiming to be Nimbus Drive mentions {thing}, what do I do?",
            "Should I trust an email from Nimbus about {thing} with a login link?",
        ),
        "Nimbus never asks for your password by email, so treat the message about {thing} as phishing. Do not "
        "click its links, report it from the Help page and then delete it.",
    ),
    # storage -------------------------------------------------------------------------------------------------
    Intent(
        "storage_full",
        "storage",
        ("next_plan",),
        (
            "My Nimbus storage is full on the {plan} plan, what can I do?",
            "Nimbus Drive says I am out of space on my {plan} plan.",
            "I have used all my {plan} storage, how do I get more room?",
            "What are my options when the {plan} plan storage runs out?",
        ),
        "The {plan} plan includes {storage}. Empty the Trash and delete old versions to free space, or upgrade to "
        "{next_plan} to get {next_storage}.",
    ),
    Intent(
        "restore_deleted",
        "storage",
        ("file", "plan"),
        (
            "How do I recover a {file} I deleted by mistake on the {plan} plan?",
            "I accidentally removed a {file}, can I get it back? I am on {plan}.",
            "Is it possible to restore a deleted {file} with Nimbus Drive {plan}?",
            "Where do deleted files go? I lost a {file} and I have the {plan} plan.",
        ),
        "Deleted files stay in Trash for {trash_days} days on the {plan} plan. Open Trash on the website, select "
        "the {file} and click Restore to put it back in its original folder.",
    ),
    Intent(
        "upload_limit",
        "storage",
        ("file", "plan"),
        (
            "What is the largest {file} I can upload on the {plan} plan?",
            "Is there a size limit for uploading a {file} with the {plan} plan?",
            "My {file} is huge, how big can a single upload be on {plan}?",
            "How large can one {file} be if I upload it on the {plan} plan?",
        ),
        "On the {plan} plan a single {file} can be up to {upload}. For anything larger, split it into parts or "
        "upgrade for a higher limit; folders themselves have no size limit.",
    ),
    Intent(
        "version_history",
        "storage",
        ("file", "plan"),
        (
            "How do I restore an older version of my {file} on the {plan} plan?",
            "I overwrote my {file}, can I go back to yesterday's version? I have {plan}.",
            "Where is the version history for a {file} on the {plan} plan?",
            "Can I undo changes to a {file} by picking an old version on {plan}?",
        ),
        "Right-click the {file}, choose Version history and pick the version you need. The {plan} plan keeps "
        "versions for {trash_days} days, and restoring one never deletes the newer versions.",
    ),
    # general -------------------------------------------------------------------------------------------------
    Intent(
        "contact_support",
        "general",
        ("plan",),
        (
            "How can I reach a real person about my Nimbus {plan} account?",
            "What kind of customer support do I get with the {plan} plan?",
            "I need to talk to someone from Nimbus support, I am on {plan}.",
            "Is there a phone number or chat for {plan} customers of Nimbus Drive?",
        ),
        "With the {plan} plan you get {support}. Open Help in the app and choose Contact us; have your account "
        "email ready so we can find your {plan} account quickly.",
    ),
    Intent(
        "platforms",
        "general",
        ("device",),
        (
            "Does Nimbus Drive work on my {device}? I am thinking of signing up.",
            "Is there a Nimbus Drive app for my {device}?",
            "Can I use Nimbus Drive on the {device} I just bought?",
            "I just switched to the {device}, will my Nimbus files work there?",
        ),
        "Yes, Nimbus Drive works on your {device}. {install}, sign in with your account and your files appear "
        "within a few minutes.",
    ),
    Intent(
        "support_hours",
        "general",
        ("region",),
        (
            "What are the Nimbus Drive support hours in {region}?",
            "When is Nimbus customer support available for people in {region}?",
            "Is the Nimbus chat support open right now for customers in {region}?",
            "At what times can I contact Nimbus Drive support from {region}?",
        ),
        "Support for {region} is open {hours}, Monday to Friday. Outside those hours you can leave a message in "
        "Help and we reply on the next working day.",
    ),
)


# ---------------------------------------------------------------------------------------------------------------
# Rendering clean rows
# ---------------------------------------------------------------------------------------------------------------
@dataclass
class _Draft:
    """A row before ids are assigned: content plus what kind of line it becomes."""

    kind: str
    record: dict[str, Any]
    original: int | None = None  # index of the entry it duplicates (for ordering)
    detail: str = ""


def template_fields(template: str) -> set[str]:
    """Placeholder names used in a ``str.format`` template.

    Args:
        template: the template.

    Returns:
        The set of field names.
    """
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _sample_slots(rng: random.Random, intent: Intent) -> Slots:
    slots: Slots = {}
    for key in intent.samplers:
        slots.update(SAMPLERS[key][1](rng))
    return slots


def _join_prompt(opener: str, core: str, closer: str) -> str:
    if opener:
        first = core.split(" ", 1)[0]
        keep_case = first == "I" or first.startswith(("I'", "Nimbus", "iPhone", "iPad"))
        if not keep_case:
            core = core[0].lower() + core[1:]
    return " ".join(part for part in (opener, core, closer) if part)


def render_example(rng: random.Random, intent: Intent | None = None) -> tuple[Intent, dict[str, str]]:
    """Draw one clean (prompt, response) pair.

    Args:
        rng: the random source.
        intent: a fixed intent; drawn uniformly when ``None``.

    Returns:
        The intent and ``{"prompt", "response", "category"}``.
    """
    chosen = intent or rng.choice(INTENTS)
    slots = _sample_slots(rng, chosen)
    core = rng.choice(chosen.prompts).format(**slots)
    prompt = _join_prompt(rng.choice(OPENERS), core, rng.choice(CLOSERS))
    return chosen, {"prompt": prompt, "response": chosen.response.format(**slots), "category": chosen.category}


def _unique_examples(rng: random.Random, n: int, taken: set[str]) -> list[dict[str, str]]:
    """Draw ``n`` examples whose normalised prompt is not in ``taken`` (updated in place)."""
    out: list[dict[str, str]] = []
    for _ in range(n):
        for _attempt in range(_MAX_DRAWS):
            _, example = render_example(rng)
            key = normalize_text(example["prompt"])
            if key not in taken:
                taken.add(key)
                out.append(example)
                break
        else:
            raise RuntimeError(f"could not draw {n} distinct prompts; the intents are too small for this size")
    return out


# ---------------------------------------------------------------------------------------------------------------
# Planted defects
# ---------------------------------------------------------------------------------------------------------------
_WORD_SWAPS: tuple[tuple[str, str], ...] = (
    ("How do I", "How can I"),
    ("I want", "I would like"),
    ("Can I", "Could I"),
    ("What is", "What's"),
    ("folder", "directory"),
    ("account", "profile"),
    ("Please", "Kindly"),
    ("files", "documents"),
    ("my ", "our "),
    ("the ", "that "),
)
NEAR_DUPLICATE_KINDS: tuple[str, ...] = ("case", "punctuation", "whitespace", "word")
EMPTY_KINDS: tuple[str, ...] = ("empty_prompt", "empty_response", "blank_prompt", "null_response")
OVERSIZED_KINDS: tuple[str, ...] = ("long_prompt", "long_response")
MALFORMED_KINDS: tuple[str, ...] = (
    "truncated_json",
    "plain_text",
    "not_utf8",
    "single_quotes",
    "json_array",
    "trailing_garbage",
)
_FIRST_NAMES: tuple[str, ...] = ("jane", "omar", "li", "maria", "tom", "aisha", "kofi", "sven", "priya", "diego")
_LAST_NAMES: tuple[str, ...] = ("doe", "rahman", "wei", "garcia", "baker", "khan", "mensah", "berg", "nair", "lopez")
_RAMBLE: tuple[str, ...] = (
    "I have been a customer for years and never had a problem like this before.",
    "Yesterday I tried again from a different network and it still did not work.",
    "My colleague says it works for her, but she uses a different computer.",
    "I restarted everything twice and even reinstalled the app from scratch.",
    "It is really important because I need these files for a meeting tomorrow morning.",
    "The error message disappears too quickly for me to read it properly.",
    "I also noticed the app feels slower than it used to be last month.",
)


def near_duplicate(rng: random.Random, prompt: str, kind: str) -> str:
    """A small edit of a prompt (the kind of near-duplicate that real exports are full of).

    Args:
        rng: the random source.
        prompt: the original prompt.
        kind: ``case``, ``punctuation``, ``whitespace`` or ``word``.

    Returns:
        The edited prompt (never equal to the original).
    """
    if kind == "word":
        swaps = [(a, b) for a, b in _WORD_SWAPS if a in prompt]
        if swaps:
            old, new = rng.choice(swaps)
            return prompt.replace(old, new, 1)
        kind = "case"
    if kind == "punctuation":
        if prompt[-1] in ".?!":
            return prompt[:-1] if rng.random() < 0.5 else prompt + prompt[-1]
        return prompt + "?"
    if kind == "whitespace":
        words = prompt.split(" ")
        at = rng.randrange(1, len(words))
        return " ".join(words[:at]) + "  " + " ".join(words[at:])
    lowered = prompt.lower()
    return lowered if lowered != prompt else prompt.upper()


def luhn_check_digit(digits: str) -> str:
    """The Luhn check digit that makes ``digits + check`` valid.

    Args:
        digits: the number without its check digit.

    Returns:
        One digit.
    """
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:  # doubled: these become the odd positions once the check digit is appended
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    """Whether a card number (spaces and dashes ignored) passes the Luhn check.

    Args:
        number: the card number.

    Returns:
        True when valid.
    """
    digits = "".join(c for c in number if c.isdigit())
    return len(digits) >= 12 and luhn_check_digit(digits[:-1]) == digits[-1]


def _card_number(rng: random.Random) -> str:
    prefix = rng.choice(("4", "51", "52", "53", "54", "55"))
    body = prefix + "".join(str(rng.randrange(10)) for _ in range(15 - len(prefix)))
    number = body + luhn_check_digit(body)
    separator = rng.choice((" ", "-", ""))
    return separator.join(number[i : i + 4] for i in range(0, 16, 4))


def _pii_sentence(rng: random.Random, kind: str) -> str:
    if kind == "email":
        user = f"{rng.choice(_FIRST_NAMES)}.{rng.choice(_LAST_NAMES)}{rng.randrange(1, 99)}"
        domain = rng.choice(("example.com", "example.org", "mail.example.net"))
        return rng.choice(("My account email is {v}.", "Please reply to {v}.", "You can reach me at {v}.")).format(
            v=f"{user}@{domain}"
        )
    if kind == "phone":
        number = rng.choice(
            (
                f"+1 415 555 01{rng.randrange(10, 100)}",
                f"(212) 555-01{rng.randrange(10, 100)}",
                f"+44 20 7946 0{rng.randrange(100, 1000)}",
            )
        )
        return rng.choice(("Call me at {v}.", "My phone number is {v}.", "Text me on {v} if needed.")).format(v=number)
    return rng.choice(("My card number is {v}.", "The card {v} was charged.", "I paid with card {v}.")).format(
        v=_card_number(rng)
    )


def _with_pii(rng: random.Random, example: dict[str, str], kinds: Sequence[str]) -> dict[str, str]:
    sentences = " ".join(_pii_sentence(rng, kind) for kind in kinds)
    return {**example, "prompt": f"{example['prompt']} {sentences}"}


def _long_text(rng: random.Random, start: str, min_chars: int) -> str:
    parts = [start]
    length = len(start)
    while length <= min_chars:
        sentence = rng.choice(_RAMBLE)
        parts.append(sentence)
        length += len(sentence) + 1
    return " ".join(parts)


def _json_line(record: dict[str, Any]) -> bytes:
    return json.dumps(record, ensure_ascii=False).encode("utf-8")


def _malformed_line(kind: str, record: dict[str, Any]) -> bytes:
    line = _json_line(record)
    if kind == "truncated_json":
        return line[: len(line) // 2]
    if kind == "plain_text":
        return f"customer asked about {record['category']} but the export broke here".encode()
    if kind == "not_utf8":
        # Latin-1 bytes where UTF-8 is required (an accented word from a mis-encoded export).
        return json.dumps({**record, "prompt": "Caf\u00e9 " + record["prompt"]}, ensure_ascii=False).encode("latin-1")
    if kind == "single_quotes":
        return repr(record).encode("utf-8")
    if kind == "json_array":
        return json.dumps([record["prompt"], record["response"]], ensure_ascii=False).encode("utf-8")
    return line + b' {"extra": true}'


# ---------------------------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------------------------
def _record(example: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "",
        "prompt": example["prompt"],
        "response": example["response"],
        "category": example["category"],
        "source": SOURCE,
    }


def generate_demo_dataset(cfg: DemoDataConfig, out_dir: Path) -> dict[str, Path]:
    """Write the demo training set (with planted defects), the held-out eval set and a manifest.

    ``train.jsonl`` holds ``cfg.n_train`` clean rows plus, shuffled in deterministically: exact duplicates of earlier
    rows (new id), near-duplicates (case, punctuation, whitespace or one-word edits of earlier rows), rows with PII
    in the prompt (emails, phone numbers, Luhn-valid card numbers), rows with an empty/blank/null field, rows with
    an oversized prompt or response, lines that are not valid JSON objects, and one row whose prompt is a number.
    ``eval.jsonl`` holds ``cfg.n_eval`` clean rows whose prompts appear nowhere in the training file.
    ``manifest.json`` records the counts, the ids and the line numbers of every planted defect.

    Args:
        cfg: the ``demo`` section of the configuration.
        out_dir: output directory (created).

    Returns:
        ``{"train": ..., "eval": ..., "manifest": ...}`` paths.
    """
    rng = random.Random(cfg.seed)
    out_dir = Path(out_dir)
    taken: set[str] = set()

    drafts: list[_Draft] = [_Draft("clean", _record(e)) for e in _unique_examples(rng, cfg.n_train, taken)]
    n_clean = len(drafts)
    originals = rng.sample(range(n_clean), min(n_clean, cfg.exact_duplicates + cfg.near_duplicates))
    for index in originals[: cfg.exact_duplicates]:
        drafts.append(_Draft("exact_duplicate", dict(drafts[index].record), original=index))
    for number, index in enumerate(originals[cfg.exact_duplicates :]):
        kind = NEAR_DUPLICATE_KINDS[number % len(NEAR_DUPLICATE_KINDS)]
        record = dict(drafts[index].record)
        record["prompt"] = near_duplicate(rng, record["prompt"], kind)
        taken.add(normalize_text(record["prompt"]))
        drafts.append(_Draft("near_duplicate", record, original=index, detail=kind))
    for number, example in enumerate(_unique_examples(rng, cfg.pii_rows, taken)):
        kinds = [("email", "phone", "card")[number % 3]]
        if number % 5 == 4:
            kinds.append(rng.choice(("email", "phone", "card")))
        drafts.append(_Draft("pii", _record(_with_pii(rng, example, kinds)), detail="+".join(kinds)))
    for number, example in enumerate(_unique_examples(rng, cfg.empty_fields, taken)):
        kind = EMPTY_KINDS[number % len(EMPTY_KINDS)]
        record = _record(example)
        field_name = "prompt" if kind.endswith("prompt") else "response"
        record[field_name] = None if kind.startswith("null") else "   " if kind.startswith("blank") else ""
        drafts.append(_Draft("empty_field", record, detail=kind))
    for number, example in enumerate(_unique_examples(rng, cfg.oversized_fields, taken)):
        kind = OVERSIZED_KINDS[number % len(OVERSIZED_KINDS)]
        record = _record(example)
        if kind == "long_prompt":
            record["prompt"] = _long_text(rng, record["prompt"], OVERSIZED_PROMPT_CHARS)
        else:
            record["response"] = _long_text(rng, record["response"], OVERSIZED_RESPONSE_CHARS)
        drafts.append(_Draft("oversized", record, detail=kind))
    for number, example in enumerate(_unique_examples(rng, cfg.malformed_lines, taken)):
        drafts.append(_Draft("malformed", _record(example), detail=MALFORMED_KINDS[number % len(MALFORMED_KINDS)]))
    if cfg.malformed_lines:
        (example,) = _unique_examples(rng, 1, taken)
        record = _record(example)
        record["prompt"] = rng.randrange(10_000, 100_000)
        drafts.append(_Draft("wrong_type", record, detail="prompt is a number"))

    order = list(range(len(drafts)))
    rng.shuffle(order)
    position = {draft_index: pos for pos, draft_index in enumerate(order)}
    for draft_index, draft in enumerate(drafts):
        # A duplicate must come after the row it copies, so "keep the first" keeps the original.
        if draft.original is not None and position[draft_index] < position[draft.original]:
            a, b = position[draft_index], position[draft.original]
            order[a], order[b] = order[b], order[a]
            position[draft_index], position[draft.original] = b, a

    lines: list[bytes] = []
    planted: dict[str, list[dict[str, Any]]] = {
        "exact_duplicates": [],
        "near_duplicates": [],
        "pii_rows": [],
        "empty_fields": [],
        "oversized_fields": [],
        "malformed_lines": [],
        "wrong_type_rows": [],
    }
    ids: dict[int, str] = {}
    for line_number, draft_index in enumerate(order, start=1):
        ids[draft_index] = f"train-{line_number:05d}"
    for line_number, draft_index in enumerate(order, start=1):
        draft = drafts[draft_index]
        record = {**draft.record, "id": ids[draft_index]}
        record = {name: record[name] for name in TRAIN_COLUMNS}
        entry: dict[str, Any] = {"id": record["id"], "line": line_number}
        if draft.detail:
            entry["kind"] = draft.detail
        if draft.original is not None:
            entry["duplicate_of"] = ids[draft.original]
        if draft.kind == "malformed":
            lines.append(_malformed_line(draft.detail, record))
            planted["malformed_lines"].append(entry)
            continue
        lines.append(_json_line(record))
        key = {
            "exact_duplicate": "exact_duplicates",
            "near_duplicate": "near_duplicates",
            "pii": "pii_rows",
            "empty_field": "empty_fields",
            "oversized": "oversized_fields",
            "wrong_type": "wrong_type_rows",
        }.get(draft.kind)
        if key:
            planted[key].append(entry)

    # What the clean pipeline should end with: rows that pass ingest and the contract, after exact dedup.
    valid_kinds = {"clean", "exact_duplicate", "near_duplicate", "pii"}
    valid = [d.record for d in drafts if d.kind in valid_kinds]
    distinct = len({content_key(record) for record in valid})

    eval_rng = random.Random(cfg.seed * 7919 + 104_729)
    eval_records = []
    for number, example in enumerate(_unique_examples(eval_rng, cfg.n_eval, taken), start=1):
        record = _record(example)
        record["id"] = f"eval-{number:05d}"
        eval_records.append(record)

    paths = {"train": out_dir / "train.jsonl", "eval": out_dir / "eval.jsonl", "manifest": out_dir / "manifest.json"}
    atomic_write_bytes(paths["train"], b"".join(line + b"\n" for line in lines), fsync=False)
    atomic_write_bytes(paths["eval"], b"".join(_json_line(r) + b"\n" for r in eval_records), fsync=False)
    manifest = {
        "generator": "llmops.data.demo",
        "product": PRODUCT,
        "seed": cfg.seed,
        "intents": len(INTENTS),
        "files": {"train": paths["train"].name, "eval": paths["eval"].name},
        "train_lines": len(lines),
        "clean_rows": n_clean,
        "eval_rows": len(eval_records),
        "counts": {name: len(entries) for name, entries in planted.items()},
        "expected": {
            "ingest_quarantined": len(planted["malformed_lines"]) + len(planted["wrong_type_rows"]),
            "contract_quarantined": len(planted["empty_fields"]) + len(planted["oversized_fields"]),
            "valid_rows": len(valid),
            "exact_dedup_removed": len(valid) - distinct,
            "rows_after_exact_dedup": distinct,
        },
        "planted": planted,
    }
    atomic_write_bytes(
        paths["manifest"], (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode("utf-8"), fsync=False
    )
    return paths


# ---------------------------------------------------------------------------------------------------------------
# Production logs
# ---------------------------------------------------------------------------------------------------------------
_CURRENCIES: tuple[tuple[str, str], ...] = (
    ("EUR", "euros"),
    ("GBP", "pounds"),
    ("JPY", "yen"),
    ("INR", "rupees"),
    ("BRL", "reais"),
    ("CHF", "francs"),
)


def _refund_prompt(rng: random.Random) -> str:
    code, word = rng.choice(_CURRENCIES)
    return (
        f"I paid {rng.randrange(20, 900)} {code} for the annual plan, can I get my refund back in {word} "
        "instead of dollars?"
    )


_DRIFT_TEMPLATES: tuple[Callable[[random.Random], str], ...] = (
    lambda rng: (
        f"How do I use the Nimbus Photos AI editor to remove the background from {rng.randrange(2, 40)} pictures "
        f"in my {rng.choice(('wedding', 'holiday', 'product', 'family', 'concert'))} album?"
    ),
    lambda rng: (
        f"Why does the AI editor in Nimbus Photos keep blurring faces when I apply the "
        f"{rng.choice(('vintage', 'portrait', 'cinematic', 'sketch'))} style?"
    ),
    lambda rng: (
        f"Can the Nimbus Photos AI editor upscale my old scans to {rng.choice(('4K', '8K', 'print quality'))} "
        "and how many credits does that use?"
    ),
    lambda rng: _refund_prompt(rng),
    lambda rng: (
        f"Your invoice shows {rng.choice(_CURRENCIES)[0]} but my bank charged a conversion fee, who refunds the "
        "difference and how long does it take?"
    ),
    lambda rng: (
        f"Does Nimbus Drive integrate with {rng.choice(('Slack', 'Figma', 'Notion', 'Jira', 'Trello'))} so my "
        "team gets notified automatically?"
    ),
    lambda rng: (
        f"yo my {rng.choice(('cloud thingy', 'nimbus', 'drive app'))} aint uploading my pics since the update, "
        f"wassup with that {rng.choice(('lol', 'fr', 'smh', 'ngl'))}"
    ),
    lambda rng: (
        f"ur app keeps crashing on my {rng.choice(('smart tv', 'car screen', 'watch', 'vr headset'))} fix it pls asap"
    ),
    lambda rng: " ".join(
        [
            "So basically",
            *rng.sample(_RAMBLE, 4),
            f"Anyway my real question is whether the {rng.choice(('family', 'student', 'lifetime', 'travel'))} "
            "bundle is still available and if it includes the photo editor?",
        ]
    ),
)
_DRIFT_RESPONSES: tuple[str, ...] = (
    "I'm sorry, I don't have information about that yet. Please contact Nimbus support from the Help page.",
    "That feature is not covered by my knowledge of Nimbus Drive. A support agent can help you from the Help page.",
    "I can only answer questions about Nimbus Drive storage, sync, sharing, billing and security.",
)


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def generate_prod_logs(
    n: int,
    drift: float,
    seed: int,
    out_path: Path,
    model_name: str = "support_assistant",
    model_version: str = "1",
    start: datetime | None = None,
) -> Path:
    """Write ``n`` production request logs (JSONL, :data:`~llmops.data.schema.PROD_LOG_COLUMNS` layout).

    A share ``drift`` of the requests (exactly ``round(n * drift)``, at seeded positions) comes from a shifted
    distribution the training data never covers: the "Nimbus Photos AI editor", refunds in other currencies, third
    party integrations, slang, long rambling prompts. Those get canned answers; the others are drawn from the
    training intents with their canonical answers. Timestamps start at ``start`` and are spaced by seeded gaps.

    Args:
        n: number of requests.
        drift: share of drifted requests, in [0, 1].
        seed: random seed (same seed, same bytes).
        out_path: the JSONL file to write (atomically; parent created).
        model_name: ``model_name`` of every record.
        model_version: ``model_version`` of every record.
        start: timestamp of the first request (UTC; a naive datetime is taken as UTC). Defaults to
            2026-01-01T00:00:00Z.

    Returns:
        ``out_path``.

    Raises:
        ValueError: ``n`` is negative or ``drift`` is outside [0, 1].
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if not 0.0 <= drift <= 1.0:
        raise ValueError(f"drift must be within [0, 1], got {drift}")
    moment = start or DEFAULT_PROD_START
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    rng = random.Random(seed)
    drifted = set(rng.sample(range(n), round(n * drift)))
    lines: list[bytes] = []
    for index in range(n):
        moment += timedelta(milliseconds=rng.randrange(500, 30_000))
        if index in drifted:
            prompt = rng.choice(_DRIFT_TEMPLATES)(rng)
            response = rng.choice(_DRIFT_RESPONSES)
        else:
            _, example = render_example(rng)
            prompt, response = example["prompt"], example["response"]
        words = len(prompt.split()) + len(response.split())
        latency = 35.0 + 1.6 * words + rng.lognormvariate(2.5, 0.5)
        values = (
            str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            _timestamp(moment),
            model_name,
            str(model_version),
            prompt,
            response,
            round(latency, 3),
        )
        lines.append(_json_line(dict(zip(PROD_LOG_COLUMNS, values, strict=True))))
    return atomic_write_bytes(Path(out_path), b"".join(line + b"\n" for line in lines), fsync=False)


# ---------------------------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m llmops.data.demo --out DIR [--prod-logs N --drift X]``.

    Args:
        argv: the arguments; defaults to ``sys.argv[1:]``.

    Returns:
        The exit status.
    """
    import argparse

    from llmops.config import load_config

    parser = argparse.ArgumentParser(description=f"Generate the {PRODUCT} demo dataset (and optional request logs).")
    parser.add_argument(
        "--config", type=Path, default=None, help="YAML config (default: $LLMOPS_CONFIG or llmops.yaml)"
    )
    parser.add_argument("--out", type=Path, default=None, help="output directory (default: <home>/data/raw)")
    parser.add_argument("--seed", type=int, default=None, help="override demo.seed")
    parser.add_argument("--prod-logs", type=int, default=None, metavar="N", help="also write N production log lines")
    parser.add_argument(
        "--drift", type=float, default=None, help="share of drifted requests (default: demo.prod_drift)"
    )
    parser.add_argument(
        "--prod-log-path",
        type=Path,
        default=None,
        help="production log file (default: <home>/prod_logs/demo/requests-demo.jsonl)",
    )
    args = parser.parse_args(argv)

    cfg = load_config(args.config)
    demo_cfg = cfg.demo if args.seed is None else cfg.demo.model_copy(update={"seed": args.seed})
    out_dir = args.out or cfg.paths.raw_dir
    written = {name: str(path) for name, path in generate_demo_dataset(demo_cfg, out_dir).items()}
    if args.prod_logs is not None:
        drift = cfg.demo.prod_drift if args.drift is None else args.drift
        log_path = args.prod_log_path or cfg.paths.prod_log_dir / "demo" / "requests-demo.jsonl"
        written["prod_logs"] = str(
            generate_prod_logs(args.prod_logs, drift, demo_cfg.seed, log_path, model_name=cfg.triton.model_name)
        )
    print(json.dumps(written, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
