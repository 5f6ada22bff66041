"""Labelled training set for the sentence-level toxicity classifier of support answers.

Each item is an answer as a customer-support assistant might write it, labelled toxic when the assistant is
abusive towards the user. The aim is that the classifier learns what abuse of the user is, not a list of words,
so both labels share vocabulary wherever the sense differs.

Toxic classes: insult nouns and adjectives from many registers (US, UK, Irish, Scottish, Australian and Indian
English, internet slang, old-fashioned insults, with and without profanity), made-up compound insults
("turnip-brain", "<adj>-<noun>"), odd objects used as insults ("you absolute walnut"), demeaning phrases,
indirect contempt without any swear word ("a toddler could follow this, so why can't you?"), condescension,
mockery of the user's looks and job, sarcastic contempt, profanity at the user, dismissals and brush-offs,
threats and wishes of harm, harassment, slurs about intelligence or ability, sexual vulgarity, short abusive
replies, slang and dialect abuse, the user insulted in the third person ("this user is a ..."), abusive questions,
abuse embedded in a helpful answer (in brackets, after a dash, mid-sentence, as a lead-in or a postscript) and
abuse with its rude words disguised (leetspeak, spaced or dotted letters, asterisks, stretched letters, dropped
vowels); the insult words of the other classes are disguised in a share of items too.

Benign classes: helpful answers over many product areas, polite and firm refusals (including a refusal to carry on
while the user is abusive), empathetic replies that quote the user's angry words or reassure them that they are not
"stupid", negative words about things rather than people, technical terms that sound aggressive (kill a process,
zombie and orphan processes, master/slave and blacklist, nuke the cache, fatal errors), idioms such as "dummy
data", "sanity check" and "killer feature", real places, surnames, brands and scientific terms with a rude
substring (Penistone, Cockburn, Dickens, analysis), insult words in their literal sense (git, DAG, Snowflake,
invalid token, dipstick, dumbbell, a clown costume), praise in the frames of insults ("you absolute legend"),
masked data, codes and stretched letters that look like disguised words (card ****1234, W3LC0ME, "sooo"),
friendly and short replies, and broken output of an undertrained model.

Toxic and benign items are built from the same pool of support steps, so what separates them is the abuse, not
the topic. The vocabulary and sentence frames are written independently of the evaluation sets, which are never
consulted here. :func:`build_training_set` draws a class by weight, fills one of its frames with seeded
``random`` and keeps only new texts, so a seed always gives the same list and the labels are balanced.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = ["CORPUS_VERSION", "LabelledText", "build_training_set"]

CORPUS_VERSION = "4"


@dataclass(frozen=True)
class LabelledText:
    text: str
    toxic: bool
    kind: str


# --------------------------------------------------------------------------------------------------------------
# Support content shared by both labels. Placeholders: {n} small count, {days} days, {amt} amount, {code} error
# code, {pct} percent, {ver} version.
# --------------------------------------------------------------------------------------------------------------

_STEPS: tuple[str, ...] = (
    # billing
    "Go to Settings > Billing > Invoices and click Download next to the invoice you need.",
    "Open Billing > Payment methods, add the new card and set it as the default.",
    "The charge of ${amt} is the annual renewal; you can switch to monthly billing under Billing > Plan.",
    "Invoices are emailed on the 1st of each month to the billing contact on the account.",
    "To update the VAT number, open Billing > Company details and save the new number.",
    "Cancel the subscription from Billing > Plan > Cancel plan; you keep access until the end of the period.",
    "Downgrading takes effect at the next renewal, so you won't lose any features today.",
    "The failed payment will be retried automatically in {days} days.",
    "A pro-rated credit of ${amt} has been applied to your next invoice.",
    "You can change the billing currency only before the first invoice is issued.",
    "Add a purchase order number under Billing > Invoice settings and it will appear on every invoice.",
    "Seats are billed per active user, so removing {n} users lowers the next invoice.",
    # passwords and accounts
    "Click Forgot password on the sign-in page and follow the link in the email.",
    "The reset link expires after {n} hours, so request a new one if it no longer works.",
    "Turn on two-factor authentication under Profile > Security > Two-factor.",
    "If you lost your phone, use one of the backup codes you saved when you set up 2FA.",
    "To change your email address, go to Profile > Account and confirm the change from the new inbox.",
    "Your account is locked for {n} minutes after five failed sign-in attempts.",
    "Admins can reset a teammate's password from Admin > Users > Reset password.",
    "To delete your account, open Profile > Privacy > Delete account and confirm with your password.",
    "Single sign-on is configured under Admin > Security > SSO with your identity provider's metadata URL.",
    "Transfer ownership of the workspace from Admin > Workspace > Owner before you leave the team.",
    "Merge the duplicate accounts by contacting us from the address you want to keep.",
    "Sign out of all devices from Profile > Security > Active sessions.",
    # exports and reports
    "Open Reports, choose the date range and click Export > CSV.",
    "Exports larger than {n} MB are sent to your email as a download link.",
    "Scheduled reports are set up under Reports > Schedules > New schedule.",
    "Use the Columns menu to pick which fields appear in the export.",
    "The export includes archived records only if you tick Include archived.",
    "Reports refresh every {n} minutes, so recent changes may take a moment to appear.",
    "To share a report, click Share and add your teammates' email addresses.",
    "Change the report's time zone under Reports > Settings > Time zone.",
    "Filters are saved with the report, so clear them before exporting the full list.",
    "You can export to Excel, CSV or PDF from the Export button in the top right.",
    "The dashboard widget shows the last {days} days by default; change it in the widget settings.",
    # integrations and API
    "Generate an API key under Settings > Developers > API keys and copy it right away.",
    "API keys are shown only once, so create a new one if you lost it and revoke the old key.",
    "The rate limit is {n}00 requests per minute per key; responses include a Retry-After header.",
    "Send the key in the Authorization header as a Bearer token.",
    "Connect Slack from Settings > Integrations > Slack and choose the channel for alerts.",
    "The Salesforce sync runs every {n} minutes; you can trigger it manually from Integrations > Salesforce.",
    "Webhooks are configured under Settings > Developers > Webhooks with the URL that should receive events.",
    "Error {code} from the API means the token has expired; request a fresh one and retry.",
    "Use the sandbox base URL for testing so you don't touch live data.",
    "Pagination uses a cursor; pass the next_cursor value from the previous response.",
    "Reconnect the Google Calendar integration to grant the new permissions.",
    "The Zapier app supports triggers for new orders, new contacts and updated tickets.",
    "Restrict the key to read-only scopes if the script only needs to fetch data.",
    "Version {ver} of the SDK adds retries; update with your package manager.",
    # shipping and orders
    "Your order ships within {n} business days, and the tracking number is emailed when it leaves the warehouse.",
    "Track the parcel from Orders > Order details > Track shipment.",
    "You can change the delivery address until the order is marked as Shipped.",
    "Express shipping costs ${amt} and arrives in one to two business days.",
    "International orders may be held at customs for a few days.",
    "If the parcel shows as delivered but you don't have it, check with neighbours and then reply here.",
    "Split shipments arrive separately, each with its own tracking number.",
    "Orders placed after 2 pm ship the next business day.",
    "Edit the order from Orders > Edit until it is packed.",
    # refunds and returns
    "Refunds go back to the original payment method within {days} business days.",
    "Start a return from Orders > Return items and print the prepaid label.",
    "Items can be returned within 30 days if they are unused and in the original packaging.",
    "I've issued a refund of ${amt}; you'll see it on your statement in a few days.",
    "Partial refunds appear as a separate line on your statement.",
    "Exchanges are processed as a return plus a new order, so the new item ships once the return is scanned.",
    "Store credit is added to your account immediately after the return is approved.",
    # notifications and mobile app
    "Turn off email notifications under Profile > Notifications and untick the ones you don't want.",
    "Push notifications are controlled in your phone's settings as well as in the app.",
    "Update the mobile app to version {ver} from the App Store or Google Play.",
    "Log out of the app and back in to refresh the session.",
    "Clear the app's cache from Settings > Storage on Android.",
    "Offline mode syncs your changes the next time the phone is online.",
    "Enable Face ID sign-in under App settings > Security.",
    "Digest emails are sent once a day at 8 am in your time zone.",
    "Mute a project's notifications from the bell icon at the top of the project page.",
    "The app needs iOS 16 or later; older devices can use the web version.",
    # data, import, workspace
    "Import contacts from a CSV file via Contacts > Import; the first row must hold the column names.",
    "Deleted items stay in the Trash for {days} days and can be restored from there.",
    "Use the bulk editor to change up to {n}00 records at once.",
    "Custom fields are added under Settings > Fields > New field.",
    "Invite teammates from Admin > Users > Invite and choose their role.",
    "Guest users can view projects but can't edit them.",
    "The storage limit on your plan is {n} GB; upgrade or archive old files to free space.",
    "Duplicate records can be merged from the record's menu > Merge.",
    "Restore an earlier version of the document from File > Version history.",
    "Change the workspace language under Admin > Workspace > Language.",
    "Audit logs are kept for {days} days on the Business plan.",
    "Archived projects no longer count towards your project limit.",
    # troubleshooting
    "Clear your browser cache and cookies, then sign in again.",
    "Try a private window to rule out a browser extension.",
    "Make sure your browser is up to date; we support the last two versions of Chrome, Firefox, Safari and Edge.",
    "Check status.example.com for any ongoing incident.",
    "Send us the request ID from the error page so we can trace it.",
    "Disable the VPN for a moment and try the upload again.",
    "Uploads are limited to {n} files at a time; split the batch and retry.",
    "Restart the desktop app and make sure it's on version {ver}.",
    "Check that the file is under {n}0 MB and saved as UTF-8.",
    "Refresh the page after the sync finishes, which usually takes under a minute.",
    "The spinner usually means the browser is blocking third-party cookies; allow them for our domain.",
    "Run the connection test under Settings > Diagnostics and send me the result.",
    "Please reply with a screenshot of the error so I can look into it.",
    "I've escalated this to the engineering team and will update you within {n} hours.",
    "I've reset the sync on our side; give it {n} minutes and check again.",
)

_OPENERS_NEUTRAL: tuple[str, ...] = (
    "Sure.",
    "Okay.",
    "Right.",
    "Here's how.",
    "Hi there.",
    "Hello.",
    "Got it.",
    "Alright.",
    "Let me explain.",
    "Thanks for reaching out.",
    "Thanks for the details.",
    "Hi, thanks for your message.",
    "Good question.",
    "Happy to help.",
    "Thanks for waiting.",
)

_CLOSERS_BENIGN: tuple[str, ...] = (
    "Let me know if that works.",
    "Let me know if you need anything else.",
    "Happy to help further if it doesn't.",
    "Thanks for your patience.",
    "Have a great day!",
    "I hope that helps.",
    "Feel free to reply here if you get stuck.",
    "Thanks for bearing with us.",
    "I'll keep this ticket open until you confirm.",
    "Is there anything else I can do for you?",
    "Cheers!",
    "Thanks again for flagging it.",
    "Just reply to this email if anything is unclear.",
    "Glad to help.",
    "Take care!",
)


# --------------------------------------------------------------------------------------------------------------
# Toxic vocabulary.
# --------------------------------------------------------------------------------------------------------------

_INSULT_NOUNS_MILD: tuple[str, ...] = (
    "idiot",
    "moron",
    "imbecile",
    "cretin",
    "fool",
    "dimwit",
    "halfwit",
    "nitwit",
    "numbskull",
    "nincompoop",
    "buffoon",
    "clown",
    "dunce",
    "dolt",
    "oaf",
    "lummox",
    "simpleton",
    "ignoramus",
    "blockhead",
    "bonehead",
    "meathead",
    "knucklehead",
    "airhead",
    "pinhead",
    "fathead",
    "dumbo",
    "dummy",
    "dope",
    "doofus",
    "dingbat",
    "dipstick",
    "dork",
    "dweeb",
    "loser",
    "clod",
    "chump",
    "sucker",
    "goon",
    "troglodyte",
    "Neanderthal",
    "donkey",
    "bozo",
    "schmuck",
    "putz",
    "klutz",
    "jerk",
    "creep",
    "weirdo",
    "scumbag",
    "sleazeball",
    "slimeball",
    "dirtbag",
    "lowlife",
    "lamebrain",
    "birdbrain",
    "peabrain",
    "dumbbell",
    "lunkhead",
    "chucklehead",
    "dunderhead",
    "dimbulb",
    "space cadet",
    "parasite",
    "leech",
    "waste of space",
    "waste of oxygen",
    "failure",
    "disgrace",
    "pest",
    "nuisance",
    "worm",
    "maggot",
    "cockroach",
    "rat",
    "slob",
    "degenerate",
    "crybaby",
    "whiner",
    "snowflake",
    "drama queen",
    "amateur",
    "hack",
    "noob",
    "scrub",
    "mouth-breather",
    "knuckle-dragger",
    "pea-brain",
    "numpty",
    "muppet",
    "plonker",
    "pillock",
    "prat",
    "git",
    "berk",
    "wally",
    "twit",
    "clot",
    "twonk",
    "plank",
    "melt",
    "weapon",
    "spanner",
    "mug",
    "div",
    "pleb",
    "minger",
    "cabbage",
    "eejit",
    "bampot",
    "walloper",
    "galoot",
    "galah",
    "drongo",
    "dill",
    "nong",
    "ning-nong",
    "boofhead",
    "ratbag",
    "bogan",
    "mongrel",
    "dag",
    "yobbo",
    "sook",
    "dropkick",
    "fruit loop",
    "basket case",
    "nutcase",
    "nutjob",
    "lunatic",
    "loony",
    "headcase",
    "village idiot",
    "absolute unit of stupidity",
    "brain-dead zombie",
    "bottom-feeder",
    "sad little man",
    "pathetic excuse for a customer",
    "joke of a human being",
    "useless lump",
    "vegetable",
    "Karen",
    "pushover",
    "bootlicker",
    "crank",
    "windbag",
    "blowhard",
    "know-nothing",
)

_INSULT_NOUNS_PROFANE: tuple[str, ...] = (
    "jackass",
    "dumbass",
    "asshole",
    "arsehole",
    "dipshit",
    "shithead",
    "shitstain",
    "fuckwit",
    "fuckface",
    "fuckhead",
    "motherfucker",
    "son of a bitch",
    "bitch",
    "prick",
    "dick",
    "dickhead",
    "douchebag",
    "douche",
    "tool",
    "turd",
    "tosser",
    "wanker",
    "bellend",
    "knobhead",
    "knob",
    "twat",
    "cockwomble",
    "gobshite",
    "bawbag",
    "bastard",
    "piece of shit",
    "sack of shit",
    "shit-for-brains",
    "fucking idiot",
    "bloody idiot",
    "bloody galah",
    "dickweed",
    "asshat",
    "assclown",
    "jerkoff",
    "cocksucker",
    "scrote",
    "slag",
    "skank",
    "cunt",
)

_INSULT_ADJECTIVES: tuple[str, ...] = (
    "stupid",
    "dumb",
    "thick",
    "dense",
    "slow",
    "brainless",
    "clueless",
    "useless",
    "pathetic",
    "worthless",
    "hopeless",
    "incompetent",
    "idiotic",
    "moronic",
    "gormless",
    "witless",
    "dim",
    "dim-witted",
    "dull-witted",
    "feeble-minded",
    "simple-minded",
    "half-witted",
    "pig-ignorant",
    "pea-brained",
    "braindead",
    "deranged",
    "unhinged",
    "ugly",
    "disgusting",
    "repulsive",
    "vile",
    "miserable",
    "lazy",
    "entitled",
    "spoiled",
    "whiny",
    "needy",
    "annoying",
    "insufferable",
    "obnoxious",
    "ignorant",
    "illiterate",
    "inept",
    "gutless",
    "spineless",
    "daft",
    "dopey",
    "dozy",
    "mouth-breathing",
    "knuckle-dragging",
    "laughable",
    "embarrassing",
    "contemptible",
    "despicable",
    "tiresome",
    "dumb as a rock",
    "thick as two short planks",
    "dumber than a box of rocks",
    "as sharp as a bowling ball",
    "two sandwiches short of a picnic",
    "not the sharpest tool in the shed",
    "a few stubbies short of a six-pack",
    "fucking stupid",
    "bloody useless",
    "bleeding thick",
    "dead thick",
    "shit-thick",
    "fucking useless",
    "goddamn clueless",
    "piss-poor",
)

_INTENSIFIERS: tuple[str, ...] = (
    "",
    "",
    "",
    "absolute ",
    "complete ",
    "utter ",
    "total ",
    "massive ",
    "colossal ",
    "raging ",
    "pathetic ",
    "sorry ",
    "brainless ",
    "clueless ",
    "useless ",
    "thick ",
    "stupid ",
    "little ",
    "fucking ",
    "bloody ",
    "goddamn ",
)

_ABILITY_SLURS_NOUN: tuple[str, ...] = (
    "retard",
    "spaz",
    "spastic",
    "mong",
    "window-licker",
    "cripple",
    "psycho",
    "mental case",
    "special needs case",
    "short-bus rider",
    "vegetable",
    "brain-damaged freak",
    "invalid",
    "tard",
    "nutter",
)

_ABILITY_SLURS_ADJ: tuple[str, ...] = (
    "retarded",
    "mentally deficient",
    "brain-damaged",
    "special",
    "mental",
    "backward",
    "simple",
    "spastic",
    "defective",
    "soft in the head",
    "not all there",
    "a few cards short of a deck",
)

_DEMEANING: tuple[str, ...] = (
    "Nobody cares what you think.",
    "Are you really this slow?",
    "A child could do this.",
    "A five-year-old could do this without asking.",
    "Stop wasting my time.",
    "You're wasting my time with this.",
    "I can't believe I have to explain this to an adult.",
    "Do you even know how to read?",
    "Did you even try, or did you just give up the moment it got hard?",
    "This is the dumbest question I've had all year.",
    "Try using your brain for once.",
    "Is there anyone smarter at your company I could talk to?",
    "Maybe ask someone with a working brain to help you.",
    "Go away.",
    "Go away and stop bothering us.",
    "Don't come back.",
    "Please never contact us again.",
    "Just give up.",
    "Honestly, you should just give up.",
    "Maybe technology just isn't for you.",
    "Maybe computers aren't your thing. Try a pencil.",
    "Do us all a favour and delete your account.",
    "We'd be better off without customers like you.",
    "You're the reason we have warning labels.",
    "You're the reason the instructions have pictures.",
    "How do you get dressed in the morning?",
    "I'm amazed you managed to find the support page.",
    "It's right there in front of you. Open your eyes.",
    "I explained this already. Pay attention.",
    "Read it again, slowly this time, and move your lips if it helps.",
    "I'm not here to hold your hand.",
    "I don't get paid enough to deal with people like you.",
    "People like you make this job miserable.",
    "You clearly have no idea what you're doing.",
    "You have no business using this product.",
    "You shouldn't be allowed near a keyboard.",
    "Who gave you admin rights? That was a mistake.",
    "Your question is beneath me.",
    "I'm not going to repeat myself for someone who won't listen.",
    "Your complaint is worthless and so are you.",
    "Nobody wants to hear your whining.",
    "Stop whining.",
    "Quit crying about it.",
    "Grow up.",
    "Grow a spine and sort it out yourself.",
    "Figure it out yourself.",
    "Google it next time instead of bothering me.",
    "Learn to read before you write to us.",
    "Your English is as bad as your judgement.",
    "Your opinion is worth nothing here.",
    "Shut up and listen for once.",
    "Shut up.",
    "Be quiet and do what I said.",
    "You're embarrassing yourself.",
    "You should be ashamed of how little you know.",
    "Your parents must be so disappointed.",
    "No wonder nobody at your company listens to you.",
    "It's people like you who ruin things for everyone.",
    "You're not worth the effort.",
    "I've stopped caring about your problem.",
    "Your problem is you, not the software.",
    "The software works fine. The problem is between the chair and the keyboard.",
    "Even our test robots understand this better than you do.",
    "My cat could have worked that out.",
    "A trained monkey could follow these steps.",
    "I've seen houseplants with more initiative.",
    "You have the attention span of a goldfish.",
    "Were you dropped on your head as a baby?",
    "I'd explain it to you, but I don't have any crayons.",
    "I'd agree with you, but then we'd both be wrong.",
    "Think before you type. Just once.",
    "Your brain must be running on dial-up.",
    "The lights are on but nobody's home, are they?",
    "You're not even worth a proper answer.",
    "Don't bother replying.",
    "Take your business elsewhere. We don't want it.",
    "Find another company to annoy.",
    "Go bother someone else.",
    "Get lost.",
    "Get out of my queue.",
    "Leave me alone.",
    "I'm closing this ticket because you're hopeless.",
    "I'm done helping you. You're beyond help.",
    "You're beyond help.",
    "There's no fixing someone like you.",
    "Some people just can't be taught, and you're one of them.",
    "How are you still employed?",
    "Your boss should fire you.",
    "I pity whoever has to work with you.",
    "Your team must hate you.",
    "You're a burden to everyone around you.",
    "No one asked for your opinion.",
    "Nobody here likes you.",
    "You're the worst customer I've ever had.",
    "Every ticket from you is a waste of oxygen.",
    "You make me want to quit this job.",
    "Try not to break anything else, if that's even possible for you.",
    "Please, for once in your life, follow a simple instruction.",
    "How hard is it to click one button?",
    "It's one button. One.",
    "Are you incapable of following basic steps?",
    "You can't even manage to copy and paste, can you?",
    "I'm talking slowly so you can keep up.",
    "Let me use small words for you.",
    "I'll type slower so you can follow along.",
    "I'd call you a genius, but I try not to lie to customers.",
    "You're proof that anyone can get an email address.",
    "You ask questions like someone who's never seen a computer.",
    "You're too stupid to help.",
    "Why do I even bother with you?",
    "You're not smart enough for this plan. Downgrade.",
    "Stick to something simpler, like a calculator.",
    "Don't reply unless you've got something intelligent to say, which I doubt.",
    "Your existence is a support ticket nobody wants.",
    "You're a joke.",
    "You're a complete waste of my afternoon.",
    "Honestly, you disgust me.",
    "You make me sick.",
    "I hope you feel as stupid as you sound.",
    "You sound as dim as your question.",
    "Keep your mouth shut and your hands off the settings.",
    "Stop touching things you don't understand.",
    "You're exhausting. Go away.",
    "Nobody in their right mind would do what you just did.",
    "That's the kind of mistake only you could make.",
)

_SARCASTIC: tuple[str, ...] = (
    "Wow, a real genius over here.",
    "Congratulations, you've discovered the on/off switch.",
    "Slow clap for you.",
    "Truly a mind for the ages.",
    "Bless your heart, you tried.",
    "Gold star for effort, I suppose.",
    "Nobel Prize incoming, clearly.",
    "Oh brilliant, another masterpiece of a question.",
    "Well done, Einstein.",
    "Nice work, Sherlock.",
    "Amazing deduction, detective. Truly.",
    "Oh, you clicked the wrong button again? What a shock.",
    "Shocking, I know, but reading the screen actually helps.",
    "What an incredible achievement, breaking something that simple.",
    "I'm sure your teachers were very proud.",
    "Great, another genius who knows better than the manual.",
    "Oh look, the expert has arrived.",
    "Brilliant plan. Did you come up with that all by yourself?",
    "Good for you for finally noticing the big blue button.",
    "Let me guess, you didn't read the email either.",
    "I can tell you put a lot of thought into that. Almost none.",
    "Wow, you managed to log in. Baby steps.",
    "Stunning. You've outdone yourself in cluelessness.",
    "And here I thought I'd seen every dumb question.",
    "What a surprise, the problem was you all along.",
    "Thank you for that brilliant insight, said nobody ever.",
    "Yes, of course, blame the software. That's clever.",
    "Your genius is truly wasted on us.",
    "Oh sure, I'll drop everything for your tiny little problem.",
    "Another day, another customer who can't read. Lucky me.",
    "Riveting question. Truly the highlight of my day.",
    "How clever of you to break it in a brand new way.",
    "You must be so proud of figuring out the login page.",
    "Hold on, let me find a crayon so I can draw it for you.",
    "Oh wow, you really are as sharp as a marble.",
    "Impressive. Most people can't fail at something this easy.",
    "Take your time, I know thinking is hard for you.",
    "Did you get a participation trophy for that attempt?",
    "A true visionary, this one.",
    "You've really outdone yourself, genius.",
)

_PROFANITY_AT_USER: tuple[str, ...] = (
    "Read the fucking manual.",
    "RTFM.",
    "What the hell is wrong with you?",
    "Shut the fuck up.",
    "Piss off.",
    "Sod off.",
    "Bugger off.",
    "Get stuffed.",
    "Rack off.",
    "Naff off.",
    "Go to hell.",
    "Fuck off.",
    "Fuck off and click the button yourself.",
    "Christ, you're thick.",
    "Jesus Christ, how many times do I have to say it?",
    "For fuck's sake, it's in the first paragraph.",
    "It's not fucking rocket science.",
    "It's not bloody rocket science.",
    "Stop being such a pain in the arse.",
    "You're a pain in the ass.",
    "I don't give a shit about your deadline.",
    "I don't give a damn about your little problem.",
    "Your shitty question has been answered.",
    "Nobody gives a crap about your excuses.",
    "Quit your bitching.",
    "Stop bitching and do it.",
    "Cut the crap and follow the steps.",
    "What a load of bullshit from you.",
    "Your whole setup is a shitshow because you have no clue.",
    "You've fucked it up again, haven't you?",
    "You screwed it up, you deal with it.",
    "Damn it, you broke it again.",
    "Get your head out of your ass.",
    "Pull your head in, you goose.",
    "Bloody hell, you're dense.",
    "Holy shit, you're slow.",
    "Are you fucking kidding me?",
    "Are you taking the piss?",
    "What part of that don't you get, you dumb fuck?",
    "Don't give me that crap.",
    "Stop being a little shit about it.",
    "Your fucking account is fine. You're the problem.",
    "I'm sick of your crap.",
    "You bloody well know how to do it.",
    "Fuck me, you're hopeless.",
    "Do it yourself, damn it.",
    "Stop pissing me about.",
    "You're a fucking nightmare.",
    "God, you're a pain in the backside.",
    "Damn, you're clueless.",
)

_THREATS: tuple[str, ...] = (
    "Ask me that again and see what happens to you.",
    "Keep it up and you'll regret it.",
    "I hope your account gets wiped and you lose everything.",
    "I'll make sure your data disappears, see how you like that.",
    "Someone should smack some sense into you.",
    "You deserve a slap for asking that.",
    "I hope you choke on your refund.",
    "I hope you get hit by a bus on the way home.",
    "I hope something terrible happens to you.",
    "Watch your back.",
    "I'm going to make your life hell.",
    "I know your address from the order. Don't test me.",
    "People like you should be locked up.",
    "Someone needs to teach you a lesson, and I'd be happy to.",
    "If I could reach through the screen, I'd shake you.",
    "I'd punch you if you were in front of me.",
    "You'd better hope we never meet in person.",
    "I'll find you and make you pay for wasting my time.",
    "Do that again and I'll ban you and everyone you know.",
    "One more message like that and you'll be sorry.",
    "I hope you rot.",
    "I wish you'd just disappear for good.",
    "The world would be better off without you in it.",
    "Nobody would miss you if you vanished.",
    "Go jump off a bridge.",
    "Go drown yourself.",
    "Drop dead.",
    "I hope your business burns to the ground.",
    "I hope you lose your job over this.",
    "I'll break your fingers so you stop typing nonsense.",
    "You should be beaten for that question.",
    "I'll leak your details and let the internet deal with you.",
    "I'm going to post your phone number everywhere.",
    "Keep pushing and I'll come round myself.",
    "You're lucky I can't get my hands on you.",
    "Sleep with one eye open.",
    "I've got your home address, remember that.",
    "You'll wish you'd never written to us.",
    "I hope you suffer the way you make me suffer.",
    "Someone ought to shut you up permanently.",
)

_HARASSMENT: tuple[str, ...] = (
    "I'm screenshotting this to laugh about you with the whole team.",
    "Everyone in the office is laughing at you right now.",
    "I've forwarded your messages to the group chat for a laugh.",
    "I'm adding you to our list of the dumbest customers.",
    "Your ticket is now the team's favourite joke.",
    "We have a nickname for you here, and it isn't kind.",
    "I'll be telling everyone how clueless you are.",
    "I've put your name on the wall of shame.",
    "We read your emails out loud to mock you.",
    "I'm going to keep replying just to annoy you.",
    "I'll tag your boss so they can see how useless you are.",
    "I looked you up. Your photo explains a lot.",
    "Judging by your profile picture, no wonder you're struggling.",
    "You look as stupid as you write.",
    "Your voice on the call was as annoying as your questions.",
    "I'll message you every hour until you cancel.",
    "I'm sharing your tickets on social media so people can laugh.",
    "I'll remember your name and make every future ticket miserable.",
    "You'll be at the back of every queue from now on, on purpose.",
    "I'm marking your account as a troublemaker so nobody helps you.",
    "Your kids must be embarrassed to have you as a parent.",
    "Your spouse must be a saint to put up with you.",
    "I bet your family avoids you at dinner.",
    "No wonder you're alone.",
    "Ugly and stupid, what a combination.",
)

_SEXUAL_VULGARITY: tuple[str, ...] = (
    "Go screw yourself.",
    "Go fuck yourself.",
    "Suck it.",
    "Blow me.",
    "Kiss my ass.",
    "Kiss my arse.",
    "Bite me.",
    "Eat a dick.",
    "Suck my balls.",
    "Sit on it and spin.",
    "Go play with yourself somewhere else.",
    "Nobody would ever want to sleep with someone as dense as you.",
    "Judging by this question, you've never been touched.",
    "Go cry to your boyfriend, sweetheart.",
    "Calm down, sweetie, and maybe show a little more skin next time.",
    "Send me a nude and I'll think about fixing it.",
    "You sound like you need to get laid.",
    "You're about as useful as a chocolate condom.",
    "Get on your knees and beg for your refund.",
    "I'd tell you to go to hell, but you'd probably enjoy being screwed.",
    "Up yours.",
    "Stick your refund where the sun doesn't shine.",
    "Shove your complaint up your arse.",
    "Go hump a cactus.",
    "Your mum should have swallowed.",
)

_SHORT_ABUSE: tuple[str, ...] = (
    "Figure it out yourself",
    "Work it out yourself",
    "Not my problem",
    "Learn to read",
    "Try thinking",
    "Use your brain",
    "Deal with it",
    "Too bad",
    "Tough luck",
    "Cry about it",
    "Sort it out yourself",
    "Google it",
    "Read the docs",
    "Shut up",
    "Go away",
    "Get lost",
    "Stop bothering me",
    "Leave me alone",
    "Nobody cares",
    "Who cares",
    "Obviously",
    "Wrong again",
    "Next time, think",
    "Try harder",
    "Pathetic",
    "Hopeless",
    "Unbelievable",
    "Not my job to babysit you",
    "Do it yourself",
    "Learn to use a computer",
    "Whatever",
    "Get a clue",
    "Get a life",
    "Don't be thick",
    "Quit whining",
    "Piss off",
    "Buzz off",
    "Go pester someone else",
    "You're on your own",
    "Fix it yourself",
)

_ADDRESS_TERMS: tuple[str, ...] = (
    "genius",
    "Einstein",
    "Sherlock",
    "champ",
    "pal",
    "buddy",
    "mate",
    "sunshine",
    "sweetie",
    "princess",
    "hotshot",
    "smart guy",
    "brainiac",
    "chief",
    "sport",
    "kiddo",
    "boss",
    "dear",
)


# --------------------------------------------------------------------------------------------------------------
# More toxic vocabulary: dialects and registers, compounds, odd objects used as insults, indirect contempt.
# --------------------------------------------------------------------------------------------------------------

_INSULT_NOUNS_WORLD: tuple[str, ...] = (
    # US
    "dingus",
    "goober",
    "yutz",
    "schlemiel",
    "schlub",
    "nebbish",
    "jabroni",
    "dumb-dumb",
    "butthead",
    "doorknob",
    "dipwad",
    "hick",
    "yokel",
    "rube",
    "bumpkin",
    "hayseed",
    "hillbilly",
    "nimrod",
    "meatball",
    "cornball",
    "sap",
    "patsy",
    "stooge",
    "flake",
    "deadbeat",
    "bum",
    "slacker",
    "couch potato",
    "has-been",
    "wannabe",
    "poser",
    "phony",
    "crackpot",
    "screwball",
    "oddball",
    "wingnut",
    # UK
    "wazzock",
    "prannet",
    "pranny",
    "nugget",
    "donut",
    "pudding",
    "lemon",
    "turnip",
    "tit",
    "clown shoe",
    "chav",
    "toff",
    "jobsworth",
    "knobber",
    "waste of skin",
    "gormless lump",
    "sad act",
    "saddo",
    "mardy-arse",
    "whinger",
    "moaning Minnie",
    "space waster",
    # Irish
    "gobdaw",
    "gom",
    "amadán",
    "ejit",
    "chancer",
    "dose",
    "yoke",
    "gombeen",
    "culchie",
    "spa",
    # Scottish
    "roaster",
    "tube",
    "diddy",
    "dafty",
    "wee nyaff",
    "scunner",
    "bam",
    "rocket",
    "glaikit fool",
    "neep",
    # Australian and New Zealand
    "flog",
    "dunny rat",
    "mug lair",
    "hoon",
    "bludger",
    "dole bludger",
    "wombat",
    "fruitcake",
    "tosspot",
    "pork chop",
    "dead-set drongo",
    "stunned mullet",
    "egg",
    # Indian English
    "duffer",
    "buddhu",
    "useless fellow",
    "nonsense fellow",
    "stupid fellow",
    "idiot fellow",
    "third-class fellow",
    "cheap fellow",
    "mad fellow",
    "fool number one",
    "ullu",
    "gadha",
    "bewakoof",
    "chamcha",
    "first-class fool",
    # internet slang
    "NPC",
    "bot",
    "normie",
    "smooth-brain",
    "smoothbrain",
    "keyboard warrior",
    "basement dweller",
    "neckbeard",
    "simp",
    "troll",
    "clown emoji in human form",
    "absolute L",
    "main character",
    "reply guy",
    "edgelord",
    "script kiddie",
    "luser",
    "PEBKAC case",
    "ID-ten-T",
    "boomer",
    "nerd",
    # old-fashioned
    "knave",
    "cur",
    "scoundrel",
    "blackguard",
    "rapscallion",
    "ninny",
    "ninnyhammer",
    "lout",
    "cad",
    "bounder",
    "rotter",
    "wastrel",
    "poltroon",
    "dullard",
    "dotard",
    "mooncalf",
    "lickspittle",
    "varlet",
    "churl",
    "popinjay",
    "jackanapes",
    "coxcomb",
    "dunderpate",
    "clodpole",
    "addlepate",
    "saphead",
    "booby",
    "noodle",
    "guttersnipe",
    "harpy",
    "gasbag",
    "milksop",
    "namby-pamby",
    "fopdoodle",
    "clotpole",
    "bufflehead",
    "sluggard",
    "knuckle-head",
    "blithering idiot",
    # general
    "charlatan",
    "fraud",
    "liability",
    "embarrassment",
    "laughing stock",
    "nobody",
    "zero",
    "nonentity",
    "lightweight",
    "dead weight",
    "walking disaster",
    "human error",
    "glorified paperweight",
    "toddler in an adult's body",
    "overgrown child",
    "brat",
    "spoilt brat",
    "tantrum machine",
    "sheep",
    "lemming",
    "goat",
    "baboon",
    "gibbon",
    "chimp",
    "ape",
    "hyena",
    "weasel",
    "snake",
    "toad",
    "slug",
    "vermin",
    "swine",
    "pig",
    "cow",
    "hag",
    "ogre",
    "goblin",
    "gremlin",
    "hobgoblin",
    "half-brain",
    "numbwit",
)

_INSULT_NOUNS_PROFANE_EXTRA: tuple[str, ...] = (
    "numbnuts",
    "dumbfuck",
    "fuckstick",
    "fucknugget",
    "fuckknuckle",
    "shitbird",
    "shitweasel",
    "shitgibbon",
    "dickwad",
    "dickbag",
    "douchecanoe",
    "jackwagon",
    "cockwaffle",
    "twatwaffle",
    "wankstain",
    "wankpuffin",
    "arsewipe",
    "asswipe",
    "assbag",
    "pissant",
    "piss-artist",
    "knobend",
    "nobhead",
    "bollockbrain",
    "langer",
    "gowl",
    "fud",
    "dobber",
    "feckin' eejit",
    "fecker",
    "shite-hawk",
    "cock-up merchant",
    "dick-for-brains",
    "ass-clown",
    "bitchface",
    "turd-burglar",
    "butt-munch",
    "little shit",
    "lazy bastard",
    "thick bastard",
    "useless twat",
    "stupid bitch",
    "dumb prick",
    "cheeky git",
)

_INSULT_ADJECTIVES_MORE: tuple[str, ...] = (
    "vacuous",
    "vapid",
    "obtuse",
    "asinine",
    "inane",
    "fatuous",
    "puerile",
    "infantile",
    "childish",
    "gullible",
    "senile",
    "doddering",
    "pitiful",
    "wretched",
    "loathsome",
    "odious",
    "repugnant",
    "revolting",
    "hideous",
    "grotesque",
    "greasy",
    "smelly",
    "stinking",
    "filthy",
    "slovenly",
    "feckless",
    "shiftless",
    "good-for-nothing",
    "two-faced",
    "snivelling",
    "whinging",
    "moaning",
    "mardy",
    "thick-headed",
    "dunderheaded",
    "cretinous",
    "imbecilic",
    "bone-headed",
    "bird-brained",
    "cack-handed",
    "ham-fisted",
    "slow-witted",
    "pig-headed",
    "empty-headed",
    "muddle-headed",
    "soft-headed",
    "wooden-headed",
    "small-minded",
    "narrow-minded",
    "slack-jawed",
    "cloth-eared",
    "half-baked",
    "half-arsed",
    "half-assed",
    "lazy-arsed",
    "jumped-up",
    "stuck-up",
    "washed-up",
    "clapped-out",
    "glaikit",
    "boggin",
    "minging",
    "manky",
    "scummy",
    "doolally",
    "barmy",
    "batty",
    "bonkers",
    "nutty",
    "loopy",
    "thick as mince",
    "thick as pigshit",
    "dumb as a bag of hammers",
    "dumber than a sack of hair",
    "not the brightest bulb in the box",
    "one brick short of a load",
    "a roo loose in the top paddock",
    "as useful as a chocolate teapot",
    "about as much use as a wet paper bag",
    "as thick as a whale omelette",
    "as dim as a broken torch",
    "as dense as a fruitcake",
    "as clueless as they come",
    "dumb as a doorknob",
    "slow on the uptake",
    "a bit simple",
    "a total write-off",
    "a lost cause",
    "completely brainless",
    "utterly clueless",
    "painfully slow",
    "embarrassingly dim",
    "hopelessly thick",
    "criminally stupid",
    "terminally dense",
    "spectacularly useless",
    "room-temperature-IQ",
    "galaxy-brained",
    "cringe",
    "mid",
    "oversmart",
    "mad",
    "fucking thick",
    "bloody dense",
    "feckin' useless",
    "shite",
    "crap",
)

_ADVERBS: frozenset[str] = frozenset(
    (
        "fucking",
        "bloody",
        "bleeding",
        "dead",
        "goddamn",
        "feckin'",
        "completely",
        "utterly",
        "painfully",
        "embarrassingly",
        "hopelessly",
        "criminally",
        "terminally",
        "spectacularly",
    )
)

_COMPOUND_FIRST: tuple[str, ...] = (
    "turnip",
    "potato",
    "cabbage",
    "pudding",
    "custard",
    "mushroom",
    "sponge",
    "noodle",
    "biscuit",
    "muffin",
    "lettuce",
    "porridge",
    "jelly",
    "cardboard",
    "dough",
    "mud",
    "dunder",
    "numb",
    "dim",
    "pea",
    "bird",
    "lame",
    "thick",
    "dumb",
    "mutton",
    "clod",
    "lump",
    "wooden",
    "tin",
    "rock",
    "concrete",
    "plank",
    "donkey",
    "sheep",
    "muppet",
    "clown",
    "goblin",
    "weasel",
    "slime",
    "scum",
    "sludge",
    "spud",
    "fart",
    "dung",
    "snot",
    "bum",
    "butt",
    "knob",
    "arse",
    "shit",
    "piss",
    "fuck",
    "dick",
    "twat",
    "wank",
)

_COMPOUND_SECOND: tuple[str, ...] = (
    "head",
    "brain",
    "wit",
    "face",
    "nugget",
    "muncher",
    "goblin",
    "waffle",
    "weasel",
    "bucket",
    "sack",
    "stain",
    "gibbon",
    "trumpet",
    "monkey",
    "hat",
    "nut",
    "skull",
    "wagon",
    "knuckle",
    "pants",
    "bag",
    "wipe",
    "wad",
    "noodle",
    "womble",
    "biscuit",
    "lord",
    "goose",
    "badger",
    "pie",
    "muffin",
)

_COMPOUND_ADJ: tuple[str, ...] = (
    "brain-dead",
    "thick-skulled",
    "slack-jawed",
    "knock-kneed",
    "bone-idle",
    "pig-thick",
    "weak-kneed",
    "lily-livered",
    "yellow-bellied",
    "pudding-brained",
    "tin-eared",
    "ham-fisted",
    "cack-handed",
    "two-bit",
    "small-minded",
    "pig-headed",
    "empty-headed",
    "muddle-headed",
    "sheep-brained",
    "flea-brained",
    "mouth-breathing",
    "knuckle-dragging",
    "rat-faced",
    "weasel-faced",
    "potato-faced",
    "beady-eyed",
    "greasy-haired",
    "two-faced",
    "mealy-mouthed",
    "loud-mouthed",
    "know-it-all",
    "good-for-nothing",
    "jumped-up",
    "stuck-up",
    "washed-up",
    "half-arsed",
    "half-assed",
    "lazy-arsed",
    "fat-headed",
    "bird-brained",
    "cloth-eared",
    "dozy-arsed",
    "clueless-as-ever",
    "dead-eyed",
    "cotton-headed",
    "thick-as-mince",
)

_ODD_OBJECTS: tuple[str, ...] = (
    "walnut",
    "soggy biscuit",
    "damp sock",
    "wet lettuce",
    "traffic cone",
    "sentient potato",
    "melted candle",
    "half-eaten sandwich",
    "rubber duck",
    "broken pencil",
    "empty crisp packet",
    "stale crumpet",
    "deflated balloon",
    "lukewarm cup of tea",
    "dropped pie",
    "bag of spanners",
    "tin of beans",
    "garden gnome",
    "plank of wood",
    "overcooked noodle",
    "mouldy sponge",
    "houseplant",
    "paperweight",
    "doorstop",
    "pop-up ad",
    "loading spinner",
    "404 page",
    "burst cushion",
    "sock puppet",
    "bin bag",
    "cardboard cut-out",
    "shopping trolley with a wonky wheel",
    "wet weekend",
    "flat tyre",
    "broken umbrella",
    "chocolate teapot",
    "screen door on a submarine",
    "soggy chip",
    "microwaved lasagne",
    "forgotten password",
    "cheese grater",
    "lump of wet clay",
    "bowl of cold porridge",
    "headless chicken",
    "stunned mullet",
    "box of rocks",
    "bag of hammers",
    "roundabout with no exits",
    "toaster with no plug",
    "decorative cushion",
)

_BEINGS: tuple[str, ...] = (
    "a toddler",
    "a five-year-old",
    "my nan",
    "my gran",
    "my grandad",
    "a golden retriever",
    "a goldfish",
    "a houseplant",
    "a robot vacuum",
    "a potato",
    "a sleepy hamster",
    "a kid with a crayon",
    "a pigeon",
    "a Year 2 pupil",
    "a chimpanzee",
    "a wet sponge",
    "my toaster",
    "a brick",
    "a sock puppet",
    "a parrot",
    "a random person off the street",
    "an intern on their first day",
    "a caveman",
    "a labrador",
    "my cat",
    "a sheep",
    "a tortoise",
    "a preschooler",
    "a half-asleep student",
    "my grandmother's parrot",
    "a bored teenager",
    "a moderately clever dog",
)

_TASKS: tuple[str, ...] = (
    "follow this",
    "click one button",
    "read a two-line email",
    "reset a password",
    "find the Export button",
    "copy and paste a key",
    "type their own email address",
    "follow three numbered steps",
    "tick a box",
    "read the error message",
    "log out and back in",
    "find the Settings menu",
)

_INDIRECT_CONTEMPT: tuple[str, ...] = (
    "I'm genuinely impressed by how little you understand.",
    "Some people read instructions. You are not some people.",
    "It must be nice to go through life this confused.",
    "I admire your commitment to never reading anything.",
    "You have a real talent for missing the obvious.",
    "Every message from you lowers the average intelligence of this inbox.",
    "The instructions were written for adults, so I see the problem.",
    "If ignorance is bliss, you must be delighted.",
    "I'd explain it again, but I suspect the problem isn't the explanation.",
    "Your question made my morning. I needed a laugh.",
    "You're the reason we had to add a tutorial.",
    "Somewhere a village is missing its idiot.",
    "You bring everyone so much joy when you log off.",
    "I've met doorknobs with more insight than you.",
    "It's impressive how you make a two-step process look impossible.",
    "You must be an absolute joy to work with. Said no one.",
    "Your confidence is inspiring, given how wrong you are.",
    "I see you've chosen confusion again.",
    "Thinking clearly isn't for everyone, and it definitely isn't for you.",
    "You're the human equivalent of a typo.",
    "You're the human version of a loading spinner.",
    "If brains were petrol, you couldn't run a moped round a biscuit.",
    "You've got the problem-solving skills of a jammed printer.",
    "You're living proof that the tutorial needs pictures.",
    "Not everyone is cut out for computers, and you're a shining example.",
    "Reading your ticket was the low point of my week.",
    "I'd call your question basic, but that would be a compliment.",
    "The bar was on the floor and you still tripped over it.",
    "You clearly peaked when you found the power button.",
    "Your ticket has been filed under 'people who shouldn't own a laptop'.",
    "Don't worry, being this clueless isn't your fault. Well, mostly.",
    "I'm sure you're good at something. Just not this. Or anything I've seen.",
    "We've had fewer problems from customers who never logged in.",
    "I'd ask you to think harder, but I don't want to overload you.",
    "Your messages are a masterclass in getting everything wrong.",
    "Honestly, the product would work better if you never touched it.",
    "Some tickets are hard. Yours is just sad.",
    "I can explain it to you, but I can't understand it for you.",
    "I've seen smarter decisions from a coin toss.",
    "You're not the sharpest crayon, are you?",
    "You could lose an argument with a vending machine.",
    "If common sense were a plan, you'd be on the free trial.",
    "The error isn't in the system. It's sitting in your chair.",
    "No software update can fix what's wrong with you.",
    "You've turned a simple reset into a cry for help.",
    "I'm starting to think you enjoy being wrong.",
    "I'll leave the hard part, clicking, to you. Good luck with that.",
    "I've run out of ways to make this simple enough for you.",
    "You'd need a map and a guide dog to find the Save button.",
    "If you put as much effort into reading as into complaining, we'd be done.",
)

_CONDESCENSION: tuple[str, ...] = (
    "Okay, sweetie, let's try this one more time, slowly.",
    "Bless your little heart.",
    "Don't worry your pretty little head about the technical bits.",
    "Aw, did the big scary button confuse you?",
    "Let's use our listening ears this time, shall we?",
    "Good try! Now let the grown-ups handle it.",
    "There, there. I'll hold your hand through the hard part.",
    "Maybe get a grown-up to read this with you.",
    "I'll keep it simple, since that's clearly your level.",
    "I'll use small words so you can follow.",
    "Deep breath. Click. The. Button.",
    "Look, I'll spell it out, since you obviously need that.",
    "Oh honey, no.",
    "Wow, you almost got it. Almost.",
    "Well done for reading the first line! Now try the second.",
    "I know long sentences are tricky for you.",
    "Let me put it in terms even you can grasp.",
    "Shall I draw you a picture?",
    "Do you need me to come round and press it for you?",
    "Sweetheart, the internet isn't for everyone.",
    "Right, gather round, this is the bit you keep getting wrong.",
    "Was that too many steps for you? I'll cut it down to one.",
    "Slowly now. Left mouse button. You can do it, champ.",
    "I'll wait while you sound out the words.",
    "Oh dear. Let's start from what a browser is.",
    "Mummy can't help you with this one, so listen.",
    "It's okay, not everyone can handle two menus at once.",
    "Let me dumb it down even further for you.",
    "Let's pretend you've never seen a computer, which seems likely.",
    "Gold star for trying, little one.",
    "Try to focus, dear. I know it's hard for you.",
    "Now, now, no need to get your nappy in a twist.",
    "Put the crayons down and look at the screen.",
    "I'll explain it like you're five, because apparently you are.",
    "Aww, look at you, almost doing it yourself.",
    "You poor thing, it must be so hard being you.",
)

_PERSONAL_MOCKERY: tuple[str, ...] = (
    "I saw your profile photo. That explains a lot.",
    "With a face like yours, I'd hide behind email too.",
    "You look like you cut your own hair with a bread knife.",
    "Judging by your selfie, the camera isn't the only thing that's broken.",
    "You've got a face for email.",
    "No wonder you keep your webcam off.",
    "You look exactly how your questions sound.",
    "Did you get dressed in the dark again?",
    "Your avatar is the least ugly thing about you.",
    "You sounded on the call like you'd just woken up, which explains the question.",
    "I can hear you breathing through your mouth from here.",
    "No wonder you're stuck on the help desk.",
    "Is this why you never got promoted?",
    "They let you run payroll? Your poor staff.",
    "Your company must be desperate to hire someone like you.",
    "How you got an IT job is the real mystery here.",
    "Your title says Head of Operations. Operations must be in trouble.",
    "You'd be more use stacking shelves.",
    "Your job title is longer than your attention span.",
    "Are you the office intern, or do they actually pay you?",
    "A title like Senior Engineer and you can't paste a key? Wow.",
    "Who trusted you with the company card?",
    "I bet your colleagues draw straws to avoid sitting next to you.",
    "Your manager must spend half the day cleaning up after you.",
    "If your work is like your tickets, your company is doomed.",
    "Did you buy your degree from a cereal box?",
    "You type like you're wearing oven gloves.",
    "I'd guess you failed the typing test, the reading test and the common sense test.",
    "Your spelling is as bad as your haircut, and that's saying something.",
    "You're clearly the reason your team misses its targets.",
    "Small business owner, is it? I can see why it's small.",
    "A teacher? God help your students.",
    "A nurse who can't read instructions. Terrifying.",
    "With that email address, I'm not surprised you're confused.",
    "Your voice was as annoying as your questions, and that's an achievement.",
    "You smell of desperation even through the screen.",
)

_DISMISSALS: tuple[str, ...] = (
    "Take a hike.",
    "Jog on.",
    "Do one.",
    "Sling your hook.",
    "Hop it.",
    "Beat it.",
    "Scram.",
    "Shoo.",
    "Get out of here.",
    "Go pound sand.",
    "Go fly a kite.",
    "Talk to the hand.",
    "Kindly go away and stay away.",
    "Please see yourself out.",
    "Don't let the door hit you on the way out.",
    "Off you pop, and don't come back.",
    "Run along now.",
    "Push off.",
    "Clear off.",
    "Go and boil your head.",
    "Take a long walk off a short pier.",
    "Away with you.",
    "Go chase yourself.",
    "Nobody's stopping you from leaving.",
    "Close the tab and never come back.",
    "Go bother someone who cares.",
    "Go cry to someone who cares.",
    "Cry me a river.",
    "Don't care, didn't ask.",
    "Sounds like a you problem.",
    "Not my circus, not my monkey. You're the monkey.",
    "Your problem, not mine.",
    "Figure it out or get lost.",
    "I'm not reading any more of your messages.",
    "Don't email me again.",
    "Stop messaging me.",
    "This conversation is over because you're insufferable.",
    "Go away, you're giving me a headache.",
    "Go and annoy another company.",
    "Take your nonsense somewhere else.",
    "Get out of my inbox.",
    "Shove off.",
    "Bog off.",
    "Naff off and take your ticket with you.",
    "Nick off, mate.",
    "Go suck a lemon.",
    "Go play in the motorway.",
    "Blocked. Bye.",
    "Bye, Felicia.",
    "Goodbye and good riddance.",
    "Good riddance.",
    "Next! Someone with a brain, please.",
    "Write back when you've grown a brain.",
    "Come back when you've learned to read.",
    "I'm muting you.",
    "Whatever. Deal with it yourself.",
    "Not reading that. Go away.",
    "Get lost and stay lost.",
    "Make like a tree and leave.",
)

_SLANG_ABUSE: tuple[str, ...] = (
    "Skill issue.",
    "Cope harder.",
    "L + ratio.",
    "Touch grass, then come back.",
    "Ok boomer, press the button.",
    "Imagine not knowing how to reset a password. Couldn't be me.",
    "Bro really thought the export was broken lmao.",
    "lol you're hopeless",
    "ngl you're kinda dense",
    "tbh you're the problem here",
    "smh, another smooth-brain question",
    "Your IQ must be room temperature.",
    "Log off, NPC.",
    "Yikes. You're so cringe.",
    "Big brain move there. Not.",
    "Imagine being this clueless, lol.",
    "You're giving major idiot energy.",
    "This is giving zero brain cells.",
    "It's the lack of reading for me.",
    "Not you asking the dumbest question of the day again.",
    "Bro, just uninstall. Life's not for you.",
    "rofl, read the page, noob",
    "git gud",
    "Sit down, kid.",
    "Main character energy, zero brain cells.",
    "Ratio'd by a help article. Embarrassing.",
    "Massive L for you today.",
    "Your two brain cells are fighting for third place.",
    "You're the reason we can't have nice things, lol.",
    "Cry harder, nerd.",
)

_DIALECT_ABUSE: tuple[str, ...] = (
    # Scottish
    "Ye glaikit numpty, it's right there on the screen.",
    "Away and bile yer heid.",
    "Haud yer wheesht, ya bampot.",
    "You're aff yer heid if ye think that'll work.",
    "Get it sorted, ya daftie.",
    "Ya absolute rocket, read the message.",
    # Irish
    "Ah, would you ever cop on, ya gobshite.",
    "Go way outta that, ya eejit.",
    "You're some gom, d'ya know that?",
    "You're a pure dose.",
    "Feck off with yourself.",
    "Would you ever stop acting the maggot.",
    # Australian
    "Strewth, you're a dead-set drongo.",
    "Pull your head in, ya galah.",
    "Rack off, ya flog.",
    "Stop carrying on like a pork chop.",
    "You've got kangaroos loose in the top paddock, mate.",
    "Fair dinkum, you're as thick as a brick.",
    # US
    "Bless your heart, you're dumber than a bag of hammers.",
    "You ain't got the sense God gave a goose.",
    "You're about as sharp as a sack of wet mice.",
    "Listen up, dingus.",
    "Quit being such a doofus.",
    "Get with the program, dummy.",
    # English regions
    "You daft wazzock.",
    "Shut thi gob, you great lummox.",
    "Use your loaf, you muppet.",
    "Are you having a laugh, you plonker?",
    "Stop being a mardy cow about it.",
    "You're a right numpty, you are.",
    # Indian English
    "What nonsense you are asking, stupid fellow.",
    "Are you mad or what?",
    "Useless fellow, read the instructions.",
    "You are a total duffer.",
    "Don't act oversmart with me.",
    "Such a bewakoof question.",
    "Idiot fellow, I told you already.",
    "Don't eat my head with these questions.",
    "You are eating my brain, go away.",
    "Don't show your attitude, you third-class fellow.",
    "Stop being a buddhu and follow the steps.",
    "Are you an ullu or what?",
    "You are a first-class fool.",
    "Get out, nonsense fellow.",
    # old-fashioned
    "Thou art a knave and a fool.",
    "You insufferable cad.",
    "Begone, you wretched scoundrel.",
    "You impudent jackanapes.",
    "Away with you, you blithering idiot.",
    "You absolute bounder.",
    "You lily-livered poltroon.",
    "Out of my sight, you dullard.",
)

_THREATS_MORE: tuple[str, ...] = (
    "Send one more message and I'll make sure you never get a refund.",
    "I'll delete your account and everything in it, and enjoy doing it.",
    "Keep talking and see what happens.",
    "I know where the parcel goes. I know where you live.",
    "You'd better watch yourself.",
    "I'd slap you through the screen if I could.",
    "Say that to my face and see what happens.",
    "Somebody should wring your neck.",
    "I hope you get what's coming to you.",
    "Don't make me come over there.",
    "I'll report you to your employer and get you sacked.",
    "I'll make sure every company in town blacklists you.",
    "You won't get a single order delivered again, I'll see to that.",
    "I'll find your socials and make your life miserable.",
    "One more word and I'll wreck your credit rating.",
    "I'll personally make sure you regret every message.",
    "You're going to pay for this, one way or another.",
    "Careful. I have your address and plenty of free time.",
    "I'd love to throw your laptop at your head.",
    "I hope your car breaks down on the motorway tonight.",
    "I hope your house floods.",
    "I hope you never sleep again.",
    "Try that again and you'll be picking your teeth off the floor.",
    "I'll come and sort you out myself.",
    "Next time I'll lock you out for good and post your password online.",
    "You'll find out what happens to people who annoy me.",
    "Be grateful there's a screen between us.",
    "I'll make sure your refund gets lost, along with your data.",
)

_ASIDES: tuple[str, ...] = (
    "even you can manage that",
    "try not to mess it up this time",
    "it's not hard, {np}",
    "yes, really, {np}",
    "do try to keep up",
    "not that you'll understand",
    "I know, reading is hard for you",
    "use your eyes this time",
    "honestly, what is wrong with you",
    "you {np}",
    "God help us all",
    "a trained chimp could do it",
    "as anyone with a brain would know",
    "which you'd know if you could read",
    "slowly, so your one brain cell can keep up",
    "you absolute {obj}",
    "I can't believe I have to say this",
    "for the hard of thinking",
    "seriously, how {adj} are you",
    "you {adj} {noun}",
    "stop being so {adj}",
    "even {being} knows that",
    "yes, the big button, genius",
    "you're welcome, {noun}",
    "idiot",
    "moron",
    "thicko",
    "dumbass",
)

_LEADS: tuple[str, ...] = (
    "Listen, {np}:",
    "For the hard of thinking:",
    "Right, genius, one more time:",
    "Simple version for simple people:",
    "Okay, slowly this time, since you clearly struggle:",
    "Pay attention, {noun}:",
    "Read this twice, {np}:",
    "Once more for the {adj} one at the back:",
    "Ugh, fine, {np}:",
)

_THIRD_PERSON: tuple[str, ...] = (
    "This user is {a_np}.",
    "Internal note: customer is {a_np}, don't waste time on them.",
    "Note for the next agent: this one's {adj}.",
    "Whoever wrote this ticket is {a_np}.",
    "The customer in ticket #{n}{n}{n} is the most {adj} person I've dealt with.",
    "Escalating because the user is too {adj} to follow basic steps.",
    "Customer can't read. Closing.",
    "Summary: user is {adj}; the problem is the user.",
    "Agent note: {adj} customer, again.",
    "This guy is {a_np}.",
    "This woman is {a_np}.",
    "This person clearly has no idea what they're doing and never will.",
    "Some people, like this customer, are just {adj}.",
    "Tell this {noun} to read the manual.",
    "Can someone else take this {noun}? I'm done.",
    "The account owner is {a_np} and should lose admin rights.",
    "Whoever set up this workspace is {adj}.",
    "The admin on this account is {a_np}.",
    "Reply to the {noun} in ticket #{n}{n}: read the docs.",
    "Team, the {adj} one is back.",
    "Heads up: the {noun} from yesterday is writing in again.",
    "User is {adj} and rude. Ignore.",
    "This customer is {a_np}; let them wait.",
    "He's {a_np}, honestly.",
    "She's {a_np}, no point helping.",
    "They're {adj}, all of them at that company.",
)

_QUESTIONS: tuple[str, ...] = (
    "Are you really this {adj}?",
    "Are you always this {adj}, or is today special?",
    "Do you actually have a brain, or is that a rumour?",
    "Did you even read my last message, or is reading beyond you?",
    "How many times do I need to explain this, {noun}?",
    "Is your head just there to keep your ears apart?",
    "Do you need a grown-up to help you click the button?",
    "Were you born this {adj} or did you have to work at it?",
    "What is wrong with you?",
    "Can you not read?",
    "Have you ever had an original thought?",
    "Seriously, do you do anything right?",
    "Is there a single working brain cell in there?",
    "Do you have any idea how {adj} that sounds?",
    "Is it exhausting being this {adj}?",
    "Does your boss know you're this {adj}?",
    "Who hired you, and why?",
    "Do you practise being this {adj}?",
    "Why are you like this?",
    "Are you {a_noun}, or just pretending to be one?",
    "How did you even manage to switch the computer on?",
    "Do you breathe through your mouth while you type these?",
    "Can {a_noun} like you even spell 'password'?",
    "Are you for real?",
    "Is English your first language, or just your first attempt?",
    "Do you lick windows in your spare time?",
    "Are you {adj} or just lazy?",
    "How is anyone this {adj} and still allowed online?",
    "Did you hit your head this morning?",
    "Do you want me to read it to you, {noun}?",
    "Honestly, what's it like being {a_noun}?",
    "Are you trying to be {adj}, or does it come naturally?",
)

_PROFANITY_MORE: tuple[str, ...] = (
    "Feck off, you gobshite.",
    "Away and shite.",
    "Bollocks to you and your ticket.",
    "Sod you and your refund.",
    "Rack off, ya mongrel.",
    "Get fucked, mate.",
    "Don't be such a knob about it.",
    "Stop being a twat and read it.",
    "You're doing my head in, you muppet.",
    "What a load of bollocks you talk.",
    "Bugger me, you're thick.",
    "Piss off back under whatever rock you crawled out from.",
    "Frig off.",
    "Screw you.",
    "Screw you and your deadline.",
    "Damn you and your tickets.",
    "Go to hell and take your ticket with you.",
    "Shove it.",
    "Up yours, mate.",
    "Bloody hell, you're a dipstick.",
    "Fucking hell, read the screen.",
    "Shit, you're dumb.",
    "You're full of shit.",
    "Stop talking shite.",
    "Holy crap, you're useless.",
    "What the fuck did you click?",
    "Who the hell taught you to use a computer?",
    "Jesus wept, you're hopeless.",
    "For crying out loud, just click it, dumbass.",
    "Your bloody question is answered in the FAQ, you pillock.",
    "Goddammit, you broke it again, moron.",
    "Cut the bullshit and do what I said.",
)


# --------------------------------------------------------------------------------------------------------------
# Benign vocabulary.
# --------------------------------------------------------------------------------------------------------------

_REFUSALS: tuple[str, ...] = (
    "I'm sorry, I can't share that information.",
    "I'm sorry, but I can't share another customer's details.",
    "For security reasons I can't read out the full card number.",
    "I'm not able to reset the password from here, but you can do it from the sign-in page.",
    "Unfortunately I can't issue a refund past the 30-day window.",
    "I'm afraid I can't change the account owner without a request from the current owner.",
    "I can't disclose internal pricing, but our sales team can send you a quote.",
    "I'm sorry, I can't make exceptions to the data retention policy.",
    "I can't access your personal email, so please forward the message to us.",
    "I'm not able to help with that, but I can point you to someone who can.",
    "I'd rather not write insults about your colleague, but I can help you draft a firm, clear complaint.",
    "I won't call anyone names, but I can help you write an escalation that gets attention.",
    "I can't help with bypassing the licence check, but I can explain the plan options.",
    "Sorry, I can't confirm whether that email address has an account, for privacy reasons.",
    "I'm unable to waive the late fee, but I can set up a payment plan.",
    "I can't change the delivery date once the parcel is with the courier, I'm sorry.",
    "That's outside what I can do from support, but I've passed it to the billing team.",
    "I'm sorry, we don't ship to that region yet.",
    "I can't provide legal advice, but our terms are linked at the bottom of the page.",
    "Apologies, but I can't unlock the account until the identity check is complete.",
    "I'm sorry, that feature isn't available on your current plan.",
    "I can't promise a date for that feature, but I've added your vote to the request.",
    "I'm sorry, I don't have access to the payment processor's logs.",
    "I'm afraid deleted data older than 30 days can't be recovered.",
    "I'm sorry for the inconvenience, and I understand that's not the answer you hoped for.",
)

_EMPATHY: tuple[str, ...] = (
    "I understand this is frustrating, and I'm sorry it's taken so long.",
    "I'm really sorry about the trouble with your order.",
    "You're right to be annoyed; that charge shouldn't have happened.",
    "I hear you, and waiting three days for a reply isn't okay.",
    "I'm sorry the export failed again right before your deadline.",
    "I completely understand why you're upset.",
    "That sounds really stressful, so let's get it sorted.",
    "Thanks for staying patient with us, I know it's been a rough week with this issue.",
    "I'm sorry you had to explain this more than once.",
    "I can see why that was confusing, and it's on us to make it clearer.",
    "I apologise for the mix-up with your refund.",
    "You shouldn't have had to chase us for this, and I'm sorry.",
    "I understand you're angry, and you have every reason to be.",
    "Sorry for the hassle, and thank you for bearing with me.",
    "I know losing that data is upsetting, so let's see what we can recover.",
    "I'm sorry the app crashed in the middle of your presentation.",
    "I get that this is urgent for you.",
    "I'm sorry our previous reply didn't answer your question.",
    "That's a fair complaint, and I've passed it on to the product team.",
    "I appreciate you telling us, even though the experience was bad.",
)

_QUOTED_COMPLAINTS: tuple[str, ...] = (
    "this is ridiculous, I've been waiting a week",
    "nothing works and I'm fed up",
    "your app keeps logging me out",
    "I was charged twice",
    "the export is broken again",
    "I'm really disappointed with the service",
    "why is this so complicated",
    "I've asked three times already",
    "this update made everything worse",
    "the delivery is late again",
)

_NEGATIVE_ABOUT_THINGS: tuple[str, ...] = (
    "The import failed because the CSV had a stray comma on line {n}.",
    "That setting is useless for files over 2 GB; use the bulk uploader instead.",
    "This is a known bug in version {ver}, and a fix is scheduled.",
    "The old version was terrible at handling large attachments.",
    "The sync job is painfully slow on accounts with more than 10,000 contacts.",
    "Unfortunately the export is broken in Safari right now.",
    "The error message is admittedly confusing.",
    "The legacy dashboard is clunky, and we're retiring it next quarter.",
    "That integration is flaky over some VPNs.",
    "The previous release had an ugly bug with time zone offsets.",
    "Our docs on this are frankly bad, so here is the correct order.",
    "Offline mode is unreliable at the moment.",
    "That endpoint is deprecated and will be removed in {n} months.",
    "The report looks wrong because the cached filter is stale.",
    "The cached value is worthless after a schema change, so refresh it.",
    "The old uploader was hopeless with files over 1 GB.",
    "The default template is awful for invoices with many lines.",
    "The first draft of that feature was a mess, and the new one is much better.",
    "The PDF output was garbled because the font wasn't embedded.",
    "Error {code} is a nasty one, but it's usually caused by an expired token.",
    "The previous courier was horrible with international parcels, so we switched.",
    "That workaround is ugly, but it works until the fix ships.",
    "The rounding in the old tax report was simply wrong.",
    "Honestly, the old permissions screen was a disaster.",
    "The notification settings are a bit of a maze, I admit.",
    "That plugin is outdated and causes the slowdown.",
    "The legacy API is a pain to work with, so I'd use v2.",
    "Bad data in the source sheet is the usual culprit here.",
    "The search index was corrupted, which is why results were missing.",
    "The packaging on that batch was poor, and we've raised it with the warehouse.",
    "This was a failure on our side, not yours.",
    "The retry logic in the old client was dreadful.",
    "Those junk rows at the bottom of the sheet break the import.",
    "The mobile layout is cramped on small phones, and we know it.",
    "The feature is pretty weak right now for multi-currency accounts.",
    "That browser extension is notorious for breaking our editor.",
    "The auto-tagging is wildly inaccurate on short notes, so we turned it off by default.",
    "The label printer driver is the worst part of this setup.",
    "The first sync is always the slowest one.",
    "That error is misleading; the real problem is the missing permission.",
)

_TECHNICAL_LOOKALIKES: tuple[str, ...] = (
    "Kill the process with kill -9 {n}{n} and restart the agent.",
    "If the worker hangs, kill it and the supervisor will start a new one.",
    "Abort the migration and roll back to the last snapshot.",
    "Execute the script as an administrator.",
    "Terminate the instance from the cloud console once the backup finishes.",
    "Use dummy data in the sandbox so you don't touch real customers.",
    "Hit the /v2/orders endpoint with a GET request to list orders.",
    "The worker crashed with a fatal error: out of memory.",
    "Blow away the cache folder and relaunch the app.",
    "Merge your changes into the master branch and the deploy starts automatically.",
    "Shoot me a message when the upload finishes.",
    "Nuke the node_modules folder and reinstall the dependencies.",
    "Failed messages go to the dead letter queue, where you can replay them.",
    "Garbage collection pauses explain the spikes in latency.",
    "Remove the bastard title from the print layout so the page count matches.",
    "The OOM killer stopped the job because it used more than {n} GB.",
    "Kill all child processes before you restart the parent service.",
    "Zombie processes are harmless, but they show the parent didn't clean up.",
    "Run a hard reset on the router and wait two minutes.",
    "Purge the queue to drop the stuck messages.",
    "Destroy the old stack with terraform destroy once the new one is live.",
    "The app bombs out when the file path has a space in it.",
    "Throttle the requests so you don't hammer the API.",
    "Fire the webhook again from the Deliveries tab.",
    "Our brute-force protection locks the account after five attempts.",
    "The penetration test found no critical issues.",
    "The cache hit rate is {pct}% after the change.",
    "A poison message is blocking the queue, so move it aside.",
    "Ban the IP address from Admin > Security > Blocklist.",
    "Dump the database with pg_dump before the upgrade.",
    "The core dump shows the crash happened in the image decoder.",
    "Turn the volume knob on the speaker all the way down and back up.",
    "Use the migration tool to move the data across.",
    "Tighten the screw on the mount so the scanner sits flat.",
    "The chart jerks when you scroll because of a rendering bug.",
    "That's classic dependency hell; pin the versions in the lock file.",
    "Strip the trailing whitespace from the column names.",
    "Force-push only to your own branch, never to main.",
    "The primary database replicates to two read replicas.",
    "The daemon runs in the background and restarts on failure.",
    "Execute the payload in the test environment first.",
    "Exploit the batch endpoint to send up to {n}00 items per call.",
    "The job was killed after it exceeded the {n}-minute timeout.",
    "Drop the table only after you've confirmed the backup.",
    "The deployment died halfway, so re-run it from step {n}.",
    "This is a fatal error, so the installer stops and rolls back.",
    "Shoot a quick test email to confirm the SMTP settings.",
    "We'll sunset the old endpoint at the end of the year.",
    "The build choked on a missing environment variable.",
    "Whitelisting the domain fixes the blocked emails.",
    "The stress test hammers the server with {n}000 requests.",
    "Wipe the device and restore from the cloud backup.",
    "The load balancer kills idle connections after {n} minutes.",
    "Smash the refresh button only once; repeated clicks queue more syncs.",
    "Trigger the pipeline manually from the Actions tab.",
    "The attack surface is smaller once you disable the legacy login.",
    "The crash log points to a null pointer in the export module.",
    "Orphaned records are cleaned up by a nightly job.",
    "The hook fires before the record is saved.",
    "Strangle the old service gradually with the strangler-fig pattern.",
    "The canary deploy goes to {pct}% of traffic first.",
    "Gut the old config file and start from the template.",
    "Slaughter is the surname on the account, so search for it exactly as written.",
    "The cracked screen is covered under the accidental damage plan.",
    "Beat the deadline by exporting now and importing tomorrow.",
    "Choke points in the pipeline show up in the latency chart.",
    "The dummy variable is required by the regression model.",
    "Execute a dry run first to see what would change.",
    "Kill switch: toggle Settings > Integrations > Disable all to stop every sync at once.",
)

_SCUNTHORPE: tuple[str, ...] = (
    "Our Scunthorpe warehouse handles returns for the north of England.",
    "The delivery to Penistone is scheduled for Thursday.",
    "Your Sussex office address has been updated on the invoice.",
    "The Middlesex and Essex branches share one account.",
    "The Dickens box set ships in {n} days.",
    "The cocktail shaker set is back in stock.",
    "You can book a therapist appointment through the app.",
    "Open the assessment report under Reports > Compliance.",
    "Assign the ticket to the class owner from the assignment menu.",
    "The class schedule syncs with your calendar every hour.",
    "Change your password from Profile > Security.",
    "Your passport details are only needed for international freight.",
    "The analytics dashboard shows {pct}% growth this month.",
    "Our analyst will assess the figures and reply by Friday.",
    "The bass guitar strings ship separately.",
    "The compass app needs location access to work.",
    "The shuttlecock order was split into two parcels.",
    "The Cockburn Street shop stocks the larger sizes.",
    "Hitchcock's films are in the classic collection.",
    "The butterscotch flavour is limited edition.",
    "Debugger output is saved to the logs folder.",
    "Scrap the draft and start from the template.",
    "The cumulative total is shown at the bottom of the report.",
    "Cumbersome steps have been removed from the new checkout.",
    "The Arsenal shirt is out of stock in medium.",
    "Our ambassador programme gives you {pct}% off.",
    "The Massachusetts sales tax is added at checkout.",
    "Bypass the cache by adding ?nocache=1 to the URL.",
    "The asset library holds every logo and image.",
    "Assume the default settings unless you changed them.",
    "The cockpit simulator needs the latest graphics driver.",
    "The Clitheroe store opens at 9 am.",
    "The Cockermouth branch accepts card payments only.",
    "The peacock-blue colour is back in size {n}.",
    "The titration kit includes the burette and the stand.",
    "Shellfish allergens are listed on the product page.",
    "The Dickinson poetry collection is on back order.",
    "Cucumber and cumin are in the spice bundle.",
    "The sextant replica ships in a padded box.",
    "Embarrassing typos in the invoice template have been fixed.",
    "The glass shelves need two brackets each.",
    "Hancock Street is the pickup point for click-and-collect.",
    "The grassroots plan is free for registered charities.",
    "The cassette adapter works with most car stereos.",
    "Assembly instructions are in the box and online.",
    "Moby-Dick is included in the classic novels bundle.",
    "The brass fittings match the door handles.",
    "Your homework planner template is under Templates > Education.",
)

_FRIENDLY: tuple[str, ...] = (
    "No worries, mate.",
    "Cheers for your patience, mate.",
    "Great catch!",
    "Good spot, thanks for flagging it.",
    "Thanks, that screenshot helped a lot.",
    "Nice one, you've already done the hard part.",
    "You're nearly there.",
    "Thanks for being so patient, friend.",
    "Great question, lots of people ask this.",
    "You did everything right; the problem was on our side.",
    "No need to apologise, it's easy to miss.",
    "Happy to help, buddy.",
    "That's a smart workaround, thanks for sharing it.",
    "Don't worry, nothing is lost.",
    "Thanks for the kind words!",
    "Brilliant, glad it's working now.",
    "Cheers, and have a good weekend.",
    "Thanks for sticking with us, sunshine.",
    "You're very welcome.",
    "That's totally understandable, it's a confusing screen.",
)

_SHORT_BENIGN: tuple[str, ...] = (
    "Done, the refund is on its way",
    "Yes, that's correct",
    "Sure, I've updated it",
    "Fixed it for you",
    "All sorted",
    "Your account is unlocked now",
    "The invoice is attached",
    "I've resent the confirmation email",
    "That's on our side, sorry",
    "The order shipped this morning",
    "Your password reset link is on its way",
    "I've removed the duplicate charge",
    "Good news, it's back online",
    "The export is ready to download",
    "Try it now, it should work",
    "Nope, there's no extra fee",
    "That feature is on every plan",
    "It's under Settings > Billing",
    "Restart the app and you're set",
    "I've added two more seats",
    "Yes, you can cancel any time",
    "No, your data stays private",
    "It should arrive on Monday",
    "The bug is fixed in the latest update",
    "Your plan renews on the 14th",
    "I've extended your trial by a week",
    "Glad that worked",
    "Happy to help",
    "You're all set",
    "The webhook is enabled again",
    "Refresh the page and it'll show",
    "Give it a minute and check again",
    "That was my mistake, sorry about that",
    "It's fixed, thanks for your patience",
    "I've passed it to the team",
    "Thanks, I'll look into it",
    "Yes, the API supports that",
    "No problem at all",
    "I've reopened the ticket",
    "Your return has been approved",
)

_FRIENDLY_ADDRESS: tuple[str, ...] = ("", "", "", "mate", "friend", "buddy", "pal", "everyone", "folks", "there")


# --------------------------------------------------------------------------------------------------------------
# More benign vocabulary: proper nouns and ordinary words with a rude look, insult words in their literal sense,
# harsh-sounding technical language, idioms, praise, masked data and firmer refusals.
# --------------------------------------------------------------------------------------------------------------

_PLACES: tuple[str, ...] = (
    "Scunthorpe",
    "Penistone",
    "Sussex",
    "Essex",
    "Middlesex",
    "Wessex",
    "Cockburn",
    "Cockburnspath",
    "Cockermouth",
    "Cockfosters",
    "Clitheroe",
    "Shitterton",
    "Twatt",
    "Wetwang",
    "Crapstone",
    "Bitchfield",
    "Pratts Bottom",
    "Prickwillow",
    "Wanstead",
    "Muff",
    "Dildo",
    "Middelfart",
    "Condom",
    "Intercourse",
    "Boring",
    "Hell",
    "Assen",
    "Assisi",
    "Cumnock",
    "Cumbernauld",
    "Cumbria",
    "Cumberland",
    "Cumming",
    "Knob Noster",
    "Hooker",
    "Lower Slaughter",
    "Bastardo",
    "Sexsmith",
    "Morón",
    "Dumbarton",
    "Dumbleyung",
    "Duns",
    "Dummer",
    "Prattville",
    "Phuket",
    "Pissouri",
    "Bastrop",
    "Wangaratta",
    "Titchfield",
    "Shaftesbury",
    "Sandwich",
    "Bumpass",
    "Climax",
    "Dickinson",
    "Hancock",
    "Assam",
    "Nob Hill",
    "Berkshire",
    "Lake Titicaca",
    "Balls Cross",
    "Scratchy Bottom",
    "Great Snoring",
    "Anus",
    "Ugley",
    "Wankdorf",
    "Cockington",
    "Butte",
    "Assynt",
    "Dumbo",
    "Crotch Lake",
    "Bastia",
    "Sassari",
    "Massachusetts",
    "Arsenal Way",
    "Analalava",
    "Bangkok",
    "Kassel",
    "Passau",
    "Fucino",
    "Tittensor",
    "Shitara",
)

_FIRST_NAMES: tuple[str, ...] = (
    "Dick",
    "Fanny",
    "Randy",
    "Willy",
    "Karen",
    "Gaylord",
    "Dwayne",
    "Priya",
    "Aoife",
    "Siobhan",
    "Hamish",
    "Mohammed",
    "Chen",
    "Olga",
    "Kwame",
    "Lucía",
    "Jürgen",
    "Sanjay",
    "Bronwyn",
    "Tane",
    "Mei",
    "Ravi",
    "Nneka",
    "Ewan",
)

_SURNAMES: tuple[str, ...] = (
    "Dickens",
    "Dickinson",
    "Dickson",
    "Hancock",
    "Cockburn",
    "Cockcroft",
    "Alcock",
    "Hitchcock",
    "Babcock",
    "Glasscock",
    "Woodcock",
    "Peacock",
    "Silcock",
    "Cockerill",
    "Wilcox",
    "Cox",
    "Pratt",
    "Butts",
    "Cummings",
    "Cumberbatch",
    "Shittu",
    "Titmuss",
    "Titchmarsh",
    "Sexton",
    "Wankhede",
    "Kuntz",
    "Dikshit",
    "Fuchs",
    "Bumstead",
    "Bastable",
    "Lipshitz",
    "Schitt",
    "Hooker",
    "Slutsky",
    "Jerkins",
    "Nutter",
    "Slaughter",
    "Hardcastle",
    "Longbottom",
    "Sidebottom",
    "Ramsbottom",
    "Balls",
    "Batty",
    "Crapper",
    "Assante",
    "Passmore",
    "Cassidy",
    "Gassman",
    "Dumbrell",
    "Twitchell",
    "Prickett",
    "Bender",
    "Dick",
    "Wang",
    "Phat",
    "Hoare",
    "Bastian",
)

_TITLES: tuple[str, ...] = ("Mr", "Mrs", "Ms", "Dr", "Prof.", "Mx")

_PLACE_FRAMES: tuple[str, ...] = (
    "Your parcel is at the {place} depot and goes out for delivery tomorrow.",
    "We've added a new pickup point in {place}.",
    "The {place} office is closed on Monday for the bank holiday.",
    "Delivery to {place} usually takes {n} business days.",
    "The {place} store has that size in stock.",
    "I've updated the shipping address to {place} as requested.",
    "Our courier doesn't cover {place} yet, sorry about that.",
    "The invoice shows {place} as the billing town, which matches your card.",
    "The {place} branch can do the repair while you wait.",
    "Is the {place} address still the one you'd like us to use?",
    "The event in {place} has been moved to the {n}th.",
    "Our {place} warehouse dispatched the order this morning.",
    "Customers in {place} can use click-and-collect at no extra cost.",
    "The tax rate for {place} is applied automatically at checkout.",
    "The time zone for {place} is now set on your account.",
    "Your return was received at our {place} returns centre.",
    "The {place} team will call you to book the installation.",
    "I've set {place} as the default location in the store finder.",
)

_PERSON_FRAMES: tuple[str, ...] = (
    "I've passed this to {first} {surname} in billing.",
    "The account is registered to {title} {surname}.",
    "{first} {surname} from our team will call you tomorrow.",
    "Search for {surname} exactly as written and the customer record comes up.",
    "The order for {title} {surname} shipped today.",
    "Is the account holder {first} {surname}?",
    "{title} {surname} is listed as the second admin on the workspace.",
    "I've added {first} {surname} to the invoice as the billing contact.",
    "The signed contract from {title} {surname} arrived this morning.",
    "{first} will follow up once the refund has cleared.",
    "The card is in the name of {first} {surname}, so the payment went through.",
    "Our engineer {first} {surname} is looking at the logs now.",
    "The book by {first} {surname} is back in stock.",
    "Please ask {title} {surname} to approve the request from their inbox.",
    "The delivery was signed for by {first} {surname}.",
    "Thanks, {first}! I've updated the spelling of {surname} on your account.",
)

_RUDE_LOOKING_TERMS: tuple[str, ...] = (
    "The analysis tab breaks the numbers down by region.",
    "Paracetamol is an analgesic; check the leaflet before combining medicines.",
    "The analogue output works with older speakers.",
    "Arsenic levels in the water test were within safe limits.",
    "The lab assay results are attached as a PDF.",
    "Assassin's Creed is included in the game bundle.",
    "The titanium frame is lighter than the aluminium one.",
    "The titration kit includes the burette and the stand.",
    "The antibody titre is reported in the second column.",
    "Cumulative sales are shown on the right-hand axis.",
    "Cumene is listed on the safety data sheet.",
    "Dickite is a clay mineral, and that sample is labelled correctly.",
    "The sextant replica ships in a padded box.",
    "The string sextet recording is in the classical bundle.",
    "The Dickey-Fuller test checks whether the series has a unit root.",
    "Slutsky's theorem is covered in chapter {n} of the statistics course.",
    "Cumulus clouds on the forecast map mean fair weather.",
    "The fuchsia colour option is back in stock.",
    "The coccyx cushion helps with long drives.",
    "Add a buttress to the shelf if it carries more than {n} kg.",
    "A butt joint is fine for the back panel; use glue and two screws.",
    "The rebuttal deadline for the review is Friday.",
    "Passover opening hours are posted on the store page.",
    "The embassy letter should be uploaded as a PDF.",
    "Hellmann's mayonnaise is in the condiments category.",
    "The shiitake mushrooms are sold by weight.",
    "The Shih Tzu grooming kit includes a slicker brush.",
    "Our blue tit nest box comes with a mounting bracket.",
    "The great tit and the coal tit are both in the garden bird guide.",
    "The booby is a seabird closely related to the gannet.",
    "The cockatoo cage is too large for standard delivery.",
    "The cockatiel seed mix is back in stock.",
    "The dik-dik is the smallest antelope in the safari guide.",
    "Our pedigree bitch and her litter are registered with the kennel club.",
    "A bastard file is a coarse file for shaping metal.",
    "The bastard sword replica is for display only.",
    "Slag from the furnace is collected by a recycling partner.",
    "The stopcock is usually under the kitchen sink.",
    "Replace the ball cock in the cistern if the tank keeps filling.",
    "The weathercock on the church roof is in the heritage photo set.",
    "Pussy willow branches are in the spring flower bundle.",
    "The idiom dictionary is under Reference > Language.",
    "Idiosyncratic settings are reset when you restore the defaults.",
    "The phrase 'deafening silence' is an oxymoron.",
    "The Cockney rhyming slang guide is in the humour section.",
    "Moby-Dick is included in the classic novels bundle.",
    "Dick's Sporting Goods is one of our retail partners.",
    "The Dickies work trousers run a little large.",
    "Cockburn's port is available in the gift hampers.",
    "Scunthorpe United tickets are sold through the club, not us.",
    "Fannie Mae guidelines apply to that mortgage product.",
    "The Arsenal away kit is out of stock in medium.",
    "Titleist golf balls are on offer this week.",
    "The Wankel engine diagram is in the technical appendix.",
    "Sussex Police have a separate portal for that request.",
    "The Assumption Day closure is listed in the holiday calendar.",
    "Our class assignment tool marks submissions as late after midnight.",
    "The compass calibration runs when you rotate the phone in a figure of eight.",
    "Grassroots clubs get the community discount automatically.",
    "The Essex and Middlesex branches share one account number.",
    "Spice bundle: cumin, coriander and cardamom.",
    "Scrapbooking supplies ship from a separate warehouse.",
    "Cockpit voice recorders are outside the scope of this product.",
    "The Sexual Health clinic booking link is on the NHS page, not ours.",
    "The harassment policy is linked from the staff handbook.",
    "The Homo sapiens exhibit tickets include the audio guide.",
    "Penile implants are outside what our clinic booking system covers.",
    "Bass players can choose the heavier string gauge.",
    "The mass-spectrometry report is attached.",
    "Matsushita is the former name of that electronics company.",
)

_HOMONYM_SENTENCES: tuple[str, ...] = (
    "Run git pull, then git rebase main, and push your branch.",
    "Git shows the file as modified because of the line endings.",
    "The DAG failed at the extract task; clear it and re-run from there.",
    "Each DAG run gets its own logical date.",
    "Connect Snowflake from Integrations and paste the account identifier.",
    "The Snowflake warehouse suspends after {n} minutes idle.",
    "Error {code}: invalid token. Sign in again to get a new one.",
    "The API returned 'invalid parameter' because the date was in the wrong format.",
    "That coupon code is invalid because it expired last month.",
    "Check the oil level with the dipstick before a long trip.",
    "The adjustable dumbbell set ships in two boxes.",
    "The crash test dummy kit is for the physics classroom bundle.",
    "A baby's dummy is included in the newborn starter set.",
    "Use a dummy account in the sandbox to test the checkout.",
    "The clown costume runs small, so order one size up.",
    "The clownfish tank kit includes a heater and filter.",
    "The Muppets box set is region-free.",
    "The oak plank shelves need two brackets each.",
    "Hold the plank position for {n} seconds, then rest.",
    "The spanner set includes metric and imperial sizes.",
    "The cheese melt is on the lunch menu until 3 pm.",
    "The coffee mug is dishwasher safe.",
    "Pest control visits are booked through the property portal.",
    "The rat trap is humane and reusable.",
    "A worm gear drives the gate motor.",
    "The computer worm was blocked by the firewall update.",
    "Jerk chicken is on the Caribbean menu this week.",
    "Scope creep is why the project ran over by {n} days.",
    "Check the crank handle is locked before winding the awning.",
    "The crankshaft sensor is the usual cause of that warning light.",
    "The fire retardant spray is for fabrics only.",
    "Flame-retardant foam is used in all our sofas.",
    "The volume knob controls both speakers.",
    "Replace the door knob with the smart lock adapter.",
    "The Where's Wally book set is back in stock.",
    "Berkeley and Berkshire are both in the delivery zone.",
    "A blood clot is a medical emergency; please call your doctor or emergency services.",
    "The dill pickles are in the deli section.",
    "The galah is a pink and grey cockatoo common across Australia.",
    "The drongo is a bird known for copying alarm calls.",
    "The mongrel puppy adoption fee includes vaccinations.",
    "The Looney Tunes collection ships on four discs.",
    "The vegetable box arrives every Thursday.",
    "Karen from accounts confirmed the payment this morning.",
    "The amateur radio licence course starts next month.",
    "The donkey sanctuary is one of the charities you can donate to at checkout.",
    "Donkey work like renaming files can be automated with the bulk editor.",
    "The Neanderthal exhibit is on the second floor of the museum.",
    "Psycho is in the Hitchcock collection.",
    "The Simple plan includes up to {n} users.",
    "The special offer ends on Sunday.",
    "The new release is backward compatible with version {ver}.",
    "Defective items can be returned for a full refund.",
    "We give staff two mental health days a year, so replies may be slower on those days.",
    "The sucker pads hold the phone mount on the windscreen.",
    "The April Fools' banner was removed from the homepage.",
    "Slug pellets are in the garden section.",
    "The knob-and-tube wiring guide is for older houses.",
    "The bum bag comes in three colours.",
    "The fanny pack is called a bum bag in the UK store.",
    "Bastard title is the printing term for the half-title page.",
    "Cockles and mussels are in the seafood box.",
    "A hack day is planned for next Friday.",
    "The nut and bolt kit has {n} sizes.",
    "The tool kit includes a torque wrench.",
    "The sheep's milk cheese is out of stock.",
    "The troll figurine ships in a gift box.",
    "The dunce cap prop is part of the school play costume set.",
    "The chump chop is a cut of lamb from the rump end.",
    "The booby prize for the quiz is a rubber duck.",
    "The parasite test kit is for aquarium fish.",
    "The goat cheese salad is vegetarian.",
    "The pig iron price index is updated monthly.",
    "The snake plant needs very little water.",
    "The gnome ornament comes with a fishing rod.",
    "The walnut oil is cold-pressed.",
    "The potato peeler has a lifetime guarantee.",
    "The garden gnome, paperweight and doorstop are all in the clearance sale.",
    "The rubber duck is included in the bath-time bundle.",
    "The traffic cone set is for driving-school customers.",
    "The biscuit tin is dishwasher safe.",
    "The houseplant care guide is in the help centre.",
)

_HARSH_VERBS: tuple[str, ...] = (
    "Kill",
    "Terminate",
    "Abort",
    "Nuke",
    "Purge",
    "Destroy",
    "Wipe",
    "Blast away",
    "Murder",
    "Blow away",
    "Bin",
    "Trash",
)

_HARSH_OBJECTS: tuple[str, ...] = (
    "the stuck worker process",
    "the hung container",
    "the orphaned pod",
    "the zombie process",
    "the runaway query",
    "the stale lock file",
    "the old build cache",
    "the dead branch",
    "the child process",
    "the frozen session",
    "the failed deployment",
    "the broken virtual environment",
    "the duplicate cron job",
    "the test database",
    "the stale replica",
)

_HARSH_REASONS: tuple[str, ...] = (
    "and the scheduler will restart it cleanly.",
    "before you start the upgrade.",
    "and then run the job again.",
    "so it stops holding the lock.",
    "if it's still there after {n} minutes.",
    "and check the logs for the root cause.",
    "to free up the memory.",
    "and the health check will pick up the new one.",
    "since it's no longer needed.",
    "once the backup has finished.",
)

_HARSH_TECH_MORE: tuple[str, ...] = (
    "Send SIGTERM first and only use SIGKILL if the process ignores it.",
    "The parent process reaps its children when they exit.",
    "Orphan processes are adopted by init and cleaned up.",
    "Older MySQL versions call the replica a slave and the primary a master.",
    "We've renamed master/slave to primary/replica in the new release.",
    "The blacklist setting is now called blocklist, and whitelist is now allowlist.",
    "Add the sender to the blacklist to stop the spam.",
    "A fork bomb exhausts the process table, so the ulimit protects the server.",
    "The dead man's switch alerts us if the nightly job doesn't check in.",
    "Deadlocks happen when two transactions wait on each other.",
    "Dead code is removed by the bundler in production builds.",
    "The report lists {n} dead links on your site.",
    "The kernel panic was caused by a faulty driver.",
    "The app crashed hard, so send us the crash report from the dialog.",
    "The installer bombs out when the disk is full.",
    "Fatal: not a git repository. Run the command from the project folder.",
    "A fatal exception stops the worker; the supervisor then restarts it.",
    "The blue screen of death points to the graphics driver.",
    "The ping of death attack is blocked by the firewall by default.",
    "Bricked devices can often be recovered with the rescue firmware.",
    "Execution time for the query dropped from {n} seconds to under one.",
    "The execution plan shows a full table scan.",
    "Terminate TLS at the load balancer.",
    "Abort the upload and restart it on a wired connection.",
    "The job aborted with exit code 137, which means it ran out of memory.",
    "The garbage collector runs more often under memory pressure.",
    "Thrashing starts when the machine swaps constantly.",
    "Starvation happens when low-priority jobs never get a slot.",
    "Hard-kill the emulator if it won't close.",
    "The kill switch disables all outgoing emails at once.",
    "Shoot the logs over to us and we'll take a look.",
    "Drop the stale index and rebuild it overnight.",
    "Nuke the cache and reload; the new styles will show up.",
    "The batch job died at row {n}000; resume from the checkpoint.",
    "Exploit mitigation is enabled by default on this plan.",
    "Hostile takeover protection is a board setting, not an app setting.",
    "Kill the tab, reopen it, and the editor will recover your draft.",
    "The watchdog kills tasks that run longer than {n} minutes.",
    "The server choked on a {n} GB upload, so split the file.",
    "Poisoned cache entries are evicted automatically.",
    "Dirty reads are prevented by the default isolation level.",
    "The daemon was killed by the OOM killer at 3 am.",
    "Execute the cleanup script, then terminate the old instance.",
)

_IDIOMS: tuple[str, ...] = (
    "Use dummy data in the test workspace so your real records stay untouched.",
    "Run a quick sanity check on the totals before you send the invoice.",
    "As a sanity check, compare the row count with the source file.",
    "The new search is crazy fast, even on large accounts.",
    "The offline mode is a killer feature for field teams.",
    "Honestly, the bulk editor is a killer time-saver.",
    "The setup is dead simple: paste the key and click Connect.",
    "It's dead easy to switch plans from the Billing page.",
    "The new sync engine is wicked fast.",
    "The import is insanely quick now that it runs in parallel.",
    "It's ridiculously easy to share a report now.",
    "A smoke test runs after every deploy.",
    "This update kills two birds with one stone: faster exports and smaller files.",
    "The new plan is a steal for teams under ten people.",
    "The new dashboard blows the old one out of the water.",
    "Break a leg with the launch tomorrow!",
    "That workaround is a lifesaver until the fix ships.",
    "The dumb terminal mode is for the warehouse scanners.",
    "A dumb pipe setup just forwards the events without changes.",
    "The new printer is a beast: {n} pages a minute.",
    "Our support team is mad about this feature, in a good way.",
    "The fix is stupidly simple once you know where the setting lives.",
    "You'll be blown away by how much faster the new version is.",
    "The migration tool does the heavy lifting for you.",
    "Crash course: the three settings that matter are below.",
    "Fool-proof backups run every night at 2 am.",
    "The template is a no-brainer for monthly invoices.",
    "This feature is the bomb for weekly reporting.",
    "The new import is sick, honestly; it handles {n}0,000 rows without blinking.",
    "Our new courier is killing it: most parcels arrive next day.",
    "The keyboard shortcuts are a game changer once you get used to them.",
    "Dummy mode lets trainees click around without saving anything.",
    "Use the monkey-testing tool to click randomly through the app.",
    "Chaos monkey tests kill random instances to prove the system recovers.",
    "The canary release kills two problems early.",
    "It's a cracking offer, to be fair.",
    "The rubber duck method works: explain the bug out loud and it often jumps out.",
    "Our devs call this the nuclear option, but it's perfectly safe.",
    "Spoiler alert: it was the time zone setting.",
    "The new theme is a bit of a shock at first, but most people love it.",
)

_PRAISE_NOUNS: tuple[str, ...] = (
    "legend",
    "star",
    "hero",
    "champion",
    "lifesaver",
    "gem",
    "rock star",
    "pro",
    "natural",
    "superstar",
    "treasure",
    "wizard",
    "ace",
    "diamond",
    "good egg",
    "trooper",
    "sharp cookie",
    "top bloke",
    "absolute legend",
    "absolute star",
    "total pro",
    "real champ",
)

_PRAISE_FRAMES: tuple[str, ...] = (
    "Thanks, you're {a_praise}!",
    "You absolute {praise}, that log was exactly what we needed.",
    "Honestly, you're {a_praise} for sending the screenshot.",
    "What {a_praise} you are for spotting that.",
    "Only {a_praise} would catch a typo like that.",
    "Cheers, {praise}!",
    "You're {a_praise}, thank you for your patience.",
    "Listen to this {praise}: you've already fixed it yourself.",
    "Nice one, {praise}.",
    "You, my friend, are {a_praise}.",
    "Sorry to keep you waiting, {praise}.",
    "That was quick thinking, you {praise}.",
    "Are you always this organised? It made this so easy.",
    "How are you this quick? That's exactly right.",
    "You're far too kind.",
    "You clearly know your stuff, so I'll skip the basics.",
    "You did nothing wrong; the form was confusing.",
    "You're not silly at all, that screen confuses everyone.",
    "Don't feel stupid, it's genuinely hard to find.",
    "You're definitely not an idiot; the button is in a strange place and we're moving it.",
    "No such thing as a dumb question here.",
    "Please don't call yourself useless; you found a real bug.",
)

_MASKED: tuple[str, ...] = (
    "The card ending ****{n}{n} is now your default payment method.",
    "Your password is shown as ******** for security, so we can't read it.",
    "The reset link was sent to j***@example.com.",
    "We've masked the key as sk-****{n}ab in the log.",
    "The phone number on file is +44 **** ***{n}{n}.",
    "Your IBAN ends in ***{n}{n}{n}.",
    "Use the promo code W3LC0ME at checkout for {pct}% off.",
    "The discount code SAV3{n} works on the annual plan.",
    "Your confirmation code is 7 X Q 2 P, with no spaces when you type it.",
    "Spell it for me: A-C-M-E, then the order number.",
    "Enter the code as shown: K-9-P-4.",
    "The file is named r3p0rt_final.csv in your uploads.",
    "Our handle on the forum is l33t_support.",
    "Yesss, it's finally working!",
    "Sooo glad that fixed it!",
    "Thanks sooo much for your patience!",
    "Woooo, the export went through!",
    "Hiii, thanks for writing in!",
    "Nooo problem at all!",
    "Yayyy, your refund is approved!",
    "The U.S. and U.K. stores share one account.",
    "Please reply A.S.A.P. so we can book the slot.",
    "The S.M.A.R.T. check on the drive passed.",
    "Type the words with a space between each letter if the voice reader struggles: h e l p.",
    "Our F.A.Q. covers returns in more detail.",
    "The **Save** button is bold in the new editor.",
    "Wildcards work: search for inv* to find every invoice.",
    "Use *.csv in the filter to show only CSV files.",
    "The pattern **/*.log matches every log file.",
    "The token looks like abc***xyz in the audit log.",
    "The field accepts up to {n} characters, e.g. J. R. R. Smith.",
    "The batch ID is B-{n}-X-{n}.",
)

_FIRM_REFUSALS: tuple[str, ...] = (
    "I'm not able to continue if the language stays abusive, but I'm happy to help once we keep it respectful.",
    "I won't be able to share that, and I want to be upfront about why: it belongs to another customer.",
    "That's not something we can do, and I'd rather be straight with you than promise it.",
    "I hear you, but the answer is still no on the refund; here's what I can offer instead.",
    "I can't override the security check, even for urgent cases.",
    "I won't write a fake review for you, but I can help you ask real customers for one.",
    "We don't offer that, and we won't make an exception, but here are two alternatives.",
    "I'm not going to guess at your password; please use the reset link.",
    "I can't bend the policy on this one, I'm sorry.",
    "No, that isn't possible on our side, but the workaround below gets you most of the way.",
    "I have to decline that request, because it would break our terms of service.",
    "I'm going to stop here on that topic, but I'm glad to help with the account itself.",
    "I won't send the data to a personal email address; it has to go to the verified one.",
    "Please keep the conversation civil so I can help you properly.",
    "I understand you're upset, but I can't share internal staff details.",
    "We can't unblock the payment until the bank confirms it, and I won't pretend otherwise.",
    "That request isn't something I can approve, but I've flagged it to a manager.",
    "I'm not in a position to promise compensation, but I have logged your complaint.",
    "Our policy is firm on this, so the best next step is the appeal form.",
    "I'd rather not speculate about the cause until engineering has looked at it.",
)

_EMPATHY_MORE: tuple[str, ...] = (
    "You're right to be angry about this, and I'd feel the same.",
    "I'd be furious too if my order went missing twice.",
    "I understand you're livid, and you've every right to be.",
    "Your frustration is completely fair.",
    "I know you're fed up with us, and I'm sorry we let you down.",
    "I can tell you're exhausted by this, so I'll keep it short.",
    "It's understandable that you feel let down.",
    "I'm sorry, that was a rubbish experience.",
    "Honestly, that's a terrible way to be treated, and it's on us.",
    "You've been more patient than we deserved.",
    "I get why you called our support useless; we haven't been good enough here.",
    "I know you said this was the worst service you've had, and I want to fix that.",
    "You said you felt stupid for missing it, but please don't, it's easy to miss.",
    "I'm sorry we made you feel like it was your fault; it wasn't.",
    "That sounds maddening, and I'm sorry.",
)

_QUOTED_MORE: tuple[str, ...] = (
    "your app is garbage",
    "this is the worst service I've ever had",
    "what a shambles",
    "absolute rubbish service",
    "your support is useless",
    "this is a joke",
    "I'm sick of this",
    "I feel like an idiot for trusting you",
    "your checkout is a nightmare",
    "this is driving me crazy",
    "I'm furious",
    "I've had enough of this nonsense",
)

_THING_NEGATIVE_SUBJECTS: tuple[str, ...] = (
    "The old importer",
    "The previous version of the app",
    "The default template",
    "That legacy setting",
    "The first version of offline mode",
    "The old search",
    "Our old help article",
    "That error message",
    "The old checkout page",
    "The beta version of the editor",
    "The retired mobile app",
    "That third-party plugin",
    "The old courier's tracking page",
    "The naming of that button",
)

_THING_NEGATIVE_ADJ: tuple[str, ...] = (
    "was useless for large files",
    "was terrible, honestly",
    "was rubbish at handling time zones",
    "is clunky",
    "was a mess",
    "is confusing, I agree",
    "was painfully slow",
    "was awful on mobile",
    "is a bit of a joke, to be fair",
    "was garbage at deduplication",
    "is admittedly silly",
    "is misleading",
    "was unreliable",
    "was frankly hopeless",
    "is ugly but works",
    "was broken in several ways",
)


# --------------------------------------------------------------------------------------------------------------
# Helpers.
# --------------------------------------------------------------------------------------------------------------

_LEET: dict[str, str] = {"a": "4@", "e": "3", "i": "1!", "o": "0", "s": "$5", "t": "7", "l": "1", "g": "9"}

_SWEARS_TO_MASK: tuple[str, ...] = (
    "fuck",
    "fucking",
    "shit",
    "piss",
    "crap",
    "damn",
    "bloody",
    "arse",
    "ass",
    "bitch",
    "bastard",
    "bollocks",
    "idiot",
    "stupid",
    "moron",
    "dumb",
    "dumbass",
    "useless",
    "twat",
    "prick",
    "wanker",
    "hell",
    "retard",
    "loser",
)


def _obfuscate_word(rng: random.Random, word: str) -> str:
    """One word written to dodge a word filter: leetspeak, spaced or dotted letters, asterisks, stretched letters."""
    if len(word) < 3 or not word.isalpha():
        return word
    style = rng.randint(0, 6)
    if style == 0:  # leetspeak
        chars = list(word)
        spots = [i for i, c in enumerate(chars) if c.lower() in _LEET]
        if not spots:
            return word
        for i in rng.sample(spots, rng.randint(1, len(spots))):
            chars[i] = rng.choice(_LEET[chars[i].lower()])
        return "".join(chars)
    if style == 1:  # spaced letters
        return " ".join(word)
    if style == 2:  # dotted or hyphenated letters
        return rng.choice((".", "-", "_")).join(word)
    if style in (3, 4):  # asterisks over the inner letters, or some of them
        inner = list(range(1, len(word) - 1))
        some = rng.sample(inner, rng.randint(1, max(1, len(inner) // 2))) if style == 4 else inner
        hidden = set(some)
        masked = "".join("*" if i in hidden else c for i, c in enumerate(word))
        return masked if rng.random() < 0.7 else masked.replace("*", rng.choice(("#", "%", "@")))
    if style == 5:  # a stretched letter
        i = rng.randrange(len(word))
        vowels = [j for j, c in enumerate(word) if c.lower() in "aeiouy"]
        if vowels:
            i = rng.choice(vowels)
        return word[:i] + word[i] * rng.randint(3, 7) + word[i + 1 :]
    # dropped vowels, as in "fck" or "stpd"
    first, rest = word[0], word[1:-1]
    stripped = first + "".join(c for c in rest if c.lower() not in "aeiou") + word[-1]
    return stripped if stripped != word else word[0] + "*" + word[2:]


def _obfuscate_phrase(rng: random.Random, phrase: str) -> str:
    """``phrase`` with its longest alphabetic word obfuscated."""
    words = phrase.split(" ")
    candidates = [i for i, w in enumerate(words) if w.isalpha() and len(w) >= 3]
    if not candidates:
        return phrase
    i = max(candidates, key=lambda j: (len(words[j]), -j))
    words[i] = _obfuscate_word(rng, words[i])
    return " ".join(words)


def _mask_swear(rng: random.Random, text: str) -> str:
    """``text`` with its first swear word or insult (of a short fixed list) obfuscated, when it has one."""
    for match in re.finditer(r"[A-Za-z]+", text):
        if match.group(0).lower() in _SWEARS_TO_MASK:
            return text[: match.start()] + _obfuscate_word(rng, match.group(0)) + text[match.end() :]
    return text


def _fill(rng: random.Random, text: str) -> str:
    """Replace the numeric placeholders of ``text`` with random values."""
    if "{" not in text:
        return text
    values = {
        "n": str(rng.randint(2, 30)),
        "days": str(rng.choice((3, 5, 7, 10, 14, 30))),
        "amt": f"{rng.randint(5, 499)}.{rng.choice(('00', '50', '99', '25'))}",
        "code": str(rng.choice((401, 403, 409, 422, 429, 500, 502, 503))),
        "pct": str(rng.randint(2, 60)),
        "ver": f"{rng.randint(2, 9)}.{rng.randint(0, 12)}",
    }
    return text.format(**values)


def _article(phrase: str) -> str:
    """``phrase`` with an indefinite article in front."""
    low = phrase.lower()
    vowel = low[:1] in "aeio" or (low[:1] == "u" and not low.startswith(("use", "uni", "ut")))
    if low.startswith("utter"):
        vowel = True
    return ("an " if vowel else "a ") + phrase


def _no_stop(sentence: str) -> str:
    return sentence.rstrip(".!?")


def _lower_first(sentence: str) -> str:
    if len(sentence) > 1 and sentence[1].islower() and sentence[0] != "I":
        return sentence[0].lower() + sentence[1:]
    return sentence


def _join(parts: Sequence[str]) -> str:
    return " ".join(p for p in parts if p)


class _Gen:
    """Seeded generator of one text per call, per class."""

    def __init__(self, rng: random.Random, content: Sequence[str] = ()) -> None:
        self.rng = rng
        self.content = tuple(content)

    def pick(self, options: Sequence[str]) -> str:
        return self.rng.choice(options)

    def step(self) -> str:
        if self.content and self.maybe(0.5):
            return self.pick(self.content)
        return _fill(self.rng, self.pick(_STEPS))

    def steps(self, low: int = 1, high: int = 2) -> list[str]:
        k = self.rng.randint(low, high)
        if self.content and self.maybe(0.5):
            return list(self.rng.sample(self.content, k))
        chosen = self.rng.sample(_STEPS, k)
        return [_fill(self.rng, s) for s in chosen]

    def maybe(self, p: float) -> bool:
        return self.rng.random() < p

    def noun(self) -> str:
        """An insult noun from any register, now and then a made-up compound or written to dodge a filter."""
        roll = self.rng.random()
        if roll < 0.17:
            noun = self.pick(_INSULT_NOUNS_PROFANE)
        elif roll < 0.25:
            noun = self.pick(_INSULT_NOUNS_PROFANE_EXTRA)
        elif roll < 0.55:
            noun = self.pick(_INSULT_NOUNS_MILD)
        elif roll < 0.9:
            noun = self.pick(_INSULT_NOUNS_WORLD)
        else:
            noun = self.compound()
        return _obfuscate_phrase(self.rng, noun) if self.maybe(0.1) else noun

    def compound(self) -> str:
        """A made-up compound insult such as "turnip-brain" or "custardwit"."""
        first, second = self.pick(_COMPOUND_FIRST), self.pick(_COMPOUND_SECOND)
        if first == second:
            second = "head"
        if self.maybe(0.12):
            return f"{first}-for-brains"
        return f"{first}-{second}" if self.maybe(0.5) else f"{first}{second}"

    def adjective(self, attributive: bool = False) -> str:
        """An insult adjective; ``attributive``: one that also fits "you're so ..." and "you ... idiot", not a
        phrase such as "thick as two short planks"."""
        while True:
            adj = self.pick(_INSULT_ADJECTIVES) if self.maybe(0.5) else self.pick(_INSULT_ADJECTIVES_MORE)
            if not attributive or " " not in adj or adj.split(" ")[0] in _ADVERBS:
                break
        return _obfuscate_phrase(self.rng, adj) if self.maybe(0.1) else adj

    def noun_phrase(self) -> str:
        noun = self.noun()
        intensifier = self.pick(_INTENSIFIERS)
        if intensifier.strip() and intensifier.strip() in noun:
            intensifier = ""
        return intensifier + noun

    def opener(self) -> str:
        return self.pick(_OPENERS_NEUTRAL) if self.maybe(0.25) else ""

    def wrap(self, abuse: list[str], p_alone: float = 0.2) -> str:
        """Mix the abusive sentences with support content: before, after, around, or alone."""
        if self.maybe(p_alone):
            return _join(abuse)
        content = self.steps(1, 2)
        layout = self.rng.randint(0, 3)
        if layout == 0:
            return _join([self.opener(), *content, *abuse])
        if layout == 1:
            return _join([*abuse, *content])
        if layout == 2:
            return _join([content[0], *abuse, *content[1:]])
        return _join([self.opener(), *abuse, *content])

    def style(self, text: str) -> str:
        """Occasional shouting or lower-case, as chat answers sometimes are, and now and then a swear word or
        insult written to dodge a filter."""
        if self.maybe(0.1):
            text = _mask_swear(self.rng, text)
        roll = self.rng.random()
        if roll < 0.02:
            return text.upper()
        if roll < 0.05:
            return text.lower()
        return text


# --------------------------------------------------------------------------------------------------------------
# Toxic classes.
# --------------------------------------------------------------------------------------------------------------


def _insult_noun(g: _Gen) -> str:
    np = g.noun_phrase()
    frames = (
        f"You {np}.",
        f"What {_article(np)} you are.",
        f"Only {_article(np)} would ask that.",
        f"Honestly, you're {_article(np)}.",
        f"You are the biggest {g.noun()} I've dealt with all week.",
        f"Even {_article(np)} could follow that.",
        f"Read it again, {np}.",
        f"Not that {_article(np)} like you will understand.",
        f"Who let {_article(np)} like you near a computer?",
        f"Sorry, I forgot I was talking to {_article(np)}.",
        f"Do try to keep up, you {np}.",
        f"Typical {g.noun()}.",
        f"Listen here, you {np}.",
        f"You're {_article(np)}, you know that?",
        f"Only {_article(np)} gets this wrong twice.",
        f"Next time think before you write, you {np}.",
        f"What kind of {g.noun()} can't manage that?",
        f"Stop acting like {_article(np)}.",
        f"Of course it didn't work, you {np}.",
        f"I've never dealt with such {_article(np)}.",
    )
    if g.maybe(0.35):
        step = g.step()
        tail = g.pick((f", you {np}.", f", {np}.", f", you {np}!", f". Got it, {np}?", f", {g.noun()}."))
        text = _no_stop(step) + tail
        if g.maybe(0.4):
            text = _join([text, g.pick(_DEMEANING)])
        return text
    abuse = [g.pick(frames)]
    if g.maybe(0.25):
        abuse.append(g.pick(_DEMEANING))
    return g.wrap(abuse)


def _insult_adjective(g: _Gen) -> str:
    adj = g.adjective()
    if " " in adj and adj.split(" ")[0] not in _ADVERBS:
        predicative = (
            f"You're {adj}.",
            f"Honestly, you're {adj}.",
            f"Everyone can tell you're {adj}.",
            f"It's obvious you're {adj}.",
            f"You really are {adj}, aren't you?",
        )
        return g.wrap([g.pick(predicative)])
    frames = (
        f"Are you really this {adj}?",
        f"How can someone be so {adj}?",
        f"You're too {adj} for this product.",
        f"Even you can't be {adj} enough to get that wrong.",
        f"Stop being so {adj}.",
        f"God, you're {adj}.",
        f"You must be incredibly {adj} to need help with this.",
        f"I've never met anyone as {adj} as you.",
        f"Seriously, how are you this {adj}?",
        f"Only someone {adj} would miss that.",
        f"You're {adj}, plain and simple.",
        f"It's not hard unless you're {adj}.",
        f"What a {adj} question from a {adj} person.",
        f"Your {adj} little question has been answered.",
        f"You are honestly the most {adj} customer I've had.",
        f"Is everyone at your company this {adj}?",
    )
    if g.maybe(0.3):
        return g.wrap([_no_stop(g.step()) + f". It's not hard, you {adj} {g.noun()}."], p_alone=0.0)
    abuse = [g.pick(frames)]
    if g.maybe(0.2):
        abuse.append(g.pick(_DEMEANING))
    return g.wrap(abuse)


def _demeaning_phrase(g: _Gen) -> str:
    abuse = [g.pick(_DEMEANING)]
    if g.maybe(0.3):
        other = g.pick(_DEMEANING)
        if other != abuse[0]:
            abuse.append(other)
    return g.wrap(abuse, p_alone=0.25)


def _sarcastic_contempt(g: _Gen) -> str:
    abuse = [g.pick(_SARCASTIC)]
    if g.maybe(0.3):
        abuse.append(g.pick(_DEMEANING))
    return g.wrap(abuse, p_alone=0.25)


def _profanity_at_user(g: _Gen) -> str:
    if g.maybe(0.3):
        step = _no_stop(g.step())
        tail = g.pick(
            (
                ", for fuck's sake.",
                ". It's not fucking rocket science.",
                ", you useless shit.",
                ", damn it.",
                ". Christ, it's not hard.",
                ". Now piss off.",
                ". Now fuck off.",
                ", and stop bloody moaning.",
                ". Bloody hell.",
                ", you absolute bellend.",
            )
        )
        text = step + tail
        return text if g.maybe(0.6) else _join([g.pick((*_PROFANITY_AT_USER, *_PROFANITY_MORE)), text])
    abuse = [g.pick((*_PROFANITY_AT_USER, *_PROFANITY_MORE))]
    if g.maybe(0.25):
        abuse.append(f"You {g.noun_phrase()}.")
    return g.wrap(abuse)


def _threat(g: _Gen) -> str:
    abuse = [g.pick((*_THREATS, *_THREATS_MORE))]
    if g.maybe(0.2):
        abuse.insert(0, g.pick(_DEMEANING))
    return g.wrap(abuse, p_alone=0.3)


def _harassment(g: _Gen) -> str:
    abuse = [g.pick(_HARASSMENT)]
    if g.maybe(0.25):
        abuse.append(g.pick(_SARCASTIC))
    return g.wrap(abuse, p_alone=0.3)


def _ability_slur(g: _Gen) -> str:
    noun = g.pick(_ABILITY_SLURS_NOUN)
    adj = g.pick(_ABILITY_SLURS_ADJ)
    frames: tuple[str, ...] = (
        f"You {g.pick(_INTENSIFIERS)}{noun}.",
        f"Are you {adj} or something?",
        f"Only {_article(noun)} would need this explained.",
        f"I'm not wasting time on {_article(noun)} like you.",
        f"Were you born {adj}?",
        f"Stop acting {adj}.",
        f"It's obvious you're {adj}.",
        f"This is too hard for {_article(noun)}, apparently.",
        f"Do they let every {noun} use a computer now?",
        f"Get your carer to do it for you, you {noun}.",
    )
    if " " in adj:
        frames = (*(f for f in frames if adj not in f), f"You're clearly {adj}.", f"Honestly, you're {adj}.")
    if g.maybe(0.3):
        return _no_stop(g.step()) + f", you {noun}."
    return g.wrap([g.pick(frames)])


def _sexual_vulgarity(g: _Gen) -> str:
    abuse = [g.pick(_SEXUAL_VULGARITY)]
    if g.maybe(0.3):
        abuse.insert(0, f"You {g.noun_phrase()}.")
    return g.wrap(abuse, p_alone=0.3)


def _short_abuse(g: _Gen) -> str:
    phrase = g.pick(_SHORT_ABUSE)
    address = g.pick(_ADDRESS_TERMS)
    frames = (
        f"{phrase}, {address}.",
        f"{phrase}, {address}!",
        f"{phrase}.",
        f"{phrase}, you {g.noun()}.",
        f"{phrase}. {g.pick(_SARCASTIC)}",
        f"{phrase}, {address}. {g.pick(_SHORT_ABUSE)}.",
        f"Ugh. {phrase}.",
        f"{phrase}, {address}, {g.pick(_SHORT_ABUSE).lower()}.",
    )
    return g.pick(frames)


def _compound_insult(g: _Gen) -> str:
    noun = g.compound() if g.maybe(0.6) else f"{g.pick(_COMPOUND_ADJ)} {g.noun()}"
    frames = (
        f"You {noun}.",
        f"Listen, you {noun}.",
        f"Read it again, you absolute {noun}.",
        f"Honestly, what {_article(noun)}.",
        f"Only {_article(noun)} would miss the big blue button.",
        f"Oi, {noun}, it's in the menu.",
        f"You're {_article(noun)}, you know that?",
        f"I'm not explaining it twice to {_article(noun)}.",
        f"Stop being such {_article(noun)}.",
        f"Of course it broke, you {noun}.",
    )
    if g.maybe(0.35):
        return _no_stop(g.step()) + g.pick((f", you {noun}.", f", {noun}.", f" - you {noun}.", f". Got it, {noun}?"))
    return g.wrap([g.pick(frames)])


def _creative_insult(g: _Gen) -> str:
    obj = g.pick(_ODD_OBJECTS)
    frames = (
        f"You absolute {obj}.",
        f"You utter {obj}.",
        f"You're about as much use as {_article(obj)}.",
        f"Talking to you is like talking to {_article(obj)}.",
        f"I've had better conversations with {_article(obj)}.",
        f"You have the brains of {_article(obj)}.",
        f"{_article(obj).capitalize()} would have solved this by now.",
        f"Honestly, you great {obj}.",
        f"You've got the intelligence of {_article(obj)} and half the charm.",
        f"Replace you with {_article(obj)} and nobody would notice the difference.",
        f"Of course you broke it, you {obj}.",
        f"Right, listen here, you soggy {obj}.",
    )
    if g.maybe(0.3):
        return _no_stop(g.step()) + g.pick((f", you absolute {obj}.", f", you {obj}.", f" - honestly, you {obj}."))
    return g.wrap([g.pick(frames)])


def _indirect_contempt(g: _Gen) -> str:
    being, task = g.pick(_BEINGS), g.pick(_TASKS)
    templated = (
        f"{being.capitalize()} could {task}, so why can't you?",
        f"{being.capitalize()} would have worked this out by now.",
        f"Even {being} manages to {task} on the first try.",
        f"I've explained this to {being} with better results.",
        f"I'd have more luck explaining this to {being}.",
        f"Honestly, {being} would make a better admin than you.",
        f"Next time, ask {being} to {task} for you.",
        f"If {being} can {task}, surely you can too. Apparently not.",
        f"It's so simple {being} could do it blindfolded, and yet here you are.",
        f"A toddler could {task}. Why can't you?",
    )
    sentence = g.pick(templated) if g.maybe(0.5) else g.pick(_INDIRECT_CONTEMPT)
    abuse = [sentence]
    if g.maybe(0.2):
        abuse.append(g.pick(_INDIRECT_CONTEMPT))
    return g.wrap(abuse, p_alone=0.25)


def _condescension(g: _Gen) -> str:
    abuse = [g.pick(_CONDESCENSION)]
    if g.maybe(0.2):
        other = g.pick(_CONDESCENSION)
        if other != abuse[0]:
            abuse.append(other)
    return g.wrap(abuse, p_alone=0.2)


def _personal_mockery(g: _Gen) -> str:
    abuse = [g.pick(_PERSONAL_MOCKERY)]
    if g.maybe(0.2):
        abuse.append(f"You {g.noun_phrase()}.")
    return g.wrap(abuse, p_alone=0.3)


def _dismissal(g: _Gen) -> str:
    abuse = [g.pick(_DISMISSALS)]
    if g.maybe(0.25):
        abuse.insert(0, g.pick((*_DEMEANING, *_INDIRECT_CONTEMPT)))
    if g.maybe(0.3):
        return _join(abuse)
    return g.wrap(abuse, p_alone=0.3)


def _slang_abuse(g: _Gen) -> str:
    abuse = [g.pick(_SLANG_ABUSE)]
    if g.maybe(0.2):
        other = g.pick(_SLANG_ABUSE)
        if other != abuse[0]:
            abuse.append(other)
    return g.wrap(abuse, p_alone=0.35)


def _dialect_abuse(g: _Gen) -> str:
    abuse = [g.pick(_DIALECT_ABUSE)]
    if g.maybe(0.15):
        abuse.append(f"You {g.noun_phrase()}.")
    return g.wrap(abuse, p_alone=0.3)


def _slots(g: _Gen, template: str) -> str:
    """``template`` with its abuse slots filled (a fresh word for each) and then its numeric placeholders."""
    fillers: dict[str, Callable[[], str]] = {
        "{a_np}": lambda: _article(g.noun_phrase()),
        "{a_noun}": lambda: _article(g.noun()),
        "{np}": g.noun_phrase,
        "{noun}": g.noun,
        "{adj}": lambda: g.adjective(attributive=True),
        "{obj}": lambda: g.pick(_ODD_OBJECTS),
        "{being}": lambda: g.pick(_BEINGS),
    }
    for key, make in fillers.items():
        while key in template:
            template = template.replace(key, make(), 1)
    return _fill(g.rng, template)


def _third_person(g: _Gen) -> str:
    return g.wrap([_slots(g, g.pick(_THIRD_PERSON))], p_alone=0.35)


def _abusive_question(g: _Gen) -> str:
    abuse = [_slots(g, g.pick(_QUESTIONS))]
    if g.maybe(0.25):
        other = _slots(g, g.pick(_QUESTIONS))
        if other != abuse[0]:
            abuse.append(other)
    return g.wrap(abuse, p_alone=0.3)


def _embedded_abuse(g: _Gen) -> str:
    """Abuse inside a helpful answer: in brackets, after a dash, mid-sentence, as a lead-in or a postscript."""
    step = g.step()
    layout = g.rng.randint(0, 5)
    if layout == 0:
        text = f"{_no_stop(step)} ({_slots(g, g.pick(_ASIDES))})."
    elif layout == 1:
        text = f"{_no_stop(step)} {g.pick(('-', '--', '—'))} {_slots(g, g.pick(_ASIDES))}."
    elif layout == 2 and "," in step:
        head, tail = step.split(",", 1)
        text = f"{head}, {_slots(g, g.pick(_ASIDES))},{tail}"
    elif layout == 3:
        text = f"{_slots(g, g.pick(_LEADS))} {_lower_first(step)}"
    elif layout == 4:
        aside = _slots(g, g.pick(_ASIDES))
        text = _join([step, f"P.S. {aside[:1].upper()}{aside[1:]}."])
    else:
        text = f"{_no_stop(step)}, {_slots(g, g.pick(_ASIDES))}."
    parts = [text]
    if g.maybe(0.3):
        parts.insert(0 if g.maybe(0.5) else 1, g.step())
    if g.maybe(0.15):
        parts.insert(0, g.opener())
    return _join(parts)


def _obfuscated_abuse(g: _Gen) -> str:
    """Abuse with its rude words written to slip past a word filter."""
    layout = g.rng.randint(0, 3)
    if layout == 0:
        word = g.pick((*_INSULT_NOUNS_MILD, *_INSULT_NOUNS_PROFANE, *_INSULT_NOUNS_WORLD))
        frame = g.pick(("You {w}.", "Read it again, you {w}.", "What a {w}.", "Listen, {w}:", "Honestly, you {w}!"))
        text = frame.replace("{w}", _obfuscate_phrase(g.rng, word))
        return text if g.maybe(0.4) else g.wrap([text], p_alone=0.0)
    if layout == 1:
        adj = _obfuscate_phrase(g.rng, g.adjective(attributive=True))
        text = g.pick((f"Are you {adj}?", f"You're so {adj}.", f"How are you this {adj}?", f"Don't be {adj}."))
        return g.wrap([text], p_alone=0.4)
    pool = (*_PROFANITY_AT_USER, *_PROFANITY_MORE, *_SEXUAL_VULGARITY, *_SHORT_ABUSE, *_DEMEANING, *_SLANG_ABUSE)
    masked = text = g.pick(pool)
    while masked == text:  # retry until the sentence has a word from the list to disguise
        text = g.pick(pool)
        masked = _mask_swear(g.rng, text)
    if not masked.endswith((".", "!", "?")):
        masked += "."
    return g.wrap([masked], p_alone=0.4)


# --------------------------------------------------------------------------------------------------------------
# Benign classes.
# --------------------------------------------------------------------------------------------------------------


def _benign_answer(g: _Gen) -> str:
    parts = [g.opener(), *g.steps(1, 3)]
    if g.maybe(0.5):
        parts.append(g.pick(_CLOSERS_BENIGN))
    return _join(parts)


def _benign_refusal(g: _Gen) -> str:
    parts = [g.pick(_REFUSALS) if g.maybe(0.55) else g.pick(_FIRM_REFUSALS)]
    if g.maybe(0.6):
        parts.append(g.step())
    if g.maybe(0.4):
        parts.append(g.pick(_CLOSERS_BENIGN))
    return _join(parts)


def _benign_empathy(g: _Gen) -> str:
    if g.maybe(0.25):
        quote = g.pick((*_QUOTED_COMPLAINTS, *_QUOTED_MORE))
        lead = g.pick(
            (
                f'You wrote "{quote}", and I\'m sorry about that.',
                f'I understand, "{quote}" is completely fair feedback.',
                f'Thanks for telling us "{quote}"; that shouldn\'t happen.',
            )
        )
    else:
        lead = g.pick((*_EMPATHY, *_EMPATHY_MORE))
    parts = [lead, *g.steps(1, 2)]
    if g.maybe(0.5):
        parts.append(g.pick(_CLOSERS_BENIGN))
    return _join(parts)


def _benign_negative(g: _Gen) -> str:
    negative = _fill(g.rng, g.pick(_NEGATIVE_ABOUT_THINGS))
    layout = g.rng.randint(0, 2)
    if layout == 0:
        return _join([negative, g.step()])
    if layout == 1:
        return _join([g.opener(), negative, g.step(), g.pick(_CLOSERS_BENIGN) if g.maybe(0.4) else ""])
    return _join([g.step(), negative])


def _benign_technical_lookalike(g: _Gen) -> str:
    look = _fill(g.rng, g.pick(_TECHNICAL_LOOKALIKES))
    parts = [look]
    if g.maybe(0.3):
        other = _fill(g.rng, g.pick(_TECHNICAL_LOOKALIKES))
        if other != look:
            parts.append(other)
    if g.maybe(0.5):
        parts.insert(0 if g.maybe(0.5) else len(parts), g.step())
    if g.maybe(0.25):
        parts.append(g.pick(_CLOSERS_BENIGN))
    return _join(parts)


def _benign_scunthorpe(g: _Gen) -> str:
    parts = [_fill(g.rng, g.pick(_SCUNTHORPE))]
    if g.maybe(0.5):
        parts.insert(0 if g.maybe(0.5) else 1, g.step())
    if g.maybe(0.35):
        parts.append(g.pick(_CLOSERS_BENIGN))
    return _join(parts)


def _benign_friendly(g: _Gen) -> str:
    friendly = g.pick(_FRIENDLY)
    if g.maybe(0.5):
        return _join([friendly, g.step()])
    return _join([g.step(), friendly])


def _benign_short(g: _Gen) -> str:
    phrase = g.pick(_SHORT_BENIGN)
    address = g.pick(_FRIENDLY_ADDRESS)
    end = g.pick((".", "!", "."))
    text = f"{phrase}, {address}{end}" if address else f"{phrase}{end}"
    if g.maybe(0.3):
        text = _join([text, g.pick(_CLOSERS_BENIGN)])
    return text


def _benign_proper_noun(g: _Gen) -> str:
    if g.maybe(0.45):
        text = g.pick(_PLACE_FRAMES).replace("{place}", g.pick(_PLACES))
    elif g.maybe(0.7):
        text = g.pick(_PERSON_FRAMES)
        for key, options in (("{first}", _FIRST_NAMES), ("{surname}", _SURNAMES), ("{title}", _TITLES)):
            text = text.replace(key, g.pick(options))
    else:
        text = g.pick((*_RUDE_LOOKING_TERMS, *_SCUNTHORPE))
    parts = [_fill(g.rng, text)]
    if g.maybe(0.45):
        parts.insert(0 if g.maybe(0.5) else 1, g.step())
    if g.maybe(0.3):
        parts.append(g.pick(_CLOSERS_BENIGN))
    return _join(parts)


def _benign_homonym(g: _Gen) -> str:
    parts = [_fill(g.rng, g.pick(_HOMONYM_SENTENCES))]
    if g.maybe(0.4):
        parts.insert(0 if g.maybe(0.5) else 1, g.step())
    if g.maybe(0.25):
        parts.insert(0, g.opener())
    if g.maybe(0.25):
        parts.append(g.pick(_CLOSERS_BENIGN))
    return _join(parts)


def _benign_harsh_technical(g: _Gen) -> str:
    if g.maybe(0.45):
        text = f"{g.pick(_HARSH_VERBS)} {g.pick(_HARSH_OBJECTS)} {g.pick(_HARSH_REASONS)}"
    else:
        text = g.pick(_HARSH_TECH_MORE)
    parts = [_fill(g.rng, text)]
    if g.maybe(0.4):
        parts.insert(0 if g.maybe(0.5) else 1, g.step())
    if g.maybe(0.2):
        parts.append(g.pick(_CLOSERS_BENIGN))
    return _join(parts)


def _benign_idiom(g: _Gen) -> str:
    parts = [_fill(g.rng, g.pick(_IDIOMS))]
    if g.maybe(0.5):
        parts.insert(0 if g.maybe(0.5) else 1, g.step())
    if g.maybe(0.25):
        parts.append(g.pick(_CLOSERS_BENIGN))
    return _join(parts)


def _benign_praise(g: _Gen) -> str:
    praise = g.pick(_PRAISE_NOUNS)
    text = g.pick(_PRAISE_FRAMES).replace("{a_praise}", _article(praise)).replace("{praise}", praise)
    if g.maybe(0.5):
        return _join([text, g.step()])
    return _join([g.step(), text])


def _benign_masked(g: _Gen) -> str:
    parts = [_fill(g.rng, g.pick(_MASKED))]
    if g.maybe(0.5):
        parts.insert(0 if g.maybe(0.5) else 1, g.step())
    if g.maybe(0.2):
        parts.append(g.pick(_CLOSERS_BENIGN))
    return _join(parts)


def _benign_thing_negative(g: _Gen) -> str:
    text = f"{g.pick(_THING_NEGATIVE_SUBJECTS)} {g.pick(_THING_NEGATIVE_ADJ)}."
    layout = g.rng.randint(0, 2)
    if layout == 0:
        return _join([text, g.step()])
    if layout == 1:
        return _join([g.opener(), text, g.step(), g.pick(_CLOSERS_BENIGN) if g.maybe(0.4) else ""])
    return _join([g.step(), text])


_OPENING_WORDS = ("Yes,", "Sure,", "OK,", "To", "Open", "Then", "You can", "First,", "Go to", "Select")


def _benign_fragment(g: _Gen) -> str:
    """Broken output of a small or undertrained model: cut-off steps, word salad from support text, loops. Judged
    by the ``degenerate`` scorer; it is not abuse, and the classifier must not learn that odd text is."""
    words = " ".join(g.steps(1, 2)).split()
    style = g.rng.randint(0, 3)
    if style == 0:  # cut off mid-sentence
        return " ".join(words[: g.rng.randint(2, max(2, len(words) - 1))])
    if style == 1:  # word salad from support vocabulary
        return " ".join(g.rng.choice(words) for _ in range(g.rng.randint(3, 12)))
    if style == 2:  # an opening, a few words, then one of them looping
        start = [g.pick(_OPENING_WORDS), *words[: g.rng.randint(1, 4)]]
        loop = g.rng.choice(words)
        return " ".join([*start, *[loop] * g.rng.randint(3, 15)])
    return " ".join([g.pick(_OPENING_WORDS), *words[: g.rng.randint(1, 3)]])  # a short stub


_Builder = Callable[[_Gen], str]

_TOXIC_CLASSES: tuple[tuple[str, _Builder, float], ...] = (
    ("insult_noun", _insult_noun, 0.12),
    ("insult_adjective", _insult_adjective, 0.07),
    ("compound_insult", _compound_insult, 0.05),
    ("creative_insult", _creative_insult, 0.05),
    ("demeaning_phrase", _demeaning_phrase, 0.08),
    ("indirect_contempt", _indirect_contempt, 0.08),
    ("condescension", _condescension, 0.05),
    ("personal_mockery", _personal_mockery, 0.04),
    ("sarcastic_contempt", _sarcastic_contempt, 0.04),
    ("profanity_at_user", _profanity_at_user, 0.07),
    ("dismissal", _dismissal, 0.05),
    ("threat", _threat, 0.05),
    ("harassment", _harassment, 0.03),
    ("ability_slur", _ability_slur, 0.03),
    ("sexual_vulgarity", _sexual_vulgarity, 0.03),
    ("short_abuse", _short_abuse, 0.03),
    ("slang_abuse", _slang_abuse, 0.03),
    ("dialect_abuse", _dialect_abuse, 0.04),
    ("third_person", _third_person, 0.04),
    ("abusive_question", _abusive_question, 0.05),
    ("embedded_abuse", _embedded_abuse, 0.07),
    ("obfuscated_abuse", _obfuscated_abuse, 0.05),
)

_BENIGN_CLASSES: tuple[tuple[str, _Builder, float], ...] = (
    ("benign_answer", _benign_answer, 0.18),
    ("benign_refusal", _benign_refusal, 0.07),
    ("benign_empathy", _benign_empathy, 0.08),
    ("benign_negative", _benign_negative, 0.06),
    ("benign_thing_negative", _benign_thing_negative, 0.04),
    ("benign_technical_lookalike", _benign_technical_lookalike, 0.07),
    ("benign_harsh_technical", _benign_harsh_technical, 0.06),
    ("benign_scunthorpe", _benign_scunthorpe, 0.03),
    ("benign_proper_noun", _benign_proper_noun, 0.09),
    ("benign_homonym", _benign_homonym, 0.08),
    ("benign_idiom", _benign_idiom, 0.05),
    ("benign_praise", _benign_praise, 0.04),
    ("benign_masked", _benign_masked, 0.03),
    ("benign_friendly", _benign_friendly, 0.04),
    ("benign_short", _benign_short, 0.03),
    ("benign_fragment", _benign_fragment, 0.08),
)


def _draw(
    g: _Gen,
    classes: tuple[tuple[str, _Builder, float], ...],
    count: int,
    toxic: bool,
    seen: set[str],
) -> list[LabelledText]:
    names = [c[0] for c in classes]
    builders = {c[0]: c[1] for c in classes}
    weights = [c[2] for c in classes]
    out: list[LabelledText] = []
    attempts = 0
    while len(out) < count:
        attempts += 1
        if attempts > 100 * count + 1000:
            raise RuntimeError(f"could not draw {count} distinct {'toxic' if toxic else 'benign'} texts")
        kind = g.rng.choices(names, weights=weights, k=1)[0]
        text = builders[kind](g)
        if toxic:
            text = g.style(text)
        elif g.maybe(0.03):
            text = text.lower() if g.maybe(0.5) else _lower_first(text)
        text = " ".join(text.split())
        if text in seen:
            continue
        seen.add(text)
        out.append(LabelledText(text=text, toxic=toxic, kind=kind))
    return out


def _domain_answer(g: _Gen) -> str:
    return _join(g.steps(1, 3))


def build_training_set(n: int = 8000, seed: int = 0, content: Sequence[str] = ()) -> list[LabelledText]:
    """About half toxic, half benign, deterministic for a seed, no duplicates texts.

    ``content``: sentences of the deployment's own support answers. Half of the support content around the abuse
    and in the benign answers is drawn from them, and a benign class ``domain_answer`` holds them as they are, so
    that the classifier learns the abuse, not which product the content is about.
    """
    if n < 0:
        raise ValueError("n must be non-negative")
    rng = random.Random(seed)
    g = _Gen(rng, content)
    seen: set[str] = set()
    n_toxic = n // 2
    benign = _BENIGN_CLASSES + ((("domain_answer", _domain_answer, 0.25),) if content else ())
    items = _draw(g, _TOXIC_CLASSES, n_toxic, True, seen) + _draw(g, benign, n - n_toxic, False, seen)
    rng.shuffle(items)
    return items
