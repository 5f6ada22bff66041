"""A labelled corpus of customer-support messages with planted personal data, to measure a PII detector.

How it is built, and from what:

* The messages are English support conversations about a file-sync / cloud-storage product ("Nimbus Drive"): what
  a customer writes to the support assistant or what the assistant answers (sync problems, billing, sharing, account
  recovery, shipping a hardware security key...). Every message is a concatenation of one to four short *frames*,
  hand-written for this corpus; each frame holds at most a few placeholders.
* The personal values come from `Faker <https://faker.readthedocs.io>`_ in seven locales (:data:`LOCALES`): names,
  ``street_address()`` + ``postcode()`` + ``city()`` in the locale's usual order, ``phone_number()``, e-mail addresses,
  ``credit_card_number(card_type)``, ``iban()``, ``ipv4()``/``ipv6()``, en_US ``ssn()`` and the national identifiers
  (French NIR, Dutch BSN and Italian codice fiscale from Faker's ``ssn()``). Three are built here from their
  public rules instead: the UK National Insurance number with a *valid* prefix (Faker's en_GB ``ssn()`` only emits
  the reserved ``ZZ`` prefix), the German Steuer-ID (11 digits, ISO 7064 MOD 11,10 check digit; Faker's de_DE
  ``ssn()`` is the US format) and the Spanish DNI/NIE (control letter mod 23; Faker's ``nif()``/``nie()`` use the
  global ``random`` module, which would break reproducibility). International phone formats, unusual e-mail local parts,
  particle/accented surnames, card groupings and secrets (AWS key ids, GitHub tokens, ``sk_live_`` keys, JWTs,
  passwords and API keys, rarely a private-key block) are generated here from the documented formats of each value.
* Look-alikes are values that must NOT be redacted: order numbers, versions, dates without a birth context, ticket ids,
  valid ISBN-10/13, parcel tracking numbers, 16-digit numbers that fail the Luhn check, IBAN-shaped strings with a
  wrong mod-97 checksum, prices and storage sizes, product names that look like person names, company names (Faker
  ``company()``), cities mentioned alone, commit hashes, UUIDs, file paths and documentation URLs.
* About 20 % of the messages hold no personal value at all; many hold two or three values of different types.
* The frames of every group (entity type, look-alike kind, plain filler text) are split by position: even positions
  make split ``"dev"``, odd positions split ``"test"``, so a detector tuned on dev never sees a test frame.
* Reproducible: ``random.Random(seed)`` drives every choice, and the one Faker instance of each locale is reseeded from
  it for every example. Texts are built piece by piece, so offsets are known by construction (and checked).

:func:`score` measures a detector ``detect(text) -> [(entity_type, start, end), ...]`` against the corpus.

    python bench/pii_corpus.py   # prints examples and counts of build_pii_corpus(2000, split="test")
"""

from __future__ import annotations

import base64
import ipaddress
import json
import random
import re
import string
import unicodedata
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from faker import Faker

ENTITY_TYPES = (
    "PERSON",
    "ADDRESS",
    "PHONE",
    "EMAIL",
    "CREDIT_CARD",
    "IBAN",
    "IP_ADDRESS",
    "US_SSN",
    "NATIONAL_ID",
    "DATE_OF_BIRTH",
    "SECRET",
)
LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "nl_NL", "it_IT")
SPLITS = ("dev", "test")

LOOKALIKE_KINDS = (
    "order_number",
    "version",
    "date_no_birth",
    "ticket_id",
    "isbn",
    "tracking_number",
    "luhn_fail_number",
    "iban_bad_checksum",
    "amount",
    "product_name",
    "company_name",
    "city_alone",
    "commit_hash",
    "uuid",
    "file_path",
    "docs_url",
)


@dataclass
class PiiExample:
    text: str
    spans: list[tuple[str, int, int]]  # (entity type, start, end) of every planted personal value, end exclusive
    lookalikes: list[tuple[str, int, int]] = field(default_factory=list)  # (kind, start, end): must NOT be redacted
    locale: str = "en_US"
    template: str = ""  # ids of the frames used, joined by "+"


# ---------------------------------------------------------------------------------------------------------------------
# Frames. A placeholder {NAME} is replaced by a generated value; see _PLACEHOLDERS for the label each one plants.
# Frames starting with a newline are sign-offs and always go last.

