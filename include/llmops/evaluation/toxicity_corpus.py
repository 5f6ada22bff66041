"""Labelled training set for the sentence-level toxicity classifier of support answers.

Each item is an answer as a customer-support assistant might write it, labelled toxic when the assistant is
abusive towards the user. Toxic classes: insult nouns and adjectives (mild to severe, US/UK/Australian slang,
with and without profanity), demeaning phrases without any swear word, sarcastic contempt, profanity at the user,
threats and wishes of harm, harassment, slurs about intelligence or ability, sexual vulgarity and short abusive
replies. Benign classes: helpful answers over many product areas, polite refusals, empathetic replies to angry
users, negative words about things rather than people, technical terms that sound aggressive (kill a process,
dead letter queue) and ordinary words with a swear word inside them (class, Scunthorpe, therapist).

Toxic and benign items are built from the same pool of support steps, so what separates them is the abuse, not
the topic. The vocabulary and sentence frames are written independently of the evaluation sets, which are never
consulted here. :func:`build_training_set` draws a class by weight, fills one of its frames with seeded
``random`` and keeps only new texts, so a seed always gives the same list and the labels are balanced.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = ["CORPUS_VERSION", "LabelledText", "build_training_set"]

CORPUS_VERSION = "3"


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
# Helpers.
# --------------------------------------------------------------------------------------------------------------


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
        if self.maybe(0.3):
            return self.pick(_INSULT_NOUNS_PROFANE)
        return self.pick(_INSULT_NOUNS_MILD)

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
        """Occasional shouting or lower-case, as chat answers sometimes are."""
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
    adj = g.pick(_INSULT_ADJECTIVES)
    if " " in adj and not adj.startswith(("fucking ", "bloody ", "bleeding ", "dead ", "goddamn ")):
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
        return text if g.maybe(0.6) else _join([g.pick(_PROFANITY_AT_USER), text])
    abuse = [g.pick(_PROFANITY_AT_USER)]
    if g.maybe(0.25):
        abuse.append(f"You {g.noun_phrase()}.")
    return g.wrap(abuse)


def _threat(g: _Gen) -> str:
    abuse = [g.pick(_THREATS)]
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


# --------------------------------------------------------------------------------------------------------------
# Benign classes.
# --------------------------------------------------------------------------------------------------------------


def _benign_answer(g: _Gen) -> str:
    parts = [g.opener(), *g.steps(1, 3)]
    if g.maybe(0.5):
        parts.append(g.pick(_CLOSERS_BENIGN))
    return _join(parts)


def _benign_refusal(g: _Gen) -> str:
    parts = [g.pick(_REFUSALS)]
    if g.maybe(0.6):
        parts.append(g.step())
    if g.maybe(0.4):
        parts.append(g.pick(_CLOSERS_BENIGN))
    return _join(parts)


def _benign_empathy(g: _Gen) -> str:
    if g.maybe(0.25):
        quote = g.pick(_QUOTED_COMPLAINTS)
        lead = g.pick(
            (
                f'You wrote "{quote}", and I\'m sorry about that.',
                f'I understand, "{quote}" is completely fair feedback.',
                f'Thanks for telling us "{quote}"; that shouldn\'t happen.',
            )
        )
    else:
        lead = g.pick(_EMPATHY)
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
    ("insult_noun", _insult_noun, 0.20),
    ("insult_adjective", _insult_adjective, 0.11),
    ("demeaning_phrase", _demeaning_phrase, 0.19),
    ("sarcastic_contempt", _sarcastic_contempt, 0.08),
    ("profanity_at_user", _profanity_at_user, 0.13),
    ("threat", _threat, 0.08),
    ("harassment", _harassment, 0.05),
    ("ability_slur", _ability_slur, 0.05),
    ("sexual_vulgarity", _sexual_vulgarity, 0.05),
    ("short_abuse", _short_abuse, 0.06),
)

_BENIGN_CLASSES: tuple[tuple[str, _Builder, float], ...] = (
    ("benign_answer", _benign_answer, 0.29),
    ("benign_refusal", _benign_refusal, 0.10),
    ("benign_empathy", _benign_empathy, 0.12),
    ("benign_negative", _benign_negative, 0.15),
    ("benign_technical_lookalike", _benign_technical_lookalike, 0.15),
    ("benign_scunthorpe", _benign_scunthorpe, 0.08),
    ("benign_friendly", _benign_friendly, 0.06),
    ("benign_short", _benign_short, 0.05),
    ("benign_fragment", _benign_fragment, 0.12),
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
