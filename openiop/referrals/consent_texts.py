"""Version 1 of each consent's wording (OpenIOP's own text, reviewed by the
program before real use). Placeholders in {braces} are filled for each
person; the filled text is what they see, and its SHA-256 is stored with the
signature. A changed wording is a new ConsentDocument version."""

from __future__ import annotations

REDISCLOSURE_NOTICE = (
    "Notice to the recipient: this record is protected by federal confidentiality rules (42 CFR part 2). "
    "Federal law prohibits any further disclosure of this record unless further disclosure is expressly "
    "permitted by the written consent of the person to whom it pertains or as otherwise permitted by 42 CFR part 2. "
    "These records may not be used to investigate or prosecute the patient for a crime."
)

TEXTS: dict[str, tuple[str, str]] = {
    "treatment": (
        "Consent to treatment",
        "I, {patient}, agree to take part in the intensive outpatient program at {program}. "
        "I understand the program is group and individual therapy several days a week, that I can ask questions "
        "at any time, and that I can stop treatment at any time. My care team will tell me about the benefits "
        "and risks of the treatment offered and of other options, including no treatment.",
    ),
    "telehealth": (
        "Telehealth consent",
        "I, {patient}, agree to receive care by video at {program}. At the start of each session I will say where "
        "I am, so help can be sent in an emergency, and I will join from a private place. Video care has limits: "
        "the connection may fail, and it is not an emergency service. In an emergency I will call 911, or call or "
        "text 988. I can ask for in-person care instead where the program offers it.",
    ),
    "part2": (
        "Consent to share substance use treatment records (42 CFR Part 2)",
        "Patient: {patient}.\n"
        "Who may share: {program}.\n"
        "What may be shared: {information}.\n"
        "With whom: {recipient}.\n"
        "Why: {purpose}.\n"
        "This consent covers treatment, payment and health care operations until I revoke it.\n"
        'I may revoke this consent at any time, in writing (the program\'s "Revoke" button counts as writing), '
        "except for what has already been shared in reliance on it.\n"
        "This consent ends: {expiry}.\n"
        "My treatment does not depend on my signing this consent, except where the law allows.\n"
        "Every disclosure made with this consent carries this notice: " + REDISCLOSURE_NOTICE,
    ),
    "counseling-notes": (
        "Consent to share substance use counseling notes",
        "Patient: {patient}. This is a separate consent, only for counseling notes (a counselor's own notes of "
        "conversations in sessions, kept apart from the rest of the record). Who may share: {program}. "
        "With whom: {recipient}. Why: {purpose}. I may revoke this consent at any time, in writing. "
        "This consent ends: {expiry}. " + REDISCLOSURE_NOTICE,
    ),
    "family-access": (
        "Family or support person access",
        "I, {patient}, allow {family_member} ({relationship}) to see, in OpenIOP: {family_scope}. "
        'Nothing else of my record is shared with them. I may revoke this at any time with the "Revoke" button; '
        "their access ends at once. This consent ends: {expiry}.",
    ),
}