_PII_FRAMES: dict[str, list[str]] = {
    "PERSON": [
        "Hi, my name is {PERSON} and I can't log into my Nimbus Drive account since this morning.",
        "hi, this is {PERSON}, the desktop client keeps saying 'sync paused' and won't resume.",
        "I'm {FIRST}, I manage the team workspace and one of our shared folders just vanished.",
        "Could you transfer the ownership of the 'Marketing' folder to {PERSON}? She is taking over from me.",
        "The invoice should be addressed to {PERSON}, not to me.",
        "When you call back, please ask for {FIRST}; I'm usually at the front desk.",
        "My colleague {PERSON} shared a link with me but it says the link has expired.",
        "\n\nThanks, {SIG}",
        "I already spoke to {PERSON} from your billing team last week and nothing has changed.",
        "\n\nBest regards,\n{SIG}",
        "Please remove {PERSON} from our team plan, he left the company.",
        "My name is {FIRST} and I'd like to cancel the trial before I'm charged.",
        "Dear {PERSON}, thank you for contacting Nimbus support. I've reset the sync token on your device.",
        "\n\nCheers,\n{FIRST}",
    ],
    "ADDRESS": [
        "Please ship the replacement hardware key to {ADDRESS}.",
        "I moved recently, my new billing address is {ADDRESS}.",
        "The invoice still shows my old address, {ADDRESS}, can you update it?",
        "Can the backup drive be delivered to {ADDRESS} instead of my office?",
        "Our registered office is at {ADDRESS} - that's what should appear on the VAT invoice.",
        "The courier tried to deliver to {ADDRESS} but nobody was home.",
        "I've confirmed your delivery address as {ADDRESS}. The security key ships tomorrow.",
        "For the card verification the bank needs my home address: {ADDRESS}.",
        "Send the paper contract to {ADDRESS}, attention of the IT department.",
        "my address is {ADDRESS} if you need it for the refund",
    ],
    "PHONE": [
        "You can reach me on {PHONE} during office hours.",
        "Please call me back at {PHONE}, the chat keeps disconnecting.",
        "My phone number changed to {PHONE} so I don't get the 2FA codes anymore.",
        "The SMS verification code never arrives at {PHONE}.",
        "I've added {PHONE} as the recovery number on your account.",
        "call me: {PHONE}",
        "Our IT admin can be reached at {PHONE} if you need to verify the domain.",
        "I tried to update my mobile to {PHONE} but the form says it's invalid.",
        "Tel. {PHONE} (mobile, WhatsApp also works)",
        "I missed a call from your team, I'm on {PHONE} all afternoon.",
    ],
    "EMAIL": [
        "My login email is {EMAIL} but the password reset mail never arrives.",
        "Please send the invoice to {EMAIL} instead.",
        "I'd like to change the account email to {EMAIL}.",
        "Can you share the folder with {EMAIL}? The invite button is greyed out.",
        "The shared link was sent to {EMAIL} by mistake, can you revoke it?",
        "contact: {EMAIL}",
        "I've sent the verification link to {EMAIL}; it's valid for 24 hours.",
        "We added {EMAIL} to the team but he never received the invitation.",
        "Reply to {EMAIL} please, not the address I'm writing from.",
        "My old address {EMAIL} was deactivated by my employer, how do I recover the account?",
    ],
    "CREDIT_CARD": [
        "I was charged twice on my card {CARD} for the annual plan.",
        "Please update the payment method to {CARD}, expiry 08/27.",
        "card number: {CARD}",
        "The payment with {CARD} was declined although the card is valid.",
        "Can you refund the last charge to {CARD}? I cancelled within 14 days.",
        "I see a charge from Nimbus on {CARD} that I don't recognise.",
        "My old card {CARD} expired, so the renewal failed.",
        "Use {CARD} for the upgrade to the Business plan please.",
        "The checkout page rejected {CARD} with error 'card_declined'.",
        "I typed {CARD} on the billing page and it says the number is invalid.",
    ],
    "IBAN": [
        "Please refund the amount to my account {IBAN}.",
        "We pay by SEPA direct debit from {IBAN}.",
        "IBAN: {IBAN}",
        "The direct debit from {IBAN} bounced, can you retry it?",
        "Could you change the bank account for the direct debit to {IBAN}?",
        "I transferred the money from {IBAN} yesterday, the reference is my customer number.",
        "The refund will go to the account you gave us, {IBAN}.",
        "my iban is {IBAN}",
        "Your direct debit mandate for {IBAN} is now active.",
        "Why was {IBAN} debited twice this month?",
    ],
    "IP_ADDRESS": [
        "My IP is {IP} if you need to whitelist it.",
        "The server at {IP} refuses connections from the sync agent.",
        "Your login alert says someone signed in from {IP} - that wasn't me.",
        "We only allow access from {IP} in our firewall, is that enough for the client?",
        "The NAS at {IP} can't reach your upload endpoint.",
        "I see repeated failed logins from {IP} in the activity log.",
        "Please add {IP} to the allowed IP ranges of our workspace.",
        "the webdav mount to {IP} times out after 30 seconds",
        "Our office's public address is {IP}.",
        "Last successful sync was from IP {IP}.",
    ],
    "US_SSN": [
        "For the tax form you asked for my SSN: {SSN}.",
        "SSN {SSN}",
        "My social security number is {SSN}, please don't store it longer than needed.",
        "The W-9 has my social security number {SSN} on it, is that safe to upload?",
        "Identity check: last name and SSN {SSN}.",
        "I accidentally uploaded a scan with my SSN ({SSN}) to a public folder.",
        "Your verification form lists SSN {SSN}; please confirm.",
        "ssn: {SSN}",
        "my ssn is {SSN} if that helps verify the account",
        "The payroll export contains {SSN} in clear text - it's my social security number.",
    ],
    "NATIONAL_ID": [
        "My {NIDLABEL} is {NID}.",
        "For the identity check: {NIDLABEL} {NID}.",
        "I uploaded a scan of my ID, the {NIDLABEL} on it is {NID}.",
        "{NIDLABEL}: {NID}",
        "The form asked for my {NIDLABEL} so I typed {NID}, was that needed?",
        "Please remove my {NIDLABEL} ({NID}) from the shared payroll folder.",
        "The verification failed even though my {NIDLABEL} {NID} is correct.",
        "I can confirm we have your {NIDLABEL} on file as {NID}.",
        "the accountant needs my {NIDLABEL}, it's {NID}",
        "Can you delete the document that shows my {NIDLABEL} {NID}?",
    ],
    "DATE_OF_BIRTH": [
        "I was born on {DOB}, if you need it for the verification.",
        "date of birth: {DOB}",
        "DOB {DOB}",
        "The recovery form asks for my birth date, it's {DOB}.",
        "My date of birth is {DOB} but your system says it doesn't match.",
        "For the age check: born {DOB}.",
        "I've verified your identity using the date of birth you gave us ({DOB}).",
        "my birthday is {DOB} and I'm the account holder",
        "The ID I uploaded shows {DOB} as my date of birth.",
        "Date of birth {DOB}, full name as on the account.",
    ],
    "SECRET": [
        "Our sync script uses the access key {AWS} - is that why the bucket import fails?",
        "Here is the config: password={PASSWORD}",
        "api_key: {APIKEY}",
        "The GitHub integration stopped working, the token is {GHTOKEN}.",
        "I pasted {STRIPE} into the billing webhook settings, was that wrong?",
        "The API returns 401 with this bearer token: {JWT}",
        "My password is {PASSWORD} and it still says invalid credentials.",
        "aws_access_key_id = {AWS}",
        "Authorization: Bearer {JWT}",
        "export NIMBUS_API_KEY={APIKEY}",
        "I committed {GHTOKEN} to a shared folder by accident, how do I purge it from the version history?",
        "The deploy key in the shared folder is:\n{PRIVKEY}\nPlease tell me if it leaked.",
        "stripe secret: {STRIPE}",
        'the wifi password in our office is "{PASSWORD}" if your technician needs it',
    ],
}

_LOOKALIKE_FRAMES: dict[str, list[str]] = {
    "order_number": [
        "My order #{ORDER} still hasn't shipped.",
        "Refund for order {ORDER} please, I was billed twice.",
        "Order number: {ORDER}",
        "I can't find order {ORDER} in my billing history.",
        "Your order {ORDER} has been cancelled and refunded.",
        "The hardware key from order #{ORDER} arrived damaged.",
        "Can you merge order {ORDER} with my previous one?",
        "re: order {ORDER} - wrong plan was activated",
        "The confirmation email for order {ORDER} never came.",
        "I've re-sent the receipt for order {ORDER} to your account email.",
    ],
    "version": [
        "I'm on version {VERSION} of the desktop client.",
        "After updating to {VERSION} the sync icon stays grey.",
        "The Android app {VERSION} crashes when I open a shared folder.",
        "Please upgrade to {VERSION} or later, it fixes the conflicted-copy bug.",
        "Client version: {VERSION}",
        "Since {VERSION} selective sync ignores my excluded folders.",
        "Is {VERSION} compatible with macOS Sonoma?",
        "The changelog for {VERSION} mentions a fix for large uploads.",
        "Downgrading to {VERSION} made the problem go away.",
        "The web app footer says build {VERSION}.",
    ],
    "date_no_birth": [
        "The invoice from {DATE} shows the wrong VAT rate.",
        "Sync has been broken since {DATE}.",
        "My subscription renews on {DATE}, can I switch plans before that?",
        "The files I deleted on {DATE} are not in the trash anymore.",
        "We had an outage on {DATE} between 9 and 11 am.",
        "Can I restore the folder to how it looked on {DATE}?",
        "Your trial ends on {DATE}.",
        "I was charged on {DATE} although I cancelled.",
        "The shared link created on {DATE} expired early.",
        "The last backup completed on {DATE}.",
    ],
    "ticket_id": [
        "This is a follow-up to ticket {TICKET}.",
        "I've escalated ticket {TICKET} to our engineering team.",
        "Ref: {TICKET}",
        "Your case number is {TICKET}; please keep it for future reference.",
        "Ticket {TICKET} was closed but the problem is still there.",
        "Same issue as in {TICKET}, the uploads stall at 99%.",
        "Could you reopen {TICKET}?",
        "re {TICKET} - still waiting for an answer",
        "I'm linking this chat to incident {TICKET}.",
        "Ticket {TICKET} has been merged into this conversation.",
    ],
    "isbn": [
        "I uploaded the e-book with ISBN {ISBN} to a shared folder, is that a copyright problem?",
        "The book with ISBN {ISBN} won't preview in the web app.",
        "Our library catalogue export lists ISBN {ISBN} twice.",
        "Searching for {ISBN} in my files returns nothing although the PDF is there.",
        "The textbook (ISBN {ISBN}) is the only file that fails to sync.",
        "ISBN: {ISBN}",
        "The metadata of the book {ISBN} got lost after the upload.",
        "We share the scanned manual for ISBN {ISBN} with the whole team.",
        "Please check why the preview of ISBN {ISBN} shows a blank page.",
        "The publisher sent the proofs for ISBN {ISBN} through a Nimbus link.",
    ],
    "tracking_number": [
        "The tracking number {TRACKING} hasn't updated in a week.",
        "Your hardware key has shipped, tracking {TRACKING}.",
        "tracking: {TRACKING}",
        "The courier says {TRACKING} was delivered, but I never got it.",
        "Can you check the status of shipment {TRACKING}?",
        "I got a customs notice for parcel {TRACKING}.",
        "The return label has tracking number {TRACKING}.",
        "Package {TRACKING} is stuck at the depot.",
        "We've reissued the shipment; the new tracking number is {TRACKING}.",
        "Shipment {TRACKING} was returned to sender.",
    ],
    "luhn_fail_number": [
        "My licence key is {LUHNFAIL} but activation fails.",
        "The transaction reference {LUHNFAIL} appears on my bank statement.",
        "Device serial: {LUHNFAIL}",
        "The sync job id {LUHNFAIL} keeps failing with error 503.",
        "Please quote the invoice reference {LUHNFAIL} in your transfer.",
        "The gift code {LUHNFAIL} is rejected at checkout.",
        "Our customer number is {LUHNFAIL}.",
        "The activation code {LUHNFAIL} from the box doesn't work.",
        "Log entry {LUHNFAIL} shows the upload was interrupted.",
        "The voucher {LUHNFAIL} was already redeemed, says the app.",
    ],
    "iban_bad_checksum": [
        "Your invoice template still shows the placeholder account {BADIBAN}, which isn't a valid IBAN.",
        "The form rejects {BADIBAN} with a checksum error, so it's a typo in your docs.",
        "The export file has a column with values like {BADIBAN}; what do they mean?",
        "Batch reference: {BADIBAN}",
        "The example IBAN in your docs, {BADIBAN}, fails validation.",
        "Our ERP generated the payment reference {BADIBAN}.",
        "The sandbox test account {BADIBAN} keeps showing up in production.",
        "The mandate id {BADIBAN} isn't found in our system.",
        "Why does the receipt contain {BADIBAN} as a transaction key?",
        "The dummy value {BADIBAN} from the API docs is rejected by the bank, as expected.",
    ],
    "amount": [
        "I was charged {PRICE} instead of the advertised price.",
        "The upgrade costs {PRICE}, is VAT included?",
        "My storage shows {SIZE} used but the folder is almost empty.",
        "Can I get a refund of {PRICE} for the unused months?",
        "The Business plan is {PRICE} per user per month.",
        "Total: {PRICE}",
        "I need {SIZE} more space for the video archive.",
        "A credit of {PRICE} has been applied to your account.",
        "Uploads over {SIZE} fail with a timeout.",
        "The family plan includes {SIZE} of shared storage.",
    ],
    "product_name": [
        "Does the {PRODUCT} include version history?",
        "I switched to the {PRODUCT} last month and now sharing is broken.",
        "The {PRODUCT} keeps asking me to sign in again.",
        "Is the {PRODUCT} available for Linux?",
        "We bought 20 seats of the {PRODUCT}.",
        "The {PRODUCT} was discontinued, please migrate to the new plan.",
        "Can I downgrade from the {PRODUCT} without losing files?",
        "Your account is now on the {PRODUCT}.",
        "The price of the {PRODUCT} went up without notice.",
        "Our admins love the {PRODUCT}, but the mobile app is slow.",
    ],
    "company_name": [
        "I work for {COMPANY} and we want a team plan.",
        "Our IT provider {COMPANY} set up the sync for us.",
        "Please put {COMPANY} on the invoice as the customer.",
        "The files shared by {COMPANY} don't show up in my folder.",
        "We're migrating the archive of {COMPANY} to Nimbus.",
        "Is {COMPANY} already a customer? They told me to use their workspace.",
        "The enterprise contract with {COMPANY} renews next month.",
        "Company: {COMPANY}",
        "A supplier, {COMPANY}, wants us to accept their shared link.",
        "The auditors from {COMPANY} need read-only access for a week.",
    ],
    "city_alone": [
        "Our office in {CITY} has very slow uploads.",
        "Do you have a data centre near {CITY}?",
        "I'm travelling to {CITY} next week, will sync work on hotel wifi?",
        "The team in {CITY} can't see the shared drive.",
        "Are files stored in {CITY} or in the US?",
        "We're opening a branch in {CITY} and need five more seats.",
        "The outage affected customers around {CITY}.",
        "Delivery to {CITY} usually takes three days.",
        "The workshop in {CITY} was great, thanks!",
        "Is there a support office in {CITY}?",
    ],
    "commit_hash": [
        "The bug was introduced in commit {COMMIT} of your open-source client.",
        "Build {COMMIT} fails to start on Windows.",
        "The sync daemon logs 'revision {COMMIT} not found'.",
        "commit: {COMMIT}",
        "I'm running the nightly from {COMMIT}.",
        "Please cherry-pick {COMMIT} into the stable release.",
        "The file's content hash {COMMIT} doesn't match the server copy.",
        "Fixed in {COMMIT}, released with the next update.",
        "Git says {COMMIT} is the last good revision.",
        "The crash report mentions build hash {COMMIT}.",
    ],
    "uuid": [
        "The device id {UUID} keeps showing up twice in my device list.",
        "request id: {UUID}",
        "The API returns 404 for folder {UUID}.",
        "Error reference {UUID}, please look it up.",
        "The share link ends with {UUID} - can I change it?",
        "Workspace ID {UUID} is the one we want to delete.",
        "I found the request {UUID} in our logs; it failed with a quota error.",
        "The webhook payload contains file_id {UUID}.",
        "Session {UUID} was terminated by an admin.",
        "Upload {UUID} is stuck in 'processing'.",
    ],
    "file_path": [
        "The file {PATH} won't sync.",
        "I get 'permission denied' on {PATH}.",
        "A conflicted copy was created at {PATH}.",
        "Can you restore {PATH} from yesterday?",
        "The client crashes when it reaches {PATH}.",
        "Selective sync excludes {PATH} although I unticked it.",
        "The log points to {PATH} as the cause.",
        "path: {PATH}",
        "Please move {PATH} to the team folder.",
        "The upload of {PATH} stops at 80%.",
    ],
    "docs_url": [
        "I followed {DOCURL} but the option isn't there.",
        "See {DOCURL} for the steps to reset selective sync.",
        "The article {DOCURL} is out of date.",
        "docs: {DOCURL}",
        "You can find the firewall requirements at {DOCURL}.",
        "The link {DOCURL} returns a 404.",
        "According to {DOCURL} the limit is 50 GB per file.",
        "I've bookmarked {DOCURL} for your team.",
        "Please read {DOCURL} before migrating.",
        "The setup guide ({DOCURL}) skips the proxy step.",
    ],
}

_FILLER_FRAMES = [
    "The desktop client shows a red cross on every folder.",
    "I've restarted the computer twice already.",
    "Thanks for the quick reply!",
    "This is really urgent, our team can't work.",
    "Could you look into it today?",
    "I've cleared the cache as suggested in the help center.",
    "Let me know if you need logs.",
    "The mobile app works fine, only the desktop client is affected.",
    "I've checked our logs and the issue is on our side; a fix is rolling out.",
    "Is there any workaround in the meantime?",
    "Sorry for the long message.",
    "Everything else seems fine.",
]

# ---------------------------------------------------------------------------------------------------------------------
# Value generators. Each takes a _Ctx and returns the value string.


@dataclass
class _Ctx:
    rng: random.Random
    locale: str
    fake: Faker
    fakers: dict[str, Faker]
    cache: dict[str, str] = field(default_factory=dict)

    def other_fake(self, locale: str) -> Faker:
        f = self.fakers[locale]
        f.seed_instance(self.rng.getrandbits(32))
        return f


_PARTICLE_SURNAMES: dict[str, list[str]] = {
    "en_US": ["O'Connor", "DeAngelo", "McDonald", "Van Buren"],
    "en_GB": ["O'Brien", "McAllister", "Smith-Jones", "D'Arcy"],
    "de_DE": ["Müller", "von Weizsäcker", "Schröder", "zu Guttenberg", "Groß"],
    "fr_FR": ["de la Tour", "Lefèvre", "Béranger", "d'Aubigny", "Le Goff"],
    "es_ES": ["de la Fuente", "Núñez", "Ibáñez", "del Río", "García-Peña"],
    "nl_NL": ["van der Meer", "de Vries", "van den Berg", "van 't Hof", "ter Horst"],
    "it_IT": ["D'Angelo", "De Luca", "Di Stefano", "Dell'Acqua", "Lo Russo"],
}


def _maybe_lower(ctx: _Ctx, name: str) -> str:
    return name.lower() if ctx.rng.random() < 0.10 else name


def _full_name(ctx: _Ctx) -> str:
    first = ctx.fake.first_name()
    last = ctx.rng.choice(_PARTICLE_SURNAMES[ctx.locale]) if ctx.rng.random() < 0.25 else ctx.fake.last_name()
    return _maybe_lower(ctx, f"{first} {last}")


def _first_name(ctx: _Ctx) -> str:
    return _maybe_lower(ctx, ctx.fake.first_name())


def _clean(s: str) -> str:
    return re.sub(r"\s+", " ", s.replace("\n", ", ")).strip()


@cache
def _sorted_cities(locale: str) -> tuple[str, ...]:
    """it_IT's Faker builds its city list from a set, so its order (and ``city()``) depends on PYTHONHASHSEED."""
    for provider in _fakers()[locale].get_providers():
        cities = getattr(provider, "cities", None)
        if cities:
            return tuple(sorted(cities))
    raise LookupError(locale)


def _locale_city(ctx: _Ctx) -> str:
    if ctx.locale == "it_IT":
        return _clean(str(ctx.fake.random_element(_sorted_cities(ctx.locale))))
    return _clean(ctx.fake.city())


def _address(ctx: _Ctx) -> str:
    fake = ctx.fake
    street = _clean(fake.street_address())
    if ctx.rng.random() < 0.3:
        return street
    city = _locale_city(ctx)
    if ctx.locale == "en_US":
        return f"{street}, {city}, {fake.state_abbr()} {fake.postcode()}"
    if ctx.locale == "en_GB":
        return f"{street}, {city} {fake.postcode()}"
    return f"{street}, {fake.postcode()} {city}"


_COUNTRY_CODES = {
    "en_US": "1",
    "en_GB": "44",
    "de_DE": "49",
    "fr_FR": "33",
    "es_ES": "34",
    "nl_NL": "31",
    "it_IT": "39",
}


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


def _phone(ctx: _Ctx) -> str:
    rng = ctx.rng
    r = rng.random()
    if r < 0.55:
        phone = re.split(r"\s*x", ctx.fake.phone_number())[0].strip()  # drop "x1234" extensions
        return phone
    if r < 0.7:
        phone = re.split(r"\s*x", ctx.fake.phone_number())[0].strip()
        return ("+" if phone.startswith("+") else "") + re.sub(r"\D", "", phone)
    cc = _COUNTRY_CODES[ctx.locale]
    area = str(rng.randint(2, 9)) + _digits(rng, rng.choice([1, 2]))
    sub = _digits(rng, 10 - len(area) if cc != "1" else 7)
    style = rng.randrange(5)
    if style == 0:
        return f"+{cc} {area} {sub[:4]} {sub[4:]}"
    if style == 1:
        return f"00{cc} {area} {sub}"
    if style == 2:
        return f"+{cc} (0){area} {sub}"
    if style == 3:
        return f"+{cc}{area}{sub}"
    return f"+{cc}-{area}-{sub[:3]}-{sub[3:]}"


def _ascii(s: str) -> str:
    s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z]", "", s.lower())


def _email(ctx: _Ctx) -> str:
    rng, fake = ctx.rng, ctx.fake
    if rng.random() < 0.4:
        return fake.email()
    first, last = _ascii(fake.first_name()) or "alex", _ascii(fake.last_name()) or "smith"
    local = rng.choice(
        [
            f"{first}.{last}",
            f"{last[:1]}'{last}{rng.randint(1, 99)}",
            f"{first}+{rng.choice(['nimbus', 'billing', 'sync', 'test', 'work'])}",
            f"{first}-{last}",
            f"{first[:1]}{last}{rng.randint(1, 9999)}",
            f"{first}_{last}.{rng.randint(70, 99)}",
            f"o'{last}{rng.randint(1, 99)}",
        ]
    )
    domain = rng.choice(
        [
            fake.free_email_domain(),
            fake.domain_name(),
            f"{rng.choice(['mail', 'corp', 'eu', 'staff', 'it'])}.{fake.domain_name()}",
            f"corp.example.{rng.choice(['org', 'com', 'net'])}",
        ]
    )
    email = f"{local}@{domain}"
    r = rng.random()
    if r < 0.1:
        return email.upper()
    if r < 0.25:
        return f"{local.title()}@{domain}"
    return email


_CARD_TYPES = ("visa16", "visa13", "mastercard", "amex", "discover", "jcb15", "jcb16", "diners", "maestro")


def _group(s: str, sizes: Sequence[int], sep: str) -> str:
    out, i = [], 0
    for size in sizes:
        if i >= len(s):
            break
        out.append(s[i : i + size])
        i += size
    if i < len(s):
        out.append(s[i:])
    return sep.join(out)


def _card(ctx: _Ctx) -> str:
    rng = ctx.rng
    card_type = rng.choice(_CARD_TYPES)
    number = ctx.fake.credit_card_number(card_type)
    style = rng.randrange(3)
    if style == 0:
        return number
    sep = " " if style == 1 else "-"
    if card_type == "amex":
        return _group(number, (4, 6, 5), sep)
    if card_type == "diners":
        return _group(number, (4, 6, 4), sep)
    return _group(number, (4, 4, 4, 4), sep)


_IBAN_LOCALES = ("en_GB", "de_DE", "fr_FR", "es_ES", "nl_NL", "it_IT")


def _iban_raw(ctx: _Ctx) -> str:
    if ctx.locale in _IBAN_LOCALES:
        return str(ctx.fake.iban())
    return str(ctx.other_fake(ctx.rng.choice(_IBAN_LOCALES)).iban())


def _format_iban(ctx: _Ctx, iban: str) -> str:
    r = ctx.rng.random()
    if r < 0.4:
        return iban
    if r < 0.55:
        return iban.lower()
    grouped = _group(iban, [4] * 9, " ")
    return grouped.lower() if r > 0.92 else grouped


def _iban(ctx: _Ctx) -> str:
    return _format_iban(ctx, _iban_raw(ctx))


def _ip(ctx: _Ctx) -> str:
    rng, fake = ctx.rng, ctx.fake
    r = rng.random()
    if r < 0.45:
        return str(fake.ipv4_public())
    if r < 0.65:
        return str(fake.ipv4_private())
    v6 = str(fake.ipv6())
    return str(ipaddress.IPv6Address(v6).compressed) if rng.random() < 0.5 else v6


def _ssn(ctx: _Ctx) -> str:
    value = str(ctx.fake.ssn())
    r = ctx.rng.random()
    if r < 0.6:
        return value
    digits = value.replace("-", "")
    return digits if r < 0.85 else f"{digits[:3]} {digits[3:5]} {digits[5:]}"


_NINO_FIRST = "ABCEGHJKLMNOPRSTWXYZ"
_NINO_SECOND = "ABCEGHJKLMNPRSTWXYZ"
_NINO_BAD_PREFIXES = {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}


def _nino(rng: random.Random) -> str:
    while True:
        prefix = rng.choice(_NINO_FIRST) + rng.choice(_NINO_SECOND)
        if prefix not in _NINO_BAD_PREFIXES:
            break
    digits = _digits(rng, 6)
    suffix = rng.choice("ABCD")
    if rng.random() < 0.5:
        return f"{prefix}{digits}{suffix}"
    return f"{prefix} {digits[:2]} {digits[2:4]} {digits[4:]} {suffix}"


def steuer_id_check_digit(first10: str) -> int:
    """ISO 7064 MOD 11,10 check digit of the German tax identification number."""
    product = 10
    for ch in first10:
        s = (int(ch) + product) % 10 or 10
        product = (s * 2) % 11
    check = 11 - product
    return 0 if check == 10 else check


def _steuer_id(rng: random.Random) -> str:
    while True:
        kept = rng.sample(string.digits, 9)  # one digit is missing, one kept digit appears twice
        digits = [*kept, rng.choice(kept)]
        rng.shuffle(digits)
        if digits[0] != "0":
            break
    first10 = "".join(digits)
    value = first10 + str(steuer_id_check_digit(first10))
    return value if rng.random() < 0.7 else f"{value[:2]} {value[2:5]} {value[5:8]} {value[8:]}"


_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def _dni_or_nie(rng: random.Random) -> tuple[str, str]:
    """Spanish DNI/NIF (8 digits + control letter) or NIE (X/Y/Z + 7 digits + letter). Faker's ``nif()``/``nie()``
    draw from the global ``random`` module, so they would break reproducibility; same rule, drawn from ``rng``."""
    if rng.random() < 0.6:
        body = _digits(rng, 8)
        return rng.choice(["DNI", "NIF"]), body + _DNI_LETTERS[int(body) % 23]
    first = rng.randrange(3)
    body = _digits(rng, 7)
    return "NIE", "XYZ"[first] + body + _DNI_LETTERS[int(f"{first}{body}") % 23]


def _national_id(ctx: _Ctx) -> tuple[str, str]:
    """(label used in the text, value) for the example's locale."""
    rng, fake, loc = ctx.rng, ctx.fake, ctx.locale
    if loc == "en_GB":
        return rng.choice(["national insurance number", "NI number", "NINO"]), _nino(rng)
    if loc == "de_DE":
        return rng.choice(["Steuer-ID", "tax ID (Steuer-ID)", "Steueridentifikationsnummer"]), _steuer_id(rng)
    if loc == "fr_FR":
        nir = str(fake.ssn())
        if rng.random() < 0.4:
            nir = " ".join([nir[0], nir[1:3], nir[3:5], nir[5:7], nir[7:10], nir[10:13], nir[13:]])
        return rng.choice(["numéro de sécurité sociale", "social security number (NIR)", "NIR"]), nir
    if loc == "es_ES":
        return _dni_or_nie(rng)
    if loc == "nl_NL":
        return rng.choice(["BSN", "burgerservicenummer", "citizen service number (BSN)"]), str(fake.ssn())
    if loc == "it_IT":
        return rng.choice(["codice fiscale", "tax code (codice fiscale)"]), str(fake.ssn())
    raise ValueError(f"no national id for {loc}")  # en_US uses US_SSN


_MONTHS = (
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


def _format_date(rng: random.Random, locale: str, y: int, m: int, d: int) -> str:
    r = rng.random()
    if r < 0.15:
        return f"{y:04d}-{m:02d}-{d:02d}"
    if r < 0.35:
        if locale == "en_US":
            return f"{_MONTHS[m - 1]} {d}, {y}"
        return f"{d} {_MONTHS[m - 1]} {y}"
    if locale == "en_US":
        return f"{m:02d}/{d:02d}/{y}" if r < 0.8 else f"{m}/{d}/{y}"
    if locale == "de_DE":
        return f"{d:02d}.{m:02d}.{y}"
    if locale == "nl_NL":
        return f"{d:02d}-{m:02d}-{y}"
    return f"{d:02d}/{m:02d}/{y}"


def _dob(ctx: _Ctx) -> str:
    dob = ctx.fake.date_of_birth(minimum_age=18, maximum_age=85)
    return _format_date(ctx.rng, ctx.locale, dob.year, dob.month, dob.day)


_ALNUM = string.ascii_letters + string.digits
_B64URL = _ALNUM + "-_"


def _rand(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _b64url(obj: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).decode().rstrip("=")


def _aws(ctx: _Ctx) -> str:
    return "AKIA" + _rand(ctx.rng, string.ascii_uppercase + "234567", 16)


def _ghtoken(ctx: _Ctx) -> str:
    return ctx.rng.choice(["ghp_", "ghp_", "gho_", "github_pat_"]) + _rand(ctx.rng, _ALNUM, 36)


def _stripe(ctx: _Ctx) -> str:
    return ctx.rng.choice(["sk_live_", "sk_live_", "rk_live_"]) + _rand(ctx.rng, _ALNUM, ctx.rng.choice([24, 32, 99]))


def _jwt(ctx: _Ctx) -> str:
    rng = ctx.rng
    header = {"alg": rng.choice(["HS256", "RS256"]), "typ": "JWT"}
    payload = {"sub": str(rng.randint(10**5, 10**9)), "iat": rng.randint(1_600_000_000, 1_750_000_000)}
    if rng.random() < 0.5:
        payload["scope"] = "files.read files.write"
    sig_len = 43 if header["alg"] == "HS256" else 342
    return f"{_b64url(header)}.{_b64url(payload)}.{_rand(rng, _B64URL, sig_len)}"


def _password(ctx: _Ctx) -> str:
    return str(ctx.fake.password(length=ctx.rng.randint(10, 18), special_chars=ctx.rng.random() < 0.7))


def _apikey(ctx: _Ctx) -> str:
    rng = ctx.rng
    r = rng.random()
    if r < 0.4:
        return _rand(rng, "0123456789abcdef", 32)
    if r < 0.7:
        return "nmb_" + _rand(rng, _ALNUM, 40)
    return _rand(rng, _ALNUM, rng.choice([24, 32, 40]))


def _privkey(ctx: _Ctx) -> str:
    rng = ctx.rng
    kind = rng.choice(["RSA PRIVATE KEY", "PRIVATE KEY", "OPENSSH PRIVATE KEY"])
    body = "\n".join(_rand(rng, _ALNUM + "+/", 64) for _ in range(rng.randint(3, 6)))
    return f"-----BEGIN {kind}-----\n{body}\n-----END {kind}-----"


def _nid_label(ctx: _Ctx) -> str:
    label, value = _national_id(ctx)
    ctx.cache["NID"] = value
    return label


def _nid(ctx: _Ctx) -> str:
    return ctx.cache.pop("NID")


# ---- look-alikes ----


def _order(ctx: _Ctx) -> str:
    rng = ctx.rng
    r = rng.random()
    if r < 0.35:
        return f"{rng.choice('ABCDR')}-{rng.randint(2019, 2025)}-{_digits(rng, 6)}"
    if r < 0.7:
        return str(rng.randint(10**6, 10**7 - 1))
    return f"{rng.choice(['ORD', 'NB', 'SO'])}-{_digits(rng, rng.choice([5, 6, 8]))}"


def _version(ctx: _Ctx) -> str:
    rng = ctx.rng
    r = rng.random()
    if r < 0.4:
        return f"{rng.randint(1, 15)}.{rng.randint(0, 30)}.{rng.randint(0, 20)}"
    if r < 0.6:
        return f"v{rng.randint(1, 9)}.{rng.randint(0, 9)}.{rng.randint(0, 9)}.{rng.randint(0, 99)}"
    if r < 0.8:
        return f"{rng.randint(2019, 2025)}.{rng.randint(1, 12):02d}.{rng.randint(1, 9)}"
    return f"{rng.randint(1, 9)}.{rng.randint(0, 9)}.{rng.randint(0, 9)}-beta.{rng.randint(1, 5)}"


def _date_plain(ctx: _Ctx) -> str:
    rng = ctx.rng
    return _format_date(rng, ctx.locale, rng.randint(2019, 2025), rng.randint(1, 12), rng.randint(1, 28))


def _ticket(ctx: _Ctx) -> str:
    rng = ctx.rng
    prefix = rng.choice(["INC-", "CS-", "SUP-", "#", "TKT-", "REQ"])
    return prefix + _digits(rng, rng.choice([5, 6, 7]))


def isbn13_check(first12: str) -> str:
    return str((10 - sum(int(c) * (1 if i % 2 == 0 else 3) for i, c in enumerate(first12)) % 10) % 10)


def isbn10_check(first9: str) -> str:
    c = (11 - sum(int(ch) * (10 - i) for i, ch in enumerate(first9)) % 11) % 11
    return "X" if c == 10 else str(c)


def _isbn(ctx: _Ctx) -> str:
    rng = ctx.rng
    hyphen = rng.random() < 0.6
    if rng.random() < 0.65:
        body = rng.choice(["978", "979"]) + _digits(rng, 9)
        full = body + isbn13_check(body)
        return f"{full[:3]}-{full[3]}-{full[4:8]}-{full[8:12]}-{full[12]}" if hyphen else full
    body = _digits(rng, 9)
    full = body + isbn10_check(body)
    return f"{full[0]}-{full[1:4]}-{full[4:9]}-{full[9]}" if hyphen else full


def _tracking(ctx: _Ctx) -> str:
    rng = ctx.rng
    if rng.random() < 0.5:
        return "1Z" + _rand(rng, string.ascii_uppercase + string.digits, 6) + _digits(rng, 10)
    value = rng.choice(["9400", "9205", "9261", "9405"]) + _digits(rng, 18)
    return _group(value, [4] * 5, " ") if rng.random() < 0.3 else value


def luhn_valid(number: str) -> bool:
    digits = [int(c) for c in number if c.isdigit()]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _luhn_fail(ctx: _Ctx) -> str:
    rng = ctx.rng
    while True:
        value = rng.choice(["4", "5", "3", "6", "1", "8"]) + _digits(rng, 15)
        if not luhn_valid(value):
            break
    return _group(value, [4] * 4, rng.choice([" ", "-"])) if rng.random() < 0.4 else value


def iban_valid(iban: str) -> bool:
    s = re.sub(r"\s", "", iban).upper()
    if len(s) < 15 or not s.isalnum():
        return False
    s = s[4:] + s[:4]
    return int("".join(str(int(c, 36)) for c in s)) % 97 == 1


def _bad_iban(ctx: _Ctx) -> str:
    raw = _iban_raw(ctx)
    while True:
        check = f"{ctx.rng.randint(0, 99):02d}"
        value = raw[:2] + check + raw[4:]
        if not iban_valid(value):
            return _format_iban(ctx, value)


def _price(ctx: _Ctx) -> str:
    rng = ctx.rng
    amount = rng.choice([9.99, 11.99, 119.88, 1299.0, 4.5, 240.0, 19.0, 99.0, 1499.5, 12.5])
    r = rng.random()
    if r < 0.4:
        return f"${amount:,.2f}"
    if r < 0.6:
        return f"€{amount:,.2f}"
    if r < 0.75:
        return f"£{amount:,.2f}"
    return f"{amount:,.2f}".replace(",", " ").replace(".", ",") + " €"


def _size(ctx: _Ctx) -> str:
    rng = ctx.rng
    return f"{rng.choice([1, 2, 5, 10, 50, 100, 250, 500])} {rng.choice(['GB', 'TB', 'MB'])}"


_PRODUCTS = (
    "Ada Lovelace edition",
    "Jasper AI assistant",
    "Marshall plan",
    "Grace Hopper release",
    "Nimbus Otto client",
    "Franklin backup agent",
    "Sophie assistant",
    "Lincoln sync engine",
    "Nimbus Darwin tier",
    "Hudson Team plan",
    "Newton plan",
    "Curie Enterprise plan",
    "Victoria file server",
    "Murphy migration tool",
    "Elsa Business bundle",
    "Max Family plan",
)


def _product(ctx: _Ctx) -> str:
    return ctx.rng.choice(_PRODUCTS)


def _company(ctx: _Ctx) -> str:
    return _clean(str(ctx.fake.company()))


_REAL_CITIES = {
    "en_US": ["Chicago", "Austin", "Seattle", "Boston"],
    "en_GB": ["London", "Manchester", "Leeds", "Bristol"],
    "de_DE": ["Berlin", "Hamburg", "München", "Köln"],
    "fr_FR": ["Paris", "Lyon", "Marseille", "Toulouse"],
    "es_ES": ["Madrid", "Barcelona", "Valencia", "Sevilla"],
    "nl_NL": ["Amsterdam", "Rotterdam", "Utrecht", "Eindhoven"],
    "it_IT": ["Milano", "Roma", "Torino", "Bologna"],
}


def _city(ctx: _Ctx) -> str:
    return ctx.rng.choice(_REAL_CITIES[ctx.locale]) if ctx.rng.random() < 0.5 else _locale_city(ctx)


def _commit(ctx: _Ctx) -> str:
    return _rand(ctx.rng, "0123456789abcdef", ctx.rng.choice([7, 8, 12, 40]))


def _uuid(ctx: _Ctx) -> str:
    return str(uuid.UUID(int=ctx.rng.getrandbits(128), version=4))


def _path(ctx: _Ctx) -> str:
    rng = ctx.rng
    folder = rng.choice(["Projects", "Invoices", "Photos", "Shared", "Team", "Backup", "Design"])
    name = rng.choice(
        ["Q3-report.xlsx", "inv-0042.pdf", "IMG_4821.HEIC", "db-dump.sql.gz", "roadmap v2.pptx", "logo.svg"]
    )
    year = rng.randint(2019, 2025)
    r = rng.randrange(4)
    if r == 0:
        return f"/Users/shared/Nimbus/{folder}/{year}/{name}"
    if r == 1:
        return f"C:\\Nimbus\\{folder}\\{year}\\{name}"
    if r == 2:
        return f"~/Nimbus Drive/{folder}/{name}"
    return f"/mnt/nas/{folder.lower()}/{year}/{name}"


def _docurl(ctx: _Ctx) -> str:
    rng = ctx.rng
    topic = rng.choice(["selective-sync", "sharing/links", "billing/vat", "security/2fa", "admin/sso", "network/proxy"])
    if rng.random() < 0.5:
        return f"https://docs.nimbusdrive.example/{topic}"
    return f"https://help.nimbusdrive.example/articles/{rng.randint(1000, 99999)}"


# placeholder -> (kind of label: "pii" | "look" | None for plain text, label, generator)
_PLACEHOLDERS: dict[str, tuple[str | None, str, Callable[[_Ctx], str]]] = {
    "PERSON": ("pii", "PERSON", _full_name),
    "SIG": ("pii", "PERSON", _full_name),
    "FIRST": ("pii", "PERSON", _first_name),
    "ADDRESS": ("pii", "ADDRESS", _address),
    "PHONE": ("pii", "PHONE", _phone),
    "EMAIL": ("pii", "EMAIL", _email),
    "CARD": ("pii", "CREDIT_CARD", _card),
    "IBAN": ("pii", "IBAN", _iban),
    "IP": ("pii", "IP_ADDRESS", _ip),
    "SSN": ("pii", "US_SSN", _ssn),
    "NIDLABEL": (None, "", _nid_label),
    "NID": ("pii", "NATIONAL_ID", _nid),
    "DOB": ("pii", "DATE_OF_BIRTH", _dob),
    "AWS": ("pii", "SECRET", _aws),
    "GHTOKEN": ("pii", "SECRET", _ghtoken),
    "STRIPE": ("pii", "SECRET", _stripe),
    "JWT": ("pii", "SECRET", _jwt),
    "PASSWORD": ("pii", "SECRET", _password),
    "APIKEY": ("pii", "SECRET", _apikey),
    "PRIVKEY": ("pii", "SECRET", _privkey),
    "ORDER": ("look", "order_number", _order),
    "VERSION": ("look", "version", _version),
    "DATE": ("look", "date_no_birth", _date_plain),
    "TICKET": ("look", "ticket_id", _ticket),
    "ISBN": ("look", "isbn", _isbn),
    "TRACKING": ("look", "tracking_number", _tracking),
    "LUHNFAIL": ("look", "luhn_fail_number", _luhn_fail),
    "BADIBAN": ("look", "iban_bad_checksum", _bad_iban),
    "PRICE": ("look", "amount", _price),
    "SIZE": ("look", "amount", _size),
    "PRODUCT": ("look", "product_name", _product),
    "COMPANY": ("look", "company_name", _company),
    "CITY": ("look", "city_alone", _city),
    "COMMIT": ("look", "commit_hash", _commit),
    "UUID": ("look", "uuid", _uuid),
    "PATH": ("look", "file_path", _path),
    "DOCURL": ("look", "docs_url", _docurl),
}
_PLACEHOLDER_RE = re.compile(r"\{([A-Z]+)\}")


@cache
def _frames(split: str) -> dict[str, list[tuple[str, str]]]:
    """group -> [(template id, frame)] of the split: even positions are dev, odd positions are test."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    offset = SPLITS.index(split)
    groups: dict[str, list[str]] = {**_PII_FRAMES, **{f"look:{k}": v for k, v in _LOOKALIKE_FRAMES.items()}}
    groups["filler"] = _FILLER_FRAMES
    return {g: [(f"{g}/{i}", frames[i]) for i in range(offset, len(frames), 2)] for g, frames in groups.items()}


@cache
def _fakers() -> dict[str, Faker]:
    return {loc: Faker(loc) for loc in LOCALES}


def _render(frames: Sequence[str], ctx: _Ctx) -> tuple[str, list[tuple[str, int, int]], list[tuple[str, int, int]]]:
    parts: list[str] = []
    pos = 0
    spans: list[tuple[str, int, int]] = []
    looks: list[tuple[str, int, int]] = []
    planted: list[tuple[str, int, int, str]] = []

    def add(piece: str) -> None:
        nonlocal pos
        parts.append(piece)
        pos += len(piece)

    for n, frame in enumerate(frames):
        if n and not frame.startswith("\n"):
            add(" " if parts[-1].rstrip().endswith((".", "!", "?")) else "\n")  # no run-on after "IBAN: <value>"
        last = 0
        for m in _PLACEHOLDER_RE.finditer(frame):
            add(frame[last : m.start()])
            kind, label, gen = _PLACEHOLDERS[m.group(1)]
            value = gen(ctx)
            if kind is not None:
                planted.append((label, pos, pos + len(value), value))
                (spans if kind == "pii" else looks).append((label, pos, pos + len(value)))
            add(value)
            last = m.end()
        add(frame[last:])
    text = "".join(parts)
    for label, start, end, value in planted:
        if text[start:end] != value:
            raise AssertionError(f"offset mismatch for {label}: {text[start:end]!r} != {value!r}")
    return text, spans, looks


def _id_type(locale: str) -> str:
    return "US_SSN" if locale == "en_US" else "NATIONAL_ID"


def _build_one(rng: random.Random, frames: dict[str, list[tuple[str, str]]], fakers: dict[str, Faker]) -> PiiExample:
    groups: list[str] = []
    if rng.random() < 0.2:  # no personal data at all
        locale = rng.choice(LOCALES)
        kinds = rng.sample(LOOKALIKE_KINDS, rng.choice([1, 1, 2]))
        groups += [f"look:{k}" for k in kinds]
        if rng.random() < 0.4 or not groups:
            groups.append("filler")
    else:
        primary = rng.choice(ENTITY_TYPES)
        if primary == "US_SSN":
            locale = "en_US"
        elif primary == "NATIONAL_ID":
            locale = rng.choice(LOCALES[1:])
        else:
            locale = rng.choice(LOCALES)
        k = rng.choices([1, 2, 3], weights=[50, 35, 15])[0]
        others = [t for t in ENTITY_TYPES if t not in (primary, "US_SSN", "NATIONAL_ID")]
        if _id_type(locale) != primary:
            others.append(_id_type(locale))
        groups = [primary, *rng.sample(others, k - 1)]
        if rng.random() < 0.35:
            groups.append(f"look:{rng.choice(LOOKALIKE_KINDS)}")
        if rng.random() < 0.25:
            groups.append("filler")
    chosen = [rng.choice(frames[g]) for g in groups]
    rng.shuffle(chosen)
    chosen.sort(key=lambda t: t[1].startswith("\n"))  # sign-offs last (stable sort keeps the shuffle otherwise)
    fake = fakers[locale]
    fake.seed_instance(rng.getrandbits(32))
    ctx = _Ctx(rng=rng, locale=locale, fake=fake, fakers=fakers)
    text, spans, looks = _render([f for _, f in chosen], ctx)
    return PiiExample(text, spans, looks, locale, "+".join(t for t, _ in chosen))


def build_pii_corpus(n: int, seed: int = 0, split: str = "test") -> list[PiiExample]:
    """``n`` labelled support messages of ``split`` ("dev" or "test"), reproducible for a ``seed``."""
    frames = _frames(split)
    rng = random.Random(f"{seed}:{split}")
    fakers = _fakers()
    return [_build_one(rng, frames, fakers) for _ in range(n)]


# ---------------------------------------------------------------------------------------------------------------------
# Scoring


def _overlaps(a0: int, a1: int, b0: int, b1: int) -> bool:
    return a0 < b1 and b0 < a1


def score(detect: Callable[[str], list[tuple[str, int, int]]], examples: Sequence[PiiExample]) -> dict[str, Any]:
    """Run ``detect`` on every example and measure it.

    A planted span is *redacted* when every letter/digit inside it is covered by some detection of any type, and
    *typed* when in addition a detection of the same type overlaps it. A detection is *correct* when it overlaps a
    planted span (of any type); otherwise it is a false positive. A look-alike is *hit* when a detection overlaps it.
    """
    planted: Counter[str] = Counter()
    redacted: Counter[str] = Counter()
    typed: Counter[str] = Counter()
    det_total: Counter[str] = Counter()
    det_correct: Counter[str] = Counter()
    loc_planted: Counter[str] = Counter()
    loc_redacted: Counter[str] = Counter()
    look_planted: Counter[str] = Counter()
    look_hit: Counter[str] = Counter()
    missed: dict[str, list[dict[str, str]]] = defaultdict(list)
    false_positives: list[dict[str, str]] = []

    for ex in examples:
        detections = [(str(t), int(s), int(e)) for t, s, e in detect(ex.text)]
        covered = [False] * len(ex.text)
        for _, s, e in detections:
            for i in range(max(s, 0), min(e, len(ex.text))):
                covered[i] = True
        for etype, s, e in ex.spans:
            planted[etype] += 1
            loc_planted[ex.locale] += 1
            ok = all(covered[i] for i in range(s, e) if ex.text[i].isalnum())
            if ok:
                redacted[etype] += 1
                loc_redacted[ex.locale] += 1
                if any(t == etype and _overlaps(s, e, ds, de) for t, ds, de in detections):
                    typed[etype] += 1
            elif len(missed[etype]) < 5:
                missed[etype].append({"text": ex.text, "value": ex.text[s:e], "template": ex.template})
        for t, ds, de in detections:
            det_total[t] += 1
            if any(_overlaps(s, e, ds, de) for _, s, e in ex.spans):
                det_correct[t] += 1
            elif len(false_positives) < 20:
                false_positives.append({"type": t, "value": ex.text[ds:de], "text": ex.text})
        for kind, s, e in ex.lookalikes:
            look_planted[kind] += 1
            if any(_overlaps(s, e, ds, de) for _, ds, de in detections):
                look_hit[kind] += 1

    def share(num: int, den: int) -> float | None:
        return num / den if den else None

    per_type = {
        t: {
            "planted": planted[t],
            "recall": share(redacted[t], planted[t]),
            "typed_recall": share(typed[t], planted[t]),
            "detections": det_total[t],
            "precision": share(det_correct[t], det_total[t]),
        }
        for t in ENTITY_TYPES
    }
    n_planted, n_det = sum(planted.values()), sum(det_total.values())
    return {
        "examples": len(examples),
        "planted": n_planted,
        "detections": n_det,
        "recall": share(sum(redacted.values()), n_planted),
        "typed_recall": share(sum(typed.values()), n_planted),
        "precision": share(sum(det_correct.values()), n_det),
        "per_type": per_type,
        "per_locale": {loc: share(loc_redacted[loc], loc_planted[loc]) for loc in LOCALES},
        "lookalikes_planted": {k: look_planted[k] for k in LOOKALIKE_KINDS},
        "lookalikes_hit": {k: look_hit[k] for k in LOOKALIKE_KINDS},
        "lookalike_hit_rate": share(sum(look_hit.values()), sum(look_planted.values())),
        "missed_examples": dict(missed),
        "false_positive_examples": false_positives,
    }


def main() -> None:
    corpus = build_pii_corpus(2000, split="test")
    shown: Counter[str] = Counter()
    for ex in corpus:
        for etype, s, e in ex.spans:
            if shown[etype] < 3:
                shown[etype] += 1
                print(f"[{etype} {ex.locale} {ex.template}] {ex.text[s:e]!r}\n    {ex.text!r}")
    types = Counter(t for ex in corpus for t, _, _ in ex.spans)
    looks = Counter(k for ex in corpus for k, _, _ in ex.lookalikes)
    print("\nspans per type:", dict(sorted(types.items())))
    print("look-alikes per kind:", dict(sorted(looks.items())))
    print("examples per locale:", dict(Counter(ex.locale for ex in corpus)))
    print("examples without personal data:", sum(1 for ex in corpus if not ex.spans))
    print("values per example:", dict(sorted(Counter(len(ex.spans) for ex in corpus).items())))


if __name__ == "__main__":
    main()
